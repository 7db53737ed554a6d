/* 2-D convolution, int8, per-channel requantization (TFLite CONV_2D). */
#ifndef TG_CONV_H
#define TG_CONV_H

#include <string.h>

#include "tg_common.h"

/* The tallest filter the kernels take (checked at compile time by tinygen). */
#define TG_CONV_MAX_FILTER_H 16

typedef struct {
    tg_dims input;  /* n, h, w, c */
    tg_dims filter; /* n = output channels, h, w, c = input channels */
    tg_dims output;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;     /* top/left padding; bottom/right is implied by the output size */
    int32_t input_offset;     /* -input zero point, [-127, 128] */
    int32_t output_offset;    /* output zero point */
    int32_t act_min, act_max; /* fused activation clamp, in the output's int8 domain */
} tg_conv_params;

/*
 * folded_bias[oc] = bias[oc] + input_offset * (sum of output channel oc's weights), wrapped
 * to int32 (tinygen/kernels/conv.py). bias is read only for windows that overlap the padding
 * and may be NULL (tinygen passes NULL when no window does); multiplier/shift hold one entry
 * per output channel.
 */
void tg_conv_s8(const tg_conv_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                const int32_t *folded_bias, const int32_t *multiplier, const int32_t *shift, int8_t *output);

/*
 * The same convolution with the output written over the input, for batch 1, stride 1, dilation 1
 * and equal input and output shapes, when the input dies here. A ring of filter.h input
 * rows in scratch (filter.h * w * c bytes) keeps every row until the last output row
 * that reads it is written; output row y overwrites input row y, which is saved by then.
 */
void tg_conv_inplace_s8(const tg_conv_params *p, int8_t *data, const int8_t *filter, const int32_t *bias,
                        const int32_t *folded_bias, const int32_t *multiplier, const int32_t *shift, int8_t *scratch);

#endif /* TG_CONV_H */
