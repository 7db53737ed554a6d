"""The op registry: one OpDef record per supported TFLite op (see record.py).

Every module in this package that defines OPS is an op family; adding a module adds its
ops everywhere (reader, lowering, quantizer, reports). docs/adding-an-op.md walks through it.
"""

from __future__ import annotations

import importlib
import pkgutil

from .record import OpDef

# Modules of this package that hold shared machinery, not op families.
_HELPERS = {"checks", "cstruct", "geometry", "libm", "record", "signal_checks"}


def _load_registry() -> dict[str, OpDef]:
    registry: dict[str, OpDef] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name in _HELPERS:
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for record in getattr(module, "OPS", ()):
            if record.name in registry:
                raise RuntimeError(f"op {record.name} is defined twice (in {module.__name__})")
            registry[record.name] = record
    return registry


REGISTRY: dict[str, OpDef] = _load_registry()
# What a model file may hold: not the ops compiler passes make (TG_LOOKUP, a float island's table).
SUPPORTED_OPS: tuple[str, ...] = tuple(sorted(name for name, record in REGISTRY.items() if not record.internal))


def op_def(kind: str) -> OpDef | None:
    """The record of a TFLite op by name, or None when tinygen does not support it."""
    return REGISTRY.get(kind)
