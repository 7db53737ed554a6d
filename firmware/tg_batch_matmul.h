/*
 * Batched matrix products (TFLite BATCH_MATMUL), int8 and int16:
 *   out[batch][a][c] = requantize(sum over k of (lhs[a][k] + lhs_offset) * (rhs[k][c] + rhs_offset)).
 *
 * Each operand is addressed through strides, so one stored transposed is read in place:
 * lhs element (a, k) is at a * lhs_row_stride + k * lhs_depth_stride, rhs element (k, c) at
 * c * rhs_col_stride + k * rhs_depth_stride. The output's batch dimensions (three, padded
 * with leading 1s) step each operand by its batch strides, 0 where it is broadcast.
 */
#ifndef TG_BATCH_MATMUL_H
#define TG_BATCH_MATMUL_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t batch0, batch1, batch2;
    int32_t lhs_batch_stride0, lhs_batch_stride1, lhs_batch_stride2; /* elements */
    int32_t rhs_batch_stride0, rhs_batch_stride1, rhs_batch_stride2;
    int32_t rows, cols, depth; /* out is rows x cols; the sums run over depth */
    int32_t lhs_row_stride, lhs_depth_stride;
    int32_t rhs_col_stride, rhs_depth_stride;
    int32_t lhs_offset, rhs_offset, output_offset; /* -zero points, output zero point (0 for int16) */
    int32_t output_multiplier, output_shift;
} tg_batch_matmul_params;

void tg_batch_matmul_s8(const tg_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *output);
void tg_batch_matmul_s16(const tg_batch_matmul_params *p, const int16_t *lhs, const int16_t *rhs, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_BATCH_MATMUL_H */
