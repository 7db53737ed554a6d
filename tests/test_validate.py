"""Every bad model gets its own message: one TinygenError naming what is wrong, from the reader, the
validator or the op's lowering (the issue's examples first), never an internal error."""

from __future__ import annotations

import re
import struct
import tracemalloc
import warnings

import numpy as np
import pytest
import tflite

from tinygen.builder import GraphBuilder
from tinygen.compiler.pipeline import LoadedModel, compile_model
from tinygen.errors import TinygenError
from tinygen.frontends.tflite_reader import parse_tflite
from tinygen.frontends.tflite_writer import write_tflite

from .fuzz_mutants import pack, unpack
from .gen import window_options
from .helpers import run_cli

Q = {"scale": 0.1, "zero_point": 0}
AVERAGE_POOL_2D, MAX_POOL_2D = 1, 17  # builtin operator codes


def compile_bytes(data: bytes):
    return compile_model(LoadedModel(parse_tflite(data), data, "model.tflite"))


def edited(data: bytes, edit) -> bytes:
    """The model with its flatbuffer object tree changed by edit(model, subgraph)."""
    m = unpack(data)
    edit(m, m.subgraphs[0])
    return pack(m)


def add_model(scale: float = 0.1, **options) -> bytes:
    g = GraphBuilder()
    a, b, y = g.tensor((1, 4), scale=scale), g.tensor((1, 4), **Q), g.tensor((1, 4), scale=0.25)
    g.op("ADD", [a, b], [y], fused_activation_function="NONE", **options)
    return write_tflite(g.build([a, b], [y]))


def pool_model(kind: str = "MAX_POOL_2D", **options) -> bytes:
    g = GraphBuilder()
    x, y = g.tensor((1, 4, 4, 2), **Q), g.tensor((1, 2, 2, 2), **Q)
    o = {"padding": "VALID", "stride_h": 2, "stride_w": 2, "filter_height": 2, "filter_width": 2}
    g.op(kind, [x], [y], **{**o, "fused_activation_function": "NONE", **options})
    return write_tflite(g.build([x], [y]))


def depthwise_model(depth_multiplier: int = 2, filter_w: int = 3, dilation: int = 1, scales=None) -> bytes:
    g = GraphBuilder()
    x, y = g.tensor((1, 4, 4, 2), **Q), g.tensor((1, 4, 4, 4), **Q)
    scales = [0.02] * 4 if scales is None else scales
    w = g.const(np.ones((1, 1, filter_w, 4)), "int8", scale=scales, zero_point=0, axis=3)
    b = g.const(np.zeros(4), "int32", scale=[0.002] * 4, zero_point=0)
    options = {**window_options(dilation=dilation), "depth_multiplier": depth_multiplier}
    g.op("DEPTHWISE_CONV_2D", [x, w, b], [y], **options)
    return write_tflite(g.build([x], [y]))


def fc_model(weight_scale: float = 0.02, x_shape=(1, 4)) -> bytes:
    g = GraphBuilder()
    x, y = g.tensor(x_shape, **Q), g.tensor((1, 2), **Q)
    w = g.const(np.ones((2, 4)), "int8", scale=weight_scale, zero_point=0)
    g.op("FULLY_CONNECTED", [x, w, -1], [y], fused_activation_function="NONE", keep_num_dims=False)
    return write_tflite(g.build([x], [y]))


def _opcode(deprecated: int, builtin: int):
    def edit(m, sg):
        m.operatorCodes[0].deprecatedBuiltinCode = deprecated
        m.operatorCodes[0].builtinCode = builtin

    return edit


def _set(path: str, value):
    """An edit setting one attribute of the subgraph, e.g. "outputs" or "operators.0.outputs"."""

    def edit(m, sg):
        *parents, name = path.split(".")
        target = sg
        for part in parents:
            target = target[int(part)] if part.isdigit() else getattr(target, part)
        setattr(target, name, value)

    return edit


def _tensor(index: int, **fields):
    def edit(m, sg):
        t = sg.tensors[index]
        for name, value in fields.items():
            target = t.quantization if name in ("scale", "zeroPoint", "quantizedDimension") else t
            setattr(target, name, value)

    return edit


def _buffer(tensor: int, data):
    def edit(m, sg):
        m.buffers[sg.tensors[tensor].buffer].data = np.asarray(data, np.uint8)

    return edit


def _sparse(m, sg):
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    sg.tensors[2].sparsity = schema.SparsityParametersT()


def _constant_input(m, sg):
    sg.inputs = [2]  # the weights


def _shape_output(m, sg):
    """SHAPE of a 4-D tensor written to an output of 3 values."""
    sg.tensors[sg.operators[0].outputs[0]].shape = [3]


def _padding(value: int):
    def edit(m, sg):
        sg.operators[0].builtinOptions.padding = value

    return edit


