#include "tg_fully_connected.h"

/*
 * Output channels go in pairs (tg_dot2_nooffset_s8 reads each input byte once for both).
 * sum (w + fo)(x + io) = sum w x + io * sum w + fo * sum (x + io): the second term is in
 * folded_bias (compile time), the third is summed once per input row for a weight zero point.
 */
void tg_fully_connected_s8(const tg_fully_connected_params *p, const int8_t *input, const int8_t *filter,
                           const int32_t *folded_bias, const int32_t *multiplier, const int32_t *shift, int8_t *output)
{
    const int32_t depth = p->input_depth, out_depth = p->output_depth;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + (size_t)b * depth;
        int32_t in_sum = 0;
        if (p->filter_offset != 0) {
            for (int32_t d = 0; d < depth; ++d) {
                in_sum = tg_add_wrap(in_sum, (int32_t)in[d] + p->input_offset);
            }
        }
        const int32_t row_term = tg_mul_wrap(p->filter_offset, in_sum);
        for (int32_t oc = 0; oc < out_depth; oc += 2) {
            /* An odd last channel is computed twice and stored once. */
            const int32_t oc1 = tg_min_i32(oc + 1, out_depth - 1);
            int32_t acc[2] = {tg_add_wrap(folded_bias[oc], row_term), tg_add_wrap(folded_bias[oc1], row_term)};
            tg_dot2_nooffset_s8(in, filter + (size_t)oc * depth, filter + (size_t)oc1 * depth, depth, &acc[0], &acc[1]);
            for (int32_t k = 0; k <= oc1 - oc; ++k) {
                const int32_t value = tg_requantize(acc[k], multiplier[oc + k], shift[oc + k]) + p->output_offset;
                *output++ = (int8_t)tg_clamp_i32(value, p->act_min, p->act_max);
            }
        }
    }
}

/* The 16x8 layer; wide selects the int64 (bias64) or the int32 (bias32) arithmetic. */
static void fully_connected_s16(const tg_fully_connected_params *p, const int16_t *input, const int8_t *filter,
                                int wide, const int64_t *bias64, const int32_t *bias32, const int32_t *multiplier,
                                const int32_t *shift, int16_t *output)
{
    const int32_t depth = p->input_depth;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *in = input + (size_t)b * depth;
        for (int32_t oc = 0; oc < p->output_depth; ++oc) {
            const int8_t *w = filter + (size_t)oc * depth;
            int64_t sum = 0; /* each product fits 25 bits: the sum cannot overflow */
            for (int32_t d = 0; d < depth; ++d) {
                sum += ((int32_t)w[d] + p->filter_offset) * ((int32_t)in[d] + p->input_offset);
            }
            const int32_t value = tg_requantize_sum_s16(sum, wide, bias64, bias32, oc, multiplier, shift);
            *output++ = (int16_t)tg_clamp_i32(tg_add_wrap(value, p->output_offset), p->act_min, p->act_max);
        }
    }
}

void tg_fully_connected_s16(const tg_fully_connected_params *p, const int16_t *input, const int8_t *filter,
                            const int64_t *bias, const int32_t *multiplier, const int32_t *shift, int16_t *output)
{
    fully_connected_s16(p, input, filter, 1, bias, NULL, multiplier, shift, output);
}

void tg_fully_connected_s16_acc32(const tg_fully_connected_params *p, const int16_t *input, const int8_t *filter,
                                  const int32_t *bias, const int32_t *multiplier, const int32_t *shift, int16_t *output)
{
    fully_connected_s16(p, input, filter, 0, NULL, bias, multiplier, shift, output);
}
