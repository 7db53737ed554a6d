"""Per-op lowering: each module turns one op family into a Layer for its C kernel.

A module exports LOWERINGS, a dict from TFLite op name to a function
(op, graph) -> Layer that does all the checks and all the quantization math, so
the C kernel only computes (TFLM's Prepare, moved to compile time).
"""
from . import conv, fully_connected, reshape
from . import concatenation, elementwise, pad, pooling, quantize, relu
from . import mean, nonlinear, softmax

LOWERINGS = {
    **conv.LOWERINGS,
    **fully_connected.LOWERINGS,
    **reshape.LOWERINGS,
    **pooling.LOWERINGS,
    **elementwise.LOWERINGS,
    **pad.LOWERINGS,
    **concatenation.LOWERINGS,
    **quantize.LOWERINGS,
    **relu.LOWERINGS,
    **softmax.LOWERINGS,
    **nonlinear.LOWERINGS,
    **mean.LOWERINGS,
}
