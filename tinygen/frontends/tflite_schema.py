"""What tinygen reads and writes of the TFLite flatbuffer schema.

One table names, per supported op, its options table and fields, so the reader and
the writer cannot disagree. IR option keys are the schema's field names in
snake_case; enum fields (padding, activation) hold the enum's name.
"""
import tflite

TENSOR_TYPES = {
    tflite.TensorType.FLOAT32: "float32",
    tflite.TensorType.INT32: "int32",
    tflite.TensorType.UINT8: "uint8",
    tflite.TensorType.INT64: "int64",
    tflite.TensorType.INT16: "int16",
    tflite.TensorType.INT8: "int8",
}
TENSOR_TYPE_CODES = {name: code for code, name in TENSOR_TYPES.items()}

PADDINGS = {tflite.Padding.SAME: "SAME", tflite.Padding.VALID: "VALID"}
ACTIVATIONS = {
    tflite.ActivationFunctionType.NONE: "NONE",
    tflite.ActivationFunctionType.RELU: "RELU",
    tflite.ActivationFunctionType.RELU_N1_TO_1: "RELU_N1_TO_1",
    tflite.ActivationFunctionType.RELU6: "RELU6",
    tflite.ActivationFunctionType.TANH: "TANH",
    tflite.ActivationFunctionType.SIGN_BIT: "SIGN_BIT",
}
ENUM_FIELDS = {"padding": PADDINGS, "fused_activation_function": ACTIVATIONS}

_POOL = ("Pool2DOptions", ("padding", "stride_w", "stride_h", "filter_width", "filter_height",
                           "fused_activation_function"))

# op name -> (options table name or None, scalar fields of that table)
OP_OPTIONS = {
    "CONV_2D": ("Conv2DOptions", ("padding", "stride_w", "stride_h", "fused_activation_function",
                                  "dilation_w_factor", "dilation_h_factor")),
    "DEPTHWISE_CONV_2D": ("DepthwiseConv2DOptions", ("padding", "stride_w", "stride_h", "depth_multiplier",
                                                     "fused_activation_function", "dilation_w_factor",
                                                     "dilation_h_factor")),
    "FULLY_CONNECTED": ("FullyConnectedOptions", ("fused_activation_function", "keep_num_dims")),
    "AVERAGE_POOL_2D": _POOL,
    "MAX_POOL_2D": _POOL,
    "ADD": ("AddOptions", ("fused_activation_function",)),
    "MUL": ("MulOptions", ("fused_activation_function",)),
    "RESHAPE": (None, ()),
    "SOFTMAX": ("SoftmaxOptions", ("beta",)),
    "PAD": ("PadOptions", ()),
    "PADV2": ("PadV2Options", ()),
    "MEAN": ("ReducerOptions", ("keep_dims",)),
    "CONCATENATION": ("ConcatenationOptions", ("axis", "fused_activation_function")),
    "QUANTIZE": ("QuantizeOptions", ()),
    "DEQUANTIZE": ("DequantizeOptions", ()),
    "LOGISTIC": (None, ()),
    "TANH": (None, ()),
    "RELU": (None, ()),
    "RELU6": (None, ()),
}

BUILTIN_CODES = {name: code for code, name in tflite.utils.BUILTIN_OPCODE2NAME.items()}


def camel(field: str) -> str:
    """Schema field name to the generated accessor's name: stride_w -> StrideW."""
    return "".join(part[:1].upper() + part[1:] for part in field.split("_"))
