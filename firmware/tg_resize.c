#include "tg_resize.h"

#define TG_RESIZE_ONE        1024      /* weights are in 1/1024 along each axis */
#define TG_RESIZE_HALF_ULP20 (1 << 19) /* half of the 2^20 a product of two weights totals */

/*
 * The four weights total 2^20, so the sum is 2^20 times a weighted average of int8 values.
 * A weight along one axis lies in [-1/2, 3/2] (outside [0, 1] only before the first pixel
 * with half_pixel_centers, where both taps are that pixel), so |sum| <= 2^7 * 2^11 * 2^11,
 * far inside int32. tflite-micro rounds it half away from zero: add +-2^19, divide truncating.
 */
void tg_resize_bilinear_s8(const tg_resize_bilinear_params *p, const int32_t *rows, const int32_t *cols,
                           const int8_t *input, int8_t *output)
{
    const int32_t depth = p->depth;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * (size_t)p->input_image;
        for (int32_t y = 0; y < p->output_height; ++y) {
            const int8_t *top = image + rows[3 * y], *bottom = image + rows[3 * y + 1];
            const int32_t wy1 = rows[3 * y + 2], wy0 = TG_RESIZE_ONE - wy1;
            for (int32_t x = 0; x < p->output_width; ++x) {
                const int32_t left = cols[3 * x], right = cols[3 * x + 1];
                const int32_t wx1 = cols[3 * x + 2], wx0 = TG_RESIZE_ONE - wx1;
                const int32_t w00 = wy0 * wx0, w10 = wy1 * wx0, w01 = wy0 * wx1, w11 = wy1 * wx1;
                for (int32_t c = 0; c < depth; ++c) {
                    const int32_t sum =
                        top[left + c] * w00 + bottom[left + c] * w10 + top[right + c] * w01 + bottom[right + c] * w11;
                    *output++ = (int8_t)((sum + (sum > 0 ? TG_RESIZE_HALF_ULP20 : -TG_RESIZE_HALF_ULP20)) /
                                         (TG_RESIZE_ONE * TG_RESIZE_ONE));
                }
            }
        }
    }
}

void tg_resize_nearest(const tg_resize_nearest_params *p, const int32_t *rows, const int32_t *cols, const void *input,
                       void *output)
{
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    const size_t pixel = (size_t)p->pixel;
    for (int32_t b = 0; b < p->batches; ++b) {
        const uint8_t *image = in + (size_t)b * (size_t)p->input_image;
        for (int32_t y = 0; y < p->output_height; ++y) {
            const uint8_t *row = image + rows[y];
            for (int32_t x = 0; x < p->output_width; ++x) {
                memcpy(out, row + cols[x], pixel);
                out += pixel;
            }
        }
    }
}