def shape_model() -> bytes:
    g = GraphBuilder()
    x, s, y = g.tensor((1, 2, 2, 1), **Q), g.tensor((4,), "int32"), g.tensor((1, 2, 2, 1), **Q)
    g.op("SHAPE", [x], [s], out_type="int32")
    g.op("RESHAPE", [x, s], [y])
    return write_tflite(g.build([x], [y]))


def island_model() -> bytes:
    """int8 -> DEQUANTIZE -> EXP -> QUANTIZE to an int8 tensor without quantization."""
    g = GraphBuilder()
    x, f, e, y = g.tensor((1, 4), **Q), g.tensor((1, 4), "float32"), g.tensor((1, 4), "float32"), g.tensor((1, 4))
    g.op("DEQUANTIZE", [x], [f])
    g.op("EXP", [f], [e])
    g.op("QUANTIZE", [e], [y])
    return write_tflite(g.build([x], [y]))


def rsqrt_model(scale: float) -> bytes:
    g = GraphBuilder()
    x, y = g.tensor((1, 4), scale=scale, zero_point=-128), g.tensor((1, 4), scale=scale)
    g.op("RSQRT", [x], [y])
    return write_tflite(g.build([x], [y]))


# (case, the model, what the one line says)
CASES = [
    # The examples.
    (
        "dilation 2^31-1",
        lambda: depthwise_model(dilation=2**31 - 1),
        "op 0 (DEPTHWISE_CONV_2D) has dilation_h_factor 2147483647; it must be between 1 and 65,536",
    ),
    (
        "opcode fields disagree",
        lambda: edited(pool_model(), _opcode(AVERAGE_POOL_2D, MAX_POOL_2D)),
        "op 0's operator code names two ops: AVERAGE_POOL_2D (deprecated_builtin_code 1) and MAX_POOL_2D "
        "(builtin_code 17)",
    ),
    ("no outputs", lambda: edited(add_model(), _set("outputs", [])), "the model has no outputs"),
    (
        "depth multiplier contradicts the weights",
        lambda: depthwise_model(depth_multiplier=1),
        "op 0 (DEPTHWISE_CONV_2D): depth_multiplier 1 contradicts the weights, which give 4 / 2 = 2",
    ),
    ("negative scale into ADD", lambda: add_model(scale=-0.1), "tensor 0 (t0) has scale -0.1"),
    # The file's structure (the reader).
    ("opcode index", lambda: edited(add_model(), _set("operators.0.opcodeIndex", 3)), "refers to operator code 3"),
    ("input index", lambda: edited(add_model(), _set("inputs", [0, 9])), "model input 9 refers to a tensor that"),
    ("op input -5", lambda: edited(add_model(), _set("operators.0.inputs", [0, -5])), "refers to tensor -5"),
    ("negative dimension", lambda: edited(add_model(), _tensor(2, shape=[1, -4])), "has a negative size on axis 1"),
    ("short constant", lambda: edited(fc_model(), _buffer(2, [1] * 7)), "8 bytes, but its buffer holds 7"),
    ("long constant", lambda: edited(fc_model(), _buffer(2, [1] * 9)), "8 bytes, but its buffer holds 9"),
    ("buffer index", lambda: edited(fc_model(), _tensor(2, buffer=40)), "refers to buffer 40, which does not exist"),
    ("sparse tensor", lambda: edited(fc_model(), _sparse), "tensor 2 (t2) is sparse"),
    ("unknown padding", lambda: edited(pool_model(), _padding(7)), "op 0 (MAX_POOL_2D) has padding 7; tinygen knows"),
    # The model (the validator).
    ("no inputs", lambda: edited(add_model(), _set("inputs", [])), "the model has no inputs"),
    ("nothing computed", lambda: edited(add_model(), _set("outputs", [0])), "the model computes nothing"),
    ("constant input", lambda: edited(fc_model(), _constant_input), "model input t2 is a constant"),
    ("op without outputs", lambda: edited(add_model(), _set("operators.0.outputs", [])), "has 0 output(s); it gives 1"),
    ("zero scale", lambda: add_model(scale=0.0), "has scale 0.0; a scale must be a positive finite number"),
    ("NaN scale", lambda: add_model(scale=float("nan")), "has scale nan"),
    ("infinite scale", lambda: add_model(scale=float("inf")), "has scale inf"),
    ("zero point", lambda: edited(add_model(), _tensor(0, zeroPoint=[200])), "zero point 200, outside the int8 range"),
    ("zero point count", lambda: edited(add_model(), _tensor(0, zeroPoint=[0, 0])), "has 1 scales but 2 zero points"),
    (
        "per-channel scales",
        lambda: depthwise_model(scales=[0.02] * 3),
        "tensor 2 (t2) has 3 per-channel scales for the 4 channels of axis 3",
    ),
    (
        "per-channel axis",
        lambda: edited(depthwise_model(), _tensor(2, quantizedDimension=4)),
        "is quantized per channel along axis 4, outside its rank 4",
    ),
    (
        "2 GiB tensor",
        lambda: edited(add_model(), _tensor(2, shape=[1, 2**16, 2**15])),
        "needs 2,147,483,648 bytes; the limit is 2 GiB",
    ),
    ("too few inputs", lambda: edited(fc_model(), _set("operators.0.inputs", [0])), "has 1 input(s); it takes 2 to 3"),
    ("absent input", lambda: edited(add_model(), _set("operators.0.inputs", [0, -1])), "has no input 1 (activation)"),
    ("writes a constant", lambda: edited(fc_model(), _set("operators.0.outputs", [2])), "writes tensor t2, which is a"),
    ("writes an input", lambda: edited(add_model(), _set("operators.0.outputs", [1])), "which is a model input"),
    ("stride 0", lambda: pool_model(stride_w=0), "op 0 (MAX_POOL_2D) has stride_w 0; it must be between 1 and 65,536"),
    # Lowering: what one op's kernels need.
    (
        "window arithmetic",
        lambda: depthwise_model(filter_w=2**15 + 1, dilation=2**16),
        "the int32 index arithmetic overflows",
    ),
    (
        "multiplier range",
        lambda: fc_model(weight_scale=1e30),
        "op 0 (FULLY_CONNECTED): a rescale by 1e+30 overflows the int32 fixed-point arithmetic",
    ),
    ("folded shape", lambda: edited(shape_model(), _shape_output), "op 0 (SHAPE) computes 4 values for its output"),
    ("RSQRT scales", lambda: rsqrt_model(1e-45), "sqrt(input scale 1.401298464324817e-45) * output scale"),
    ("island without quantization", island_model, "op 1 (EXP): tflite-micro runs EXP in float32 only"),
]


