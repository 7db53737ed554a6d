#include <math.h>

#include "tg_quantize.h"

/* Past this magnitude every quantized value saturates anyway. */
#define TG_QUANTIZE_LIMIT 1024.0f

void tg_quantize_f32_s8(const tg_quantize_params *p, const float *scale, const float *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        /* float division and roundf (half away from zero), as the reference does. */
        float q = roundf(input[i] / *scale);
        /* Bound q before the int conversion, which the reference leaves undefined out of range;
         * NaN fails the first test and goes to the low end. */
        q = q > -TG_QUANTIZE_LIMIT ? q : -TG_QUANTIZE_LIMIT;
        q = q < TG_QUANTIZE_LIMIT ? q : TG_QUANTIZE_LIMIT;
        output[i] = tg_saturate_s8((int32_t)q + p->output_offset);
    }
}

void tg_requantize_s8(const tg_requantize_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)input[i] + p->input_offset;
        output[i] = tg_saturate_s8(tg_requantize(x, p->multiplier, p->shift) + p->output_offset);
    }
}

void tg_dequantize_s8_f32(const tg_dequantize_params *p, const float *scale, const int8_t *input, float *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        /* The reference multiplies in double and narrows once; a 9-bit integer times a
         * float32 is exact in double, so one float multiply gives the same correctly
         * rounded result without double arithmetic. */
        output[i] = *scale * (float)((int32_t)input[i] + p->input_offset);
    }
}
