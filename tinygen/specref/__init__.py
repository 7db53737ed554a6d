"""The numpy reference: a second, independent implementation of tflite-micro's numerics.

`NumpyReference` runs a Graph op by op from the TFLite int8 spec (see interpreter.py); each module
here computes one family of ops and registers it by op kind.
"""

from . import (  # noqa: F401  (each module registers its kernels)
    activations,
    binary,
    conv,
    convert,
    divide,
    floats,
    matmul,
    movement,
    pooling,
    reduce,
    resize,
    sigmoid,
    spatial,
    transpose_conv,
)
from .interpreter import NumpyReference, covered_ops
from .registry import NotCovered

__all__ = ["NotCovered", "NumpyReference", "covered_ops"]
