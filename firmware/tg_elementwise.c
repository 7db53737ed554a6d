#include "tg_elementwise.h"

#include "tg_fixedpoint.h"
#include "tg_simd.h"

/* Where the walk is: the output coordinate and each input's matching element. */
typedef struct {
    int32_t index[TG_BROADCAST_MAX_RANK];
    int32_t offset1, offset2;
} cursor;

static void cursor_start(cursor *c, int32_t rank)
{
    for (int32_t d = 0; d < rank; ++d) {
        c->index[d] = 0;
    }
    c->offset1 = 0;
    c->offset2 = 0;
}

/* Step to the next output element, carrying into outer dimensions like an odometer. */
static void cursor_next(cursor *c, int32_t rank, const int32_t *shape, const int32_t *strides1, const int32_t *strides2)
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

/* ADD of two values (offsets not yet applied), clamped to the activation range. For int16 the
 * lifted values stay below 2^31 (|x - z| <= 65535, times 2^15), each scaled one at most 2^30. */
static inline int32_t add_value(const tg_add_params *p, int32_t x1, int32_t x2)
{
    const int32_t a = tg_shift_left_wrapping(x1 + p->input1_offset, (int)p->left_shift);
    const int32_t b = tg_shift_left_wrapping(x2 + p->input2_offset, (int)p->left_shift);
    const int32_t sum = tg_requantize(a, p->input1_multiplier, p->input1_shift) +
                        tg_requantize(b, p->input2_multiplier, p->input2_shift);
    const int32_t out = tg_requantize(sum, p->output_multiplier, p->output_shift) + p->output_offset;
    return tg_clamp_i32(out, p->act_min, p->act_max);
}

/* MUL of two values (offsets not yet applied), clamped to the activation range. */
static inline int32_t mul_value(const tg_mul_params *p, int32_t x1, int32_t x2)
{
    const int32_t product = (x1 + p->input1_offset) * (x2 + p->input2_offset);
    const int32_t out = tg_requantize(product, p->output_multiplier, p->output_shift) + p->output_offset;
    return tg_clamp_i32(out, p->act_min, p->act_max);
}

/*
 * int8 ADD, fast: every constant derived once per call, each element in about eighteen instructions.
 * tflite-micro brings both inputs to a shared scale as tg_requantize((x + offset) << 20, m, shift),
 * shift <= 0, adds them and requantizes the sum to the output. In 32 bits, exactly:
 *  - the input of the larger scale has m = 2^30 and shift 0 (its real multiplier is 1/2), which gives
 *    floor((v 2^20 2^30 + 2^30) / 2^31) = v 2^19 for v = x + offset;
 *  - the other's high-mul floor((v 2^20 m + 2^30) / 2^31) is SMMULR(v 2^21, m) (|v| <= 255, so
 *    v 2^21 fits), and its rounding division by 2^r (r >= 1) is (a + 2^(r-1) - [a < 0]) >> r;
 *  - the sum s stays below 2^28, so the output's high-mul is SMMULR(2 s, m_out), and adding the
 *    zero point times 2^r_out before the division adds it after (for r_out <= 23, no overflow).
 * Both sides are carried doubled (2 s = v1 2^20 + 2 b) to save the shift.
 */
typedef struct {
    int32_t offset2x;                            /* the exactly lifted input's offset * 2^20 */
    int32_t other_offset;                        /* the other input's offset * 2^21 (* 2^20 when exact too) */
    int32_t multiplier, half, shift;             /* its high-mul multiplier, 2^(r-1) and r (0: exact too) */
    int32_t out_multiplier, out_half, out_shift; /* out_half: 2^(r-1) + zero point * 2^r */
    int32_t act_min, act_max, narrow;            /* narrow: the bounds are inside [-128, 127] */
} add_fast;

