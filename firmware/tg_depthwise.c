#include "tg_depthwise.h"

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
