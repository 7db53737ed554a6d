/* Concatenation of tensors along one axis (TFLite CONCATENATION), int8, int32 or float32.
 * A pure copy: every int8 input shares the output's quantization. */
#ifndef TG_CONCAT_H
#define TG_CONCAT_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t outer_size; /* product of the dimensions before the axis */
    int32_t num_inputs;
} tg_concat_params;

/* inputs: num_inputs pointers; copy_sizes[i]: input i's elements per outer index. */
void tg_concat_s8(const tg_concat_params *p, const int32_t *copy_sizes, const int8_t *const *inputs, int8_t *output);
void tg_concat_s32(const tg_concat_params *p, const int32_t *copy_sizes, const int32_t *const *inputs, int32_t *output);
void tg_concat_f32(const tg_concat_params *p, const int32_t *copy_sizes, const float *const *inputs, float *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_CONCAT_H */
