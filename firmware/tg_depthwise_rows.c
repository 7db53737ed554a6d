/*
 * The 3x3 depthwise kernels over int16 planes (tg_depthwise_rows.h): one channel at a time, its
 * windows in blocks along the plane's rows.
 */
#include "tg_depthwise_rows.h"

#include "tg_matmul.h"
#include "tg_simd.h"

/*
 * A layer as the plane holds it: the plane's rows run along the input's rows, or along its columns
 * (transposed: the table's first word says so), whichever leaves fewer windows outside the blocks
 * of four along a row. Output pixel (row i, column j) of the plane's orientation
 * is at out + i * out_row + j * out_col.
 */
typedef struct {
    int32_t rows, cols;       /* output pixels down and along the plane's rows */
    int32_t pad_row, pad_col; /* padding before the first row and column */
    int32_t in_rows, in_cols; /* input pixels down and along */
    int32_t pitch;            /* int16 from one plane row to the next: in_cols + 2, rounded up to even */
    int32_t in_row, in_col;   /* bytes from one input pixel to the next, down and along */
    int32_t out_row, out_col; /* the same for the output */
    int32_t act_min, act_max; /* the clamp, where narrower than int8 */
    int32_t offset_unit;      /* 2 * output offset + 1 (tg_mm_requantize_fast) */
} dw_layer;

static dw_layer dw_layer_of(const tg_depthwise_params *p, int transposed)
{
    const int32_t c = p->input.c;
    dw_layer l = {
        p->output.h,    p->output.w, p->pad_h,        p->pad_w, p->input.h, p->input.w, 0,
        p->input.w * c, c,           p->output.w * c, c,        p->act_min, p->act_max, 2 * p->output_offset + 1};
    if (transposed) {
        const dw_layer t = {l.cols,   l.rows,   l.pad_col, l.pad_row, l.in_cols, l.in_rows, 0,
                            l.in_col, l.in_row, l.out_col, l.out_row, l.act_min, l.act_max, l.offset_unit};
        l = t;
    }
    l.pitch = (l.in_cols + 3) & ~1;
    return l;
}

/* Two int16 values from p (halfword-aligned) as the lanes of one word. */
TG_INLINE uint32_t dw_pair(const int16_t *p)
{
#if TG_USE_DSP
    uint32_t v;
    memcpy(&v, p, sizeof v); /* one LDR: M4/M7/M33 allow unaligned word loads */
    return v;
#else
    return tg_v_pack16(p[0], p[1]);
#endif
}

/* The channel at in (lane 0 of input pixel (0, 0)) as it is into the plane's interior:
 * plane row i + 1, column j + 1. The border, set once to the input zero point, is the padding. */
static void dw_fill_plane(const dw_layer *l, const int8_t *in, int16_t *plane)
{
    const int32_t step = l->in_col;
    int16_t *row = plane + l->pitch + 1;
    for (int32_t i = 0; i < l->in_rows; ++i, row += l->pitch) {
        const int8_t *src = in + (size_t)i * l->in_row;
        int16_t *dst = row, *const end = row + l->in_cols;
        for (; dst + 4 <= end; dst += 4, src += 4 * step) {
            dst[0] = src[0];
            dst[1] = src[step];
            dst[2] = src[2 * step];
            dst[3] = src[3 * step];
        }
        for (; dst < end; ++dst, src += step) {
            *dst = src[0];
        }
    }
}

/* The int8 output of sum acc: tg_mm_requantize_fast (tg_matmul.h; the output offset in the rounding
 * constant), saturated. q: the channel's multiplier, shift field and rounding constant. */
