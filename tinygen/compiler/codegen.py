"""Emit model.h and model.c from the Jinja2 templates, plus the C runtime sources they need.

Everything rendered is a pure function of the lowered model and its plan: the same
model and options give byte-identical sources (no dates, no absolute paths).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__
from ..escape import c_comment, c_string
from ..ir import NUMPY_DTYPES, Graph, Tensor
from ..ops.cstruct import initializer, layout_checks
from ..resources import render, resource_dir
from .layer import Arg, Layer, LoweredModel
from .memory import MemoryPlan
from .state import StateSlot

C_TYPES = {
    "int8": "int8_t",
    "uint8": "uint8_t",
    "int16": "int16_t",
    "int32": "int32_t",
    "int64": "int64_t",
    "float32": "float",
    "bool": "uint8_t",  # TFLite's bool is one byte, 0 or 1
    "uint32": "uint32_t",
    "uint64": "uint64_t",
}
API_DTYPES = {
    "int8": "TG_INT8",
    "int32": "TG_INT32",
    "float32": "TG_FLOAT32",
    "uint8": "TG_UINT8",
    "int16": "TG_INT16",
    "bool": "TG_BOOL",
    "int64": "TG_INT64",
    "uint32": "TG_UINT32",
    "uint64": "TG_UINT64",
}
VALUES_PER_LINE = 16
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


@dataclass(frozen=True)
class GeneratedModel:
    files: dict[str, str]  # file name -> text (model.h, model.c, tg_kernels.h)
    kernel_files: dict[str, str]  # the C runtime files the model needs
    layer_functions: tuple[str, ...]  # the functions the layer table points at (tg_model_layers[i].run)

    def write(self, directory: Path) -> list[Path]:
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in {**self.kernel_files, **self.files}.items():
            path = directory / name
            path.write_text(text, encoding="utf-8", newline="\n")  # byte-identical on every OS
            written.append(path)
        return written


def generate(model: LoweredModel, plan: MemoryPlan, source: str, model_hash: str) -> GeneratedModel:
    graph = model.graph
    storage = _Storage(graph, plan)
    shared = _Shared()
    context = {
        "version": __version__,
        "source": c_comment(Path(source).name),
        "model_hash": model_hash,
        "arena_bytes": max(plan.arena_bytes, 16),  # C has no zero-length arrays
        "state_bytes": plan.state_bytes,
        "state": [_state_slot(n, slot) for n, slot in enumerate(plan.state.slots)],
        "constants": [_constant(t) for t in storage.constants(model)],
        "layers": [_layer(i, layer, storage, shared) for i, layer in enumerate(model.layers)],
        "inputs": [_io("input", n, graph.tensor(t), storage) for n, t in enumerate(graph.inputs)],
        "outputs": [_io("output", n, graph.tensor(t), storage) for n, t in enumerate(graph.outputs)],
    }
    c_files = {type(layer.params).C_FILE for layer in model.layers if layer.kernel}
    params_types = {type(layer.params).C_TYPE: type(layer.params) for layer in model.layers if layer.kernel}
    context["layout_checks"] = [line for name in sorted(params_types) for line in layout_checks(params_types[name])]
    context["headers"] = sorted(Path(name).with_suffix(".h").name for name in c_files)
    files = {name: render(f"{name}.j2", **context) for name in ("model.h", "model.c", "tg_kernels.h")}
    functions = tuple(layer["function"] for layer in context["layers"] if layer["kernel"])
    return GeneratedModel(files, runtime_sources(c_files), functions)


def runtime_sources(c_files: set[str]) -> dict[str, str]:
    """The hand-written C runtime the model needs: the kernel sources it calls (tg_conv.c, ...), their
    headers, the model API, and every runtime header those include, with its source where it has
    one (tg_matmul.h brings tg_matmul.c)."""
    firmware = resource_dir("firmware")
    wanted = [
        "tg_model_api.h",
        "tg_common.h",
        *sorted(c_files),
        *sorted(Path(name).with_suffix(".h").name for name in c_files),
    ]
    sources: dict[str, str] = {}
    while wanted:
        name = wanted.pop()
        if name in sources or not (firmware / name).is_file():
            continue  # system headers, and generated ones (model.h, tg_kernels.h)
        sources[name] = (firmware / name).read_text(encoding="utf-8")
        wanted += INCLUDE.findall(sources[name])
        if name.endswith(".h"):
            wanted.append(name[:-2] + ".c")
    return dict(sorted(sources.items()))


class _Storage:
    """Where each tensor lives: a flash array for constants, an arena offset otherwise."""

    def __init__(self, graph: Graph, plan: MemoryPlan) -> None:
        self.graph, self.plan = graph, plan

    def root(self, tensor: int) -> Tensor:
        return self.graph.tensor(self.plan.root(tensor))

    def pointer(self, tensor: int) -> str:
        t = self.root(tensor)
        if t.is_variable:
            offset = self.plan.state.tensor_offsets[t.index] + self.plan.views.get(tensor, (tensor, 0))[1]
            return f"({C_TYPES[self.graph.tensor(tensor).dtype]} *)(tg_state + {offset}u)"
        if t.is_constant:
            offset = self.plan.views.get(tensor, (tensor, 0))[1]
            itemsize = t.data.dtype.itemsize
            return _const_name(t) if offset == 0 else f"({_const_name(t)} + {offset // itemsize}u)"
        return f"({C_TYPES[self.graph.tensor(tensor).dtype]} *)(tg_arena + {self.plan.tensor_offsets[tensor]}u)"

    def constants(self, model: LoweredModel) -> list[Tensor]:
        """The constants the kernel calls read, and those a model output is (a folded output)."""
        refs = [t for layer in model.layers for t in layer.tensor_refs()] + list(self.graph.outputs)
        used = {self.root(t).index for t in refs}
        return [self.graph.tensor(i) for i in sorted(used) if self.graph.tensor(i).is_constant]


def _const_name(t: Tensor) -> str:
    return f"tg_const{t.index}"


def _constant(t: Tensor) -> dict:
    quant = ""
    if t.quant is not None:
        quant = f", {'per-channel' if t.quant.per_channel else 'per-tensor'} scale"
    return {
        "name": _const_name(t),
        "ctype": C_TYPES[t.dtype],
        "count": t.size,
        "comment": f"{c_comment(t.name)}: {t.dtype} {list(t.shape)}{quant}",
        "body": c_values(t.data, indent="    "),
    }


class _Shared:
    """The layers' const arrays and params structs by what they hold: layers that compute alike (the
    steps of an unrolled loop) share one, so flash does not grow with the steps but for the calls."""

    def __init__(self) -> None:
        self.names: dict[tuple, str] = {}

    def name(self, proposed: str, *content) -> tuple[str, bool]:
        """The name of the definition holding this content, and whether it is new (proposed)."""
        known = self.names.setdefault(content, proposed)
        return known, known == proposed


def _layer(index: int, layer: Layer, storage: _Storage, shared: _Shared) -> dict:
    outputs = layer.op.outputs  # none for an op that only updates state (ASSIGN_VARIABLE)
    info = {
        "index": index,
        "function": f"tg_layer{index}",
        "op": layer.op.kind,
        "kernel": layer.kernel,
        "output": storage.pointer(outputs[0]) if outputs else "NULL",
        "output_bytes": storage.graph.tensor(outputs[0]).nbytes if outputs else 0,
    }
    if not layer.kernel:
        return info
    arrays, names = [], {}  # the arrays this layer defines; each const argument's array
    # (argument, proposed name, C type, count, values, aligned): kernels read re-laid int8 weights a
    # word or two at a time, so arrays of small elements are aligned
    candidates = [
        (
            name,
            f"tg_layer{index}_{name}",
            C_TYPES[_dtype_name(values)],
            values.size,
            c_values(values),
            values.dtype.itemsize < 4,
        )
        for name, values in layer.consts.items()
    ] + [
        (
            n,
            f"tg_layer{index}_pointers{n}",
            f"{C_TYPES[storage.root(a.ref[0]).dtype]} *const",
            len(a.ref),
            ", ".join(storage.pointer(t) for t in a.ref),
            False,
        )
        for n, a in enumerate(layer.args)
        if a.kind == "tensors"
    ]
    for ref, proposed, ctype, count, body, aligned in candidates:
        names[ref], new = shared.name(proposed, "array", ctype, count, body)
        if new:
            arrays.append({"name": proposed, "ctype": ctype, "count": count, "body": body, "aligned": aligned})
    params_type, params_init = type(layer.params).C_TYPE, initializer(layer.params)
    params_name, params_new = shared.name(f"tg_layer{index}_params", "params", params_type, params_init)
    info.update(
        arrays=arrays,
        params_type=params_type,
        params_name=params_name,
        params_init=params_init if params_new else None,
        args=[_arg(a, index, n, storage, names) for n, a in enumerate(layer.args)],
    )
    return info


def _arg(arg: Arg, layer_index: int, position: int, storage: _Storage, names: dict) -> str:
    if arg.kind == "tensor":
        return storage.pointer(arg.ref)
    if arg.kind == "const":
        return names[arg.ref]
    if arg.kind == "tensors":
        return names[position]
    if arg.kind == "scratch":
        return f"(void *)(tg_arena + {storage.plan.scratch_offsets[layer_index]}u)"
    if arg.kind == "state":
        return f"(void *)(tg_state + {storage.plan.state.layer_offsets[(layer_index, arg.ref)]}u)"
    return "NULL"


def _state_slot(n: int, slot: StateSlot) -> dict:
    """How tg_model_reset_state() sets one slot: a memset, or a memcpy from a constant in flash."""
    info = {"offset": slot.offset, "bytes": slot.nbytes, "comment": c_comment(slot.what), "array": None}
    if isinstance(slot.reset, np.ndarray):
        values = slot.reset.reshape(-1)
        info.update(
            array=f"tg_state{n}_reset", ctype=C_TYPES[_dtype_name(values)], count=values.size, body=c_values(values)
        )
    else:
        info["fill"] = int(slot.reset) & 0xFF
    return info


def _io(role: str, position: int, t: Tensor, storage: _Storage) -> dict:
    quantized = t.quant is not None and t.dtype != "float32"
    scale = t.scale if quantized else 0.0
    dims = ", ".join(str(d) for d in t.shape) or "0"
    fields = [
        f'"{c_string(t.name)}"',
        API_DTYPES[t.dtype],
        str(len(t.shape)),
        f"{{{dims}}}",
        c_float(scale),
        str(t.zero_point if quantized else 0),
        f"{t.nbytes}u",
        _io_pointer(t, storage),
    ]
    return {
        "role": role,
        "position": position,
        "name": c_comment(t.name),
        "dtype": t.dtype,
        "shape": list(t.shape),
        "quantized": quantized,
        "scale_text": repr(scale),
        "zero_point": t.zero_point if quantized else 0,
        "bytes": t.nbytes,
        "initializer": "{" + ", ".join(fields) + "}",
    }


def _io_pointer(t: Tensor, storage: _Storage) -> str:
    """The tensor table's data pointer: into the arena, or (an output folded at compile time) a
    const array, cast because the table's field is not const."""
    pointer = storage.pointer(t.index)
    return f"(void *){pointer}" if storage.root(t.index).is_constant else pointer


