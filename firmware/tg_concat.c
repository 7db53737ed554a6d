#include <string.h>

#include "tg_concat.h"

void tg_concat_s8(const tg_concat_params *p, const int32_t *copy_sizes, const int8_t *const *inputs, int8_t *output)
{
    for (int32_t outer = 0; outer < p->outer_size; ++outer) {
        for (int32_t i = 0; i < p->num_inputs; ++i) {
            const size_t n = (size_t)copy_sizes[i];
            memcpy(output, inputs[i] + (size_t)outer * n, n);
            output += n;
        }
    }
}
