/* Softmax over the last axis, int8 in; int8 out with scale 1/256 and zero point -128, or int16 out with
 * scale 1/65536 and zero point -32768 (TFLite SOFTMAX). */
#ifndef TG_SOFTMAX_H
#define TG_SOFTMAX_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t rows;             /* product of all dims but the last */
    int32_t depth;            /* the last dim, the one normalized over */
    int32_t input_multiplier; /* beta * input scale * 2^26 as multiplier * 2^(input_shift - 31) */
    int32_t input_shift;      /* 0..31, a left shift */
    int32_t diff_min;         /* differences from the row's max below this contribute exp() = 0 */
} tg_softmax_params;

void tg_softmax_s8(const tg_softmax_params *p, const int8_t *input, int8_t *output);
void tg_softmax_s8_s16(const tg_softmax_params *p, const int8_t *input, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_SOFTMAX_H */
