#!/usr/bin/env bash
# tinygen's main job, end to end, on the digits example: a small float CNN trained on
# scikit-learn's handwritten digits (examples/digits, with its calibration and test images).
#   1. quantize it to int8 with the calibration images,
#   2. plan its memory for an emulated Cortex-M4 (QEMU mps2-an386) and build the firmware,
#   3. run the held-out digits through the firmware over its serial link, comparing every
#      output bit for bit with tflite-micro and reporting accuracy,
#   4. profile it layer by layer (exact instruction counts under the emulator).
# Installs what it needs first (Debian/Ubuntu). Everything it writes goes to ./quickstart/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export PATH="$PWD/.venv/bin:$PATH"  # tinygen and its Python, as install-deps.sh set them up

out=quickstart
digits=examples/digits
mkdir -p "$out"
set -x
tinygen inspect "$digits/digits_float.tflite"
tinygen quantize "$digits/digits_float.tflite" --calibration "$digits/calibration.npz" -o "$out/digits_int8.tflite" --report
tinygen plan "$out/digits_int8.tflite" --board mps2-an386 --report "$out"
tinygen build "$out/digits_int8.tflite" --board mps2-an386 -o "$out/firmware"
tinygen verify "$out/digits_int8.tflite" --board mps2-an386 --data "$digits/test.npz"
tinygen profile "$out/digits_int8.tflite" --board mps2-an386
