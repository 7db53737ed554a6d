/* 2-D convolution, int8 and 16x8 (int16 activations, int8 weights), per-channel requantization (TFLite CONV_2D). */
#ifndef TG_CONV_H
#define TG_CONV_H

#include <string.h>

#include "tg_common.h"
#include "tg_int16.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The tallest filter the kernels take (checked at compile time by tinygen). */
#define TG_CONV_MAX_FILTER_H 16

typedef struct {
    tg_dims input;  /* n, h, w, c */
    tg_dims filter; /* n = output channels, h, w, c = input channels */
    tg_dims output;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;     /* top/left padding; bottom/right is implied by the output size */
    int32_t input_offset;     /* -input zero point, [-127, 128]; 0 for 16x8 */
    int32_t output_offset;    /* output zero point; 0 for 16x8 */
    int32_t act_min, act_max; /* fused activation clamp, in the output's int8 (int16) domain */
} tg_conv_params;

/*
 * int8: a blocked matrix product over im2col columns (tg_matmul.h). weights are re-laid at
 * compile time (tinygen/ops/matmul.py: output channels in interleaved pairs, K = filter.h *
 * filter.w * input.c rounded up to whole groups); quant is tg_matmul.h's mode and per-channel
 * records (the model's bias in them). scratch holds two columns and, where window rows do not
 * start on a group, their staging (conv_scratch_bytes in tinygen/ops/conv.py).
 */
void tg_conv_s8(const tg_conv_params *p, const int8_t *input, const int8_t *weights, const int32_t *quant,
                int8_t *output, void *scratch);

/*
 * The same convolution with the output written over the input, for batch 1, stride 1, dilation 1
 * and equal input and output shapes, when the input dies here. scratch starts with a ring of
 * pad_h + 1 input rows (none for a 1x1 filter), rounded up to a word, then tg_conv_s8's scratch.
 */
void tg_conv_inplace_s8(const tg_conv_params *p, int8_t *data, const int8_t *weights, const int32_t *quant,
                        void *scratch);

/*
 * 16x8: int16 input and output (zero points 0), int8 weights, an int64 bias (may be NULL). The
 * products are summed in int64 and requantized with tg_requantize_s64 (tg_int16.h).
 */
void tg_conv_s16(const tg_conv_params *p, const int16_t *input, const int8_t *filter, const int64_t *bias,
                 const int32_t *multiplier, const int32_t *shift, int16_t *output);

/* 16x8 with an int32 bias (may be NULL): an int32 sum, wrapping, and the int8 kernels' requantization. */
void tg_conv_s16_acc32(const tg_conv_params *p, const int16_t *input, const int8_t *filter, const int32_t *bias,
                       const int32_t *multiplier, const int32_t *shift, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_CONV_H */
