/*
 * SignalRfft, int16 (tflite-micro's audio front end): the real FFT exactly as tflite-micro computes
 * it with KISS FFT in 16-bit fixed point. A complex FFT of fft_length / 2 points runs over the
 * samples taken in (even, odd) pairs, stage by stage (radix 4, 2, 3 or 5), each stage dividing its
 * inputs by its radix; a split step then gives the fft_length / 2 + 1 bins of the real signal. So
 * the output is the DFT divided by fft_length, rounded the way KISS FFT rounds at every step.
 *
 * The tables are KISS FFT's setup, computed by tinygen (tinygen/ops/rfft.py): factors holds
 * (radix, length left after the stage) per stage; order, the complex input element at each position
 * before the first stage; twiddles and split_twiddles, Q15 (cos, sin) pairs. The transform runs in
 * the output buffer: no scratch memory.
 */
#ifndef TG_RFFT_H
#define TG_RFFT_H

#include "tg_common.h"

typedef struct {
    int32_t frames;       /* input rows, each transformed on its own */
    int32_t input_length; /* samples per row, zero-padded to fft_length */
    int32_t fft_length;
    int32_t stages; /* (radix, remaining length) pairs in factors */
} tg_signal_rfft_params;

/* output: per row, fft_length / 2 + 1 (real, imaginary) pairs. */
void tg_signal_rfft_s16(const tg_signal_rfft_params *p, const int32_t *factors, const int16_t *order,
                        const int16_t *twiddles, const int16_t *split_twiddles, const int16_t *input, int16_t *output);

#endif /* TG_RFFT_H */
