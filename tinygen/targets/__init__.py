"""Where compiled models run: the host, QEMU, Renode, a real board over serial."""
