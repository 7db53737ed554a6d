"""Keras models (.keras, .h5) -> float32 .tflite bytes, through TensorFlow's converter.

TensorFlow is an optional extra (pip install -e '.[keras]' in tinygen's folder); tinygen itself never needs it.
The model is rebuilt with a fixed batch size of 1 first: with a free batch axis the
converter turns shape handling (Flatten, Reshape) into SHAPE/STRIDED_SLICE/PACK ops.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from ..errors import TinygenError, ToolError

KERAS_SUFFIXES = (".keras", ".h5")
INSTALL_HINT = (
    "reading Keras models needs TensorFlow: pip install tensorflow-cpu (tinygen's 'keras' extra), "
    "or convert the model to .tflite first"
)


def keras_to_tflite(path: str | Path) -> bytes:
    """The float32 TFLite flatbuffer of a saved Keras model, with batch size 1."""
    try:
        import tensorflow as tf
    except ImportError as e:
        raise ToolError(f"{path}: {INSTALL_HINT}") from e
    try:
        model = tf.keras.models.load_model(path, compile=False)
    except (OSError, ValueError) as e:
        raise TinygenError(f"cannot load Keras model {path}: {e}") from e
    inputs = [tf.keras.Input(batch_shape=(1, *t.shape[1:]), dtype=t.dtype) for t in model.inputs]
    try:
        single = tf.keras.models.clone_model(model, input_tensors=inputs if len(inputs) > 1 else inputs[0])
    except ValueError as e:  # subclassed models cannot be cloned
        raise TinygenError(f"cannot rebuild {path} with batch size 1 ({e}); convert it to .tflite yourself") from e
    single.set_weights(model.get_weights())
    with contextlib.redirect_stdout(sys.stderr):  # the converter prints; stdout stays clean for --json
        return tf.lite.TFLiteConverter.from_keras_model(single).convert()
