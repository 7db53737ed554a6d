/*
 * Blocked int8 matrix products, the core of convolution: each pass computes two output
 * channels for two columns (two output pixels), so that every weight word loaded serves two
 * pixels and every column word two channels.
 *
 * Columns are int16: the input bytes of one window with the input offset added (x + offset
 * fits 16 bits; the zero padding becomes 0), K values rounded up to a whole number of groups
 * of TG_MM_GROUP. Within a group the values are in SXTB16 order, x0 x2 x1 x3: what SXTB16 and
 * SXTB16 ROR 8 give from four input bytes, so that extending a group takes two instructions and
 * no shuffle. The two columns interleave group by group: [column 0 group g][column 1 group g].
 *
 * Weights are re-laid at compile time (tinygen/ops/matmul.py) in the order the kernel reads
 * them: K rounded up to whole groups with zero weights, output channels in pairs whose groups
 * interleave, [channel 2i group g][channel 2i+1 group g], an odd last channel plain after them.
 * Within a group the bytes stay in their order: SXTB16 pairs w0 with x0 and w2 with x2, ROR 8 w1
 * and w3. Where the layer is large enough to pay for the columns' sums (TG_MM_MIXED in the mode,
 * tinygen/ops/matmul.py decides), the pairs are mixed instead: a pair (a, b) takes two words a
 * group, the even values k = 0, 2 and the odd
 * ones k = 1, 3, each [a_k + 128, b_k, a_k+2 + 128, b_k+2] as bytes: read as halfwords they are
 * 256 b_k + a_k + 128 (the low byte unsigned), which SMLAD multiplies with the column as it is,
 * and SXTB16 ROR 8 gives b's weights. Per column that sums m = sum (256 b + a + 128) x and
 * b = sum b x, so a = m - 256 b - 128 * sum x: one SXTB16 per word instead of two, and the column's
 * sum once for all channels. The pair's bias record holds bias_a + 256 bias_b, so that the same
 * identity yields a's bias.
 *
 * Sums wrap like the reference's int32 sums, so the order of the additions does not matter.
 */
#ifndef TG_MATMUL_H
#define TG_MATMUL_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TG_MM_GROUP 4 /* K values per group: one word of int8 weights, two words of int16 columns */

/*
 * Each output channel's bias and requantization, one record of TG_MM_QUANT_FIELDS int32 after
 * quant[0], the mode (the same for every channel of a layer; tinygen/ops/matmul.py computes them):
 * - TG_MM_REFERENCE: {bias, multiplier, shift}: tg_requantize, + output offset, clamp; any shift.
 * - TG_MM_FAST_CLAMP: {bias, multiplier, r - 1} with r = -shift: one multiply-accumulate
 *   (tg_mm_requantize_fast, the output offset included), clamp.
 * - TG_MM_FAST_SATURATE: the same, where the activation range is all of int8: saturate.
 * The bias sits in the record so that one pointer walks everything a channel needs.
 */
#define TG_MM_QUANT_FIELDS 3

#if defined(__GNUC__) || defined(__clang__)
#define TG_MM_NOINLINE      __attribute__((noinline))
#define TG_MM_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define TG_MM_NOINLINE
#define TG_MM_ALWAYS_INLINE inline
#endif

enum { TG_MM_REFERENCE = 0, TG_MM_FAST_CLAMP = 1, TG_MM_FAST_SATURATE = 2 };

/*
 * quant[0] is the mode, with TG_MM_MIXED added where the weights are laid out in mixed pairs (above),
 * and in a fast mode TG_MM_OFFSET_AFTER where some channel shifts by more than 23 (r up to 31): its
 * output offset no longer fits the high word of tg_mm_requantize_fast's constant and is added after
 * the shift instead (offset_unit 1, post_offset the output offset).
 */
#define TG_MM_MODE_MASK     3
#define TG_MM_MIXED         4
#define TG_MM_OFFSET_AFTER  8
#define TG_MM_MODE(o)       ((o)->quant[0] & TG_MM_MODE_MASK)
#define TG_MM_AFTER(quant0) (((quant0)&TG_MM_OFFSET_AFTER) != 0)

typedef struct {
    const int32_t *quant; /* the mode, then TG_MM_QUANT_FIELDS per output channel */
    int32_t output_offset, act_min, act_max;
    int32_t offset_unit; /* 2 * output_offset + 1 (1 with TG_MM_OFFSET_AFTER): see tg_mm_requantize_fast */
    int32_t post_offset; /* what the fast modes add after the shift: 0, or the output offset */
} tg_mm_output;

#define TG_MM_OUTPUT(quant, output_offset, act_min, act_max)                                                           \
    {                                                                                                                  \
        (quant), (output_offset), (act_min), (act_max), TG_MM_AFTER((quant)[0]) ? 1 : 2 * (output_offset) + 1,         \
            TG_MM_AFTER((quant)[0]) ? (output_offset) : 0                                                              \
    }

