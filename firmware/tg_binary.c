#include "tg_binary.h"

#include "tg_fixedpoint.h"

/* Where the walk is: the output coordinate and each input's matching element. */
typedef struct {
    int32_t index[TG_BINARY_MAX_RANK];
    int32_t offset1, offset2;
} walk_cursor;

static void walk_start(walk_cursor *c, int32_t rank)
{
    for (int32_t d = 0; d < rank; ++d) {
        c->index[d] = 0;
    }
    c->offset1 = 0;
    c->offset2 = 0;
}

/* Step to the next output element, carrying into outer dimensions like an odometer. */
static void walk_next(walk_cursor *c, int32_t rank, const int32_t *shape, const int32_t *strides1,
                      const int32_t *strides2)
{
    for (int32_t d = rank - 1; d >= 0; --d) {
        c->offset1 += strides1[d];
        c->offset2 += strides2[d];
        if (++c->index[d] < shape[d]) {
            return;
        }
        c->index[d] = 0;
        c->offset1 -= strides1[d] * shape[d];
        c->offset2 -= strides2[d] * shape[d];
    }
}

/*
 * One kernel: the broadcast walk with `element(p, a, b)` computing each output value in int32.
 * Every kernel below is this loop with its element function and tensor types.
 */
#define TG_BINARY_KERNEL(name, params_type, type1, type2, out_type, element)                                           \
    void name(TG_BINARY_ARGS(params_type, type1, type2, out_type))                                                     \
    {                                                                                                                  \
        walk_cursor c;                                                                                                 \
        walk_start(&c, p->rank);                                                                                       \
        for (int32_t i = 0; i < p->size; ++i) {                                                                        \
            output[i] = (out_type)element(p, (int32_t)input1[c.offset1], (int32_t)input2[c.offset2]);                  \
            walk_next(&c, p->rank, shape, strides1, strides2);                                                         \
        }                                                                                                              \
    }

/* The same walk with float elements: `element(p, a, b)` gives each output value as a float. */
#define TG_BINARY_FLOAT_KERNEL(name, params_type, element)                                                             \
    void name(TG_BINARY_ARGS(params_type, float, float, float))                                                        \
    {                                                                                                                  \
        walk_cursor c;                                                                                                 \
        walk_start(&c, p->rank);                                                                                       \
        for (int32_t i = 0; i < p->size; ++i) {                                                                        \
            output[i] = element(p, input1[c.offset1], input2[c.offset2]);                                              \
            walk_next(&c, p->rank, shape, strides1, strides2);                                                         \
        }                                                                                                              \
    }

