"""Train the streaming gesture classifier: an LSTM that takes one IMU reading per invoke.

Data: the gesture example's (examples/gesture: BasicMotions in the Nano 33 BLE Sense's units, each
channel standardized with normalization.json), read from its calibration.npz (the training split)
and test.npz: 100 readings at 10 Hz per recording, shaped (N, 100, 6), which tinygen reads as N
sequences of 100 steps for a model whose input is one reading, [1, 6].

Keras 2 (the tf-keras package) trains an LSTM over whole recordings; the same weights then go into a
model with a fixed batch of 1 that takes one reading: TensorFlow's converter fuses that LSTM into one
UNIDIRECTIONAL_SEQUENCE_LSTM whose hidden and cell states are variable tensors, kept from one invoke
to the next (Keras 3's LSTM converts to a WHILE loop instead). Fed a recording reading by reading,
the converted model computes what the trained one does over the whole recording; its output after
the last reading is the classification. tinygen quantizes it to int8 from the calibration
recordings, each run as a sequence from reset states.

Needs TensorFlow and tf-keras (pip install -e '.[dev]'); run from the repository root:
python examples/gesture_lstm/train.py
Writes, next to this script: gesture_lstm_float.tflite and gesture_lstm_int8.tflite.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "gesture"  # calibration.npz, test.npz, labels.txt, normalization.json
SEED = 0
UNITS = 16


def model(keras, steps: int | None, batch_size: int | None = None):
    """steps readings in, the activity out; steps=None: one reading ([1, 6]) per invoke."""
    layers = keras.layers
    reading = keras.Input((6,) if steps is None else (steps, 6), batch_size=batch_size)
    sequence = layers.Reshape((1, 6))(reading) if steps is None else reading
    scores = layers.Dense(4)(layers.LSTM(UNITS)(sequence))
    return keras.Model(reading, layers.Softmax()(scores))


def main() -> None:
    import tensorflow as tf
    import tf_keras

    tf_keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    with np.load(DATA / "calibration.npz") as train:
        x, y = train["x"], train["y"]
    trained = model(tf_keras, steps=x.shape[1])
    trained.compile(optimizer=tf_keras.optimizers.Adam(5e-3), loss="sparse_categorical_crossentropy")
    trained.fit(x, y, epochs=150, batch_size=8, verbose=0)
    streaming = model(tf_keras, steps=None, batch_size=1)  # batch 1: the converter fuses the LSTM
    streaming.set_weights(trained.get_weights())
    float_model = HERE / "gesture_lstm_float.tflite"
    float_model.write_bytes(tf.lite.TFLiteConverter.from_keras_model(streaming).convert())
    quantize = [sys.executable, "-m", "tinygen", "quantize", str(float_model), "--calibration"]
    quantize += [str(DATA / "calibration.npz"), "-o", str(HERE / "gesture_lstm_int8.tflite"), "--force"]
    subprocess.run(quantize, check=True)


if __name__ == "__main__":
    main()
