"""A custom op's options: the flexbuffer map in its `custom_options` bytes.

tflite-micro reads these maps by position (FlexbufferWrapper's ElementAsInt32(i) is the value of
the i-th key in the map's sorted order), not by name. So a map is accepted only when its keys are
exactly the ones the op's record names, in that order: then reading by name, as tinygen does, and
by position, as tflite-micro does, give the same values. Each value must be an integer or a bool;
what range each may take is the op's lowering's business. A model file comes from anyone: every
failure is one TinygenError line, never a flexbuffers exception.
"""

from __future__ import annotations

from flatbuffers import flexbuffers

from ..errors import TinygenError

# A flexbuffer map of a handful of ints is a few hundred bytes; anything far larger is not options.
MAX_OPTIONS_BYTES = 4096


def read_custom_options(raw: bytes, keys: tuple[str, ...], what: str) -> dict[str, int | bool]:
    """The values of `keys` in the flexbuffer map `raw` (`what` names the op in messages)."""
    if not raw:
        raise TinygenError(f"{what} has no custom options (it needs {', '.join(keys)})")
    if len(raw) > MAX_OPTIONS_BYTES:
        raise TinygenError(f"{what} has {len(raw)} bytes of custom options; options are at most {MAX_OPTIONS_BYTES}")
    try:
        root = flexbuffers.GetRoot(raw)
        if not root.IsMap:
            raise TinygenError(f"{what}: its custom options are not a flexbuffer map")
        found = root.AsMap
        names = [k.AsKey for k in found.Keys]
        values = list(found.Values)
        if names != list(keys):
            raise TinygenError(
                f"{what}: its custom options hold the keys {_listing(names)}; tflite-micro reads them by "
                f"position and expects exactly {_listing(keys)}"
            )
        result: dict[str, int | bool] = {}
        for name, value in zip(names, values):
            if value.IsBool:
                result[name] = value.AsBool
            elif value.IsInt:
                result[name] = int(value.AsInt)
            else:
                raise TinygenError(f"{what}: custom option {name} is not an integer or a bool")
        return result
    except TinygenError:
        raise
    except Exception as e:  # flexbuffers raises bare struct.error, IndexError, UnicodeError... on damaged bytes
        raise TinygenError(f"{what}: its custom options are not a readable flexbuffer map") from e


def write_custom_options(values: dict[str, int | bool], keys: tuple[str, ...]) -> bytes:
    """The flexbuffer map of `keys` (sorted by the builder, as flexbuffer maps are)."""
    return bytes(flexbuffers.Dumps({key: values[key] for key in keys}))


def _listing(names) -> str:
    return "(" + ", ".join(repr(str(n)) for n in names) + ")" if names else "(none)"
