#include "tg_pool.h"

/* The part of one window inside the image: rows [*y0, *y1), columns [*x0, *x1). */
static void clip_window(const tg_pool_params *p, int32_t oy, int32_t ox, int32_t *y0, int32_t *y1, int32_t *x0,
                        int32_t *x1)
{
    const int32_t top = oy * p->stride_h - p->pad_h;
    const int32_t left = ox * p->stride_w - p->pad_w;
    *y0 = tg_max_i32(top, 0);
    *y1 = tg_min_i32(top + p->filter_h, p->input.h);
    *x0 = tg_max_i32(left, 0);
    *x1 = tg_min_i32(left + p->filter_w, p->input.w);
}

void tg_avg_pool_s8(const tg_pool_params *p, const int8_t *input, int8_t *output)
{
    const int32_t in_w = p->input.w, depth = p->input.c;
    for (int32_t b = 0; b < p->output.n; ++b) {
        const int8_t *in_batch = input + (size_t)b * p->input.h * in_w * depth;
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                int32_t y0, y1, x0, x1;
                clip_window(p, oy, ox, &y0, &y1, &x0, &x1);
                /* The compiler guarantees every window overlaps the image, so count > 0. */
                const int32_t count = (y1 - y0) * (x1 - x0);
                for (int32_t c = 0; c < depth; ++c) {
                    int32_t sum = 0;
                    for (int32_t y = y0; y < y1; ++y) {
                        for (int32_t x = x0; x < x1; ++x) {
                            sum += in_batch[((size_t)y * in_w + x) * depth + c];
                        }
                    }
                    /* Round half away from zero; C division truncates toward zero. */
                    const int32_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                    *output++ = (int8_t)tg_clamp_i32(avg, p->act_min, p->act_max);
                }
            }
        }
    }
}

void tg_max_pool_s8(const tg_pool_params *p, const int8_t *input, int8_t *output)
{
    const int32_t in_w = p->input.w, depth = p->input.c;
    for (int32_t b = 0; b < p->output.n; ++b) {
        const int8_t *in_batch = input + (size_t)b * p->input.h * in_w * depth;
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                int32_t y0, y1, x0, x1;
                clip_window(p, oy, ox, &y0, &y1, &x0, &x1);
                for (int32_t c = 0; c < depth; ++c) {
                    int32_t max = INT8_MIN;
                    for (int32_t y = y0; y < y1; ++y) {
                        for (int32_t x = x0; x < x1; ++x) {
                            max = tg_max_i32(max, in_batch[((size_t)y * in_w + x) * depth + c]);
                        }
                    }
                    *output++ = (int8_t)tg_clamp_i32(max, p->act_min, p->act_max);
                }
            }
        }
    }
}
