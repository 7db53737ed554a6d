/* Concatenation of up to TG_CONCAT_MAX_INPUTS int8 tensors along one axis (TFLite
 * CONCATENATION). A pure copy: every input shares the output's quantization. */
#ifndef TG_CONCAT_H
#define TG_CONCAT_H

#include "tg_common.h"

#define TG_CONCAT_MAX_INPUTS 10

typedef struct {
    int32_t outer_size; /* product of the dimensions before the axis */
    int32_t num_inputs;
} tg_concat_params;

/* copy_sizes[i]: input i's elements per outer index. Inputs past num_inputs are NULL. */
void tg_concat_s8(const tg_concat_params *p, const int32_t *copy_sizes, const int8_t *input0,
                  const int8_t *input1, const int8_t *input2, const int8_t *input3, const int8_t *input4,
                  const int8_t *input5, const int8_t *input6, const int8_t *input7, const int8_t *input8,
                  const int8_t *input9, int8_t *output);

#endif /* TG_CONCAT_H */
