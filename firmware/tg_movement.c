#include <string.h>

#include "tg_movement.h"

#define TG_MOVE_BLOCK_HEADER 3 /* source, input offset, output offset */

/* n elements of `size` bytes, `in_step` and `out_step` elements apart; size is a constant where inlined. */
static inline void tg_copy_elements(uint8_t *out, int32_t out_step, const uint8_t *in, int32_t in_step, int32_t n,
                                    size_t size)
{
    for (int32_t i = 0; i < n; ++i) {
        memcpy(out + (ptrdiff_t)i * out_step * (ptrdiff_t)size, in + (ptrdiff_t)i * in_step * (ptrdiff_t)size, size);
    }
}

static void tg_copy_row(uint8_t *out, int32_t out_step, const uint8_t *in, int32_t in_step, int32_t n, int32_t size)
{
    if (in_step == 1 && out_step == 1) {
        memcpy(out, in, (size_t)n * (size_t)size);
        return;
    }
    switch (size) {
    case 1:
        tg_copy_elements(out, out_step, in, in_step, n, 1);
        break;
    case 2:
        tg_copy_elements(out, out_step, in, in_step, n, 2);
        break;
    case 4:
        tg_copy_elements(out, out_step, in, in_step, n, 4);
        break;
    default:
        tg_copy_elements(out, out_step, in, in_step, n, (size_t)size);
        break;
    }
}

/* One block: rows along the innermost dimension, the outer dimensions counted like an odometer. */
static void tg_move_block(const tg_move_params *p, const int32_t *block, const uint8_t *in, uint8_t *out)
{
    const int32_t *dims = block + TG_MOVE_BLOCK_HEADER; /* extent, input stride, output stride */
    const int32_t *row = dims + 3 * (p->rank - 1);
    const size_t size = (size_t)p->element_size;
    int32_t index[TG_MOVE_MAX_RANK] = {0};
    int32_t in_at = block[1], out_at = block[2];
    for (;;) {
        tg_copy_row(out + (size_t)out_at * size, row[2], in + (size_t)in_at * size, row[1], row[0], p->element_size);
        int32_t d = p->rank - 2;
        for (; d >= 0; --d) {
            const int32_t *dim = dims + 3 * d;
            if (++index[d] < dim[0]) {
                in_at += dim[1];
                out_at += dim[2];
                break;
            }
            index[d] = 0;
            in_at -= (dim[0] - 1) * dim[1];
            out_at -= (dim[0] - 1) * dim[2];
        }
        if (d < 0) {
            return;
        }
    }
}

/* The entry points differ only in the element type of their pointer table. */
#define TG_DEFINE_MOVE(suffix, type)                                                                                   \
    void tg_move_##suffix(const tg_move_params *p, const int32_t *program, const type *const *inputs, type *output)    \
    {                                                                                                                  \
        const int32_t block_ints = TG_MOVE_BLOCK_HEADER + 3 * p->rank;                                                 \
        for (int32_t b = 0; b < p->blocks; ++b) {                                                                      \
            const int32_t *block = program + (size_t)b * (size_t)block_ints;                                           \
            tg_move_block(p, block, (const uint8_t *)inputs[block[0]], (uint8_t *)output);                             \
        }                                                                                                              \
    }

TG_DEFINE_MOVE(s8, int8_t)
TG_DEFINE_MOVE(u8, uint8_t)
TG_DEFINE_MOVE(s16, int16_t)
TG_DEFINE_MOVE(s32, int32_t)
TG_DEFINE_MOVE(s64, int64_t)
TG_DEFINE_MOVE(f32, float)

void tg_gather(const tg_gather_params *p, const void *input, const int32_t *indices, void *output)
{
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    const size_t inner = (size_t)p->inner_bytes;
    for (int32_t batch = 0; batch < p->batch_size; ++batch) {
        const int32_t *batch_indices = indices + (size_t)batch * (size_t)p->coord_size;
        for (int32_t outer = 0; outer < p->outer_size; ++outer) {
            const uint8_t *slices =
                in + ((size_t)batch * (size_t)p->outer_size + (size_t)outer) * (size_t)p->axis_size * inner;
            for (int32_t coord = 0; coord < p->coord_size; ++coord) {
                const int32_t index = batch_indices[coord];
                if (index >= 0 && index < p->axis_size) {
                    memcpy(out, slices + (size_t)index * inner, inner);
                } else {
                    memset(out, 0, inner);
                }
                out += inner;
            }
        }
    }
}