@pytest.mark.parametrize("make, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_bad_model_gets_its_own_message(make, message):
    with pytest.raises(TinygenError, match=re.escape(message)):
        compile_bytes(make())


def test_the_command_line_validates_before_anything_reads_the_graph(tmp_path):
    """`tinygen build` looks for float ops (through the float islands pass) before compiling: on a
    validated graph."""
    path = tmp_path / "island.tflite"
    path.write_bytes(edited(island_model(), _set("operators.2.outputs", [])))
    code, _, err = run_cli("build", path, "--board", "host", "-o", tmp_path / "out", "--no-compile")
    assert code == 1 and err == "tinygen: error: op 2 (QUANTIZE) has 0 output(s); it gives 1\n"


def test_a_slice_of_a_huge_tensor_compiles_in_little_memory():
    """Whether a slice is a view of its input is decided on the slice's elements, not the input's (2^27 here)."""
    g = GraphBuilder()
    x, y = g.tensor((1, 2**26, 2), **Q), g.tensor((1, 3, 2), **Q)
    g.op("SLICE", [x, g.const(np.array([0, 5, 0]), "int32"), g.const(np.array([1, 3, 2]), "int32")], [y])
    tracemalloc.start()
    try:
        compiled = compile_bytes(write_tflite(g.build([x], [y])))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert compiled.lowered.layers[0].kernel is None and peak < 64 << 20  # a view, found with a few MB


def test_a_damaged_subgraph_count_is_refused_in_little_memory():
    """A file whose subgraph vector claims 4 million entries is refused without a list of that length (at
    2^31, the machine's memory went first)."""
    data = bytearray(add_model())
    model = tflite.Model.GetRootAsModel(data, 0)
    first = model._tab.Vector(model._tab.Offset(8))  # Model.subgraphs (field 2): its length lies before it
    struct.pack_into("<I", data, first - 4, 2**22)
    tracemalloc.start()
    try:
        with pytest.raises(TinygenError, match="is a corrupt TFLite file: it claims 4194304 subgraphs"):
            compile_bytes(bytes(data))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


def test_a_rescale_past_float32_is_one_line_without_a_numpy_warning():
    """ABS rescales by input scale / output scale in float32: 1e38 / 1e-30 is infinite there."""
    g = GraphBuilder()
    x, y = g.tensor((1, 4), scale=1e38, zero_point=0), g.tensor((1, 4), scale=1e-30, zero_point=0)
    g.op("ABS", [x], [y])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would print a second line
        with pytest.raises(TinygenError, match=r"op 0 \(ABS\): rescaling by [0-9.e+]+ / [0-9.e-]+ overflows"):
            compile_bytes(write_tflite(g.build([x], [y])))


def test_a_v3_operator_code_names_the_op_alone():
    """Files of schema v3 have no builtin_code: deprecated_builtin_code names the op, as in tflite-micro."""
    data = edited(pool_model("AVERAGE_POOL_2D"), _opcode(MAX_POOL_2D, 0))
    assert [layer.kernel for layer in compile_bytes(data).lowered.layers] == ["tg_max_pool_s8"]
