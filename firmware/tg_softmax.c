/*
 * Per row: exp(beta * s_in * (x - max)) in Q0.31 via the Q5.26 scaled difference, summed in
 * Q12.19, then each exp times 1 / sum rescaled to the int8 output (scale 1/256, zero point -128).
 */
#include "tg_softmax.h"

#include "tg_fixedpoint.h"

#define TG_SOFTMAX_DIFF_INT_BITS 5
#define TG_SOFTMAX_SUM_INT_BITS  12

/* The sum of exps at which the reference interpreter aborts: 512 in Q12.19. */
#define TG_SOFTMAX_SUM_LIMIT ((int64_t)1 << 28)

/* exp(beta * s_in * diff) in Q0.31, for diff >= diff_min. */
static int32_t scaled_exp(const tg_softmax_params *p, int32_t diff)
{
    const int32_t scaled_diff = tg_requantize(diff, p->input_multiplier, p->input_shift); /* Q5.26 */
    return tg_fx_exp_on_negative_values(scaled_diff, TG_SOFTMAX_DIFF_INT_BITS);
}

void tg_softmax_s8(const tg_softmax_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t row = 0; row < p->rows; ++row) {
        const int8_t *in = input + (size_t)row * p->depth;
        int8_t *out = output + (size_t)row * p->depth;
        int32_t max = INT8_MIN;
        for (int32_t c = 0; c < p->depth; ++c) {
            max = tg_max_i32(max, in[c]);
        }
        int64_t sum = 0; /* Q12.19; 64 bits so that very deep rows cannot overflow */
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = in[c] - max;
            if (diff >= p->diff_min) {
                sum += tg_rounding_divide_by_pot(scaled_exp(p, diff), TG_SOFTMAX_SUM_INT_BITS); /* Q0.31 -> Q12.19 */
            }
        }
        if (sum >= TG_SOFTMAX_SUM_LIMIT) {
            /*
             * tflite-micro aborts here (its final shift would exceed 31). Carrying the arithmetic on,
             * every exp / sum is below 1/512, under half an output step: all outputs round to -128.
             */
            for (int32_t c = 0; c < p->depth; ++c) {
                out[c] = INT8_MIN;
            }
            continue;
        }
        int bits_over_unit;
        const int32_t reciprocal = tg_fx_reciprocal((int32_t)sum, TG_SOFTMAX_SUM_INT_BITS, &bits_over_unit);
        /* exp / sum = exp * reciprocal * 2^-bits_over_unit; the output keeps 8 fraction bits (scale 1/256) */
        const int exponent = bits_over_unit + 31 - 8;
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = in[c] - max;
            int32_t q = INT8_MIN;
            if (diff >= p->diff_min) {
                const int32_t probability = tg_sat_rounding_doubling_high_mul(reciprocal, scaled_exp(p, diff));
                q = tg_rounding_divide_by_pot(probability, exponent) + INT8_MIN;
            }
            out[c] = tg_saturate_s8(q);
        }
    }
}