/*
 * The fast modes hold where every multiplier is positive (or 0) and every shift in [-31, -2]: rounding
 * h = high-mul(x, m) to h / 2^r half away from zero (tg_common.h) is
 * floor((x m + 2^30 + 2^(30+r) - [x < 0] 2^31) / 2^(31+r)). For r >= 2 the constant splits into
 * a high word 2^(r-2) - [x < 0] and a low word 2^30 | [x < 0] 2^31, so one SMLAL into that
 * 64-bit start and an arithmetic shift of the high word by r - 1 give the result; output_offset
 * * 2^(r-1) added to the high word adds output_offset to it. Both high-word terms are
 * offset_unit * 2^(r-2) = (offset_unit << (r-1)) >> 1, offset_unit = 2 * output_offset + 1.
 * The high word stays within int32: |x m| < 2^62 puts the product's share within 2^30, the
 * constants' within 2^20 + 2^29 for r <= 23; beyond, offset_unit is 1 (2^29 at r = 31) and the
 * offset comes after (TG_MM_OFFSET_AFTER). tests/test_matmul_requantize.py checks both against
 * tg_requantize_reference.
 */
static inline int32_t tg_mm_requantize_fast(int32_t x, int32_t multiplier, int32_t right_shift, int32_t offset_unit)
{
    const int32_t negative = x >> 31; /* 0 or -1 */
    const int32_t rounding = (int32_t)((uint32_t)offset_unit << right_shift) >> 1;
    const uint32_t hi = (uint32_t)rounding + (uint32_t)negative;
    const uint32_t lo = 0x40000000u | ((uint32_t)negative << 31);
    const int64_t start = (int64_t)(((uint64_t)hi << 32) | lo);
    return (int32_t)((start + (int64_t)x * multiplier) >> 32) >> right_shift;
}

/*
 * tg_mm_requantize_fast as assembly text, for kernels whose requantization is one block of assembly:
 * operand a (a sum) into operand r, then `post` (text: an instruction adding the offset, or nothing)
 * and saturation to int8. The block names its other operands m (multiplier), shift (r - 1),
 * rounding ((offset_unit << shift) >> 1) and lo (scratch).
 */
#define TG_MM_REQUANTIZE_ASM(a, r, post)                                                                               \
    "and %[lo], %[" a "], #0x80000000\n\t"                                                                             \
    "orr %[lo], %[lo], #0x40000000\n\t"                                                                                \
    "add %[" r "], %[rounding], %[" a "], asr #31\n\t"                                                                 \
    "smlal %[lo], %[" r "], %[" a "], %[m]\n\t"                                                                        \
    "asr %[" r "], %[" r "], %[shift]\n\t" post "ssat %[" r "], #8, %[" r "]\n\t"

static inline int8_t tg_mm_saturate_s8(int32_t x)
{
#if TG_USE_DSP
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(x));
    return (int8_t)r;
#else
    return tg_saturate_s8(x);
#endif
}

/* One output from its sum and its channel's record q (from its multiplier on), in any mode. */
static inline int8_t tg_mm_finish(int32_t acc, const int32_t *q, const tg_mm_output *o)
{
    const int32_t mode = TG_MM_MODE(o);
    if (mode == TG_MM_REFERENCE) {
        const int32_t value = tg_requantize(acc, q[0], q[1]) + o->output_offset;
        return (int8_t)tg_clamp_i32(value, o->act_min, o->act_max);
    }
    const int32_t value = tg_mm_requantize_fast(acc, q[0], q[1], o->offset_unit) + o->post_offset;
    return mode == TG_MM_FAST_SATURATE ? tg_mm_saturate_s8(value) : (int8_t)tg_clamp_i32(value, o->act_min, o->act_max);
}

/* tg_mm_finish into *out, out of line (the blocked loops keep their registers): for the rare modes
 * and the remainders of blocked loops. q points at the record's multiplier. */
TG_MM_NOINLINE void tg_mm_finish_one(int32_t acc, const int32_t *q, const tg_mm_output *o, int8_t *out);

/* The mixed halfword of a pair's weights at byte b (above): 256 * second + first + 128. */
static inline int32_t tg_mm_mixed_half(const int8_t *w, int b)
{
    return (int32_t)(int16_t)(uint16_t)((uint8_t)w[b] | (uint8_t)w[b + 1] << 8);
}

/* A mixed pair's first channel from its sums: m - 256 b - 128 * the sum of the values (sum128). */
static inline int32_t tg_mm_first_of(int32_t m, int32_t b, int32_t sum128)
{
    return (int32_t)((uint32_t)m - ((uint32_t)b << 8) - (uint32_t)sum128);
}

/*
 * Two columns (groups of K, interleaved as above) against every output channel's weights:
 * out0[oc] and out1[oc] for each oc < out_c. out1 may be out0 (an odd last pixel).
 */
void tg_mm_two_columns_s8(const int16_t *columns, int32_t groups, const int8_t *weights, int32_t out_c,
                          const tg_mm_output *o, int8_t *out0, int8_t *out1);

#ifdef __cplusplus
}
#endif

#endif /* TG_MATMUL_H */
