#include "tg_conv.h"

/*
 * One output row. rows[fy] points at the input row under filter row fy, or is NULL where
 * that row lies in the zero padding. Both the plain and the in-place kernel gather the
 * rows and call this, so their arithmetic is one and the same.
 */
static void conv_row(const tg_conv_params *p, const int8_t *const *rows, const int8_t *filter, const int32_t *bias,
                     const int32_t *multiplier, const int32_t *shift, int8_t *output)
{
    const int32_t in_w = p->input.w, in_c = p->input.c;
    const int32_t f_h = p->filter.h, f_w = p->filter.w, out_c = p->output.c;
    for (int32_t ox = 0; ox < p->output.w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        for (int32_t oc = 0; oc < out_c; ++oc) {
            const int8_t *f = filter + (size_t)oc * f_h * f_w * in_c;
            int32_t acc = 0;
            for (int32_t fy = 0; fy < f_h; ++fy) {
                if (rows[fy] == NULL) {
                    continue; /* zero padding contributes nothing */
                }
                for (int32_t fx = 0; fx < f_w; ++fx) {
                    const int32_t x = x0 + fx * p->dilation_w;
                    if (x < 0 || x >= in_w) {
                        continue;
                    }
                    const int8_t *in_px = rows[fy] + (size_t)x * in_c;
                    const int8_t *f_px = f + ((size_t)fy * f_w + fx) * in_c;
                    for (int32_t ic = 0; ic < in_c; ++ic) {
                        acc += (int32_t)f_px[ic] * ((int32_t)in_px[ic] + p->input_offset);
                    }
                }
            }
            if (bias) {
                acc += bias[oc];
            }
            acc = tg_requantize(acc, multiplier[oc], shift[oc]) + p->output_offset;
            *output++ = (int8_t)tg_clamp_i32(acc, p->act_min, p->act_max);
        }
    }
}

void tg_conv_s8(const tg_conv_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                const int32_t *multiplier, const int32_t *shift, int8_t *output)
{
    const size_t in_row = (size_t)p->input.w * p->input.c, out_row = (size_t)p->output.w * p->output.c;
    const int8_t *rows[TG_CONV_MAX_FILTER_H];
    for (int32_t b = 0; b < p->output.n; ++b) {
        const int8_t *in_batch = input + (size_t)b * p->input.h * in_row;
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            for (int32_t fy = 0; fy < p->filter.h; ++fy) {
                const int32_t y = oy * p->stride_h - p->pad_h + fy * p->dilation_h;
                rows[fy] = (y >= 0 && y < p->input.h) ? in_batch + (size_t)y * in_row : NULL;
            }
            conv_row(p, rows, filter, bias, multiplier, shift, output);
            output += out_row;
        }
    }
}

void tg_conv_inplace_s8(const tg_conv_params *p, int8_t *data, const int8_t *filter, const int32_t *bias,
                        const int32_t *multiplier, const int32_t *shift, int8_t *scratch)
{
    const size_t row = (size_t)p->input.w * p->input.c;
    const int8_t *rows[TG_CONV_MAX_FILTER_H];
    int32_t saved = 0; /* input rows [0, saved) are in the ring: row y in slot y % filter.h */
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
        for (int32_t fy = 0; fy < p->filter.h; ++fy) {
            const int32_t y = oy - p->pad_h + fy;
            if (y < 0 || y >= p->input.h) {
                rows[fy] = NULL;
                continue;
            }
            /* Row y is first needed now, before output row oy (which only covers rows < y) is written. */
            for (; saved <= y; ++saved) {
                memcpy(scratch + (size_t)(saved % p->filter.h) * row, data + (size_t)saved * row, row);
            }
            rows[fy] = scratch + (size_t)(y % p->filter.h) * row;
        }
        conv_row(p, rows, filter, bias, multiplier, shift, data + (size_t)oy * row);
    }
}
