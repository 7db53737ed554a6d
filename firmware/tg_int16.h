/*
 * tinygen C runtime: the arithmetic of the 16x8 kernels (int16 activations, int8 weights) of
 * convolution, depthwise convolution and fully connected layers.
 *
 * tflite-micro sums the products in int64 and adds an int64 bias, then requantizes the 64-bit
 * sum with a multiplier rounded to 16 bits (tg_requantize_s64). Where the model's bias is int32
 * (or, without a bias, its options ask for an int32 one) it sums in int32 instead, wrapping, and
 * requantizes with the 32-bit arithmetic of the int8 kernels (tg_requantize). The multipliers
 * and shifts are the int8 kernels' (tinygen/quantmath.py); tinygen checks at compile time that
 * every shift is at most 7, the range tflite-micro's 64-bit requantization is written for.
 */
#ifndef TG_INT16_H
#define TG_INT16_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * x * M, M = multiplier * 2^(shift - 31), as tflite-micro computes it for a 64-bit x: the Q31
 * multiplier is rounded to Q15 (to 0x7FFF from 0x7FFF0000 up, where rounding would carry into a
 * 16th bit), then x * multiplier_q15 is divided by 2^(15 - shift), rounding half up: a single
 * rounding, unlike tg_requantize's two. The product and the rounding term wrap where the
 * reference's int64 arithmetic would overflow, and the result keeps the low 32 bits, as the
 * reference's conversion to int32 does.
 */
static inline int32_t tg_requantize_s64(int64_t x, int32_t multiplier, int32_t shift)
{
    const int64_t reduced = multiplier < 0x7FFF0000 ? ((int64_t)multiplier + (1 << 15)) >> 16 : 0x7FFF;
    const int total_shift = 15 - (int)shift;
    const uint64_t sum = (uint64_t)x * (uint64_t)reduced + ((uint64_t)1 << (total_shift - 1));
    return (int32_t)((int64_t)sum >> total_shift);
}

/* a + b modulo 2^64: the reference's int64 sums, without C's signed-overflow UB. */
static inline int64_t tg_add_wrap64(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }

/*
 * A 16x8 output value before the activation clamp: the sum of products of output channel c plus
 * its bias, requantized. With a 64-bit bias (or none, bias32 NULL and wide set) the sum is
 * int64; with a 32-bit one (wide clear) it is the int32 sum, which is the int64 sum modulo 2^32
 * as int32 additions wrap in any order.
 */
static inline int32_t tg_requantize_sum_s16(int64_t sum, int wide, const int64_t *bias64, const int32_t *bias32,
                                            int32_t c, const int32_t *multiplier, const int32_t *shift)
{
    if (wide) {
        return tg_requantize_s64(tg_add_wrap64(sum, bias64 ? bias64[c] : 0), multiplier[c], shift[c]);
    }
    const int32_t sum32 = tg_add_wrap((int32_t)(uint32_t)(uint64_t)sum, bias32 ? bias32[c] : 0);
    return tg_requantize(sum32, multiplier[c], shift[c]);
}

#ifdef __cplusplus
}
#endif

#endif /* TG_INT16_H */