/* Whether the fast path computes p exactly, and its constants; `swap` when input 2 is the exact one. */
static int add_fast_of(const tg_add_params *p, add_fast *f, int *swap)
{
    const int32_t exact_multiplier = 1 << 30;
    const int exact1 = p->input1_multiplier == exact_multiplier && p->input1_shift == 0;
    const int exact2 = p->input2_multiplier == exact_multiplier && p->input2_shift == 0;
    const int32_t out_r = -p->output_shift;
    if (p->left_shift != 20 || !(exact1 || exact2) || p->output_multiplier <= 0 || out_r < 1 || out_r > 23) {
        return 0;
    }
    *swap = !exact1;
    const int32_t other_multiplier = exact1 ? p->input2_multiplier : p->input1_multiplier;
    const int32_t other_shift = exact1 ? p->input2_shift : p->input1_shift;
    const int both_exact = exact1 && exact2;
    if (!both_exact && (other_multiplier <= 0 || other_shift > -1 || other_shift < -31)) {
        return 0;
    }
    f->offset2x = (exact1 ? p->input1_offset : p->input2_offset) * (1 << 20);
    f->other_offset = (exact1 ? p->input2_offset : p->input1_offset) * (1 << (both_exact ? 20 : 21));
    f->multiplier = other_multiplier;
    f->shift = both_exact ? 0 : -other_shift;
    f->half = both_exact ? 0 : 1 << (f->shift - 1);
    f->out_multiplier = p->output_multiplier;
    f->out_half = (1 << (out_r - 1)) + p->output_offset * (1 << out_r);
    f->out_shift = out_r;
    f->act_min = p->act_min;
    f->act_max = p->act_max;
    f->narrow = p->act_min > INT8_MIN || p->act_max < INT8_MAX;
    return 1;
}

/* n output values from x (lifted exactly) and y, stepping by sx and sy elements (0 where broadcast),
 * saturated to int8 (the fused activation's bounds come after, in add_fast_clamp). */
TG_INLINE void add_fast_run(const add_fast *f, const int8_t *x, int32_t sx, const int8_t *y, int32_t sy, int8_t *out,
                            int32_t n, const int both_exact)
{
    /* locals: the output stores may alias *f, which would otherwise be reloaded for every element */
    const int32_t offset2x = f->offset2x, other_offset = f->other_offset, multiplier = f->multiplier;
    const int32_t half = f->half, shift = f->shift, out_multiplier = f->out_multiplier;
    const int32_t out_half = f->out_half, out_shift = f->out_shift;
    for (int8_t *const end = out + n; out < end; x += sx, y += sy) {
        int32_t sum2 = *x * (1 << 20) + offset2x;
        if (both_exact) {
            sum2 += *y * (1 << 20) + other_offset;
        } else {
            int32_t b = tg_v_smmulr(*y * (1 << 21) + other_offset, multiplier);
            b = (b + (b >> 31) + half) >> shift;
            sum2 += 2 * b;
        }
        const int32_t v = tg_v_smmulr(sum2, out_multiplier);
        *out++ = (int8_t)tg_v_ssat8((v + (v >> 31) + out_half) >> out_shift);
    }
}

/*
 * The same with the other input's whole contribution from a table (tinygen/ops/elementwise.py,
 * add_table): mid[y] = what add_fast_run adds to x 2^20 for y, offsets included, mid = table + 128.
 * That leaves two byte loads, a word load, an add and the output's requantization per element.
 */
TG_INLINE void add_table_run(const add_fast *f, const int32_t *mid, const int8_t *x, int32_t sx, const int8_t *y,
                             int32_t sy, int8_t *out, int32_t n)
{
    const int32_t out_multiplier = f->out_multiplier, out_half = f->out_half, out_shift = f->out_shift;
#if defined(__GNUC__) || defined(__clang__)
    __asm__("" : "+r"(mid)); /* an opaque pointer: indexed as it is, not as table + (y + 128) * 4 */
#endif
#define TG_ADD_TABLE_ONE()                                                                                             \
    do {                                                                                                               \
        const int32_t v = tg_v_smmulr(*x * (1 << 20) + mid[*y], out_multiplier);                                       \
        *out++ = (int8_t)tg_v_ssat8((v + (v >> 31) + out_half) >> out_shift);                                          \
        x += sx, y += sy;                                                                                              \
    } while (0)
    if (n & 1) {
        TG_ADD_TABLE_ONE();
    }
    for (int8_t *const end = out + (n & ~1); out < end;) { /* two a pass: half the loop's branches */
        TG_ADD_TABLE_ONE();
        TG_ADD_TABLE_ONE();
    }
#undef TG_ADD_TABLE_ONE
}

