#include "tg_lstm.h"

#include <string.h>

#include "tg_int16.h"

/*
 * sigmoid(i / 24) in unsigned Q0.16 for i in [0, 256): tflite-micro's interpolation table for its
 * int16 sigmoid and tanh, read out of the interpreter's int16 TANH (tests/ops/test_lstm.py checks it
 * against the interpreter). tanh(x) = 2 sigmoid(2x) - 1 lets both functions use it.
 */
static const uint16_t tg_sigmoid_q16[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
};

enum { GATE_INPUT, GATE_FORGET, GATE_CELL, GATE_OUTPUT };

static int16_t saturate_s16(int32_t x) { return (int16_t)tg_clamp_i32(x, INT16_MIN, INT16_MAX); }

/* The table interpolated at |v| / 2^bits (bits fractional bits), in Q0.16 << bits: a + t (b - a). */
static uint32_t sigmoid_interpolated(uint32_t magnitude, int bits)
{
    const uint32_t index = magnitude >> bits, fraction = magnitude & ((1u << bits) - 1u);
    const uint32_t a = tg_sigmoid_q16[index], b = tg_sigmoid_q16[index + 1];
    return (a << bits) + fraction * (b - a);
}

/* sigmoid, in place: Q3.12 in, Q0.15 out; the input is scaled by 3 (x 2^-12 = 3x / 12288). */
static void sigmoid_s16(int16_t *x, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        const int32_t v = 3 * (int32_t)x[i];
        const uint32_t magnitude = (uint32_t)(v < 0 ? -v : v);
        /* |v| < 3 * 2^15 stays below the table's end (index 192 at most) */
        const uint32_t r = sigmoid_interpolated(magnitude, 9);
        const uint32_t signed_r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
        x[i] = (int16_t)(signed_r >> 10);
    }
}

/*
 * tanh: x scaled by (x * multiplier + rounding) >> shift to the table's input (units of 1 / 12288,
 * 8 fractional bits of the index), Q0.15 out. multiplier * 2^15 < 2^31 (checked at compile time).
 */
static void tanh_s16(const int16_t *x, int16_t *y, int32_t n, int32_t multiplier, int32_t shift)
{
    const int32_t rounding = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
    for (int32_t i = 0; i < n; ++i) {
        const int32_t v = ((int32_t)x[i] * multiplier + rounding) >> shift;
        const uint32_t magnitude = (uint32_t)(v < 0 ? -v : v);
        const int32_t r =
            (magnitude >> 8) >= 255 ? (int32_t)(0xFFFFu << 8) : (int32_t)sigmoid_interpolated(magnitude, 8);
        const int32_t signed_r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
        y[i] = (int16_t)(signed_r >> 8);
    }
}

/* What a step reads besides the cell state: the row's input and the hidden state, int8 or int16. */
typedef struct {
    int wide; /* int16 activations: int64 biases and sums */
    const void *x, *h;
    const int8_t *input_weights, *recurrent_weights;
    const void *input_bias, *recurrent_bias; /* int32, or int64 when wide */
    const int32_t *gate_scales;
} step_operands;

/* Dot products of int8 weights with int8 (two rows at a time) or int16 activations. */
static void products_s8(const int8_t *x, const int8_t *w, const int32_t *bias, int32_t rows, int32_t depth,
                        const int32_t *scale, int16_t *out)
{
    for (int32_t u = 0; u < rows; u += 2) {
        /* An odd last row is computed twice and stored once. */
        const int32_t u1 = tg_min_i32(u + 1, rows - 1);
        int32_t acc[2] = {bias[u], bias[u1]};
        tg_dot2_nooffset_s8(x, w + (size_t)u * depth, w + (size_t)u1 * depth, depth, &acc[0], &acc[1]);
        for (int32_t k = 0; k <= u1 - u; ++k) {
            out[u + k] = saturate_s16(tg_requantize(acc[k], scale[0], scale[1]));
        }
    }
}

static void products_s16(const int16_t *x, const int8_t *w, const int64_t *bias, int32_t rows, int32_t depth,
                         const int32_t *scale, int16_t *out)
{
    for (int32_t u = 0; u < rows; ++u) {
        const int8_t *row = w + (size_t)u * depth;
        int64_t sum = bias[u]; /* each product fits 24 bits: the sum cannot overflow */
        for (int32_t d = 0; d < depth; ++d) {
            sum += (int32_t)row[d] * (int32_t)x[d];
        }
        out[u] = saturate_s16(tg_requantize_s64(sum, scale[0], scale[1]));
    }
}

/*
 * One gate into out: activation(requant(W_x . x) + requant(W_h . h)), each product requantized to
 * int16 at 2^-12 on its own, the sum saturated. from_h is scratch for the recurrent product.
 */
