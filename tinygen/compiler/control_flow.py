"""Control flow resolved at compile time: a WHILE whose trip count is known then is unrolled, an IF
whose condition is a constant is inlined, and the model becomes one graph that every later stage
(the quantizer, folding, lowering, the memory plan) treats like any other.

What converters write for a recurrent layer (the TensorFlow converter's Keras 3 SimpleRNN, GRU and
LSTM): a WHILE carrying two int32 counters that start at constant 0, the state and the input
sequence; a condition subgraph LESS(counter, steps) AND LESS(counter, steps); a body that adds 1 to
each counter, GATHERs the step's input at a counter and computes the cell. tflite-micro's WHILE
(kernels/while.cc) runs the condition on the carried values and, while it is true, the body, whose
outputs it copies back as the next step's inputs; IF (kernels/if.cc) runs the branch its boolean
scalar picks.

Here the condition is evaluated on the carried values (folded: the counters are constants), and
while it holds, the body's ops are copied into the graph for that step:
- each body activation gets a new tensor per step (its name with @step); the step's inputs are the
  values the step before left, its outputs those the next step reads;
- each body constant becomes one constant of the graph, which every step reads: the weights are in
  flash once, whatever the trip count;
- ops whose inputs are all constants are folded as they are copied: the counters, and the GATHER of
  the step's input at a constant index (which lowering makes a view, no copy).
After unrolling, ops that several steps repeat on the same inputs (a body computing a loop invariant:
the converter's int8 models quantize the whole input sequence in every step) are merged into one.

Refused, in one line saying what and why: a condition that reads a value computed on the device (a
trip count known only at run time), a loop that runs more than MAX_STEPS steps, a subgraph that runs
itself (recursion), an IF on a computed condition, state (variable tensors) inside a subgraph.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import TinygenError
from ..ir import Graph, Op, Tensor
from .fold import fold_op

CONTROL_FLOW = ("WHILE", "IF")
# Every step's ops are copied: beyond this, the unrolled code would not fit a microcontroller anyway.
MAX_STEPS = 1000


def resolve_control_flow(graph: Graph) -> Graph:
    """The graph with every WHILE unrolled and every IF inlined (unchanged without control flow)."""
    if not any(op.kind in CONTROL_FLOW for op in graph.ops):
        return graph
    unroller = _Unroller(graph)
    main = _Scope(graph, 0, "", {i: i for i in range(len(graph.tensors))})
    for op in graph.ops:
        unroller.emit(op, main, path=())
    outputs = tuple(unroller.tensor(main, i) for i in graph.outputs)
    unrolled = Graph(unroller.tensors, unroller.ops, graph.inputs, outputs, graph.description)
    return merge_repeated_ops(unrolled)


@dataclasses.dataclass
class _Scope:
    """One run of a subgraph: where its tensors live in the graph being built."""

    graph: Graph
    index: int  # the subgraph's index in the model (0: main)
    label: str  # "@3" for step 3 of a loop ("@3@0" nested), "" in the main subgraph
    mapping: dict[int, int]  # the subgraph's tensor -> the unrolled graph's


class _Unroller:
    def __init__(self, graph: Graph) -> None:
        self.model = graph
        self.tensors: list[Tensor] = list(graph.tensors)
        self.ops: list[Op] = []
        self.next_op = max((op.index for op in graph.ops), default=-1) + 1
        self.shared: dict[tuple[int, int], int] = {}  # (subgraph, constant) -> its one copy
        self.graph_outputs = set(graph.outputs)

    # --- tensors ---

    def tensor(self, scope: _Scope, t: int) -> int:
        """Where the scope's tensor t lives, made on first use: a constant once for every step, an
        activation once per step."""
        if t < 0 or t in scope.mapping:
            return scope.mapping.get(t, t)
        source = scope.graph.tensor(t)
        if source.is_variable:
            raise TinygenError(
                f"subgraph {scope.index} holds variable tensor {source.name} (state kept between invokes); "
                "tinygen unrolls loops and inlines branches of stateless ops only"
            )
        key = (scope.index, t)
        if source.is_constant and key in self.shared:
            scope.mapping[t] = self.shared[key]
            return self.shared[key]
        index = len(self.tensors)
        name = source.name if source.is_constant else f"{source.name}{scope.label}"
        self.tensors.append(dataclasses.replace(source, index=index, name=name, copy_of=key))
        if source.is_constant:
            self.shared[key] = index
        scope.mapping[t] = index
        return index

    def bind(self, scope: _Scope, outputs: tuple[int, ...], values: list[int], op: Op) -> None:
        """The op's outputs are these values: later ops of the scope read them instead."""
        for out, value in zip(outputs, values):
            self.require_alike(op, scope.graph.tensor(out), self.tensors[value], "output")
            scope.mapping[out] = value

    def require_alike(self, op: Op, declared: Tensor, value: Tensor, role: str) -> None:
        """tflite-micro copies the bytes between subgraphs: the tensors must agree on what they hold."""
        if (declared.dtype, declared.shape, declared.quant) != (value.dtype, value.shape, value.quant):
            raise TinygenError(
                f"op {op.index} ({op.kind}): {role} {declared.name} is {_describe(declared)} but receives "
                f"{value.name}, {_describe(value)}; tinygen needs the values passed between subgraphs unchanged"
            )

    # --- ops ---

    def emit(self, op: Op, scope: _Scope, path: tuple[int, ...]) -> None:
        """Copy one op of the scope into the graph: unrolled, inlined, folded or as it is."""
        if op.kind == "WHILE":
            return self.unroll(op, scope, path)
        if op.kind == "IF":
            return self.branch(op, scope, path)
        index = op.index  # the main subgraph's ops keep theirs (verify traces them in the reference)
        if scope.index != 0:
            index, self.next_op = self.next_op, self.next_op + 1
        inputs = tuple(self.tensor(scope, i) for i in op.inputs)
        outputs = tuple(self.tensor(scope, o) for o in op.outputs)
        copy = Op(index, op.kind, inputs, outputs, op.options)
        if copy.kind == "SLICE" and scope.index != 0:
            self.require_fixed_slice(copy, op.index, scope)
        values = None if set(outputs) & self.graph_outputs else fold_op(copy, self.tensors)
        if values is None:
            self.ops.append(copy)
            return
        for o, data in zip(outputs, values):
            self.tensors[o] = dataclasses.replace(self.tensors[o], data=data)

    def require_fixed_slice(self, op: Op, index: int, scope: _Scope) -> None:
        """A SLICE whose size the step decides (how a converter writes a TensorArray: each step
        slices the sequence before and after its row) has a shape the model does not declare:
        tflite-micro sizes it at run time; tinygen's tensors have one shape."""
        x, begin, size = (self.tensors[i] for i in op.inputs[:3])
        out = self.tensors[op.outputs[0]]
        shape = None
        if begin.is_constant and size.is_constant and len(x.shape) == begin.data.size == size.data.size:
            starts, sizes = begin.data.reshape(-1), size.data.reshape(-1)
            shape = tuple(int(n) if n >= 0 else d - int(b) for d, b, n in zip(x.shape, starts, sizes))
        if shape != out.shape:
            found = f"the shape {list(shape)}" if shape else "a shape computed in the loop"
            raise TinygenError(
                f"op {index} (SLICE) of subgraph {scope.index} gives {out.name} {found}, not its declared "
                f"{list(out.shape)}: the loop builds a sequence whose shapes change from step to step (a recurrent "
                "layer's return_sequences); tinygen unrolls loops whose tensors keep one shape"
            )

    def unroll(self, op: Op, scope: _Scope, path: tuple[int, ...]) -> None:
        cond_index, body_index = op.options["cond_subgraph_index"], op.options["body_subgraph_index"]
        cond, body = self.subgraph(op, cond_index, path), self.subgraph(op, body_index, path)
        count = len(op.inputs)
        arity = (len(op.outputs), len(cond.inputs), len(body.inputs), len(body.outputs))
        if arity != (count,) * 4 or len(cond.outputs) != 1:
            raise TinygenError(
                f"op {op.index} (WHILE) carries {count} values, but has {len(op.outputs)} outputs, its condition "
                f"{len(cond.inputs)} inputs and {len(cond.outputs)} outputs, its body {len(body.inputs)} inputs "
                f"and {len(body.outputs)} outputs (tflite-micro's Prepare refuses it)"
            )
        values = [self.tensor(scope, i) for i in op.inputs]
        for step in range(MAX_STEPS + 1):
            for sub, role in ((cond, "condition input"), (body, "body input")):
                for declared, value in zip(sub.inputs, values):
                    self.require_alike(op, sub.tensor(declared), self.tensors[value], role)
            if not self.condition(op, cond_index, cond, values):
                break
            if step == MAX_STEPS:
                raise TinygenError(
                    f"op {op.index} (WHILE) runs more than {MAX_STEPS} steps; tinygen unrolls loops of up to "
                    f"{MAX_STEPS} (each step's ops are copied into the firmware)"
                )
            inner = _Scope(body, body_index, f"{scope.label}@{step}", dict(zip(body.inputs, values)))
            for body_op in body.ops:
                self.emit(body_op, inner, (*path, body_index))
            values = [self.tensor(inner, o) for o in body.outputs]
        self.bind(scope, op.outputs, values, op)

    def condition(self, op: Op, index: int, cond: Graph, values: list[int]) -> bool:
        """The condition subgraph evaluated at compile time on the carried values."""
        tensors = list(cond.tensors)
        for i, value in zip(cond.inputs, values):
            tensors[i] = dataclasses.replace(tensors[i], data=self.tensors[value].data)
        for c in cond.ops:
            result = fold_op(c, tensors)
            if result is None:
                computed = [tensors[i] for i in c.inputs if i >= 0 and not tensors[i].is_constant]
                what = (
                    f"reads {computed[0].name}, a value computed on the device, so the trip count is known only "
                    "at run time"
                    if computed
                    else f"computes {c.kind}, which tinygen cannot evaluate at compile time"
                )
                raise TinygenError(
                    f"op {op.index} (WHILE): its condition (subgraph {index}, op {c.index}) {what}; tinygen "
                    "unrolls a WHILE whose condition depends on constants only (a counter with constant "
                    "start, limit and step)"
                )
            for o, data in zip(c.outputs, result):
                tensors[o] = dataclasses.replace(tensors[o], data=data)
        out = tensors[cond.outputs[0]]
        if out.dtype != "bool" or out.data is None or out.data.size != 1:
            raise TinygenError(f"op {op.index} (WHILE): its condition gives {_describe(out)}, not one bool")
        return bool(out.data.reshape(-1)[0])

    def branch(self, op: Op, scope: _Scope, path: tuple[int, ...]) -> None:
        if not op.inputs:
            raise TinygenError(f"op {op.index} (IF) has no condition input")
        condition = self.tensors[self.tensor(scope, op.inputs[0])]
        if condition.dtype != "bool" or condition.size != 1:
            raise TinygenError(
                f"op {op.index} (IF): its condition {condition.name} is {_describe(condition)}, not one bool"
            )
        if not condition.is_constant:
            raise TinygenError(
                f"op {op.index} (IF): its condition {condition.name} is computed on the device; tinygen inlines "
                "an IF only when its condition is a constant"
            )
        taken = op.options["then_subgraph_index" if condition.data.reshape(-1)[0] else "else_subgraph_index"]
        branch = self.subgraph(op, taken, path)
        values = [self.tensor(scope, i) for i in op.inputs[1:]]
        if (len(branch.inputs), len(branch.outputs)) != (len(values), len(op.outputs)):
            raise TinygenError(
                f"op {op.index} (IF) passes {len(values)} values and takes {len(op.outputs)}, but subgraph {taken} "
                f"has {len(branch.inputs)} inputs and {len(branch.outputs)} outputs"
            )
        for declared, value in zip(branch.inputs, values):
            self.require_alike(op, branch.tensor(declared), self.tensors[value], "branch input")
        inner = _Scope(branch, taken, scope.label, dict(zip(branch.inputs, values)))
        for branch_op in branch.ops:
            self.emit(branch_op, inner, (*path, taken))
        self.bind(scope, op.outputs, [self.tensor(inner, o) for o in branch.outputs], op)

    def subgraph(self, op: Op, index: int, path: tuple[int, ...]) -> Graph:
        if index not in self.model.subgraphs:
            raise TinygenError(f"op {op.index} ({op.kind}) runs subgraph {index}, which the model does not have")
        if index in path:
            raise TinygenError(
                f"op {op.index} ({op.kind}) runs subgraph {index} from within itself (recursion); tinygen "
                "resolves control flow at compile time and cannot unroll that"
            )
        return self.model.subgraphs[index]