def c_values(values: np.ndarray, indent: str = "", per_line: int = VALUES_PER_LINE) -> str:
    """The values as the items of a C array initializer, per_line to a line."""
    flat = values.reshape(-1)
    if flat.dtype == np.float32:
        items = [c_float(float(v)) for v in flat]
    elif flat.dtype == np.int32:
        # INT32_MIN has no literal in C; spell it as an expression.
        items = ["(-2147483647 - 1)" if v == -(2**31) else str(v) for v in flat.tolist()]
    elif flat.dtype == np.int64:
        items = ["(-9223372036854775807LL - 1)" if v == -(2**63) else f"{v}LL" for v in flat.tolist()]
    elif flat.dtype == np.uint32:
        items = [f"{v}u" for v in flat.tolist()]
    elif flat.dtype == np.uint64:
        items = [f"{v}ULL" for v in flat.tolist()]
    elif flat.dtype == np.bool_:
        items = [str(int(v)) for v in flat.tolist()]
    else:
        items = [str(v) for v in flat.tolist()]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return (",\n").join(indent + line for line in lines)


def c_float(x: float) -> str:
    """A float literal that reads back as the same float32."""
    return f"{float(np.float32(x)):.9e}f" if np.isfinite(x) else "0.0f"  # %e: "0f" or "1f" would not be C


def _dtype_name(values: np.ndarray) -> str:
    return next(name for name, numpy_type in NUMPY_DTYPES.items() if np.dtype(numpy_type) == values.dtype)
