#include "tg_depthwise.h"

#include "tg_fixedpoint.h"
#include "tg_simd.h"

/* The valid part of one output's window: rows x cols taps, each step in input and filter bytes. */
typedef struct {
    int32_t rows, cols;
    size_t x_col, x_row, w_col, w_row;
} window;

/* sum over the window of w * (x + x_offset) for one channel. */
static int32_t window_dot(const window *win, const int8_t *x, const int8_t *w, int32_t x_offset)
{
    int32_t acc = 0;
    for (int32_t r = 0; r < win->rows; ++r, x += win->x_row, w += win->w_row) {
        for (int32_t c = 0; c < win->cols; ++c) {
            acc = tg_add_wrap(acc, (int32_t)w[c * win->w_col] * ((int32_t)x[c * win->x_col] + x_offset));
        }
    }
    return acc;
}

#if TG_USE_DSP
/* window_dot for four adjacent channels at once: SXTB16 splits each word into channels 0, 2
 * and 1, 3; SMLABB/SMLATT multiply-add the bottom and top halves. */
static void window_dot4(const window *win, const int8_t *x, const int8_t *w, int32_t x_offset, int32_t *acc)
{
    const int32_t offsets = (int32_t)(((uint32_t)x_offset << 16) | ((uint32_t)x_offset & 0xFFFFu));
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (int32_t r = 0; r < win->rows; ++r, x += win->x_row, w += win->w_row) {
        for (int32_t c = 0; c < win->cols; ++c) {
            const uint32_t xv = tg_load_s8x4(x + c * win->x_col), wv = tg_load_s8x4(w + c * win->w_col);
            const int32_t x02 = tg_sadd16(tg_sxtb16(xv), offsets), x13 = tg_sadd16(tg_sxtb16_odd(xv), offsets);
            const int32_t w02 = tg_sxtb16(wv), w13 = tg_sxtb16_odd(wv);
            a0 = tg_smlabb(x02, w02, a0);
            a1 = tg_smlabb(x13, w13, a1);
            a2 = tg_smlatt(x02, w02, a2);
            a3 = tg_smlatt(x13, w13, a3);
        }
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}
#endif

static int8_t output_value(const tg_depthwise_params *p, int32_t acc, const int32_t *bias, const int32_t *multiplier,
                           const int32_t *shift, int32_t c)
{
    acc = tg_requantize(tg_add_wrap(acc, bias ? bias[c] : 0), multiplier[c], shift[c]) + p->output_offset;
    return (int8_t)tg_clamp_i32(acc, p->act_min, p->act_max);
}

/*
 * The outputs at (oy, ox) of channels [oc_begin, oc_end), written to out[0 ..]. Output channel
 * oc reads input channel oc / depth_multiplier, which `in` holds at in[oc / dm - oc_begin / dm]
 * in the first pixel; consecutive pixels are `pixel_stride` apart, so the same code reads the
 * interleaved tensor (stride = channels, all channels) and a saved plane (stride = 1, one channel).
 * The plain and the in-place kernel both call this, so their arithmetic is one and the same.
 */
static void depthwise_pixel(const tg_depthwise_params *p, const int8_t *in, int32_t pixel_stride, const int8_t *filter,
                            int32_t oc_begin, int32_t oc_end, int32_t oy, int32_t ox, const int32_t *bias,
                            const int32_t *multiplier, const int32_t *shift, int8_t *out)
{
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    const int32_t f_w = p->filter.w, out_c = p->output.c, dm = p->depth_multiplier;
    int32_t fy_lo, fy_hi, fx_lo, fx_hi; /* taps in the zero padding contribute nothing */
    tg_valid_taps(y0, p->dilation_h, p->filter.h, p->input.h, &fy_lo, &fy_hi);
    tg_valid_taps(x0, p->dilation_w, f_w, p->input.w, &fx_lo, &fx_hi);
    const window win = {
        .rows = tg_max_i32(fy_hi - fy_lo, 0),
        .cols = tg_max_i32(fx_hi - fx_lo, 0),
        .x_col = (size_t)p->dilation_w * pixel_stride,
        .x_row = (size_t)p->dilation_h * p->input.w * pixel_stride,
        .w_col = (size_t)out_c,
        .w_row = (size_t)f_w * out_c,
    };
    /* A window wholly in the padding reads nothing: keep its pointers inside the arrays. */
    const int empty = win.rows == 0 || win.cols == 0;
    const int8_t *x =
        empty ? in
              : in + ((size_t)(y0 + fy_lo * p->dilation_h) * p->input.w + (x0 + fx_lo * p->dilation_w)) * pixel_stride;
    const int8_t *w = empty ? filter : filter + ((size_t)fy_lo * f_w + fx_lo) * out_c;
    int32_t oc = oc_begin;
#if TG_USE_DSP
    if (dm == 1) {
        for (; oc + 4 <= oc_end; oc += 4) {
            int32_t acc[4];
            window_dot4(&win, x + (oc - oc_begin), w + oc, p->input_offset, acc);
            for (int32_t k = 0; k < 4; ++k) {
                *out++ = output_value(p, acc[k], bias, multiplier, shift, oc + k);
            }
        }
    }
#endif
    for (; oc < oc_end; ++oc) {
        const int32_t acc = window_dot(&win, x + (oc / dm - oc_begin / dm), w + oc, p->input_offset);
        *out++ = output_value(p, acc, bias, multiplier, shift, oc);
    }
}

void tg_depthwise_s8(const tg_depthwise_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                     const int32_t *multiplier, const int32_t *shift, int8_t *output)
{
    const int32_t in_c = p->input.c, out_c = p->output.c;
    const size_t in_image = (size_t)p->input.h * p->input.w * in_c;
    for (int32_t b = 0; b < p->output.n; ++b) {
        const int8_t *in_batch = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                depthwise_pixel(p, in_batch, in_c, filter, 0, out_c, oy, ox, bias, multiplier, shift, output);
                output += out_c;
            }
        }
    }
}

