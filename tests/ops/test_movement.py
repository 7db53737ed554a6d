"""The data-movement ops (tinygen/ops/movement.py and its siblings) against tflite-micro on generated models.

Each generated model is compiled for the host and compared bit for bit, and folded whole at compile
time (its inputs made constants) and compared again: the folds and the kernels share one copy plan,
but each is checked against the interpreter on its own. Output shapes come from numpy or plain
arithmetic here, never from tinygen.
"""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.fold import fold_constants
from tinygen.compiler.pipeline import compile_model
from tinygen.device.host import HostTarget, build_host
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.ir import Graph, Op
from tinygen.quantize import CalibrationData, quantize
from tinygen.quantize.float_exec import execute
from tinygen.reference import Reference
from tinygen.verify import random_samples

from ..bitexact import assert_bit_exact
from ..gen import activation_quant
from ..helpers import QEMU_BOARDS, loaded, verify_on_board
from ..quant_models import FloatBuilder, inputs_for, run_tflm
from .test_elementwise import drain, feed

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True)


def _quant(rng: np.random.Generator, dtype: str) -> dict:
    """A tensor's dtype and quantization (int8 and int16 quantized, the others plain)."""
    if dtype == "int8":
        return {"dtype": "int8", **activation_quant(rng)}
    if dtype == "int16":
        return {"dtype": "int16", "scale": float(10 ** rng.uniform(-4, -1)), "zero_point": 0}
    return {"dtype": dtype}


def _ints(g: GraphBuilder, values, dtype: str = "int32") -> int:
    return g.const(np.asarray(values, dtype=dtype), dtype)


def _const(g: GraphBuilder, rng: np.random.Generator, shape, quant: dict) -> int:
    return g.tensor(shape, data=rng.integers(-100, 100, shape), **quant)


def _shape(draw, rank: int, low: int = 1, high: int = 4) -> tuple[int, ...]:
    return tuple(draw(st.lists(st.integers(low, high), min_size=rank, max_size=rank)))


def folded_outputs(graph: Graph, sample: list[np.ndarray]) -> list[np.ndarray]:
    """The model's outputs computed by the fold pass alone, with the sample as constant inputs."""
    tensors = list(graph.tensors)
    for i, value in zip(graph.inputs, sample):
        tensors[i] = dataclasses.replace(tensors[i], data=np.asarray(value).reshape(tensors[i].shape))
    ops, outputs = list(graph.ops), []
    for i in graph.outputs:  # the fold pass keeps ops that write model outputs: give each a consumer
        tensors.append(dataclasses.replace(tensors[i], index=len(tensors), data=None))
        ops.append(Op(len(ops), "RESHAPE", (i,), (len(tensors) - 1,)))
        outputs.append(len(tensors) - 1)
    folded = fold_constants(Graph(tensors, ops, (), tuple(outputs)))
    return [folded.tensor(i).data for i in graph.outputs]


def check(graph: Graph, samples: list[list[np.ndarray]] | None = None) -> None:
    """Bit-exact on the host, and folded exactly, against tflite-micro."""
    samples = samples or random_samples(graph, 4, seed=1)
    assert_bit_exact(graph, inputs=samples)
    reference = Reference(write_tflite(graph), graph)
    for sample in samples[:2]:
        for want, got in zip(reference.run(sample), folded_outputs(graph, sample)):
            assert np.array_equal(want.reshape(-1).view(np.uint8), np.asarray(got).reshape(-1).view(np.uint8))


# --- SLICE and STRIDED_SLICE ---


