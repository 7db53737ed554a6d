#include "tg_relu.h"

void tg_relu_s8(const tg_relu_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)input[i] + p->input_offset;
        const int32_t out = tg_requantize(x, p->multiplier, p->shift) + p->output_offset;
        output[i] = (int8_t)tg_clamp_i32(out, p->act_min, p->act_max);
    }
}

void tg_relu6_s8(const tg_relu6_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = (int8_t)tg_clamp_i32(input[i], p->zero, p->six);
    }
}
