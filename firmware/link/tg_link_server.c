/*
 * The protocol server: answers the host's requests against the generated model (model.h).
 * Every request gets exactly one reply with its seq; see docs/protocol.md for the payloads.
 *
 * Inputs are written in chunks straight into the arena. A chunk must start inside what was
 * already written (so a retried chunk is harmless and a lost one is noticed), and invoke
 * refuses to run until every input byte is there: after a reset the host sees an error, never
 * outputs computed from half an input.
 */
#include <string.h>

#include "model.h"
#include "tg_board.h"
#include "tg_hal.h"
#include "tg_link.h"

#define TENSOR_INFO_BYTES (2u + 4u * TG_MAX_DIMS + 12u)
#define INFO_MAX_BYTES    (48u + 2u * 32u + (TG_MODEL_NUM_INPUTS + TG_MODEL_NUM_OUTPUTS) * TENSOR_INFO_BYTES)

static tg_link_decoder decoder;
static uint8_t info[INFO_MAX_BYTES];
static uint32_t info_bytes;
static uint32_t input_written[TG_MODEL_NUM_INPUTS];
static int outputs_valid;
static int in_use;
static uint64_t layer_counts[TG_MODEL_NUM_LAYERS];

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; ++i) {
        *p++ = (uint8_t)(v >> (8 * i));
    }
    return p;
}

static uint8_t *put_text(uint8_t *p, const char *text, size_t max)
{
    size_t n = strlen(text);
    n = n < max ? n : max;
    *p++ = (uint8_t)n;
    memcpy(p, text, n);
    return p + n;
}

static uint8_t *put_tensor(uint8_t *p, const tg_tensor_info *t)
{
    uint32_t scale_bits;
    memcpy(&scale_bits, &t->scale, sizeof scale_bits);
    *p++ = (uint8_t)t->dtype;
    *p++ = (uint8_t)t->rank;
    for (int d = 0; d < t->rank; ++d) {
        p = put_u32(p, (uint32_t)t->dims[d]);
    }
    p = put_u32(p, scale_bits);
    p = put_u32(p, (uint32_t)t->zero_point);
    return put_u32(p, t->bytes);
}

/* The info block, built once: read in chunks like any other data. */
static void build_info(void)
{
    uint8_t *p = info;
    *p++ = TG_LINK_VERSION;
    *p++ = TG_COUNTER_KIND;
    *p++ = (uint8_t)(TG_MODEL_NUM_LAYERS & 0xFFu);
    *p++ = (uint8_t)(TG_MODEL_NUM_LAYERS >> 8);
    p = put_u32(p, TG_MODEL_ARENA_BYTES);
    p = put_u32(p, TG_CLOCK_HZ);
    memcpy(p, TG_MODEL_HASH, 16);
    p += 16;
    p = put_text(p, TG_TINYGEN_VERSION, 31);
    p = put_text(p, TG_BOARD_ID, 31);
    *p++ = TG_MODEL_NUM_INPUTS;
    *p++ = TG_MODEL_NUM_OUTPUTS;
    for (int i = 0; i < TG_MODEL_NUM_INPUTS; ++i) {
        p = put_tensor(p, &tg_model_inputs[i]);
    }
    for (int i = 0; i < TG_MODEL_NUM_OUTPUTS; ++i) {
        p = put_tensor(p, &tg_model_outputs[i]);
    }
    info_bytes = (uint32_t)(p - info);
}

static void measure_layer(void *ctx, int layer, int end)
{
    (void)ctx;
    if (end) {
        layer_counts[layer] = tg_counter_stop();
    } else {
        tg_counter_start();
    }
}

static void reply_error(uint8_t type, uint8_t seq, uint8_t code)
{
    const uint8_t payload[2] = {code, type};
    tg_link_send(TG_LINK_ERROR, seq, payload, sizeof payload, NULL, 0);
}

/* Replies with a chunk of `data` from the offset in the request: u32 total size, then bytes. */
static void reply_chunk(uint8_t type, uint8_t seq, const void *data, uint32_t total, uint32_t offset)
{
    if (offset > total) {
        reply_error(type, seq, TG_ERR_OFFSET);
        return;
    }
    uint32_t n = total - offset;
    if (n > TG_LINK_MAX_PAYLOAD - 4u) {
        n = TG_LINK_MAX_PAYLOAD - 4u;
    }
    uint8_t head[4];
    put_u32(head, total);
    tg_link_send(type | TG_LINK_REPLY, seq, head, sizeof head, (const uint8_t *)data + offset, n);
}

