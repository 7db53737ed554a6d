#include "tg_conv.h"

#include "tg_matmul.h"

/*
 * int8 convolution as a matrix product (tg_matmul.h): the windows of two output pixels are laid
 * out as two int16 columns in scratch (im2col, the input offset added, the zero padding as 0),
 * then tg_mm_two_columns_s8 computes every output channel of both. Scratch, from its start: for
 * the in-place kernel a ring of input rows (its size rounded up to a word), then the columns
 * (16 bytes a group), then the staging of window rows that do not start on a group (see
 * conv_scratch_bytes in tinygen/ops/conv.py, which sizes it).
 */

static int32_t window_groups(const tg_conv_params *p)
{
    return (p->filter.h * p->filter.w * p->input.c + TG_MM_GROUP - 1) / TG_MM_GROUP;
}

/* Whether some window row starts inside a group: those rows are gathered in the staging row. */
static int rows_straddle_groups(const tg_conv_params *p)
{
    return p->filter.h > 1 && (p->filter.w * p->input.c) % TG_MM_GROUP != 0;
}

#if TG_USE_DSP
static inline int32_t sxtab16(int32_t add, uint32_t v) /* halfwords of add + bytes 0 and 2 of v */
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2" : "=r"(r) : "r"(add), "r"(v));
    return r;
}

static inline int32_t sxtab16_odd(int32_t add, uint32_t v) /* halfwords of add + bytes 1 and 3 of v */
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(add), "r"(v));
    return r;
}
#endif

/*
 * n input bytes from src, each + offset, into a column from group slot dst on (a column's slots
 * are every other group of the pair, 2 * TG_MM_GROUP int16 apart). A last partial group is
 * completed with zeros: it ends the window, where the weights are zero. Returns the next slot.
 */
static TG_MM_ALWAYS_INLINE int16_t *extend_inline(const int8_t *src, int32_t n, int32_t offset, int16_t *dst)
{
#if TG_USE_DSP
    const int32_t offsets = (int32_t)(((uint32_t)offset << 16) | ((uint32_t)offset & 0xFFFFu));
    for (; n >= 2 * TG_MM_GROUP; n -= 2 * TG_MM_GROUP, src += 2 * TG_MM_GROUP, dst += 4 * TG_MM_GROUP) {
        const uint32_t v0 = tg_load_s8x4(src), v1 = tg_load_s8x4(src + TG_MM_GROUP);
        const int32_t slots[2][2] = {{sxtab16(offsets, v0), sxtab16_odd(offsets, v0)},
                                     {sxtab16(offsets, v1), sxtab16_odd(offsets, v1)}};
        memcpy(__builtin_assume_aligned(dst, 4), slots[0], sizeof slots[0]); /* the columns are word-aligned */
        memcpy(__builtin_assume_aligned(dst + 2 * TG_MM_GROUP, 4), slots[1], sizeof slots[1]);
    }
    if (n >= TG_MM_GROUP) {
        const uint32_t v = tg_load_s8x4(src);
        const int32_t slot[2] = {sxtab16(offsets, v), sxtab16_odd(offsets, v)};
        memcpy(__builtin_assume_aligned(dst, 4), slot, sizeof slot);
        n -= TG_MM_GROUP, src += TG_MM_GROUP, dst += 2 * TG_MM_GROUP;
    }
#else
    for (; n >= TG_MM_GROUP; n -= TG_MM_GROUP, src += TG_MM_GROUP, dst += 2 * TG_MM_GROUP) {
        dst[0] = (int16_t)(src[0] + offset);
        dst[1] = (int16_t)(src[2] + offset);
        dst[2] = (int16_t)(src[1] + offset);
        dst[3] = (int16_t)(src[3] + offset);
    }
#endif
    if (n > 0) {
        static const int8_t order[TG_MM_GROUP] = {0, 2, 1, 3}; /* SXTB16 order */
        for (int32_t j = 0; j < TG_MM_GROUP; ++j) {
            dst[j] = order[j] < n ? (int16_t)(src[order[j]] + offset) : 0;
        }
        dst += 2 * TG_MM_GROUP;
    }
    return dst;
}

static int16_t *extend(const int8_t *src, int32_t n, int32_t offset, int16_t *dst)
{
    return extend_inline(src, n, offset, dst);
}

/* extend of n bytes at the same place of each of count rows: a window inside the input. */
static int16_t *extend_rows(const int8_t *const *rows, int32_t count, size_t at, int32_t n, int32_t offset,
                            int16_t *dst)
{
    for (int32_t r = 0; r < count; ++r) {
        dst = extend_inline(rows[r] + at, n, offset, dst);
    }
    return dst;
}

