#include "tg_conv.h"

/*
 * One output row. rows[fy] points at the input row under filter row fy, or is NULL where
 * that row lies in the zero padding. Both the plain and the in-place kernel gather the
 * rows and call this, so their arithmetic is one and the same. Output channels go in
 * pairs (tg_dot2_s8 reads each input byte once for both); with dilation_w 1 the valid taps
 * of a filter row are one contiguous run of input and of weights. A window wholly inside the
 * input starts from folded_bias (bias + input_offset * the channel's weight sum) and sums
 * w * x alone; one overlapping the padding adds input_offset tap by tap to its valid taps
 * only, and starts from bias. Sums wrap, so the order of the additions does not matter.
 */
static void conv_row(const tg_conv_params *p, const int8_t *const *rows, const int8_t *filter, const int32_t *bias,
                     const int32_t *folded_bias, const int32_t *multiplier, const int32_t *shift, int8_t *output)
{
    const int32_t in_c = p->input.c, f_h = p->filter.h, f_w = p->filter.w, out_c = p->output.c;
    const int32_t dilation_w = p->dilation_w;
    const size_t f_size = (size_t)f_h * f_w * in_c;
    int all_rows = 1;
    for (int32_t fy = 0; fy < f_h; ++fy) {
        all_rows &= rows[fy] != NULL;
    }
    for (int32_t ox = 0; ox < p->output.w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        int32_t fx_lo, fx_hi;
        tg_valid_taps(x0, dilation_w, f_w, p->input.w, &fx_lo, &fx_hi);
        const int inside = all_rows && fx_lo == 0 && fx_hi == f_w;
        const int32_t run = dilation_w == 1 ? (fx_hi - fx_lo) * in_c : in_c;
        for (int32_t oc = 0; oc < out_c; oc += 2) {
            /* An odd last channel is computed twice and stored once. */
            const int32_t oc1 = tg_min_i32(oc + 1, out_c - 1);
            const int8_t *f0 = filter + (size_t)oc * f_size, *f1 = filter + (size_t)oc1 * f_size;
            int32_t acc0 = inside ? folded_bias[oc] : bias ? bias[oc] : 0;
            int32_t acc1 = inside ? folded_bias[oc1] : bias ? bias[oc1] : 0;
            for (int32_t fy = 0; fy < f_h; ++fy) {
                if (rows[fy] == NULL) {
                    continue; /* zero padding contributes nothing */
                }
                for (int32_t fx = fx_lo; fx < fx_hi; fx += dilation_w == 1 ? f_w : 1) {
                    const size_t tap = ((size_t)fy * f_w + fx) * in_c;
                    const int8_t *x = rows[fy] + (size_t)(x0 + fx * dilation_w) * in_c;
                    if (inside) {
                        tg_dot2_nooffset_s8(x, f0 + tap, f1 + tap, run, &acc0, &acc1);
                    } else {
                        tg_dot2_s8(x, f0 + tap, f1 + tap, run, p->input_offset, &acc0, &acc1);
                    }
                }
            }
            acc0 = tg_requantize(acc0, multiplier[oc], shift[oc]) + p->output_offset;
            *output++ = (int8_t)tg_clamp_i32(acc0, p->act_min, p->act_max);
            if (oc1 != oc) {
                acc1 = tg_requantize(acc1, multiplier[oc1], shift[oc1]) + p->output_offset;
                *output++ = (int8_t)tg_clamp_i32(acc1, p->act_min, p->act_max);
            }
        }
    }
}

void tg_conv_s8(const tg_conv_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                const int32_t *folded_bias, const int32_t *multiplier, const int32_t *shift, int8_t *output)
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
            conv_row(p, rows, filter, bias, folded_bias, multiplier, shift, output);
            output += out_row;
        }
    }
}

void tg_conv_inplace_s8(const tg_conv_params *p, int8_t *data, const int8_t *filter, const int32_t *bias,
                        const int32_t *folded_bias, const int32_t *multiplier, const int32_t *shift, int8_t *scratch)
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
        conv_row(p, rows, filter, bias, folded_bias, multiplier, shift, data + (size_t)oy * row);
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
