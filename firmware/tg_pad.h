/* Padding, int8 and int16 (TFLite PAD, PADV2): the input is copied raw into an output filled
 * with the pad value. Shapes are left-padded with 1s to 5 dimensions at compile time. */
#ifndef TG_PAD_H
#define TG_PAD_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t output_size;  /* elements */
    int32_t first_offset; /* where the input's first element lands in the output */
    int32_t pad_value;    /* an int8 (int16) value */
} tg_pad_params;

/* input_shape and output_strides hold 5 entries each; strides count elements. */
void tg_pad_s8(const tg_pad_params *p, const int32_t *input_shape, const int32_t *output_strides, const int8_t *input,
               int8_t *output);
void tg_pad_s16(const tg_pad_params *p, const int32_t *input_shape, const int32_t *output_strides, const int16_t *input,
                int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_PAD_H */
