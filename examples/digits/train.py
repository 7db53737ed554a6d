"""Train the digits classifier: which digit, 0 to 9, a tiny 8x8 handwritten image shows.

Data: scikit-learn's digits (sklearn.datasets.load_digits, bundled with the package: 1,797 images of
8x8 pixels, each a count from 0 to 16 of the dark pixels in a 4x4 block of a 32x32 scan), scaled to
[0, 1] and split three to one, stratified: 1,347 images train and calibrate, 450 test.

A float Keras model (two 3x3 convolutions, max pooling, two dense layers, softmax), converted by
TensorFlow; tinygen quantizes it to int8. Needs TensorFlow and scikit-learn (pip install -e '.[dev]');
run from the repository root:  python examples/digits/train.py
Writes, next to this script: digits_float.tflite (as TensorFlow's converter writes it by default);
calibration.npz and test.npz (x: images shaped (N, 8, 8, 1), y: digits; the training split, which
calibrates, and the test split); labels.txt; digits_int8.tflite (tinygen quantize with calibration.npz).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 0


def data() -> dict[str, dict[str, np.ndarray]]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]  # pixel counts 0..16 -> [0, 1]
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=0.25, random_state=SEED, stratify=digits.target
    )
    return {"calibration": {"x": x_train, "y": y_train}, "test": {"x": x_test, "y": y_test}}


def model(keras, batch_size=None):
    return keras.Sequential(
        [
            keras.Input((8, 8, 1), batch_size=batch_size),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(10),
            keras.layers.Softmax(),
        ]
    )


def trained(tf, d: dict[str, dict[str, np.ndarray]]):
    """The trained model with a batch of 1: the plain graph TFLite converts simply (no SHAPE/PACK for
    Flatten). Deterministic: benchmarks/quantizer_vs_tf.py calls it to get the same Keras model."""
    tf.keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    fitted = model(tf.keras)
    fitted.compile(optimizer=tf.keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    fitted.fit(d["calibration"]["x"], d["calibration"]["y"], epochs=40, batch_size=32, verbose=0)
    single = model(tf.keras, batch_size=1)
    single.set_weights(fitted.get_weights())
    return single


def main() -> None:
    import tensorflow as tf

    d = data()
    float_model = HERE / "digits_float.tflite"
    float_model.write_bytes(tf.lite.TFLiteConverter.from_keras_model(trained(tf, d)).convert())
    for name, arrays in d.items():
        np.savez_compressed(HERE / f"{name}.npz", **arrays)
    (HERE / "labels.txt").write_text("".join(f"{digit}\n" for digit in range(10)), encoding="utf-8")
    quantize = [sys.executable, "-m", "tinygen", "quantize", str(float_model)]
    quantize += ["--calibration", str(HERE / "calibration.npz"), "-o", str(HERE / "digits_int8.tflite"), "--force"]
    subprocess.run(quantize, check=True)


if __name__ == "__main__":
    main()
