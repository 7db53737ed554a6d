#include "tg_fully_connected.h"

#include "tg_matmul.h"
#include "tg_simd.h"

/*
 * int8: weight rows in mixed pairs (tg_matmul.h): a pair (a, b) takes two words per group of four
 * inputs, [a0 + 128, b0, a2 + 128, b2] and [a1 + 128, b1, a3 + 128, b3], whose halfwords are
 * 256 b + a + 128. SMLAD of the input's lanes with them sums m = sum (256 b + a + 128) x, with
 * SXTB16 ROR 8 of them b = sum b x, and a = m - 256 b - 128 sum x. Pairs come in blocks of two
 * whose groups interleave ([pair 0 group g][pair 1 group g]: four words a group, one LDM), a last
 * pair alone, an odd last row plain (tinygen/ops/matmul.py's mixed_pair_blocks).
 *
 * The input row is widened once into scratch, int16 in SXTB16 order (x0 x2 x1 x3 per group, the last
 * partial group zero-filled, where the padded weights, 128 and 0, add nothing), TG_FC_CHUNK_GROUPS
 * groups at a time: a longer row runs chunk by chunk, each row's sums kept in scratch after the
 * chunk between them. A block of four rows then takes 14 instructions for 16 multiply-accumulates
 * on the DSP path, as assembly in optimized builds (TG_USE_ASM, tg_simd.h; debug builds take the
 * portable loop). Scratch: tinygen/ops/fully_connected.py's fc_scratch_bytes.
 * sum (w + fo)(x + io) = sum w x + io * sum w + fo * sum (x + io): the second term is in the
 * records' bias (compile time; a pair's first bias holds bias_a + 256 bias_b), the third is summed
 * once per input row for a weight zero point.
 */

enum { PAIRS_PER_BLOCK = 2, F = TG_MM_QUANT_FIELDS };

/* One input row against the weights, one chunk of it at a time. */
typedef struct {
    const int16_t *x;   /* the chunk, widened */
    int32_t groups;     /* its groups */
    int32_t row_groups; /* the whole row's: each weight row's groups */
    int32_t first_group;
    int first, last;  /* the chunk is the row's first, its last */
    int32_t start;    /* what every sum starts from besides the bias: the weight zero point's term */
    int32_t sum128;   /* 128 * the sum of the row's values */
    int32_t *partial; /* the sums between chunks, one per output row */
    const tg_mm_output *o;
} fc_chunk;

#if TG_USE_ASM
/* One pair's group as assembly text: operands m and b += the mixed products of weight words we and
 * wo and their second row's. */
#define TG_FC_PAIR(m, b, we, wo)                                                                                       \
    "sxtb16 %[be], %[" we "], ror #8\n\t"                                                                              \
    "smlad %[" m "], %[xe], %[" we "], %[" m "]\n\t"                                                                   \
    "smlad %[" b "], %[xe], %[be], %[" b "]\n\t"                                                                       \
    "sxtb16 %[be], %[" wo "], ror #8\n\t"                                                                              \
    "smlad %[" m "], %[xo], %[" wo "], %[" m "]\n\t"                                                                   \
    "smlad %[" b "], %[xo], %[be], %[" b "]\n\t"

/*
 * One group of a block of `pairs` pairs (a constant), as one block of assembly that keeps its
 * registers (the compiler alone spills). Two pairs load their four weight words with one LDM, into
 * registers pinned in ascending order as LDM fills them. xp and wp (lvalues) advance past the group.
 */
