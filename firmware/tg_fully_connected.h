/* Fully connected layer, int8 and 16x8, per-tensor or per-channel weights (TFLite FULLY_CONNECTED). */
#ifndef TG_FULLY_CONNECTED_H
#define TG_FULLY_CONNECTED_H

#include "tg_common.h"
#include "tg_int16.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t batches;       /* rows of the input: its size / input_depth */
    int32_t input_depth;   /* accumulation depth */
    int32_t output_depth;  /* output channels (weight rows) */
    int32_t input_offset;  /* -input zero point */
    int32_t filter_offset; /* -weight zero point (0 for symmetric weights) */
    int32_t output_offset;
    int32_t act_min, act_max;
} tg_fully_connected_params;

/* Groups of four input values widened at a time (tinygen/ops/fully_connected.py: FC_CHUNK_GROUPS). */
#define TG_FC_CHUNK_GROUPS 32

/*
 * int8: weights re-laid at compile time in mixed pairs, three pairs a block (tg_fully_connected.c,
 * tinygen/ops/matmul.py's mixed_pair_blocks); quant is tg_matmul.h's mode (with TG_MM_MIXED) and
 * per-row records, whose bias is folded: bias[oc] (0 without one) + input_offset * (sum of weight
 * row oc), wrapped to int32, and a pair's first bias_a + 256 bias_b. scratch (word-aligned): the
 * input widened, TG_FC_CHUNK_GROUPS groups of 8 bytes at most, then for a longer input a word per
 * output row.
 */
void tg_fully_connected_s8(const tg_fully_connected_params *p, const int8_t *input, const int8_t *weights,
                           const int32_t *quant, int8_t *output, void *scratch);

/*
 * 16x8: int16 input and output, int8 weights, an int64 bias (may be NULL). Each product is
 * (w + filter_offset) * (x + input_offset), summed in int64 and requantized with
 * tg_requantize_s64 (tg_int16.h); output_offset is added after.
 */
void tg_fully_connected_s16(const tg_fully_connected_params *p, const int16_t *input, const int8_t *filter,
                            const int64_t *bias, const int32_t *multiplier, const int32_t *shift, int16_t *output);

/* 16x8 with an int32 bias (may be NULL): an int32 sum, wrapping, and the int8 kernels' requantization. */
void tg_fully_connected_s16_acc32(const tg_fully_connected_params *p, const int16_t *input, const int8_t *filter,
                                  const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                                  int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_FULLY_CONNECTED_H */
