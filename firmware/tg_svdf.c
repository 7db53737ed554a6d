#include "tg_svdf.h"

/*
 * Each filter's new feature, requantized to the state's scale and clamped to its type's range
 * [lo, hi], plus the state's zero point (not clamped again: tflite-micro stores it as it is, so
 * it wraps in the state's type), into scratch[b * filters + f]. Filters go in pairs so that
 * tg_dot2_nooffset_s8 reads each input byte once for both.
 */
static void features(const tg_svdf_params *p, const int8_t *input, const int8_t *weights_feature,
                     const int32_t *feature_bias, int32_t lo, int32_t hi, int32_t *scratch)
{
    const int32_t n = p->input_size, filters = p->filters;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + (size_t)b * n;
        for (int32_t f = 0; f < filters; f += 2) {
            const int32_t f1 = tg_min_i32(f + 1, filters - 1); /* an odd last filter twice, kept once */
            int32_t acc[2] = {feature_bias[f], feature_bias[f1]};
            tg_dot2_nooffset_s8(in, weights_feature + (size_t)f * n, weights_feature + (size_t)f1 * n, n, &acc[0],
                                &acc[1]);
            for (int32_t k = 0; k <= f1 - f; ++k) {
                const int32_t value = tg_requantize(acc[k], p->feature_multiplier, p->feature_shift);
                scratch[(size_t)b * filters + f + k] = tg_clamp_i32(value, lo, hi) + p->state_zero_point;
            }
        }
    }
}

/*
 * The memory, for a state of type T: every feature moves one place towards the start (the whole
 * state at once, as tflite-micro does: the first feature of a filter lands in the last place of the
 * one before, which its new feature then overwrites), the new features go in each filter's last
 * place, and scratch[b * filters + f] becomes the time-weighted sum of filter f's memory.
 */
#define TG_SVDF_MEMORY(name, T)                                                                                        \
    static void name(const tg_svdf_params *p, const T *weights_time, T *state, int32_t *scratch)                       \
    {                                                                                                                  \
        const int32_t memory = p->memory, rows = p->batches * p->filters;                                              \
        memmove(state, state + 1, ((size_t)rows * memory - 1) * sizeof(T));                                            \
        for (int32_t r = 0; r < rows; ++r) {                                                                           \
            T *history = state + (size_t)r * memory;                                                                   \
            const T *w = weights_time + (size_t)(r % p->filters) * memory;                                             \
            history[memory - 1] = (T)scratch[r];                                                                       \
            int32_t sum = 0;                                                                                           \
            for (int32_t j = 0; j < memory; ++j) {                                                                     \
                sum = tg_add_wrap(sum, tg_mul_wrap(w[j], (int32_t)history[j] - p->state_zero_point));                  \
            }                                                                                                          \
            scratch[r] = sum;                                                                                          \
        }                                                                                                              \
    }

TG_SVDF_MEMORY(memory_s16, int16_t)
TG_SVDF_MEMORY(memory_s8, int8_t)

/* Each unit: its bias plus the sums of its `rank` filters, requantized to the int8 output. */
static void unit_outputs(const tg_svdf_params *p, const int32_t *bias, const int32_t *scratch, int8_t *output)
{
    const int32_t units = p->filters / p->rank;
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t u = 0; u < units; ++u) {
            const int32_t *sums = scratch + (size_t)b * p->filters + (size_t)u * p->rank;
            int32_t acc = bias[u];
            for (int32_t k = 0; k < p->rank; ++k) {
                acc = tg_add_wrap(acc, sums[k]);
            }
            const int32_t value = tg_requantize(acc, p->output_multiplier, p->output_shift) + p->output_offset;
            output[(size_t)b * units + u] = tg_saturate_s8(value);
        }
    }
}

void tg_svdf_s8_s16(const tg_svdf_params *p, const int8_t *input, const int8_t *weights_feature,
                    const int32_t *feature_bias, const int16_t *weights_time, const int32_t *bias, int16_t *state,
                    int32_t *scratch, int8_t *output)
{
    features(p, input, weights_feature, feature_bias, INT16_MIN, INT16_MAX, scratch);
    memory_s16(p, weights_time, state, scratch);
    unit_outputs(p, bias, scratch, output);
}

void tg_svdf_s8_s8(const tg_svdf_params *p, const int8_t *input, const int8_t *weights_feature,
                   const int32_t *feature_bias, const int8_t *weights_time, const int32_t *bias, int8_t *state,
                   int32_t *scratch, int8_t *output)
{
    features(p, input, weights_feature, feature_bias, INT8_MIN, INT8_MAX, scratch);
    memory_s8(p, weights_time, state, scratch);
    unit_outputs(p, bias, scratch, output);
}
