/* The board talks back (see tg_talk.h): a banner and result lines, built without printf (no float
 * formatting pulled into the firmware) and sent with the link's own writer. */
#include "tg_talk.h"

#include <string.h>

#include "model.h"
#include "tg_board.h"
#include "tg_demo.h"
#include "tg_link.h"

#define LINE_BYTES 240u

typedef struct {
    char text[LINE_BYTES];
    uint32_t used;
} line_t;

static line_t talk_line; /* static, not on the stack: the model's invoke runs below tg_talk_invoke's frame */
static int talking;      /* 0 until the banner is out, and again while a tool uses the link */
static uint32_t next_result_ms;

static void put(line_t *line, const char *text)
{
    while (*text && line->used < LINE_BYTES - 1u) {
        line->text[line->used++] = *text++;
    }
}

static void put_u32(line_t *line, uint32_t value)
{
    uint32_t digits = 1u;
    for (uint32_t rest = value / 10u; rest; rest /= 10u) {
        ++digits;
    }
    if (line->used + digits >= LINE_BYTES) {
        return;
    }
    line->used += digits; /* written from the last digit back, with no buffer on the stack */
    for (uint32_t i = 1u; i <= digits; ++i, value /= 10u) {
        line->text[line->used - i] = (char)('0' + value % 10u);
    }
}

static void put_i32(line_t *line, int32_t value)
{
    if (value < 0) {
        put(line, "-");
    }
    put_u32(line, value < 0 ? 0u - (uint32_t)value : (uint32_t)value);
}

/* A real number with `decimals` (at most 4) digits after the point, rounded; magnitudes beyond 10^9
 * are clipped. 32-bit arithmetic only: no 64-bit or double helpers pulled into the firmware. */
static void put_fixed(line_t *line, float value, uint32_t decimals)
{
    static const uint32_t scales[] = {1u, 10u, 100u, 1000u, 10000u};
    const uint32_t scale = scales[decimals];
    if (value != value) {
        put(line, "nan");
        return;
    }
    float magnitude = value < 0.0f ? -value : value;
    magnitude = magnitude > 1e9f ? 1e9f : magnitude;
    uint32_t whole = (uint32_t)magnitude;
    uint32_t fraction = (uint32_t)((magnitude - (float)whole) * (float)scale + 0.5f);
    if (fraction >= scale) { /* rounded up to the next whole number */
        whole += 1u;
        fraction -= scale;
    }
    if (value < 0.0f && (whole || fraction)) {
        put(line, "-");
    }
    put_u32(line, whole);
    if (decimals) {
        put(line, ".");
        for (uint32_t digit = scale / 10u; digit; digit /= 10u) {
            put_u32(line, (fraction / digit) % 10u);
        }
    }
}

static void send(line_t *line)
{
    put(line, "\n");
    tg_link_write(line->text, line->used);
}

static const char *dtype_name(tg_dtype dtype)
{
    static const char *const names[] = {"int8", "int32", "float32", "uint8", "int16",
                                        "bool", "int64", "uint32",  "uint64"};
    return (unsigned)dtype < sizeof names / sizeof names[0] ? names[dtype] : "?";
}

static void put_tensor(line_t *line, const tg_tensor_info *t)
{
    put(line, dtype_name(t->dtype));
    put(line, " [");
    for (int d = 0; d < t->rank; ++d) {
        put(line, d ? ", " : "");
        put_i32(line, t->dims[d]);
    }
    put(line, "]");
}

static uint32_t element_bytes(tg_dtype dtype)
{
    switch (dtype) {
    case TG_INT32:
    case TG_UINT32:
    case TG_FLOAT32:
        return 4u;
    case TG_INT16:
        return 2u;
    case TG_INT64:
    case TG_UINT64:
        return 8u;
    default:
        return 1u;
    }
}

