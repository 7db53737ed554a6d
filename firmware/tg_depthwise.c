#include "tg_depthwise.h"

/*
 * One output value: the window at (oy, ox) over one input channel. `in` points at that
 * channel's first element and consecutive pixels are `pixel_stride` apart, so the same
 * code reads the interleaved tensor (stride = channels) and a saved plane (stride = 1).
 */
static int8_t depthwise_point(const tg_depthwise_params *p, const int8_t *in, int32_t pixel_stride,
                              const int8_t *filter, int32_t oc, int32_t oy, int32_t ox, int32_t bias,
                              int32_t multiplier, int32_t shift)
{
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    const int32_t f_w = p->filter.w, out_c = p->output.c;
    int32_t acc = 0;
    for (int32_t fy = 0; fy < p->filter.h; ++fy) {
        const int32_t y = y0 + fy * p->dilation_h;
        if (y < 0 || y >= p->input.h) {
            continue; /* zero padding contributes nothing */
        }
        for (int32_t fx = 0; fx < f_w; ++fx) {
            const int32_t x = x0 + fx * p->dilation_w;
            if (x < 0 || x >= p->input.w) {
                continue;
            }
            const int32_t value = in[((size_t)y * p->input.w + x) * pixel_stride];
            acc += (int32_t)filter[((size_t)fy * f_w + fx) * out_c + oc] * (value + p->input_offset);
        }
    }
    acc = tg_requantize(acc + bias, multiplier, shift) + p->output_offset;
    return (int8_t)tg_clamp_i32(acc, p->act_min, p->act_max);
}

void tg_depthwise_s8(const tg_depthwise_params *p, const int8_t *input, const int8_t *filter,
                     const int32_t *bias, const int32_t *multiplier, const int32_t *shift, int8_t *output)
{
    const int32_t in_c = p->input.c, out_c = p->output.c;
    const size_t in_image = (size_t)p->input.h * p->input.w * in_c;
    for (int32_t b = 0; b < p->output.n; ++b) {
        const int8_t *in_batch = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                for (int32_t oc = 0; oc < out_c; ++oc) {
                    const int32_t ic = oc / p->depth_multiplier;
                    *output++ = depthwise_point(p, in_batch + ic, in_c, filter, oc, oy, ox, bias ? bias[oc] : 0,
                                                multiplier[oc], shift[oc]);
                }
            }
        }
    }
}

void tg_depthwise_inplace_s8(const tg_depthwise_params *p, int8_t *data, const int8_t *filter, const int32_t *bias,
                             const int32_t *multiplier, const int32_t *shift, int8_t *scratch)
{
    const int32_t channels = p->input.c;
    const size_t pixels = (size_t)p->input.h * p->input.w;
    for (int32_t c = 0; c < channels; ++c) {
        for (size_t i = 0; i < pixels; ++i) {
            scratch[i] = data[i * channels + c];
        }
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                data[((size_t)oy * p->output.w + ox) * channels + c] =
                    depthwise_point(p, scratch, 1, filter, c, oy, ox, bias ? bias[c] : 0, multiplier[c], shift[c]);
            }
        }
    }
}
