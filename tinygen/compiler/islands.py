"""Float islands: where a converter left element-wise ops in float between a DEQUANTIZE of an int8
tensor and a QUANTIZE back to int8 (TFLite has no int8 kernel for them, or the converter chose
float), the whole island is a function of one int8 byte. tinygen evaluates it for all 256 bytes at
compile time, with tflite-micro's float arithmetic reproduced exactly (each op record's float_exact),
and the device looks the result up in a table (TG_LOOKUP): fewer instructions than the float code,
and the same bits as tflite-micro.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..ir import Graph, Op
from ..ops import op_def

INT32_MIN = -(2**31)


def fuse_float_islands(graph: Graph) -> Graph:
    producers = graph.producers()
    readers: dict[int, int] = {}
    for op in graph.ops:
        for i in op.inputs:
            readers[i] = readers.get(i, 0) + 1
    replaced: dict[int, Op] = {}
    removed: set[int] = set()
    for op in graph.ops:
        island = _island(graph, op, producers, readers)
        if island is None:
            continue
        dequantize, chain = island
        table = _table(graph, dequantize, chain, op)
        replaced[op.index] = Op(op.index, "TG_LOOKUP", (dequantize.inputs[0],), op.outputs, {"table": table})
        removed |= {dequantize.index, *(p.index for p in chain)}
    if not replaced:
        return graph
    ops = [replaced.get(op.index, op) for op in graph.ops if op.index not in removed]
    return dataclasses.replace(graph, ops=ops)


def _island(graph: Graph, quantize: Op, producers, readers) -> tuple[Op, list[Op]] | None:
    """(the DEQUANTIZE, the float ops after it in order) when `quantize` closes an island."""
    if quantize.kind != "QUANTIZE":
        return None
    target = graph.tensor(quantize.outputs[0])
    if target.dtype != "int8" or target.quant is None or target.quant.per_channel:
        return None  # not an island: lowering refuses what is wrong
    chain, tensor = [], quantize.inputs[0]
    while True:
        if readers.get(tensor) != 1 or tensor in graph.outputs or graph.tensor(tensor).dtype != "float32":
            return None  # the float value is needed elsewhere: no island
        producer = producers.get(tensor)
        if producer is None:
            return None
        if producer.kind == "DEQUANTIZE":
            source = graph.tensor(producer.inputs[0])
            ok = source.dtype == "int8" and source.quant is not None and not source.quant.per_channel
            return (producer, chain[::-1]) if ok and chain else None
        record = op_def(producer.kind)
        if record is None or record.float_exact is None or len(producer.inputs) != 1 or len(producer.outputs) != 1:
            return None
        chain.append(producer)
        tensor = producer.inputs[0]


def _table(graph: Graph, dequantize: Op, chain: list[Op], quantize: Op) -> np.ndarray:
    source, target = graph.tensor(dequantize.inputs[0]), graph.tensor(quantize.outputs[0])
    q = np.arange(-128, 128)
    # DEQUANTIZE: the scale (a double in tflite-micro) times (q - zero point), narrowed to float32
    # (beyond its range, to infinity, as in C).
    with np.errstate(over="ignore"):
        values = (np.float64(source.scale) * (q - source.zero_point)).astype(np.float32)
    for op in chain:
        values = op_def(op.kind).float_exact(values)
    # QUANTIZE: float32 division, round half away from zero, convert to int32, add the zero point, int8.
    with np.errstate(all="ignore"):
        scaled = (values / np.float32(target.scale)).astype(np.float64)
        rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
        # Where the conversion is undefined in C (NaN, infinite, beyond int32), the x86 build of the
        # reference interpreter gets INT32_MIN, and the zero point's addition wraps.
        undefined = ~np.isfinite(rounded) | (np.abs(rounded) >= 2.0**31)
        integers = np.where(undefined, INT32_MIN, np.nan_to_num(rounded)).astype(np.int64) + target.zero_point
        integers = np.where(undefined, (integers + 2**31) % 2**32 - 2**31, integers)
    out = np.clip(integers, -128, 127).astype(np.int8)
    table = np.zeros(256, np.int8)
    table[q & 0xFF] = out
    return table
