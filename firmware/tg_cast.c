#include "tg_cast.h"

/* The low 8 bits of x as a signed value (tg_wrap_s16 in tg_common.h for 16). */
static inline int8_t tg_wrap_s8(int32_t x)
{
    const int32_t low = (int32_t)((uint32_t)x & 0xFFu);
    return (int8_t)(low < 128 ? low : low - 256);
}

/* x truncated toward zero and saturated to [lo, hi]; NaN gives 0. Converting an out-of-range
 * float is undefined in C, so the bounds are tested first (lo and hi are exact floats, or round
 * up to 2^31 for INT32_MAX, where the test x >= 2^31 is the one wanted). */
static inline int32_t tg_float_to_int(float x, int32_t lo, int32_t hi)
{
    if (x != x) {
        return 0;
    }
    if (x <= (float)lo) {
        return lo;
    }
    if (x >= (float)hi) {
        return hi;
    }
    return (int32_t)x;
}

static inline int8_t tg_float_to_s8(float x) { return (int8_t)tg_float_to_int(x, INT8_MIN, INT8_MAX); }
static inline int16_t tg_float_to_s16(float x) { return (int16_t)tg_float_to_int(x, INT16_MIN, INT16_MAX); }
static inline int32_t tg_float_to_s32(float x) { return tg_float_to_int(x, INT32_MIN, INT32_MAX); }

/* One loop per (input, output) pair; `convert` is applied to each element. */
#define TG_DEFINE_CAST(name, in_t, out_t, convert)                                                                     \
    void name(const tg_cast_params *p, const in_t *input, out_t *output)                                               \
    {                                                                                                                  \
        for (int32_t i = 0; i < p->size; ++i) {                                                                        \
            output[i] = convert(input[i]);                                                                             \
        }                                                                                                              \
    }

#define TG_WIDEN_S16(x) ((int16_t)(x))
#define TG_WIDEN_S32(x) ((int32_t)(x))
#define TG_TO_F32(x)    ((float)(x))
#define TG_NONZERO(x)   ((uint8_t)((x) != 0))
#define TG_WRAP_S8(x)   tg_wrap_s8((int32_t)(x))
#define TG_WRAP_S16(x)  tg_wrap_s16((int32_t)(x))
#define TG_WIDEN_U32(x) ((uint32_t)(int32_t)(x)) /* sign-extended, modulo 2^32 */
#define TG_LOW_S8(x)    tg_wrap_s8((int32_t)((x)&0xFFu))
#define TG_LOW_S16(x)   tg_wrap_s16((int32_t)((x)&0xFFFFu))

TG_DEFINE_CAST(tg_cast_s8_s16, int8_t, int16_t, TG_WIDEN_S16)
TG_DEFINE_CAST(tg_cast_s8_s32, int8_t, int32_t, TG_WIDEN_S32)
TG_DEFINE_CAST(tg_cast_s8_f32, int8_t, float, TG_TO_F32)
TG_DEFINE_CAST(tg_cast_s8_b, int8_t, uint8_t, TG_NONZERO)

TG_DEFINE_CAST(tg_cast_s16_s8, int16_t, int8_t, TG_WRAP_S8)
TG_DEFINE_CAST(tg_cast_s16_s32, int16_t, int32_t, TG_WIDEN_S32)
TG_DEFINE_CAST(tg_cast_s16_f32, int16_t, float, TG_TO_F32)
TG_DEFINE_CAST(tg_cast_s16_b, int16_t, uint8_t, TG_NONZERO)

TG_DEFINE_CAST(tg_cast_s32_s8, int32_t, int8_t, TG_WRAP_S8)
TG_DEFINE_CAST(tg_cast_s32_s16, int32_t, int16_t, TG_WRAP_S16)
TG_DEFINE_CAST(tg_cast_s32_f32, int32_t, float, TG_TO_F32) /* rounds to nearest, ties to even */
TG_DEFINE_CAST(tg_cast_s32_b, int32_t, uint8_t, TG_NONZERO)

TG_DEFINE_CAST(tg_cast_s8_u32, int8_t, uint32_t, TG_WIDEN_U32)
TG_DEFINE_CAST(tg_cast_s16_u32, int16_t, uint32_t, TG_WIDEN_U32)
TG_DEFINE_CAST(tg_cast_b_u32, uint8_t, uint32_t, TG_WIDEN_U32)
TG_DEFINE_CAST(tg_cast_u32_s8, uint32_t, int8_t, TG_LOW_S8)
TG_DEFINE_CAST(tg_cast_u32_s16, uint32_t, int16_t, TG_LOW_S16)
TG_DEFINE_CAST(tg_cast_u32_f32, uint32_t, float, TG_TO_F32)
TG_DEFINE_CAST(tg_cast_u32_b, uint32_t, uint8_t, TG_NONZERO)

TG_DEFINE_CAST(tg_cast_f32_s8, float, int8_t, tg_float_to_s8)
TG_DEFINE_CAST(tg_cast_f32_s16, float, int16_t, tg_float_to_s16)
TG_DEFINE_CAST(tg_cast_f32_s32, float, int32_t, tg_float_to_s32)
TG_DEFINE_CAST(tg_cast_f32_b, float, uint8_t, TG_NONZERO) /* -0.0 is false, NaN true */

TG_DEFINE_CAST(tg_cast_b_s16, uint8_t, int16_t, TG_WIDEN_S16)
TG_DEFINE_CAST(tg_cast_b_s32, uint8_t, int32_t, TG_WIDEN_S32)
TG_DEFINE_CAST(tg_cast_b_f32, uint8_t, float, TG_TO_F32)
