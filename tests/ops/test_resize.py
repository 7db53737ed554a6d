"""RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR against tflite-micro on generated models."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.fold import fold_constants
from tinygen.compiler.lower import lower
from tinygen.errors import TinygenError
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.quantize import CalibrationData, quantize
from tinygen.quantize.float_exec import execute

from ..bitexact import assert_bit_exact
from ..gen import activation_quant
from ..helpers import QEMU_BOARDS, verify_on_board
from ..quant_models import FloatBuilder, inputs_for, run_tflm
from .test_elementwise import drain, feed

SETTINGS = settings(max_examples=10, deadline=None, derandomize=True)
# (align_corners, half_pixel_centers): bilinear refuses both at once, nearest neighbor takes it.
BILINEAR_FLAGS = [(False, False), (True, False), (False, True)]
NEAREST_FLAGS = [*BILINEAR_FLAGS, (True, True)]


def _quant(rng, dtype: str) -> dict:
    if dtype == "int8":
        return activation_quant(rng)
    return {"scale": 0.01, "zero_point": 0} if dtype == "int16" else {}


def resize_model(kind, in_shape, size, flags, dtype="int8", seed=0, out_quant=None):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    q = _quant(rng, dtype)
    if dtype == "int8":
        model_in, x = feed(g, in_shape, q)
    else:
        model_in = x = g.tensor(in_shape, dtype, **q)
    y = g.tensor((in_shape[0], *size, in_shape[3]), dtype, **(out_quant or q))
    g.op(
        kind,
        [x, g.const(np.array(size, np.int32), "int32")],
        [y],
        align_corners=flags[0],
        half_pixel_centers=flags[1],
    )
    return g.build([model_in], [drain(g, y, q) if dtype == "int8" else y])


@st.composite
def resizes(draw):
    """A batch-first NHWC input shape and an output size, shrinking or growing each axis."""
    in_shape = (draw(st.integers(1, 2)), draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.integers(1, 5)))
    size = (draw(st.integers(1, 13)), draw(st.integers(1, 13)))
    return in_shape, size


@SETTINGS
@given(shapes=resizes(), flags=st.sampled_from(BILINEAR_FLAGS), seed=st.integers(0, 2**31))
def test_bilinear(shapes, flags, seed):
    in_shape, size = shapes
    assert_bit_exact(resize_model("RESIZE_BILINEAR", in_shape, size, flags, seed=seed), samples=8)


@SETTINGS
@given(
    shapes=resizes(),
    flags=st.sampled_from(NEAREST_FLAGS),
    dtype=st.sampled_from(["int8", "int16", "float32"]),
    seed=st.integers(0, 2**31),
)
def test_nearest_neighbor(shapes, flags, dtype, seed):
    in_shape, size = shapes
    if dtype != "int8":
        in_shape = (1, *in_shape[1:])  # a model input, without a RESHAPE in front
    assert_bit_exact(resize_model("RESIZE_NEAREST_NEIGHBOR", in_shape, size, flags, dtype, seed), samples=8)


@pytest.mark.parametrize("flags", BILINEAR_FLAGS)
def test_bilinear_halves_round_away_from_zero(flags):
    # Doubling a 2x2 image puts taps at exact quarter and half weights: sums of exact halves.
    assert_bit_exact(resize_model("RESIZE_BILINEAR", (1, 2, 2, 3), (4, 4), flags), samples=32)


@pytest.mark.parametrize(
    "in_size, out_size, flags", [(26, 22, (False, False)), (14, 23, (True, False)), (6, 37, (False, True))]
)
def test_nearest_positions_are_float32(in_size, out_size, flags):
    # Sizes where a position computed in double would land on another source pixel.
    assert_bit_exact(resize_model("RESIZE_NEAREST_NEIGHBOR", (1, in_size, 2, 1), (out_size, 2), flags), samples=2)


def test_bilinear_past_the_last_pixel_refused():
    # 1 -> 55 rows: the rounded step (19/1024) puts the last row at 1026/1024, past the only input row.
    with pytest.raises(TinygenError, match=r"op 0 \(RESIZE_BILINEAR\): resizing 1 to 55 makes tflite-micro read past"):
        lower(resize_model("RESIZE_BILINEAR", (1, 1, 3, 1), (55, 3), (False, False)))


def test_bilinear_align_corners_with_half_pixel_centers_refused():
    with pytest.raises(TinygenError, match=r"align_corners and half_pixel_centers cannot both be set"):
        lower(resize_model("RESIZE_BILINEAR", (1, 2, 2, 1), (3, 3), (True, True)))


@pytest.mark.parametrize("dtype", ["int16", "float32"])
def test_bilinear_other_types_refused(dtype):
    with pytest.raises(TinygenError, match=r"RESIZE_BILINEAR.*(int16; only int8|float32 tensors.*quantize it first)"):
        lower(resize_model("RESIZE_BILINEAR", (1, 2, 2, 1), (3, 3), (False, False), dtype))


def test_nearest_int32_refused():
    with pytest.raises(TinygenError, match=r"t0 is int32; tflite-micro resizes int8, int16, float32 only"):
        lower(resize_model("RESIZE_NEAREST_NEIGHBOR", (1, 2, 2, 1), (3, 3), (False, False), "int32"))


@pytest.mark.parametrize("kind", ["RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"])
def test_quantization_mismatch_refused(kind):
    graph = resize_model(kind, (1, 2, 2, 1), (3, 3), (False, False), out_quant={"scale": 0.5, "zero_point": 1})
    with pytest.raises(TinygenError, match=r"quantization must match; resizing does not rescale"):
        lower(graph)


def _size_model(kind, size_tensor, out_shape=(1, 3, 3, 1)):
    g = GraphBuilder()
    x = g.tensor((1, 2, 2, 1), scale=0.1, zero_point=0)
    y = g.tensor(out_shape, scale=0.1, zero_point=0)
    inputs = [x]
    size = size_tensor(g)
    if g.tensors[size].data is None:
        inputs.append(size)
    g.op(kind, [x, size], [y])
    return g.build(inputs, [y])


@pytest.mark.parametrize("kind", ["RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"])
@pytest.mark.parametrize(
    "size",
    [
        lambda g: g.tensor((2,), "int32"),  # computed at run time
        lambda g: g.const(np.array([3, 3, 1], np.int32), "int32"),
        lambda g: g.const(np.array([3.0, 3.0], np.float32), "float32"),
    ],
    ids=["variable", "three-values", "float"],
)
def test_size_must_be_two_constant_int32(kind, size):
    with pytest.raises(TinygenError, match=r"size must be a constant int32 vector of 2"):
        lower(_size_model(kind, size))


def test_output_shape_must_follow_the_size():
    graph = _size_model("RESIZE_NEAREST_NEIGHBOR", lambda g: g.const(np.array([4, 3], np.int32), "int32"))
    with pytest.raises(TinygenError, match=r"output shape \(1, 3, 3, 1\) is not \(1, 4, 3, 1\)"):
        lower(graph)


def test_empty_size_refused():
    graph = _size_model("RESIZE_BILINEAR", lambda g: g.const(np.array([0, 3], np.int32), "int32"), (1, 0, 3, 1))
    with pytest.raises(TinygenError, match=r"output size 0x3 must be at least 1x1"):
        lower(graph)


def float_resizes(seed: int = 0):
    """conv -> bilinear (half pixel) up -> nearest (align corners) down -> conv."""
    b = FloatBuilder(seed)
    x, h1, h2, h3, y = b.act(1, 5, 4, 2), b.act(1, 5, 4, 3), b.act(1, 9, 7, 3), b.act(1, 4, 5, 3), b.act(1, 4, 5, 2)
    conv = dict(padding="SAME", stride_w=1, stride_h=1, dilation_w_factor=1, dilation_h_factor=1)
    b.op("CONV_2D", [x, b.weights(3, 3, 3, 2), b.weights(3)], [h1], fused_activation_function="RELU", **conv)
    b.op("RESIZE_BILINEAR", [h1, b.ints([9, 7])], [h2], align_corners=False, half_pixel_centers=True)
    b.op("RESIZE_NEAREST_NEIGHBOR", [h2, b.ints([4, 5])], [h3], align_corners=True, half_pixel_centers=False)
    b.op("CONV_2D", [h3, b.weights(2, 1, 1, 3), b.weights(2)], [y], fused_activation_function="NONE", **conv)
    return b.build([x], [y])


def test_quantized_resizes_are_bit_exact_and_the_float_executor_agrees():
    graph = float_resizes()
    x = inputs_for(graph, 32)
    want = run_tflm(write_tflite(graph), graph, x)
    got = execute(graph, [x])[graph.outputs[0]]
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-5, atol=1e-6)
    result = quantize(graph, CalibrationData(x))
    assert_bit_exact(result.graph)


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_on_board(qemu_ready, board_id, tmp_path):
    g = GraphBuilder()
    q = {"scale": 0.02, "zero_point": -5}
    x, h, y = g.tensor((1, 3, 4, 3), **q), g.tensor((1, 7, 9, 3), **q), g.tensor((1, 4, 4, 3), **q)
    size1, size2 = g.const(np.int32([7, 9]), "int32"), g.const(np.int32([4, 4]), "int32")
    g.op("RESIZE_BILINEAR", [x, size1], [h], align_corners=True, half_pixel_centers=False)
    g.op("RESIZE_NEAREST_NEIGHBOR", [h, size2], [y], align_corners=False, half_pixel_centers=True)
    assert verify_on_board(g.build([x], [y]), board_id, tmp_path).bit_exact


@pytest.mark.parametrize(
    "kind, flags", [("RESIZE_BILINEAR", (False, True)), ("RESIZE_NEAREST_NEIGHBOR", (True, False))]
)
def test_constant_image_folds(kind, flags):
    # A constant image resized at compile time, then added to the model's input.
    rng = np.random.default_rng(7)
    g = GraphBuilder()
    q = {"scale": 0.03, "zero_point": -10}
    image = g.const(rng.integers(-128, 128, (1, 3, 4, 2)), "int8", **q)
    x, resized, y = g.tensor((1, 5, 7, 2), **q), g.tensor((1, 5, 7, 2), **q), g.tensor((1, 5, 7, 2), **q)
    size = g.const(np.int32([5, 7]), "int32")
    g.op(kind, [image, size], [resized], align_corners=flags[0], half_pixel_centers=flags[1])
    g.op("ADD", [x, resized], [y], fused_activation_function="NONE")
    graph = g.build([x], [y])
    assert [layer.op.kind for layer in lower(fold_constants(graph)).layers] == ["ADD"]
    assert_bit_exact(graph)
