/*
 * SVDF (TFLite SVDF), int8 input and output with an int16 or int8 memory: a rank-constrained
 * layer over time. Each invoke computes, per filter, one new feature from the input and appends
 * it to that filter's memory of the last `memory` features (the state, a variable tensor kept
 * between invokes); each filter's memory is then weighted by its time weights, the filters of a
 * unit summed, and the sum requantized to int8. docs/numerics/svdf.md has the arithmetic.
 */
#ifndef TG_SVDF_H
#define TG_SVDF_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t batches;
    int32_t input_size;
    int32_t filters; /* units * rank */
    int32_t rank;
    int32_t memory;                            /* features kept per filter */
    int32_t feature_multiplier, feature_shift; /* input scale * feature weight scale / state scale */
    int32_t state_zero_point;
    int32_t output_multiplier, output_shift; /* state scale * time weight scale / output scale */
    int32_t output_offset;
} tg_svdf_params;

/*
 * input [batches, input_size]; weights_feature [filters, input_size]; feature_bias[f] = -input zero
 * point * (sum of weights_feature row f), wrapped to int32 (compile time); weights_time [filters,
 * memory]; bias [units]; state [batches, filters * memory], oldest feature first, updated in place;
 * scratch: batches * filters int32; output [batches, units].
 */
void tg_svdf_s8_s16(const tg_svdf_params *p, const int8_t *input, const int8_t *weights_feature,
                    const int32_t *feature_bias, const int16_t *weights_time, const int32_t *bias, int16_t *state,
                    int32_t *scratch, int8_t *output);
/* The same with an int8 memory and int8 time weights. */
void tg_svdf_s8_s8(const tg_svdf_params *p, const int8_t *input, const int8_t *weights_feature,
                   const int32_t *feature_bias, const int8_t *weights_time, const int32_t *bias, int8_t *state,
                   int32_t *scratch, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_SVDF_H */
