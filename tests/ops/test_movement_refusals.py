"""What the data-movement ops refuse, each with the message that names the problem."""

import numpy as np
import pytest

from tinygen.builder import GraphBuilder
from tinygen.compiler.lower import lower
from tinygen.errors import TinygenError

X = "x"  # marks the moved input among an op's inputs
COMPUTED = "computed"  # a parameter fed by the model instead of a constant
QUANT = {"scale": 0.5, "zero_point": 0}


def _graph(kind, in_shape, out_shapes, inputs=(X,), dtype="int8", out_dtype=None, **options):
    """One op: the moved input of in_shape (dtype), constant parameters (numpy arrays), outputs."""
    g = GraphBuilder()
    quant = QUANT if dtype in ("int8", "int16") else {}
    x = g.tensor(in_shape, dtype, **quant)
    model_inputs, op_inputs = [x], []
    for value in inputs:
        if isinstance(value, str) and value == X:
            op_inputs.append(x)
        elif isinstance(value, str) and value == COMPUTED:
            op_inputs.append(g.tensor((1,), "int32"))
            model_inputs.append(op_inputs[-1])
        else:
            value = np.asarray(value)
            op_inputs.append(g.const(value, str(value.dtype)))
    out_dtype = out_dtype or dtype
    outputs = [g.tensor(s, out_dtype, **(QUANT if out_dtype in ("int8", "int16") else {})) for s in out_shapes]
    g.op(kind, op_inputs, outputs, **options)
    return g.build(model_inputs, outputs)


def i32(*values):
    return np.array(values, dtype=np.int32)


STRIDED = {"begin_mask": 0, "end_mask": 0, "ellipsis_mask": 0, "new_axis_mask": 0, "shrink_axis_mask": 0}


def _strided(in_shape, out_shape, begin, end, strides, **masks):
    return _graph("STRIDED_SLICE", in_shape, [out_shape], [X, begin, end, strides], **{**STRIDED, **masks})


