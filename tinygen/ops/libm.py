"""The C math library's float functions, as tflite-micro's float kernels call them.

tflite-micro's float kernels (and the tables some int8 kernels fill in Prepare) call expf, expm1f
and logf from the C library; numpy's float32 versions round differently in the last bit for some
inputs. Where tinygen must reproduce those values exactly at compile time, it calls the same
functions through ctypes (glibc's on Linux, where tflite-micro's wheels run), falling back to numpy
where no C library with them can be loaded.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache

import numpy as np

FALLBACK = {"expf": np.exp, "expm1f": np.expm1, "logf": np.log}


@cache
def c_float_function(name: str) -> Callable[[float], float]:
    """The C library's float function `name` (float in, float out)."""
    for library in ("m", "c", "ucrtbase", "msvcrt"):
        path = ctypes.util.find_library(library)
        try:
            function = getattr(ctypes.CDLL(path), name) if path else None
        except (OSError, AttributeError):
            continue
        if function is not None:
            function.argtypes, function.restype = [ctypes.c_float], ctypes.c_float
            return function
    return lambda x: float(FALLBACK[name](np.float32(x)))


def apply(name: str, values: np.ndarray) -> np.ndarray:
    """The function on every element of a float32 array."""
    function = c_float_function(name)
    return np.array([function(float(v)) for v in np.asarray(values, np.float32).reshape(-1)], np.float32).reshape(
        np.shape(values)
    )
