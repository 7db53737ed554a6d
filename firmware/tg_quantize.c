#include <math.h>

#include "tg_quantize.h"

/* Past this magnitude every int8 and int16 output saturates anyway (zero points lie in the
 * output's range). */
#define TG_QUANTIZE_LIMIT 65536.0f

/* round(x / scale) + offset, clamped to [lo, hi]. */
static int32_t tg_quantize_value(float x, float scale, int32_t offset, int32_t lo, int32_t hi)
{
    /* float division and roundf (half away from zero), as the reference does. */
    float q = roundf(x / scale);
    /* Bound q before the int conversion, which the reference leaves undefined out of range;
     * NaN fails the first test and goes to the low end. */
    q = q > -TG_QUANTIZE_LIMIT ? q : -TG_QUANTIZE_LIMIT;
    q = q < TG_QUANTIZE_LIMIT ? q : TG_QUANTIZE_LIMIT;
    return tg_clamp_i32((int32_t)q + offset, lo, hi);
}

void tg_quantize_f32_s8(const tg_quantize_params *p, const float *scale, const float *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = (int8_t)tg_quantize_value(input[i], *scale, p->output_offset, INT8_MIN, INT8_MAX);
    }
}

void tg_quantize_f32_s16(const tg_quantize_params *p, const float *scale, const float *input, int16_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = (int16_t)tg_quantize_value(input[i], *scale, p->output_offset, INT16_MIN, INT16_MAX);
    }
}

/* (q - input zero point) rescaled, plus the output zero point, clamped to [lo, hi]. The sums wrap
 * like the reference's int32 arithmetic (they can only overflow for int32 inputs or huge scales). */
static inline int32_t tg_requantize_value(const tg_requantize_params *p, int32_t q, int32_t lo, int32_t hi)
{
    const int32_t x = tg_add_wrap(q, p->input_offset);
    return tg_clamp_i32(tg_add_wrap(tg_requantize(x, p->multiplier, p->shift), p->output_offset), lo, hi);
}

/* One loop per (input, output) type pair: only the element types and the output range differ. */
#define TG_DEFINE_REQUANTIZE(name, in_t, out_t, lo, hi)                                                                \
    void name(const tg_requantize_params *p, const in_t *input, out_t *output)                                         \
    {                                                                                                                  \
        for (int32_t i = 0; i < p->size; ++i) {                                                                        \
            output[i] = (out_t)tg_requantize_value(p, (int32_t)input[i], lo, hi);                                      \
        }                                                                                                              \
    }

TG_DEFINE_REQUANTIZE(tg_requantize_s8, int8_t, int8_t, INT8_MIN, INT8_MAX)
TG_DEFINE_REQUANTIZE(tg_requantize_s8_u8, int8_t, uint8_t, 0, UINT8_MAX)
TG_DEFINE_REQUANTIZE(tg_requantize_s8_s16, int8_t, int16_t, INT16_MIN, INT16_MAX)
TG_DEFINE_REQUANTIZE(tg_requantize_s8_s32, int8_t, int32_t, INT32_MIN, INT32_MAX)
TG_DEFINE_REQUANTIZE(tg_requantize_u8_s8, uint8_t, int8_t, INT8_MIN, INT8_MAX)
TG_DEFINE_REQUANTIZE(tg_requantize_s16_s8, int16_t, int8_t, INT8_MIN, INT8_MAX)
TG_DEFINE_REQUANTIZE(tg_requantize_s16, int16_t, int16_t, INT16_MIN, INT16_MAX)
TG_DEFINE_REQUANTIZE(tg_requantize_s16_s32, int16_t, int32_t, INT32_MIN, INT32_MAX)
TG_DEFINE_REQUANTIZE(tg_requantize_s32_s8, int32_t, int8_t, INT8_MIN, INT8_MAX)
TG_DEFINE_REQUANTIZE(tg_requantize_s32_s16, int32_t, int16_t, INT16_MIN, INT16_MAX)

/*
 * The reference multiplies in double and narrows once; q - zero point has at most 17 bits,
 * so the exact product of it and a float32 scale fits a double, and one float multiply gives
 * the same correctly rounded result without double arithmetic.
 */
#define TG_DEFINE_DEQUANTIZE(name, in_t)                                                                               \
    void name(const tg_dequantize_params *p, const float *scale, const in_t *input, float *output)                     \
    {                                                                                                                  \
        for (int32_t i = 0; i < p->size; ++i) {                                                                        \
            output[i] = *scale * (float)((int32_t)input[i] + p->input_offset);                                         \
        }                                                                                                              \
    }

TG_DEFINE_DEQUANTIZE(tg_dequantize_s8_f32, int8_t)
TG_DEFINE_DEQUANTIZE(tg_dequantize_u8_f32, uint8_t)
TG_DEFINE_DEQUANTIZE(tg_dequantize_s16_f32, int16_t)
