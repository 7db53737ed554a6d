"""Building firmware with PlatformIO, offline for the QEMU boards (see core.py and project.py)."""
