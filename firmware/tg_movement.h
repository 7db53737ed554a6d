/*
 * Data movement (TFLite TRANSPOSE, SLICE, STRIDED_SLICE, REVERSE_V2, PACK, UNPACK, SPLIT, SPLIT_V,
 * GATHER, DEPTH_TO_SPACE, SPACE_TO_DEPTH, BATCH_TO_SPACE_ND, SPACE_TO_BATCH_ND): elements are
 * copied, never rescaled, so only their size matters.
 *
 * tg_move_<type> runs a copy program computed at compile time (tinygen/ops/movement.py): `blocks`
 * strided blocks of `rank` dimensions each, laid out as
 *     source, input offset, output offset, then per dimension (outermost first):
 *     extent, input stride, output stride
 * with offsets and strides in elements; a negative input stride walks backwards. Block b copies,
 * for every index i in its extents, element input offset + sum(i_k * input stride_k) of
 * inputs[source] to element output offset + sum(i_k * output stride_k) of the output. The program
 * never leaves either tensor, and writes every output element.
 */
#ifndef TG_MOVEMENT_H
#define TG_MOVEMENT_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TG_MOVE_MAX_RANK 8

typedef struct {
    int32_t element_size; /* bytes */
    int32_t rank;         /* dimensions of every block, 1 to TG_MOVE_MAX_RANK */
    int32_t blocks;
} tg_move_params;

/* One entry point per element type: `inputs` is a table of the op's moved tensors. */
void tg_move_s8(const tg_move_params *p, const int32_t *program, const int8_t *const *inputs, int8_t *output);
void tg_move_u8(const tg_move_params *p, const int32_t *program, const uint8_t *const *inputs, uint8_t *output);
void tg_move_s16(const tg_move_params *p, const int32_t *program, const int16_t *const *inputs, int16_t *output);
void tg_move_s32(const tg_move_params *p, const int32_t *program, const int32_t *const *inputs, int32_t *output);
void tg_move_s64(const tg_move_params *p, const int32_t *program, const int64_t *const *inputs, int64_t *output);
void tg_move_f32(const tg_move_params *p, const int32_t *program, const float *const *inputs, float *output);

/*
 * GATHER with indices known only at run time: the input seen as [batch, outer, axis, inner] and the
 * indices as [batch, coords]; output [batch, outer, coords, inner] takes, for each index, the
 * inner_bytes at that position along the axis. An index outside [0, axis_size) (tflite-micro fails
 * the invoke) reads nothing: its output bytes are zero.
 */
typedef struct {
    int32_t batch_size, outer_size, axis_size, coord_size;
    int32_t inner_bytes; /* bytes of one slice along the axis */
} tg_gather_params;

void tg_gather(const tg_gather_params *p, const void *input, const int32_t *indices, void *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_MOVEMENT_H */