@st.composite
def slice_cases(draw):
    rank = draw(st.integers(1, 4))
    shape = _shape(draw, rank, 1, 5)
    begin = [draw(st.integers(0, d - 1)) for d in shape]
    size = [draw(st.sampled_from([-1, draw(st.integers(1, d - b))])) for d, b in zip(shape, begin)]
    strided = []
    for d in shape:
        stride = draw(st.sampled_from([1, 1, 2, 3, -1, -2]))
        strided.append([draw(st.integers(-d - 1, d + 1)), draw(st.integers(-d - 1, d + 1)), stride])
    masks = [draw(st.integers(0, 2**rank - 1)) for _ in range(2)]
    shrink = draw(st.integers(0, 2**rank - 1))
    return {
        "seed": draw(st.integers(0, 2**31)),
        "dtype": draw(st.sampled_from(["int8", "int8", "int16", "int32", "float32"])),
        "shape": shape,
        "begin": begin,
        "size": size,
        "index_dtype": draw(st.sampled_from(["int32", "int64"])),  # SLICE takes either
        "strided": strided,
        "masks": masks,
        "shrink": shrink,
    }


def _numpy_slices(shape, strided, masks, shrink):
    """STRIDED_SLICE's selection as numpy indexing: the independent oracle of its output shape. Shrunk
    axes need an index inside the axis and a positive stride (one axis stays: no scalar outputs); empty
    axes are made whole with the masks."""
    begin_mask, end_mask = masks
    shrunk = [
        bool(shrink >> axis & 1) and s > 0 and -d <= b < d and not begin_mask >> axis & 1
        for axis, (d, (b, _, s)) in enumerate(zip(shape, strided))
    ]
    shrunk[-1] = shrunk[-1] and not all(shrunk)
    index = []
    for axis, (d, (b, e, s)) in enumerate(zip(shape, strided)):
        if shrunk[axis]:
            index.append(b)
            continue
        if len(range(d)[slice(b, e, s)]) == 0:
            begin_mask |= 1 << axis
            end_mask |= 1 << axis
        index.append(slice(None if begin_mask >> axis & 1 else b, None if end_mask >> axis & 1 else e, s))
    return tuple(index), (begin_mask, end_mask), sum(1 << axis for axis, k in enumerate(shrunk) if k)


def _slice_model(seed, dtype, shape, begin, size, index_dtype, strided, masks, shrink):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    q = _quant(rng, dtype)
    model_input, x = feed(g, shape, q)
    sliced = g.tensor(tuple(d - b if n == -1 else n for d, b, n in zip(shape, begin, size)), **q)
    g.op("SLICE", [x, _ints(g, begin, index_dtype), _ints(g, size, index_dtype)], [sliced])
    index, (begin_mask, end_mask), shrink = _numpy_slices(shape, strided, masks, shrink)
    strided_out = g.tensor(np.empty(shape)[index].shape, **q)
    params = [_ints(g, [p[k] for p in strided]) for k in range(3)]
    g.op("STRIDED_SLICE", [x, *params], [strided_out], begin_mask=begin_mask, end_mask=end_mask,
         shrink_axis_mask=shrink)  # fmt: skip
    return g.build([model_input], [drain(g, sliced, q), drain(g, strided_out, q)])


@SETTINGS
@given(case=slice_cases())
def test_slice_and_strided_slice(case):
    check(_slice_model(**case))


# --- TRANSPOSE, REVERSE_V2, SQUEEZE, EXPAND_DIMS ---


@st.composite
def permute_cases(draw):
    rank = draw(st.integers(1, 5))
    first = draw(st.integers(0, rank - 1))
    return {
        "seed": draw(st.integers(0, 2**31)),
        "dtype": draw(st.sampled_from(["int8", "int8", "int16", "float32"])),
        "shape": _shape(draw, rank),
        "perm": draw(st.permutations(range(rank))),
        "axes": list(range(first, draw(st.integers(first, rank - 1)) + 1)),
        "negative_axes": draw(st.booleans()),
        "expand_at": draw(st.integers(-rank - 1, rank)),
    }


