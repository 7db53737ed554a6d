/*
 * Packed-lane arithmetic for the fast kernels: four int8 or two int16 lanes in one 32-bit word.
 *
 * Each helper is one Armv7E-M/Armv8-M DSP instruction (SXTAB16, SMLAxy, SSUB8 + SEL, QADD8, ...)
 * where TG_USE_DSP holds, and a portable C function with the same result, bit for bit, elsewhere:
 * the host and Cortex-M0+/M3 run the fast kernels' exact code paths with these stand-ins, so the
 * tests on the host (sanitizers on) cover every edge of those paths. Lane 0 is the lowest-addressed
 * byte (bits 0..7); words are assembled from bytes in the portable path, so it is endian-neutral.
 */
#ifndef TG_SIMD_H
#define TG_SIMD_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Kernels may also write a few instructions out as inline assembly where the compiler would spill
 * registers; those blocks need an optimizing build (they take many registers, and constant
 * operands), so unoptimized (debug) builds take the portable code, which gives the same bits.
 */
#if TG_USE_DSP && defined(__OPTIMIZE__)
#define TG_USE_ASM 1
#else
#define TG_USE_ASM 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define TG_INLINE static inline __attribute__((always_inline))
#else
#define TG_INLINE static inline
#endif

/* Halfword lane h (0: bits 0..15, 1: bits 16..31), sign-extended. */
TG_INLINE int32_t tg_v_half(uint32_t v, int h) { return (int32_t)(int16_t)(uint16_t)(v >> (16 * h)); }

/* Byte lane b, sign-extended. */
TG_INLINE int32_t tg_v_byte(uint32_t v, int b) { return (int32_t)(int8_t)(uint8_t)(v >> (8 * b)); }

/* Two halfwords (each taken modulo 2^16) in one word. */
TG_INLINE uint32_t tg_v_pack16(int32_t lo, int32_t hi) { return ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16); }

/* Four int8 lanes from memory (any alignment). */
TG_INLINE uint32_t tg_v_load4(const int8_t *p)
{
#if TG_USE_DSP
    uint32_t v;
    memcpy(&v, p, sizeof v); /* one LDR: M4/M7/M33 allow unaligned word loads */
    return v;
#else
    return (uint32_t)(uint8_t)p[0] | (uint32_t)(uint8_t)p[1] << 8 | (uint32_t)(uint8_t)p[2] << 16 |
           (uint32_t)(uint8_t)p[3] << 24;
#endif
}

/* Four int8 lanes to memory (any alignment). */
TG_INLINE void tg_v_store4(int8_t *p, uint32_t v)
{
#if TG_USE_DSP
    memcpy(p, &v, sizeof v); /* one STR */
#else
    p[0] = (int8_t)tg_v_byte(v, 0);
    p[1] = (int8_t)tg_v_byte(v, 1);
    p[2] = (int8_t)tg_v_byte(v, 2);
    p[3] = (int8_t)tg_v_byte(v, 3);
#endif
}

/* The same int32 value in both halfwords (modulo 2^16): the second operand of tg_v_sxtab16. */
TG_INLINE uint32_t tg_v_dup16(int32_t x) { return tg_v_pack16(x, x); }

/* SXTAB16: halfwords of a plus bytes 0 and 2 of x, sign-extended (each sum modulo 2^16). */
TG_INLINE uint32_t tg_v_sxtab16(uint32_t a, uint32_t x)
{
#if TG_USE_DSP
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(x));
    return r;
#else
    return tg_v_pack16(tg_v_half(a, 0) + tg_v_byte(x, 0), tg_v_half(a, 1) + tg_v_byte(x, 2));
#endif
}

/* SXTAB16 with ROR #8: halfwords of a plus bytes 1 and 3 of x. */
TG_INLINE uint32_t tg_v_sxtab16_odd(uint32_t a, uint32_t x)
{
#if TG_USE_DSP
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
#else
    return tg_v_pack16(tg_v_half(a, 0) + tg_v_byte(x, 1), tg_v_half(a, 1) + tg_v_byte(x, 3));
#endif
}