#define TG_FC_GROUP(pairs, xp, wp)                                                                                     \
    do {                                                                                                               \
        int32_t xe_, xo_, be_;                                                                                         \
        if ((pairs) == 2) {                                                                                            \
            register int32_t w0_ __asm__("r8"), w1_ __asm__("r9"), w2_ __asm__("r10"), w3_ __asm__("r11");             \
            __asm__("ldrd %[xe], %[xo], [%[xq]], #8\n\t"                                                               \
                    "ldmia %[wq]!, {%[w0], %[w1], %[w2], %[w3]}\n\t" TG_FC_PAIR("m0", "b0", "w0", "w1")                \
                        TG_FC_PAIR("m1", "b1", "w2", "w3")                                                             \
                    : [m0] "+r"(m0), [b0] "+r"(b0), [m1] "+r"(m1), [b1] "+r"(b1), [xq] "+r"(xp), [wq] "+r"(wp),        \
                      [xe] "=&r"(xe_), [xo] "=&r"(xo_), [be] "=&r"(be_), [w0] "=&r"(w0_), [w1] "=&r"(w1_),             \
                      [w2] "=&r"(w2_), [w3] "=&r"(w3_)                                                                 \
                    :                                                                                                  \
                    : "memory");                                                                                       \
        } else {                                                                                                       \
            int32_t we_, wo_;                                                                                          \
            __asm__("ldrd %[xe], %[xo], [%[xq]], #8\n\t"                                                               \
                    "ldrd %[we], %[wo], [%[wq]], #8\n\t" TG_FC_PAIR("m0", "b0", "we", "wo")                            \
                    : [m0] "+r"(m0), [b0] "+r"(b0), [xq] "+r"(xp), [wq] "+r"(wp), [xe] "=&r"(xe_), [xo] "=&r"(xo_),    \
                      [be] "=&r"(be_), [we] "=&r"(we_), [wo] "=&r"(wo_)                                                \
                    :                                                                                                  \
                    : "memory");                                                                                       \
        }                                                                                                              \
    } while (0)
#else
/* One pair's group on the portable path: *m and *b += the mixed and the second row's products. */
static inline void pair_group(const int16_t *x, const int8_t *w, int32_t *m, int32_t *b)
{
    *m = tg_add_wrap(*m, x[0] * tg_mm_mixed_half(w, 0) + x[1] * tg_mm_mixed_half(w, 2));
    *m = tg_add_wrap(*m, x[2] * tg_mm_mixed_half(w, 4) + x[3] * tg_mm_mixed_half(w, 6));
    *b = tg_add_wrap(*b, x[0] * w[1] + x[1] * w[3]);
    *b = tg_add_wrap(*b, x[2] * w[5] + x[3] * w[7]);
}

#define TG_FC_GROUP(pairs, xp, wp)                                                                                     \
    do {                                                                                                               \
        pair_group(xp, wp, &m0, &b0);                                                                                  \
        if ((pairs) > 1) {                                                                                             \
            pair_group(xp, (wp) + 2 * TG_MM_GROUP, &m1, &b1);                                                          \
        }                                                                                                              \
        (xp) += TG_MM_GROUP, (wp) += (pairs)*2 * TG_MM_GROUP;                                                          \
    } while (0)
#endif

/*
 * One output of the fast saturating mode (tg_mm_requantize_fast, then saturation) from its sum, q
 * at its record's multiplier. On the DSP path one block of assembly: compiled from C, the record is
 * reloaded around the output stores.
 */
static inline int32_t fast_output(int32_t acc, const int32_t *q, int32_t offset_unit)
{
#if TG_USE_ASM
    int32_t m, shift, rounding, lo, r;
    __asm__("ldrd %[m], %[shift], [%[q]]\n\t"
            "lsl %[rounding], %[unit], %[shift]\n\t"
            "asr %[rounding], %[rounding], #1\n\t" TG_MM_REQUANTIZE_ASM("a", "r", "")
            : [m] "=&r"(m), [shift] "=&r"(shift), [rounding] "=&r"(rounding), [lo] "=&r"(lo), [r] "=&r"(r)
            : [a] "r"(acc), [q] "r"(q), [unit] "r"(offset_unit)
            : "memory");
    return r;
#else
    return tg_mm_saturate_s8(tg_mm_requantize_fast(acc, q[0], q[1], offset_unit));
#endif
}

