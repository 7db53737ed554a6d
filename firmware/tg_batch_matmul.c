#include "tg_batch_matmul.h"

/* The int32 sum of one output value, for any strides (wrapping like the reference's). */
static int32_t dot_strided_s8(const tg_batch_matmul_params *p, const int8_t *lhs_row, const int8_t *rhs_col)
{
    int32_t acc = 0;
    for (int32_t k = 0; k < p->depth; ++k) {
        const int32_t l = (int32_t)lhs_row[k * p->lhs_depth_stride] + p->lhs_offset;
        const int32_t r = (int32_t)rhs_col[k * p->rhs_depth_stride] + p->rhs_offset;
        acc = tg_add_wrap(acc, l * r);
    }
    return acc;
}

static int8_t requantize_s8(const tg_batch_matmul_params *p, int32_t acc)
{
    return tg_saturate_s8(tg_requantize(acc, p->output_multiplier, p->output_shift) + p->output_offset);
}

/* One rows x cols product, each value a strided dot product. */
static void matmul_strided_s8(const tg_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *out)
{
    for (int32_t a = 0; a < p->rows; ++a) {
        const int8_t *lhs_row = lhs + (size_t)a * (size_t)p->lhs_row_stride;
        for (int32_t c = 0; c < p->cols; ++c) {
            *out++ = requantize_s8(p, dot_strided_s8(p, lhs_row, rhs + (size_t)c * (size_t)p->rhs_col_stride));
        }
    }
}

/*
 * One rows x cols product with both depths contiguous: columns go in pairs through tg_dot2_s8,
 * sum (l + lo)(r + ro) = sum r (l + lo) + ro * sum (l + lo), the last sum taken once per row.
 */
static void matmul_contiguous_s8(const tg_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *out)
{
    const int32_t cols = p->cols, depth = p->depth;
    for (int32_t a = 0; a < p->rows; ++a) {
        const int8_t *lhs_row = lhs + (size_t)a * (size_t)p->lhs_row_stride;
        int32_t row_sum = 0;
        for (int32_t k = 0; k < depth; ++k) {
            row_sum = tg_add_wrap(row_sum, (int32_t)lhs_row[k] + p->lhs_offset);
        }
        const int32_t row_term = tg_mul_wrap(p->rhs_offset, row_sum);
        for (int32_t c = 0; c < cols; c += 2) {
            /* An odd last column is computed twice and stored once. */
            const int32_t c1 = tg_min_i32(c + 1, cols - 1);
            int32_t acc[2] = {row_term, row_term};
            tg_dot2_s8(lhs_row, rhs + (size_t)c * (size_t)p->rhs_col_stride,
                       rhs + (size_t)c1 * (size_t)p->rhs_col_stride, depth, p->lhs_offset, &acc[0], &acc[1]);
            for (int32_t k = 0; k <= c1 - c; ++k) {
                *out++ = requantize_s8(p, acc[k]);
            }
        }
    }
}

/*
 * int16: tflite-micro sums in int64 (zero points are 0) and rescales with a 16-bit multiplier,
 * round(m / 2^16), and a single rounding shift, keeping the low 32 bits of the result.
 */
static int16_t requantize_s16(const tg_batch_matmul_params *p, int64_t acc)
{
    const int32_t m = p->output_multiplier;
    const int64_t reduced = m < 0x7FFF0000 ? (int64_t)((m + (1 << 15)) >> 16) : 0x7FFF;
    const int total_shift = 15 - (int)p->output_shift;
    const int64_t scaled = (acc * reduced + ((int64_t)1 << (total_shift - 1))) >> total_shift;
    const int32_t low = (int32_t)(uint32_t)(uint64_t)scaled;
    return (int16_t)tg_clamp_i32(low + p->output_offset, INT16_MIN, INT16_MAX);
}

static void matmul_s16(const tg_batch_matmul_params *p, const int16_t *lhs, const int16_t *rhs, int16_t *out)
{
    for (int32_t a = 0; a < p->rows; ++a) {
        const int16_t *lhs_row = lhs + (size_t)a * (size_t)p->lhs_row_stride;
        for (int32_t c = 0; c < p->cols; ++c) {
            const int16_t *rhs_col = rhs + (size_t)c * (size_t)p->rhs_col_stride;
            int64_t acc = 0;
            for (int32_t k = 0; k < p->depth; ++k) {
                acc += (int32_t)lhs_row[k * p->lhs_depth_stride] * (int32_t)rhs_col[k * p->rhs_depth_stride];
            }
            *out++ = requantize_s16(p, acc);
        }
    }
}

/* Where the operands of the output's batch-th product start (row-major over the three batch dimensions). */
static void batch_offsets(const tg_batch_matmul_params *p, int32_t batch, size_t *lhs, size_t *rhs)
{
    const int32_t b2 = batch % p->batch2, b1 = batch / p->batch2 % p->batch1, b0 = batch / p->batch2 / p->batch1;
    *lhs = (size_t)b0 * (size_t)p->lhs_batch_stride0 + (size_t)b1 * (size_t)p->lhs_batch_stride1 +
           (size_t)b2 * (size_t)p->lhs_batch_stride2;
    *rhs = (size_t)b0 * (size_t)p->rhs_batch_stride0 + (size_t)b1 * (size_t)p->rhs_batch_stride1 +
           (size_t)b2 * (size_t)p->rhs_batch_stride2;
}

void tg_batch_matmul_s8(const tg_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *output)
{
    const int32_t batches = p->batch0 * p->batch1 * p->batch2;
    const int contiguous = p->lhs_depth_stride == 1 && p->rhs_depth_stride == 1;
    for (int32_t batch = 0; batch < batches; ++batch) {
        size_t l, r;
        batch_offsets(p, batch, &l, &r);
        int8_t *out = output + (size_t)batch * (size_t)p->rows * (size_t)p->cols;
        if (contiguous) {
            matmul_contiguous_s8(p, lhs + l, rhs + r, out);
        } else {
            matmul_strided_s8(p, lhs + l, rhs + r, out);
        }
    }
}

void tg_batch_matmul_s16(const tg_batch_matmul_params *p, const int16_t *lhs, const int16_t *rhs, int16_t *output)
{
    const int32_t batches = p->batch0 * p->batch1 * p->batch2;
    for (int32_t batch = 0; batch < batches; ++batch) {
        size_t l, r;
        batch_offsets(p, batch, &l, &r);
        matmul_s16(p, lhs + l, rhs + r, output + (size_t)batch * (size_t)p->rows * (size_t)p->cols);
    }
}
