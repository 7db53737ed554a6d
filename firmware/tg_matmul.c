#include "tg_matmul.h"

void tg_mm_finish_one(int32_t acc, const int32_t *q, const tg_mm_output *o, int8_t *out)
{
    *out = tg_mm_finish(acc, q, o);
}

/*
 * One channel (record q) for both pixels. Saturation, the usual mode, is written out so that no
 * mode is tested per output.
 */
static inline void finish_channel(int32_t acc0, int32_t acc1, const int32_t *q, int32_t mode, const tg_mm_output *o,
                                  int8_t *out0, int8_t *out1)
{
    if (mode == TG_MM_FAST_SATURATE) {
        const int32_t multiplier = q[0], right_shift = q[1], rounding = q[2];
        *out0 = tg_mm_saturate_s8(tg_mm_requantize_fast(acc0, multiplier, right_shift, rounding));
        *out1 = tg_mm_saturate_s8(tg_mm_requantize_fast(acc1, multiplier, right_shift, rounding));
    } else {
        tg_mm_finish_one(acc0, q, o, out0);
        tg_mm_finish_one(acc1, q, o, out1);
    }
}

#if TG_USE_DSP
/* One word of a column or of the re-laid weights: both are word-aligned (the weights are laid out
 * in whole groups from an aligned array, the columns live in planned scratch). */
static inline int32_t load_word(const void *p)
{
    int32_t v;
    memcpy(&v, __builtin_assume_aligned(p, 4), sizeof v);
    return v;
}

/* a += column group x (two words) . weight group (even and odd lanes), one pixel, one channel. */
#define TG_MM_GROUP_MAC(a, xe, xo, we, wo) ((a) = tg_smlad((xo), (wo), tg_smlad((xe), (we), (a))))

/*
 * One group, two channels by two columns, as one block of assembly: the compiler, left to itself,
 * hoists the loads of the next group and runs out of registers (12 here: four sums, six values,
 * two pointers). Both pointers (lvalues) advance past the group. a<channel><column>.
 */
#define TG_MM_TWO_BY_TWO(cols, wts, a00, a10, a01, a11)                                                                \
    do {                                                                                                               \
        int32_t w0_, w1_, w0e_, w1e_, xe_, xo_;                                                                        \
        __asm__(                                                                                                       \
            "ldrd %[w0], %[w1], [%[wp]], #8\n\t"                                                                       \
            "ldrd %[xe], %[xo], [%[cp]], #8\n\t"                                                                       \
            "sxtb16 %[w0e], %[w0]\n\t"                                                                                 \
            "sxtb16 %[w0], %[w0], ror #8\n\t"                                                                          \
            "sxtb16 %[w1e], %[w1]\n\t"                                                                                 \
            "sxtb16 %[w1], %[w1], ror #8\n\t"                                                                          \
            "smlad %[s00], %[xe], %[w0e], %[s00]\n\t"                                                                  \
            "smlad %[s00], %[xo], %[w0], %[s00]\n\t"                                                                   \
            "smlad %[s10], %[xe], %[w1e], %[s10]\n\t"                                                                  \
            "smlad %[s10], %[xo], %[w1], %[s10]\n\t"                                                                   \
            "ldrd %[xe], %[xo], [%[cp]], #8\n\t"                                                                       \
            "smlad %[s01], %[xe], %[w0e], %[s01]\n\t"                                                                  \
            "smlad %[s01], %[xo], %[w0], %[s01]\n\t"                                                                   \
            "smlad %[s11], %[xe], %[w1e], %[s11]\n\t"                                                                  \
            "smlad %[s11], %[xo], %[w1], %[s11]"                                                                       \
            : [s00] "+r"(a00), [s10] "+r"(a10), [s01] "+r"(a01), [s11] "+r"(a11), [cp] "+r"(cols), [wp] "+r"(wts),     \
              [w0] "=&r"(w0_), [w1] "=&r"(w1_), [w0e] "=&r"(w0e_), [w1e] "=&r"(w1e_), [xe] "=&r"(xe_), [xo] "=&r"(xo_) \
            :                                                                                                          \
            : "memory");                                                                                               \
    } while (0)
#endif

/* sum over one group of a column (SXTB16 order) times one weight word (byte order). */
static inline int32_t group_dot(const int16_t *x, const int8_t *w, int32_t acc)
{
    acc = tg_add_wrap(acc, x[0] * w[0] + x[1] * w[2]);
    return tg_add_wrap(acc, x[2] * w[1] + x[3] * w[3]);
}

void tg_mm_two_columns_s8(const int16_t *columns, int32_t groups, const int8_t *weights, int32_t out_c,
                          const tg_mm_output *o, int8_t *out0, int8_t *out1)
{
    const int8_t *w = weights;
    const int32_t *q = o->quant + 1, *bias = o->bias, mode = o->quant[0];
    const size_t pixel_step = (size_t)(out1 - out0);
    int8_t *const end_out = out0 + (out_c & ~1);
    for (; out0 < end_out; out0 += 2, q += 2 * TG_MM_QUANT_FIELDS) {
        int32_t a00 = 0, a10 = 0; /* a<channel><column> */
        if (bias) {
            a00 = bias[0];
            a10 = bias[1];
            bias += 2;
        }
        int32_t a01 = a00, a11 = a10;
        const int16_t *x = columns;
#if TG_USE_DSP
        /* Two groups per pass (an odd one first), so the loop's own instructions count half. */
        const int16_t *end = x + (size_t)groups * 2 * TG_MM_GROUP;
        if (groups & 1) {
            TG_MM_TWO_BY_TWO(x, w, a00, a10, a01, a11);
        }
        while (x < end) {
            TG_MM_TWO_BY_TWO(x, w, a00, a10, a01, a11);
            TG_MM_TWO_BY_TWO(x, w, a00, a10, a01, a11);
        }
#else
        for (int32_t g = 0; g < groups; ++g, x += 2 * TG_MM_GROUP, w += 2 * TG_MM_GROUP) {
            a00 = group_dot(x, w, a00);
            a10 = group_dot(x, w + TG_MM_GROUP, a10);
            a01 = group_dot(x + TG_MM_GROUP, w, a01);
            a11 = group_dot(x + TG_MM_GROUP, w + TG_MM_GROUP, a11);
        }
#endif
        finish_channel(a00, a01, q, mode, o, out0, out0 + pixel_step);
        finish_channel(a10, a11, q + TG_MM_QUANT_FIELDS, mode, o, out0 + 1, out0 + 1 + pixel_step);
    }
    if (out_c & 1) { /* an odd last channel, its weights plain */
        int32_t a0 = bias ? bias[0] : 0, a1 = a0;
        const int16_t *x = columns;
        for (int32_t g = 0; g < groups; ++g, x += 2 * TG_MM_GROUP, w += TG_MM_GROUP) {
#if TG_USE_DSP
            const int32_t wv = load_word(w), we = tg_sxtb16((uint32_t)wv), wo = tg_sxtb16_odd((uint32_t)wv);
            TG_MM_GROUP_MAC(a0, load_word(x), load_word(x + 2), we, wo);
            TG_MM_GROUP_MAC(a1, load_word(x + 4), load_word(x + 6), we, wo);
#else
            a0 = group_dot(x, w, a0);
            a1 = group_dot(x + TG_MM_GROUP, w, a1);
#endif
        }
        tg_mm_finish_one(a0, q, o, out0);
        tg_mm_finish_one(a1, q, o, out0 + pixel_step);
    }
}
