#include "tg_fully_connected.h"

#include "tg_matmul.h"

/*
 * int8: weight rows in blocks of four (tg_matmul.h's layout, tinygen/ops/matmul.py: each block's
 * groups interleave row by row, depth rounded up to whole groups with zero weights, the last rows
 * in a block of two and one of one), so that each input word is loaded and widened once for four
 * rows. The input's last partial group is copied, zero-filled, into a word of its own.
 * sum (w + fo)(x + io) = sum w x + io * sum w + fo * sum (x + io): the second term is in the
 * records' bias (compile time), the third is summed once per input row for a weight zero point.
 */

#if TG_USE_DSP
/*
 * One group, four rows, as one block of assembly (ten registers: four sums, two input halves,
 * four weight values; the compiler alone spills). xp and wp (lvalues) advance past the group.
 */
#define TG_FC_FOUR_ROWS(xp, wp, a0, a1, a2, a3)                                                                        \
    do {                                                                                                               \
        int32_t x_, xe_, w0_, w1_, w0e_, w1e_;                                                                         \
        __asm__(                                                                                                       \
            "ldr %[x], [%[xq]], #4\n\t"                                                                                \
            "ldrd %[w0], %[w1], [%[wq]], #8\n\t"                                                                       \
            "sxtb16 %[xe], %[x]\n\t"                                                                                   \
            "sxtb16 %[x], %[x], ror #8\n\t"                                                                            \
            "sxtb16 %[w0e], %[w0]\n\t"                                                                                 \
            "sxtb16 %[w0], %[w0], ror #8\n\t"                                                                          \
            "sxtb16 %[w1e], %[w1]\n\t"                                                                                 \
            "sxtb16 %[w1], %[w1], ror #8\n\t"                                                                          \
            "smlad %[s0], %[xe], %[w0e], %[s0]\n\t"                                                                    \
            "smlad %[s0], %[x], %[w0], %[s0]\n\t"                                                                      \
            "smlad %[s1], %[xe], %[w1e], %[s1]\n\t"                                                                    \
            "smlad %[s1], %[x], %[w1], %[s1]\n\t"                                                                      \
            "ldrd %[w0], %[w1], [%[wq]], #8\n\t"                                                                       \
            "sxtb16 %[w0e], %[w0]\n\t"                                                                                 \
            "sxtb16 %[w0], %[w0], ror #8\n\t"                                                                          \
            "sxtb16 %[w1e], %[w1]\n\t"                                                                                 \
            "sxtb16 %[w1], %[w1], ror #8\n\t"                                                                          \
            "smlad %[s2], %[xe], %[w0e], %[s2]\n\t"                                                                    \
            "smlad %[s2], %[x], %[w0], %[s2]\n\t"                                                                      \
            "smlad %[s3], %[xe], %[w1e], %[s3]\n\t"                                                                    \
            "smlad %[s3], %[x], %[w1], %[s3]"                                                                          \
            : [s0] "+r"(a0), [s1] "+r"(a1), [s2] "+r"(a2), [s3] "+r"(a3), [xq] "+r"(xp), [wq] "+r"(wp), [x] "=&r"(x_), \
              [xe] "=&r"(xe_), [w0] "=&r"(w0_), [w1] "=&r"(w1_), [w0e] "=&r"(w0e_), [w1e] "=&r"(w1e_)                  \
            :                                                                                                          \
            : "memory");                                                                                               \
    } while (0)
#endif

/* acc[r] += row r of a block of `rows` against one input group x; returns the weights after it. */
static const int8_t *group_rows(const int8_t *x, const int8_t *w, int32_t rows, int32_t *acc)
{
#if TG_USE_DSP
    const uint32_t xv = tg_load_s8x4(x);
    const int32_t xe = tg_sxtb16(xv), xo = tg_sxtb16_odd(xv);
    for (int32_t r = 0; r < rows; ++r, w += TG_MM_GROUP) {
        const uint32_t wv = tg_load_s8x4(w);
        acc[r] = tg_smlad(xo, tg_sxtb16_odd(wv), tg_smlad(xe, tg_sxtb16(wv), acc[r]));
    }
#else
    for (int32_t r = 0; r < rows; ++r, w += TG_MM_GROUP) {
        for (int32_t j = 0; j < TG_MM_GROUP; ++j) {
            acc[r] = tg_add_wrap(acc[r], (int32_t)x[j] * w[j]);
        }
    }
#endif
    return w;
}

/* One input row against the weights, in blocks of rows (4, 2, 1). */
typedef struct {
    const int8_t *x;    /* the input row: full whole groups, then tail */
    const int8_t *tail; /* the last partial group, zero-filled; NULL when there is none */
    int32_t full;       /* whole groups */
    int32_t start;      /* what every sum starts from besides the bias: the weight zero point's term */
    const tg_mm_output *o;
} fc_row;