/* a - b modulo 2^32: the reference's int32 subtraction, without C's signed-overflow UB. */
static inline int32_t difference_wrap(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

/* Both inputs at the shared scale, subtracted (ADD's rescaling with the second input negated). */
static inline int32_t rescaled_difference(const tg_difference_params *p, int32_t a, int32_t b)
{
    const int32_t x = tg_shift_left_wrapping(a + p->input1_offset, (int)p->left_shift);
    const int32_t y = tg_shift_left_wrapping(b + p->input2_offset, (int)p->left_shift);
    return tg_requantize(x, p->input1_multiplier, p->input1_shift) -
           tg_requantize(y, p->input2_multiplier, p->input2_shift);
}

static inline int32_t sub_quantized(const tg_difference_params *p, int32_t a, int32_t b)
{
    const int32_t out =
        tg_requantize(rescaled_difference(p, a, b), p->output_multiplier, p->output_shift) + p->output_offset;
    return tg_clamp_i32(out, p->act_min, p->act_max);
}

/* The difference is at most 2^15 in magnitude (int16 inputs have zero point 0), so its square fits. */
static inline int32_t squared_difference_quantized(const tg_difference_params *p, int32_t a, int32_t b)
{
    const int32_t d = rescaled_difference(p, a, b);
    const int32_t out = tg_requantize(d * d, p->output_multiplier, p->output_shift) + p->output_offset;
    return tg_clamp_i32(out, p->act_min, p->act_max);
}

static inline int32_t add_int32(const tg_int32_arith_params *p, int32_t a, int32_t b)
{
    return tg_clamp_i32(tg_add_wrap(a, b), p->act_min, p->act_max);
}

static inline int32_t mul_int32(const tg_int32_arith_params *p, int32_t a, int32_t b)
{
    return tg_clamp_i32(tg_mul_wrap(a, b), p->act_min, p->act_max);
}

/* std::min(std::max(x, low), high) exactly: a NaN passes, +-infinity stops at the bounds. */
static inline float clamp_float(float x, float low, float high)
{
    const float raised = x < low ? low : x;
    return high < raised ? high : raised;
}

static inline float add_float(const tg_float_arith_params *p, float a, float b)
{
    return clamp_float(a + b, p->act_min, p->act_max);
}

static inline float mul_float(const tg_float_arith_params *p, float a, float b)
{
    return clamp_float(a * b, p->act_min, p->act_max);
}

static inline float div_float(const tg_float_arith_params *p, float a, float b)
{
    return clamp_float(a / b, p->act_min, p->act_max);
}

static inline float maximum_float(const tg_minmax_params *p, float a, float b)
{
    (void)p;
    return a > b ? a : b;
}

static inline float minimum_float(const tg_minmax_params *p, float a, float b)
{
    (void)p;
    return a < b ? a : b;
}

static inline int32_t sub_int32(const tg_int32_arith_params *p, int32_t a, int32_t b)
{
    return tg_clamp_i32(difference_wrap(a, b), p->act_min, p->act_max);
}

static inline int32_t squared_difference_int32(const tg_int32_arith_params *p, int32_t a, int32_t b)
{
    const int32_t d = difference_wrap(a, b);
    return tg_clamp_i32(tg_mul_wrap(d, d), p->act_min, p->act_max);
}

static inline int32_t maximum(const tg_minmax_params *p, int32_t a, int32_t b)
{
    (void)p;
    return a > b ? a : b;
}

static inline int32_t minimum(const tg_minmax_params *p, int32_t a, int32_t b)
{
    (void)p;
    return a < b ? a : b;
}

static inline int32_t div_int32(const tg_int32_arith_params *p, int32_t a, int32_t b)
{
    int32_t q;
    if (b == 0) {
        q = 0;
    } else if (b == -1) {
        q = difference_wrap(0, a); /* INT32_MIN / -1 wraps to INT32_MIN */
    } else {
        q = a / b;
    }
    return tg_clamp_i32(q, p->act_min, p->act_max);
}

/* The number of bits below the sign bit that equal it (GCC's __builtin_clrsb): 31 for 0 and -1. */
static inline int leading_sign_bits(int32_t v)
{
    const uint32_t u = v < 0 ? ~(uint32_t)v : (uint32_t)v;
    int n = 0;
    while (n < 31 && !(u & (0x40000000u >> n))) {
        ++n;
    }
    return n;
}

/*
 * The quotient as the reference computes it: the numerator normalised to its headroom, times the
 * divisor's reciprocal (1 / (1 + f) with the divisor = 2^n * (1 + f)), then one rescale whose
 * right shift recip_shift + headroom - output_shift lowering has checked to lie in [0, 31].
 */
static inline int32_t div_quantized(const tg_div_params *p, int32_t a, int32_t b)
{
    /*
     * What the reference's reciprocal gives for a divisor of 0: the normalised divisor minus one
     * is INT32_MIN (-1.0), and gemmlowp's Newton iteration for 1 / (1 + x) on it, its int32 sums
     * wrapping, ends at this value, with the divisor counted as 2^-1 (recip_shift -1).
     */
    const int32_t zero_divisor_reciprocal = -1515870788;
    int32_t numerator = a + p->input1_offset;
    int32_t divisor = b + p->input2_offset;
    if (divisor < 0) {
        numerator = -numerator;
        divisor = -divisor;
    }
    int recip_shift = -1;
    const int32_t reciprocal = divisor == 0 ? zero_divisor_reciprocal : tg_fx_reciprocal(divisor, 31, &recip_shift);
    const int headroom = leading_sign_bits(numerator);
    const int32_t quotient = tg_sat_rounding_doubling_high_mul(tg_shift_left_wrapping(numerator, headroom), reciprocal);
    const int right_shift = recip_shift + headroom - (int)p->output_shift;
    const int32_t out =
        tg_rounding_divide_by_pot(tg_sat_rounding_doubling_high_mul(quotient, p->output_multiplier), right_shift) +
        p->output_offset;
    return tg_clamp_i32(out, p->act_min, p->act_max);
}

static inline int32_t prelu(const tg_prelu_params *p, int32_t x, int32_t alpha)
{
    const int32_t v = x + p->input_offset;
    const int32_t out = v >= 0
                            ? tg_requantize(v, p->positive_multiplier, p->positive_shift)
                            : tg_requantize(v * (alpha + p->alpha_offset), p->negative_multiplier, p->negative_shift);
    return tg_clamp_i32(out + p->output_offset, p->act_min, p->act_max);
}

TG_BINARY_KERNEL(tg_add_s32, tg_int32_arith_params, int32_t, int32_t, int32_t, add_int32)
TG_BINARY_KERNEL(tg_mul_s32, tg_int32_arith_params, int32_t, int32_t, int32_t, mul_int32)
TG_BINARY_FLOAT_KERNEL(tg_add_f32, tg_float_arith_params, add_float)
TG_BINARY_FLOAT_KERNEL(tg_mul_f32, tg_float_arith_params, mul_float)
TG_BINARY_FLOAT_KERNEL(tg_div_f32, tg_float_arith_params, div_float)
TG_BINARY_FLOAT_KERNEL(tg_maximum_f32, tg_minmax_params, maximum_float)
TG_BINARY_FLOAT_KERNEL(tg_minimum_f32, tg_minmax_params, minimum_float)
TG_BINARY_KERNEL(tg_sub_s8, tg_difference_params, int8_t, int8_t, int8_t, sub_quantized)
TG_BINARY_KERNEL(tg_sub_s16, tg_difference_params, int16_t, int16_t, int16_t, sub_quantized)
TG_BINARY_KERNEL(tg_sub_s32, tg_int32_arith_params, int32_t, int32_t, int32_t, sub_int32)
TG_BINARY_KERNEL(tg_squared_difference_s8, tg_difference_params, int8_t, int8_t, int8_t, squared_difference_quantized)
TG_BINARY_KERNEL(tg_squared_difference_s16, tg_difference_params, int16_t, int16_t, int16_t,
                 squared_difference_quantized)
TG_BINARY_KERNEL(tg_squared_difference_s32, tg_int32_arith_params, int32_t, int32_t, int32_t, squared_difference_int32)
TG_BINARY_KERNEL(tg_maximum_s8, tg_minmax_params, int8_t, int8_t, int8_t, maximum)
TG_BINARY_KERNEL(tg_maximum_s16, tg_minmax_params, int16_t, int16_t, int16_t, maximum)
TG_BINARY_KERNEL(tg_maximum_s32, tg_minmax_params, int32_t, int32_t, int32_t, maximum)
TG_BINARY_KERNEL(tg_minimum_s8, tg_minmax_params, int8_t, int8_t, int8_t, minimum)
TG_BINARY_KERNEL(tg_minimum_s16, tg_minmax_params, int16_t, int16_t, int16_t, minimum)
TG_BINARY_KERNEL(tg_minimum_s32, tg_minmax_params, int32_t, int32_t, int32_t, minimum)
TG_BINARY_KERNEL(tg_div_s8, tg_div_params, int8_t, int8_t, int8_t, div_quantized)
TG_BINARY_KERNEL(tg_div_s32, tg_int32_arith_params, int32_t, int32_t, int32_t, div_int32)
TG_BINARY_KERNEL(tg_prelu_s8, tg_prelu_params, int8_t, int8_t, int8_t, prelu)
TG_BINARY_KERNEL(tg_prelu_s16, tg_prelu_params, int16_t, int8_t, int16_t, prelu)
