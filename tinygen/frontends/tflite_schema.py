"""What tinygen reads and writes of the TFLite flatbuffer schema.

Which options table an op has, and which of its fields tinygen reads, comes from the op's
record (tinygen/ops), so the reader and the writer cannot disagree. IR option keys are the
schema's field names in snake_case; enum fields (padding, activation) hold the enum's name.
"""

import tflite

from ..ops import op_def
from ..ops.record import Options

TENSOR_TYPES = {
    tflite.TensorType.FLOAT32: "float32",
    tflite.TensorType.INT32: "int32",
    tflite.TensorType.UINT8: "uint8",
    tflite.TensorType.INT64: "int64",
    tflite.TensorType.INT16: "int16",
    tflite.TensorType.INT8: "int8",
    tflite.TensorType.BOOL: "bool",
    tflite.TensorType.UINT32: "uint32",
    tflite.TensorType.UINT64: "uint64",
    tflite.TensorType.RESOURCE: "resource",
}
TENSOR_TYPE_CODES = {name: code for code, name in TENSOR_TYPES.items()}
# Every type the schema names, for messages about the ones tinygen does not hold.
TENSOR_TYPE_NAMES = {code: name for name, code in vars(tflite.TensorType).items() if not name.startswith("_")}

# A custom op's kind in the IR: CUSTOM:<its custom code> (CUSTOM:SignalWindow).
CUSTOM_PREFIX = "CUSTOM:"

PADDINGS = {tflite.Padding.SAME: "SAME", tflite.Padding.VALID: "VALID"}
ACTIVATIONS = {
    tflite.ActivationFunctionType.NONE: "NONE",
    tflite.ActivationFunctionType.RELU: "RELU",
    tflite.ActivationFunctionType.RELU_N1_TO_1: "RELU_N1_TO_1",
    tflite.ActivationFunctionType.RELU6: "RELU6",
    tflite.ActivationFunctionType.TANH: "TANH",
    tflite.ActivationFunctionType.SIGN_BIT: "SIGN_BIT",
}
# Option fields that hold an enum, read as the enum's name.
ENUM_FIELDS = {
    "padding": PADDINGS,
    "fused_activation_function": ACTIVATIONS,
    "output_type": TENSOR_TYPES,  # ARG_MAX, ARG_MIN
    "out_type": TENSOR_TYPES,  # SHAPE
    "in_data_type": TENSOR_TYPES,  # CAST
    "out_data_type": TENSOR_TYPES,
}


def type_name(code: int) -> str:
    """A TensorType code as the schema names it (UINT32, FLOAT16, ...), or its number if unknown."""
    return TENSOR_TYPE_NAMES.get(code, f"type code {code}")


def op_options(kind: str) -> Options:
    """The options table and fields of an op (none for ops tinygen does not support)."""
    record = op_def(kind)
    return record.options if record else Options()


BUILTIN_CODES = {name: code for code, name in tflite.utils.BUILTIN_OPCODE2NAME.items()}


def camel(field: str) -> str:
    """Schema field name to the generated accessor's name: stride_w -> StrideW."""
    return "".join(part[:1].upper() + part[1:] for part in field.split("_"))
