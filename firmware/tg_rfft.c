#include "tg_rfft.h"

/*
 * Complex values are (real, imaginary) int16 pairs in plain int16_t arrays. Every sum and product
 * is formed in int32 and stored back as int16 by keeping the low 16 bits, as KISS FFT's int16 stores
 * do; products of Q15 values are rounded by adding 2^14 and shifting right by 15.
 */
typedef struct {
    int32_t r, i; /* each holds an int16 value */
} tg_cpx;

static inline tg_cpx cpx_load(const int16_t *a, int32_t k)
{
    tg_cpx c = {a[2 * k], a[2 * k + 1]};
    return c;
}

static inline void cpx_store(int16_t *a, int32_t k, tg_cpx c)
{
    a[2 * k] = tg_wrap_s16(c.r);
    a[2 * k + 1] = tg_wrap_s16(c.i);
}

static inline tg_cpx cpx(int32_t r, int32_t i)
{
    tg_cpx c = {tg_wrap_s16(r), tg_wrap_s16(i)};
    return c;
}

/* A Q15 product rounded to int16 (KISS FFT's sround of a 32-bit product). */
static inline int32_t q15_round(int32_t product) { return tg_wrap_s16((product + (1 << 14)) >> 15); }
static inline int32_t q15_mul(int32_t a, int32_t b) { return q15_round(a * b); }

static inline tg_cpx cpx_add(tg_cpx a, tg_cpx b) { return cpx(a.r + b.r, a.i + b.i); }
static inline tg_cpx cpx_sub(tg_cpx a, tg_cpx b) { return cpx(a.r - b.r, a.i - b.i); }

static inline tg_cpx cpx_mul(tg_cpx a, tg_cpx b)
{
    tg_cpx c = {q15_round(a.r * b.r - a.i * b.i), q15_round(a.r * b.i + a.i * b.r)};
    return c;
}

/* Division by the radix: a multiply by 32767 / radix (integer division) in Q15. */
static inline tg_cpx cpx_div(tg_cpx a, int32_t radix)
{
    const int32_t scale = 32767 / radix;
    tg_cpx c = {q15_mul(a.r, scale), q15_mul(a.i, scale)};
    return c;
}

static void butterfly2(int16_t *f, int32_t stride, int32_t m, const int16_t *tw)
{
    for (int32_t k = 0; k < m; ++k) {
        const tg_cpx a = cpx_div(cpx_load(f, k), 2);
        const tg_cpx t = cpx_mul(cpx_div(cpx_load(f, k + m), 2), cpx_load(tw, k * stride));
        cpx_store(f, k + m, cpx_sub(a, t));
        cpx_store(f, k, cpx_add(a, t));
    }
}

static void butterfly3(int16_t *f, int32_t stride, int32_t m, const int16_t *tw)
{
    const int32_t sin120 = cpx_load(tw, stride * m).i;
    for (int32_t k = 0; k < m; ++k) {
        tg_cpx a = cpx_div(cpx_load(f, k), 3);
        const tg_cpx b = cpx_mul(cpx_div(cpx_load(f, k + m), 3), cpx_load(tw, k * stride));
        const tg_cpx c = cpx_mul(cpx_div(cpx_load(f, k + 2 * m), 3), cpx_load(tw, 2 * k * stride));
        const tg_cpx sum = cpx_add(b, c);
        const tg_cpx diff = cpx_sub(b, c);
        const tg_cpx half = cpx(a.r - (sum.r >> 1), a.i - (sum.i >> 1));
        const tg_cpx rot = {q15_mul(diff.r, sin120), q15_mul(diff.i, sin120)};
        a = cpx_add(a, sum);
        cpx_store(f, k, a);
        cpx_store(f, k + m, cpx(half.r - rot.i, half.i + rot.r));
        cpx_store(f, k + 2 * m, cpx(half.r + rot.i, half.i - rot.r));
    }
}

static void butterfly4(int16_t *f, int32_t stride, int32_t m, const int16_t *tw)
{
    for (int32_t k = 0; k < m; ++k) {
        tg_cpx a = cpx_div(cpx_load(f, k), 4);
        const tg_cpx b = cpx_mul(cpx_div(cpx_load(f, k + m), 4), cpx_load(tw, k * stride));
        const tg_cpx c = cpx_mul(cpx_div(cpx_load(f, k + 2 * m), 4), cpx_load(tw, 2 * k * stride));
        const tg_cpx d = cpx_mul(cpx_div(cpx_load(f, k + 3 * m), 4), cpx_load(tw, 3 * k * stride));
        const tg_cpx a_minus_c = cpx_sub(a, c);
        const tg_cpx b_plus_d = cpx_add(b, d);
        const tg_cpx b_minus_d = cpx_sub(b, d);
        a = cpx_add(a, c);
        cpx_store(f, k + 2 * m, cpx_sub(a, b_plus_d));
        cpx_store(f, k, cpx_add(a, b_plus_d));
        cpx_store(f, k + m, cpx(a_minus_c.r + b_minus_d.i, a_minus_c.i - b_minus_d.r));
        cpx_store(f, k + 3 * m, cpx(a_minus_c.r - b_minus_d.i, a_minus_c.i + b_minus_d.r));
    }
}

