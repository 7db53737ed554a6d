"""GraphBuilder: assemble a Graph tensor by tensor, for the quantizer and for tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .ir import NUMPY_DTYPES, Graph, Op, Quant, Tensor


class GraphBuilder:
    def __init__(self, description: str = "") -> None:
        self.tensors: list[Tensor] = []
        self.ops: list[Op] = []
        self.description = description

    def tensor(
        self,
        shape: Sequence[int],
        dtype: str = "int8",
        scale: float | Sequence[float] | None = None,
        zero_point: int | Sequence[int] = 0,
        data: np.ndarray | None = None,
        axis: int = 0,
        name: str | None = None,
        variable: bool = False,
    ) -> int:
        """Add a tensor; a sequence of scales makes it per-channel along `axis`; `variable` makes it
        state that an op updates from one inference to the next."""
        quant = None
        if scale is not None:
            scales = tuple(float(np.float32(s)) for s in np.atleast_1d(scale))
            zero_points = tuple(int(z) for z in np.broadcast_to(np.atleast_1d(zero_point), (len(scales),)))
            quant = Quant(scales, zero_points, axis)
        if data is not None:
            data = np.asarray(data, dtype=NUMPY_DTYPES[dtype]).reshape(tuple(shape))
        index = len(self.tensors)
        shape = tuple(int(d) for d in shape)
        self.tensors.append(Tensor(index, name or f"t{index}", shape, dtype, quant, data, is_variable=variable))
        return index

    def const(self, data: np.ndarray, dtype: str, **quant) -> int:
        data = np.asarray(data)
        return self.tensor(data.shape, dtype, data=data, **quant)

    def op(self, kind: str, inputs: Sequence[int], outputs: Sequence[int], **options) -> int:
        self.ops.append(Op(len(self.ops), kind, tuple(inputs), tuple(outputs), dict(options)))
        return len(self.ops) - 1

    def build(self, inputs: Sequence[int], outputs: Sequence[int]) -> Graph:
        return Graph(list(self.tensors), list(self.ops), tuple(inputs), tuple(outputs), self.description)
