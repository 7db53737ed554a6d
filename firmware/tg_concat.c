#include <string.h>

#include "tg_concat.h"

/* For each outer index, each input's block of copy_sizes[i] elements in turn. */
#define TG_DEFINE_CONCAT(name, type)                                                                                   \
    void name(const tg_concat_params *p, const int32_t *copy_sizes, const type *const *inputs, type *output)           \
    {                                                                                                                  \
        for (int32_t outer = 0; outer < p->outer_size; ++outer) {                                                      \
            for (int32_t i = 0; i < p->num_inputs; ++i) {                                                              \
                const size_t n = (size_t)copy_sizes[i];                                                                \
                memcpy(output, inputs[i] + (size_t)outer * n, n * sizeof *output);                                     \
                output += n;                                                                                           \
            }                                                                                                          \
        }                                                                                                              \
    }

TG_DEFINE_CONCAT(tg_concat_s8, int8_t)
TG_DEFINE_CONCAT(tg_concat_s32, int32_t)
TG_DEFINE_CONCAT(tg_concat_f32, float)