def _permute_model(seed, dtype, shape, perm, axes, negative_axes, expand_at):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    q = _quant(rng, dtype)
    model_input, x = feed(g, shape, q)
    transposed_shape = np.empty(shape).transpose(perm).shape
    transposed = g.tensor(transposed_shape, **q)
    g.op("TRANSPOSE", [x, _ints(g, perm)], [transposed])
    # Squeeze the size-1 axes but one (an empty squeeze_dims would squeeze them all).
    ones = [a for a, d in enumerate(transposed_shape) if d == 1][: len(transposed_shape) - 1]
    squeezed = transposed
    if ones:
        squeezed = g.tensor(tuple(d for a, d in enumerate(transposed_shape) if a not in ones), **q)
        g.op("SQUEEZE", [transposed], [squeezed], squeeze_dims=ones)
    reversed_ = g.tensor(shape, **q)
    g.op("REVERSE_V2", [x, _ints(g, [a - len(shape) if negative_axes else a for a in axes])], [reversed_])
    expanded = g.tensor(np.expand_dims(np.empty(shape), expand_at).shape, **q)
    g.op("EXPAND_DIMS", [reversed_, _ints(g, [expand_at])], [expanded])
    return g.build([model_input], [drain(g, squeezed, q), drain(g, expanded, q)])


@SETTINGS
@given(case=permute_cases())
def test_transpose_reverse_squeeze_expand_dims(case):
    check(_permute_model(**case))


# --- SPLIT, SPLIT_V, UNPACK, PACK ---


@st.composite
def split_cases(draw):
    rank = draw(st.integers(1, 4))
    shape = _shape(draw, rank)
    axis = draw(st.integers(0, rank - 1))
    d = shape[axis]
    cuts = sorted(draw(st.sets(st.integers(1, d - 1), max_size=2))) if d > 1 else []
    sizes = [b - a for a, b in zip([0, *cuts], [*cuts, d])]
    if draw(st.booleans()):
        sizes[draw(st.integers(0, len(sizes) - 1))] = -1
    return {
        "seed": draw(st.integers(0, 2**31)),
        "dtype": draw(st.sampled_from(["int8", "int8", "int16", "int32", "float32"])),
        "shape": shape,
        "axis": axis,
        "negative_axis": draw(st.booleans()),
        "splits": draw(st.sampled_from([n for n in (1, 2, 3, 4) if d % n == 0])),
        "sizes": sizes,
        "pack_axis": draw(st.integers(-rank, rank - 1)),
        "same_quant": draw(st.booleans()),
    }


