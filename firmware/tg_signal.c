#include "tg_signal.h"

/* The number of significant bits of x (0 for 0). */
static inline int32_t bit_length(uint32_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    return x ? 32 - __builtin_clz(x) : 0;
#else
    int32_t n = 0;
    while (x) {
        x >>= 1;
        ++n;
    }
    return n;
#endif
}

void tg_signal_window_s16(const tg_signal_window_params *p, const int16_t *input, const int16_t *window,
                          int16_t *output)
{
    for (int32_t base = 0; base < p->size; base += p->window_size) {
        for (int32_t i = 0; i < p->window_size; ++i) {
            const int32_t product = ((int32_t)input[base + i] * window[i]) >> p->shift;
            output[base + i] = (int16_t)tg_clamp_i32(product, INT16_MIN, INT16_MAX);
        }
    }
}

void tg_signal_fft_auto_scale_s16(const tg_signal_fft_auto_scale_params *p, const int16_t *input, int16_t *output,
                                  int32_t *scale_bits)
{
    /* The largest magnitude as tflite-micro finds it: in int16, so -32768 counts as -32768 (and a
     * later value of any sign replaces it). */
    int16_t largest = 0;
    for (int32_t i = 0; i < p->size; ++i) {
        if (input[i] > largest) {
            largest = input[i];
        } else if (-input[i] > largest) {
            largest = tg_wrap_s16(-input[i]);
        }
    }
    /* Its bit length as uint32 (a negative value has 32; so has 0, on tflite-micro's GCC build). */
    const int32_t bits = largest > 0 ? bit_length((uint32_t)largest) : 32;
    const int32_t shift = tg_max_i32(16 - bits - 1, 0);
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = tg_wrap_s16(input[i] * (1 << shift));
    }
    *scale_bits = shift;
}

void tg_signal_energy_s16(const tg_signal_energy_params *p, const int16_t *spectrum, uint32_t *output)
{
    memset(output, 0, (size_t)p->size * sizeof *output);
    for (int32_t k = p->start; k < p->end; ++k) {
        const int32_t re = spectrum[2 * k], im = spectrum[2 * k + 1];
        output[k] = (uint32_t)(re * re) + (uint32_t)(im * im); /* 2^31 wraps as in tflite-micro */
    }
}

void tg_signal_filter_bank(const tg_signal_filter_bank_params *p, const uint32_t *input, const int16_t *weights,
                           const int16_t *unweights, const int16_t *frequency_starts, const int16_t *weight_starts,
                           const int16_t *widths, uint64_t *output)
{
    /* Band c's weighted sum goes to channel c - 1 together with band c - 1's unweighted sum (its
     * falling edge); band 0 only starts channel 0. Weights are int16 multiplied modulo 2^64. */
    uint64_t weighted = 0, unweighted = 0;
    for (int32_t band = 0; band <= p->channels; ++band) {
        const uint32_t *x = input + frequency_starts[band];
        const int16_t *w = weights + weight_starts[band];
        const int16_t *u = unweights + weight_starts[band];
        for (int32_t j = 0; j < widths[band]; ++j) {
            weighted += (uint64_t)(int64_t)w[j] * x[j];
            unweighted += (uint64_t)(int64_t)u[j] * x[j];
        }
        if (band > 0) {
            output[band - 1] = weighted;
        }
        weighted = unweighted;
        unweighted = 0;
    }
}

/*
 * The square root rounded to nearest: the floor root digit by digit, plus one where the remainder
 * exceeds the root. tflite-micro takes a 32-bit path below 2^32, whose result stops at 0xFFFF, and
 * a 64-bit one above, stopping at 0xFFFFFFFF.
 */