CASES = {
    "transpose rank 6": (
        _graph("TRANSPOSE", (1,) * 6, [(1,) * 6], [X, i32(*range(6))]),
        r"TRANSPOSE\): transposes ranks 1 to 5, not 6",
    ),
    "transpose bad perm": (
        _graph("TRANSPOSE", (1, 2), [(1, 1)], [X, i32(0, 0)]),
        r"perm \[0, 0\] is not a permutation",
    ),
    "transpose computed perm": (
        _graph("TRANSPOSE", (1, 2), [(2, 1)], [X, COMPUTED]),
        r"perm must be a constant tensor",
    ),
    "transpose int32": (
        _graph("TRANSPOSE", (1, 2), [(2, 1)], [X, i32(1, 0)], dtype="int32"),
        r"moves float32, int8, int16 tensors; tflite-micro has no int32 kernel",
    ),
    "transpose wrong output": (
        _graph("TRANSPOSE", (1, 2, 3), [(1, 2, 3)], [X, i32(0, 2, 1)]),
        r"output t\d+ has shape \(1, 2, 3\), not \(1, 3, 2\)",
    ),
    "input and output dtypes differ": (
        _graph("TRANSPOSE", (1, 2), [(2, 1)], [X, i32(1, 0)], out_dtype="int16"),
        r"tensor t\d+ is int16, not int8 like the input",
    ),
    "reverse non-contiguous axes": (
        _graph("REVERSE_V2", (1, 2, 3), [(1, 2, 3)], [X, i32(0, 2)]),
        r"axes \[0, 2\] are not contiguous and distinct",
    ),
    "reverse repeated axis": (
        _graph("REVERSE_V2", (1, 2, 3), [(1, 2, 3)], [X, i32(1, 1)]),
        r"axes \[1, 1\] are not contiguous and distinct",
    ),
    "reverse no axes": (
        _graph("REVERSE_V2", (1, 2), [(1, 2)], [X, np.zeros(0, np.int32)]),
        r"axis must name 1 to 2 axes, not 0",
    ),
    "reverse axis out of range": (
        _graph("REVERSE_V2", (1, 2), [(1, 2)], [X, i32(2)]),
        r"axis 2 is out of range for rank 2",
    ),
    "slice past the end": (
        _graph("SLICE", (1, 4), [(1, 3)], [X, i32(0, 2), i32(1, 3)]),
        r"SLICE\): begin 2 and size 3 leave axis 1 of size 4",
    ),
    "slice negative begin": (
        _graph("SLICE", (1, 4), [(1, 1)], [X, i32(0, -1), i32(1, 1)]),
        r"begin -1 and size 1 leave axis 1",
    ),
    "slice mixed index types": (
        _graph("SLICE", (1, 4), [(1, 2)], [X, i32(0, 0), np.array([1, 2], np.int64)]),
        r"begin and size must have the same type",
    ),
    "slice empty": (
        _graph("SLICE", (1, 4), [(1, 0)], [X, i32(0, 1), i32(1, 0)]),
        r"output t\d+ is empty",
    ),
    "slice float begin": (
        _graph("SLICE", (1, 4), [(1, 2)], [X, np.float32([0, 0]), np.float32([1, 2])]),
        r"begin must be an integer tensor, not float32",
    ),
    "strided slice ellipsis": (
        _strided((1, 4), (1, 2), i32(0, 1), i32(1, 3), i32(1, 1), ellipsis_mask=1),
        r"STRIDED_SLICE\): ellipsis_mask is not supported \(tflite-micro ignores it\)",
    ),
    "strided slice new axis": (
        _strided((1, 4), (1, 2), i32(0, 1), i32(1, 3), i32(1, 1), new_axis_mask=2),
        r"new_axis_mask is not supported",
    ),
    "strided slice offset": (
        _strided((1, 4), (1, 2), i32(0, 1), i32(1, 2), i32(1, 1), offset=True),
        r"offset is not supported",
    ),
    "strided slice shrink backwards": (
        _strided((1, 4), (1,), i32(0, 2), i32(1, 3), i32(1, -1), shrink_axis_mask=2),
        r"shrinks axis 1 with a negative stride",
    ),
    "strided slice shrink outside": (
        _strided((1, 4), (1,), i32(0, 4), i32(1, 5), i32(1, 1), shrink_axis_mask=2),
        r"shrinks axis 1 at 4, outside its size 4",
    ),
    "strided slice zero stride": (
        _strided((1, 4), (1, 2), i32(0, 0), i32(1, 2), i32(1, 0)),
        r"stride of axis 1 is 0",
    ),
    "strided slice rank 5": (
        _strided((1,) * 5, (1,) * 5, i32(*[0] * 5), i32(*[1] * 5), i32(*[1] * 5)),
        r"slices ranks 1 to 4, not 5",
    ),
    "strided slice int64 begin": (
        _strided((1, 4), (1, 2), np.int64([0, 0]), i32(1, 2), i32(1, 1)),
        r"begin must be int32",
    ),
    "strided slice short begin": (
        _strided((1, 4), (1, 2), i32(0), i32(1, 2), i32(1, 1)),
        r"begin must hold 2 values, not \(1,\)",
    ),
    "squeeze a wide axis": (
        _graph("SQUEEZE", (1, 3), [(1,)], squeeze_dims=[1]),
        r"SQUEEZE\): squeezes axis 1 of size 3",
    ),
    "squeeze wrong output": (
        _graph("SQUEEZE", (1, 3, 1), [(1, 3)], squeeze_dims=[]),
        r"output shape \(1, 3\) is not the squeezed \(3,\)",
    ),
    "expand_dims int32": (
        _graph("EXPAND_DIMS", (1, 3), [(1, 1, 3)], [X, i32(1)], dtype="int32"),
        r"EXPAND_DIMS\): moves float32, int8, int16 tensors; tflite-micro has no int32 kernel",
    ),
    "expand_dims axis out of range": (
        _graph("EXPAND_DIMS", (1, 3), [(1, 3, 1)], [X, i32(3)]),
        r"axis 3 is out of range for rank 3",
    ),
    "shape as a model output": (
        _graph("SHAPE", (1, 3), [(2,)], out_dtype="int32", out_type="int32"),
        r"SHAPE\): its output is a model output; tinygen folds SHAPE",
    ),
    "shape int64": (
        _graph("SHAPE", (1, 3), [(2,)], out_dtype="int64", out_type="int64"),
        r"SHAPE\): writes int64; tflite-micro writes int32 shapes only",
    ),
    "gather int64 indices": (
        _graph("GATHER", (1, 4), [(1, 2)], [X, np.int64([0, 1])], axis=1, batch_dims=0),
        r"GATHER\): indices are int64; tflite-micro gathers with int32 only",
    ),
    "gather index outside": (
        _graph("GATHER", (1, 4), [(1, 2)], [X, i32(0, 4)], axis=1, batch_dims=0),
        r"index \[4\] is outside the axis of size 4",
    ),
    "gather batch_dims past axis": (
        _graph("GATHER", (1, 4), [(2,)], [X, np.zeros((1, 2), np.int32)], axis=0, batch_dims=1),
        r"batch_dims 1 must lie in \[0, axis 0\]",
    ),
    "gather int16": (
        _graph("GATHER", (1, 4), [(1, 2)], [X, i32(0, 1)], dtype="int16", axis=1, batch_dims=0),
        r"moves float32, int8 tensors; tflite-micro has no int16 kernel",
    ),
    "split uneven": (
        _graph("SPLIT", (1, 5), [(1, 2), (1, 3)], [i32(1), X], num_splits=2),
        r"SPLIT\): axis 1 of size 5 does not split into 2",
    ),
    "split computed axis": (
        _graph("SPLIT", (1, 4), [(1, 2), (1, 2)], [COMPUTED, X], num_splits=2),
        r"axis must be a constant tensor",
    ),
    "split_v two unknown sizes": (
        _graph("SPLIT_V", (1, 4), [(1, 2), (1, 2)], [X, i32(-1, -1), i32(1)], num_splits=2),
        r"SPLIT_V\): size_splits has more than one -1",
    ),
    "split_v sizes short": (
        _graph("SPLIT_V", (1, 4), [(1, 1), (1, 2)], [X, i32(1, 2), i32(1)], num_splits=2),
        r"the outputs take 3 of the 4 along axis 1",
    ),
    "unpack num": (
        _graph("UNPACK", (1, 3), [(1,), (1,)], num=2, axis=1),
        r"UNPACK\): num 2 is not the size 3 of axis 1",
    ),
    "pack values_count": (
        _graph("PACK", (1, 3), [(2, 1, 3)], [X, X], values_count=3, axis=0),
        r"PACK\): values_count 3 is not the number of inputs 2",
    ),
    "depth_to_space channels": (
        _graph("DEPTH_TO_SPACE", (1, 1, 1, 6), [(1, 2, 2, 1)], block_size=2),
        r"DEPTH_TO_SPACE\): 6 channels do not divide into 2 x 2 blocks",
    ),
    "depth_to_space block 0": (
        _graph("DEPTH_TO_SPACE", (1, 1, 1, 4), [(1, 1, 1, 4)], block_size=0),
        r"block_size 0 must be at least 1",
    ),
    "space_to_depth uneven": (
        _graph("SPACE_TO_DEPTH", (1, 3, 2, 1), [(1, 1, 1, 4)], block_size=2),
        r"height 3 and width 2 must be multiples of block_size 2",
    ),
    "space_to_depth rank 3": (
        _graph("SPACE_TO_DEPTH", (1, 2, 2), [(1, 1, 4)], block_size=2),
        r"needs a 4-D NHWC input, not rank 3",
    ),
    "batch_to_space negative crops": (
        _graph("BATCH_TO_SPACE_ND", (2, 2, 1), [(1, 5, 1)], [X, i32(2), np.int32([[-1, 0]])]),
        r"BATCH_TO_SPACE_ND\): negative crops \[\[-1, 0\]\] are not supported",
    ),
    "batch_to_space batch": (
        _graph("BATCH_TO_SPACE_ND", (3, 2, 1), [(1, 4, 1)], [X, i32(2), np.int32([[0, 0]])]),
        r"batch 3 is not a multiple of the block's 2",
    ),
    "space_to_batch padding": (
        _graph("SPACE_TO_BATCH_ND", (1, 3, 1), [(2, 2, 1)], [X, i32(2), np.int32([[1, 0]])]),
        r"SPACE_TO_BATCH_ND\): paddings are not supported: tflite-micro pads with an uninitialized value",
    ),
    "space_to_batch block 0": (
        _graph("SPACE_TO_BATCH_ND", (1, 2, 2, 1), [(1, 2, 2, 1)], [X, i32(1, 0), np.zeros((2, 2), np.int32)]),
        r"block_shape \[1, 0\] must be at least 1",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_refused(name):
    graph, message = CASES[name]
    with pytest.raises(TinygenError, match=message):
        lower(graph)