def _split_model(seed, dtype, shape, axis, negative_axis, splits, sizes, pack_axis, same_quant):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    q = _quant(rng, dtype)
    model_input, x = feed(g, shape, q)
    axis_value = axis - len(shape) if negative_axis else axis
    outputs = []
    # SPLIT: equal parts; their quantization may differ from the input's (tflite-micro copies raw).
    part = (*shape[:axis], shape[axis] // splits, *shape[axis + 1 :])
    part_quants = [q if same_quant else _quant(rng, dtype) for _ in range(splits)]
    parts = [g.tensor(part, **pq) for pq in part_quants]
    g.op("SPLIT", [_ints(g, [axis_value]), x], parts, num_splits=splits)
    outputs += [drain(g, t, pq) for t, pq in zip(parts, part_quants)]
    # SPLIT_V: the sizes, one of them maybe -1.
    known = [s for s in sizes if s != -1]
    pieces = [shape[axis] - sum(known) if s == -1 else s for s in sizes]
    split_v = [g.tensor((*shape[:axis], s, *shape[axis + 1 :]), **q) for s in pieces]
    g.op("SPLIT_V", [x, _ints(g, sizes), _ints(g, [axis_value])], split_v, num_splits=len(sizes))
    outputs += [drain(g, t, q) for t in split_v]
    # UNPACK along the axis, then PACK the pieces and a constant back along another axis.
    piece = (*shape[:axis], *shape[axis + 1 :])
    unpacked = [g.tensor(piece, **q) for _ in range(shape[axis])]
    g.op("UNPACK", [x], unpacked, num=shape[axis], axis=axis_value)
    values = [*unpacked, _const(g, rng, piece, q)]
    packed = g.tensor(np.stack([np.empty(piece)] * len(values), axis=pack_axis).shape, **q)
    g.op("PACK", values, [packed], values_count=len(values), axis=pack_axis)
    outputs.append(drain(g, packed, q))
    return g.build([model_input], outputs)


@SETTINGS
@given(case=split_cases())
def test_split_split_v_unpack_pack(case):
    check(_split_model(**case))


# --- DEPTH_TO_SPACE, SPACE_TO_DEPTH, BATCH_TO_SPACE_ND, SPACE_TO_BATCH_ND ---


@st.composite
def spatial_cases(draw):
    small = st.integers(1, 3)
    rank = draw(st.sampled_from([3, 4]))
    block = [draw(small) for _ in range(rank - 2)]
    h, w = draw(small), draw(small)
    crops = [[draw(st.integers(0, h * block[0] - 1)), 0]]
    crops[0][1] = draw(st.integers(0, h * block[0] - 1 - crops[0][0]))
    if rank == 4:
        crops.append([draw(st.integers(0, w * block[1] - 1)), 0])
        crops[1][1] = draw(st.integers(0, w * block[1] - 1 - crops[1][0]))
    return {
        "seed": draw(st.integers(0, 2**31)),
        "dtype": draw(st.sampled_from(["int8", "int8", "float32"])),
        "block_size": draw(small),
        "hwc": (h, w, draw(small)),
        "batch": draw(st.integers(1, 2)),
        "block": block,
        "crops": crops,
    }


def _spatial_model(seed, dtype, block_size, hwc, batch, block, crops):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    q = _quant(rng, dtype)
    h, w, c = hwc
    bs = block_size
    inputs, outputs = [], []

    def add(kind, in_shape, out_shape, params=(), quant=q, **options):
        model_input, x = feed(g, in_shape, quant)
        y = g.tensor(out_shape, **quant)
        g.op(kind, [x, *params], [y], **options)
        inputs.append(model_input)
        outputs.append(drain(g, y, quant))

    add("DEPTH_TO_SPACE", (1, h, w, c * bs * bs), (1, h * bs, w * bs, c), block_size=bs)
    add("SPACE_TO_DEPTH", (1, h * bs, w * bs, c), (1, h, w, c * bs * bs), block_size=bs)
    spatial = len(block)
    blocks = int(np.prod(block))
    grid = (h, w)[:spatial]
    # BATCH_TO_SPACE_ND: batch * blocks batches of the grid -> batch batches of the cropped, enlarged grid.
    cropped = tuple(n * b - lo - hi for n, b, (lo, hi) in zip(grid, block, crops))
    add("BATCH_TO_SPACE_ND", (batch * blocks, *grid, c), (batch, *cropped, c), [_ints(g, block), _ints(g, crops)])
    # SPACE_TO_BATCH_ND: the grid times the block, back into batches (unpadded: see the refusals).
    enlarged = tuple(n * b for n, b in zip(grid, block))
    no_padding = _ints(g, [[0, 0]] * spatial)
    add("SPACE_TO_BATCH_ND", (batch, *enlarged, c), (batch * blocks, *grid, c), [_ints(g, block), no_padding])
    return g.build(inputs, outputs)


@SETTINGS
@given(case=spatial_cases())
def test_depth_space_and_batch_space(case):
    check(_spatial_model(**case))


# --- GATHER ---


@st.composite
def gather_cases(draw):
    rank = draw(st.integers(1, 4))
    shape = _shape(draw, rank)
    axis = draw(st.integers(0, rank - 1))
    batch_dims = draw(st.integers(0, axis))
    extra = _shape(draw, draw(st.integers(0 if batch_dims else 1, 2)), 1, 3)
    return {
        "seed": draw(st.integers(0, 2**31)),
        "dtype": draw(st.sampled_from(["int8", "int8", "float32"])),
        "shape": shape,
        "axis": axis,
        "batch_dims": batch_dims,
        "indices_shape": shape[:batch_dims] + extra,
        "indices": draw(st.sampled_from(["computed", "constant", "progression"])),
        "negative": draw(st.booleans()),
    }


def _gather_model(seed, dtype, shape, axis, batch_dims, indices_shape, indices, negative):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    q = _quant(rng, dtype)
    model_input, x = feed(g, shape, q)
    inputs = [model_input]
    if indices == "computed":
        index_input, where = feed(g, indices_shape, {"dtype": "int32"})
        inputs.append(index_input)
    elif indices == "constant":
        where = _ints(g, rng.integers(0, shape[axis], indices_shape))
    else:  # evenly spaced, as runs of one strided copy
        count = int(np.prod(indices_shape))
        step = int(rng.integers(-1, 2)) if count <= shape[axis] else 0
        start = int(rng.integers(0, shape[axis] - abs(step) * (count - 1)))
        start = shape[axis] - 1 - start if step < 0 else start
        where = _ints(g, (start + step * np.arange(count)).reshape(indices_shape))
    y = g.tensor((*shape[:axis], *indices_shape[batch_dims:], *shape[axis + 1 :]), **q)
    options = {"axis": axis - len(shape) if negative else axis, "batch_dims": batch_dims}
    if negative and batch_dims < len(indices_shape):
        options["batch_dims"] = batch_dims - len(indices_shape)
    g.op("GATHER", [x, where], [y], **options)
    return g.build(inputs, [drain(g, y, q)])


def _gather_samples(graph: Graph, axis_size: int, seed: int) -> list[list[np.ndarray]]:
    """Random samples with every index input inside the axis (tflite-micro fails the invoke otherwise)."""
    rng = np.random.default_rng(seed)
    samples = random_samples(graph, 4, seed)
    for sample in samples:
        for k, i in enumerate(graph.inputs):
            if graph.tensor(i).dtype == "int32":
                sample[k] = rng.integers(0, axis_size, graph.tensor(i).shape).astype(np.int32)
    return samples


@SETTINGS
@given(case=gather_cases())
def test_gather(case):
    graph = _gather_model(**case)
    check(graph, _gather_samples(graph, case["shape"][case["axis"]], case["seed"]))


def test_gather_out_of_range_indices_read_nothing(tmp_path):
    # tflite-micro fails the invoke; tinygen's kernel stays inside the input and writes zero bytes.
    g = GraphBuilder()
    x = g.tensor((1, 3, 2), scale=0.5, zero_point=4)
    where = g.tensor((4,), "int32")
    y = g.tensor((1, 4, 2), scale=0.5, zero_point=4)
    g.op("GATHER", [x, where], [y], axis=1, batch_dims=0)
    graph = g.build([x, where], [y])
    binary = build_host(compile_model(loaded(graph, "gather")).generated, tmp_path, sanitize=True)
    data = np.arange(1, 7, dtype=np.int8).reshape(1, 3, 2)
    (got,) = HostTarget(binary, graph).run([[data, np.array([2, -1, 3, 0], np.int32)]])[0]
    assert np.asarray(got).reshape(4, 2).tolist() == [[5, 6], [0, 0], [0, 0], [1, 2]]


# --- other dtypes: uint8, int64 and bool, which only some ops move ---


def test_uint8_int64_and_bool():
    g = GraphBuilder()
    inputs, outputs = [], []
    for dtype in ("uint8", "int64", "bool"):
        x = g.tensor((1, 3, 4), dtype)
        reversed_ = g.tensor((1, 3, 4), dtype)
        g.op("REVERSE_V2", [x, _ints(g, [1, 2])], [reversed_])
        inputs.append(x)
        outputs.append(reversed_)
    outputs.append(g.tensor((3, 4), "uint8"))
    g.op("SQUEEZE", [outputs[0]], [outputs[-1]], squeeze_dims=[0])
    outputs.append(g.tensor((1, 2, 3, 4), "int64"))
    g.op("PACK", [inputs[1], outputs[1]], [outputs[-1]], values_count=2, axis=1)
    outputs.append(g.tensor((1, 2, 2), "bool"))
    g.op("SLICE", [outputs[2], _ints(g, [0, 1, 1]), _ints(g, [1, 2, 2])], [outputs[-1]])
    graph = g.build(inputs, outputs)
    rng = np.random.default_rng(3)
    samples = random_samples(g.build(inputs[:2], outputs[:2]), 3, seed=3)
    check(graph, [[*sample, rng.integers(0, 2, (1, 3, 4)).astype(bool)] for sample in samples])


# --- the SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE chain of Keras' Flatten, folded away ---


def flatten_chain(second: int) -> Graph:
    """x -> SHAPE -> STRIDED_SLICE (the batch) -> PACK with `second` -> RESHAPE of x -> FULLY_CONNECTED."""
    rng = np.random.default_rng(7)
    g = GraphBuilder()
    q = activation_quant(rng)
    x = g.tensor((1, 2, 3, 4), **q)
    shape = g.tensor((4,), "int32")
    g.op("SHAPE", [x], [shape], out_type="int32")
    batch = g.tensor((), "int32")
    g.op("STRIDED_SLICE", [shape, _ints(g, [0]), _ints(g, [1]), _ints(g, [1])], [batch], begin_mask=0, end_mask=0,
         ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=1, offset=False)  # fmt: skip
    new_shape = g.tensor((2,), "int32")
    g.op("PACK", [batch, _ints(g, second)], [new_shape], values_count=2, axis=0)
    flat = g.tensor((1, 24), **q)
    g.op("RESHAPE", [x, new_shape], [flat])
    qy = activation_quant(rng)
    y = g.tensor((1, 5), **qy)
    w = g.tensor((5, 24), data=rng.integers(-127, 128, (5, 24)), scale=0.01, zero_point=0)
    g.op("FULLY_CONNECTED", [flat, w, -1], [y], fused_activation_function="NONE", keep_num_dims=False)
    return g.build([x], [y])


@pytest.mark.parametrize("second", [-1, 24])
def test_keras_flatten_chain_folds_away(second):
    graph = flatten_chain(second)
    kinds = [layer.op.kind for layer in compile_model(loaded(graph, "flatten")).lowered.layers]
    assert kinds == ["RESHAPE", "FULLY_CONNECTED"]


def test_keras_flatten_chain_is_bit_exact():
    assert_bit_exact(flatten_chain(-1))


# --- the quantizer: a float graph through every op that moves float32, quantized and bit-exact ---


def movement_float_graph():
    b = FloatBuilder(5)
    x = b.act(1, 4, 4, 4)
    chain = [
        ("DEPTH_TO_SPACE", [], (1, 8, 8, 1), {"block_size": 2}),
        ("SPACE_TO_DEPTH", [], (1, 4, 4, 4), {"block_size": 2}),
        ("TRANSPOSE", [b.ints([0, 2, 1, 3])], (1, 4, 4, 4), {}),
        ("STRIDED_SLICE", [b.ints([0, 0, 3, 0]), b.ints([1, 4, 0, 4]), b.ints([1, 1, -1, 1])], (1, 4, 3, 4), {}),
        ("REVERSE_V2", [b.ints([1])], (1, 4, 3, 4), {}),
        ("SLICE", [b.ints([0, 1, 0, 0]), b.ints([1, 2, -1, -1])], (1, 2, 3, 4), {}),
        ("GATHER", [b.ints([3, 0, 1])], (1, 2, 3, 3), {"axis": 3, "batch_dims": 0}),
        # Unpadded: tflite-micro's padding is uninitialized memory.
        ("SPACE_TO_BATCH_ND", [b.ints([2, 1]), b.ints([[0, 0], [0, 0]])], (2, 1, 3, 3), {}),
        ("BATCH_TO_SPACE_ND", [b.ints([2, 1]), b.ints([[0, 0], [0, 1]])], (1, 2, 2, 3), {}),
        ("EXPAND_DIMS", [b.ints([0])], (1, 1, 2, 2, 3), {}),
        ("SQUEEZE", [], (1, 2, 2, 3), {"squeeze_dims": [0]}),
    ]
    for kind, params, shape, options in chain:
        y = b.act(*shape)
        b.op(kind, [x, *params], [y], **options)
        x = y
    halves = [b.act(1, 2, 2, 1), b.act(1, 2, 2, 2)]
    b.op("SPLIT_V", [x, b.ints([1, -1]), b.ints([3])], halves, num_splits=2)
    rows = [b.act(1, 2, 1), b.act(1, 2, 1)]
    b.op("UNPACK", [halves[0]], rows, num=2, axis=1)
    repacked = b.act(1, 2, 2, 1)
    b.op("PACK", rows, [repacked], values_count=2, axis=2)
    pieces = [b.act(1, 2, 2, 1), b.act(1, 2, 2, 1)]
    b.op("SPLIT", [b.ints([3]), halves[1]], pieces, num_splits=2)
    stacked = b.act(1, 2, 2, 1, 4)
    constant = b.const(b.rng.normal(0, 1, (1, 2, 2, 1)).astype(np.float32), "float32")
    b.op("PACK", [*pieces, repacked, constant], [stacked], values_count=4, axis=4)
    y = b.act(1, 2, 2, 4)
    b.op("SQUEEZE", [stacked], [y], squeeze_dims=[3])
    graph = b.build([0], [y])
    return loaded(graph, "movement").graph, write_tflite(graph)


def test_quantized_movement_graph_is_bit_exact_and_float_executor_agrees():
    graph, tflite_bytes = movement_float_graph()
    x = inputs_for(graph, 32)
    got = execute(graph, [x])[graph.outputs[0]]
    want = run_tflm(tflite_bytes, graph, x)
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-5)
    result = quantize(graph, CalibrationData(inputs_for(graph, 32)))
    assert_bit_exact(result.graph)