/* SMLAxy: acc + one halfword of a times one halfword of b, wrapping (x, y: B = bottom, T = top). */
#if TG_USE_DSP
#define TG_V_SMLA(name, insn)                                                                                          \
    TG_INLINE int32_t name(uint32_t a, uint32_t b, int32_t acc)                                                        \
    {                                                                                                                  \
        int32_t r;                                                                                                     \
        __asm__(insn " %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));                                          \
        return r;                                                                                                      \
    }
TG_V_SMLA(tg_v_smlabb, "smlabb")
TG_V_SMLA(tg_v_smlatt, "smlatt")
TG_V_SMLA(tg_v_smlatb, "smlatb")
TG_V_SMLA(tg_v_smlad, "smlad")
#else
TG_INLINE int32_t tg_v_smlabb(uint32_t a, uint32_t b, int32_t acc)
{
    return tg_add_wrap(acc, tg_v_half(a, 0) * tg_v_half(b, 0));
}
TG_INLINE int32_t tg_v_smlatt(uint32_t a, uint32_t b, int32_t acc)
{
    return tg_add_wrap(acc, tg_v_half(a, 1) * tg_v_half(b, 1));
}
TG_INLINE int32_t tg_v_smlatb(uint32_t a, uint32_t b, int32_t acc)
{
    return tg_add_wrap(acc, tg_v_half(a, 1) * tg_v_half(b, 0));
}
/* SMLAD: acc + both halfword products, wrapping. */
TG_INLINE int32_t tg_v_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    return tg_add_wrap(tg_v_smlabb(a, b, acc), tg_v_half(a, 1) * tg_v_half(b, 1));
}
#endif

/* SMMULR: the high word of a * b, rounded: floor((a * b + 2^31) / 2^32). */
TG_INLINE int32_t tg_v_smmulr(int32_t a, int32_t b)
{
#if TG_USE_DSP
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return (int32_t)(((int64_t)a * b + 2147483648) >> 32);
#endif
}

/* SSAT #8: x saturated to [-128, 127]. */
TG_INLINE int32_t tg_v_ssat8(int32_t x)
{
#if TG_USE_DSP
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(x));
    return r;
#else
    return tg_clamp_i32(x, INT8_MIN, INT8_MAX);
#endif
}

/* Four int8 values (each already in [-128, 127]) packed into the lanes of one word: three BFI where
 * the kernels may write assembly (the compiler's shifts and masks take more). */
TG_INLINE uint32_t tg_v_pack8(int32_t b0, int32_t b1, int32_t b2, int32_t b3)
{
#if TG_USE_ASM
    uint32_t word = (uint32_t)b0;
    __asm__("bfi %[w], %[b1], #8, #8\n\t"
            "bfi %[w], %[b2], #16, #8\n\t"
            "bfi %[w], %[b3], #24, #8"
            : [w] "+r"(word)
            : [b1] "r"(b1), [b2] "r"(b2), [b3] "r"(b3));
    return word;
#else
    const uint32_t even = tg_v_pack16(b0, b2) & 0x00FF00FFu, odd = tg_v_pack16(b1, b3) & 0x00FF00FFu;
    return even | odd << 8;
#endif
}

/* Lane-wise signed maximum and minimum of four int8 lanes (SSUB8 sets a GE flag per lane, SEL picks). */
TG_INLINE uint32_t tg_v_max8(uint32_t a, uint32_t b)
{
#if TG_USE_DSP
    uint32_t r, unused;
    __asm__("ssub8 %1, %2, %3\n\tsel %0, %2, %3" : "=r"(r), "=&r"(unused) : "r"(a), "r"(b) : "cc");
    return r;
#else
    return tg_v_pack8(tg_max_i32(tg_v_byte(a, 0), tg_v_byte(b, 0)), tg_max_i32(tg_v_byte(a, 1), tg_v_byte(b, 1)),
                      tg_max_i32(tg_v_byte(a, 2), tg_v_byte(b, 2)), tg_max_i32(tg_v_byte(a, 3), tg_v_byte(b, 3)));
#endif
}

TG_INLINE uint32_t tg_v_min8(uint32_t a, uint32_t b)
{
#if TG_USE_DSP
    uint32_t r, unused;
    __asm__("ssub8 %1, %2, %3\n\tsel %0, %3, %2" : "=r"(r), "=&r"(unused) : "r"(a), "r"(b) : "cc");
    return r;
#else
    return tg_v_pack8(tg_min_i32(tg_v_byte(a, 0), tg_v_byte(b, 0)), tg_min_i32(tg_v_byte(a, 1), tg_v_byte(b, 1)),
                      tg_min_i32(tg_v_byte(a, 2), tg_v_byte(b, 2)), tg_min_i32(tg_v_byte(a, 3), tg_v_byte(b, 3)));
#endif
}

/* The same int8 value in all four lanes. */
TG_INLINE uint32_t tg_v_dup8(int32_t x) { return ((uint32_t)x & 0xFFu) * 0x01010101u; }

#ifdef __cplusplus
}
#endif

#endif /* TG_SIMD_H */
