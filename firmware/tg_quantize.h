/*
 * Conversions between float and the integer types, and between integer scales (TFLite QUANTIZE,
 * DEQUANTIZE). Kernel suffixes name the types: s8 int8, u8 uint8, s16 int16, s32 int32, f32 float;
 * a requantize between two tensors of one type carries its suffix once (tg_requantize_s8).
 */
#ifndef TG_QUANTIZE_H
#define TG_QUANTIZE_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

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
void tg_quantize_f32_s16(const tg_quantize_params *p, const float *scale, const float *input, int16_t *output);

/* The pairs tflite-micro's QUANTIZE requantizes. */
void tg_requantize_s8(const tg_requantize_params *p, const int8_t *input, int8_t *output);
void tg_requantize_s8_u8(const tg_requantize_params *p, const int8_t *input, uint8_t *output);
void tg_requantize_s8_s16(const tg_requantize_params *p, const int8_t *input, int16_t *output);
void tg_requantize_s8_s32(const tg_requantize_params *p, const int8_t *input, int32_t *output);
void tg_requantize_u8_s8(const tg_requantize_params *p, const uint8_t *input, int8_t *output);
void tg_requantize_s16_s8(const tg_requantize_params *p, const int16_t *input, int8_t *output);
void tg_requantize_s16(const tg_requantize_params *p, const int16_t *input, int16_t *output);
void tg_requantize_s16_s32(const tg_requantize_params *p, const int16_t *input, int32_t *output);
void tg_requantize_s32_s8(const tg_requantize_params *p, const int32_t *input, int8_t *output);
void tg_requantize_s32_s16(const tg_requantize_params *p, const int32_t *input, int16_t *output);

/* scale points to the input's (one) scale. */
void tg_dequantize_s8_f32(const tg_dequantize_params *p, const float *scale, const int8_t *input, float *output);
void tg_dequantize_u8_f32(const tg_dequantize_params *p, const float *scale, const uint8_t *input, float *output);
void tg_dequantize_s16_f32(const tg_dequantize_params *p, const float *scale, const int16_t *input, float *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_QUANTIZE_H */
