#include "tg_depthwise.h"

void tg_depthwise_s8(const tg_depthwise_params *p, const int8_t *input, const int8_t *filter,
                     const int32_t *bias, const int32_t *multiplier, const int32_t *shift, int8_t *output)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
    const int32_t f_h = p->filter.h, f_w = p->filter.w, out_c = p->output.c;
    for (int32_t b = 0; b < p->output.n; ++b) {
        const int8_t *in_batch = input + (size_t)b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                for (int32_t oc = 0; oc < out_c; ++oc) {
                    const int32_t ic = oc / p->depth_multiplier;
                    int32_t acc = 0;
                    for (int32_t fy = 0; fy < f_h; ++fy) {
                        const int32_t y = y0 + fy * p->dilation_h;
                        if (y < 0 || y >= in_h) {
                            continue;
                        }
                        for (int32_t fx = 0; fx < f_w; ++fx) {
                            const int32_t x = x0 + fx * p->dilation_w;
                            if (x < 0 || x >= in_w) {
                                continue;
                            }
                            const int32_t in = in_batch[((size_t)y * in_w + x) * in_c + ic];
                            acc += (int32_t)filter[((size_t)fy * f_w + fx) * out_c + oc] * (in + p->input_offset);
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
    }
}
