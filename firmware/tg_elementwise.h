/*
 * Element-wise ADD and MUL of two int8 or two int16 tensors, with numpy broadcasting (TFLite ADD, MUL).
 *
 * The output is walked in row-major order over a compile-time shape of `rank`
 * dimensions; strides1/strides2 give each input's element step per dimension,
 * 0 where that input is broadcast.
 */
#ifndef TG_ELEMENTWISE_H
#define TG_ELEMENTWISE_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TG_BROADCAST_MAX_RANK 7

typedef struct {
    int32_t rank, size;                                  /* walked shape's rank, output elements */
    int32_t input1_offset, input2_offset, output_offset; /* -zero points, output zero point */
    int32_t left_shift; /* inputs are lifted by 2^left_shift before rescaling: 20 for int8, 15 for int16 */
    int32_t input1_multiplier, input1_shift; /* each input to a shared scale */
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift; /* the sum to the output scale */
    int32_t act_min, act_max;
} tg_add_params;

typedef struct {
    int32_t rank, size;
    int32_t input1_offset, input2_offset, output_offset;
    int32_t output_multiplier, output_shift; /* the product to the output scale */
    int32_t act_min, act_max;
} tg_mul_params;

/*
 * table: NULL, or where the fast path holds (tg_elementwise.c), 256 words indexed by the value of
 * the input that is not lifted exactly, + 128: its contribution to the doubled sum, both offsets
 * included (tinygen/ops/elementwise.py computes it at compile time, add_table).
 */
void tg_add_s8(const tg_add_params *p, const int32_t *shape, const int32_t *strides1, const int32_t *strides2,
               const int32_t *table, const int8_t *input1, const int8_t *input2, int8_t *output);
void tg_mul_s8(const tg_mul_params *p, const int32_t *shape, const int32_t *strides1, const int32_t *strides2,
               const int8_t *input1, const int8_t *input2, int8_t *output);

/* The same arithmetic on int16 tensors (MUL's zero points are 0, as tflite-micro requires). */
void tg_add_s16(const tg_add_params *p, const int32_t *shape, const int32_t *strides1, const int32_t *strides2,
                const int16_t *input1, const int16_t *input2, int16_t *output);
void tg_mul_s16(const tg_mul_params *p, const int32_t *shape, const int32_t *strides1, const int32_t *strides2,
                const int16_t *input1, const int16_t *input2, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_ELEMENTWISE_H */
