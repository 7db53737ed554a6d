/*
 * UNIDIRECTIONAL_SEQUENCE_LSTM with an int16 cell state, as tflite-micro computes it: int8
 * activations with int8 weights and int32 biases (tg_lstm_s8), or int16 activations with int8
 * weights and int64 biases (tg_lstm_s16, "16x8"). The hidden state (activation type) and the cell
 * state (int16) are variable tensors kept between invokes. docs/numerics/lstm.md has the arithmetic.
 *
 * Each time step computes four gates, in the order input, forget, cell, output (the model's order):
 *   gate = activation(requant(W_x . x) + requant(W_h . h))   (int16, saturating add)
 * where both products are requantized to the gate scale 2^-12, the activation is sigmoid (tanh for
 * the cell gate) and its output has scale 2^-15; then
 *   c = requant(f * c) + requant(i * g), clipped;   h = requant(tanh(c) * o) + hidden offset.
 */
#ifndef TG_LSTM_H
#define TG_LSTM_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TG_LSTM_GATES 4

typedef struct {
    int32_t batches;
    int32_t steps;
    int32_t input_size;
    int32_t units;                /* the state's size per batch */
    int32_t time_major;           /* input and output [steps, batches, ...], else [batches, steps, ...] */
    int32_t cell_clip;            /* |cell| is clipped to this (int16 units); -1: no clipping */
    int32_t cell_tanh_multiplier; /* tanh(cell): the cell scaled by multiplier >> shift to the */
    int32_t cell_tanh_shift;      /* table's input scale (2^-12 / 3) */
    int32_t forget_multiplier;    /* forget gate x cell -> cell: 2^-15 */
    int32_t forget_shift;
    int32_t input_multiplier; /* input gate x cell gate -> cell: 2^-30 / cell scale */
    int32_t input_shift;
    int32_t hidden_multiplier; /* tanh(cell) x output gate -> hidden: 2^-30 / hidden scale */
    int32_t hidden_shift;
    int32_t hidden_offset;          /* the hidden state's zero point */
    int32_t hidden_min, hidden_max; /* the activation type's range */
} tg_lstm_params;

/*
 * input: [batches, steps, input_size] (or time major); input_weights: the four gates' [units,
 * input_size] stacked; recurrent_weights: the four gates' [units, units] stacked; input_bias: the
 * gates' biases stacked ([4 * units]) with -input zero point * (sum of each weight row) folded in,
 * wrapped to int32; recurrent_bias: -hidden zero point * (sum of each recurrent weight row), the same
 * way; gate_scales: per gate {input multiplier, input shift, recurrent multiplier, recurrent shift};
 * hidden: [batches, units], cell: [batches, units], both updated in place; scratch: 4 * units int16;
 * output: [batches, steps, units] (or time major), each step's hidden state.
 */
void tg_lstm_s8(const tg_lstm_params *p, const int8_t *input, const int8_t *input_weights,
                const int8_t *recurrent_weights, const int32_t *input_bias, const int32_t *recurrent_bias,
                const int32_t *gate_scales, int8_t *hidden, int16_t *cell, int16_t *scratch, int8_t *output);

/* The same with int16 activations; the biases are int64 (the folded offsets too), the sums int64. */
void tg_lstm_s16(const tg_lstm_params *p, const int16_t *input, const int8_t *input_weights,
                 const int8_t *recurrent_weights, const int64_t *input_bias, const int64_t *recurrent_bias,
                 const int32_t *gate_scales, int16_t *hidden, int16_t *cell, int16_t *scratch, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_LSTM_H */
