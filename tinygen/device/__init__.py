"""Where compiled models run (host, QEMU, Renode, a board over serial) and how firmware is built and flashed."""