/* The fused activation's bounds over n outputs, four at a time where it can. */
static void add_fast_clamp(const add_fast *f, int8_t *out, int32_t n)
{
    const uint32_t low = tg_v_dup8(f->act_min), high = tg_v_dup8(f->act_max);
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        tg_v_store4(out + i, tg_v_min8(tg_v_max8(tg_v_load4(out + i), low), high));
    }
    for (; i < n; ++i) {
        out[i] = (int8_t)tg_clamp_i32(out[i], f->act_min, f->act_max);
    }
}

/* The broadcast walk, one run of the innermost dimension at a time. */
static void add_fast_walk(const add_fast *f, const tg_add_params *p, const int32_t *shape, const int32_t *strides_x,
                          const int32_t *strides_y, const int8_t *x, const int8_t *y, const int32_t *table, int8_t *out)
{
    const int32_t inner = p->rank - 1, n = shape[inner], sx = strides_x[inner], sy = strides_y[inner];
    cursor c;
    cursor_start(&c, inner);
    for (int32_t i = 0; i < p->size; i += n, out += n) {
        if (table && sx == 1 && sy == 1) {
            add_table_run(f, table + 128, x + c.offset1, 1, y + c.offset2, 1, out, n);
        } else if (table) {
            add_table_run(f, table + 128, x + c.offset1, sx, y + c.offset2, sy, out, n);
        } else if (f->shift && sx == 1 && sy == 1) {
            add_fast_run(f, x + c.offset1, 1, y + c.offset2, 1, out, n, 0);
        } else if (f->shift) {
            add_fast_run(f, x + c.offset1, sx, y + c.offset2, sy, out, n, 0);
        } else if (sx == 1 && sy == 1) {
            add_fast_run(f, x + c.offset1, 1, y + c.offset2, 1, out, n, 1);
        } else {
            add_fast_run(f, x + c.offset1, sx, y + c.offset2, sy, out, n, 1);
        }
        if (f->narrow) {
            add_fast_clamp(f, out, n);
        }
        cursor_next(&c, inner, shape, strides_x, strides_y);
    }
}

void tg_add_s8(const tg_add_params *p, const int32_t *shape, const int32_t *strides1, const int32_t *strides2,
               const int32_t *table, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    add_fast f;
    int swap;
    if (add_fast_of(p, &f, &swap)) {
        if (swap) {
            add_fast_walk(&f, p, shape, strides2, strides1, input2, input1, table, output);
        } else {
            add_fast_walk(&f, p, shape, strides1, strides2, input1, input2, table, output);
        }
        return;
    }
    cursor c;
    cursor_start(&c, p->rank);
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = (int8_t)add_value(p, input1[c.offset1], input2[c.offset2]);
        cursor_next(&c, p->rank, shape, strides1, strides2);
    }
}

void tg_add_s16(const tg_add_params *p, const int32_t *shape, const int32_t *strides1, const int32_t *strides2,
                const int16_t *input1, const int16_t *input2, int16_t *output)
{
    cursor c;
    cursor_start(&c, p->rank);
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = (int16_t)add_value(p, input1[c.offset1], input2[c.offset2]);
        cursor_next(&c, p->rank, shape, strides1, strides2);
    }
}

void tg_mul_s8(const tg_mul_params *p, const int32_t *shape, const int32_t *strides1, const int32_t *strides2,
               const int8_t *input1, const int8_t *input2, int8_t *output)
{
    cursor c;
    cursor_start(&c, p->rank);
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = (int8_t)mul_value(p, input1[c.offset1], input2[c.offset2]);
        cursor_next(&c, p->rank, shape, strides1, strides2);
    }
}

void tg_mul_s16(const tg_mul_params *p, const int32_t *shape, const int32_t *strides1, const int32_t *strides2,
                const int16_t *input1, const int16_t *input2, int16_t *output)
{
    cursor c;
    cursor_start(&c, p->rank);
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = (int16_t)mul_value(p, input1[c.offset1], input2[c.offset2]);
        cursor_next(&c, p->rank, shape, strides1, strides2);
    }
}