void tg_depthwise_inplace_s8(const tg_depthwise_params *p, int8_t *data, const int8_t *filter, const int32_t *bias,
                             const int32_t *multiplier, const int32_t *shift, int8_t *scratch)
{
    const int32_t channels = p->input.c;
    const size_t pixels = (size_t)p->input.h * p->input.w;
    int32_t c = 0;
    /* Four channels at a time, saved pixel-interleaved (stride 4) so that depthwise_pixel can
     * take its four-channel path; then the remainder one channel at a time. */
    for (; c + TG_DEPTHWISE_INPLACE_GROUP <= channels; c += TG_DEPTHWISE_INPLACE_GROUP) {
        for (size_t i = 0; i < pixels; ++i) {
            memcpy(scratch + i * TG_DEPTHWISE_INPLACE_GROUP, data + i * channels + c, TG_DEPTHWISE_INPLACE_GROUP);
        }
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                depthwise_pixel(p, scratch, TG_DEPTHWISE_INPLACE_GROUP, filter, c, c + TG_DEPTHWISE_INPLACE_GROUP, oy,
                                ox, bias, multiplier, shift, data + ((size_t)oy * p->output.w + ox) * channels + c);
            }
        }
    }
    for (; c < channels; ++c) {
        for (size_t i = 0; i < pixels; ++i) {
            scratch[i] = data[i * channels + c];
        }
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                depthwise_pixel(p, scratch, 1, filter, c, c + 1, oy, ox, bias, multiplier, shift,
                                data + ((size_t)oy * p->output.w + ox) * channels + c);
            }
        }
    }
}

/* ---- The 3x3 fast path ---- */

/* What every pixel of a layer shares. */
typedef struct {
    int32_t in_h, in_w, out_h, out_w, pad_h, pad_w, stride;
    uint32_t offsets;          /* the input offset in both halfwords */
    uint32_t act_min, act_max; /* the clamp bounds in four lanes */
    int clamp;                 /* whether they are narrower than [-128, 127] */
} dw_layer;