/* One pair's outputs from its sums (m mixed) in the fast saturating mode; q: the pair's first record. */
#define TG_FC_FAST_PAIR(m, b, q, unit, out)                                                                            \
    do {                                                                                                               \
        (out)[0] = (int8_t)fast_output(tg_mm_first_of(m, b, 0), (q) + 1, unit);                                        \
        (out)[1] = (int8_t)fast_output(b, (q) + F + 1, unit);                                                          \
    } while (0)

/* One pair's outputs from its sums (m mixed) in any mode. */
static void pair_outputs(int32_t m, int32_t b, const int32_t *q, const tg_mm_output *o, int8_t *out)
{
    tg_mm_finish_one(tg_mm_first_of(m, b, 0), q + 1, o, out);
    tg_mm_finish_one(b, q + F + 1, o, out + 1);
}

/*
 * A block's sums at the chunk's end (pairs a constant where inlined; m mixed): kept for the next
 * chunk, or finished into out, the mode tested once. q: the block's first record.
 */
static TG_MM_ALWAYS_INLINE void block_done(const fc_chunk *c, int32_t pairs, int32_t m0, int32_t b0, int32_t m1,
                                           int32_t b1, const int32_t *q, int32_t *partial, int8_t *out)
{
    if (!c->last) {
        partial[0] = m0, partial[1] = b0;
        if (pairs > 1) {
            partial[2] = m1, partial[3] = b1;
        }
    } else if (c->o->quant[0] == TG_MM_FAST_SATURATE + TG_MM_MIXED) { /* the offset folded in */
        const int32_t unit = c->o->offset_unit;
        TG_FC_FAST_PAIR(m0, b0, q, unit, out);
        if (pairs > 1) {
            TG_FC_FAST_PAIR(m1, b1, q + 2 * F, unit, out + 2);
        }
    } else {
        pair_outputs(m0, b0, q, c->o, out);
        if (pairs > 1) {
            pair_outputs(m1, b1, q + 2 * F, c->o, out + 2);
        }
    }
}

/*
 * A block of `pairs` pairs (a constant where this is inlined: with TG_USE_ASM) against the chunk,
 * there four groups a pass; row: the block's first, q its record, w its weights at the
 * chunk's first group.
 */
#if TG_USE_ASM
#define TG_FC_BLOCK_INLINE TG_MM_ALWAYS_INLINE /* one copy per block size, each with its registers */
#else
#define TG_FC_BLOCK_INLINE TG_MM_NOINLINE /* one copy for all: the portable path keeps its code small */
#endif
static TG_FC_BLOCK_INLINE void pair_block(const fc_chunk *c, const int8_t *w, int32_t pairs, int32_t row,
                                          const int32_t *q, int8_t *out)
{
    int32_t m0, b0, m1 = 0, b1 = 0;
    int32_t *partial = c->partial + row;
    if (c->first) { /* a pair's mixed sum starts from its mixed bias, 257 starts (256 for b's) and -128 sum x */
        const int32_t m_start = (int32_t)((uint32_t)c->start * 257u - (uint32_t)c->sum128);
        m0 = tg_add_wrap(q[0], m_start), b0 = tg_add_wrap(q[F], c->start);
        if (pairs > 1) {
            m1 = tg_add_wrap(q[2 * F], m_start), b1 = tg_add_wrap(q[3 * F], c->start);
        }
    } else {
        m0 = partial[0], b0 = partial[1];
        if (pairs > 1) {
            m1 = partial[2], b1 = partial[3];
        }
    }
    const int16_t *x = c->x, *const end = x + (size_t)c->groups * TG_MM_GROUP;
#if TG_USE_ASM
    for (int32_t g = c->groups & 3; g > 0; --g) { /* the remainder first, then four groups a pass */
        TG_FC_GROUP(pairs, x, w);
    }
    while (x < end) {
        TG_FC_GROUP(pairs, x, w);
        TG_FC_GROUP(pairs, x, w);
        TG_FC_GROUP(pairs, x, w);
        TG_FC_GROUP(pairs, x, w);
    }
#else
    while (x < end) {
        TG_FC_GROUP(pairs, x, w);
    }
#endif
    block_done(c, pairs, m0, b0, m1, b1, q, partial, out);
}

