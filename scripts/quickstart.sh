#!/usr/bin/env bash
# tinygen's main job, end to end, on the bundled example: a small float CNN trained on
# scikit-learn's handwritten digits (tests/fixtures/digits_cnn.tflite).
#   1. quantize it to int8 with calibration images,
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
mkdir -p "$out"
python - "$out" <<'PY'
import sys
import numpy as np
sys.path.insert(0, "tests/fixtures")
from train_models import digits_split

x_train, y_train, x_test, y_test = digits_split()
np.savez(f"{sys.argv[1]}/calibration.npz", x=x_train[:300], y=y_train[:300])
np.savez(f"{sys.argv[1]}/test.npz", x=x_test, y=y_test)
PY

set -x
tinygen inspect tests/fixtures/digits_cnn.tflite
tinygen quantize tests/fixtures/digits_cnn.tflite --calibration "$out/calibration.npz" -o "$out/digits_int8.tflite" --report
tinygen plan "$out/digits_int8.tflite" --board mps2-an386 --report "$out"
tinygen build "$out/digits_int8.tflite" --board mps2-an386 -o "$out/firmware"
tinygen verify "$out/digits_int8.tflite" --board mps2-an386 --data "$out/test.npz"
tinygen profile "$out/digits_int8.tflite" --board mps2-an386