/* One group of four channels: where its input and output pixels are, and its tables. */
typedef struct {
    const int8_t *in; /* lane 0 of input pixel (0, 0) */
    int32_t in_col, in_row;
    int8_t *out; /* lane 0 of output pixel (0, 0) */
    int32_t out_col, out_row;
    const int32_t *weights, *quant;
} dw_group;

static dw_layer dw_layer_of(const tg_depthwise_params *p)
{
    const dw_layer l = {
        p->input.h,
        p->input.w,
        p->output.h,
        p->output.w,
        p->pad_h,
        p->pad_w,
        p->stride_w,
        tg_v_dup16(p->input_offset),
        tg_v_dup8(p->act_min),
        tg_v_dup8(p->act_max),
        p->act_min > INT8_MIN || p->act_max < INT8_MAX,
    };
    return l;
}

/* One output pixel's four lanes (channels 0 .. 3 of the group) as they accumulate. */
typedef struct {
    int32_t c0, c1, c2, c3;
} dw_acc;

/*
 * The taps of one window row: `taps` (1 .. 3) input pixels from x, in_col bytes apart, times the
 * weights at *w, which moves past them. Each tap: one word of four lanes, SXTAB16 into lanes 0, 2
 * and 1, 3 with the offset added, one LDRD of the tap's two weight words, four SMLAxy.
 */
#if TG_USE_ASM
/* Written out as assembly: left to itself the compiler hoists the weight loads of a whole row,
 * runs out of registers and spills the accumulators. */
#define TG_DW_TAP                                                                                                      \
    "ldrd %[w02], %[w13], [%[w]], #8\n\t"                                                                              \
    "sxtab16 %[o], %[off], %[q], ror #8\n\t"                                                                           \
    "sxtab16 %[q], %[off], %[q]\n\t"                                                                                   \
    "smlabb %[c0], %[q], %[w02], %[c0]\n\t"                                                                            \
    "smlatt %[c2], %[q], %[w02], %[c2]\n\t"                                                                            \
    "smlabb %[c1], %[o], %[w13], %[c1]\n\t"                                                                            \
    "smlatt %[c3], %[o], %[w13], %[c3]\n\t"
#define TG_DW_ROW_OPERANDS                                                                                             \
    : [c0] "+r"(acc->c0), [c1] "+r"(acc->c1), [c2] "+r"(acc->c2), [c3] "+r"(acc->c3), [w] "+r"(*w), [q] "=&r"(q),    \
      [o] "=&r"(o), [w02] "=&r"(w02), [w13] "=&r"(w13)                                                                 \
    : [x] "r"(x), [col] "rI"(in_col), [off] "r"(offsets)                                                               \
    : "memory"

TG_INLINE void dw_row(dw_acc *acc, const int8_t *x, int32_t in_col, uint32_t offsets, const int32_t **w, const int taps)
{
    uint32_t q, o, w02, w13;
    if (taps == 3) {
        __asm__("ldr %[q], [%[x]]\n\t" TG_DW_TAP "ldr %[q], [%[x], %[col]]\n\t" TG_DW_TAP "add %[o], %[x], %[col]\n\t"
                "ldr %[q], [%[o], %[col]]\n\t" TG_DW_TAP TG_DW_ROW_OPERANDS);
    } else if (taps == 2) {
        __asm__("ldr %[q], [%[x]]\n\t" TG_DW_TAP "ldr %[q], [%[x], %[col]]\n\t" TG_DW_TAP TG_DW_ROW_OPERANDS);
    } else {
        __asm__("ldr %[q], [%[x]]\n\t" TG_DW_TAP TG_DW_ROW_OPERANDS);
    }
}
#undef TG_DW_TAP
#undef TG_DW_ROW_OPERANDS
#else
TG_INLINE void dw_row(dw_acc *acc, const int8_t *x, int32_t in_col, uint32_t offsets, const int32_t **w, const int taps)
{
    for (int k = 0; k < taps; ++k, x += in_col, *w += 2) {
        const uint32_t quad = tg_v_load4(x), e = tg_v_sxtab16(offsets, quad), o = tg_v_sxtab16_odd(offsets, quad);
        const uint32_t w02 = (uint32_t)(*w)[0], w13 = (uint32_t)(*w)[1];
        acc->c0 = tg_v_smlabb(e, w02, acc->c0);
        acc->c2 = tg_v_smlatt(e, w02, acc->c2);
        acc->c1 = tg_v_smlabb(o, w13, acc->c1);
        acc->c3 = tg_v_smlatt(o, w13, acc->c3);
    }
}
#endif

