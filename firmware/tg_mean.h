/* Mean over constant axes, int8 with requantization (TFLite MEAN). */
#ifndef TG_MEAN_H
#define TG_MEAN_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The input viewed as [outer, reduce_a, middle, reduce_b, inner]: any set of reduced axes
 * whose dims form at most two runs. The output is [outer, middle, inner].
 */
typedef struct {
    int32_t outer, reduce_a, middle, reduce_b, inner;
    int32_t sum_offset; /* -input zero point * reduce_a * reduce_b */
    int32_t multiplier; /* input scale / output scale / count, 1/count folded in */
    int32_t shift;
    int32_t output_offset; /* output zero point */
} tg_mean_params;

void tg_mean_s8(const tg_mean_params *p, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_MEAN_H */
