"""Data movement as copy plans: what every op of the family lowers, folds and runs in float through.

Every op of this family only moves elements. Lowering describes what it moves as a Plan: a few
strided blocks, each copying an index box of one input to an index box of the output region
(element offsets plus one (extent, input stride, output stride) per dimension; a negative input
stride reverses). An op with several outputs writes one region holding them one after the other.
One plan then gives all three evaluations:
- on the device: a view when each output is one contiguous range of a single input (no code, no
  bytes), else tg_move_<type> (firmware/tg_movement.c) running the program;
- constant folding: the same plan on numpy arrays;
- the quantizer's float reference: the plan run on each sample of the batch.
Dimensions that are contiguous for both sides are merged first, so the common cases are one
memcpy per block. Element sizes, not types, matter: any dtype tflite-micro takes moves the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, View
from ..ir import NUMPY_DTYPES, Graph, Op, Tensor
from .checks import require
from .record import ACTIVATION, PARAM, OpDef, Quantization

MAX_WALK_RANK = 8  # TG_MOVE_MAX_RANK
VIEW_TEST_ELEMENTS = 1 << 24  # the most output elements _views looks at one by one
# The C element type of each dtype -> the kernel's suffix (bool is a byte, like uint8).
KERNEL_SUFFIX = {
    "int8": "s8",
    "uint8": "u8",
    "bool": "u8",
    "int16": "s16",
    "int32": "s32",
    "int64": "s64",
    "float32": "f32",
}


@dataclass(frozen=True)
class MoveParams:
    C_TYPE = "tg_move_params"
    C_FILE = "tg_movement.c"
    element_size: int  # bytes
    rank: int  # dimensions of every block of the program
    blocks: int


@dataclass(frozen=True)
class Block:
    """Output element out_offset + sum(i_k * out_stride_k) <- element in_offset + sum(i_k * in_stride_k)
    of input `source`, for every index (i_k < extent_k); dims are (extent, in_stride, out_stride)."""

    source: int
    in_offset: int
    out_offset: int
    dims: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class Plan:
    blocks: tuple[Block, ...]
    out_shapes: tuple[tuple[int, ...], ...]  # the outputs, laid out one after the other; every element written


def row_major_strides(shape) -> tuple[int, ...]:
    strides, step = [], 1
    for extent in reversed(tuple(shape)):
        strides.append(step)
        step *= int(extent)
    return tuple(reversed(strides))


def gather_block(extents, in_strides, in_offset: int = 0, out_offset: int = 0, source: int = 0) -> Block:
    """A block writing its box of `extents` to the output contiguously, reading the input with in_strides."""
    out_strides = row_major_strides(extents)
    dims = tuple((int(e), int(s), o) for e, s, o in zip(extents, in_strides, out_strides))
    return Block(source, int(in_offset), int(out_offset), dims)


def single_plan(block: Block, out_shape) -> Plan:
    return Plan((block,), (tuple(int(d) for d in out_shape),))


def simplified(block: Block) -> Block:
    """Drop dimensions of extent 1 and merge each dimension into the next where both sides step contiguously."""
    dims = [d for d in block.dims if d[0] != 1]
    merged: list[tuple[int, int, int]] = []
    for extent, s_in, s_out in reversed(dims):
        if merged and s_in == merged[0][1] * merged[0][0] and s_out == merged[0][2] * merged[0][0]:
            inner = merged[0]
            merged[0] = (extent * inner[0], inner[1], inner[2])
        else:
            merged.insert(0, (extent, s_in, s_out))
    return dataclasses.replace(block, dims=tuple(merged))


def fused(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
    """Runs of consecutive blocks that differ only by constant offset steps, as one block with an outer dimension."""
    out: list[Block] = []
    run: list[Block] = []

    def flush() -> None:
        if len(run) == 1:
            out.append(run[0])
        elif run:
            step = (run[1].in_offset - run[0].in_offset, run[1].out_offset - run[0].out_offset)
            out.append(dataclasses.replace(run[0], dims=((len(run), *step), *run[0].dims)))

    for block in blocks:
        if run and (block.source, block.dims) == (run[0].source, run[0].dims):
            step = (block.in_offset - run[-1].in_offset, block.out_offset - run[-1].out_offset)
            if len(run) == 1 or step == (run[1].in_offset - run[0].in_offset, run[1].out_offset - run[0].out_offset):
                run.append(block)
                continue
        flush()
        run = [block]
    flush()
    return tuple(out)


def optimized(plan: Plan) -> Plan:
    blocks = tuple(simplified(b) for b in plan.blocks)
    return dataclasses.replace(plan, blocks=tuple(simplified(b) for b in fused(blocks)))


# --- evaluation on numpy arrays (folding, the float reference, the view test) ---


def _indices(offset: int, extents, strides) -> np.ndarray:
    index = np.array(offset, dtype=np.int64)
    for extent, stride in zip(extents, strides):
        index = index[..., None] + np.arange(extent, dtype=np.int64) * stride
    return index.reshape(-1)


def _region_size(plan: Plan) -> int:
    return sum(int(np.prod(s, dtype=np.int64)) for s in plan.out_shapes)


def _copies(plan: Plan):
    """Per block: (its source, the output indices it writes, the source indices it reads)."""
    for b in plan.blocks:
        extents = [d[0] for d in b.dims]
        yield (
            b.source,
            _indices(b.out_offset, extents, [d[2] for d in b.dims]),
            _indices(b.in_offset, extents, [d[1] for d in b.dims]),
        )


def _outputs(plan: Plan, region: np.ndarray) -> list[np.ndarray]:
    outputs, start = [], 0
    for shape in plan.out_shapes:
        size = int(np.prod(shape, dtype=np.int64))
        outputs.append(region[start : start + size].reshape(shape))
        start += size
    return outputs


def evaluate(plan: Plan, sources: list[np.ndarray], fill=0) -> list[np.ndarray]:
    """The plan run on arrays: each output's values."""
    flat = [np.asarray(s).reshape(-1) for s in sources]
    region = np.full(_region_size(plan), fill, dtype=flat[0].dtype if flat else np.int64)
    for source, written, read in _copies(plan):
        region[written] = flat[source][read]
    return _outputs(plan, region)