TG_INLINE int32_t dw_requantize(int32_t acc, const int32_t *q, int32_t offset_unit)
{
#if TG_USE_ASM
    int32_t lo, v, m, shift, rounding;
    __asm__("ldrd %[m], %[shift], [%[q]]\n\t"
            "ldr %[rounding], [%[q], #8]\n\t"
            "and %[lo], %[acc], #0x80000000\n\t"
            "orr %[lo], %[lo], #0x40000000\n\t"
            "add %[v], %[rounding], %[acc], asr #31\n\t"
            "smlal %[lo], %[v], %[acc], %[m]\n\t"
            "asr %[v], %[v], %[shift]\n\t"
            "ssat %[v], #8, %[v]"
            : [lo] "=&r"(lo), [v] "=&r"(v), [m] "=&r"(m), [shift] "=&r"(shift), [rounding] "=&r"(rounding)
            : [acc] "r"(acc), [q] "r"(q)
            : "memory");
    (void)offset_unit;
    return v;
#else
    return tg_v_ssat8(tg_mm_requantize_fast(acc, q[0], q[1], offset_unit));
#endif
}

/* Four sums of one channel, requantized in place (the constants loaded once). */
TG_INLINE void dw_requantize4(int32_t *a0, int32_t *a1, int32_t *a2, int32_t *a3, const int32_t *q, int32_t offset_unit)
{
#if TG_USE_ASM
#define TG_DW_REQUANTIZE(a)                                                                                            \
    "and %[lo], %[" a "], #0x80000000\n\t"                                                                             \
    "orr %[lo], %[lo], #0x40000000\n\t"                                                                                \
    "add %[v], %[rounding], %[" a "], asr #31\n\t"                                                                     \
    "smlal %[lo], %[v], %[" a "], %[m]\n\t"                                                                            \
    "asr %[v], %[v], %[shift]\n\t"                                                                                     \
    "ssat %[" a "], #8, %[v]\n\t"
    int32_t lo, v, m, shift, rounding;
    __asm__("ldrd %[m], %[shift], [%[q]]\n\t"
            "ldr %[rounding], [%[q], #8]\n\t" TG_DW_REQUANTIZE("a0") TG_DW_REQUANTIZE("a1") TG_DW_REQUANTIZE("a2")
                TG_DW_REQUANTIZE("a3")
            : [a0] "+r"(*a0), [a1] "+r"(*a1), [a2] "+r"(*a2), [a3] "+r"(*a3), [lo] "=&r"(lo), [v] "=&r"(v),
              [m] "=&r"(m), [shift] "=&r"(shift), [rounding] "=&r"(rounding)
            : [q] "r"(q)
            : "memory");
    (void)offset_unit;
#undef TG_DW_REQUANTIZE
#else
    *a0 = dw_requantize(*a0, q, offset_unit);
    *a1 = dw_requantize(*a1, q, offset_unit);
    *a2 = dw_requantize(*a2, q, offset_unit);
    *a3 = dw_requantize(*a3, q, offset_unit);
#endif
}

TG_INLINE void dw_put(int32_t v, const dw_layer *l, int8_t *out, const int clamp)
{
    *out = (int8_t)(clamp ? tg_clamp_i32(v, l->act_min, l->act_max) : v);
}

/*
 * One window: rows from x, pitch apart; per row the taps' first two weights are the lanes of one
 * word (one SMLAD) and the third the bottom of another (one SMLABB).
 */
TG_INLINE int32_t dw_row(const int16_t *x, const int32_t *w, int32_t acc)
{
    acc = tg_v_smlad(dw_pair(x), (uint32_t)w[0], acc);
    return tg_v_smlabb((uint32_t)(int32_t)x[2], (uint32_t)w[1], acc);
}

TG_INLINE int32_t dw_one(const int16_t *x, int32_t pitch, const int32_t *w, int32_t acc)
{
    return dw_row(x + 2 * pitch, w + 4, dw_row(x + pitch, w + 2, dw_row(x, w, acc)));
}

/*
 * Four neighbouring windows of one output row from the words of their input rows: a window at
 * column c takes the pair (c, c + 1) by SMLAD and tap c + 2 from the bottom (SMLABB) or top (SMLATB)
 * of a pair, so that the four read six taps as five pairs.
 */