/* Lane `lane` of a pixel: requantized with its tg_requantize_folded table in quant, saturated to int8. */
TG_INLINE int32_t dw_requantize(int32_t acc, const int32_t *quant, const int lane)
{
#if TG_USE_ASM
    int32_t m, lo, hi, shift;
    /* the sum's -2^31 for a negative acc is a second SMLAL: [acc < 0] * INT32_MIN */
    __asm__("ldrd %[m], %[lo], [%[quant], %[at]]\n\t"
            "ldrd %[hi], %[shift], [%[quant], %[at] + 8]\n\t"
            "smlal %[lo], %[hi], %[acc], %[m]\n\t"
            "lsr %[m], %[acc], #31\n\t"
            "smlal %[lo], %[hi], %[m], %[min]\n\t"
            "asr %[hi], %[hi], %[shift]\n\t"
            "ssat %[hi], #8, %[hi]"
            : [m] "=&r"(m), [lo] "=&r"(lo), [hi] "=&r"(hi), [shift] "=&r"(shift)
            : [acc] "r"(acc), [quant] "r"(quant), [at] "I"(16 + 16 * lane), [min] "r"(INT32_MIN)
            : "memory");
    return hi;
#else
    return tg_v_ssat8(tg_requantize_folded(acc, quant + 4 + 4 * lane));
#endif
}

/* One output pixel's four lanes, requantized, packed, clamped and stored as one word. */
TG_INLINE void dw_store4(const dw_acc *acc, const int32_t *quant, int clamp, uint32_t act_min, uint32_t act_max,
                         int8_t *out)
{
    const int32_t v0 = dw_requantize(acc->c0, quant, 0), v1 = dw_requantize(acc->c1, quant, 1);
    const int32_t v2 = dw_requantize(acc->c2, quant, 2), v3 = dw_requantize(acc->c3, quant, 3);
    uint32_t word = tg_v_pack8(v0, v1, v2, v3);
    if (clamp) {
        word = tg_v_min8(tg_v_max8(word, act_min), act_max);
    }
    tg_v_store4(out, word);
}

/*
 * One output pixel of a group over `rows` filter rows from `x` (its window's first valid row and
 * column; weights w from that row's first tap on); rows = 0 means all three, unrolled. `left` and
 * `right` say that the window's first or last column lies in the padding: those taps are skipped.
 */
TG_INLINE dw_acc dw_window(const int8_t *x, int32_t in_col, int32_t in_row, uint32_t offsets, int32_t rows,
                           const int32_t *w, const int32_t *bias, const int left, const int right)
{
    dw_acc acc = {bias[0], bias[1], bias[2], bias[3]};
    const int taps = 3 - left - right;
    w += 2 * left;
    if (!rows && taps == 3) {
        dw_row(&acc, x, in_col, offsets, &w, 3);
        dw_row(&acc, x + in_row, in_col, offsets, &w, 3);
        dw_row(&acc, x + 2 * in_row, in_col, offsets, &w, 3);
    } else if (!rows) {
        const int32_t *tap = w;
        dw_row(&acc, x, in_col, offsets, &tap, 2);
        tap = w + 6;
        dw_row(&acc, x + in_row, in_col, offsets, &tap, 2);
        tap = w + 12;
        dw_row(&acc, x + 2 * in_row, in_col, offsets, &tap, 2);
    } else {
        for (int32_t r = 0; r < rows; ++r, x += in_row) {
            const int32_t *tap = w + 6 * r;
            dw_row(&acc, x, in_col, offsets, &tap, taps);
        }
    }
    return acc;
}