/* An odd last row, plain: its groups as they are, against the chunk. */
static void last_row(const fc_chunk *c, const int8_t *w, int32_t row, const int32_t *q, int8_t *out)
{
    int32_t acc = c->first ? tg_add_wrap(q[0], c->start) : c->partial[row];
    const int16_t *x = c->x;
    for (int32_t g = 0; g < c->groups; ++g, x += TG_MM_GROUP, w += TG_MM_GROUP) {
        acc = tg_add_wrap(acc, x[0] * w[0] + x[1] * w[2]);
        acc = tg_add_wrap(acc, x[2] * w[1] + x[3] * w[3]);
    }
    if (c->last) {
        tg_mm_finish_one(acc, q + 1, c->o, out);
    } else {
        c->partial[row] = acc;
    }
}

/* groups groups of in widened into x in SXTB16 order; a last group past the valid values zero-filled. */
static void widen(const int8_t *in, int32_t groups, int32_t valid, int16_t *x)
{
    const int32_t whole = tg_min_i32(groups, valid / TG_MM_GROUP);
    for (const int8_t *const end = in + (size_t)whole * TG_MM_GROUP; in < end; in += TG_MM_GROUP, x += TG_MM_GROUP) {
#if TG_USE_DSP
        const uint32_t v = tg_load_s8x4(in);
        const int32_t lanes[2] = {tg_sxtb16(v), tg_sxtb16_odd(v)};
        memcpy(__builtin_assume_aligned(x, 4), lanes, sizeof lanes); /* scratch is word-aligned */
#else
        x[0] = in[0], x[1] = in[2], x[2] = in[1], x[3] = in[3];
#endif
    }
    if (whole < groups) {
        static const int8_t order[TG_MM_GROUP] = {0, 2, 1, 3}; /* SXTB16 order */
        const int32_t left = valid - whole * TG_MM_GROUP;
        for (int32_t j = 0; j < TG_MM_GROUP; ++j) {
            x[j] = order[j] < left ? in[order[j]] : 0;
        }
    }
}

/* The sum of n values, wrapping. */
static uint32_t row_sum(const int8_t *x, int32_t n)
{
    uint32_t sum = 0;
    int32_t i = 0;
#if TG_USE_DSP
    for (; i + TG_MM_GROUP <= n; i += TG_MM_GROUP) { /* sum (x + 128) of four unsigned bytes, less 4 * 128 */
        __asm__("usada8 %0, %1, %2, %0" : "+r"(sum) : "r"(tg_load_s8x4(x + i) ^ 0x80808080u), "r"(0));
        sum -= TG_MM_GROUP * 128;
    }
#endif
    for (; i < n; ++i) {
        sum += (uint32_t)x[i]; /* the value mod 2^32 */
    }
    return sum;
}

/* Every output row against one chunk of the input row. */
static void chunk_rows(const fc_chunk *c, const int8_t *weights, int32_t out_depth, const int32_t *quant,
                       int8_t *output)
{
    const size_t row_weights = (size_t)c->row_groups * TG_MM_GROUP; /* bytes of one weight row */
    const size_t skip = (size_t)c->first_group * TG_MM_GROUP;       /* a row's bytes before the chunk */
    int32_t row = 0;
    for (; row + 2 * PAIRS_PER_BLOCK <= out_depth; row += 2 * PAIRS_PER_BLOCK) {
        const int8_t *w = weights + (size_t)row * row_weights + 2 * PAIRS_PER_BLOCK * skip;
        pair_block(c, w, PAIRS_PER_BLOCK, row, quant + 1 + row * F, output + row);
    }
    if (out_depth - row >= 2) {
        pair_block(c, weights + (size_t)row * row_weights + 2 * skip, 1, row, quant + 1 + row * F, output + row);
        row += 2;
    }
    if (row < out_depth) {
        last_row(c, weights + (size_t)row * row_weights + skip, row, quant + 1 + row * F, output + row);
    }
}