/* groups slots of zero padding from dst on. */
static int16_t *zero(int16_t *dst, int32_t groups)
{
    for (; groups > 0; --groups, dst += 2 * TG_MM_GROUP) {
        memset(dst, 0, TG_MM_GROUP * sizeof *dst);
    }
    return dst;
}

static void fill(int8_t *dst, int8_t value, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        dst[i] = value;
    }
}

/* A short copy (a few taps): words where the core loads them unaligned, no library call. */
static void copy(int8_t *dst, const int8_t *src, int32_t n)
{
#if TG_USE_DSP
    for (; n >= 4; n -= 4, src += 4, dst += 4) {
        memcpy(dst, src, 4);
    }
#endif
    for (int32_t i = 0; i < n; ++i) {
        dst[i] = src[i];
    }
}

/*
 * One window row's taps [0, filter.w) into dst (int8, the padding as the input zero point): the
 * staging of rows that straddle groups. x0 is the input x of tap 0; [lo, hi) the valid taps.
 */
static void gather_row(const tg_conv_params *p, const int8_t *row, int32_t x0, int32_t lo, int32_t hi, int8_t *dst)
{
    const int32_t c = p->input.c, f_w = p->filter.w;
    const int8_t zero_point = (int8_t)-p->input_offset;
    if (row == NULL) {
        fill(dst, zero_point, f_w * c);
        return;
    }
    fill(dst, zero_point, lo * c);
    if (p->dilation_w == 1) {
        copy(dst + lo * c, row + (x0 + lo) * c, (hi - lo) * c);
    } else {
        for (int32_t fx = lo; fx < hi; ++fx) {
            copy(dst + fx * c, row + (x0 + fx * p->dilation_w) * c, c);
        }
    }
    fill(dst + hi * c, zero_point, (f_w - hi) * c);
}

/*
 * The column of one window into slot dst: rows[fy] is the input row under filter row fy (NULL in
 * the padding), x0 the input x of tap 0. stage holds a whole window when rows straddle groups.
 */
static void window_column(const tg_conv_params *p, const int8_t *const *rows, int rows_inside, int32_t x0, int16_t *dst,
                          int8_t *stage)
{
    const int32_t c = p->input.c, f_h = p->filter.h, f_w = p->filter.w, row_bytes = f_w * c;
    if (rows_inside && p->dilation_w == 1 && x0 >= 0 && x0 + f_w <= p->input.w) { /* the usual window: inside */
        if (!rows_straddle_groups(p)) {
            extend_rows(rows, f_h, (size_t)x0 * c, row_bytes, p->input_offset, dst);
            return;
        }
        for (int32_t fy = 0; fy < f_h; ++fy) {
            copy(stage + fy * row_bytes, rows[fy] + (size_t)x0 * c, row_bytes);
        }
        extend(stage, window_groups(p) * TG_MM_GROUP, p->input_offset, dst);
        return;
    }
    int32_t lo, hi;
    tg_valid_taps(x0, p->dilation_w, f_w, p->input.w, &lo, &hi);
    lo = tg_min_i32(lo, f_w);
    hi = tg_max_i32(hi, lo);
    if (rows_straddle_groups(p)) {
        for (int32_t fy = 0; fy < f_h; ++fy) {
            gather_row(p, rows[fy], x0, lo, hi, stage + fy * row_bytes);
        }
        extend(stage, window_groups(p) * TG_MM_GROUP, p->input_offset, dst);
        return;
    }
    /* every row starts on a group: whole rows straight from the input, others tap by tap */
    for (int32_t fy = 0; fy < f_h; ++fy) {
        const int8_t *row = rows[fy];
        if (row == NULL || lo >= hi) {
            dst = zero(dst, (row_bytes + TG_MM_GROUP - 1) / TG_MM_GROUP);
        } else if ((lo == 0 && hi == f_w && p->dilation_w == 1) || f_w == 1) {
            dst = extend(row + x0 * c, row_bytes, p->input_offset, dst);
        } else if (c % TG_MM_GROUP == 0) {
            dst = zero(dst, lo * c / TG_MM_GROUP);
            for (int32_t fx = lo; fx < hi; ++fx) {
                dst = extend(row + (x0 + fx * p->dilation_w) * c, c, p->input_offset, dst);
            }
            dst = zero(dst, (f_w - hi) * c / TG_MM_GROUP);
        } else {
            gather_row(p, row, x0, lo, hi, stage);
            dst = extend(stage, row_bytes, p->input_offset, dst);
        }
    }
}

/* rows[fy]: the input row under filter row fy for output row oy (NULL in the padding); whether all are inside. */
static int window_rows(const tg_conv_params *p, const int8_t *in_batch, int32_t oy, const int8_t **rows)
{
    const size_t row_bytes = (size_t)p->input.w * p->input.c;
    int inside = 1;
    for (int32_t fy = 0; fy < p->filter.h; ++fy) {
        const int32_t y = oy * p->stride_h - p->pad_h + fy * p->dilation_h;
        rows[fy] = y >= 0 && y < p->input.h ? in_batch + (size_t)y * row_bytes : NULL;
        inside &= rows[fy] != NULL;
    }
    return inside;
}

