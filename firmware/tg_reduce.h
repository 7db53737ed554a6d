/*
 * Reductions that keep or index int8 values: REDUCE_MAX, REDUCE_MIN, ARG_MAX, ARG_MIN, and
 * L2_NORMALIZATION (each row divided by its L2 norm). SUM runs tg_mean_s8 (tg_mean.h).
 */
#ifndef TG_REDUCE_H
#define TG_REDUCE_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The input viewed as [outer, reduce_a, middle, reduce_b, inner], as for MEAN; the output is
 * [outer, middle, inner].
 */
typedef struct {
    int32_t outer, reduce_a, middle, reduce_b, inner;
} tg_reduce_params;

void tg_reduce_max_s8(const tg_reduce_params *p, const int8_t *input, int8_t *output);
void tg_reduce_min_s8(const tg_reduce_params *p, const int8_t *input, int8_t *output);

/* The input viewed as [outer, axis_size, inner]; the output, [outer, inner], holds indices along the axis. */
typedef struct {
    int32_t outer, axis_size, inner;
} tg_arg_params;

void tg_arg_max_s8(const tg_arg_params *p, const int8_t *input, int32_t *output);
void tg_arg_min_s8(const tg_arg_params *p, const int8_t *input, int32_t *output);
void tg_arg_max_f32(const tg_arg_params *p, const float *input, int32_t *output);
void tg_arg_min_f32(const tg_arg_params *p, const float *input, int32_t *output);

/* Rows of `depth` int8 values, each divided by its L2 norm; the output has scale 1/128, zero point 0. */
typedef struct {
    int32_t outer, depth;
    int32_t input_offset; /* -input zero point */
} tg_l2_normalization_params;

void tg_l2_normalization_s8(const tg_l2_normalization_params *p, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_REDUCE_H */
