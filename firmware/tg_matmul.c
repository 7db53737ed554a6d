#include "tg_matmul.h"

#include "tg_simd.h"

void tg_mm_finish_one(int32_t acc, const int32_t *q, const tg_mm_output *o, int8_t *out)
{
    *out = tg_mm_finish(acc, q, o);
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

/*
 * The same for a mixed pair: its weight words serve as they are (the halfwords 256 b + a + 128,
 * tg_matmul.h) and, through SXTB16 ROR 8, as the second channel's: two SXTB16 a group instead of
 * four. m<column>: the mixed sums, b<column>: the second channel's.
 */
#define TG_MM_TWO_BY_TWO_MIXED(cols, wts, m0, b0, m1, b1)                                                              \
    do {                                                                                                               \
        int32_t we_, wo_, be_, bo_, xe_, xo_;                                                                          \
        __asm__("ldrd %[we], %[wo], [%[wp]], #8\n\t"                                                                   \
                "ldrd %[xe], %[xo], [%[cp]], #8\n\t"                                                                   \
                "sxtb16 %[be], %[we], ror #8\n\t"                                                                      \
                "sxtb16 %[bo], %[wo], ror #8\n\t"                                                                      \
                "smlad %[s0], %[xe], %[we], %[s0]\n\t"                                                                 \
                "smlad %[s0], %[xo], %[wo], %[s0]\n\t"                                                                 \
                "smlad %[t0], %[xe], %[be], %[t0]\n\t"                                                                 \
                "smlad %[t0], %[xo], %[bo], %[t0]\n\t"                                                                 \
                "ldrd %[xe], %[xo], [%[cp]], #8\n\t"                                                                   \
                "smlad %[s1], %[xe], %[we], %[s1]\n\t"                                                                 \
                "smlad %[s1], %[xo], %[wo], %[s1]\n\t"                                                                 \
                "smlad %[t1], %[xe], %[be], %[t1]\n\t"                                                                 \
                "smlad %[t1], %[xo], %[bo], %[t1]"                                                                     \
                : [s0] "+r"(m0), [t0] "+r"(b0), [s1] "+r"(m1), [t1] "+r"(b1), [cp] "+r"(cols), [wp] "+r"(wts),         \
                  [we] "=&r"(we_), [wo] "=&r"(wo_), [be] "=&r"(be_), [bo] "=&r"(bo_), [xe] "=&r"(xe_), [xo] "=&r"(xo_) \
                :                                                                                                      \
                : "memory");                                                                                           \
    } while (0)
#endif

/* sum over one group of a column (SXTB16 order) times one weight word (byte order). */
static inline int32_t group_dot(const int16_t *x, const int8_t *w, int32_t acc)
{
    acc = tg_add_wrap(acc, x[0] * w[0] + x[1] * w[2]);
    return tg_add_wrap(acc, x[2] * w[1] + x[3] * w[3]);
}

/* A pair's group at one column: m += the mixed products, b += the second channel's. */
static inline void pair_group_dot(const int16_t *x, const int8_t *w, int32_t *m, int32_t *b)
{
    *m = tg_add_wrap(*m, x[0] * tg_mm_mixed_half(w, 0) + x[1] * tg_mm_mixed_half(w, 2));
    *m = tg_add_wrap(*m, x[2] * tg_mm_mixed_half(w, 4) + x[3] * tg_mm_mixed_half(w, 6));
    *b = tg_add_wrap(*b, x[0] * w[1] + x[1] * w[3]);
    *b = tg_add_wrap(*b, x[2] * w[5] + x[3] * w[7]);
}

/* 128 times the sum of each column's values (groups slots of each, interleaved group by group). */
static void column_sums128(const int16_t *x, int32_t groups, int32_t *sum0, int32_t *sum1)
{
    int32_t s0 = 0, s1 = 0;
    for (const int16_t *const end = x + (size_t)groups * 2 * TG_MM_GROUP; x < end; x += 2 * TG_MM_GROUP) {
#if TG_USE_DSP
        s0 = tg_smlad(load_word(x), 0x00010001, tg_smlad(load_word(x + 2), 0x00010001, s0));
        s1 = tg_smlad(load_word(x + 4), 0x00010001, tg_smlad(load_word(x + 6), 0x00010001, s1));
#else
        s0 += x[0] + x[1] + x[2] + x[3];
        s1 += x[4] + x[5] + x[6] + x[7];
#endif
    }
    *sum0 = (int32_t)((uint32_t)s0 << 7);
    *sum1 = (int32_t)((uint32_t)s1 << 7);
}

#if TG_USE_DSP
/* Both sums of a channel; extra: more input operands (the offset for post0 and post1). */
#define TG_MM_REQUANTIZE_TWO_ASM(post0, post1, ...)                                                                    \
    __asm__("ldrd %[m], %[shift], [%[q]]\n\t"                                                                          \
            "lsl %[rounding], %[unit], %[shift]\n\t"                                                                   \
            "asr %[rounding], %[rounding], #1\n\t" TG_MM_REQUANTIZE_ASM("a0", "r0", post0)                             \
                TG_MM_REQUANTIZE_ASM("a1", "r1", post1)                                                                \
            : [m] "=&r"(m), [shift] "=&r"(shift), [rounding] "=&r"(rounding), [lo] "=&r"(lo), [r0] "=&r"(r0),          \
              [r1] "=&r"(r1)                                                                                           \
            : [a0] "r"(acc0), [a1] "r"(acc1), [q] "r"(q), [unit] "r"(offset_unit)__VA_ARGS__                           \
            : "memory")
#endif

/*
 * One channel's sums for two pixels in a fast mode: tg_mm_requantize_fast, + post where `after`
 * (a constant where inlined: TG_MM_OFFSET_AFTER), and tg_mm_saturate_s8, q at the record's
 * multiplier. On the DSP path one block of assembly: compiled from C, the scheduler hoists the
 * records' loads of both channels of a pair and spills.
 */
static TG_MM_ALWAYS_INLINE void requantize_two(int32_t acc0, int32_t acc1, const int32_t *q, int32_t offset_unit,
                                               int32_t post, int after, int32_t *v0, int32_t *v1)
{
#if TG_USE_DSP
    int32_t m, shift, rounding, lo, r0, r1;
    if (after) {
        TG_MM_REQUANTIZE_TWO_ASM("add %[r0], %[r0], %[post]\n\t", "add %[r1], %[r1], %[post]\n\t", , [post] "r"(post));
    } else { /* no offset operand: one register fewer for the loop around */
        TG_MM_REQUANTIZE_TWO_ASM("", "", );
    }
    *v0 = r0;
    *v1 = r1;
#else
    (void)after; /* post is 0 without it */
    *v0 = tg_mm_saturate_s8(tg_mm_requantize_fast(acc0, q[0], q[1], offset_unit) + post);
    *v1 = tg_mm_saturate_s8(tg_mm_requantize_fast(acc1, q[0], q[1], offset_unit) + post);
#endif
}

/*
 * A pair of channels at two pixels (v<channel><pixel>, each in int8), clamped to the activation's
 * bounds (lo and hi in four lanes) as one word of four lanes, two SSUB8/SEL pairs, then stored as
 * the pixels' two bytes each: out0 and out1 need no alignment.
 */
static inline void store_clamped(int32_t v00, int32_t v10, int32_t v01, int32_t v11, uint32_t lo, uint32_t hi,
                                 int8_t *out0, int8_t *out1)
{
    uint32_t word = tg_v_pack8(v00, v10, v01, v11);
    word = tg_v_min8(tg_v_max8(word, lo), hi);
#if TG_USE_DSP
    const uint16_t first = (uint16_t)word, second = (uint16_t)(word >> 16);
    memcpy(out0, &first, sizeof first); /* one STRH each: M4/M7/M33 allow unaligned halfword stores */
    memcpy(out1, &second, sizeof second);
#else
    out0[0] = (int8_t)tg_v_byte(word, 0);
    out0[1] = (int8_t)tg_v_byte(word, 1);
    out1[0] = (int8_t)tg_v_byte(word, 2);
    out1[1] = (int8_t)tg_v_byte(word, 3);
#endif
}

/*
 * Every pair of channels, the four outputs of a pair finished as they come. mode is a constant
 * where this is inlined, so that the fast modes are written out (records read once, no mode tested
 * per output) and the reference mode calls tg_mm_finish_one.
 */
static TG_MM_ALWAYS_INLINE void channel_pairs(const int16_t *columns, int32_t groups, const int8_t *w, const int32_t *q,
                                              int32_t pairs, const tg_mm_output *o, int8_t *out, size_t step, int mode,
                                              int mixed, int after, int32_t sum0, int32_t sum1)
{
    const int32_t unit = o->offset_unit, post = o->post_offset;
    const uint32_t lo = tg_v_dup8(o->act_min), hi = tg_v_dup8(o->act_max);
    for (int8_t *const end = out + 2 * pairs; out < end; out += 2, q += 2 * TG_MM_QUANT_FIELDS) {
        int32_t a00 = q[0], a10 = q[TG_MM_QUANT_FIELDS]; /* a<channel><column>, from the biases; a0x mixed */
        int32_t a01 = a00, a11 = a10;
        const int16_t *x = columns;
#if TG_USE_DSP
        /* Four groups per pass (the remainder first, one by one): the loop's own instructions count little. */
        const int16_t *x_end = x + (size_t)groups * 2 * TG_MM_GROUP;
        if (mixed) {
            for (int32_t g = groups & 3; g > 0; --g) {
                TG_MM_TWO_BY_TWO_MIXED(x, w, a00, a10, a01, a11);
            }
            while (x < x_end) {
                TG_MM_TWO_BY_TWO_MIXED(x, w, a00, a10, a01, a11);
                TG_MM_TWO_BY_TWO_MIXED(x, w, a00, a10, a01, a11);
                TG_MM_TWO_BY_TWO_MIXED(x, w, a00, a10, a01, a11);
                TG_MM_TWO_BY_TWO_MIXED(x, w, a00, a10, a01, a11);
            }
        } else {
            for (int32_t g = groups & 3; g > 0; --g) {
                TG_MM_TWO_BY_TWO(x, w, a00, a10, a01, a11);
            }
            while (x < x_end) {
                TG_MM_TWO_BY_TWO(x, w, a00, a10, a01, a11);
                TG_MM_TWO_BY_TWO(x, w, a00, a10, a01, a11);
                TG_MM_TWO_BY_TWO(x, w, a00, a10, a01, a11);
                TG_MM_TWO_BY_TWO(x, w, a00, a10, a01, a11);
            }
        }
#else
        for (int32_t g = 0; g < groups; ++g, x += 2 * TG_MM_GROUP, w += 2 * TG_MM_GROUP) {
            if (mixed) {
                pair_group_dot(x, w, &a00, &a10);
                pair_group_dot(x + TG_MM_GROUP, w, &a01, &a11);
            } else {
                a00 = group_dot(x, w, a00);
                a10 = group_dot(x, w + TG_MM_GROUP, a10);
                a01 = group_dot(x + TG_MM_GROUP, w, a01);
                a11 = group_dot(x + TG_MM_GROUP, w + TG_MM_GROUP, a11);
            }
        }
#endif
        if (mixed) {
            a00 = tg_mm_first_of(a00, a10, sum0);
            a01 = tg_mm_first_of(a01, a11, sum1);
        }
        const int32_t *q0 = q + 1, *q1 = q + 1 + TG_MM_QUANT_FIELDS;
        if (mode != TG_MM_REFERENCE) {
            int32_t v00, v01, v10, v11;
            requantize_two(a00, a01, q0, unit, post, after, &v00, &v01);
            requantize_two(a10, a11, q1, unit, post, after, &v10, &v11);
            if (mode == TG_MM_FAST_CLAMP) {
                store_clamped(v00, v10, v01, v11, lo, hi, out, out + step);
            } else {
                out[0] = (int8_t)v00, out[1] = (int8_t)v10, out[step] = (int8_t)v01, out[step + 1] = (int8_t)v11;
            }
        } else {
            tg_mm_finish_one(a00, q0, o, out);
            tg_mm_finish_one(a01, q0, o, out + step);
            tg_mm_finish_one(a10, q1, o, out + 1);
            tg_mm_finish_one(a11, q1, o, out + step + 1);
        }
    }
}

void tg_mm_two_columns_s8(const int16_t *columns, int32_t groups, const int8_t *weights, int32_t out_c,
                          const tg_mm_output *o, int8_t *out0, int8_t *out1)
{
    const int32_t pairs = out_c / 2, *q = o->quant + 1;
    const size_t step = (size_t)(out1 - out0);
#if TG_USE_DSP
    const int mode = TG_MM_MODE(o), after = TG_MM_AFTER(o->quant[0]);
#else
    const int mode = TG_MM_MODE(o), after = 0; /* the portable path adds post_offset (0 or not) anyway */
#endif
    /* each mode written out (the compiler specializes channel_pairs for each constant set) */
#define TG_MM_PAIRS(mode_, mixed_, after_, sum0_, sum1_)                                                               \
    channel_pairs(columns, groups, weights, q, pairs, o, out0, step, mode_, mixed_, after_, sum0_, sum1_)
    if (o->quant[0] & TG_MM_MIXED) {
        int32_t sum0, sum1;
        column_sums128(columns, groups, &sum0, &sum1);
        if (mode == TG_MM_REFERENCE) {
            TG_MM_PAIRS(TG_MM_REFERENCE, 1, 0, sum0, sum1);
        } else if (mode == TG_MM_FAST_SATURATE) {
            after ? TG_MM_PAIRS(TG_MM_FAST_SATURATE, 1, 1, sum0, sum1)
                  : TG_MM_PAIRS(TG_MM_FAST_SATURATE, 1, 0, sum0, sum1);
        } else {
            after ? TG_MM_PAIRS(TG_MM_FAST_CLAMP, 1, 1, sum0, sum1) : TG_MM_PAIRS(TG_MM_FAST_CLAMP, 1, 0, sum0, sum1);
        }
    } else if (mode == TG_MM_REFERENCE) {
        TG_MM_PAIRS(TG_MM_REFERENCE, 0, 0, 0, 0);
    } else if (mode == TG_MM_FAST_SATURATE) {
        after ? TG_MM_PAIRS(TG_MM_FAST_SATURATE, 0, 1, 0, 0) : TG_MM_PAIRS(TG_MM_FAST_SATURATE, 0, 0, 0, 0);
    } else {
        after ? TG_MM_PAIRS(TG_MM_FAST_CLAMP, 0, 1, 0, 0) : TG_MM_PAIRS(TG_MM_FAST_CLAMP, 0, 0, 0, 0);
    }
#undef TG_MM_PAIRS
    if (out_c & 1) { /* an odd last channel, its weights plain after the pairs' */
        const int8_t *w = weights + (size_t)pairs * groups * 2 * TG_MM_GROUP;
        q += (size_t)pairs * 2 * TG_MM_QUANT_FIELDS;
        int32_t a0 = q[0], a1 = a0;
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
        out0 += 2 * pairs;
        tg_mm_finish_one(a0, q + 1, o, out0);
        tg_mm_finish_one(a1, q + 1, o, out0 + step);
    }
}
