/* Transposed 2-D convolution, int8 and 16x8 (int16 activations, int8 weights) (TFLite TRANSPOSE_CONV). */
#ifndef TG_TRANSPOSE_CONV_H
#define TG_TRANSPOSE_CONV_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    tg_dims input;  /* n, h, w, c */
    tg_dims filter; /* n = output channels, h, w, c = input channels */
    tg_dims output;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;     /* input pixel (y, x) lands at output (y * stride_h - pad_h, x * stride_w - pad_w) */
    int32_t input_offset;     /* -input zero point (0 for 16x8) */
    int32_t output_offset;    /* output zero point (0 for 16x8) */
    int32_t act_min, act_max; /* fused activation clamp, in the output's integer domain */
} tg_transpose_conv_params;

/*
 * Input pixel (y, x) adds (input + input_offset) * filter[oc][fy][fx] to output pixel
 * (y * stride_h - pad_h + fy, x * stride_w - pad_w + fx), channel oc, where that lies in the
 * output; each output element is then requantized per output channel. bias may be NULL.
 */
void tg_transpose_conv_s8(const tg_transpose_conv_params *p, const int8_t *input, const int8_t *filter,
                          const int32_t *bias, const int32_t *multiplier, const int32_t *shift, int8_t *output);

/* The same sums in int64 for int16 activations; the multipliers and shifts apply as in tflite-micro's
 * 64-bit requantization (see tg_transpose_conv.c). bias may be NULL. */
void tg_transpose_conv_s16(const tg_transpose_conv_params *p, const int16_t *input, const int8_t *filter,
                           const int64_t *bias, const int32_t *multiplier, const int32_t *shift, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_TRANSPOSE_CONV_H */