static void gate(const tg_lstm_params *p, const step_operands *o, int g, int16_t *out, int16_t *from_h)
{
    const int32_t units = p->units, depth = p->input_size;
    const int32_t *scale = o->gate_scales + 4 * g;
    const int8_t *wx = o->input_weights + (size_t)g * units * depth;
    const int8_t *wh = o->recurrent_weights + (size_t)g * units * units;
    if (o->wide) {
        products_s16(o->x, wx, (const int64_t *)o->input_bias + g * units, units, depth, scale, out);
        products_s16(o->h, wh, (const int64_t *)o->recurrent_bias + g * units, units, units, scale + 2, from_h);
    } else {
        products_s8(o->x, wx, (const int32_t *)o->input_bias + g * units, units, depth, scale, out);
        products_s8(o->h, wh, (const int32_t *)o->recurrent_bias + g * units, units, units, scale + 2, from_h);
    }
    for (int32_t u = 0; u < units; ++u) {
        out[u] = saturate_s16((int32_t)out[u] + from_h[u]);
    }
    if (g == GATE_CELL) {
        tanh_s16(out, out, units, 3, 0); /* 2^-12 is 3 times the table's input unit */
    } else {
        sigmoid_s16(out, units);
    }
}

/* cell = clip(sat(requant(forget * cell) + requant(input gate * cell gate))). */
static void update_cell(const tg_lstm_params *p, const int16_t *forget, const int16_t *input_gate,
                        const int16_t *cell_gate, int16_t *cell)
{
    for (int32_t u = 0; u < p->units; ++u) {
        const int32_t kept = tg_requantize((int32_t)forget[u] * cell[u], p->forget_multiplier, p->forget_shift);
        const int32_t added = tg_requantize((int32_t)input_gate[u] * cell_gate[u], p->input_multiplier, p->input_shift);
        const int16_t value = saturate_s16((int32_t)saturate_s16(kept) + saturate_s16(added));
        cell[u] = p->cell_clip >= 0 ? (int16_t)tg_clamp_i32(value, -p->cell_clip, p->cell_clip) : value;
    }
}

/*
 * One time step of one batch row, up to the new hidden state: the four gates (forget, input and
 * cell gates in the scratch's first three buffers, each recurrent product in the fourth), the cell
 * update, then the output gate (in the input gate's place) and tanh(cell) (in the forget gate's).
 */
static void step(const tg_lstm_params *p, const step_operands *o, int16_t *cell, int16_t *scratch)
{
    const int32_t units = p->units;
    int16_t *forget = scratch, *input_gate = scratch + units, *cell_gate = scratch + 2 * units;
    int16_t *from_h = scratch + 3 * units;
    gate(p, o, GATE_FORGET, forget, from_h);
    gate(p, o, GATE_INPUT, input_gate, from_h);
    gate(p, o, GATE_CELL, cell_gate, from_h);
    update_cell(p, forget, input_gate, cell_gate, cell);
    gate(p, o, GATE_OUTPUT, input_gate, from_h);
    tanh_s16(cell, forget, units, p->cell_tanh_multiplier, p->cell_tanh_shift);
}

/* The new hidden value of unit u: requant(tanh(cell) * output gate) + offset, clamped to the type. */
static int32_t hidden_value(const tg_lstm_params *p, const int16_t *scratch, int32_t u)
{
    const int32_t product = (int32_t)scratch[u] * scratch[p->units + u];
    const int32_t value = tg_requantize(product, p->hidden_multiplier, p->hidden_shift);
    return tg_clamp_i32(p->hidden_offset + value, p->hidden_min, p->hidden_max);
}

/*
 * The batch of row r of the batches * steps rows of input and output, in the order tflite-micro
 * runs them: time major, step by step over all batches; else batch by batch, step by step.
 */
static int32_t row_batch(const tg_lstm_params *p, int32_t r) { return p->time_major ? r % p->batches : r / p->steps; }

void tg_lstm_s8(const tg_lstm_params *p, const int8_t *input, const int8_t *input_weights,
                const int8_t *recurrent_weights, const int32_t *input_bias, const int32_t *recurrent_bias,
                const int32_t *gate_scales, int8_t *hidden, int16_t *cell, int16_t *scratch, int8_t *output)
{
    step_operands o = {0, NULL, NULL, input_weights, recurrent_weights, input_bias, recurrent_bias, gate_scales};
    for (int32_t r = 0; r < p->batches * p->steps; ++r) {
        const int32_t b = row_batch(p, r);
        int8_t *h = hidden + (size_t)b * p->units;
        o.x = input + (size_t)r * p->input_size;
        o.h = h;
        step(p, &o, cell + (size_t)b * p->units, scratch);
        for (int32_t u = 0; u < p->units; ++u) {
            h[u] = (int8_t)hidden_value(p, scratch, u);
        }
        memcpy(output + (size_t)r * p->units, h, (size_t)p->units);
    }
}

void tg_lstm_s16(const tg_lstm_params *p, const int16_t *input, const int8_t *input_weights,
                 const int8_t *recurrent_weights, const int64_t *input_bias, const int64_t *recurrent_bias,
                 const int32_t *gate_scales, int16_t *hidden, int16_t *cell, int16_t *scratch, int16_t *output)
{
    step_operands o = {1, NULL, NULL, input_weights, recurrent_weights, input_bias, recurrent_bias, gate_scales};
    for (int32_t r = 0; r < p->batches * p->steps; ++r) {
        const int32_t b = row_batch(p, r);
        int16_t *h = hidden + (size_t)b * p->units;
        o.x = input + (size_t)r * p->input_size;
        o.h = h;
        step(p, &o, cell + (size_t)b * p->units, scratch);
        for (int32_t u = 0; u < p->units; ++u) {
            h[u] = (int16_t)hidden_value(p, scratch, u);
        }
        memcpy(output + (size_t)r * p->units, h, (size_t)p->units * sizeof(int16_t));
    }
}
