/*
 * tinygen C runtime: Q-format fixed-point math for the nonlinear kernels (softmax, logistic, tanh),
 * and requantization with compile-time tables (tg_requantize_folded, at the end).
 *
 * A value with `ib` integer bits is an int32 raw r meaning r / 2^(31 - ib). Products of two such
 * values are tg_sat_rounding_doubling_high_mul() (integer bits add up); sums are plain int32 adds.
 * The routines follow gemmlowp's fixedpoint.h, which TFLite Micro's int8 kernels use, step for step:
 * the constants and the order of roundings are what makes the results bit-exact, so do not
 * "simplify" an expression here without re-running the exhaustive tests.
 */
#ifndef TG_FIXEDPOINT_H
#define TG_FIXEDPOINT_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* (a + b) / 2, rounding half away from zero, without overflow. */
static inline int32_t tg_fx_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2); /* C division truncates toward zero */
}

/* x * 2^exponent, saturating when exponent > 0 and rounding half away from zero when it is < 0. */
static inline int32_t tg_fx_sat_mul_pot(int32_t x, int exponent)
{
    if (exponent <= 0) {
        return tg_rounding_divide_by_pot(x, -exponent);
    }
    const int32_t limit = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
    if (x > limit) {
        return INT32_MAX;
    }
    if (x < -limit) {
        return INT32_MIN;
    }
    return x * ((int32_t)1 << exponent);
}

/* exp(a) for a in [-1/4, 0), a and the result in Q0.31: a Taylor expansion around -1/8. */
static inline int32_t tg_fx_exp_on_interval_neg_quarter_to_0(int32_t a)
{
    const int32_t exp_neg_one_eighth = 1895147668; /* exp(-1/8) */
    const int32_t one_third = 715827883;
    const int32_t x = a + (1 << 28); /* a + 1/8, in [-1/8, 1/8) */
    const int32_t x2 = tg_sat_rounding_doubling_high_mul(x, x);
    const int32_t x3 = tg_sat_rounding_doubling_high_mul(x2, x);
    const int32_t x4 = tg_sat_rounding_doubling_high_mul(x2, x2);
    const int32_t x4_over_4 = tg_rounding_divide_by_pot(x4, 2);
    /* x^2/2 + x^3/6 + x^4/24 */
    const int32_t poly =
        tg_rounding_divide_by_pot(tg_sat_rounding_doubling_high_mul(x4_over_4 + x3, one_third) + x2, 1);
    return exp_neg_one_eighth + tg_sat_rounding_doubling_high_mul(exp_neg_one_eighth, x + poly);
}

/*
 * exp(a) for a <= 0 with int_bits integer bits (1..5), result in Q0.31.
 * a = r - k/4 with r in [-1/4, 0): exp(r) from the polynomial, then one multiply by
 * exp(-2^e) for each set bit of k/4. With at most 5 integer bits a >= -32, so gemmlowp's
 * underflow clamp for wider formats never applies and is left out.
 */