static void butterfly5(int16_t *f, int32_t stride, int32_t m, const int16_t *tw)
{
    const tg_cpx ya = cpx_load(tw, stride * m);     /* exp(-2 pi i / 5) */
    const tg_cpx yb = cpx_load(tw, 2 * stride * m); /* exp(-4 pi i / 5) */
    for (int32_t u = 0; u < m; ++u) {
        tg_cpx x[5];
        for (int32_t q = 0; q < 5; ++q) {
            x[q] = cpx_div(cpx_load(f, u + q * m), 5);
        }
        for (int32_t q = 1; q < 5; ++q) {
            x[q] = cpx_mul(x[q], cpx_load(tw, q * u * stride));
        }
        const tg_cpx s14 = cpx_add(x[1], x[4]), d14 = cpx_sub(x[1], x[4]);
        const tg_cpx s23 = cpx_add(x[2], x[3]), d23 = cpx_sub(x[2], x[3]);
        const tg_cpx e1 = cpx(x[0].r + q15_mul(s14.r, ya.r) + q15_mul(s23.r, yb.r),
                              x[0].i + q15_mul(s14.i, ya.r) + q15_mul(s23.i, yb.r));
        const tg_cpx o1 =
            cpx(q15_mul(d14.i, ya.i) + q15_mul(d23.i, yb.i), -q15_mul(d14.r, ya.i) - q15_mul(d23.r, yb.i));
        const tg_cpx e2 = cpx(x[0].r + q15_mul(s14.r, yb.r) + q15_mul(s23.r, ya.r),
                              x[0].i + q15_mul(s14.i, yb.r) + q15_mul(s23.i, ya.r));
        const tg_cpx o2 =
            cpx(-q15_mul(d14.i, yb.i) + q15_mul(d23.i, ya.i), q15_mul(d14.r, yb.i) - q15_mul(d23.r, ya.i));
        cpx_store(f, u, cpx(x[0].r + s14.r + s23.r, x[0].i + s14.i + s23.i));
        cpx_store(f, u + m, cpx_sub(e1, o1));
        cpx_store(f, u + 4 * m, cpx_add(e1, o1));
        cpx_store(f, u + 2 * m, cpx_add(e2, o2));
        cpx_store(f, u + 3 * m, cpx_sub(e2, o2));
    }
}

/* The complex FFT of n points, in place in f, its input already in `order`. */
static void complex_fft(int16_t *f, int32_t n, const int32_t *factors, int32_t stages, const int16_t *tw)
{
    for (int32_t s = stages - 1; s >= 0; --s) {
        const int32_t radix = factors[2 * s], m = factors[2 * s + 1];
        const int32_t stride = n / (radix * m); /* the product of the radixes before this stage */
        for (int32_t block = 0; block < stride; ++block) {
            int16_t *b = f + 2 * block * radix * m;
            switch (radix) {
            case 2:
                butterfly2(b, stride, m, tw);
                break;
            case 3:
                butterfly3(b, stride, m, tw);
                break;
            case 4:
                butterfly4(b, stride, m, tw);
                break;
            default:
                butterfly5(b, stride, m, tw);
                break;
            }
        }
    }
}

/* The n + 1 bins of the real signal from the complex FFT z of its n (even, odd) pairs, in place. */
static void split_real(int16_t *z, int32_t n, const int16_t *split_tw)
{
    const tg_cpx dc = cpx_div(cpx_load(z, 0), 2);
    cpx_store(z, 0, cpx(dc.r + dc.i, 0));
    cpx_store(z, n, cpx(dc.r - dc.i, 0));
    for (int32_t k = 1; k <= n / 2; ++k) {
        const tg_cpx zk = cpx_load(z, k);
        const tg_cpx zn = cpx_load(z, n - k);
        const tg_cpx a = cpx_div(zk, 2);
        const tg_cpx b = cpx_div(cpx(zn.r, -zn.i), 2); /* the conjugate of z[n - k] */
        const tg_cpx even = cpx_add(a, b);
        const tg_cpx odd = cpx_mul(cpx_sub(a, b), cpx_load(split_tw, k - 1));
        cpx_store(z, k, cpx((even.r + odd.r) >> 1, (even.i + odd.i) >> 1));
        cpx_store(z, n - k, cpx((even.r - odd.r) >> 1, (odd.i - even.i) >> 1)); /* k == n / 2: this one wins */
    }
}

void tg_signal_rfft_s16(const tg_signal_rfft_params *p, const int32_t *factors, const int16_t *order,
                        const int16_t *twiddles, const int16_t *split_twiddles, const int16_t *input, int16_t *output)
{
    const int32_t n = p->fft_length / 2;
    for (int32_t row = 0; row < p->frames; ++row) {
        const int16_t *x = input + row * p->input_length;
        int16_t *z = output + row * (2 * n + 2);
        for (int32_t j = 0; j < n; ++j) {
            const int32_t e = 2 * order[j]; /* samples e and e + 1, zero past the row's end */
            z[2 * j] = e < p->input_length ? x[e] : 0;
            z[2 * j + 1] = e + 1 < p->input_length ? x[e + 1] : 0;
        }
        complex_fft(z, n, factors, p->stages, twiddles);
        split_real(z, n, split_twiddles);
    }
}
