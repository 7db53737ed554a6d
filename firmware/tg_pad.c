#include <string.h>

#include "tg_pad.h"

void tg_pad_s8(const tg_pad_params *p, const int32_t *input_shape, const int32_t *output_strides, const int8_t *input,
               int8_t *output)
{
    memset(output, (int8_t)p->pad_value, (size_t)p->output_size);
    /* Copy the input one innermost row at a time; rows are contiguous on both sides. */
    const size_t row = (size_t)input_shape[4];
    for (int32_t i0 = 0; i0 < input_shape[0]; ++i0) {
        for (int32_t i1 = 0; i1 < input_shape[1]; ++i1) {
            for (int32_t i2 = 0; i2 < input_shape[2]; ++i2) {
                for (int32_t i3 = 0; i3 < input_shape[3]; ++i3) {
                    int8_t *dst = output + p->first_offset + (size_t)i0 * output_strides[0] +
                                  (size_t)i1 * output_strides[1] + (size_t)i2 * output_strides[2] +
                                  (size_t)i3 * output_strides[3];
                    memcpy(dst, input, row);
                    input += row;
                }
            }
        }
    }
}