/* A block of rows (2 or 1, and on the portable path 4), group by group; q: the block's first record. */
static const int8_t *block_rows(const fc_row *in, const int8_t *w, int32_t rows, const int32_t *q, int8_t *out)
{
    int32_t acc[4];
    for (int32_t r = 0; r < rows; ++r) {
        acc[r] = tg_add_wrap(q[r * TG_MM_QUANT_FIELDS], in->start);
    }
    const int8_t *x = in->x;
    for (int32_t g = 0; g < in->full; ++g, x += TG_MM_GROUP) {
        w = group_rows(x, w, rows, acc);
    }
    if (in->tail) {
        w = group_rows(in->tail, w, rows, acc);
    }
    for (int32_t r = 0; r < rows; ++r) {
        tg_mm_finish_one(acc[r], q + r * TG_MM_QUANT_FIELDS + 1, in->o, out + r);
    }
    return w;
}

#if TG_USE_DSP
/* Four rows, the sums in registers (the blocks of assembly clobber memory), two groups a pass. */
static const int8_t *four_rows(const fc_row *in, const int8_t *w, const int32_t *q, int8_t *out)
{
    enum { F = TG_MM_QUANT_FIELDS };
    int32_t a0 = tg_add_wrap(q[0], in->start), a1 = tg_add_wrap(q[F], in->start);
    int32_t a2 = tg_add_wrap(q[2 * F], in->start), a3 = tg_add_wrap(q[3 * F], in->start);
    const int8_t *x = in->x, *end = x + (size_t)in->full * TG_MM_GROUP;
    if (in->full & 1) {
        TG_FC_FOUR_ROWS(x, w, a0, a1, a2, a3);
    }
    while (x < end) {
        TG_FC_FOUR_ROWS(x, w, a0, a1, a2, a3);
        TG_FC_FOUR_ROWS(x, w, a0, a1, a2, a3);
    }
    if (in->tail) {
        x = in->tail;
        TG_FC_FOUR_ROWS(x, w, a0, a1, a2, a3);
    }
    if (TG_MM_MODE(in->o) == TG_MM_FAST_SATURATE) {
        const int32_t unit = in->o->offset_unit;
        out[0] = tg_mm_saturate_s8(tg_mm_requantize_fast(a0, q[1], q[2], unit));
        out[1] = tg_mm_saturate_s8(tg_mm_requantize_fast(a1, q[F + 1], q[F + 2], unit));
        out[2] = tg_mm_saturate_s8(tg_mm_requantize_fast(a2, q[2 * F + 1], q[2 * F + 2], unit));
        out[3] = tg_mm_saturate_s8(tg_mm_requantize_fast(a3, q[3 * F + 1], q[3 * F + 2], unit));
    } else {
        tg_mm_finish_one(a0, q + 1, in->o, out);
        tg_mm_finish_one(a1, q + F + 1, in->o, out + 1);
        tg_mm_finish_one(a2, q + 2 * F + 1, in->o, out + 2);
        tg_mm_finish_one(a3, q + 3 * F + 1, in->o, out + 3);
    }
    return w;
}
#endif

void tg_fully_connected_s8(const tg_fully_connected_params *p, const int8_t *input, const int8_t *weights,
                           const int32_t *quant, int8_t *output)
{
    const int32_t depth = p->input_depth, out_depth = p->output_depth;
    const tg_mm_output o = TG_MM_OUTPUT(quant, p->output_offset, p->act_min, p->act_max);
    for (int32_t b = 0; b < p->batches; ++b) {
        fc_row in = {input + (size_t)b * depth, NULL, depth / TG_MM_GROUP, 0, &o};
        int8_t tail[TG_MM_GROUP] = {0, 0, 0, 0};
        if (depth % TG_MM_GROUP) {
            memcpy(tail, in.x + (size_t)in.full * TG_MM_GROUP, (size_t)(depth % TG_MM_GROUP));
            in.tail = tail;
        }
        if (p->filter_offset != 0) {
            int32_t in_sum = 0;
            for (int32_t d = 0; d < depth; ++d) {
                in_sum = tg_add_wrap(in_sum, (int32_t)in.x[d] + p->input_offset);
            }
            in.start = tg_mul_wrap(p->filter_offset, in_sum);
        }
        const int8_t *w = weights;
        const int32_t *q = quant + 1;
        int32_t row = 0;
        for (; row + 4 <= out_depth; row += 4, q += 4 * TG_MM_QUANT_FIELDS) {
#if TG_USE_DSP
            w = four_rows(&in, w, q, output + row);
#else
            w = block_rows(&in, w, 4, q, output + row);
#endif
        }
        for (int32_t rows = 2; rows > 0; rows /= 2) { /* the last rows: a block of two, one of one */
            if (out_depth - row >= rows) {
                w = block_rows(&in, w, rows, q, output + row);
                row += rows, q += rows * TG_MM_QUANT_FIELDS;
            }
        }
        output += out_depth;
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
