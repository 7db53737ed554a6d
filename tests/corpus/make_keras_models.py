"""Write the Keras-converted models of the test corpus (tests/corpus/keras/): small Keras models
built with the layers people use, converted by the TensorFlow converter the default way (batch
dimension unknown, so shape_signature holds -1; Flatten and Reshape leave shape arithmetic
behind), once as float and once fully quantized to int8 with a representative data set.

Needs TensorFlow and tf-keras (`pip install -e '.[dev]'`); CI never runs it: the .tflite files are
committed.
    python tests/corpus/make_keras_models.py [NAME ...]
Weights are random (seeded); the models exist to exercise the converter's output, not to be accurate.
"""

from __future__ import annotations

import sys
from itertools import chain
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "keras"
SEED = 1234


def models():
    import tensorflow as tf

    L = tf.keras.layers
    tf.keras.utils.set_random_seed(SEED)

    def seq(name, shape, layers):
        x = tf.keras.Input(shape)
        y = x
        for layer in layers:
            y = layer(y)
        return name, tf.keras.Model(x, y, name=name)

    def functional(name, inputs, outputs):
        return name, tf.keras.Model(inputs, outputs, name=name)

    yield seq(
        "cnn_flatten",
        (28, 28, 1),
        [
            L.Conv2D(8, 3, activation="relu"),
            L.MaxPooling2D(),
            L.Conv2D(16, 3, padding="same", activation="relu"),
            L.Flatten(),
            L.Dense(10),
            L.Softmax(),
        ],
    )
    yield seq(
        "ds_cnn",
        (49, 10, 1),
        [
            L.Conv2D(16, (10, 4), strides=2, padding="same"),
            L.BatchNormalization(),
            L.ReLU(),
            L.DepthwiseConv2D(3, padding="same"),
            L.BatchNormalization(),
            L.ReLU(),
            L.Conv2D(16, 1),
            L.BatchNormalization(),
            L.ReLU(),
            L.GlobalAveragePooling2D(),
            L.Dense(12),
            L.Softmax(),
        ],
    )
    x = tf.keras.Input((16, 16, 3))
    h = L.Conv2D(8, 3, padding="same", activation="relu")(x)
    r = L.Conv2D(8, 3, padding="same")(h)
    h = L.ReLU()(L.Add()([h, r]))
    h = L.AveragePooling2D(2)(h)
    yield functional("resnet_block", x, L.Dense(4, activation="sigmoid")(L.Flatten()(h)))
    yield seq(
        "mobilenet_block",
        (32, 32, 3),
        [
            L.ZeroPadding2D(1),
            L.Conv2D(8, 3, strides=2),
            L.ReLU(6.0),
            L.SeparableConv2D(16, 3, padding="same"),
            L.Activation("hard_swish"),
            L.MaxPooling2D(),
            L.GlobalAveragePooling2D(),
            L.Dense(2),
        ],
    )
    x = tf.keras.Input((16, 16, 2))
    e = L.Conv2D(8, 3, padding="same", activation="relu")(x)
    d = L.MaxPooling2D()(e)
    d = L.Conv2D(8, 3, padding="same", activation="relu")(d)
    u1 = L.UpSampling2D()(d)
    u2 = L.Conv2DTranspose(8, 3, strides=2, padding="same")(d)
    y = L.Conv2D(1, 1, activation="tanh")(L.Concatenate()([e, u1, u2]))
    yield functional("unet_tiny", x, y)
    x = tf.keras.Input((8, 8, 4))
    a = L.Conv2D(4, 1)(x)
    b = L.Conv2D(4, 1)(x)
    y = L.Concatenate()([L.Subtract()([a, b]), L.Multiply()([a, b]), L.Maximum()([a, b]), L.Minimum()([a, b])])
    y = L.LeakyReLU(0.2)(y)
    y = L.ELU()(L.Conv2D(8, 1)(y))
    y = L.PReLU(shared_axes=[1, 2])(L.Conv2D(8, 1)(y))
    yield functional("elementwise", x, L.Activation("tanh")(L.Conv2D(4, 1)(y)))
    x = tf.keras.Input((12, 10, 4))
    h = L.Cropping2D(((1, 1), (2, 0)))(x)
    h = L.Permute((2, 1, 3))(h)
    h = L.Reshape((8 * 10, 4))(h)

    def split_reduce(t):
        left, right = tf.split(t, 2, axis=1)
        return tf.reduce_max(left, axis=1) + tf.reduce_sum(right, axis=1)

    yield functional("reshape_split_reduce", x, L.Dense(3)(L.Lambda(split_reduce)(h)))
    x1, x2 = tf.keras.Input((10,), name="features"), tf.keras.Input((6,), name="extra")
    h = L.Concatenate()([L.Dense(8, activation="relu")(x1), L.Dense(8, activation="relu")(x2)])
    yield functional("two_in_two_out", [x1, x2], [L.Dense(3, activation="softmax")(h), L.Dense(1)(h)])
    yield seq(
        "conv1d_gesture",
        (100, 6),
        [
            L.Conv1D(16, 5, activation="relu"),
            L.MaxPooling1D(2),
            L.Conv1D(16, 3, activation="relu"),
            L.GlobalMaxPooling1D(),
            L.Dense(4),
            L.Softmax(),
        ],
    )
    yield seq(
        "resize_l2norm",
        (12, 12, 3),
        [
            L.Resizing(18, 18, interpolation="bilinear"),
            L.Conv2D(8, 3),
            L.GlobalAveragePooling2D(),
            L.UnitNormalization(),
        ],
    )
    x = tf.keras.Input((6, 8))
    q, k = L.Dense(8)(x), L.Dense(8)(x)
    att = L.Softmax()(L.Lambda(lambda qk: tf.matmul(qk[0], qk[1], transpose_b=True))([q, k]))
    yield functional("attention_matmul", x, L.Flatten()(L.Lambda(lambda ax: tf.matmul(ax[0], ax[1]))([att, x])))
    x = tf.keras.Input((10,))
    y = L.Dense(16)(L.Lambda(lambda t: tf.gather(t, [3, 1, 4, 1, 5, 9, 2, 6], axis=1))(x))
    yield functional("gather_argmax", x, L.Lambda(lambda t: tf.argmax(t, axis=1, output_type=tf.int32))(y))
    # Keras 3's LSTM converts to a WHILE loop over the time steps, its cell as plain ops in the body.
    x = tf.keras.Input((20, 8), batch_size=1)
    yield functional("lstm", x, L.Softmax()(L.Dense(4)(L.LSTM(16)(x))))


