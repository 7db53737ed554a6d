"""SUB, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM, DIV and PRELU against tflite-micro on generated models.

A host build with sanitizers costs seconds, so each generated model holds every op of the family
at once, on the same two (broadcast) inputs.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.fold import fold_constants
from tinygen.compiler.lower import lower
from tinygen.errors import TinygenError
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.ops.div import rounding_shifts
from tinygen.quantize import CalibrationData, quantize
from tinygen.quantize.float_exec import execute
from tinygen.reference import Reference

from ..bitexact import assert_bit_exact
from ..gen import activation, activation_quant
from ..helpers import QEMU_BOARDS, verify_on_board
from ..quant_models import FloatBuilder, inputs_for, run_tflm
from .test_elementwise import broadcast_shapes, drain, feed

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)
INT16_SCALES = (-5, -2)  # decades


def _quant(rng, dtype: str, zero_point: bool = True) -> dict:
    """A tensor spec for feed/drain: the type and, for int8 and int16, random quantization."""
    if dtype == "int32":
        return {"dtype": "int32"}
    if dtype == "int8":
        q = activation_quant(rng)
    else:
        q = {"scale": float(10 ** rng.uniform(*INT16_SCALES)), "zero_point": int(rng.integers(-300, 301))}
    return {"dtype": dtype, **q, **({} if zero_point else {"zero_point": 0})}


def _const(g: GraphBuilder, rng, shape, spec: dict, avoid_zero_point: bool = False) -> int:
    low, high = np.iinfo(spec["dtype"]).min, np.iinfo(spec["dtype"]).max
    data = rng.integers(low, high, shape, endpoint=True)
    if avoid_zero_point:  # a constant divisor of 0 is refused
        zero = spec.get("zero_point", 0)
        data = np.where(data == zero, zero + 1 if zero < high else zero - 1, data)
    return g.const(data, spec["dtype"], **{k: v for k, v in spec.items() if k != "dtype"})


def _output(g: GraphBuilder, kind: str, inputs, shape, spec: dict, outputs: list, **options) -> int:
    y = g.tensor(shape, **spec)
    g.op(kind, inputs, [y], **options)
    outputs.append(drain(g, y, spec))
    return y


def _family_model(seed: int, dtype: str, shapes, const2: bool, shared: bool, zero_points: bool):
    """Every op of the family on inputs a and b (b a constant with const2): SUB, SQUARED_DIFFERENCE,
    DIV, MAXIMUM and MINIMUM (of a and b where their quantization is shared, else of a and a constant),
    PRELU (int8 and int16; alpha is b for int8)."""
    out_shape, shape1, shape2 = shapes
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    qa = _quant(rng, dtype, zero_points)
    qb = qa if shared else _quant(rng, dtype, zero_points)
    in1, a = feed(g, shape1, qa)
    inputs = [in1]
    divides = dtype != "int16"
    if const2:
        b = _const(g, rng, shape2, qb, avoid_zero_point=divides)
    else:
        in2, b = feed(g, shape2, qb)
        inputs.append(in2)
    outputs: list[int] = []
    _output(g, "SUB", [a, b], out_shape, _quant(rng, dtype), outputs, fused_activation_function=activation(rng))
    if dtype != "int16" or not zero_points:  # int16 SQUARED_DIFFERENCE needs zero points 0
        spec = _quant(rng, dtype, zero_points)
        if dtype != "int32":  # an output scale that keeps the squares in range
            bits = 8 if dtype == "int8" else 16
            spec["scale"] = float(2**bits * max(qa["scale"], qb["scale"]) ** 2 * 10 ** rng.uniform(-1, 0.5))
        _output(g, "SQUARED_DIFFERENCE", [a, b], out_shape, spec, outputs)
    if divides:
        spec = _quant(rng, dtype)
        if dtype == "int8":  # scales where tflite-micro's int8 DIV is defined (tinygen.ops.div)
            spec["scale"] = float(qa["scale"] / (qb["scale"] * 10 ** rng.uniform(2, 6)))
        _output(g, "DIV", [a, b], out_shape, spec, outputs, fused_activation_function=activation(rng))
    if shared:
        _output(g, "MAXIMUM", [a, b], out_shape, qa, outputs)
        _output(g, "MINIMUM", [b, a], out_shape, qa, outputs)
    else:
        _output(g, "MAXIMUM", [a, _const(g, rng, shape2, qa)], out_shape, qa, outputs)
        _output(g, "MINIMUM", [_const(g, rng, shape2, qa), a], out_shape, qa, outputs)
    if dtype != "int32":
        alpha = b if dtype == "int8" else _const(g, rng, shape2, _quant(rng, "int8"))
        _output(g, "PRELU", [a, alpha], out_shape, _quant(rng, dtype), outputs)
    return g.build(inputs, outputs)


def _int32_samples(graph, seed: int, count: int = 8) -> list[list[np.ndarray]]:
    """Inputs for int32 models: the first over the whole range or small, the divisor small and nonzero."""
    rng = np.random.default_rng(seed)
    samples = []
    for n in range(count):
        shapes = [graph.tensor(i).shape for i in graph.inputs]
        bound = 2**31 if n % 2 else 5000
        sample = [rng.integers(-bound, bound, shapes[0]).astype(np.int32)]
        if len(shapes) > 1:
            b = rng.integers(1, 200, shapes[1]) * rng.choice([-1, 1], shapes[1])
            sample.append(b.astype(np.int32))
        samples.append(sample)
    return samples


@SETTINGS
@given(
    dtype=st.sampled_from(["int8", "int16", "int32"]),
    seed=st.integers(0, 2**31),
    shapes=broadcast_shapes(),
    const2=st.booleans(),
    shared=st.booleans(),
    zero_points=st.booleans(),
)
def test_family(dtype, seed, shapes, const2, shared, zero_points):
    graph = _family_model(seed, dtype, shapes, const2, shared, zero_points)
    assert_bit_exact(graph, inputs=_int32_samples(graph, seed) if dtype == "int32" else None)


def _pairs_model(dtype: str, qa: dict, qb: dict, div_scale: float | None):
    """a of shape (1, n, 1) against b of shape (1, 1, n): with every value as input, every pair."""
    n = 256 if dtype == "int8" else 512
    g = GraphBuilder()
    a, b = g.tensor((1, n, 1), dtype, **qa), g.tensor((1, 1, n), dtype, **qb)
    outputs: list[int] = []
    larger = max(qa["scale"], qb["scale"])
    shape, out = (1, n, n), {"dtype": dtype, "scale": 2 * larger, "zero_point": 3}
    _output(g, "SUB", [a, b], shape, out, outputs, fused_activation_function="NONE")
    squares = {"dtype": dtype, "scale": n * larger**2, "zero_point": 0}
    _output(g, "SQUARED_DIFFERENCE", [a, b], shape, squares, outputs)
    if div_scale:
        _output(g, "DIV", [a, b], shape, {**out, "scale": div_scale}, outputs, fused_activation_function="NONE")
    alpha = b if dtype == "int8" else g.const(np.arange(-128, 128).reshape(1, 1, 256).repeat(2, 2), "int8", **qb)
    _output(g, "PRELU", [a, alpha], shape, out, outputs)
    return g.build([a, b], outputs), n


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_every_pair_of_values(dtype):
    if dtype == "int8":
        qa, qb = {"scale": 0.5, "zero_point": -7}, {"scale": 0.01, "zero_point": 11}
        graph, n = _pairs_model(dtype, qa, qb, div_scale=0.004)  # DIV's real multiplier 12500
        values = np.arange(-128, 128)
    else:  # int16: a stride through the range (zero points 0 for SQUARED_DIFFERENCE)
        qa, qb = {"scale": 3e-4, "zero_point": 0}, {"scale": 1e-2, "zero_point": 0}
        graph, n = _pairs_model(dtype, qa, qb, div_scale=None)
        values = np.linspace(-32768, 32767, 512).astype(np.int64)
    sample = [values.reshape(1, n, 1).astype(dtype), values.reshape(1, 1, n).astype(dtype)]
    assert_bit_exact(graph, inputs=[sample])


def test_rank7_alternating_broadcast():
    # The highest rank tflite-micro computes these ops correctly at, with nothing to merge.
    shapes = ((2,) * 7, (1, 2, 1, 2, 1, 2, 1), (2, 1, 2, 1, 2, 1, 2))
    assert_bit_exact(_family_model(3, "int8", shapes, const2=False, shared=False, zero_points=True))


def test_constant_operands_fold():
    """MINIMUM of int8 constants and int32 SUB, SQUARED_DIFFERENCE and DIV of constants run at compile time."""
    g = GraphBuilder()
    q = {"scale": 0.1, "zero_point": -3}
    x, xi = g.tensor((1, 4), **q), g.tensor((1, 4), "int32")
    c = [g.tensor((1, 4), **q) for _ in range(2)] + [g.tensor((4,), "int32") for _ in range(3)]
    g.op("MINIMUM", [g.const([[5, -9, 100, 7]], "int8", **q), g.const([[4, 2, -128, 7]], "int8", **q)], [c[0]])
    g.op("MAXIMUM", [x, c[0]], [c[1]])
    g.op("SUB", [g.const([7, -9, 2**31 - 1, 0], "int32"), g.const([2, 4, -1, 5], "int32")], [c[2]])
    g.op("DIV", [g.const([7, -9, 100, 2**31 - 1], "int32"), g.const([2, 4, -3, -1], "int32")], [c[3]])
    g.op("SQUARED_DIFFERENCE", [c[2], c[3]], [c[4]])
    y = g.tensor((1, 4), "int32")
    g.op("SUB", [xi, c[4]], [y], fused_activation_function="NONE")
    graph = g.build([x, xi], [c[1], y])
    folded = fold_constants(graph)
    assert [op.kind for op in folded.ops] == ["MAXIMUM", "SUB"]
    # 7 - 2, -9 - 4, 2^31 - 1 + 1 wraps, 0 - 5; 7 / 2, -9 / 4, 100 / -3 round toward 0 (C division)
    np.testing.assert_array_equal(folded.tensor(c[2]).data, [5, -13, -(2**31), -5])
    np.testing.assert_array_equal(folded.tensor(c[3]).data, [3, -2, -33, -(2**31) + 1])
    assert_bit_exact(graph)


def _single(kind: str, shapes, specs, **options):
    """One op on two model inputs (or a constant second input given as an array)."""
    g = GraphBuilder()
    a = g.tensor(shapes[0], **specs[0])
    b = g.const(specs[1].pop("data"), **specs[1]) if "data" in specs[1] else g.tensor(shapes[1], **specs[1])
    y = g.tensor(shapes[2], **specs[2])
    g.op(kind, [a, b], [y], **options)
    return g.build([a] if g.tensors[b].is_constant else [a, b], [y])


Q8 = {"dtype": "int8", "scale": 0.05, "zero_point": 2}
I32 = {"dtype": "int32"}
SAME = ((1, 4), (1, 4), (1, 4))
PER_CHANNEL = {**Q8, "scale": [0.1, 0.2, 0.1, 0.1], "axis": 1}


@pytest.mark.parametrize(
    "kind, shapes, specs, options, message",
    [
        ("SUB", ((2,) * 8, (2,) * 8, (2,) * 8), (Q8, Q8, Q8), {}, r"rank 8 is not supported"),
        ("MAXIMUM", ((1, 4), (1, 3), (1, 4)), (Q8, Q8, Q8), {}, r"input shapes .* do not broadcast to the output"),
        ("SUB", SAME, (Q8, Q8, {**Q8, "scale": 1e-8}), {}, r"output scale .* too small"),
        ("SUB", SAME, (Q8, Q8, Q8), {"fused_activation_function": "TANH"}, r"fused activation TANH"),
        ("SUB", SAME, ({**Q8, "dtype": "float32"},) * 3, {}, r"works on float32 tensors; .* quantize it first"),
        ("SUB", SAME, (Q8, {**Q8, "dtype": "int16"}, Q8), {}, r"inputs of int8 and int16"),
        ("SUB", SAME, ({**Q8, "dtype": "int32"},) * 3, {}, r"tensor t0 is quantized; int32 SUB computes on plain"),
        ("SUB", SAME, (Q8, {"dtype": "int8"}, Q8), {}, r"tensor t1 needs per-tensor quantization"),
        ("SQUARED_DIFFERENCE", SAME, ({**Q8, "dtype": "int16"},) * 3, {}, r"int16 tensors need zero point 0"),
        ("MAXIMUM", SAME, (Q8, {**Q8, "zero_point": 3}, Q8), {}, r"inputs and output must share one quantization"),
        ("MINIMUM", SAME, (Q8, Q8, {**Q8, "dtype": "uint8"}), {}, r"output t2 is uint8; MINIMUM takes"),
        ("DIV", SAME, (Q8, Q8, Q8), {}, r"tflite-micro's int8 DIV computes wrong quotients .* not 20$"),
        ("DIV", SAME, (Q8, {**Q8, "data": [[1, 2, 2, 1]]}, {**Q8, "scale": 1e-5}), {}, r"divides by zero"),
        ("DIV", SAME, (I32, {**I32, "data": [[1, 0, 2, 1]]}, I32), {}, r"divides by zero"),
        ("DIV", SAME, ({**Q8, "dtype": "int16"},) * 3, {}, r"output t2 is int16; DIV takes int8 or int32 or float32"),
        ("PRELU", SAME, (Q8, {**Q8, "dtype": "int16"}, Q8), {}, r"alpha t1 is int16; it must be int8"),
        ("PRELU", SAME, (Q8, PER_CHANNEL, Q8), {}, r"alpha has a scale per channel"),
    ],
)
def test_refused(kind, shapes, specs, options, message):
    graph = _single(kind, shapes, [dict(s) for s in specs], **options)
    with pytest.raises(TinygenError, match=rf"^op 0 \({kind}\):? {message}"):
        lower(graph)


def test_a_sub_that_aborts_tflite_micro_is_not_run_there():
    graph = _single("SUB", SAME, [dict(Q8), dict(Q8), {**Q8, "scale": 1e-8}], fused_activation_function="NONE")
    with pytest.raises(TinygenError, match=r"op 0 \(SUB\) has an output scale too small"):
        Reference(write_tflite(graph), graph)


def test_div_rounding_shifts():
    # 1 = 2^0 * 1.0 and 255 = 2^7 * 1.99: recip shifts 0 and 7; numerators 0 (31 sign bits), -255 (23)
    # and, divided by -1, 255 (23) and -0 (31); a zero divisor counts as 2^-1.
    shifts = rounding_shifts(np.array([0, -255]), np.array([1, 255, -1, 0]))
    np.testing.assert_array_equal(shifts, [[31, 38, 31, 30], [23, 30, 23, 22]])


def _board_model():
    """x - mean, squared difference, PRELU, maximum and minimum with constants, a division."""
    rng = np.random.default_rng(4)
    g = GraphBuilder()
    qx, qd, qs = {"scale": 0.04, "zero_point": -5}, {"scale": 0.05, "zero_point": 0}, {"scale": 0.2, "zero_point": -128}
    x = g.tensor((1, 4, 4, 3), **qx)
    qq = {"scale": 0.002, "zero_point": -100}
    d, s, p, m, n, q = (g.tensor((1, 4, 4, 3), **spec) for spec in (qd, qs, qd, qd, qd, qq))
    g.op("SUB", [x, g.const(rng.integers(-20, 20, (3,)), "int8", **qx)], [d], fused_activation_function="NONE")
    g.op("SQUARED_DIFFERENCE", [d, x], [s])
    g.op("PRELU", [d, g.const(rng.integers(0, 60, (1, 1, 3)), "int8", scale=0.01, zero_point=-10)], [p])
    g.op("MAXIMUM", [p, g.const([0], "int8", **qd)], [m])
    g.op("MINIMUM", [m, g.const(rng.integers(0, 100, (4, 1, 3)), "int8", **qd)], [n])
    g.op("DIV", [n, s], [q], fused_activation_function="RELU")  # real multiplier 0.05 / (0.2 * 0.002) = 125
    return g.build([x], [q])


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_on_emulated_boards(board_id, qemu_ready, tmp_path):
    assert verify_on_board(_board_model(), board_id, tmp_path).bit_exact


def _float_model():
    """(x - mean) squared, bounded to [12, 16] as a divisor of PRELU(x - mean), then the positive part."""
    b = FloatBuilder(5)
    x, centred, squared, bounded, divisor, leaky, ratio, y = (b.act(1, 4, 4, 3) for _ in range(8))
    b.op("SUB", [x, b.weights(3)], [centred], fused_activation_function="NONE")
    b.op("SQUARED_DIFFERENCE", [centred, b.weights(1, 1, 3)], [squared])
    b.op("MINIMUM", [squared, b.const(np.float32([4.0]), "float32")], [bounded])
    b.op("ADD", [bounded, b.const(np.float32([12.0]), "float32")], [divisor], fused_activation_function="NONE")
    b.op("PRELU", [centred, b.const(np.float32([[[0.1, 0.25, 0.5]]]), "float32")], [leaky])
    b.op("DIV", [leaky, divisor], [ratio], fused_activation_function="NONE")
    b.op("MAXIMUM", [ratio, b.const(np.float32([0.0]), "float32")], [y])
    return b.build([x], [y])


def test_quantized_float_model():
    graph = _float_model()
    x = inputs_for(graph, 6)
    want = run_tflm(write_tflite(graph), graph, x)
    got = execute(graph, [x])[graph.outputs[0]].reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    result = quantize(graph, CalibrationData(inputs_for(graph, 32)))
    assert_bit_exact(result.graph)
