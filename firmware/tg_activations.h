/* Logistic and tanh, int8 (TFLite LOGISTIC, TANH); both evaluated in Q4.27 fixed point. */
#ifndef TG_ACTIVATIONS_H
#define TG_ACTIVATIONS_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t size; /* elements */
    int32_t input_zero_point;
    int32_t input_multiplier; /* input scale * 2^27 = multiplier * 2^(input_shift - 31) */
    int32_t input_shift;      /* may be positive: a left shift */
    int32_t input_radius;     /* |x - zero point| >= radius saturates the output */
} tg_nonlinear_params;

/* output scale 1/256, zero point -128 */
void tg_logistic_s8(const tg_nonlinear_params *p, const int8_t *input, int8_t *output);

/* output scale 1/128, zero point 0 */
void tg_tanh_s8(const tg_nonlinear_params *p, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_ACTIVATIONS_H */
