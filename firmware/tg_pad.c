#include <string.h>

#include "tg_pad.h"

/*
 * Copy the input into the (already filled) output one innermost row at a time; rows are
 * contiguous on both sides. Offsets and strides count elements of `size` bytes.
 */
static void copy_rows(const tg_pad_params *p, const int32_t *input_shape, const int32_t *output_strides,
                      const uint8_t *input, uint8_t *output, size_t size)
{
    const size_t row = (size_t)input_shape[4] * size;
    for (int32_t i0 = 0; i0 < input_shape[0]; ++i0) {
        for (int32_t i1 = 0; i1 < input_shape[1]; ++i1) {
            for (int32_t i2 = 0; i2 < input_shape[2]; ++i2) {
                for (int32_t i3 = 0; i3 < input_shape[3]; ++i3) {
                    const size_t at = (size_t)p->first_offset + (size_t)i0 * output_strides[0] +
                                      (size_t)i1 * output_strides[1] + (size_t)i2 * output_strides[2] +
                                      (size_t)i3 * output_strides[3];
                    memcpy(output + at * size, input, row);
                    input += row;
                }
            }
        }
    }
}

void tg_pad_s8(const tg_pad_params *p, const int32_t *input_shape, const int32_t *output_strides, const int8_t *input,
               int8_t *output)
{
    memset(output, (int8_t)p->pad_value, (size_t)p->output_size);
    copy_rows(p, input_shape, output_strides, (const uint8_t *)input, (uint8_t *)output, sizeof *output);
}

void tg_pad_s16(const tg_pad_params *p, const int32_t *input_shape, const int32_t *output_strides, const int16_t *input,
                int16_t *output)
{
    for (int32_t i = 0; i < p->output_size; ++i) {
        output[i] = (int16_t)p->pad_value;
    }
    copy_rows(p, input_shape, output_strides, (const uint8_t *)input, (uint8_t *)output, sizeof *output);
}