static uint32_t rounded_sqrt32(uint32_t n)
{
    if (n == 0) {
        return 0;
    }
    uint32_t remainder = n, root = 0, bit = (uint32_t)1 << ((bit_length(n) - 1) & ~1);
    for (; bit != 0; bit >>= 2) {
        if (remainder >= root + bit) {
            remainder -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
    }
    return root + (remainder > root && root != 0xFFFFu);
}

static uint32_t rounded_sqrt64(uint64_t n)
{
    if ((n >> 32) == 0) {
        return rounded_sqrt32((uint32_t)n);
    }
    uint64_t remainder = n, root = 0, bit = (uint64_t)1 << ((31 + bit_length((uint32_t)(n >> 32))) & ~1);
    for (; bit != 0; bit >>= 2) {
        if (remainder >= root + bit) {
            remainder -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
    }
    return (uint32_t)(root + (remainder > root && root != 0xFFFFFFFFu));
}

void tg_signal_filter_bank_sqrt(const tg_signal_filter_bank_sqrt_params *p, const uint64_t *input,
                                const int32_t *scale_bits, uint32_t *output)
{
    /* A shift by 32 or more is undefined in C++; tflite-micro's x86 build keeps its low 5 bits. */
    const int32_t shift = *scale_bits & 31;
    for (int32_t c = 0; c < p->channels; ++c) {
        output[c] = rounded_sqrt64(input[c]) >> shift;
    }
}

void tg_signal_spectral_subtraction(const tg_signal_spectral_subtraction_params *p, const uint32_t *input,
                                    uint32_t *output, uint32_t *noise_estimate, void *state)
{
    uint32_t *estimate = (uint32_t *)state;
    for (int32_t c = 0; c < p->channels; ++c) {
        const int odd = c & 1;
        const uint32_t smoothing = (uint32_t)(odd ? p->alternate_smoothing : p->smoothing);
        const uint32_t keep = (uint32_t)(odd ? p->alternate_one_minus_smoothing : p->one_minus_smoothing);
        const uint32_t x = input[c];
        const uint32_t scaled = x << p->smoothing_bits;
        estimate[c] =
            (uint32_t)(((uint64_t)scaled * smoothing + (uint64_t)estimate[c] * keep) >> p->spectral_subtraction_bits);
        uint32_t subtrahend = estimate[c];
        if (subtrahend > scaled) {
            subtrahend = scaled;
            if (p->clamping) {
                estimate[c] = scaled;
            }
        }
        const uint32_t floor =
            (uint32_t)(((uint64_t)x * (uint32_t)p->min_signal_remaining) >> p->spectral_subtraction_bits);
        const uint32_t subtracted = (scaled - subtrahend) >> p->smoothing_bits;
        output[c] = subtracted > floor ? subtracted : floor;
        noise_estimate[c] = estimate[c];
    }
}

/* PCAN's gain for a noise estimate x: a quadratic in the top 10 bits below x's leading one, with
 * coefficients lut[4 * bits - 6 ...] for x of `bits` bits (x <= 2: lut[x] itself), as int16. */
static int32_t pcan_gain(uint32_t x, const int16_t *lut)
{
    if (x <= 2) {
        return lut[x];
    }
    const int32_t bits = bit_length(x);
    const int16_t *c = lut + 4 * bits - 6;
    const int32_t frac = (int32_t)((bits < 11 ? x << (11 - bits) : x >> (bits - 11)) & 0x3FFu);
    int32_t result = (((int32_t)c[2] * frac) >> 5) + c[1] * 32;
    result = ((result * frac + (1 << 14)) >> 15) + c[0];
    return tg_wrap_s16(result);
}

void tg_signal_pcan(const tg_signal_pcan_params *p, const uint32_t *input, const uint32_t *noise_estimate,
                    const int16_t *gain_lut, uint32_t *output)
{
    for (int32_t c = 0; c < p->channels; ++c) {
        const uint32_t gain = (uint32_t)pcan_gain(noise_estimate[c], gain_lut); /* a negative gain wraps */
        const uint32_t snr = (uint32_t)(((uint64_t)input[c] * gain) >> p->snr_shift);
        /* snr is Q12; the output Q6, compressed quadratically below 2.0 */
        output[c] = snr < (2u << 12) ? (snr * snr) >> 20 : (snr >> 6) - (1u << 6);
    }
}

/* log2(x) in Q16: the bit length, plus the linear interpolation of the bits below the leading one
 * corrected by the table (interpolated between its 128 segments). */
static uint32_t log2_q16(uint32_t x, const int16_t *lut)
{
    const int32_t integer = bit_length(x) - 1;
    int32_t frac = (int32_t)(x - ((uint32_t)1 << integer));
    frac = integer < 16 ? frac << (16 - integer) : frac >> (integer - 16);
    const int32_t segment = frac >> 9;
    const int32_t c0 = lut[segment], c1 = lut[segment + 1];
    const int32_t between = ((c1 - c0) * (frac - (segment << 9))) >> 16;
    return ((uint32_t)integer << 16) + (uint32_t)(frac + c0 + between);
}

void tg_signal_filter_bank_log(const tg_signal_filter_bank_log_params *p, const int16_t *log_lut, const uint32_t *input,
                               int16_t *output)
{
    for (int32_t c = 0; c < p->channels; ++c) {
        const uint32_t scaled = input[c] << p->correction_bits;
        if (scaled <= 1) {
            output[c] = 0;
            continue;
        }
        /* ln(x) = log2(x) * ln(2), ln(2) = 45426 / 2^16; then the output scale, both rounded, the
         * second in uint32 arithmetic (it wraps as tflite-micro's does). */
        const uint32_t ln = (uint32_t)(((uint64_t)45426 * log2_q16(scaled, log_lut) + 32768u) >> 16);
        const uint32_t value = ((uint32_t)p->output_scale * ln + 32768u) >> 16;
        output[c] = (int16_t)(value < INT16_MAX ? value : INT16_MAX);
    }
}