/*
 * The columns after skip bytes of scratch (word-aligned), the staging after them. A staged window
 * ends in whole groups: the bytes past K meet zero weights, and are set once here so that they
 * hold a value.
 */
static int16_t *columns_at(const tg_conv_params *p, void *scratch, size_t skip, int8_t **stage)
{
    int16_t *columns = (int16_t *)(void *)((int8_t *)scratch + ((skip + 3) & ~(size_t)3));
    *stage = (int8_t *)(columns + 2 * TG_MM_GROUP * (size_t)window_groups(p));
    if (rows_straddle_groups(p)) {
        const int32_t k = p->filter.h * p->filter.w * p->input.c;
        fill(*stage + k, 0, window_groups(p) * TG_MM_GROUP - k);
    }
    return columns;
}

/* Every output pixel, two at a time (an odd last one takes both columns and writes twice). */
static void conv_pixels(const tg_conv_params *p, const int8_t *input, const int8_t *weights, const tg_mm_output *o,
                        int8_t *output, void *scratch)
{
    int8_t *stage;
    int16_t *columns = columns_at(p, scratch, 0, &stage);
    const int32_t out_c = p->output.c, pixels = p->output.n * p->output.h * p->output.w;
    if (p->filter.h == 1 && p->filter.w == 1 && p->pad_h == 0 && p->pad_w == 0 && p->stride_h == 1 &&
        p->stride_w == 1) { /* pointwise at stride 1: pixel i's channels, input.c bytes at i * input.c */
        const int32_t c = p->input.c;
        for (int32_t i = 0; i < pixels; i += 2) {
            const int32_t second = i + 1 < pixels ? i + 1 : i; /* an odd last pixel takes both columns */
            extend_inline(input + (size_t)i * c, c, p->input_offset, columns);
            extend_inline(input + (size_t)second * c, c, p->input_offset, columns + TG_MM_GROUP);
            tg_mm_two_columns_s8(columns, window_groups(p), weights, out_c, o, output + (size_t)i * out_c,
                                 output + (size_t)second * out_c);
        }
        return;
    }
    /* raster order over batches, rows and columns, the columns filled alternately, a pair at a time */
    const int8_t *rows[TG_CONV_MAX_FILTER_H];
    const size_t batch_bytes = (size_t)p->input.h * p->input.w * p->input.c;
    int32_t i = 0, first = -1; /* first: the pixel in the pair's first column, -1 while there is none */
    for (int32_t b = 0; b < p->output.n; ++b) {
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            const int inside = window_rows(p, input + (size_t)b * batch_bytes, oy, rows);
            for (int32_t x0 = -p->pad_w, ox = 0; ox < p->output.w; ++ox, ++i, x0 += p->stride_w) {
                window_column(p, rows, inside, x0, first < 0 ? columns : columns + TG_MM_GROUP, stage);
                if (first < 0) {
                    first = i;
                    continue;
                }
                tg_mm_two_columns_s8(columns, window_groups(p), weights, out_c, o, output + (size_t)first * out_c,
                                     output + (size_t)i * out_c);
                first = -1;
            }
        }
    }
    if (first >= 0) { /* an odd last pixel: its column in both, its outputs written twice */
        for (int32_t g = 0; g < window_groups(p); ++g) { /* the columns interleave group by group */
            memcpy(columns + (2 * g + 1) * TG_MM_GROUP, columns + 2 * g * TG_MM_GROUP, TG_MM_GROUP * sizeof *columns);
        }
        tg_mm_two_columns_s8(columns, window_groups(p), weights, out_c, o, output + (size_t)first * out_c,
                             output + (size_t)first * out_c);
    }
}

void tg_conv_s8(const tg_conv_params *p, const int8_t *input, const int8_t *weights, const int32_t *quant,
                int8_t *output, void *scratch)
{
    const tg_mm_output o = TG_MM_OUTPUT(quant, p->output_offset, p->act_min, p->act_max);
    conv_pixels(p, input, weights, &o, output, scratch);
}

/*
 * In place (batch 1, stride 1, dilation 1, equal input and output shapes): output row oy
 * overwrites input row oy, pixel by pixel. Its windows read input rows oy - pad_h .. oy - pad_h
 * + filter.h - 1: those before oy are overwritten by then, and row oy is while the row is
 * written, so rows oy - pad_h .. oy live in a ring of pad_h + 1 rows at the start of scratch
 * (row y in slot y % (pad_h + 1)), row oy copied in before the row starts; the rows after oy are
 * read where they are. A 1x1 filter needs no ring: each pair of pixels is in its columns before
 * their outputs are written.
 */
