"""Train the sine regressor, the "hello world" of TinyML: y = sin(x) for x in [0, 2 pi).

A float Keras model (1 -> 16 -> 16 -> 1, ReLU), converted to float TFLite by TensorFlow; tinygen
quantizes it to int8. Needs TensorFlow (pip install -e '.[dev]'); run from the repository root:
    python examples/sine/train.py
Writes, next to this script:
- sine_float.tflite: the float model, as TensorFlow's converter writes it by default;
- calibration.npz: x, y (the training inputs and noisy targets, which calibrate);
- test.npz: x, y (an even grid over [0, 2 pi) and sin of it);
then quantizes with tinygen: sine_int8.tflite (what `tinygen quantize` writes with calibration.npz).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 0


def data() -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng(SEED)
    x = rng.uniform(0, 2 * np.pi, size=(1000, 1)).astype(np.float32)
    y = (np.sin(x) + rng.normal(0, 0.1, size=x.shape)).astype(np.float32)  # noisy, as a sensor would be
    x_test = np.linspace(0, 2 * np.pi, 200, endpoint=False, dtype=np.float32)[:, None]
    return {"calibration": {"x": x, "y": y}, "test": {"x": x_test, "y": np.sin(x_test).astype(np.float32)}}


def model(keras, batch_size=None):
    return keras.Sequential(
        [
            keras.Input((1,), batch_size=batch_size),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1),
        ]
    )


def main() -> None:
    import tensorflow as tf

    tf.keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    d = data()
    trained = model(tf.keras)
    trained.compile(optimizer=tf.keras.optimizers.Adam(1e-2), loss="mse")
    trained.fit(d["calibration"]["x"], d["calibration"]["y"], epochs=300, batch_size=64, verbose=0)
    single = model(tf.keras, batch_size=1)  # batch 1: the plain graph TFLite converts simply
    single.set_weights(trained.get_weights())
    (HERE / "sine_float.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(single).convert())
    for name, arrays in d.items():
        np.savez(HERE / f"{name}.npz", **arrays)
    quantize = [sys.executable, "-m", "tinygen", "quantize", str(HERE / "sine_float.tflite")]
    quantize += ["--calibration", str(HERE / "calibration.npz"), "-o", str(HERE / "sine_int8.tflite"), "--force"]
    subprocess.run(quantize, check=True)


if __name__ == "__main__":
    main()
