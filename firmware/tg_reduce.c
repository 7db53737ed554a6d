/*
 * REDUCE_MAX/MIN keep one raw int8 value per group (the output shares the input's quantization).
 * ARG_MAX/MIN return the first index of the extreme value. L2_NORMALIZATION divides each row by
 * its L2 norm with tflite-micro's fixed-point inverse square root (gemmlowp's Newton-Raphson).
 */
#include "tg_reduce.h"

#include "tg_fixedpoint.h"

/* The largest (want_max) or smallest value of each group of the [outer, reduce_a, middle, reduce_b, inner] view. */
static void reduce_extreme_s8(const tg_reduce_params *p, const int8_t *input, int8_t *output, int want_max)
{
    const size_t stride_b = (size_t)p->inner;
    const size_t stride_m = (size_t)p->reduce_b * stride_b;
    const size_t stride_a = (size_t)p->middle * stride_m;
    const size_t stride_o = (size_t)p->reduce_a * stride_a;
    for (int32_t o = 0; o < p->outer; ++o) {
        for (int32_t m = 0; m < p->middle; ++m) {
            for (int32_t i = 0; i < p->inner; ++i) {
                const int8_t *first = input + o * stride_o + m * stride_m + i;
                int8_t best = first[0];
                for (int32_t a = 0; a < p->reduce_a; ++a) {
                    for (int32_t b = 0; b < p->reduce_b; ++b) {
                        const int8_t v = first[a * stride_a + b * stride_b];
                        if (want_max ? v > best : v < best) {
                            best = v;
                        }
                    }
                }
                *output++ = best;
            }
        }
    }
}

void tg_reduce_max_s8(const tg_reduce_params *p, const int8_t *input, int8_t *output)
{
    reduce_extreme_s8(p, input, output, 1);
}

void tg_reduce_min_s8(const tg_reduce_params *p, const int8_t *input, int8_t *output)
{
    reduce_extreme_s8(p, input, output, 0);
}

/*
 * The index of the largest (want_max) or smallest value along the axis, for each element type.
 * Only a strictly greater (smaller) value replaces the one found so far: ties go to the first index.
 */
#define TG_DEFINE_ARG_EXTREME(name, type)                                                                              \
    static void name(const tg_arg_params *p, const type *input, int32_t *output, int want_max)                         \
    {                                                                                                                  \
        for (int32_t o = 0; o < p->outer; ++o) {                                                                       \
            const type *block = input + (size_t)o * (size_t)p->axis_size * (size_t)p->inner;                           \
            for (int32_t i = 0; i < p->inner; ++i) {                                                                   \
                type best = block[i];                                                                                  \
                int32_t index = 0;                                                                                     \
                for (int32_t k = 1; k < p->axis_size; ++k) {                                                           \
                    const type v = block[(size_t)k * (size_t)p->inner + (size_t)i];                                    \
                    if (want_max ? v > best : v < best) {                                                              \
                        best = v;                                                                                      \
                        index = k;                                                                                     \
                    }                                                                                                  \
                }                                                                                                      \
                *output++ = index;                                                                                     \
            }                                                                                                          \
        }                                                                                                              \
    }

TG_DEFINE_ARG_EXTREME(arg_extreme_s8, int8_t)
TG_DEFINE_ARG_EXTREME(arg_extreme_f32, float)

void tg_arg_max_s8(const tg_arg_params *p, const int8_t *input, int32_t *output)
{
    arg_extreme_s8(p, input, output, 1);
}

void tg_arg_min_s8(const tg_arg_params *p, const int8_t *input, int32_t *output)
{
    arg_extreme_s8(p, input, output, 0);
}

void tg_arg_max_f32(const tg_arg_params *p, const float *input, int32_t *output)
{
    arg_extreme_f32(p, input, output, 1);
}

void tg_arg_min_f32(const tg_arg_params *p, const float *input, int32_t *output)
{
    arg_extreme_f32(p, input, output, 0);
}

/* The output is x * 2^7 / norm: the 1/128 grid. */
#define TG_L2_OUTPUT_BITS 7

static int leading_zeros_u32(uint32_t x)
{
    int n = 0;
    while (n < 32 && !(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
}

/*
 * 1 / sqrt(sum) as multiplier * 2^(-shift - 31) (tflite-micro's GetInvSqrtQuantizedMultiplierExp).
 * sum is brought into [2^27, 2^29) by dividing by 4 or shifting left by bit pairs (so the square
 * root moves by whole bits), read as a Q3.28 value y in [1/4, 1), and 1/sqrt(y) comes from five
 * Newton-Raphson steps x <- 3/2 x - y/2 x^3 from x = 1 in Q3.28. Sums of 0 and 1 count as 1.
 */
static int32_t inv_sqrt_multiplier(int32_t sum, int32_t *shift)
{
    if (sum <= 1) {
        *shift = 0;
        return INT32_MAX;
    }
    int32_t exponent = 11;
    while (sum >= (1 << 29)) {
        sum /= 4;
        ++exponent;
    }
    const int pairs = (leading_zeros_u32((uint32_t)sum) - 1) / 2 - 1;
    exponent -= pairs;
    sum <<= 2 * pairs;
    const int32_t half_y = tg_rounding_divide_by_pot(sum >> 1, 1); /* Q3.28 */
    const int32_t three_halves = (1 << 28) + (1 << 27);            /* Q3.28 */
    int32_t x = 1 << 28;                                           /* 1 in Q3.28 */
    for (int i = 0; i < 5; ++i) {
        /* Q3 * Q3 * Q3 = Q9.22, back to Q3.28; the products Q6.25, their difference back to Q3.28 */
        const int32_t x3 =
            tg_fx_sat_mul_pot(tg_sat_rounding_doubling_high_mul(tg_sat_rounding_doubling_high_mul(x, x), x), 6);
        const int32_t next =
            tg_sat_rounding_doubling_high_mul(three_halves, x) - tg_sat_rounding_doubling_high_mul(half_y, x3);
        x = tg_fx_sat_mul_pot(next, 3);
    }
    int32_t multiplier = tg_sat_rounding_doubling_high_mul(x, 1518500250 /* sqrt(2) / 2 in Q0.31 */);
    if (exponent < 0) {
        multiplier = (int32_t)((uint32_t)multiplier << -exponent);
        exponent = 0;
    }
    *shift = exponent;
    return multiplier;
}

void tg_l2_normalization_s8(const tg_l2_normalization_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t row = 0; row < p->outer; ++row) {
        const int8_t *in = input + (size_t)row * p->depth;
        int8_t *out = output + (size_t)row * p->depth;
        int32_t sum = 0; /* compile time checks that it cannot overflow */
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t v = in[c] + p->input_offset;
            sum += v * v;
        }
        int32_t shift;
        const int32_t multiplier = inv_sqrt_multiplier(sum, &shift);
        /* in[c] is read before out[c] is written and nothing after it: the output may be the input */
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t v = in[c] + p->input_offset;
            out[c] = tg_saturate_s8(tg_requantize(v, multiplier, TG_L2_OUTPUT_BITS - shift));
        }
    }
}
