#include "tg_activations.h"

#include "tg_fixedpoint.h"

#define TG_ACTIVATION_INPUT_INT_BITS 4

/* The input in Q4.27: (x - zero point) * input scale; only called inside the radius, where it fits. */
static int32_t input_q4(const tg_nonlinear_params *p, int32_t x)
{
    return tg_requantize(x, p->input_multiplier, p->input_shift);
}

void tg_logistic_s8(const tg_nonlinear_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t x = input[i] - p->input_zero_point;
        if (x <= -p->input_radius) {
            output[i] = INT8_MIN;
        } else if (x >= p->input_radius) {
            output[i] = INT8_MAX;
        } else {
            const int32_t y = tg_fx_logistic(input_q4(p, x), TG_ACTIVATION_INPUT_INT_BITS); /* Q0.31 */
            output[i] = tg_saturate_s8(tg_rounding_divide_by_pot(y, 31 - 8) + INT8_MIN);
        }
    }
}

void tg_tanh_s8(const tg_nonlinear_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t x = input[i] - p->input_zero_point;
        if (x <= -p->input_radius) {
            output[i] = INT8_MIN;
        } else if (x >= p->input_radius) {
            output[i] = INT8_MAX;
        } else {
            const int32_t y = tg_fx_tanh(input_q4(p, x), TG_ACTIVATION_INPUT_INT_BITS); /* Q0.31 */
            output[i] = tg_saturate_s8(tg_rounding_divide_by_pot(y, 31 - 7));
        }
    }
}
