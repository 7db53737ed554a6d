/*
 * Each output is (sum - zero point * count) requantized once by input scale / (output scale * count):
 * the 1/count is folded into the multiplier at compile time, as tflite-micro does, rather than
 * rounding the mean first and requantizing it after (which differs by one on some outputs).
 */
#include "tg_mean.h"

void tg_mean_s8(const tg_mean_params *p, const int8_t *input, int8_t *output)
{
    /* strides of the [outer, reduce_a, middle, reduce_b, inner] view */
    const size_t stride_b = (size_t)p->inner;
    const size_t stride_m = (size_t)p->reduce_b * stride_b;
    const size_t stride_a = (size_t)p->middle * stride_m;
    const size_t stride_o = (size_t)p->reduce_a * stride_a;
    for (int32_t o = 0; o < p->outer; ++o) {
        for (int32_t m = 0; m < p->middle; ++m) {
            for (int32_t i = 0; i < p->inner; ++i) {
                const int8_t *first = input + o * stride_o + m * stride_m + i;
                int32_t sum = p->sum_offset;
                for (int32_t a = 0; a < p->reduce_a; ++a) {
                    for (int32_t b = 0; b < p->reduce_b; ++b) {
                        sum += first[a * stride_a + b * stride_b];
                    }
                }
                *output++ = tg_saturate_s8(tg_requantize(sum, p->multiplier, p->shift) + p->output_offset);
            }
        }
    }
}
