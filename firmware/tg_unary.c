#include "tg_unary.h"

#include "tg_fixedpoint.h"

void tg_abs_s8(const tg_abs_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)input[i] + p->input_offset;
        const int32_t magnitude = x < 0 ? -x : x;
        output[i] = tg_saturate_s8(tg_add_wrap(tg_requantize(magnitude, p->multiplier, p->shift), p->output_offset));
    }
}

/* The value of one element: the identity or the alpha branch, requantized (output offset not yet added). */
static inline int32_t leaky_relu(const tg_leaky_relu_params *p, int32_t x)
{
    if (x >= 0) {
        return tg_requantize(x, p->identity_multiplier, p->identity_shift);
    }
    const int32_t y = tg_requantize(x, p->alpha_multiplier, p->alpha_shift);
    return p->alpha_negative ? tg_mul_wrap(y, -1) : y;
}

void tg_leaky_relu_s8(const tg_leaky_relu_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = tg_saturate_s8(tg_add_wrap(leaky_relu(p, (int32_t)input[i] + p->input_offset), p->output_offset));
    }
}

void tg_leaky_relu_s16(const tg_leaky_relu_params *p, const int16_t *input, int16_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t y = tg_add_wrap(leaky_relu(p, (int32_t)input[i] + p->input_offset), p->output_offset);
        output[i] = (int16_t)tg_clamp_i32(y, INT16_MIN, INT16_MAX);
    }
}

/*
 * 1 / sqrt(v) for v in [2, 255] as tflite-micro's GetInvSqrtQuantizedMultiplierExp computes it:
 * returns a multiplier m and sets *shift so that 1 / sqrt(v) ~ m * 2^(*shift - 31).
 * v is moved into [2^27, 2^29) by an even left shift, read as Q3.28 (halved: a in [1/4, 1)),
 * and 1 / sqrt(a) in (1, 2] comes from five Newton steps x <- 1.5 x - (a / 2) x^3 from x = 1.
 */
static int32_t inv_sqrt(int32_t v, int32_t *shift)
{
    int leading_zeros = 0;
    while (!((uint32_t)v << leading_zeros & 0x80000000u)) {
        ++leading_zeros;
    }
    const int bit_pairs = (leading_zeros - 1) / 2 - 1;
    int32_t right_shift = 11 - bit_pairs;
    const int32_t a = (v << 2 * bit_pairs) >> 1; /* Q3.28 */
    const int32_t half_a = tg_rounding_divide_by_pot(a, 1);
    const int32_t three_halves = (1 << 28) + (1 << 27);
    int32_t x = 1 << 28;
    for (int i = 0; i < 5; ++i) {
        /* products of Q3 values are Q6 (x^3: Q9), brought back to Q3 by saturating shifts */
        const int32_t x3 =
            tg_fx_sat_mul_pot(tg_sat_rounding_doubling_high_mul(tg_sat_rounding_doubling_high_mul(x, x), x), 6);
        x = tg_fx_sat_mul_pot(
            tg_sat_rounding_doubling_high_mul(three_halves, x) - tg_sat_rounding_doubling_high_mul(half_a, x3), 3);
    }
    x = tg_sat_rounding_doubling_high_mul(x, 1518500250); /* times sqrt(2) / 2 (Q0.31) */
    if (right_shift < 0) {
        x = tg_shift_left_wrapping(x, (int)-right_shift);
        right_shift = 0;
    }
    *shift = -right_shift;
    return x;
}

void tg_rsqrt_s8(const tg_rsqrt_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t v = (int32_t)input[i] + p->input_offset; /* >= 0: the zero point is -128 */
        if (v == 0) {
            output[i] = INT8_MAX; /* tflite-micro's answer for 1 / sqrt(0) */
            continue;
        }
        int32_t multiplier = INT32_MAX, shift = 0; /* v = 1 */
        if (v > 1) {
            multiplier = inv_sqrt(v, &shift);
        }
        /* 1 / sqrt(v) as an integer times 2^20, then rescaled to the output */
        const int32_t scaled = tg_requantize(1, multiplier, shift + 20);
        output[i] = tg_saturate_s8(tg_add_wrap(tg_requantize(scaled, p->multiplier, p->shift), p->output_offset));
    }
}

/*
 * The int16 fixed-point helpers of tflite-micro's HARD_SWISH, on int16 values held in int32.
 * Rounding high multiply (gemmlowp's int16 SaturatingRoundingDoublingHighMul).
 */
static int32_t rounding_high_mul_s16(int32_t a, int32_t b)
{
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    const int32_t ab = a * b;
    return (ab + (ab >= 0 ? (1 << 14) : 1 - (1 << 14))) / (1 << 15); /* C division truncates toward zero */
}

/* The same, truncating toward zero instead of rounding. */
static int32_t truncating_high_mul_s16(int32_t a, int32_t b)
{
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    return a * b / (1 << 15);
}

static int32_t saturating_shift_left_s16(int32_t x, int amount)
{
    const int64_t shifted = (int64_t)x * ((int64_t)1 << amount);
    return shifted > INT16_MAX ? INT16_MAX : shifted < INT16_MIN ? INT16_MIN : (int32_t)shifted;
}

void tg_hard_swish_s8(const tg_hard_swish_params *p, const int8_t *input, int8_t *output)
{
    const int32_t rs = p->reluish_shift;
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t hires = ((int32_t)input[i] + p->input_offset) * (1 << 7); /* |x| <= 255 * 128: int16 */
        const int32_t preshift_output = rounding_high_mul_s16(hires, p->output_multiplier);
        /* "reluish": x on a scale where 3.0 is 2^15, saturated to [-1, 1]; a left shift is split
         * around the multiply so that only its last bit saturates */
        int32_t reluish = hires;
        if (rs > 0) {
            reluish = saturating_shift_left_s16(reluish, (int)rs - 1);
        }
        reluish = rounding_high_mul_s16(reluish, p->reluish_multiplier);
        if (rs > 0) {
            reluish = saturating_shift_left_s16(reluish, 1);
        } else if (rs < 0) {
            reluish = tg_rounding_divide_by_pot(reluish, (int)-rs);
        }
        reluish = (reluish + (1 << 15)) >> 1; /* [-1, 1] to [0, 1] */
        const int32_t product = truncating_high_mul_s16(reluish, preshift_output);
        const int32_t out = tg_rounding_divide_by_pot(product, (int)-p->output_shift) + p->output_offset;
        output[i] = tg_saturate_s8(out);
    }
}

void tg_lookup_s8(const tg_lookup_params *p, const int8_t *table, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = table[(uint8_t)input[i]];
    }
}