def _views(plan: Plan) -> list[int] | None:
    """Element offsets where each output lies in the single input, when each is one contiguous range.
    Found element by element: above VIEW_TEST_ELEMENTS (no microcontroller holds such tensors) the
    answer is None, and the op copies."""
    if any(b.source != 0 for b in plan.blocks) or _region_size(plan) > VIEW_TEST_ELEMENTS:
        return None
    region = np.full(_region_size(plan), -1, dtype=np.int64)  # the input index of each output element
    for _, written, read in _copies(plan):
        region[written] = read
    offsets = []
    for where in _outputs(plan, region):
        where = where.reshape(-1)
        if where[0] < 0 or not np.array_equal(where, where[0] + np.arange(where.size)):
            return None
        offsets.append(int(where[0]))
    return offsets


def plan_layer(op: Op, graph: Graph, plan: Plan, sources: tuple[int, ...]) -> Layer:
    """The layer running a plan: views of the input where the outputs are contiguous ranges of it, else
    tg_move_<type> writing the outputs' region, with the outputs after the first as views into it."""
    inputs = [graph.tensor(i) for i in sources]
    outputs = graph.op_outputs(op)
    itemsize = np.dtype(NUMPY_DTYPES[outputs[0].dtype]).itemsize
    plan = optimized(plan)
    source = inputs[0]
    shareable = len(set(sources)) == 1 and not source.is_constant
    if shareable and all(o.dtype == source.dtype and o.quant == source.quant for o in outputs):
        offsets = _views(plan)
        if offsets is not None:
            views = tuple(View(o.index, source.index, off * itemsize) for o, off in zip(outputs, offsets))
            return Layer(op, None, views=views)
    rank = max([len(b.dims) for b in plan.blocks] + [1])
    require(rank <= MAX_WALK_RANK, op, f"needs a {rank}-dimensional walk; the kernel walks {MAX_WALK_RANK}")
    program = []
    for b in plan.blocks:
        padding = ((1, 0, 0),) * (rank - len(b.dims))
        program += [b.source, b.in_offset, b.out_offset, *(v for d in padding + b.dims for v in d)]
    params = MoveParams(element_size=itemsize, rank=rank, blocks=len(plan.blocks))
    starts = np.cumsum([0] + [o.nbytes for o in outputs[:-1]])
    views = tuple(View(o.index, outputs[0].index, int(start)) for o, start in zip(outputs[1:], starts[1:]))
    args = (Arg("const", "program"), Arg("tensors", tuple(sources)), Arg("tensor", outputs[0].index))
    consts = {"program": np.array(program, dtype=np.int32)}
    return Layer(op, f"tg_move_{KERNEL_SUFFIX[outputs[0].dtype]}", params, args, consts, views=views)


# --- the op description every record of the family is built from ---

PlanFn = Callable[[Op, list[tuple[int, ...]], list[np.ndarray]], Plan]


@dataclass(frozen=True)
class Movement:
    """A data-movement op: its plan from the moved inputs' shapes and the constant parameters' values."""

    plan: PlanFn
    dtypes: tuple[str, ...]  # what tflite-micro's Eval moves
    params: tuple[tuple[int, str], ...] = ()  # (input slot, name) of each constant parameter
    data_slot: int = 0  # the moved input (every input for variadic ops)
    # (op, parameter values, output rank) -> the rank of the moved inputs; by default the output's
    input_rank: Callable[[Op, list[np.ndarray], int], int] = lambda op, params, rank: rank

    def data_slots(self, op: Op) -> tuple[int, ...]:
        param_slots = {slot for slot, _ in self.params}
        if self.data_slot < 0:
            return tuple(s for s in range(len(op.inputs)) if s not in param_slots)
        return (self.data_slot,)


def constant_param(op: Op, graph: Graph, slot: int, name: str) -> np.ndarray:
    t = graph.tensor(op.inputs[slot]) if slot < len(op.inputs) and op.inputs[slot] >= 0 else None
    require(t is not None, op, f"has no {name} input")
    require(t.is_constant, op, f"{name} must be a constant tensor (tflite-micro needs static shapes)")
    require(t.dtype in ("int32", "int64"), op, f"{name} must be an integer tensor, not {t.dtype}")
    return t.data


