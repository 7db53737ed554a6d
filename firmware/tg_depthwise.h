/* Depthwise 2-D convolution, int8 and 16x8, any depth multiplier (TFLite DEPTHWISE_CONV_2D). */
#ifndef TG_DEPTHWISE_H
#define TG_DEPTHWISE_H

#include "tg_common.h"
#include "tg_int16.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    tg_dims input;  /* n, h, w, c */
    tg_dims filter; /* n = 1, h, w, c = output channels = input channels * depth_multiplier */
    tg_dims output;
    int32_t depth_multiplier;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;
    int32_t input_offset, output_offset; /* 0 for 16x8 */
    int32_t act_min, act_max;
} tg_depthwise_params;

/* Output channel ic * depth_multiplier + m reads input channel ic. bias may be NULL. */
void tg_depthwise_s8(const tg_depthwise_params *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                     const int32_t *multiplier, const int32_t *shift, int8_t *output);

/* Channels the in-place kernel saves and computes at once (tinygen/inplace.py sizes its scratch). */
#define TG_DEPTHWISE_INPLACE_GROUP 4

/*
 * The same convolution with the output written over the input (MIT TinyEngine's in-place
 * depthwise), for depth multiplier 1 when the input dies here. Channels [c, c + 4) are
 * copied to scratch (min(4, channels) * input h * w bytes), the remainder one at a time,
 * and their outputs written back: output element (y, x, c) sits at an offset congruent to
 * c modulo the channel count, so it only overwrites channels already saved. Results are
 * identical to tg_depthwise_s8.
 */
void tg_depthwise_inplace_s8(const tg_depthwise_params *p, int8_t *data, const int8_t *filter, const int32_t *bias,
                             const int32_t *multiplier, const int32_t *shift, int8_t *scratch);

/*
 * The 3x3 fast path: depth multiplier 1, dilation 1, stride 1 or 2 in both directions, at most one
 * row or column of padding on each side (SAME or VALID), at least four channels, every shift in
 * [-22, -1]; tinygen chooses it where all of that holds (tinygen/ops/depthwise.py). Channels go
 * in groups of four, at 0, 4, ... and, when the count is not a multiple of four, a last group at
 * channels - 4 that overlaps the one before. Compile-time tables, per group:
 *   weights: 9 taps (row-major) x 2 words, the group's channels (0, 2) and (1, 3) as int16 pairs;
 *   quant:   4 biases, then per channel the tg_requantize_folded table (tg_fixedpoint.h).
 * Per output pixel and group: one word load per tap (four channels), SXTAB16 into two lane pairs
 * with the input offset added, one LDRD of the tap's weights, four SMLAxy; the four results are
 * requantized, packed and stored as one word. Results are identical to tg_depthwise_s8.
 */
#define TG_DEPTHWISE_3X3_WEIGHT_WORDS 18
#define TG_DEPTHWISE_3X3_QUANT_WORDS  20

void tg_depthwise_3x3_s8(const tg_depthwise_params *p, const int8_t *input, const int32_t *weights,
                         const int32_t *quant, int8_t *output);

/*
 * The same over its input (batch 1): each group of four channels is copied to scratch
 * (4 * input h * w bytes), computed from there and written back over the input; the same passes
 * as tg_depthwise_3x3_s8. An overlapping last group restores the channels it shares with the
 * group before from its saved copy, which held their final outputs.
 */
void tg_depthwise_3x3_inplace_s8(const tg_depthwise_params *p, int8_t *data, const int32_t *weights,
                                 const int32_t *quant, int8_t *scratch);

/*
 * 16x8: int16 input and output (zero points 0), int8 weights, an int64 bias (may be NULL): sums
 * in int64, requantized with tg_requantize_s64 (tg_int16.h). tflite-micro has no int32-bias variant.
 */
void tg_depthwise_s16(const tg_depthwise_params *p, const int16_t *input, const int8_t *filter, const int64_t *bias,
                      const int32_t *multiplier, const int32_t *shift, int16_t *output);

#ifdef __cplusplus
}
#endif

#include "tg_depthwise_rows.h" /* the kernels for long rows, which take the same params */

#endif /* TG_DEPTHWISE_H */