# --- on the emulated boards: kernels, views and the gather kernel in one model ---


def board_model() -> Graph:
    rng = np.random.default_rng(11)
    g = GraphBuilder()
    q = activation_quant(rng)
    x = g.tensor((1, 4, 4, 3), **q)
    transposed = g.tensor((1, 3, 4, 4), **q)
    g.op("TRANSPOSE", [x, _ints(g, [0, 3, 1, 2])], [transposed])
    parts = [g.tensor((1, 3, 4, 2), **q) for _ in range(2)]
    g.op("SPLIT", [_ints(g, [3]), transposed], parts, num_splits=2)
    reversed_ = g.tensor((1, 3, 4, 2), **q)
    g.op("REVERSE_V2", [parts[0], _ints(g, [1, 2])], [reversed_])
    picked = g.tensor((1, 3, 3, 2), **q)
    g.op("GATHER", [parts[1], _ints(g, [2, 0, 3])], [picked], axis=2, batch_dims=0)
    batches = g.tensor((6, 1, 2, 2), **q)
    g.op("SPACE_TO_BATCH_ND", [reversed_, _ints(g, [3, 2]), _ints(g, [[0, 0], [0, 0]])], [batches])
    flat = g.tensor((1, 24), **q)
    g.op("RESHAPE", [batches], [flat])
    return g.build([x], [flat, picked])


def test_board_model_is_what_it_should_exercise():
    kernels = compile_model(loaded(board_model(), "board")).lowered.kernels
    assert kernels == ["tg_gather", "tg_move_s8"]


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_on_emulated_boards(qemu_ready, board_id, tmp_path: Path):
    result = verify_on_board(board_model(), board_id, tmp_path)
    assert result.bit_exact, result.summary()
