"""Mutants of valid .tflite files for the fuzz tests: random bytes flipped, or one field of the model
changed through tflite-micro's flatbuffer object API (shapes, quantization, options, opcodes, tensor
indices, buffers, small constants, op order). Each mutant is a pure function of the seed and a generator."""

from __future__ import annotations

import copy
from collections.abc import Callable

import flatbuffers
import numpy as np

# Values that break assumptions: zero, negative, one, powers of two around the int32 limits.
INTS = (0, -1, 1, 2, 3, 7, 64, 255, 256, 2**15, 2**16 + 1, 2**30, 2**31 - 1, -(2**31))
FLOATS = (0.0, -0.0, -1.0, 1e-45, 1e-30, 1e-10, 1.0, 1e10, 1e38, float("inf"), float("-inf"), float("nan"))


def _schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated

    return schema_py_generated


def unpack(data: bytes):
    return _schema().ModelT.InitFromPackedBuf(bytearray(data), 0)


def pack(model) -> bytes:
    b = flatbuffers.Builder(0)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def _int(rng: np.random.Generator, around: int = 0) -> int:
    if rng.random() < 0.6:
        return int(rng.choice(INTS))
    return int(around + rng.integers(-3, 4))


def _pick(rng: np.random.Generator, items: list):
    return items[int(rng.integers(len(items)))] if items else None


def _tensors(m) -> list:
    return m.subgraphs[0].tensors or []


def _ops(m) -> list:
    return m.subgraphs[0].operators or []


def _quantized(m) -> list:
    return [t for t in _tensors(m) if t.quantization is not None and t.quantization.scale is not None]


def mutate_shape(m, rng) -> str:
    t = _pick(rng, [t for t in _tensors(m) if t.shape is not None and len(t.shape)])
    if t is None:
        return ""
    shape = [int(d) for d in t.shape]
    if rng.random() < 0.2:
        shape = shape[:-1] if rng.random() < 0.5 else [*shape, _int(rng, 1)]
    else:
        axis = int(rng.integers(len(shape)))
        shape[axis] = _int(rng, shape[axis])
    t.shape = shape
    t.shapeSignature = None
    return f"tensor {t.name!r} shape -> {shape}"


def mutate_scale(m, rng) -> str:
    t = _pick(rng, _quantized(m))
    if t is None:
        return ""
    q = t.quantization
    scales = [float(s) for s in q.scale]
    if rng.random() < 0.2:
        scales = scales[:-1] if rng.random() < 0.5 else [*scales, 1.0]
    else:
        i = int(rng.integers(len(scales)))
        scales[i] = float(rng.choice(FLOATS)) if rng.random() < 0.7 else scales[i] * float(rng.choice((0.5, 2.0, 1e6)))
    q.scale = scales
    return f"tensor {t.name!r} scales -> {scales[:4]}"


def mutate_zero_point(m, rng) -> str:
    t = _pick(rng, _quantized(m))
    if t is None:
        return ""
    q = t.quantization
    zero_points = [int(z) for z in (q.zeroPoint if q.zeroPoint is not None else [0] * len(q.scale))]
    if rng.random() < 0.2 or not zero_points:
        zero_points = zero_points[:-1] if rng.random() < 0.5 else [*zero_points, 0]
    else:
        zero_points[int(rng.integers(len(zero_points)))] = int(rng.choice((-129, -128, 127, 128, 255, 65536, -(2**40))))
    q.zeroPoint = zero_points
    return f"tensor {t.name!r} zero points -> {zero_points[:4]}"


def mutate_axis(m, rng) -> str:
    t = _pick(rng, _quantized(m))
    if t is None:
        return ""
    t.quantization.quantizedDimension = _int(rng, t.quantization.quantizedDimension)
    return f"tensor {t.name!r} quantized dimension -> {t.quantization.quantizedDimension}"


def mutate_type(m, rng) -> str:
    t = _pick(rng, _tensors(m))
    if t is None:
        return ""
    t.type = int(rng.integers(0, 18))
    return f"tensor {t.name!r} type -> {t.type}"


def mutate_option(m, rng) -> str:
    op = _pick(rng, [op for op in _ops(m) if op.builtinOptions is not None and vars(op.builtinOptions)])
    if op is None:
        return ""
    options = op.builtinOptions
    field = _pick(rng, sorted(vars(options)))
    old = getattr(options, field)
    if isinstance(old, bool):
        new = not old
    elif isinstance(old, float):
        new = float(rng.choice(FLOATS))
    elif isinstance(old, (int, np.integer)):
        new = _int(rng, int(old)) if rng.random() < 0.7 else int(rng.integers(-2, 8))
    elif old is None or isinstance(old, (list, np.ndarray)):
        new = [_int(rng) for _ in range(int(rng.integers(0, 5)))]
    else:
        return ""
    setattr(options, field, new)
    return f"op {_ops(m).index(op)} option {field} -> {new}"