void tg_fully_connected_s8(const tg_fully_connected_params *p, const int8_t *input, const int8_t *weights,
                           const int32_t *quant, int8_t *output, void *scratch)
{
    const int32_t depth = p->input_depth, out_depth = p->output_depth;
    const int32_t row_groups = (depth + TG_MM_GROUP - 1) / TG_MM_GROUP;
    const int32_t chunk_groups = tg_min_i32(row_groups, TG_FC_CHUNK_GROUPS);
    const tg_mm_output o = TG_MM_OUTPUT(quant, p->output_offset, p->act_min, p->act_max);
    int16_t *x = (int16_t *)scratch;
    fc_chunk c = {x, 0, row_groups, 0, 1, 1, 0, 0, (int32_t *)(void *)(x + (size_t)chunk_groups * TG_MM_GROUP), &o};
    for (int32_t b = 0; b < p->batches; ++b, input += depth, output += out_depth) {
        const uint32_t sum = row_sum(input, depth);
        c.sum128 = (int32_t)(sum << 7);
        if (p->filter_offset != 0) {
            c.start = tg_mul_wrap(p->filter_offset, tg_add_wrap((int32_t)sum, tg_mul_wrap(p->input_offset, depth)));
        }
        for (int32_t g = 0; g < row_groups; g += TG_FC_CHUNK_GROUPS) {
            const int32_t n = tg_min_i32(TG_FC_CHUNK_GROUPS, row_groups - g);
            widen(input + (size_t)g * TG_MM_GROUP, n, depth - g * TG_MM_GROUP, x);
            c.groups = n, c.first_group = g, c.first = g == 0, c.last = g + n == row_groups;
            chunk_rows(&c, weights, out_depth, quant, output);
        }
    }
}

/* The 16x8 layer; wide selects the int64 (bias64) or the int32 (bias32) arithmetic. */
static void fully_connected_s16(const tg_fully_connected_params *p, const int16_t *input, const int8_t *filter,
                                int wide, const int64_t *bias64, const int32_t *bias32, const int32_t *multiplier,
                                const int32_t *shift, int16_t *output)
{
    const int32_t depth = p->input_depth;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *in = input + (size_t)b * depth;
        for (int32_t oc = 0; oc < p->output_depth; ++oc) {
            const int8_t *w = filter + (size_t)oc * depth;
            int64_t sum = 0; /* each product fits 25 bits: the sum cannot overflow */
            for (int32_t d = 0; d < depth; ++d) {
                sum += ((int32_t)w[d] + p->filter_offset) * ((int32_t)in[d] + p->input_offset);
            }
            const int32_t value = tg_requantize_sum_s16(sum, wide, bias64, bias32, oc, multiplier, shift);
            *output++ = (int16_t)tg_clamp_i32(tg_add_wrap(value, p->output_offset), p->act_min, p->act_max);
        }
    }
}

void tg_fully_connected_s16(const tg_fully_connected_params *p, const int16_t *input, const int8_t *filter,
                            const int64_t *bias, const int32_t *multiplier, const int32_t *shift, int16_t *output)
{
    fully_connected_s16(p, input, filter, 1, bias, NULL, multiplier, shift, output);
}

void tg_fully_connected_s16_acc32(const tg_fully_connected_params *p, const int16_t *input, const int8_t *filter,
                                  const int32_t *bias, const int32_t *multiplier, const int32_t *shift, int16_t *output)
{
    fully_connected_s16(p, input, filter, 0, NULL, bias, multiplier, shift, output);
}