#if TG_USE_ASM
/* As assembly: compiled from C, the weights are reloaded tap by tap and the sums spill. */
#define TG_DW_ROW4(at, s0, s1, s2, s3)                                                                                 \
    "ldrd %[w01], %[w2], [%[w], #" at "]\n\t"                                                                          \
    "ldr %[v], [%[x]]\n\t"                                                                                             \
    "smlad %[a0], %[v], %[w01], %[" s0 "]\n\t"                                                                         \
    "ldr %[v], [%[x], #2]\n\t"                                                                                         \
    "smlad %[a1], %[v], %[w01], %[" s1 "]\n\t"                                                                         \
    "ldr %[v], [%[x], #4]\n\t"                                                                                         \
    "smlabb %[a0], %[v], %[w2], %[a0]\n\t"                                                                             \
    "smlatb %[a1], %[v], %[w2], %[a1]\n\t"                                                                             \
    "smlad %[a2], %[v], %[w01], %[" s2 "]\n\t"                                                                         \
    "ldr %[v], [%[x], #6]\n\t"                                                                                         \
    "smlad %[a3], %[v], %[w01], %[" s3 "]\n\t"                                                                         \
    "ldr %[v], [%[x], #8]\n\t"                                                                                         \
    "smlabb %[a2], %[v], %[w2], %[a2]\n\t"                                                                             \
    "smlatb %[a3], %[v], %[w2], %[a3]\n\t"
#define TG_DW_NEXT_ROW "add %[x], %[x], %[pitch], lsl #1\n\t"

/* The first row starts each sum from the bias. */
TG_INLINE void dw_four(const int16_t *x, int32_t pitch, const int32_t *w, int32_t bias, int32_t *a0, int32_t *a1,
                       int32_t *a2, int32_t *a3)
{
    uint32_t w01, w2, v;
    __asm__(TG_DW_ROW4("0", "bias", "bias", "bias", "bias") TG_DW_NEXT_ROW TG_DW_ROW4("8", "a0", "a1", "a2", "a3")
                TG_DW_NEXT_ROW TG_DW_ROW4("16", "a0", "a1", "a2", "a3")
            : [a0] "=&r"(*a0), [a1] "=&r"(*a1), [a2] "=&r"(*a2), [a3] "=&r"(*a3), [x] "+r"(x), [w01] "=&r"(w01),
              [w2] "=&r"(w2), [v] "=&r"(v)
            : [w] "r"(w), [pitch] "r"(pitch), [bias] "r"(bias)
            : "memory");
}

/* Four outputs, out_col bytes apart from *o on, which moves past them. */
TG_INLINE void dw_store4(int32_t a0, int32_t a1, int32_t a2, int32_t a3, int8_t **o, int32_t out_col)
{
    __asm__("strb %[a0], [%[o]]\n\t"
            "strb %[a1], [%[o], %[col]]\n\t"
            "add %[o], %[o], %[col], lsl #1\n\t"
            "strb %[a2], [%[o]]\n\t"
            "strb %[a3], [%[o], %[col]]\n\t"
            "add %[o], %[o], %[col], lsl #1"
            : [o] "+r"(*o)
            : [a0] "r"(a0), [a1] "r"(a1), [a2] "r"(a2), [a3] "r"(a3), [col] "r"(out_col)
            : "memory");
}
#undef TG_DW_ROW4
#undef TG_DW_NEXT_ROW
#else
TG_INLINE void dw_four(const int16_t *x, int32_t pitch, const int32_t *w, int32_t bias, int32_t *a0, int32_t *a1,
                       int32_t *a2, int32_t *a3)
{
    *a0 = dw_one(x, pitch, w, bias);
    *a1 = dw_one(x + 1, pitch, w, bias);
    *a2 = dw_one(x + 2, pitch, w, bias);
    *a3 = dw_one(x + 3, pitch, w, bias);
}

