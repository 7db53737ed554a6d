/* 3x3 depthwise convolution over int16 planes, one channel at a time (TFLite DEPTHWISE_CONV_2D). */
#ifndef TG_DEPTHWISE_ROWS_H
#define TG_DEPTHWISE_ROWS_H

#include "tg_depthwise.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The 3x3 depthwise kernels for long rows: the shapes of tg_depthwise_3x3_s8 (tg_depthwise.h) at
 * stride 1, every multiplier positive and every shift in [-23, -2] (tg_mm_requantize_fast,
 * tg_matmul.h); tinygen chooses them where output rows are long (tinygen/ops/depthwise_rows.py),
 * the four-channel kernels elsewhere: these pay per channel for the plane and per row for its ends.
 *
 * Channel by channel, the input channel goes into scratch as an int16 plane with a border of the
 * input zero point (the padding, whose taps then add nothing; the bias holds the input offset times
 * the channel's weights): input h + 2 rows of input w + 2 values rounded up to
 * even, or, transposed where the table's first word is 1, input w + 2 rows of input h + 2. Each
 * window row is one word of two taps (SMLAD) and one more tap (SMLABB or SMLATB), four neighbouring
 * windows sharing their loads. The compile-time table holds that flag, then per channel
 * TG_DEPTHWISE_ROWS_CHANNEL_WORDS: per filter row the first two weights as an int16 pair and the
 * third in the bottom half of a word, then the bias, the multiplier, the shift field r - 1
 * (shift = -r) and the rounding constant with the output offset ((2 * output offset + 1) << (r - 1))
 * >> 1. Results are identical to tg_depthwise_s8.
 */
#define TG_DEPTHWISE_ROWS_CHANNEL_WORDS 10

void tg_depthwise_3x3_rows_s8(const tg_depthwise_params *p, const int8_t *input, const int32_t *table, int8_t *output,
                              void *scratch);

/* The same over its input (batch 1), with the same scratch: each channel is in its plane before
 * its outputs overwrite it. */
void tg_depthwise_3x3_rows_inplace_s8(const tg_depthwise_params *p, int8_t *data, const int32_t *table, void *scratch);

#ifdef __cplusplus
}
#endif

#endif /* TG_DEPTHWISE_ROWS_H */