static inline int32_t tg_fx_exp_on_negative_values(int32_t a, int int_bits)
{
    static const int32_t exp_of_minus_pot[7] = {
        1672461947, /* exp(-1/4) */
        1302514674, /* exp(-1/2) */
        790015084,  /* exp(-1) */
        290630308,  /* exp(-2) */
        39332535,   /* exp(-4) */
        720401,     /* exp(-8) */
        242,        /* exp(-16) */
    };
    const int frac_bits = 31 - int_bits;
    const int32_t quarter = (int32_t)1 << (frac_bits - 2);
    const int32_t a_mod_quarter_minus_quarter = (a & (quarter - 1)) - quarter;
    int32_t result = tg_fx_exp_on_interval_neg_quarter_to_0(tg_fx_sat_mul_pot(a_mod_quarter_minus_quarter, int_bits));
    const int32_t remainder = a_mod_quarter_minus_quarter - a; /* k/4 >= 0 */
    for (int e = -2; e <= 4 && e < int_bits; ++e) {
        if (remainder & ((int32_t)1 << (frac_bits + e))) {
            result = tg_sat_rounding_doubling_high_mul(result, exp_of_minus_pot[e + 2]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/*
 * 2 / (1 + a) in Q2.29 for a in [0, 1) (Q0.31): three Newton-Raphson steps for 1 / h,
 * h = (1 + a) / 2, from the initial guess 48/17 - 32/17 * h.
 */
static inline int32_t tg_fx_newton_two_over_one_plus_x(int32_t a)
{
    const int32_t one_q29 = 1 << 29;
    const int32_t h = tg_fx_rounding_half_sum(a, INT32_MAX);
    int32_t x = 1515870810 /* 48/17 */ + tg_sat_rounding_doubling_high_mul(h, -1010580540 /* -32/17 */);
    for (int i = 0; i < 3; ++i) {
        const int32_t one_minus_hx = one_q29 - tg_sat_rounding_doubling_high_mul(h, x);
        x += tg_fx_sat_mul_pot(tg_sat_rounding_doubling_high_mul(x, one_minus_hx), 2); /* Q4.27 -> Q2.29 */
    }
    return x;
}

/* 1 / (1 + a) for a in [0, 1), both Q0.31. */
static inline int32_t tg_fx_one_over_one_plus_x(int32_t a)
{
    return tg_fx_sat_mul_pot(tg_fx_newton_two_over_one_plus_x(a), 1); /* halve (Q2 -> Q1), then Q1 -> Q0 */
}

/* (1 - a) / (1 + a) for a in [0, 1), both Q0.31. */
static inline int32_t tg_fx_one_minus_x_over_one_plus_x(int32_t a)
{
    return tg_fx_sat_mul_pot(tg_fx_newton_two_over_one_plus_x(a) - (1 << 29), 2);
}

/* 1 / (1 + exp(-a)) for a with int_bits integer bits (1..5), result in Q0.31. */
static inline int32_t tg_fx_logistic(int32_t a, int int_bits)
{
    if (a == 0) {
        return 1 << 30; /* 0.5 */
    }
    const int32_t magnitude = a > 0 ? a : -a;
    const int32_t p = tg_fx_one_over_one_plus_x(tg_fx_exp_on_negative_values(-magnitude, int_bits));
    return a > 0 ? p : INT32_MAX - p;
}

/* tanh(a) for a with int_bits integer bits (1..4), result in Q0.31: (1 - exp(-2|a|)) / (1 + exp(-2|a|)). */
static inline int32_t tg_fx_tanh(int32_t a, int int_bits)
{
    if (a == 0) {
        return 0;
    }
    const int32_t negative_magnitude = a < 0 ? a : -a;
    /* the same raw read with one more integer bit is 2 * negative_magnitude */
    const int32_t t = tg_fx_one_minus_x_over_one_plus_x(tg_fx_exp_on_negative_values(negative_magnitude, int_bits + 1));
    return a < 0 ? -t : t;
}

/*
 * 1 / x for x > 0 with int_bits integer bits: x = 2^n * (1 + f), f in [0, 1); returns
 * 1 / (1 + f) in Q0.31 and n in *bits_over_unit, so 1 / x = result * 2^-n.
 */
static inline int32_t tg_fx_reciprocal(int32_t x, int int_bits, int *bits_over_unit)
{
    uint32_t normalized = (uint32_t)x;
    int leading_zeros = 0;
    while (!(normalized & 0x80000000u)) {
        normalized <<= 1;
        ++leading_zeros;
    }
    *bits_over_unit = int_bits - leading_zeros;
    return tg_fx_one_over_one_plus_x((int32_t)(normalized - 0x80000000u));
}

/*
 * tg_requantize(x, multiplier, shift) + zero_point with the rounding and the zero point folded into
 * one compile-time 64-bit constant, for shift = -r in [-22, -1] (tinygen/ops/requant_table.py
 * builds the four words of t): t[0] = multiplier, t[1], t[2] = low and high words of
 * round = 2^30 + 2^(30+r) + zero_point * 2^(31+r), t[3] = r - 1.
 * tg_requantize computes floor((x * multiplier + 2^30 + 2^(30+r) - s * 2^31) / 2^(31+r)), s = [x < 0]
 * (the multiplier is positive); adding zero_point * 2^(31+r) inside the floor adds zero_point outside.
 * For r <= 22 the sum stays within int64 (|x * multiplier| < 2^62, |round| < 2^61), so its high
 * word shifted right by r - 1 is the result: one SMLAL and a few ALU instructions, no branch.
 */
static inline int32_t tg_requantize_folded(int32_t x, const int32_t *t)
{
    const int64_t round = (int64_t)t[2] * 4294967296 + (uint32_t)t[1];
    const int32_t negative = (int32_t)((uint32_t)x >> 31);
    /* two multiply-accumulates (SMLAL) on Arm: x * multiplier, then negative * -2^31 */
    const int64_t sum = round + (int64_t)x * t[0] + (int64_t)negative * INT32_MIN;
    return (int32_t)(sum >> 32) >> t[3];
}

#ifdef __cplusplus
}
#endif

#endif /* TG_FIXEDPOINT_H */