TG_INLINE void dw_store4(int32_t a0, int32_t a1, int32_t a2, int32_t a3, int8_t **o, int32_t out_col)
{
    int8_t *out = *o;
    out[0] = (int8_t)a0;
    out[out_col] = (int8_t)a1;
    out[2 * out_col] = (int8_t)a2;
    out[3 * out_col] = (int8_t)a3;
    *o = out + 4 * out_col;
}
#endif

/* Every output pixel of one channel from its plane; rec is the channel's record, out its output pixel (0, 0). */
TG_INLINE void dw_channel(const dw_layer *l, const int16_t *plane, const int32_t *rec, int8_t *out, const int clamp)
{
    const int32_t pitch = l->pitch, cols = l->cols, out_col = l->out_col, bias = rec[6], unit = l->offset_unit;
    const int32_t *q = rec + 7;
    for (int32_t i = 0; i < l->rows; ++i) {
        const int16_t *x = plane + (i - l->pad_row + 1) * pitch + (1 - l->pad_col);
        int8_t *o = out + (size_t)i * l->out_row;
        int32_t j = 0;
        for (; j + 4 <= cols; j += 4, x += 4) {
            int32_t a0, a1, a2, a3;
            dw_four(x, pitch, rec, bias, &a0, &a1, &a2, &a3);
            dw_requantize4(&a0, &a1, &a2, &a3, q, unit);
            if (clamp) {
                a0 = tg_clamp_i32(a0, l->act_min, l->act_max), a1 = tg_clamp_i32(a1, l->act_min, l->act_max);
                a2 = tg_clamp_i32(a2, l->act_min, l->act_max), a3 = tg_clamp_i32(a3, l->act_min, l->act_max);
            }
            dw_store4(a0, a1, a2, a3, &o, out_col);
        }
        for (; j < cols; ++j, ++x, o += out_col) {
            dw_put(dw_requantize(dw_one(x, pitch, rec, bias), q, unit), l, o, clamp);
        }
    }
}

/*
 * Both 3x3 kernels: channel by channel, the channel's input into the plane, then its outputs. Output
 * (y, x, c) sits at an offset congruent to c modulo the channel count, so written over the input
 * (in place) it only overwrites channels already in a plane.
 */
static void dw_3x3(const tg_depthwise_params *p, const int8_t *input, const int32_t *table, int8_t *output,
                   int16_t *plane)
{
    const dw_layer l = dw_layer_of(p, table[0]);
    const int32_t channels = p->input.c, clamp = p->act_min > INT8_MIN || p->act_max < INT8_MAX;
    const size_t in_image = (size_t)p->input.h * p->input.w * channels;
    const size_t out_image = (size_t)p->output.h * p->output.w * channels;
    const int16_t zero_point = (int16_t)-p->input_offset; /* the padding: its taps then add nothing */
    for (size_t i = 0; i < (size_t)(l.in_rows + 2) * l.pitch; ++i) {
        plane[i] = zero_point;
    }
    for (int32_t b = 0; b < p->output.n; ++b) {
        for (int32_t c = 0; c < channels; ++c) {
            const int32_t *rec = table + 1 + TG_DEPTHWISE_ROWS_CHANNEL_WORDS * c;
            int8_t *out = output + b * out_image + c;
            dw_fill_plane(&l, input + b * in_image + c, plane);
            clamp ? dw_channel(&l, plane, rec, out, 1) : dw_channel(&l, plane, rec, out, 0);
        }
    }
}

void tg_depthwise_3x3_rows_s8(const tg_depthwise_params *p, const int8_t *input, const int32_t *table, int8_t *output,
                              void *scratch)
{
    dw_3x3(p, input, table, output, (int16_t *)scratch);
}

void tg_depthwise_3x3_rows_inplace_s8(const tg_depthwise_params *p, int8_t *data, const int32_t *table, void *scratch)
{
    dw_3x3(p, data, table, data, (int16_t *)scratch);
}
