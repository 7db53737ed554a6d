#include <string.h>

#include "tg_concat.h"

void tg_concat_s8(const tg_concat_params *p, const int32_t *copy_sizes, const int8_t *input0,
                  const int8_t *input1, const int8_t *input2, const int8_t *input3, const int8_t *input4,
                  const int8_t *input5, const int8_t *input6, const int8_t *input7, const int8_t *input8,
                  const int8_t *input9, int8_t *output)
{
    const int8_t *const inputs[TG_CONCAT_MAX_INPUTS] = {input0, input1, input2, input3, input4,
                                                        input5, input6, input7, input8, input9};
    for (int32_t outer = 0; outer < p->outer_size; ++outer) {
        for (int32_t i = 0; i < p->num_inputs; ++i) {
            const size_t n = (size_t)copy_sizes[i];
            memcpy(output, inputs[i] + (size_t)outer * n, n);
            output += n;
        }
    }
}
