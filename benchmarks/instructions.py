"""Executed instructions per inference under QEMU (mps2-an386, Cortex-M4), layer by layer.

QEMU's -icount makes SysTick advance with executed instructions, so the counts are exact and
identical from run to run (they are instructions, not cycles: no pipeline or flash wait states
are modelled). Run: python3 benchmarks/instructions.py  (needs the Arm toolchain and QEMU)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import trained_int8_models, write_section
from tinygen import zoo
from tinygen.frontends.tflite_writer import write_tflite

BOARD = "mps2-an386"


def profile(model: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tinygen", "profile", str(model), "--board", BOARD, "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def main() -> None:
    rows = [
        "| model | MACs | instructions | MACs per instruction | heaviest layer (share) |",
        "|---|---:|---:|---:|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        models = []
        for name, build in zoo.MLPERF_TINY.items():
            path = Path(tmp) / f"{name}.tflite"
            path.write_bytes(write_tflite(build(seed=0)))
            models.append((f"MLPerf Tiny {name}", path))
        models += trained_int8_models()
        for name, path in models:
            report = profile(path)
            macs = sum(layer["macs"] for layer in report["layers"])
            heaviest = max(report["layers"], key=lambda layer: layer["count"])
            rows.append(
                f"| {name} | {macs:,} | {report['total']:,} | {macs / report['total']:.3f} | "
                f"{heaviest['op']} #{heaviest['index']} ({heaviest['count'] / report['total']:.0%}) |"
            )
            print(rows[-1])
    write_section(
        "instructions",
        f"## Speed: instructions per inference ({BOARD}, QEMU)\n\n"
        "Executed instructions of one inference, the sum of the per-layer counts that `tinygen profile` "
        "reports (unit: instructions, from SysTick under `-icount`; deterministic). Firmware is compiled "
        "with -O2. Convolution is a blocked matrix product: the windows of two output pixels as int16 "
        "im2col columns (input offset added, padding as 0) against weights re-laid at compile time, two "
        "output channels by two pixels per pass (under one instruction per multiply-add in the inner "
        "loop; where a layer is large enough, weight pairs mixed so that one SXTB16 serves two channels, "
        "the column's sum correcting the first; pointwise layers read each pixel's channels where they lie, "
        "the others walk output rows); fully connected layers take two mixed weight pairs per pass (four "
        "weight words in one LDM) over the input widened to int16 once, in chunks of 128 values; both "
        "requantize with one multiply-accumulate, the output offset folded into a per-channel constant "
        "(added after the shift where a channel shifts by more than 23). Depthwise 3x3 layers "
        "(stride 1 or 2, in place or not) take four channels per word with SXTAB16 and SMLAxy on weights "
        "re-laid at compile time and requantize with the rounding and zero point folded into one "
        "constant; at stride 1 with output rows of ten or more, one channel at a time as an int16 plane, "
        "SMLAD on pairs of taps, four windows per step; int8 ADD lifts its inputs exactly or with SMMULR, "
        "from 256 elements on the second input's share from a compile-time table of 256 words; "
        "pooling takes four channels per "
        "word. The portable C path (the same bits) serves cores without DSP. "
        "Before those kernels (portable reference loops, -Os) the totals were 55,199,496 (ds_cnn), "
        "142,290,560 (mobilenet_v1_025), 191,657,514 (resnet8), 3,016,092 (autoencoder), 3,771,202 "
        "(basic_motions) and 1,505,970 (digits_cnn); with SMLAD but one channel at a time in place, "
        "the input offset added in the inner loop and the step-by-step requantization, 20,771,859, "
        "40,177,166, 41,660,696, 722,304, 1,073,132 and 417,752; with convolution and fully connected "
        "layers two channels per pass straight from the input, depthwise layers one channel at a time "
        "and the scalar ADD and pooling loops, 14,360,041, 35,648,152, 37,310,216, 623,632, 954,223 "
        "and 379,027; before the int16-plane depthwise kernel and the mixed weight pairs, 4,237,806, "
        "13,202,387, 15,616,938, 396,304, 333,973 and 172,352; before the fully connected pairs, the ADD "
        "table, the requantization of shifts past 23 and the row walk, 3,835,790, 12,401,501, 14,895,017, "
        "396,712, 320,187 and 172,230. "
        "tflite-micro with CMSIS-NN on the same cores, the published MLPerf Tiny models: "
        "the peer section below (benchmarks/peers.py). "
        f"Regenerate: `python3 benchmarks/instructions.py`.\n\n" + "\n".join(rows),
    )


if __name__ == "__main__":
    main()