/*
 * Every output row of a group, pixel by pixel; the first and last pixel of a row may overlap the
 * padding. `saved`: the input is the in-place kernel's saved copy, its pixels 4 bytes apart (a
 * constant, which the loads take as an immediate offset).
 */
TG_INLINE void dw_rows(const dw_layer *l, const dw_group *g, const int saved)
{
    const int32_t out_w = l->out_w, stride = l->stride, in_col = saved ? 4 : g->in_col, in_row = g->in_row;
    const int32_t out_col = g->out_col, clamp = l->clamp;
    const uint32_t offsets = l->offsets, act_min = l->act_min, act_max = l->act_max;
    const int32_t *quant = g->quant;
    const int left = l->pad_w > 0; /* the first pixel's window starts in the padding */
    const int right = (out_w - 1) * stride - l->pad_w + 2 >= l->in_w;
    for (int32_t oy = 0; oy < l->out_h; ++oy) {
        const int32_t y0 = oy * stride - l->pad_h;
        const int32_t fy_lo = y0 < 0 ? -y0 : 0, fy_hi = tg_min_i32(3, l->in_h - y0), rows = fy_hi - fy_lo;
        const int8_t *x = g->in + (y0 + fy_lo) * in_row;
        const int32_t *w = g->weights + 6 * fy_lo;
        int8_t *out = g->out + oy * g->out_row;
        int8_t *const end = out + out_w * out_col;
        const int32_t unrolled = rows == 3 ? 0 : rows; /* 0: three rows, unrolled */
        dw_acc acc;
        if (left && right && out_w == 1) {
            acc = dw_window(x, in_col, in_row, offsets, rows, w, quant, 1, 1);
            dw_store4(&acc, quant, clamp, act_min, act_max, out);
            continue;
        }
        if (left) {
            acc = unrolled ? dw_window(x, in_col, in_row, offsets, rows, w, quant, 1, 0)
                           : dw_window(x, in_col, in_row, offsets, 0, w, quant, 1, 0);
            dw_store4(&acc, quant, clamp, act_min, act_max, out);
            x += (stride - 1) * in_col;
            out += out_col;
        }
        int8_t *const inner_end = end - right * out_col;
        const int32_t step = stride * in_col;
        if (!unrolled) {
            for (; out < inner_end; x += step, out += out_col) {
                acc = dw_window(x, in_col, in_row, offsets, 0, w, quant, 0, 0);
                dw_store4(&acc, quant, clamp, act_min, act_max, out);
            }
        } else {
            for (; out < inner_end; x += step, out += out_col) {
                acc = dw_window(x, in_col, in_row, offsets, rows, w, quant, 0, 0);
                dw_store4(&acc, quant, clamp, act_min, act_max, out);
            }
        }
        if (out < end) {
            acc = unrolled ? dw_window(x, in_col, in_row, offsets, rows, w, quant, 0, 1)
                           : dw_window(x, in_col, in_row, offsets, 0, w, quant, 0, 1);
            dw_store4(&acc, quant, clamp, act_min, act_max, out);
        }
    }
}

/* The first channel of group `group`: the last group of a count that is not a multiple of four overlaps. */
static int32_t dw_group_channel(int32_t group, int32_t channels) { return tg_min_i32(4 * group, channels - 4); }

void tg_depthwise_3x3_s8(const tg_depthwise_params *p, const int8_t *input, const int32_t *weights,
                         const int32_t *quant, int8_t *output)
{
    const dw_layer l = dw_layer_of(p);
    const int32_t channels = p->input.c, groups = (channels + 3) / 4;
    const size_t in_image = (size_t)l.in_h * l.in_w * channels, out_image = (size_t)l.out_h * l.out_w * channels;
    for (int32_t b = 0; b < p->output.n; ++b) {
        for (int32_t group = 0; group < groups; ++group) {
            const int32_t c = dw_group_channel(group, channels);
            const dw_group g = {
                input + b * in_image + c,
                channels,
                l.in_w * channels,
                output + b * out_image + c,
                channels,
                l.out_w * channels,
                weights + TG_DEPTHWISE_3X3_WEIGHT_WORDS * group,
                quant + TG_DEPTHWISE_3X3_QUANT_WORDS * group,
            };
            dw_rows(&l, &g, 0);
        }
    }
}

