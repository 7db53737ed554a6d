/*
 * Resizing NHWC images (TFLite RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR).
 *
 * Where each output row and column reads from is computed at compile time, exactly as
 * tflite-micro computes it per pixel, and passed as const tables:
 *   bilinear: rows[3 * y] and rows[3 * y + 1] are the element offsets (in an input image)
 *     of the top and bottom source rows, rows[3 * y + 2] the bottom row's weight in 1/1024
 *     (the top row's is 1024 minus it); cols likewise for the left and right columns;
 *   nearest: rows[y] and cols[x] are the byte offsets of the source row and column.
 */
#ifndef TG_RESIZE_H
#define TG_RESIZE_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t batches;
    int32_t input_image; /* elements per input image */
    int32_t output_height, output_width, depth;
} tg_resize_bilinear_params;

typedef struct {
    int32_t batches;
    int32_t input_image; /* bytes per input image */
    int32_t output_height, output_width;
    int32_t pixel; /* bytes per pixel */
} tg_resize_nearest_params;

void tg_resize_bilinear_s8(const tg_resize_bilinear_params *p, const int32_t *rows, const int32_t *cols,
                           const int8_t *input, int8_t *output);
/* Any element type: the pixels are copied as bytes. */
void tg_resize_nearest(const tg_resize_nearest_params *p, const int32_t *rows, const int32_t *cols, const void *input,
                       void *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_RESIZE_H */
