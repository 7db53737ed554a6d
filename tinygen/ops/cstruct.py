"""The Python side of the C parameter structs, and the check that keeps both sides in step.

Each kernel takes its shapes and quantization in a small const struct declared in its C
header (tg_conv_params in firmware/tg_conv.h, ...). Lowering fills a frozen dataclass that
mirrors it field for field: `int` fields are int32_t, `float` fields float, `Dims` fields tg_dims. Codegen
renders the dataclass as a designated initializer, and emits layout_checks(): compile-time
assertions of the struct's size and each field's offset. A field missing on one side, or
added, reordered or retyped, then fails the build instead of reaching the device as a 0.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

INT32_BYTES = 4  # an int32_t or a float field


@dataclass(frozen=True)
class Dims:
    """Mirrors tg_dims (firmware/tg_common.h)."""

    n: int
    h: int
    w: int
    c: int

    @staticmethod
    def of(shape: tuple[int, ...]) -> Dims:
        if len(shape) != 4:
            raise ValueError(f"expected a 4-D NHWC shape, got {shape}")
        return Dims(*shape)


NESTED = {"Dims": Dims}  # annotation -> the nested struct's dataclass; other fields are int32_t or float


def initializer(params) -> str:
    """The C designated initializer of a params dataclass: {.a = 1, .dims = {.n = 1, ...}}."""
    parts = []
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        if dataclasses.is_dataclass(value):
            rendered = initializer(value)
        elif _annotation(f) == "float":
            rendered = f"{float(np.float32(value)):.9e}f"  # reads back as the same float32 (finite values)
        else:
            rendered = str(int(value))
        parts.append(f".{f.name} = {rendered}")
    return "{" + ", ".join(parts) + "}"


def _annotation(f: dataclasses.Field) -> str:
    return f.type if isinstance(f.type, str) else f.type.__name__


def layout(cls, prefix: str = "", base: int = 0) -> list[tuple[str, int]]:
    """(C member path, byte offset) of every int32 in the struct, in declaration order."""
    members, offset = [], base
    for f in dataclasses.fields(cls):
        nested = NESTED.get(_annotation(f))
        if nested is not None:
            inner = layout(nested, f"{prefix}{f.name}.", offset)
            members += inner
            offset += INT32_BYTES * len(inner)
        else:
            members.append((f"{prefix}{f.name}", offset))
            offset += INT32_BYTES
    return members


def size_of(cls) -> int:
    return INT32_BYTES * len(layout(cls))


def layout_checks(cls) -> list[str]:
    """TG_STATIC_ASSERT lines (firmware/tg_common.h) for the C struct cls mirrors."""
    c_type = cls.C_TYPE
    checks = [f'TG_STATIC_ASSERT(sizeof({c_type}) == {size_of(cls)}u, "size of {c_type}");']
    for member, offset in layout(cls):
        checks.append(f'TG_STATIC_ASSERT(offsetof({c_type}, {member}) == {offset}u, "offset of {c_type}.{member}");')
    return checks
