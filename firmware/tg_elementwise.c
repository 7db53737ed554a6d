#include "tg_elementwise.h"

/* Where the walk is: the output coordinate and each input's matching element. */
typedef struct {
    int32_t index[TG_BROADCAST_MAX_RANK];
    int32_t offset1, offset2;
} cursor;

static void cursor_start(cursor *c, int32_t rank)
{
    for (int32_t d = 0; d < rank; ++d) {
        c->index[d] = 0;
    }
    c->offset1 = 0;
    c->offset2 = 0;
}

/* Step to the next output element, carrying into outer dimensions like an odometer. */
static void cursor_next(cursor *c, int32_t rank, const int32_t *shape, const int32_t *strides1, const int32_t *strides2)
{
    for (int32_t d = rank - 1; d >= 0; --d) {
        c->offset1 += strides1[d];
        c->offset2 += strides2[d];
        if (++c->index[d] < shape[d]) {
            return;
        }
        c->index[d] = 0;
        c->offset1 -= strides1[d] * shape[d];
        c->offset2 -= strides2[d] * shape[d];
    }
}

/* ADD of two values (offsets not yet applied), clamped to the activation range. For int16 the
 * lifted values stay below 2^31 (|x - z| <= 65535, times 2^15), each scaled one at most 2^30. */
static inline int32_t add_value(const tg_add_params *p, int32_t x1, int32_t x2)
{
    const int32_t a = tg_shift_left_wrapping(x1 + p->input1_offset, (int)p->left_shift);
    const int32_t b = tg_shift_left_wrapping(x2 + p->input2_offset, (int)p->left_shift);
    const int32_t sum = tg_requantize(a, p->input1_multiplier, p->input1_shift) +
                        tg_requantize(b, p->input2_multiplier, p->input2_shift);
    const int32_t out = tg_requantize(sum, p->output_multiplier, p->output_shift) + p->output_offset;
    return tg_clamp_i32(out, p->act_min, p->act_max);
}

/* MUL of two values (offsets not yet applied), clamped to the activation range. */
static inline int32_t mul_value(const tg_mul_params *p, int32_t x1, int32_t x2)
{
    const int32_t product = (x1 + p->input1_offset) * (x2 + p->input2_offset);
    const int32_t out = tg_requantize(product, p->output_multiplier, p->output_shift) + p->output_offset;
    return tg_clamp_i32(out, p->act_min, p->act_max);
}

void tg_add_s8(const tg_add_params *p, const int32_t *shape, const int32_t *strides1, const int32_t *strides2,
               const int8_t *input1, const int8_t *input2, int8_t *output)
{
    cursor c;
    cursor_start(&c, p->rank);
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = (int8_t)add_value(p, input1[c.offset1], input2[c.offset2]);
        cursor_next(&c, p->rank, shape, strides1, strides2);
    }
}

void tg_add_s16(const tg_add_params *p, const int32_t *shape, const int32_t *strides1, const int32_t *strides2,
                const int16_t *input1, const int16_t *input2, int16_t *output)
{
    cursor c;
    cursor_start(&c, p->rank);
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = (int16_t)add_value(p, input1[c.offset1], input2[c.offset2]);
        cursor_next(&c, p->rank, shape, strides1, strides2);
    }
}

void tg_mul_s8(const tg_mul_params *p, const int32_t *shape, const int32_t *strides1, const int32_t *strides2,
               const int8_t *input1, const int8_t *input2, int8_t *output)
{
    cursor c;
    cursor_start(&c, p->rank);
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = (int8_t)mul_value(p, input1[c.offset1], input2[c.offset2]);
        cursor_next(&c, p->rank, shape, strides1, strides2);
    }
}

void tg_mul_s16(const tg_mul_params *p, const int32_t *shape, const int32_t *strides1, const int32_t *strides2,
                const int16_t *input1, const int16_t *input2, int16_t *output)
{
    cursor c;
    cursor_start(&c, p->rank);
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = (int16_t)mul_value(p, input1[c.offset1], input2[c.offset2]);
        cursor_next(&c, p->rank, shape, strides1, strides2);
    }
}
