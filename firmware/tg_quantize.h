/* Conversions between float and int8 and between int8 scales (TFLite QUANTIZE, DEQUANTIZE). */
#ifndef TG_QUANTIZE_H
#define TG_QUANTIZE_H

#include "tg_common.h"

typedef struct {
    int32_t size;
    int32_t output_offset; /* output zero point */
} tg_quantize_params;

typedef struct {
    int32_t size;
    int32_t input_offset; /* -input zero point */
    int32_t output_offset;
    int32_t multiplier, shift; /* input scale / output scale */
} tg_requantize_params;

typedef struct {
    int32_t size;
    int32_t input_offset; /* -input zero point */
} tg_dequantize_params;

/* scale points to the output's (one) scale. */
void tg_quantize_f32_s8(const tg_quantize_params *p, const float *scale, const float *input, int8_t *output);
void tg_requantize_s8(const tg_requantize_params *p, const int8_t *input, int8_t *output);
/* scale points to the input's (one) scale. */
void tg_dequantize_s8_f32(const tg_dequantize_params *p, const float *scale, const int8_t *input, float *output);

#endif /* TG_QUANTIZE_H */
