"""The valid models the fuzz tests mutate: the zoo's four, small corpus models chosen for the variety
of their ops (state and the signal library's custom ops included), a model with resource variables, and
two models built here for the supported ops none of those has."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinygen import zoo
from tinygen.builder import GraphBuilder
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.ir import Graph

from .resource_models import running_sum

ZOO_SEEDS = ("ds_cnn", "mobilenet_v1_025", "resnet8", "autoencoder")
CORPUS = Path(__file__).parent / "corpus"
# Small int8 models that tinygen compiles, chosen for the variety of their ops.
CORPUS_SEEDS = (
    "keras/cnn_flatten_int8.tflite",
    "keras/conv1d_gesture_int8.tflite",
    "keras/elementwise_int8.tflite",
    "keras/gather_argmax_int8.tflite",
    "keras/mobilenet_block_int8.tflite",
    "keras/reshape_split_reduce_int8.tflite",
    "keras/resize_l2norm_int8.tflite",
    "keras/resnet_block_int8.tflite",
    "keras/two_in_two_out_int8.tflite",
    "tflite-micro/audio_preprocessor_int8.tflite",  # the signal library's custom ops, a noise estimate kept
    "tflite-micro/hello_world_int8.tflite",
    "tflite-micro/keyword_scrambled_8bit.tflite",  # SVDF and its memory
    "tflite-micro/micro_speech_quantized.tflite",
    "tflite-micro/mnist_lstm_int8.tflite",  # UNIDIRECTIONAL_SEQUENCE_LSTM and its states
    "tflite-micro/seanet_leaky_relu0.tflite",
    "tflite-micro/seanet_pad0.tflite",
    "tflite-micro/seanet_quantize0.tflite",
    "tflite-micro/seanet_strided_slice0.tflite",
    "tflite-micro/seanet_sub0.tflite",
    "tflite-micro/seanet_transpose_conv4.tflite",
    "tflite-micro/simple_add_model.tflite",
)


def seed_models() -> dict[str, bytes]:
    """name -> .tflite bytes: the zoo's four models, the corpus models above, a running sum in a resource
    variable (CALL_ONCE and its initialisation subgraph), and two models for the ops none of those has."""
    seeds = {name: write_tflite(getattr(zoo, name)(0)) for name in ZOO_SEEDS}
    seeds.update({name: (CORPUS / name).read_bytes() for name in CORPUS_SEEDS})
    seeds["running_sum"] = running_sum(np.arange(6, dtype=np.int8).reshape(1, 6))
    seeds.update({f.__name__: write_tflite(f()) for f in (movement_seed, arithmetic_seed)})
    return seeds


def _ints(g: GraphBuilder, values) -> int:
    return g.const(np.array(values, np.int32), "int32")


def movement_seed() -> Graph:
    """The ops that move int8 values and that no seed model above has, chained."""
    g = GraphBuilder()
    q = {"scale": 0.05, "zero_point": 3}
    x = first = g.tensor((1, 4, 4, 4), **q)
    chain = [
        ("DEPTH_TO_SPACE", [], (1, 8, 8, 1), {"block_size": 2}),
        ("SPACE_TO_DEPTH", [], (1, 4, 4, 4), {"block_size": 2}),
        ("REVERSE_V2", [_ints(g, [1])], (1, 4, 4, 4), {}),
        ("SLICE", [_ints(g, [0, 1, 0, 0]), _ints(g, [1, 2, -1, -1])], (1, 2, 4, 4), {}),
        ("SPACE_TO_BATCH_ND", [_ints(g, [2, 1]), _ints(g, [[0, 0], [0, 0]])], (2, 1, 4, 4), {}),
        ("BATCH_TO_SPACE_ND", [_ints(g, [2, 1]), _ints(g, [[0, 0], [0, 1]])], (1, 2, 3, 4), {}),
        ("PADV2", [_ints(g, [[0, 0], [1, 1], [0, 0], [0, 0]]), g.const([5], "int8", **q)], (1, 4, 3, 4), {}),
        ("RESIZE_NEAREST_NEIGHBOR", [_ints(g, [8, 6])], (1, 8, 6, 4), {"half_pixel_centers": True}),
        ("REDUCE_MIN", [_ints(g, [1, 2])], (1, 1, 1, 4), {"keep_dims": True}),
        ("SQUEEZE", [], (1, 4), {"squeeze_dims": [1, 2]}),
    ]
    for kind, params, shape, options in chain:
        y = g.tensor(shape, **q)
        g.op(kind, [x, *params], [y], **options)
        x = y
    halves = [g.tensor((1, 1), **q), g.tensor((1, 3), **q)]
    g.op("SPLIT_V", [x, _ints(g, [1, -1]), _ints(g, [1])], halves, num_splits=2)
    columns = [g.tensor((1,), **q) for _ in range(3)]
    g.op("UNPACK", [halves[1]], columns, num=3, axis=1)
    index = g.tensor((1,), "int32")
    g.op("ARG_MIN", [halves[1], _ints(g, [1])], [index], output_type="int32")
    return g.build([first], [halves[0], *columns, index])


def arithmetic_seed() -> Graph:
    """The arithmetic ops no seed model above has: ABS, RELU, RELU6, SQUARED_DIFFERENCE, DIV, L2_NORMALIZATION,
    BATCH_MATMUL, CAST, and a float island (EXP, LOG, SQRT, NEG)."""
    g = GraphBuilder()
    q = {"scale": 0.05, "zero_point": 0}
    x = g.tensor((1, 2, 4), **q)
    outputs = []

    def add(kind, inputs, shape, dtype="int8", quant=q, output=True, **options):
        y = g.tensor(shape, dtype, **(quant or {}))
        g.op(kind, inputs, [y], **options)
        if output:
            outputs.append(y)
        return y

    a = add("ABS", [x], (1, 2, 4))
    r = add("RELU", [a], (1, 2, 4), quant={"scale": 0.1, "zero_point": -128})
    add("RELU6", [r], (1, 2, 4), quant={"scale": 0.1, "zero_point": -128})
    add("SQUARED_DIFFERENCE", [x, a], (1, 2, 4), quant={"scale": 0.02, "zero_point": -128})
    add("DIV", [x, a], (1, 2, 4), quant={"scale": 0.01, "zero_point": 0}, fused_activation_function="NONE")
    add("L2_NORMALIZATION", [x], (1, 2, 4), quant={"scale": 1 / 128, "zero_point": 0}, fused_activation_function="NONE")
    w = g.const(np.arange(12).reshape(1, 4, 3) - 6, "int8", scale=0.02, zero_point=0)
    add("BATCH_MATMUL", [x, w], (1, 2, 3), quant={"scale": 0.01, "zero_point": 0}, adj_x=False, adj_y=False)
    add("CAST", [x], (1, 2, 4), dtype="int32", quant=None, in_data_type="int8", out_data_type="int32")
    f = add("DEQUANTIZE", [x], (1, 2, 4), dtype="float32", quant=None, output=False)
    for kind in ("EXP", "LOG", "NEG", "ABS", "SQRT"):
        f = add(kind, [f], (1, 2, 4), dtype="float32", quant=None, output=False)
    add("QUANTIZE", [f], (1, 2, 4), quant={"scale": 0.01, "zero_point": 0})
    return g.build([x], outputs)
