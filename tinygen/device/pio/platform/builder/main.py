"""SCons script of the tinygen platform: bare-metal Cortex-M with the system arm-none-eabi-gcc.

The board JSON (written per project by tinygen) gives build.cpu and build.fpu (the flags
tinygen.device.cflags.arm_flags makes of them) and build.warnings (tinygen.device.cflags.WARNINGS);
the project gives the linker script (board_build.ldscript) and, for `pio run -t upload`, an upload_command.
"""

import sys

from SCons.Script import COMMAND_LINE_TARGETS, AlwaysBuild, Builder, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()

# The toolchain is the system's (the platform's package is optional): say so plainly when it is missing.
if not env.WhereIs("arm-none-eabi-gcc"):
    sys.stderr.write(
        "Error: arm-none-eabi-gcc is not on PATH: install the GNU Arm toolchain "
        "(Debian/Ubuntu: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)\n"
    )
    env.Exit(1)

cpu_flags = [f"-mcpu={board.get('build.cpu')}", "-mthumb"]
fpu = board.get("build.fpu", "none")
cpu_flags += ["-mfloat-abi=soft"] if fpu == "none" else ["-mfloat-abi=hard", f"-mfpu={fpu}"]

env.Replace(
    AR="arm-none-eabi-gcc-ar",
    AS="arm-none-eabi-as",
    CC="arm-none-eabi-gcc",
    CXX="arm-none-eabi-g++",
    GDB="arm-none-eabi-gdb",
    OBJCOPY="arm-none-eabi-objcopy",
    RANLIB="arm-none-eabi-gcc-ranlib",
    SIZETOOL="arm-none-eabi-size",
    PROGNAME="firmware",
    PROGSUFFIX=".elf",
    # PlatformIO's size check parses `size -A` with these.
    SIZEPROGREGEXP=r"^(?:\.isr_vector|\.text|\.rodata|\.ARM\.exidx|\.data)\s+(\d+).*",
    SIZEDATAREGEXP=r"^(?:\.data|\.bss|\.heap|\.stack)\s+(\d+).*",
    SIZECHECKCMD="$SIZETOOL -A -d $SOURCES",
    SIZEPRINTCMD="$SIZETOOL -B -d $SOURCES",
)
# -O2 rather than -Os: the kernels' inner loops run about 20% fewer instructions (inlined
# requantization and dot products, fewer spills) for roughly 1.5x their code (fit.py's CODE_BYTES_*).
env.Append(
    ASFLAGS=cpu_flags,
    ASPPFLAGS=cpu_flags + ["-x", "assembler-with-cpp"],
    CCFLAGS=cpu_flags + ["-O2", *board.get("build.warnings", []), "-ffunction-sections", "-fdata-sections"],
    CFLAGS=["-std=c99"],
    LINKFLAGS=cpu_flags
    + [
        "--specs=nano.specs",
        "--specs=nosys.specs",
        "-nostartfiles",
        "-Wl,--gc-sections",
    ],
    LIBS=["m"],
    BUILDERS=dict(
        ElfToBin=Builder(
            action=env.VerboseAction("$OBJCOPY -O binary $SOURCES $TARGET", "Building $TARGET"),
            suffix=".bin",
        )
    ),
)

if "nobuild" in COMMAND_LINE_TARGETS:
    target_elf = env.File("$BUILD_DIR/${PROGNAME}.elf")
    target_bin = env.File("$BUILD_DIR/${PROGNAME}.bin")
else:
    target_elf = env.BuildProgram()
    target_bin = env.ElfToBin("$BUILD_DIR/${PROGNAME}", target_elf)

AlwaysBuild(env.Alias("nobuild", target_bin))
target_buildprog = env.Alias("buildprog", target_bin, target_bin)
target_size = env.AddPlatformTarget(
    "size", target_elf, env.VerboseAction("$SIZEPRINTCMD", "Calculating size $SOURCE"), "Program Size"
)
env.AddPlatformTarget("upload", target_elf, env.VerboseAction("$UPLOADCMD", "Running $SOURCE"), "Upload")
Default([target_buildprog, target_size])