void tg_conv_inplace_s8(const tg_conv_params *p, int8_t *data, const int8_t *weights, const int32_t *quant,
                        void *scratch)
{
    const tg_mm_output o = TG_MM_OUTPUT(quant, p->output_offset, p->act_min, p->act_max);
    if (p->filter.h == 1 && p->filter.w == 1) {
        conv_pixels(p, data, weights, &o, data, scratch);
        return;
    }
    const int32_t slots = p->pad_h + 1, w = p->input.w, c = p->input.c;
    const size_t row_bytes = (size_t)w * c;
    int8_t *ring = (int8_t *)scratch, *stage;
    int16_t *columns = columns_at(p, scratch, (size_t)slots * row_bytes, &stage);
    const int8_t *rows[TG_CONV_MAX_FILTER_H];
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
        memcpy(ring + (size_t)(oy % slots) * row_bytes, data + (size_t)oy * row_bytes, row_bytes);
        int inside = 1;
        for (int32_t fy = 0; fy < p->filter.h; ++fy) {
            const int32_t y = oy - p->pad_h + fy;
            rows[fy] = y < 0 || y >= p->input.h ? NULL
                       : y <= oy                ? ring + (size_t)(y % slots) * row_bytes
                                                : data + (size_t)y * row_bytes;
            inside &= rows[fy] != NULL;
        }
        int8_t *out = data + (size_t)oy * row_bytes;
        for (int32_t ox = 0; ox < w; ox += 2) {
            const int32_t ox1 = tg_min_i32(ox + 1, w - 1); /* an odd last pixel takes both columns */
            window_column(p, rows, inside, ox - p->pad_w, columns, stage);
            window_column(p, rows, inside, ox1 - p->pad_w, columns + TG_MM_GROUP, stage);
            tg_mm_two_columns_s8(columns, window_groups(p), weights, c, &o, out + (size_t)ox * c,
                                 out + (size_t)ox1 * c);
        }
    }
}

/*
 * The 16x8 convolution, plainly: for each output the products over the window's valid taps
 * (those in the zero padding add nothing), then tg_requantize_sum_s16 with the bias the model
 * has. wide selects the int64 (bias64) or the int32 (bias32) arithmetic.
 */
static void conv_s16(const tg_conv_params *p, const int16_t *input, const int8_t *filter, int wide,
                     const int64_t *bias64, const int32_t *bias32, const int32_t *multiplier, const int32_t *shift,
                     int16_t *output)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c, f_w = p->filter.w;
    const size_t f_size = (size_t)p->filter.h * f_w * in_c;
    for (int32_t b = 0; b < p->output.n; ++b) {
        const int16_t *in_batch = input + (size_t)b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            int32_t fy_lo, fy_hi;
            tg_valid_taps(y0, p->dilation_h, p->filter.h, in_h, &fy_lo, &fy_hi);
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int32_t fx_lo, fx_hi;
                tg_valid_taps(x0, p->dilation_w, f_w, in_w, &fx_lo, &fx_hi);
                for (int32_t oc = 0; oc < p->output.c; ++oc) {
                    const int8_t *f = filter + (size_t)oc * f_size;
                    int64_t sum = 0; /* each product fits 23 bits: the sum cannot overflow */
                    for (int32_t fy = fy_lo; fy < fy_hi; ++fy) {
                        const int16_t *row = in_batch + (size_t)(y0 + fy * p->dilation_h) * in_w * in_c;
                        for (int32_t fx = fx_lo; fx < fx_hi; ++fx) {
                            const int16_t *x = row + (size_t)(x0 + fx * p->dilation_w) * in_c;
                            const int8_t *w = f + ((size_t)fy * f_w + fx) * in_c;
                            for (int32_t ic = 0; ic < in_c; ++ic) {
                                sum += (int32_t)x[ic] * w[ic];
                            }
                        }
                    }
                    const int32_t value = tg_requantize_sum_s16(sum, wide, bias64, bias32, oc, multiplier, shift);
                    *output++ = (int16_t)tg_clamp_i32(value, p->act_min, p->act_max);
                }
            }
        }
    }
}

void tg_conv_s16(const tg_conv_params *p, const int16_t *input, const int8_t *filter, const int64_t *bias,
                 const int32_t *multiplier, const int32_t *shift, int16_t *output)
{
    conv_s16(p, input, filter, 1, bias, NULL, multiplier, shift, output);
}

void tg_conv_s16_acc32(const tg_conv_params *p, const int16_t *input, const int8_t *filter, const int32_t *bias,
                       const int32_t *multiplier, const int32_t *shift, int16_t *output)
{
    conv_s16(p, input, filter, 0, NULL, bias, multiplier, shift, output);
}
