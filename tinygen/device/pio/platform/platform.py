"""The tinygen offline platform: everything happens in builder/main.py."""

from platformio.public import PlatformBase


class TinygenPlatform(PlatformBase):  # PlatformIO derives this class name from "tinygen"
    pass