/* Element i as a real number: the raw integer, or the float itself. */
static float raw(const tg_tensor_info *t, uint32_t i)
{
    const uint8_t *p = (const uint8_t *)t->data + i * element_bytes(t->dtype);
    switch (t->dtype) {
    case TG_INT8:
        return (float)*(const int8_t *)p;
    case TG_UINT8:
    case TG_BOOL:
        return (float)*p;
    case TG_INT16: {
        int16_t v;
        memcpy(&v, p, sizeof v);
        return (float)v;
    }
    case TG_INT32: {
        int32_t v;
        memcpy(&v, p, sizeof v);
        return (float)v;
    }
    case TG_UINT32: {
        uint32_t v;
        memcpy(&v, p, sizeof v);
        return (float)v;
    }
    case TG_INT64: {
        int64_t v; /* clipped to 32 bits: no 64-bit float conversion in the firmware for a statistic */
        memcpy(&v, p, sizeof v);
        return (float)(v > INT32_MAX ? INT32_MAX : (v < INT32_MIN ? INT32_MIN : (int32_t)v));
    }
    case TG_UINT64: {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        return (float)(v > UINT32_MAX ? UINT32_MAX : (uint32_t)v);
    }
    case TG_FLOAT32: {
        float v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    }
    return 0.0f;
}

/* Whether a raw value sits at its integer type's lowest (-1) or highest (1) value (0: neither): where
 * a real input beyond the range the model was calibrated for ends up, and also the ends of that range. */
static int saturated(tg_dtype dtype, float v)
{
    switch (dtype) {
    case TG_INT8:
        return v <= -128.0f ? -1 : v >= 127.0f;
    case TG_UINT8:
        return v <= 0.0f ? -1 : v >= 255.0f;
    case TG_INT16:
        return v <= -32768.0f ? -1 : v >= 32767.0f;
    default:
        return 0;
    }
}

/* The real value 0 in every element: the zero point of an integer input, 0 otherwise. */
static void fill_zero(const tg_tensor_info *t)
{
    memset(t->data, 0, t->bytes);
    const uint32_t count = t->bytes / element_bytes(t->dtype);
    for (uint32_t i = 0; i < count; ++i) {
        if (t->dtype == TG_INT8) {
            ((int8_t *)t->data)[i] = (int8_t)t->zero_point;
        } else if (t->dtype == TG_UINT8) {
            ((uint8_t *)t->data)[i] = (uint8_t)t->zero_point;
        } else if (t->dtype == TG_INT16) {
            const int16_t zero = (int16_t)t->zero_point;
            memcpy((uint8_t *)t->data + 2u * i, &zero, sizeof zero);
        }
    }
}

typedef struct {
    float min, max, sum;
    uint32_t saturated, low, count; /* low: those of saturated at the type's lowest value */
} stats_t;

static stats_t input_stats(const tg_tensor_info *t)
{
    stats_t s = {0.0f, 0.0f, 0.0f, 0u, 0u, t->bytes / element_bytes(t->dtype)};
    for (uint32_t i = 0; i < s.count; ++i) {
        const float v = raw(t, i);
        s.min = (i == 0 || v < s.min) ? v : s.min;
        s.max = (i == 0 || v > s.max) ? v : s.max;
        s.sum += v;
        const int limit = saturated(t->dtype, v);
        s.saturated += (uint32_t)(limit != 0);
        s.low += (uint32_t)(limit < 0);
    }
    return s;
}

static void banner(void)
{
    talk_line.used = 0u;
    put(&talk_line, "tinygen: " TG_BOARD_ID " runs ");
    put(&talk_line, tg_demo_model_name);
    put(&talk_line, " (");
    char hash[9];
    memcpy(hash, TG_MODEL_HASH, 8);
    hash[8] = '\0';
    put(&talk_line, hash);
    put(&talk_line, "): input ");
    put_tensor(&talk_line, &tg_model_inputs[0]);
    put(&talk_line, ", output ");
    put_tensor(&talk_line, &tg_model_outputs[0]);
    put(&talk_line, ", arena ");
    put_u32(&talk_line, TG_MODEL_ARENA_BYTES);
    put(&talk_line, " bytes; a result a second until a tinygen tool takes the link");
    send(&talk_line);
}

void tg_talk_invoke(int demo_input)
{
    for (int i = 0; demo_input && i < TG_MODEL_NUM_INPUTS; ++i) {
        if (tg_demo_inputs[i]) {
            memcpy(tg_model_inputs[i].data, tg_demo_inputs[i], tg_model_inputs[i].bytes);
        } else {
            fill_zero(&tg_model_inputs[i]);
        }
    }
    const stats_t in = input_stats(&tg_model_inputs[0]); /* before: in-place layers overwrite inputs */
    const uint32_t started = tg_clock_us();
    tg_model_invoke();
    const uint32_t elapsed = tg_clock_us() - started;
    tg_link_forget_io(); /* the arena changed under the link: a tool must write its inputs again */

    const tg_tensor_info *out = &tg_model_outputs[0];
    const uint32_t values = out->bytes / element_bytes(out->dtype);
    uint32_t top = 0;
    for (uint32_t i = 1; i < values; ++i) {
        top = raw(out, i) > raw(out, top) ? i : top;
    }
    const float score =
        out->dtype == TG_FLOAT32 ? raw(out, top) : out->scale * (raw(out, top) - (float)out->zero_point);

    talk_line.used = 0u;
    put(&talk_line, "result top=");
    put_u32(&talk_line, top);
    put(&talk_line, " score=");
    put_fixed(&talk_line, score, 4);
    put(&talk_line, " us=");
    put_u32(&talk_line, elapsed);
    put(&talk_line, " in_min=");
    put_fixed(&talk_line, in.min, 0);
    put(&talk_line, " in_max=");
    put_fixed(&talk_line, in.max, 0);
    put(&talk_line, " in_mean=");
    put_fixed(&talk_line, in.count ? in.sum / (float)in.count : 0.0f, 2);
    put(&talk_line, " in_sat=");
    put_u32(&talk_line, in.saturated);
    put(&talk_line, "/");
    put_u32(&talk_line, in.count);
    put(&talk_line, " in_low=");
    put_u32(&talk_line, in.low);
    if (top < tg_demo_num_labels) {
        put(&talk_line, " label=");
        put(&talk_line, tg_demo_labels[top]);
    }
    send(&talk_line);
}

void tg_talk_poll(void)
{
    if (tg_link_in_use()) {
        talking = 0;
        return;
    }
    const uint32_t now = tg_clock_ms();
    if (!talking) {
        talking = 1;
        banner();
        next_result_ms = now;
    }
    if ((int32_t)(now - next_result_ms) >= 0) {
        next_result_ms = now + TG_TALK_PERIOD_MS;
        tg_talk_invoke(1);
    }
}
