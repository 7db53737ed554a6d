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
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The Armv7E-M/Armv8-M DSP instructions (SXTB16, SADD16, SMLAD, SMLABB, SMLATT) on
 * Cortex-M4/M7/M33. Little-endian only: the lane order of the packed loads assumes it.
 * Everything else (host, Cortex-M0+/M3) takes the portable C path, which gives the same bits.
 */
#if defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32) && !defined(__ARM_BIG_ENDIAN)
#define TG_USE_DSP 1
#else
#define TG_USE_DSP 0
#endif

/*
 * A compile-time check. Generated model.c files assert with it that each params struct has
 * the size and field offsets tinygen's Python mirror assumes (tinygen/ops/cstruct.py).
 */
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define TG_STATIC_ASSERT(cond, message) _Static_assert(cond, message)
#else
#define TG_STATIC_ASSERT_NAME_(line)    tg_static_assert_line_##line
#define TG_STATIC_ASSERT_NAME(line)     TG_STATIC_ASSERT_NAME_(line)
#define TG_STATIC_ASSERT(cond, message) typedef char TG_STATIC_ASSERT_NAME(__LINE__)[(cond) ? 1 : -1]
#endif

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

/* The low 16 bits of x as a signed value: what C++ gives when it narrows an int to int16_t (C
 * leaves narrowing out of range to the implementation, so the wrap is spelled out). */
static inline int16_t tg_wrap_s16(int32_t x)
{
    const int32_t low = (int32_t)((uint32_t)x & 0xFFFFu);
    return (int16_t)(low < 32768 ? low : low - 65536);
}

/* a + b and a * b modulo 2^32: the reference's int32 sums, without C's signed-overflow UB. */
static inline int32_t tg_add_wrap(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t tg_mul_wrap(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }

/*
 * The filter taps f in [*lo, *hi) of a window starting at input index i0 whose input index
 * i0 + f * dilation lies in [0, size): the others fall in the zero padding. *lo >= *hi when none does.
 */
static inline void tg_valid_taps(int32_t i0, int32_t dilation, int32_t taps, int32_t size, int32_t *lo, int32_t *hi)
{
    *lo = i0 >= 0 ? 0 : (-i0 + dilation - 1) / dilation;
    *hi = i0 >= size ? 0 : tg_min_i32(taps, (size - i0 + dilation - 1) / dilation);
}

/*
 * round(a * b / 2^31), saturating the one overflowing case. The reference adds a nudge of
 * 2^30 (ab >= 0) or 1 - 2^30 (ab < 0) and divides truncating toward zero; for ab < 0 that
 * truncation adds 2^31 - 1 before flooring, so both cases are floor((ab + 2^30) / 2^31):
 * one multiply-long, an add and a shift (>> of a negative int64 floors on GCC and Clang).
 */
static inline int32_t tg_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    return (int32_t)(((int64_t)a * (int64_t)b + (1 << 30)) >> 31);
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
static inline int32_t tg_shift_left_wrapping(int32_t x, int exponent) { return (int32_t)((uint32_t)x << exponent); }

/* The reference formulation, step by step (any shift; the fast path below falls back to it). */
static inline int32_t tg_requantize_reference(int32_t x, int32_t multiplier, int32_t shift)
{
    const int left = shift > 0 ? (int)shift : 0;
    const int right = shift > 0 ? 0 : (int)-shift;
    return tg_rounding_divide_by_pot(tg_sat_rounding_doubling_high_mul(tg_shift_left_wrapping(x, left), multiplier),
                                     right);
}

/*
 * The same value with one multiply-accumulate for shift in [-31, -1], the usual case
 * (scale products below 1/2). Let r = -shift, P = x * multiplier (int64, |P| <= 2^62) and
 * h = floor((P + 2^30) / 2^31) the high-mul. Rounding h / 2^r half away from zero is
 * floor((h + n) / 2^r) with n = 2^(r-1) - [h < 0], and floor((floor(A / B) + n) / C) =
 * floor((A + n * B) / (B * C)) for integers, so the result is one floor division:
 *   floor((P + 2^30 + 2^(30+r) - [h < 0] * 2^31) / 2^(31+r)) = floor((P + k * 2^30) / 2^(31+r)),
 *   k = 1 + 2^r - 2 * [h < 0].
 * [h < 0] may be replaced by s = [x and multiplier have opposite sign bits]: h < 0 means
 * P < -2^30, so s = 1; and where s = 1 but h >= 0, h = 0 (P in [-2^30, 0]), which
 * floor((0 + 2^(r-1) - 1) / 2^r) = floor((0 + 2^(r-1)) / 2^r) = 0 rounds alike for r >= 1.
 * The high-mul's saturation (x = multiplier = INT32_MIN: h = 2^31 - 1 instead of 2^31) does
 * not show after the division either: both round to 2^(31-r) for r >= 1.
 * The sum stays below 2^63 (|P| <= 2^62, k * 2^30 < 2^61 + 2^30) and, as 31 + r >= 32, the
 * result is the high word of the sum shifted right by r - 1, within [-2^30, 2^31).
 * tests/test_requantize.py compares both formulations on millions of inputs.
 */
static inline int32_t tg_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    if (shift >= 0 || shift < -31) {
        return tg_requantize_reference(x, multiplier, shift);
    }
    const int r = (int)-shift;
    const uint32_t k = 1u + ((uint32_t)1 << r) - (((uint32_t)(x ^ multiplier) >> 31) << 1);
    const int64_t sum = (int64_t)x * multiplier + ((int64_t)k << 30);
    return (int32_t)(sum >> 32) >> (r - 1);
}

