#include "tg_transpose_conv.h"

/*
 * tflite-micro scatters: input pixel i adds its products at output o = i * stride - pad + f for
 * each filter tap f. These kernels gather: output o sums, over the taps f with (o + pad - f) a
 * multiple of stride, the input pixel i = (o + pad - f) / stride where it lies in the input.
 * The sums are the same products added in another order, and int32/int64 sums wrap alike in
 * any order, so the bits are the same, and no output-sized accumulator buffer is needed.
 */

/* The taps reaching one output index along one axis: tap first_tap + k * stride reads input
 * index first_input - k, for k in [0, count). */
typedef struct {
    int32_t first_tap, first_input, count;
} taps_t;

static taps_t taps_at(int32_t out_index, int32_t pad, int32_t stride, int32_t filter, int32_t in_size)
{
    const int32_t t = out_index + pad; /* >= 0: pad is never negative */
    const int32_t q = t / stride, r = t % stride;
    taps_t taps = {0, 0, 0};
    if (r < filter) {
        /* tap r + k * stride reads input q - k: k <= (filter - 1 - r) / stride keeps the tap in the
         * filter, k <= q and k >= q - (in_size - 1) keep the input index in the input. */
        const int32_t k_lo = tg_max_i32(0, q - (in_size - 1));
        const int32_t k_hi = tg_min_i32(q, (filter - 1 - r) / stride);
        taps.first_tap = r + k_lo * stride;
        taps.first_input = q - k_lo;
        taps.count = tg_max_i32(0, k_hi - k_lo + 1);
    }
    return taps;
}

void tg_transpose_conv_s8(const tg_transpose_conv_params *p, const int8_t *input, const int8_t *filter,
                          const int32_t *bias, const int32_t *multiplier, const int32_t *shift, int8_t *output)
{
    const int32_t in_c = p->input.c, f_w = p->filter.w, out_c = p->output.c;
    const size_t f_size = (size_t)p->filter.h * f_w * in_c;
    for (int32_t b = 0; b < p->output.n; ++b) {
        const int8_t *in_batch = input + (size_t)b * p->input.h * p->input.w * in_c;
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            const taps_t ty = taps_at(oy, p->pad_h, p->stride_h, p->filter.h, p->input.h);
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                const taps_t tx = taps_at(ox, p->pad_w, p->stride_w, f_w, p->input.w);
                for (int32_t oc = 0; oc < out_c; oc += 2) {
                    /* Channels go in pairs (tg_dot2_s8 reads each input byte once for both); an odd
                     * last channel is computed twice and stored once. */
                    const int32_t oc1 = tg_min_i32(oc + 1, out_c - 1);
                    const int8_t *f0 = filter + (size_t)oc * f_size, *f1 = filter + (size_t)oc1 * f_size;
                    int32_t acc0 = bias ? bias[oc] : 0, acc1 = bias ? bias[oc1] : 0;
                    for (int32_t ky = 0; ky < ty.count; ++ky) {
                        const int32_t fy = ty.first_tap + ky * p->stride_h, iy = ty.first_input - ky;
                        for (int32_t kx = 0; kx < tx.count; ++kx) {
                            const int32_t fx = tx.first_tap + kx * p->stride_w, ix = tx.first_input - kx;
                            const int8_t *x = in_batch + ((size_t)iy * p->input.w + ix) * in_c;
                            const size_t tap = ((size_t)fy * f_w + fx) * in_c;
                            tg_dot2_s8(x, f0 + tap, f1 + tap, in_c, p->input_offset, &acc0, &acc1);
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
    }
}

/*
 * tflite-micro's requantization of an int64 sum: the Q31 multiplier rounded to Q15 (saturating at
 * 0x7FFF), then one rounding shift by 15 - shift (shift in [-31, 7], checked at compile time),
 * rounding half up. The product and the sum wrap where the reference's int64 arithmetic would
 * overflow, and the result is truncated to int32 as the reference's cast does.
 */
static int32_t requantize_s64(int64_t x, int32_t multiplier, int32_t shift)
{
    const int64_t reduced = multiplier < 0x7FFF0000 ? (multiplier + (1 << 15)) >> 16 : 0x7FFF;
    const int total_shift = 15 - (int)shift;
    const uint64_t sum = (uint64_t)x * (uint64_t)reduced + ((uint64_t)1 << (total_shift - 1));
    return (int32_t)((int64_t)sum >> total_shift);
}

void tg_transpose_conv_s16(const tg_transpose_conv_params *p, const int16_t *input, const int8_t *filter,
                           const int64_t *bias, const int32_t *multiplier, const int32_t *shift, int16_t *output)
{
    const int32_t in_c = p->input.c, f_w = p->filter.w, out_c = p->output.c;
    const size_t f_size = (size_t)p->filter.h * f_w * in_c;
    for (int32_t b = 0; b < p->output.n; ++b) {
        const int16_t *in_batch = input + (size_t)b * p->input.h * p->input.w * in_c;
        for (int32_t oy = 0; oy < p->output.h; ++oy) {
            const taps_t ty = taps_at(oy, p->pad_h, p->stride_h, p->filter.h, p->input.h);
            for (int32_t ox = 0; ox < p->output.w; ++ox) {
                const taps_t tx = taps_at(ox, p->pad_w, p->stride_w, f_w, p->input.w);
                for (int32_t oc = 0; oc < out_c; ++oc) {
                    const int8_t *f = filter + (size_t)oc * f_size;
                    /* Each product fits 23 bits, so only the bias can make the int64 sum wrap. */
                    uint64_t acc = bias ? (uint64_t)bias[oc] : 0u;
                    for (int32_t ky = 0; ky < ty.count; ++ky) {
                        const int32_t fy = ty.first_tap + ky * p->stride_h, iy = ty.first_input - ky;
                        for (int32_t kx = 0; kx < tx.count; ++kx) {
                            const int32_t fx = tx.first_tap + kx * p->stride_w, ix = tx.first_input - kx;
                            const int16_t *x = in_batch + ((size_t)iy * p->input.w + ix) * in_c;
                            const int8_t *w = f + ((size_t)fy * f_w + fx) * in_c;
                            for (int32_t ic = 0; ic < in_c; ++ic) {
                                acc += (uint64_t)(int64_t)((int32_t)x[ic] * w[ic]);
                            }
                        }
                    }
                    const int32_t y = requantize_s64((int64_t)acc, multiplier[oc], shift[oc]);
                    *output++ = (int16_t)tg_clamp_i32(y, p->act_min, p->act_max);
                }
            }
        }
    }
}
