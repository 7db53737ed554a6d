/*
 * Binary element-wise ops with numpy broadcasting, beyond quantized ADD and MUL (tg_elementwise.h):
 * TFLite SUB, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM, DIV and PRELU, and ADD and MUL on int32 and float32.
 *
 * Every kernel walks the output in row-major order over a compile-time shape of `rank`
 * dimensions; strides1/strides2 give each input's element step per dimension, 0 where that
 * input is broadcast. Kernels are named by the type they compute in: s8, s16 (quantized),
 * s32 (plain integers, no quantization) and f32 (IEEE single precision, one rounding per op).
 */
#ifndef TG_BINARY_H
#define TG_BINARY_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TG_BINARY_MAX_RANK 7

/* MAXIMUM, MINIMUM: raw values compared (inputs and output share one quantization). */
typedef struct {
    int32_t rank, size; /* walked shape's rank, output elements */
} tg_minmax_params;

/* ADD, SUB, MUL, SQUARED_DIFFERENCE and DIV on int32: plain integer arithmetic, wrapping like the reference's. */
typedef struct {
    int32_t rank, size;
    int32_t act_min, act_max; /* the fused activation's bounds (the int32 range for none) */
} tg_int32_arith_params;

/* ADD, MUL and DIV on float32: the result clamped as std::min(std::max(x, act_min), act_max). */
typedef struct {
    int32_t rank, size;
    float act_min, act_max; /* -FLT_MAX and FLT_MAX without a fused activation */
} tg_float_arith_params;

/*
 * SUB and SQUARED_DIFFERENCE, quantized: both inputs are lifted by 2^left_shift and brought to a
 * shared scale, subtracted, and the difference (SUB) or its square (SQUARED_DIFFERENCE) goes to
 * the output scale.
 */
typedef struct {
    int32_t rank, size;
    int32_t input1_offset, input2_offset, output_offset; /* -zero points, output zero point */
    int32_t left_shift;
    int32_t input1_multiplier, input1_shift; /* each input to the shared scale */
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift; /* the difference (or its square) to the output scale */
    int32_t act_min, act_max;
} tg_difference_params;

/* DIV, int8: the quotient from a fixed-point reciprocal of the divisor. */
typedef struct {
    int32_t rank, size;
    int32_t input1_offset, input2_offset, output_offset;
    int32_t output_multiplier, output_shift; /* input1 scale / (input2 scale * output scale) */
    int32_t act_min, act_max;
} tg_div_params;

/* PRELU: x for x >= 0, alpha * x below; alpha (input2) is int8 for either input type. */
typedef struct {
    int32_t rank, size;
    int32_t input_offset, alpha_offset, output_offset;
    int32_t positive_multiplier, positive_shift; /* input scale / output scale */
    int32_t negative_multiplier, negative_shift; /* input scale * alpha scale / output scale */
    int32_t act_min, act_max;                    /* the output type's range */
} tg_prelu_params;

#define TG_BINARY_ARGS(params_type, type1, type2, out_type)                                                            \
    const params_type *p, const int32_t *shape, const int32_t *strides1, const int32_t *strides2, const type1 *input1, \
        const type2 *input2, out_type *output

void tg_add_s32(TG_BINARY_ARGS(tg_int32_arith_params, int32_t, int32_t, int32_t));
void tg_mul_s32(TG_BINARY_ARGS(tg_int32_arith_params, int32_t, int32_t, int32_t));
void tg_add_f32(TG_BINARY_ARGS(tg_float_arith_params, float, float, float));
void tg_mul_f32(TG_BINARY_ARGS(tg_float_arith_params, float, float, float));
void tg_div_f32(TG_BINARY_ARGS(tg_float_arith_params, float, float, float));
/* a > b ? a : b and a < b ? a : b: a NaN first input gives the second. */
void tg_maximum_f32(TG_BINARY_ARGS(tg_minmax_params, float, float, float));
void tg_minimum_f32(TG_BINARY_ARGS(tg_minmax_params, float, float, float));
void tg_sub_s8(TG_BINARY_ARGS(tg_difference_params, int8_t, int8_t, int8_t));
void tg_sub_s16(TG_BINARY_ARGS(tg_difference_params, int16_t, int16_t, int16_t));
void tg_sub_s32(TG_BINARY_ARGS(tg_int32_arith_params, int32_t, int32_t, int32_t));
void tg_squared_difference_s8(TG_BINARY_ARGS(tg_difference_params, int8_t, int8_t, int8_t));
void tg_squared_difference_s16(TG_BINARY_ARGS(tg_difference_params, int16_t, int16_t, int16_t));
void tg_squared_difference_s32(TG_BINARY_ARGS(tg_int32_arith_params, int32_t, int32_t, int32_t));
void tg_maximum_s8(TG_BINARY_ARGS(tg_minmax_params, int8_t, int8_t, int8_t));
void tg_maximum_s16(TG_BINARY_ARGS(tg_minmax_params, int16_t, int16_t, int16_t));
void tg_maximum_s32(TG_BINARY_ARGS(tg_minmax_params, int32_t, int32_t, int32_t));
void tg_minimum_s8(TG_BINARY_ARGS(tg_minmax_params, int8_t, int8_t, int8_t));
void tg_minimum_s16(TG_BINARY_ARGS(tg_minmax_params, int16_t, int16_t, int16_t));
void tg_minimum_s32(TG_BINARY_ARGS(tg_minmax_params, int32_t, int32_t, int32_t));
void tg_div_s8(TG_BINARY_ARGS(tg_div_params, int8_t, int8_t, int8_t));
/* x / 0 gives 0 and INT32_MIN / -1 gives INT32_MIN, as Cortex-M's SDIV does (tflite-micro fails on both). */
void tg_div_s32(TG_BINARY_ARGS(tg_int32_arith_params, int32_t, int32_t, int32_t));
void tg_prelu_s8(TG_BINARY_ARGS(tg_prelu_params, int8_t, int8_t, int8_t));
void tg_prelu_s16(TG_BINARY_ARGS(tg_prelu_params, int16_t, int8_t, int16_t));

#ifdef __cplusplus
}
#endif

#endif /* TG_BINARY_H */