def check_dtypes(op: Op, tensors: list[Tensor], allowed: tuple[str, ...]) -> None:
    dtype = tensors[0].dtype
    require(dtype in allowed, op, f"moves {', '.join(allowed)} tensors; tflite-micro has no {dtype} kernel")
    for t in tensors[1:]:
        require(t.dtype == dtype, op, f"tensor {t.name} is {t.dtype}, not {dtype} like the input")


def checked_plan(op: Op, graph: Graph, spec: Movement) -> tuple[Plan, tuple[int, ...]]:
    """The plan, with every tensor checked against it; also the moved inputs' indices."""
    sources = tuple(op.inputs[s] for s in spec.data_slots(op))
    inputs = [graph.tensor(i) for i in sources]
    outputs = graph.op_outputs(op)
    check_dtypes(op, [*inputs, *outputs], spec.dtypes)
    params = [constant_param(op, graph, slot, name) for slot, name in spec.params]
    plan = spec.plan(op, [t.shape for t in inputs], params)
    expected = [tuple(s) for s in plan.out_shapes]
    require(len(outputs) == len(expected), op, f"has {len(outputs)} outputs, not {len(expected)}")
    for t, shape in zip(outputs, expected):
        require(tuple(t.shape) == shape, op, f"output {t.name} has shape {t.shape}, not {shape}")
        require(t.size > 0, op, f"output {t.name} is empty")
    return plan, sources


def lower_with(spec: Movement) -> Callable[[Op, Graph], Layer]:
    def lower(op: Op, graph: Graph) -> Layer:
        plan, sources = checked_plan(op, graph, spec)
        return plan_layer(op, graph, plan, sources)

    return lower


def fold_with(spec: Movement):
    """Folding: the plan run on the constant inputs (None while any input is computed, or is of a type
    tflite-micro does not move: lowering refuses that)."""

    def fold(op: Op, inputs: list[Tensor | None]) -> list[np.ndarray] | None:
        if any(t is None or not t.is_constant for t in inputs):
            return None
        if any(inputs[s].dtype not in spec.dtypes for s in spec.data_slots(op)):
            return None
        data = [inputs[s].data for s in spec.data_slots(op)]
        params = [inputs[slot].data for slot, _ in spec.params]
        return evaluate(spec.plan(op, [d.shape for d in data], params), data)

    return fold


def float_with(spec: Movement):
    """The float reference: the op on each sample of the batch. A moved input of rank r + 1 has the batch in
    front; one of rank r had its leading 1 replaced by the batch, unless it is a constant (no batch at all)."""

    def reference(op: Op, args: list, out: Tensor):
        params = [np.asarray(args[slot]) for slot, _ in spec.params]
        data = [np.asarray(args[s]) for s in spec.data_slots(op)]
        rank = spec.input_rank(op, params, len(out.shape))
        prepended = [x.ndim == rank + 1 for x in data]
        batch = max(x.shape[0] for x, p in zip(data, prepended) if p or not any(prepended))

        def sample(x: np.ndarray, in_front: bool, b: int) -> np.ndarray:
            if in_front:
                return x[b]
            return x[b : b + 1] if not any(prepended) and x.shape[0] == batch else x

        first = [sample(x, p, 0) for x, p in zip(data, prepended)]
        plan = spec.plan(op, [x.shape for x in first], params)
        results = [evaluate(plan, [sample(x, p, b) for x, p in zip(data, prepended)]) for b in range(batch)]
        outputs = [np.stack(values) for values in zip(*results)]
        return outputs if len(outputs) > 1 else outputs[0]

    return reference


def movement_op(name: str, spec: Movement, notes: str, **fields) -> OpDef:
    """The record of an op lowered, folded and run in float through its plan."""
    slots = [ACTIVATION] * max([slot + 1 for slot, _ in spec.params] + [spec.data_slot + 1])
    for slot, _ in spec.params:
        slots[slot] = PARAM
    if spec.data_slot < 0:  # every input is moved (PACK)
        fields.setdefault("variadic", True)
        slots = slots or [ACTIVATION]
    fields.setdefault("slots", tuple(slots))
    fields.setdefault("lower", lower_with(spec))
    fields.setdefault("quantization", Quantization(shared="first"))
    return OpDef(
        name,
        float_reference=float_with(spec),
        fold=fold_with(spec),
        notes=notes,
        **fields,
    )


def normalized_axis(op: Op, axis: int, rank: int, what: str = "axis") -> int:
    require(-rank <= axis < rank, op, f"{what} {axis} is out of range for rank {rank}")
    return axis % rank


def int_vector(op: Op, values: np.ndarray, length: int, name: str) -> list[int]:
    """A 1-D parameter of `length` values."""
    values = np.asarray(values)
    require(values.ndim == 1 and values.size == length, op, f"{name} must hold {length} values, not {values.shape}")
    return [int(v) for v in values]