/* One group's four channels of every pixel, packed into scratch, four pixels per step. */
static void dw_save_group(const int8_t *data, int32_t channels, int32_t pixels, int8_t *scratch)
{
    int32_t i = 0;
    for (; i + 4 <= pixels; i += 4, data += 4 * channels, scratch += 16) {
        const uint32_t p0 = tg_v_load4(data), p1 = tg_v_load4(data + channels);
        const uint32_t p2 = tg_v_load4(data + 2 * channels), p3 = tg_v_load4(data + 3 * channels);
        tg_v_store4(scratch, p0);
        tg_v_store4(scratch + 4, p1);
        tg_v_store4(scratch + 8, p2);
        tg_v_store4(scratch + 12, p3);
    }
    for (; i < pixels; ++i, data += channels, scratch += 4) {
        tg_v_store4(scratch, tg_v_load4(data));
    }
}

void tg_depthwise_3x3_inplace_s8(const tg_depthwise_params *p, int8_t *data, const int32_t *weights,
                                 const int32_t *quant, int8_t *scratch)
{
    const dw_layer l = dw_layer_of(p);
    const int32_t channels = p->input.c, groups = (channels + 3) / 4;
    const int32_t in_pixels = l.in_h * l.in_w, out_pixels = l.out_h * l.out_w;
    for (int32_t group = 0; group < groups; ++group) {
        const int32_t c = dw_group_channel(group, channels);
        dw_save_group(data + c, channels, in_pixels, scratch);
        const dw_group g = {
            scratch,
            4,
            4 * l.in_w,
            data + c,
            channels,
            l.out_w * channels,
            weights + TG_DEPTHWISE_3X3_WEIGHT_WORDS * group,
            quant + TG_DEPTHWISE_3X3_QUANT_WORDS * group,
        };
        dw_rows(&l, &g, 1);
        for (int32_t lane = 0; lane < 4 * group - c; ++lane) { /* overwritten lanes already held outputs */
            for (int32_t i = 0; i < out_pixels; ++i) {
                data[i * channels + c + lane] = scratch[4 * i + lane];
            }
        }
    }
}

void tg_depthwise_s16(const tg_depthwise_params *p, const int16_t *input, const int8_t *filter, const int64_t *bias,
                      const int32_t *multiplier, const int32_t *shift, int16_t *output)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
    const int32_t f_w = p->filter.w, out_c = p->output.c, dm = p->depth_multiplier;
    for (int32_t b = 0; b < p->output.n; ++b) {
        const int16_t *in_batch = input + (size_t)b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            int32_t fy_lo, fy_hi; /* taps in the zero padding contribute nothing */
            tg_valid_taps(y0, p->dilation_h, p->filter.h, in_h, &fy_lo, &fy_hi);
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int32_t fx_lo, fx_hi;
                tg_valid_taps(x0, p->dilation_w, f_w, in_w, &fx_lo, &fx_hi);
                for (int32_t oc = 0; oc < out_c; ++oc) {
                    int64_t sum = 0;
                    for (int32_t fy = fy_lo; fy < fy_hi; ++fy) {
                        const int32_t y = y0 + fy * p->dilation_h;
                        for (int32_t fx = fx_lo; fx < fx_hi; ++fx) {
                            const int32_t x = x0 + fx * p->dilation_w;
                            const int32_t value = in_batch[((size_t)y * in_w + x) * in_c + oc / dm];
                            sum += value * filter[((size_t)fy * f_w + fx) * out_c + oc];
                        }
                    }
                    const int32_t value = tg_requantize_sum_s16(sum, 1, bias, NULL, oc, multiplier, shift);
                    *output++ = (int16_t)tg_clamp_i32(value, p->act_min, p->act_max);
                }
            }
        }
    }
}
