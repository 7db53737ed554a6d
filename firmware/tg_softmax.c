/*
 * Per row: exp(beta * s_in * (x - max)) in Q0.31 via the Q5.26 scaled difference, summed in
 * Q12.19, then each exp times 1 / sum rescaled to the output (int8: scale 1/256, zero point -128;
 * int16: scale 1/65536, zero point -32768).
 */
#include "tg_softmax.h"

#include "tg_fixedpoint.h"

#define TG_SOFTMAX_DIFF_INT_BITS 5
#define TG_SOFTMAX_SUM_INT_BITS  12

/* exp(beta * s_in * diff) in Q0.31, for diff >= diff_min. */
static int32_t scaled_exp(const tg_softmax_params *p, int32_t diff)
{
    const int32_t scaled_diff = tg_requantize(diff, p->input_multiplier, p->input_shift); /* Q5.26 */
    return tg_fx_exp_on_negative_values(scaled_diff, TG_SOFTMAX_DIFF_INT_BITS);
}

/*
 * The rows, for an output of out_bits bits (8: out8, scale 1/256; 16: out16, scale 1/65536), each
 * probability offset by the output type's minimum.
 */
static void softmax_rows(const tg_softmax_params *p, const int8_t *input, int out_bits, int8_t *out8, int16_t *out16)
{
    const int32_t out_min = out_bits == 8 ? INT8_MIN : INT16_MIN, out_max = out_bits == 8 ? INT8_MAX : INT16_MAX;
    for (int32_t row = 0; row < p->rows; ++row) {
        const int8_t *in = input + (size_t)row * p->depth;
        const size_t first = (size_t)row * p->depth;
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
        /*
         * tflite-micro aborts once its final shift would exceed 31: at a sum of 2^(out_bits + 1), in
         * Q12.19 (512 for int8; the int16 output's limit is beyond any row tinygen compiles). Carrying
         * the arithmetic on, every exp / sum is under half an output step: all outputs are the minimum.
         */
        const int abort = sum >= ((int64_t)1 << (19 + out_bits + 1));
        int bits_over_unit = 0;
        const int32_t reciprocal = abort ? 0 : tg_fx_reciprocal((int32_t)sum, TG_SOFTMAX_SUM_INT_BITS, &bits_over_unit);
        /* exp / sum = exp * reciprocal * 2^-bits_over_unit; the output keeps out_bits fraction bits */
        const int exponent = bits_over_unit + 31 - out_bits;
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = in[c] - max;
            int32_t q = out_min;
            if (!abort && diff >= p->diff_min) {
                const int32_t probability = tg_sat_rounding_doubling_high_mul(reciprocal, scaled_exp(p, diff));
                q = tg_clamp_i32(tg_rounding_divide_by_pot(probability, exponent) + out_min, out_min, out_max);
            }
            if (out8) {
                out8[first + c] = (int8_t)q;
            } else {
                out16[first + c] = (int16_t)q;
            }
        }
    }
}

void tg_softmax_s8(const tg_softmax_params *p, const int8_t *input, int8_t *output)
{
    softmax_rows(p, input, 8, output, NULL);
}

void tg_softmax_s8_s16(const tg_softmax_params *p, const int8_t *input, int16_t *output)
{
    softmax_rows(p, input, 16, NULL, output);
}
