"""The C compiler flags tinygen builds with, defined once: the host build, the firmware (tinygen's
offline PlatformIO platform reads the warnings from the board manifest tinygen writes), the stack
measurement and the warning tests (tests/test_c_warnings.py) all take them from here."""

from __future__ import annotations

# Every build of generated C and the runtime is warning-free under these, with gcc and arm-none-eabi-gcc.
# -Wshadow and -Wdouble-promotion catch what -Wall misses on a Cortex-M: a local hiding another, and a
# float silently computed in double (software emulated even on cores with a single-precision FPU).
WARNINGS = ("-Wall", "-Wextra", "-Wshadow", "-Wdouble-promotion", "-Werror")


def arm_flags(core: str, fpu: str) -> list[str]:
    """arm-none-eabi-gcc's flags for a Cortex-M core: Thumb, and the hard-float ABI where it has an FPU."""
    flags = [f"-mcpu={core}", "-mthumb"]
    return flags + (["-mfloat-abi=soft"] if fpu == "none" else ["-mfloat-abi=hard", f"-mfpu={fpu}"])
