/*
 * tflite-micro's signal-library ops (the audio front end of its micro_speech example), with the
 * integer arithmetic of its kernels (signal/src/), bit for bit: SignalWindow, SignalFftAutoScale,
 * SignalEnergy, SignalFilterBank, SignalFilterBankSquareRoot, SignalFilterBankSpectralSubtraction,
 * SignalPCAN and SignalFilterBankLog. The FFT is tg_rfft.h. docs/numerics/signal.md has the numerics.
 * Every option was range-checked at compile time (shifts stay below the operand's width).
 */
#ifndef TG_SIGNAL_H
#define TG_SIGNAL_H

#include "tg_common.h"

/* output[i] = saturate_int16((input[i] * window[i % window_size]) >> shift) */
typedef struct {
    int32_t size, window_size, shift;
} tg_signal_window_params;

typedef struct {
    int32_t size;
} tg_signal_fft_auto_scale_params;

/* output[k] = re^2 + im^2 for k in [start, end), 0 elsewhere. */
typedef struct {
    int32_t size, start, end;
} tg_signal_energy_params;

/* channels + 1 triangular bands; output[c] is band c + 1's weighted sum plus band c's unweighted one. */
typedef struct {
    int32_t channels;
} tg_signal_filter_bank_params;

/* output[c] = isqrt(input[c]) >> scale_bits (rounded square root). */
typedef struct {
    int32_t channels;
} tg_signal_filter_bank_sqrt_params;

/*
 * Spectral subtraction: per channel, the noise estimate (the kernel's state, kept between invokes)
 * becomes (input << smoothing_bits) * smoothing + estimate * (1 - smoothing), in Q(spectral_subtraction_bits);
 * odd channels use the alternate coefficients. The output is the input less the estimate, at least
 * input * min_signal_remaining. With clamping, an estimate above the input is cut to it.
 */
typedef struct {
    int32_t channels;
    int32_t smoothing, one_minus_smoothing;                     /* even channels */
    int32_t alternate_smoothing, alternate_one_minus_smoothing; /* odd channels */
    int32_t min_signal_remaining;
    int32_t smoothing_bits, spectral_subtraction_bits;
    int32_t clamping;
} tg_signal_spectral_subtraction_params;

/* Per-channel automatic gain control: a gain from the noise estimate through a 125-entry table. */
typedef struct {
    int32_t channels, snr_shift;
} tg_signal_pcan_params;

/* output[c] = min(output_scale * ln(input[c] << correction_bits), INT16_MAX) in fixed point. */
typedef struct {
    int32_t channels, output_scale, correction_bits;
} tg_signal_filter_bank_log_params;

void tg_signal_window_s16(const tg_signal_window_params *p, const int16_t *input, const int16_t *window,
                          int16_t *output);
/* output = input shifted left by scale_bits, the most its largest magnitude allows. */
void tg_signal_fft_auto_scale_s16(const tg_signal_fft_auto_scale_params *p, const int16_t *input, int16_t *output,
                                  int32_t *scale_bits);
void tg_signal_energy_s16(const tg_signal_energy_params *p, const int16_t *spectrum, uint32_t *output);
void tg_signal_filter_bank(const tg_signal_filter_bank_params *p, const uint32_t *input, const int16_t *weights,
                           const int16_t *unweights, const int16_t *frequency_starts, const int16_t *weight_starts,
                           const int16_t *widths, uint64_t *output);
void tg_signal_filter_bank_sqrt(const tg_signal_filter_bank_sqrt_params *p, const uint64_t *input,
                                const int32_t *scale_bits, uint32_t *output);
/* state: channels uint32 noise estimates; noise_estimate receives them after the update. */
void tg_signal_spectral_subtraction(const tg_signal_spectral_subtraction_params *p, const uint32_t *input,
                                    uint32_t *output, uint32_t *noise_estimate, void *state);
void tg_signal_pcan(const tg_signal_pcan_params *p, const uint32_t *input, const uint32_t *noise_estimate,
                    const int16_t *gain_lut, uint32_t *output);
/* log_lut: 129 corrections of the linear log2 between powers of two (tinygen/ops/filter_bank.py). */
void tg_signal_filter_bank_log(const tg_signal_filter_bank_log_params *p, const int16_t *log_lut, const uint32_t *input,
                               int16_t *output);

#endif /* TG_SIGNAL_H */
