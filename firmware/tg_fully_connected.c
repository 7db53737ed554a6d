#include "tg_fully_connected.h"

void tg_fully_connected_s8(const tg_fully_connected_params *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, const int32_t *multiplier, const int32_t *shift, int8_t *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + (size_t)b * p->input_depth;
        for (int32_t oc = 0; oc < p->output_depth; ++oc) {
            const int8_t *w = filter + (size_t)oc * p->input_depth;
            int32_t acc = 0;
            for (int32_t d = 0; d < p->input_depth; ++d) {
                acc += ((int32_t)w[d] + p->filter_offset) * ((int32_t)in[d] + p->input_offset);
            }
            if (bias) {
                acc += bias[oc];
            }
            acc = tg_requantize(acc, multiplier[oc], shift[oc]) + p->output_offset;
            *output++ = (int8_t)tg_clamp_i32(acc, p->act_min, p->act_max);
        }
    }
}