def keras2_models():
    """Models built with Keras 2 (the tf-keras package): the converter fuses its LSTM layer (with a
    fixed batch) into one UNIDIRECTIONAL_SEQUENCE_LSTM, as tflite-micro's LSTM examples were made."""
    import tf_keras

    L = tf_keras.layers
    tf_keras.utils.set_random_seed(SEED)
    x = tf_keras.Input((20, 8), batch_size=1)
    yield "lstm_keras2", tf_keras.Model(x, L.Softmax()(L.Dense(4)(L.LSTM(16)(x))))


def representative(model, count: int = 64):
    """Random samples, by input name (the converter's signature orders inputs by name, not as built)."""
    rng = np.random.default_rng(SEED)
    shapes = {i.name: tuple(d or 1 for d in i.shape) for i in model.inputs}
    for _ in range(count):
        yield {name: rng.normal(0, 1, shape).astype(np.float32) for name, shape in shapes.items()}


def convert(model, int8: bool, uint8_input: bool = False) -> bytes:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: representative(model)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8 if uint8_input else tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


def main(names: list[str]) -> None:
    """Writes every model, or only those named."""
    OUT.mkdir(exist_ok=True)
    for name, model in chain(models(), keras2_models()):
        if names and name not in names:
            continue
        for suffix, int8, uint8_input in (("float", False, False), ("int8", True, False)):
            try:
                data = convert(model, int8, uint8_input)
            except Exception as e:  # a layer the converter cannot express in builtins: say so and go on
                print(f"{name}_{suffix}: not converted ({type(e).__name__}: {str(e).splitlines()[0][:120]})")
                continue
            (OUT / f"{name}_{suffix}.tflite").write_bytes(data)
            print(f"{name}_{suffix}.tflite: {len(data):,} bytes")
        if name == "cnn_flatten":  # also with the uint8 input image pipelines often use
            data = convert(model, True, uint8_input=True)
            (OUT / f"{name}_uint8_input.tflite").write_bytes(data)
            print(f"{name}_uint8_input.tflite: {len(data):,} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