def _describe(t: Tensor) -> str:
    quant = f" (scale {t.quant.scale[0]:g}, zero point {t.quant.zero_point[0]})" if t.quant else ""
    return f"{t.dtype} {list(t.shape)}{quant}"


def merge_repeated_ops(graph: Graph) -> Graph:
    """One op for ops that compute the same thing: the same kind, inputs and options, and outputs
    typed alike. Later readers of the repeats read the first one's outputs. Ops on state (a variable
    tensor) and those writing a model output stay as they are."""
    first: dict[tuple, Op] = {}
    rename: dict[int, int] = {}
    ops = []
    for op in graph.ops:
        op = dataclasses.replace(op, inputs=tuple(rename.get(i, i) for i in op.inputs))
        touched = [graph.tensor(i) for i in (*op.inputs, *op.outputs) if i >= 0]
        if not op.outputs or any(t.is_variable for t in touched) or set(op.outputs) & set(graph.outputs):
            ops.append(op)
            continue
        key = (op.kind, op.inputs, _options_key(op.options), tuple(_alike(graph.tensor(o)) for o in op.outputs))
        if key in first:
            rename.update(zip(op.outputs, first[key].outputs))
            continue
        first[key] = op
        ops.append(op)
    return dataclasses.replace(graph, ops=ops)


def _alike(t: Tensor) -> tuple:
    return (t.dtype, t.shape, t.quant)


def _options_key(options: dict) -> tuple:
    return tuple(
        (name, (value.dtype.str, value.shape, value.tobytes()) if isinstance(value, np.ndarray) else value)
        for name, value in sorted(options.items())
    )
