/*
 * tinygen C runtime: shared types and the requantization arithmetic.
 *
 * Every kernel accumulates in int32 and brings the sum back to int8 with
 * tg_requantize(): multiply by a real number M = multiplier * 2^(shift - 31),
 * where multiplier is a Q31 significand in [2^30, 2^31) and shift the exponent.
 * This is TFLite Micro's reference ("double rounding") arithmetic:
 *   1. x is shifted left by max(shift, 0) (wrapping like the reference's int multiply),
 *   2. multiplied by the Q31 significand, keeping the rounded high 32 bits of the
 *      doubled 64-bit product (saturating the single overflow case INT32_MIN^2),
 *   3. divided by 2^max(-shift, 0), rounding half away from zero.
 * Both roundings matter: a single-rounding implementation differs by one on some outputs.
 * The multipliers and shifts are computed at compile time (tinygen/quantmath.py).
 */
#ifndef TG_COMMON_H
#define TG_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define TG_ALIGN16 __attribute__((aligned(16)))
#else
#define TG_ALIGN16
#endif

/* A 4-D activation or filter shape (NHWC; filters: n = output channels). */
typedef struct {
    int32_t n, h, w, c;
} tg_dims;

static inline int32_t tg_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t tg_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t tg_clamp_i32(int32_t x, int32_t lo, int32_t hi) { return tg_min_i32(tg_max_i32(x, lo), hi); }

/* round(a * b / 2^31), saturating the one overflowing case. */
static inline int32_t tg_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* C division truncates toward zero */
}

/* x / 2^exponent, rounding half away from zero; exponent in [0, 31]. */
static inline int32_t tg_rounding_divide_by_pot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * 2^exponent with wrap-around, as the reference's `x * (1 << exponent)` behaves. */
static inline int32_t tg_shift_left_wrapping(int32_t x, int exponent)
{
    return (int32_t)((uint32_t)x << exponent);
}

static inline int32_t tg_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int left = shift > 0 ? (int)shift : 0;
    const int right = shift > 0 ? 0 : (int)-shift;
    return tg_rounding_divide_by_pot(tg_sat_rounding_doubling_high_mul(tg_shift_left_wrapping(x, left), multiplier),
                                     right);
}

static inline int8_t tg_saturate_s8(int32_t x) { return (int8_t)tg_clamp_i32(x, INT8_MIN, INT8_MAX); }

#endif /* TG_COMMON_H */
