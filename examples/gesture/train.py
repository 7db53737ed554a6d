"""Train the gesture classifier: which activity a wrist is doing, from 10 s of motion.

Data: BasicMotions (pyts.datasets, bundled with the package: a smartwatch's 3-axis accelerometer and
3-axis gyroscope at 10 Hz, 100 steps, 4 activities, 40 recordings to train and 40 to test). The
recordings are taken as m/s^2 and rad/s and converted to what the Nano 33 BLE Sense's IMU (LSM9DS1,
Arduino_LSM9DS1) reports: acceleration in g and angular rate in degrees per second. Each channel is
then standardized with the training split's mean and deviation (normalization.json), before the
model: one int8 scale serves the whole input tensor, and unstandardized it would have to span both
+-3 g and +-2000 degrees per second, leaving the accelerometer a step or two. A sketch reads the IMU
every 100 ms and standardizes with the same numbers (`tinygen export --normalization`).

A float Keras model (Conv2D over time, global average pooling, softmax), converted by TensorFlow;
tinygen quantizes it to int8. Needs TensorFlow and pyts (pip install -e '.[dev]'); run from the
repository root:  python examples/gesture/train.py
Writes, next to this script: gesture_float.tflite; calibration.npz and test.npz (x standardized, y:
the training split, which calibrates, and the test split); normalization.json (per channel mean and
std, in IMU units); labels.txt; gesture_int8.tflite (tinygen quantize with calibration.npz).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 0
STANDARD_GRAVITY = 9.80665  # m/s^2 per g


def data() -> tuple[dict[str, dict[str, np.ndarray]], dict[str, list[float]], list[str]]:
    from pyts.datasets import load_basic_motions

    x_train, x_test, y_train, y_test = load_basic_motions(return_X_y=True)
    labels = sorted(set(y_train))
    # (N, 6, 100) -> (N, 100, 6): time steps, then channels as the IMU gives them.
    x_train, x_test = (x.transpose(0, 2, 1).astype(np.float32) for x in (x_train, x_test))
    to_imu_units = np.array([1 / STANDARD_GRAVITY] * 3 + [180 / np.pi] * 3, dtype=np.float32)
    x_train, x_test = x_train * to_imu_units, x_test * to_imu_units
    mean, std = x_train.mean(axis=(0, 1)), x_train.std(axis=(0, 1))
    encode = np.vectorize(labels.index)
    split = {
        "calibration": {"x": (x_train - mean) / std, "y": encode(y_train)},
        "test": {"x": (x_test - mean) / std, "y": encode(y_test)},
    }
    normalization = {"mean": [round(float(m), 6) for m in mean], "std": [round(float(s), 6) for s in std]}
    return split, normalization, [str(label).lower() for label in labels]


def model(keras, batch_size=None):
    # Conv2D over (time, 1) rather than Conv1D: TFLite turns Conv1D into EXPAND_DIMS/SQUEEZE around a CONV_2D.
    return keras.Sequential(
        [
            keras.Input((100, 6), batch_size=batch_size),
            keras.layers.Reshape((100, 1, 6)),
            keras.layers.Conv2D(16, (9, 1), strides=(2, 1), padding="same", activation="relu"),
            keras.layers.Conv2D(32, (7, 1), strides=(2, 1), padding="same", activation="relu"),
            keras.layers.Conv2D(32, (7, 1), strides=(2, 1), padding="same", activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(4),
            keras.layers.Softmax(),
        ]
    )


def main() -> None:
    import tensorflow as tf

    tf.keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    split, normalization, labels = data()
    trained = model(tf.keras)
    trained.compile(optimizer=tf.keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    trained.fit(split["calibration"]["x"], split["calibration"]["y"], epochs=60, batch_size=32, verbose=0)
    single = model(tf.keras, batch_size=1)  # batch 1: the plain graph TFLite converts simply
    single.set_weights(trained.get_weights())
    (HERE / "gesture_float.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(single).convert())
    for name, arrays in split.items():
        np.savez_compressed(HERE / f"{name}.npz", **arrays)
    (HERE / "normalization.json").write_text(json.dumps(normalization, indent=2) + "\n", encoding="utf-8")
    (HERE / "labels.txt").write_text("".join(f"{label}\n" for label in labels), encoding="utf-8")
    quantize = [sys.executable, "-m", "tinygen", "quantize", str(HERE / "gesture_float.tflite")]
    quantize += ["--calibration", str(HERE / "calibration.npz"), "-o", str(HERE / "gesture_int8.tflite"), "--force"]
    subprocess.run(quantize, check=True)


if __name__ == "__main__":
    main()
