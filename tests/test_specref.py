"""The numpy reference (tinygen/specref) against tflite-micro where the op tests do not reach: every
int8 input of the curve-shaped ops, saturation, zero-point extremes, per-channel and int16 weights,
and models tinygen refuses but tflite-micro runs (its x86 shifts past 31, non-finite floats). Each case
runs both references directly on a one-op model; no C is compiled."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from tinygen import specref
from tinygen.builder import GraphBuilder
from tinygen.errors import TinygenError
from tinygen.frontends.tflite_reader import parse_tflite
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.reference import Reference, open_reference
from tinygen.specref import NotCovered, NumpyReference

from .crosscheck import same_bits

EVERY_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)


def assert_same(graph, samples) -> None:
    """Both references on the graph (written as .tflite and read back), outputs equal bit for bit."""
    data = write_tflite(graph)
    graph = parse_tflite(data)
    want = Reference(data, graph).run_many(samples)
    got = NumpyReference(graph).run_many(samples)
    for s, (want_outputs, got_outputs) in enumerate(zip(want, got)):
        for w, h in zip(want_outputs, got_outputs):
            assert same_bits(np.asarray(w), h), f"sample {s}: {np.asarray(w).ravel()[:12]} vs {h.ravel()[:12]}"


def random_inputs(graph, count=3, seed=0):
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(count):
        sample = []
        for index in graph.inputs:
            t = graph.tensor(index)
            info = np.iinfo(t.dtype)
            sample.append(rng.integers(info.min, info.max, t.shape, endpoint=True).astype(t.dtype))
        samples.append(sample)
    return samples


def unary(kind, x_quant, y_quant, shape=(1, 256), dtype="int8", **options):
    g = GraphBuilder()
    x = g.tensor(shape, dtype, **x_quant)
    y = g.tensor(shape, dtype, **y_quant)
    g.op(kind, [x], [y], **options)
    return g.build([x], [y])


def test_it_is_independent_of_the_compiler():
    """specref reads the Graph and computes everything itself: no lowering, no quantmath, no C. The
    C library binding (tinygen/ops/libm.py) is shared: expf and logf are the platform's, as in the
    interpreter."""
    allowed = {"tinygen.errors", "tinygen.ir", "tinygen.ops.libm"}
    for path in Path(specref.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                module = node.module or ""
                absolute = "tinygen.specref." + module if node.level == 1 else "tinygen." + module
                assert absolute.startswith("tinygen.specref.") or absolute in allowed, f"{path.name}: {absolute}"
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert not any(n.startswith("tinygen") for n in names), f"{path.name}: {names}"


def test_an_op_it_does_not_cover_is_refused_in_one_line():
    graph = unary("FLOOR", {"scale": 0.1}, {"scale": 0.1})
    with pytest.raises(NotCovered, match=r"^the numpy reference does not cover op 0 \(FLOOR\)") as caught:
        open_reference(b"", graph, choice="numpy")
    assert "\n" not in str(caught.value)


def test_types_it_does_not_cover_are_refused_in_one_line():
    graph = unary("LOGISTIC", {"scale": 0.1}, {"scale": 1 / 32768}, dtype="int16")
    with pytest.raises(NotCovered, match=r"op 0 \(LOGISTIC\): int16 tensors are not covered"):
        NumpyReference(graph)


@pytest.mark.parametrize("scale", [1e-3, 0.02, 0.1, 0.75, 4.0, 90.0])
@pytest.mark.parametrize("zero_point", [-128, 0, 127])
def test_logistic_and_tanh_every_input(scale, zero_point):
    """Every int8 value, from inputs that never saturate to scales where most do."""
    for kind, grid in (("LOGISTIC", {"scale": 1 / 256, "zero_point": -128}), ("TANH", {"scale": 1 / 128})):
        assert_same(unary(kind, {"scale": scale, "zero_point": zero_point}, grid), [[EVERY_INT8]])


def test_tanh_ignores_the_output_quantization():
    """tflite-micro writes TANH on the 1/128 grid whatever the output tensor says (tinygen refuses it)."""
    assert_same(unary("TANH", {"scale": 0.05, "zero_point": 3}, {"scale": 0.5, "zero_point": 10}), [[EVERY_INT8]])


@pytest.mark.parametrize(
    "x_quant, y_quant",
    [
        ({"scale": 0.05, "zero_point": 20}, {"scale": 0.03, "zero_point": -100}),
        ({"scale": 0.5, "zero_point": 127}, {"scale": 0.004, "zero_point": 127}),  # saturates
        ({"scale": 0.001, "zero_point": -128}, {"scale": 0.9, "zero_point": -128}),
    ],
)
@pytest.mark.parametrize("kind", ["ELU", "HARD_SWISH", "ABS", "RELU", "RELU6"])
def test_activations_every_input(kind, x_quant, y_quant):
    if kind == "HARD_SWISH" and y_quant["scale"] < x_quant["scale"] / 128:
        pytest.skip("tflite-micro refuses an output scale below input scale / 128")
    assert_same(unary(kind, x_quant, y_quant), [[EVERY_INT8]])


@pytest.mark.parametrize("alpha", [0.2, -0.7, 3.5, 0.0])
@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_leaky_relu_every_input(alpha, dtype):
    x_quant, y_quant = {"scale": 0.013618394, "zero_point": 0}, {"scale": 0.01284443, "zero_point": 0}
    graph = unary("LEAKY_RELU", x_quant, y_quant, dtype=dtype, alpha=alpha)
    x = EVERY_INT8.astype(dtype) * (1 if dtype == "int8" else 255)
    assert_same(graph, [[x]])


@pytest.mark.parametrize("x_scale, y_scale", [(0.02, 0.01), (0.3, 0.001), (1e-4, 2.0), (5.0, 0.05)])
def test_rsqrt_every_input(x_scale, y_scale):
    """Input zero point -128, the only one where no int8 value is negative (tflite-micro fails there)."""
    graph = unary("RSQRT", {"scale": x_scale, "zero_point": -128}, {"scale": y_scale, "zero_point": 5})
    assert_same(graph, [[EVERY_INT8]])


def test_rsqrt_of_a_negative_value_fails_in_both():
    graph = unary("RSQRT", {"scale": 0.1, "zero_point": 0}, {"scale": 0.1})
    data = write_tflite(graph)
    with pytest.raises(TinygenError, match="refused"):
        Reference(data, parse_tflite(data)).run([EVERY_INT8])
    with pytest.raises(TinygenError, match="refused .*only defined for positive values"):
        NumpyReference(parse_tflite(data)).run([EVERY_INT8])


def binary(kind, a_quant, b_quant, y_quant, a_shape=(1, 16, 16), b_shape=(1, 16, 16), dtype="int8", **options):
    g = GraphBuilder()
    a = g.tensor(a_shape, dtype, **a_quant)
    b = g.tensor(b_shape, dtype, **b_quant)
    y = g.tensor(np.broadcast_shapes(a_shape, b_shape), dtype, **y_quant)
    g.op(kind, [a, b], [y], **options)
    return g.build([a, b], [y])


def every_pair(dtype="int8"):
    """All 65536 pairs of int8 values as two [1, 256, 256] inputs."""
    a, b = np.meshgrid(np.arange(-128, 128), np.arange(-128, 128), indexing="ij")
    return [[a.reshape(1, 256, 256).astype(dtype), b.reshape(1, 256, 256).astype(dtype)]]


@pytest.mark.parametrize(
    "scales, zero_points",
    [
        ((0.1, 0.1, 0.1), (0, 0, 0)),
        ((0.02, 0.5, 0.01), (-128, 127, -128)),  # saturating, zero points at both ends
        ((0.5, 0.001, 0.9), (127, -128, 0)),
    ],
)
@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL", "SQUARED_DIFFERENCE", "DIV"])
def test_binary_every_pair(kind, scales, zero_points):
    quants = [{"scale": s, "zero_point": z} for s, z in zip(scales, zero_points)]
    options = {} if kind == "SQUARED_DIFFERENCE" else {"fused_activation_function": "RELU6"}
    graph = binary(kind, *quants, a_shape=(1, 256, 256), b_shape=(1, 256, 256), **options)
    assert_same(graph, every_pair())


def test_div_shifts_past_31_follow_the_interpreter():
    """With all scales 1, tflite-micro's rounding shift leaves 0..31 for most pairs: its x86 results
    (0 / 100 gives 1) are what it computes, and so does the numpy reference."""
    quant = {"scale": 1.0, "zero_point": 0}
    assert_same(binary("DIV", quant, quant, quant, a_shape=(1, 256, 256), b_shape=(1, 256, 256)), every_pair())


@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM"])
def test_int16_binary_broadcast(kind):
    zero = 0 if kind in ("MUL", "SQUARED_DIFFERENCE") else 300
    graph = binary(
        kind,
        {"scale": 3e-4, "zero_point": zero},
        {"scale": 1e-3, "zero_point": -zero},
        {"scale": 2e-3 if kind != "MUL" else 0.05, "zero_point": zero},
        a_shape=(2, 1, 5, 4),
        b_shape=(1, 3, 1, 4),
        dtype="int16",
    )
    assert_same(graph, random_inputs(graph))


@pytest.mark.parametrize("kind", ["SUB", "SQUARED_DIFFERENCE", "DIV", "MAXIMUM", "MINIMUM", "ADD"])
def test_int32_binary(kind):
    graph = binary(kind, {}, {}, {}, a_shape=(3, 4), b_shape=(1, 4), dtype="int32")
    samples = random_inputs(graph)
    for sample in samples:  # DIV by zero fails the invoke
        sample[1][sample[1] == 0] = 7
    assert_same(graph, samples)


def test_maximum_of_nan_keeps_the_second_value():
    graph = binary("MAXIMUM", {}, {}, {}, a_shape=(6,), b_shape=(6,), dtype="float32")
    a = np.array([np.nan, 1.0, -0.0, 0.0, np.inf, np.nan], np.float32)
    b = np.array([2.0, np.nan, 0.0, -0.0, 1.0, np.nan], np.float32)
    assert_same(graph, [[a, b]])


def test_prelu_int16_input_per_channel_alpha_broadcast():
    g = GraphBuilder()
    x = g.tensor((1, 3, 4, 5), "int16", scale=2e-4, zero_point=-20)
    alpha = g.const(np.arange(-10, 10).reshape(1, 1, 4, 5), "int8", scale=0.01, zero_point=3)
    y = g.tensor((1, 3, 4, 5), "int16", scale=3e-4, zero_point=40)
    g.op("PRELU", [x, alpha], [y])
    graph = g.build([x], [y])
    assert_same(graph, random_inputs(graph))


def conv_model(kind, dtype, zero_point, per_channel, bias, stride=1, dilation=1, padding="SAME", seed=0, **extra):
    """A CONV_2D or DEPTHWISE_CONV_2D on a [1, 9, 7, 4] input with 3x2 filters."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    channels, out_c = 4, 8
    x = g.tensor((1, 9, 7, channels), dtype, scale=0.03 if dtype == "int8" else 4e-4, zero_point=zero_point)
    shape = (out_c, 3, 2, channels) if kind == "CONV_2D" else (1, 3, 2, out_c)
    axis = 0 if kind == "CONV_2D" else 3
    scales = 10 ** rng.uniform(-3, -1, out_c) if per_channel else 0.01
    w = g.const(rng.integers(-127, 128, shape), "int8", scale=scales, zero_point=0, axis=axis)
    inputs = [x, w]
    if bias:
        values = rng.integers(-(2**20), 2**20, out_c)
        inputs.append(g.const(values, bias, scale=(np.atleast_1d(scales) * 0.03).tolist(), zero_point=0))
    out_h, out_w = (
        ((9 + stride - 1) // stride, (7 + stride - 1) // stride)
        if padding == "SAME"
        else (
            (9 - (3 - 1) * dilation - 1) // stride + 1,
            (7 - (2 - 1) * dilation - 1) // stride + 1,
        )
    )
    y = g.tensor((1, out_h, out_w, out_c), dtype, scale=0.05 if dtype == "int8" else 1e-3, zero_point=zero_point)
    options = {
        "padding": padding,
        "stride_h": stride,
        "stride_w": stride,
        "dilation_h_factor": dilation,
        "dilation_w_factor": dilation,
        "fused_activation_function": "RELU6" if dtype == "int8" else "NONE",
        **extra,
    }
    if kind == "DEPTHWISE_CONV_2D":
        options["depth_multiplier"] = 2
    g.op(kind, inputs, [y], **options)
    return g.build([x], [y])


@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D"])
@pytest.mark.parametrize("zero_point", [-128, 127])
@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("stride, dilation, padding", [(1, 1, "SAME"), (2, 1, "SAME"), (1, 2, "VALID")])
def test_int8_convolutions(kind, zero_point, per_channel, stride, dilation, padding):
    graph = conv_model(kind, "int8", zero_point, per_channel, "int32", stride, dilation, padding)
    assert_same(graph, random_inputs(graph))


@pytest.mark.parametrize(
    "kind, bias, bias_type",
    [
        ("CONV_2D", "int64", None),
        ("CONV_2D", "int32", None),
        ("CONV_2D", None, 2),  # no bias, quantized_bias_type INT32: int32 sums
        ("CONV_2D", None, 0),  # no bias, the default: int64 sums
        ("DEPTHWISE_CONV_2D", "int64", None),
    ],
)
def test_16x8_convolutions(kind, bias, bias_type):
    extra = {} if bias_type is None else {"quantized_bias_type": bias_type}
    graph = conv_model(kind, "int16", 0, True, bias, stride=2, **extra)
    assert_same(graph, random_inputs(graph))


def fc_model(dtype, zero_point, per_channel, bias, weight_zero_point=0, bias_type=None):
    rng = np.random.default_rng(1)
    g = GraphBuilder()
    x = g.tensor((2, 3, 40), dtype, scale=0.02 if dtype == "int8" else 3e-4, zero_point=zero_point)
    scales = 10 ** rng.uniform(-3, -1, 10) if per_channel else 0.004
    w = g.const(rng.integers(-127, 128, (10, 40)), "int8", scale=scales, zero_point=weight_zero_point)
    inputs = [x, w]
    if bias:
        bias_scale = (np.atleast_1d(scales) * (0.02 if dtype == "int8" else 3e-4)).tolist()
        inputs.append(g.const(rng.integers(-(2**16), 2**16, 10), bias, scale=bias_scale, zero_point=0))
    y = g.tensor((6, 10), dtype, scale=0.3 if dtype == "int8" else 2e-3, zero_point=-zero_point // 2)
    options = {"fused_activation_function": "RELU", "keep_num_dims": False}
    if bias_type is not None:
        options["quantized_bias_type"] = bias_type
    g.op("FULLY_CONNECTED", inputs, [y], **options)
    return g.build([x], [y])


@pytest.mark.parametrize(
    "dtype, zero_point, per_channel, bias, weight_zero_point, bias_type",
    [
        ("int8", -128, True, "int32", 0, None),
        ("int8", 127, False, "int32", 0, None),
        ("int8", 5, False, None, 3, None),  # a weight zero point: applied per tensor
        ("int16", 100, True, "int64", 0, None),
        ("int16", -100, False, "int32", 0, None),
        ("int16", 0, False, None, 0, 2),
    ],
)
def test_fully_connected(dtype, zero_point, per_channel, bias, weight_zero_point, bias_type):
    graph = fc_model(dtype, zero_point, per_channel, bias, weight_zero_point, bias_type)
    assert_same(graph, random_inputs(graph))


@pytest.mark.parametrize("dtype, bias", [("int8", "int32"), ("int8", None), ("int16", "int64"), ("int16", "int16")])
@pytest.mark.parametrize("padding, stride", [("SAME", 2), ("VALID", 3)])
def test_transpose_conv(dtype, bias, padding, stride):
    rng = np.random.default_rng(2)
    g = GraphBuilder()
    x = g.tensor((1, 4, 5, 3), dtype, scale=0.05 if dtype == "int8" else 5e-4, zero_point=-7 if dtype == "int8" else 0)
    out_h, out_w = (4 * stride, 5 * stride) if padding == "SAME" else (3 * stride + 3, 4 * stride + 2)
    shape = g.const(np.array([1, out_h, out_w, 6]), "int32")
    scales = 10 ** rng.uniform(-3, -1, 6)
    w = g.const(rng.integers(-127, 128, (6, 3, 2, 3)), "int8", scale=scales, zero_point=0)
    inputs = [shape, w, x]
    if bias:
        inputs.append(g.const(rng.integers(-3000, 3000, 6), bias, scale=(scales * 0.05).tolist(), zero_point=0))
    y_quant = {"scale": 0.1, "zero_point": 9} if dtype == "int8" else {"scale": 1e-3, "zero_point": 0}
    y = g.tensor((1, out_h, out_w, 6), dtype, **y_quant)
    options = {"padding": padding, "stride_h": stride, "stride_w": stride, "fused_activation_function": "NONE"}
    g.op("TRANSPOSE_CONV", inputs, [y], **options)
    graph = g.build([x], [y])
    assert_same(graph, random_inputs(graph))


@pytest.mark.parametrize("dtype", ["int8", "int16"])
@pytest.mark.parametrize("adj_x, adj_y", [(False, False), (True, True), (False, True)])
def test_batch_matmul(dtype, adj_x, adj_y):
    g = GraphBuilder()
    zero = 0 if dtype == "int16" else 11
    lhs_shape = (2, 1, 7, 5) if adj_x else (2, 1, 5, 7)
    rhs_shape = (3, 6, 7) if adj_y else (3, 7, 6)
    lhs = g.tensor(lhs_shape, dtype, scale=0.02 if dtype == "int8" else 2e-4, zero_point=zero)
    rhs = g.tensor(rhs_shape, dtype, scale=0.03 if dtype == "int8" else 1e-4, zero_point=-zero)
    y = g.tensor((2, 3, 5, 6), dtype, scale=0.2 if dtype == "int8" else 1e-4, zero_point=zero)
    g.op("BATCH_MATMUL", [lhs, rhs], [y], adj_x=adj_x, adj_y=adj_y)
    graph = g.build([lhs, rhs], [y])
    assert_same(graph, random_inputs(graph))


@pytest.mark.parametrize("kind", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("padding, stride, size", [("SAME", 2, 3), ("SAME", 1, 4), ("VALID", 3, 2)])
def test_pooling(kind, padding, stride, size):
    g = GraphBuilder()
    x = g.tensor((1, 11, 8, 3), scale=0.1, zero_point=-128)
    if padding == "SAME":
        out = (-(-11 // stride), -(-8 // stride))
    else:
        out = ((11 - size) // stride + 1, (8 - size) // stride + 1)
    y = g.tensor((1, *out, 3), scale=0.1, zero_point=-128)
    options = {"filter_height": size, "filter_width": size, "stride_h": stride, "stride_w": stride}
    g.op(kind, [x], [y], padding=padding, fused_activation_function="RELU", **options)
    graph = g.build([x], [y])
    assert_same(graph, random_inputs(graph))


@pytest.mark.parametrize("kind", ["MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN"])
@pytest.mark.parametrize("axes", [(1, 2), (-1,), (0, 3), (1, 1, 3)])
def test_reductions(kind, axes):
    g = GraphBuilder()
    x = g.tensor((2, 5, 7, 3), scale=0.04, zero_point=-100)
    axis = g.const(np.array(axes), "int32")
    same = kind.startswith("REDUCE")
    kept = [d for i, d in enumerate((2, 5, 7, 3)) if i not in {a % 4 for a in axes}]
    y = g.tensor(kept, scale=0.04 if same else 0.01, zero_point=-100 if same else 50)
    g.op(kind, [x, axis], [y], keep_dims=False)
    graph = g.build([x], [y])
    assert_same(graph, random_inputs(graph))


@pytest.mark.parametrize("depth, beta, scale", [(10, 1.0, 0.1), (100, 1.0, 0.02), (7, 2.5, 0.5), (300, 0.5, 0.004)])
def test_softmax(depth, beta, scale):
    grid = {"scale": 1 / 256, "zero_point": -128}
    graph = unary("SOFTMAX", {"scale": scale, "zero_point": 20}, grid, (3, depth), beta=beta)
    assert_same(graph, random_inputs(graph))


def test_l2_normalization_and_argmax():
    g = GraphBuilder()
    x = g.tensor((4, 6, 9), scale=0.05, zero_point=-3)
    y = g.tensor((4, 6, 9), scale=1 / 128, zero_point=0)
    axis = g.const(np.array([-1]), "int32")
    indices = g.tensor((4, 6), "int32")
    g.op("L2_NORMALIZATION", [x], [y], fused_activation_function="NONE")
    g.op("ARG_MAX", [y, axis], [indices], output_type="int32")
    graph = g.build([x], [y, indices])
    assert_same(graph, random_inputs(graph))


def test_float_argmin_with_nan_and_ties():
    g = GraphBuilder()
    x = g.tensor((3, 4), "float32")
    axis = g.const(np.array([1]), "int32")
    y = g.tensor((3,), "int32")
    g.op("ARG_MIN", [x, axis], [y], output_type="int32")
    values = np.array([[np.nan, 1, 0, 0], [2, np.nan, -1, -1], [5, 5, 5, 5]], np.float32)
    assert_same(g.build([x], [y]), [[values]])


@pytest.mark.parametrize(
    "source, target",
    [
        ("float32", "int8"),
        ("float32", "int16"),
        ("int8", "int16"),
        ("int16", "int8"),
        ("int32", "int8"),
        ("int8", "int32"),
        ("int8", "uint8"),
        ("uint8", "int8"),
        ("int16", "int32"),
    ],
)
def test_quantize_pairs(source, target):
    g = GraphBuilder()
    zero_points = {"int8": -5, "uint8": 130}
    quant = {} if source == "float32" else {"scale": 0.0031, "zero_point": zero_points.get(source, 0)}
    x = g.tensor((1, 64), source, **quant)
    y = g.tensor((1, 64), target, scale=0.01, zero_point=zero_points.get(target, 0))
    g.op("QUANTIZE", [x], [y])
    graph = g.build([x], [y])
    if source == "float32":  # non-finite and huge values: x86's conversion gives INT32_MIN
        rng = np.random.default_rng(3)
        values = rng.uniform(-3, 3, 64).astype(np.float32)
        values[:8] = [np.inf, -np.inf, np.nan, 3e38, -3e38, 0.005, -0.005, 2.5e7]
        assert_same(graph, [[values.reshape(1, 64)]])
    else:
        assert_same(graph, random_inputs(graph))


@pytest.mark.parametrize("source", ["int8", "int16", "int32", "float32", "bool"])
def test_cast_to_every_type(source):
    g = GraphBuilder()
    x = g.tensor((12,), source)
    outputs = [g.tensor((12,), target) for target in ("int8", "int16", "int32", "float32", "bool")]
    for y in outputs:
        g.op("CAST", [x], [y])
    graph = g.build([x], outputs)
    if source == "float32":
        values = [np.nan, np.inf, -np.inf, -0.0, 0.5, -0.5, 1e10, -1e10, 127.9, -128.9, 40000.7, 2.0**31]
        values = np.array(values, np.float32)
    elif source == "bool":
        values = np.array([True, False] * 6)
    else:
        values = random_inputs(graph)[0][0]
    assert_same(graph, [[values]])


@pytest.mark.parametrize("align, half", [(False, False), (True, False), (False, True)])
@pytest.mark.parametrize("kind", ["RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"])
def test_resize(kind, align, half):
    g = GraphBuilder()
    x = g.tensor((2, 5, 7, 3), scale=0.1, zero_point=4)
    size = g.const(np.array([13, 6]), "int32")
    y = g.tensor((2, 13, 6, 3), scale=0.1, zero_point=4)
    g.op(kind, [x, size], [y], align_corners=align, half_pixel_centers=half)
    graph = g.build([x], [y])
    assert_same(graph, random_inputs(graph))


def test_strided_slice_with_masks_and_negative_strides():
    g = GraphBuilder()
    x = g.tensor((4, 7, 6), "int16")
    begin, end, strides = (g.const(np.array(v), "int32") for v in ([-1, 1, 5], [0, -1, 0], [-1, 2, -2]))
    y = g.tensor((4, 3, 3), "int16")
    g.op("STRIDED_SLICE", [x, begin, end, strides], [y], begin_mask=1, end_mask=1, shrink_axis_mask=0)
    graph = g.build([x], [y])
    assert_same(graph, random_inputs(graph))


def test_data_movement_chain():
    """GATHER with batch dimensions, SPLIT_V, PACK, UNPACK, TRANSPOSE, REVERSE_V2, PAD, SPACE_TO_DEPTH,
    DEPTH_TO_SPACE, SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND with crops, in one model."""
    g = GraphBuilder()
    q = {"scale": 0.1, "zero_point": 3}
    x = g.tensor((2, 4, 6, 4), **q)
    idx = g.const(np.array([[2, 0, 3], [1, 1, 0]]), "int32")
    gathered = g.tensor((2, 4, 3, 4), **q)
    g.op("GATHER", [x, idx], [gathered], axis=2, batch_dims=1)
    sizes, axis = g.const(np.array([1, -1]), "int32"), g.const(np.array([3]), "int32")
    parts = [g.tensor((2, 4, 3, 1), **q), g.tensor((2, 4, 3, 3), **q)]
    g.op("SPLIT_V", [gathered, sizes, axis], parts, num_splits=2)
    rows = [g.tensor((2, 3, 3), **q) for _ in range(4)]
    g.op("UNPACK", [parts[1]], rows, num=4, axis=1)
    packed = g.tensor((2, 3, 3, 4), **q)
    g.op("PACK", rows[::-1], [packed], values_count=4, axis=3)
    perm = g.const(np.array([0, 2, 1, 3]), "int32")
    moved = g.tensor((2, 3, 3, 4), **q)
    g.op("TRANSPOSE", [packed, perm], [moved])
    flipped = g.tensor((2, 3, 3, 4), **q)
    g.op("REVERSE_V2", [moved, g.const(np.array([1, 2]), "int32")], [flipped])
    padded = g.tensor((2, 4, 4, 4), **q)
    g.op("PAD", [flipped, g.const(np.array([[0, 0], [1, 0], [0, 1], [0, 0]]), "int32")], [padded])
    deep = g.tensor((2, 2, 2, 16), **q)
    g.op("SPACE_TO_DEPTH", [padded], [deep], block_size=2)
    batched = g.tensor((8, 1, 1, 16), **q)
    block = g.const(np.array([2, 2]), "int32")
    g.op("SPACE_TO_BATCH_ND", [deep, block, g.const(np.zeros((2, 2)), "int32")], [batched])
    back = g.tensor((2, 1, 2, 16), **q)
    g.op("BATCH_TO_SPACE_ND", [batched, block, g.const(np.array([[1, 0], [0, 0]]), "int32")], [back])
    wide = g.tensor((2, 2, 4, 4), **q)
    g.op("DEPTH_TO_SPACE", [back], [wide], block_size=2)
    graph = g.build([x], [wide, parts[0]])
    assert_same(graph, random_inputs(graph))
