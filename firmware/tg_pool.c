#include "tg_pool.h"

#include "tg_simd.h"

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

/*
 * Four channels at a time (a word per window pixel) for four channels or more: groups at 0, 4, ...
 * and, for a count that is not a multiple of four, a last group at channels - 4 that overlaps the
 * one before (it recomputes the shared channels, with the same result). The portable stand-ins of
 * tg_simd.h run the same code on cores without the DSP instructions.
 */
static int32_t pool_group_channel(int32_t group, int32_t channels) { return tg_min_i32(4 * group, channels - 4); }

/* x / count rounded half away from zero, as tflite-micro divides (C division truncates toward zero). */
static inline int32_t pool_average(int32_t sum, int32_t count)
{
    return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

/*
 * The sums of one window, four lanes: SXTAB16 adds lanes 0, 2 and 1, 3 of each pixel's word to
 * halfword sums, which hold 256 pixels of int8 (|sum| <= 128 * 256 = 2^15); longer windows pour
 * them into int32 sums every 256 pixels.
 */
TG_INLINE void pool_window_sums_in(const int8_t *in, int32_t pixel, int32_t row, int32_t rows, int32_t cols,
                                   int32_t *sum, const int long_window)
{
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, pending = 0;
    uint32_t even = 0, odd = 0;
    for (int32_t y = 0; y < rows; ++y, in += row) {
        const int8_t *p = in;
        for (int32_t x = 0; x < cols; ++x, p += pixel) {
            const uint32_t word = tg_v_load4(p);
            even = tg_v_sxtab16(even, word);
            odd = tg_v_sxtab16_odd(odd, word);
            if (long_window && ++pending == 256) {
                s0 += tg_v_half(even, 0), s2 += tg_v_half(even, 1), s1 += tg_v_half(odd, 0), s3 += tg_v_half(odd, 1);
                even = odd = 0;
                pending = 0;
            }
        }
    }
    sum[0] = s0 + tg_v_half(even, 0), sum[1] = s1 + tg_v_half(odd, 0);
    sum[2] = s2 + tg_v_half(even, 1), sum[3] = s3 + tg_v_half(odd, 1);
}

static void pool_window_sums(const int8_t *in, int32_t pixel, int32_t row, int32_t rows, int32_t cols, int32_t *sum)
{
    if (rows * cols <= 256) {
        pool_window_sums_in(in, pixel, row, rows, cols, sum, 0);
    } else {
        pool_window_sums_in(in, pixel, row, rows, cols, sum, 1);
    }
}

/* The largest of each lane over one window (SSUB8 and SEL per pixel). */
static uint32_t pool_window_max(const int8_t *in, int32_t pixel, int32_t row, int32_t rows, int32_t cols)
{
    uint32_t max = tg_v_dup8(INT8_MIN);
    for (int32_t y = 0; y < rows; ++y, in += row) {
        const int8_t *p = in;
        for (int32_t x = 0; x < cols; ++x, p += pixel) {
            max = tg_v_max8(max, tg_v_load4(p));
        }
    }
    return max;
}

/* Both pools' walk over output pixels and groups; `average` picks the reduction. */
static void pool_groups(const tg_pool_params *p, const int8_t *input, int8_t *output, const int average)
{
    const int32_t in_w = p->input.w, channels = p->input.c, groups = (channels + 3) / 4;
    const int32_t row = in_w * channels;
    const uint32_t low = tg_v_dup8(p->act_min), high = tg_v_dup8(p->act_max);
    for (int32_t b = 0; b < p->output.n; ++b) {
        const int8_t *in_batch = input + (size_t)b * p->input.h * row;
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            for (int32_t ox = 0; ox < p->output.w; ++ox, output += channels) {
                int32_t y0, y1, x0, x1;
                clip_window(p, oy, ox, &y0, &y1, &x0, &x1);
                const int8_t *window = in_batch + (size_t)y0 * row + (size_t)x0 * channels;
                for (int32_t group = 0; group < groups; ++group) {
                    const int32_t c = pool_group_channel(group, channels);
                    uint32_t word;
                    if (average) {
                        int32_t sum[4];
                        const int32_t count = (y1 - y0) * (x1 - x0);
                        pool_window_sums(window + c, channels, row, y1 - y0, x1 - x0, sum);
                        word = tg_v_pack8(pool_average(sum[0], count), pool_average(sum[1], count),
                                          pool_average(sum[2], count), pool_average(sum[3], count));
                    } else {
                        word = pool_window_max(window + c, channels, row, y1 - y0, x1 - x0);
                    }
                    tg_v_store4(output + c, tg_v_min8(tg_v_max8(word, low), high));
                }
            }
        }
    }
}

void tg_avg_pool_s8(const tg_pool_params *p, const int8_t *input, int8_t *output)
{
    if (p->input.c >= 4) {
        pool_groups(p, input, output, 1);
        return;
    }
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
    if (p->input.c >= 4) {
        pool_groups(p, input, output, 0);
        return;
    }
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