def mutate_opcode(m, rng) -> str:
    code = _pick(rng, m.operatorCodes or [])
    if code is None:
        return ""
    used = sorted({c.deprecatedBuiltinCode for c in m.operatorCodes} | {c.builtinCode for c in m.operatorCodes})
    value = _pick(rng, used) if rng.random() < 0.5 else int(rng.integers(0, 210))
    if rng.random() < 0.5:
        code.deprecatedBuiltinCode = min(value, 127)
    else:
        code.builtinCode = value
    return f"opcode {m.operatorCodes.index(code)} -> ({code.deprecatedBuiltinCode}, {code.builtinCode})"


def _index(rng, count: int) -> int:
    return int(rng.integers(-2, count + 2)) if rng.random() < 0.5 else int(rng.integers(0, max(count, 1)))


def mutate_tensor_index(m, rng) -> str:
    g = m.subgraphs[0]
    count = len(_tensors(m))
    holders = [(op, name) for op in _ops(m) for name in ("inputs", "outputs")] + [(g, "inputs"), (g, "outputs")]
    holder, name = _pick(rng, holders)
    indices = [int(i) for i in (getattr(holder, name) if getattr(holder, name) is not None else [])]
    roll = rng.random()
    if roll < 0.15:
        indices = indices[:-1]
    elif roll < 0.3 or not indices:
        indices.append(_index(rng, count))
    else:
        indices[int(rng.integers(len(indices)))] = _index(rng, count)
    setattr(holder, name, indices)
    return f"{type(holder).__name__} {name} -> {indices[:8]}"


def mutate_opcode_index(m, rng) -> str:
    op = _pick(rng, _ops(m))
    if op is None:
        return ""
    op.opcodeIndex = _index(rng, len(m.operatorCodes or []))
    return f"op {_ops(m).index(op)} opcode index -> {op.opcodeIndex}"


def mutate_buffer(m, rng) -> str:
    roll = rng.random()
    if roll < 0.3:
        t = _pick(rng, _tensors(m))
        t.buffer = _index(rng, len(m.buffers or []))
        return f"tensor {t.name!r} buffer -> {t.buffer}"
    b = _pick(rng, [b for b in m.buffers or [] if b.data is not None and len(b.data)])
    if b is None:
        return ""
    size = len(b.data)
    if roll < 0.8:
        new = int(rng.choice((0, 1, size - 1, size // 2, size + 1, size * 2)))
    else:
        new = int(rng.integers(0, size + 8))
    b.data = np.resize(np.asarray(b.data, np.uint8), max(new, 0))
    return f"buffer of {size} bytes -> {new}"


def mutate_constant(m, rng) -> str:
    """One value of a small integer constant: an axis, a shape, paddings, indices, a bias."""
    itemsize = {2: 4, 4: 8}  # INT32, INT64
    buffers = m.buffers or []
    t = _pick(
        rng,
        [
            t
            for t in _tensors(m)
            if t.type in itemsize
            and 0 < t.buffer < len(buffers)
            and buffers[t.buffer].data is not None
            and 0 < len(buffers[t.buffer].data) <= 64
            and len(buffers[t.buffer].data) % itemsize[t.type] == 0
        ],
    )
    if t is None:
        return ""
    dtype = np.int32 if t.type == 2 else np.int64
    values = np.frombuffer(np.asarray(m.buffers[t.buffer].data, np.uint8).tobytes(), dtype).copy()
    i = int(rng.integers(len(values)))
    values[i] = _int(rng, int(values[i]))
    m.buffers[t.buffer].data = np.frombuffer(values.tobytes(), np.uint8).copy()
    return f"tensor {t.name!r} values -> {values.tolist()[:8]}"


def mutate_structure(m, rng) -> str:
    ops = _ops(m)
    if len(ops) < 2:
        return ""
    i, j = (int(v) for v in rng.choice(len(ops), 2, replace=False))
    if rng.random() < 0.5:
        ops[i], ops[j] = ops[j], ops[i]
        return f"ops {i} and {j} swapped"
    del ops[i]
    return f"op {i} removed"


MUTATIONS: tuple[Callable, ...] = (
    mutate_shape,
    mutate_scale,
    mutate_zero_point,
    mutate_axis,
    mutate_type,
    mutate_option,
    mutate_option,
    mutate_opcode,
    mutate_tensor_index,
    mutate_opcode_index,
    mutate_buffer,
    mutate_constant,
    mutate_constant,
    mutate_structure,
)


def flip_bytes(data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    out = bytearray(data)
    positions = rng.integers(0, len(out), int(rng.integers(1, 9)))
    for p in positions:
        out[p] = int(rng.integers(0, 256)) if rng.random() < 0.5 else out[p] ^ (1 << int(rng.integers(0, 8)))
    return bytes(out), f"bytes flipped at {sorted(int(p) for p in positions)}"


def mutant(model, data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    """One mutant of the seed (its object tree `model`, its bytes `data`) and what was changed."""
    if rng.random() < 0.25:
        return flip_bytes(data, rng)
    for _ in range(20):  # a mutation may not apply (no quantized tensor) or not fit its field's type
        m = copy.deepcopy(model)
        done = [d for d in (rng.choice(MUTATIONS)(m, rng) for _ in range(int(rng.integers(1, 3)))) if d]
        if not done:
            continue
        try:
            return pack(m), "; ".join(done)
        except Exception:
            continue
    return flip_bytes(data, rng)