static void write_input(uint8_t seq, const uint8_t *payload, size_t length)
{
    const uint8_t type = TG_MSG_WRITE_INPUT;
    if (length < 5) {
        reply_error(type, seq, TG_ERR_LENGTH);
        return;
    }
    const uint8_t index = payload[0];
    const uint32_t offset = get_u32(payload + 1);
    const uint32_t n = (uint32_t)(length - 5);
    if (index >= TG_MODEL_NUM_INPUTS) {
        reply_error(type, seq, TG_ERR_INDEX);
        return;
    }
    const tg_tensor_info *t = &tg_model_inputs[index];
    if (offset > input_written[index] || offset > t->bytes || n > t->bytes - offset) {
        reply_error(type, seq, TG_ERR_OFFSET);
        return;
    }
    memcpy((uint8_t *)t->data + offset, payload + 5, n);
    if (offset + n > input_written[index]) {
        input_written[index] = offset + n;
    }
    outputs_valid = 0; /* inputs and outputs may share arena bytes */
    tg_link_send(type | TG_LINK_REPLY, seq, NULL, 0, NULL, 0);
}

static void invoke(uint8_t seq)
{
    for (int i = 0; i < TG_MODEL_NUM_INPUTS; ++i) {
        if (input_written[i] != tg_model_inputs[i].bytes) {
            reply_error(TG_MSG_INVOKE, seq, TG_ERR_INCOMPLETE);
            return;
        }
    }
    memset(layer_counts, 0, sizeof layer_counts);
    tg_model_invoke_hooked(measure_layer, NULL);
    /* The model may overwrite its inputs (in-place layers): the next invoke needs new ones. */
    memset(input_written, 0, sizeof input_written);
    outputs_valid = 1;
    uint64_t total = 0;
    for (int i = 0; i < TG_MODEL_NUM_LAYERS; ++i) {
        total += layer_counts[i];
    }
    uint8_t payload[8];
    put_u32(put_u32(payload, (uint32_t)total), (uint32_t)(total >> 32));
    tg_link_send(TG_MSG_INVOKE | TG_LINK_REPLY, seq, payload, sizeof payload, NULL, 0);
}

static void handle(uint8_t type, uint8_t seq, const uint8_t *payload, size_t length)
{
    switch (type) {
    case TG_MSG_ECHO:
        tg_link_send(type | TG_LINK_REPLY, seq, payload, length, NULL, 0);
        return;
    case TG_MSG_INFO:
        if (length != 4) break;
        reply_chunk(type, seq, info, info_bytes, get_u32(payload));
        return;
    case TG_MSG_WRITE_INPUT:
        write_input(seq, payload, length);
        return;
    case TG_MSG_INVOKE:
        if (length != 0) break;
        invoke(seq);
        return;
    case TG_MSG_READ_OUTPUT:
        if (length != 5) break;
        if (payload[0] >= TG_MODEL_NUM_OUTPUTS) {
            reply_error(type, seq, TG_ERR_INDEX);
        } else if (!outputs_valid) {
            reply_error(type, seq, TG_ERR_NO_OUTPUT);
        } else {
            const tg_tensor_info *t = &tg_model_outputs[payload[0]];
            reply_chunk(type, seq, t->data, t->bytes, get_u32(payload + 1));
        }
        return;
    case TG_MSG_TALK:
        if (length != 0) break;
        tg_link_send(type | TG_LINK_REPLY, seq, NULL, 0, NULL, 0);
        in_use = 0;
        return;
    case TG_MSG_READ_PROFILE:
        if (length != 4) break;
        /* u64 counts per layer, little-endian like the Cortex-M itself. */
        reply_chunk(type, seq, layer_counts, sizeof layer_counts, get_u32(payload));
        return;
    case TG_MSG_RESET:
        if (length != 0) break;
        tg_model_reset_state();
        tg_link_send(type | TG_LINK_REPLY, seq, NULL, 0, NULL, 0);
        return;
    default:
        reply_error(type, seq, TG_ERR_TYPE);
        return;
    }
    reply_error(type, seq, TG_ERR_LENGTH);
}

void tg_link_server_init(void)
{
    tg_model_init();
    build_info();
}

int tg_link_in_use(void) { return in_use; }

void tg_link_forget_io(void)
{
    memset(input_written, 0, sizeof input_written);
    outputs_valid = 0;
}

static void serve_frame(void)
{
    const uint8_t type = tg_link_frame_type(&decoder), seq = tg_link_frame_seq(&decoder);
    in_use = 1; /* until a TALK request, handled below, says otherwise */
    if (tg_link_frame_version(&decoder) != TG_LINK_VERSION) {
        reply_error(type, seq, TG_ERR_VERSION);
        return;
    }
    handle(type, seq, tg_link_frame_payload(&decoder), tg_link_frame_length(&decoder));
}

void tg_link_feed(uint8_t byte)
{
    if (!tg_link_decode(&decoder, byte)) {
        return;
    }
    do {
        serve_frame();
    } while (tg_link_decode_next(&decoder));
}
