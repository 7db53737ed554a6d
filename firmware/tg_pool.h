/* 2-D average and max pooling, int8 (TFLite AVERAGE_POOL_2D, MAX_POOL_2D). No rescaling:
 * input and output share one quantization, so raw int8 values are averaged or maxed. */
#ifndef TG_POOL_H
#define TG_POOL_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    tg_dims input; /* n, h, w, c */
    tg_dims output;
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;     /* top/left padding; padded taps are skipped, not counted */
    int32_t act_min, act_max; /* fused activation clamp */
} tg_pool_params;

void tg_avg_pool_s8(const tg_pool_params *p, const int8_t *input, int8_t *output);
void tg_max_pool_s8(const tg_pool_params *p, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_POOL_H */
