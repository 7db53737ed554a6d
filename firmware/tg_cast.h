/*
 * TFLite CAST: each value converted to the output type as C++'s static_cast does in tflite-micro.
 * Integers narrow or widen modulo 2^bits; floats truncate toward zero and saturate, NaN giving 0;
 * any type to bool gives value != 0 (bool is one byte holding 0 or 1). Suffixes: s8 int8, s16 int16,
 * s32 int32, u32 uint32, f32 float, b bool. Casts that keep the bytes (bool to int8, int32 to uint32
 * and back, one type to itself) run no kernel.
 */
#ifndef TG_CAST_H
#define TG_CAST_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t size;
} tg_cast_params;

void tg_cast_s8_s16(const tg_cast_params *p, const int8_t *input, int16_t *output);
void tg_cast_s8_s32(const tg_cast_params *p, const int8_t *input, int32_t *output);
void tg_cast_s8_f32(const tg_cast_params *p, const int8_t *input, float *output);
void tg_cast_s8_b(const tg_cast_params *p, const int8_t *input, uint8_t *output);

void tg_cast_s16_s8(const tg_cast_params *p, const int16_t *input, int8_t *output);
void tg_cast_s16_s32(const tg_cast_params *p, const int16_t *input, int32_t *output);
void tg_cast_s16_f32(const tg_cast_params *p, const int16_t *input, float *output);
void tg_cast_s16_b(const tg_cast_params *p, const int16_t *input, uint8_t *output);

void tg_cast_s32_s8(const tg_cast_params *p, const int32_t *input, int8_t *output);
void tg_cast_s32_s16(const tg_cast_params *p, const int32_t *input, int16_t *output);
void tg_cast_s32_f32(const tg_cast_params *p, const int32_t *input, float *output);
void tg_cast_s32_b(const tg_cast_params *p, const int32_t *input, uint8_t *output);

void tg_cast_s8_u32(const tg_cast_params *p, const int8_t *input, uint32_t *output);
void tg_cast_s16_u32(const tg_cast_params *p, const int16_t *input, uint32_t *output);
void tg_cast_b_u32(const tg_cast_params *p, const uint8_t *input, uint32_t *output);
void tg_cast_u32_s8(const tg_cast_params *p, const uint32_t *input, int8_t *output);
void tg_cast_u32_s16(const tg_cast_params *p, const uint32_t *input, int16_t *output);
void tg_cast_u32_f32(const tg_cast_params *p, const uint32_t *input, float *output);
void tg_cast_u32_b(const tg_cast_params *p, const uint32_t *input, uint8_t *output);

void tg_cast_f32_s8(const tg_cast_params *p, const float *input, int8_t *output);
void tg_cast_f32_s16(const tg_cast_params *p, const float *input, int16_t *output);
void tg_cast_f32_s32(const tg_cast_params *p, const float *input, int32_t *output);
void tg_cast_f32_b(const tg_cast_params *p, const float *input, uint8_t *output);

void tg_cast_b_s16(const tg_cast_params *p, const uint8_t *input, int16_t *output);
void tg_cast_b_s32(const tg_cast_params *p, const uint8_t *input, int32_t *output);
void tg_cast_b_f32(const tg_cast_params *p, const uint8_t *input, float *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_CAST_H */