/*
 * Dot products of int8 vectors, the inner loop of convolution and fully connected layers:
 * acc_r += sum over i < n of w_r[i] * (x[i] + x_offset), wrapping like the reference's int32
 * sums. x_offset is in [-127, 128], so x[i] + x_offset fits 16 bits. With the DSP extension
 * (Cortex-M4/M7/M33) four bytes are loaded at once and split by SXTB16 into the even and odd
 * lanes, and SMLAD does two 16-bit multiply-adds per instruction; the order of the additions
 * differs from the loop below, the int32 result (mod 2^32) does not.
 */
#if TG_USE_DSP
static inline uint32_t tg_load_s8x4(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v); /* one LDR: M4/M7/M33 allow unaligned word loads */
    return v;
}

/*
 * The instructions as inline assembly rather than arm_acle.h intrinsics, which older GCC
 * releases (as in some PlatformIO toolchains) lack. Not volatile: the compiler may still
 * schedule and combine them.
 */
static inline int32_t tg_sxtb16(uint32_t v) /* bytes 0 and 2, sign-extended to halfwords */
{
    int32_t r;
    __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(v));
    return r;
}

static inline int32_t tg_sxtb16_odd(uint32_t v) /* bytes 1 and 3, sign-extended to halfwords */
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

static inline int32_t tg_sadd16(int32_t a, int32_t b) /* halfword-wise a + b */
{
    int32_t r;
    __asm__("sadd16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

static inline int32_t tg_smlad(int32_t a, int32_t b, int32_t acc) /* acc + a.lo * b.lo + a.hi * b.hi */
{
    int32_t r;
    __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

static inline int32_t tg_smlabb(int32_t a, int32_t b, int32_t acc) /* acc + a.lo * b.lo */
{
    int32_t r;
    __asm__("smlabb %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

static inline int32_t tg_smlatt(int32_t a, int32_t b, int32_t acc) /* acc + a.hi * b.hi */
{
    int32_t r;
    __asm__("smlatt %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}
#endif

/* Two weight rows against one x (each x element is loaded and widened once for both). */
static inline void tg_dot2_s8(const int8_t *x, const int8_t *w0, const int8_t *w1, int32_t n, int32_t x_offset,
                              int32_t *acc0, int32_t *acc1)
{
    int32_t a0 = *acc0, a1 = *acc1, i = 0;
#if TG_USE_DSP
    const int32_t offsets = (int32_t)(((uint32_t)x_offset << 16) | ((uint32_t)x_offset & 0xFFFFu));
    for (; i + 4 <= n; i += 4) {
        const uint32_t xv = tg_load_s8x4(x + i), v0 = tg_load_s8x4(w0 + i), v1 = tg_load_s8x4(w1 + i);
        const int32_t even = tg_sadd16(tg_sxtb16(xv), offsets), odd = tg_sadd16(tg_sxtb16_odd(xv), offsets);
        a0 = tg_smlad(even, tg_sxtb16(v0), a0);
        a0 = tg_smlad(odd, tg_sxtb16_odd(v0), a0);
        a1 = tg_smlad(even, tg_sxtb16(v1), a1);
        a1 = tg_smlad(odd, tg_sxtb16_odd(v1), a1);
    }
#endif
    for (; i < n; ++i) {
        const int32_t v = (int32_t)x[i] + x_offset;
        a0 = tg_add_wrap(a0, (int32_t)w0[i] * v);
        a1 = tg_add_wrap(a1, (int32_t)w1[i] * v);
    }
    *acc0 = a0;
    *acc1 = a1;
}

/*
 * tg_dot2_s8 with x_offset = 0: sum w_r[i] * x[i]. Kernels call it where the input offset's
 * share, x_offset * sum w_r, is already folded into the bias at compile time (all taps in
 * the input), which saves the two SADD16 of every four bytes.
 */
static inline void tg_dot2_nooffset_s8(const int8_t *x, const int8_t *w0, const int8_t *w1, int32_t n, int32_t *acc0,
                                       int32_t *acc1)
{
    int32_t a0 = *acc0, a1 = *acc1, i = 0;
#if TG_USE_DSP
    for (; i + 4 <= n; i += 4) {
        const uint32_t xv = tg_load_s8x4(x + i), v0 = tg_load_s8x4(w0 + i), v1 = tg_load_s8x4(w1 + i);
        const int32_t even = tg_sxtb16(xv), odd = tg_sxtb16_odd(xv);
        a0 = tg_smlad(even, tg_sxtb16(v0), a0);
        a0 = tg_smlad(odd, tg_sxtb16_odd(v0), a0);
        a1 = tg_smlad(even, tg_sxtb16(v1), a1);
        a1 = tg_smlad(odd, tg_sxtb16_odd(v1), a1);
    }
#endif
    for (; i < n; ++i) {
        a0 = tg_add_wrap(a0, (int32_t)w0[i] * x[i]);
        a1 = tg_add_wrap(a1, (int32_t)w1[i] * x[i]);
    }
    *acc0 = a0;
    *acc1 = a1;
}

static inline int8_t tg_saturate_s8(int32_t x) { return (int8_t)tg_clamp_i32(x, INT8_MIN, INT8_MAX); }

#ifdef __cplusplus
}
#endif

#endif /* TG_COMMON_H */
