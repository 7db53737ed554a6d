"""Resource variables: READ_VARIABLE copies a variable's bytes out, ASSIGN_VARIABLE copies a value in
(tflite-micro's read_variable.cc and assign_variable.cc move bytes, whatever the type).

The graph the reference runs has its variables resolved by the reader: each VAR_HANDLE's variable is
a variable tensor whose initial value is what CALL_ONCE's subgraph assigns it, and the interpreter
starts each sequence from that value (a new tflite-micro interpreter runs CALL_ONCE on its first
invoke). So VAR_HANDLE and CALL_ONCE never reach a kernel here; if one does, it is refused.
"""

from __future__ import annotations

import numpy as np

from .registry import Node, kernel


def _variable(node: Node) -> None:
    if not node.inputs[0].is_variable:
        node.refuse(f"input 0 (tensor {node.inputs[0].index}) is not a variable")


@kernel("READ_VARIABLE")
def read_variable(node: Node):
    _variable(node)
    source, target = node.inputs[0], node.output
    if source.dtype != target.dtype or source.size != target.size:
        node.refuse(f"a {source.dtype} {list(source.shape)} variable read into {target.dtype} {list(target.shape)}")

    def run(values):
        return [values[0].copy()]  # a copy: a later ASSIGN_VARIABLE must not change what was read

    return run


@kernel("ASSIGN_VARIABLE")
def assign_variable(node: Node):
    _variable(node)
    target, source = node.inputs[0], node.inputs[1]
    if source.dtype != target.dtype or source.size != target.size:
        node.refuse(f"a {source.dtype} {list(source.shape)} value assigned to {target.dtype} {list(target.shape)}")

    def run(values):
        values[0][...] = np.asarray(values[1]).reshape(values[0].shape)
        return []

    return run


@kernel("VAR_HANDLE", "CALL_ONCE")
def resolved_when_read(node: Node):
    node.refuse("the reader resolves resource variables into variable tensors; a graph cannot hold it")
