/* Standalone int8 RELU and RELU6 (TFLite RELU, RELU6). */
#ifndef TG_RELU_H
#define TG_RELU_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t size;
    int32_t input_offset, output_offset; /* -input zero point, output zero point */
    int32_t multiplier, shift;           /* input scale / output scale */
    int32_t act_min, act_max;            /* [output zero, 127] */
} tg_relu_params;

/* RELU6 clamps in the input's domain and does not rescale (TFLite's behaviour). */
typedef struct {
    int32_t size;
    int32_t zero, six; /* 0.0 and 6.0 quantized with the input's parameters */
} tg_relu6_params;

void tg_relu_s8(const tg_relu_params *p, const int8_t *input, int8_t *output);
void tg_relu6_s8(const tg_relu6_params *p, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_RELU_H */
