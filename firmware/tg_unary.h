/*
 * Element-wise int8 ops of one input (TFLite ABS, LEAKY_RELU, RSQRT, HARD_SWISH, ELU), with
 * tflite-micro's integer arithmetic. Every kernel reads element i before writing element i, so the
 * output may be the input's storage.
 */
#ifndef TG_UNARY_H
#define TG_UNARY_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t size;
    int32_t input_offset, output_offset; /* -input zero point, output zero point */
    int32_t multiplier, shift;           /* input scale / output scale */
} tg_abs_params;

typedef struct {
    int32_t size;
    int32_t input_offset, output_offset;
    int32_t identity_multiplier, identity_shift; /* x >= 0: input scale / output scale */
    int32_t alpha_multiplier, alpha_shift;       /* x < 0: |alpha| * input scale / output scale */
    int32_t alpha_negative;                      /* 1: alpha < 0, the x < 0 branch is negated */
} tg_leaky_relu_params;

typedef struct {
    int32_t size;
    int32_t input_offset, output_offset; /* input_offset is 128: every input is >= the zero point */
    int32_t multiplier, shift;           /* 1 / (sqrt(input scale) * output scale), shift less 20 */
} tg_rsqrt_params;

typedef struct {
    int32_t size;
    int32_t input_offset, output_offset;
    int32_t output_multiplier, output_shift;   /* Q15; input scale / 128 / output scale, shift in [-15, 0] */
    int32_t reluish_multiplier, reluish_shift; /* Q15; input scale / 128 / (3 / 32768), shift in [-15, 30] */
} tg_hard_swish_params;

/* A 256-entry table indexed by the input byte read as uint8_t (ELU). */
typedef struct {
    int32_t size;
} tg_lookup_params;

void tg_abs_s8(const tg_abs_params *p, const int8_t *input, int8_t *output);
void tg_leaky_relu_s8(const tg_leaky_relu_params *p, const int8_t *input, int8_t *output);
void tg_leaky_relu_s16(const tg_leaky_relu_params *p, const int16_t *input, int16_t *output);
void tg_rsqrt_s8(const tg_rsqrt_params *p, const int8_t *input, int8_t *output);
void tg_hard_swish_s8(const tg_hard_swish_params *p, const int8_t *input, int8_t *output);
void tg_lookup_s8(const tg_lookup_params *p, const int8_t *table, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_UNARY_H */
