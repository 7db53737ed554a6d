/*
 * tinygen serial link: framing (docs/protocol.md) and the protocol server every firmware runs.
 *
 * A frame is  'T' 'G' | version u8 | type u8 | seq u8 | length u16 LE | payload | CRC-32 LE
 * with the CRC (zlib's CRC-32) over version..payload. The firmware main feeds received bytes
 * to tg_link_feed() and provides tg_link_write() to send; nothing else is board specific.
 */
#ifndef TG_LINK_H
#define TG_LINK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TG_LINK_VERSION      1u
#define TG_LINK_MAGIC0       0x54u /* 'T' */
#define TG_LINK_MAGIC1       0x47u /* 'G' */
#define TG_LINK_HEADER_BYTES 7u
#define TG_LINK_CRC_BYTES    4u
#define TG_LINK_MAX_PAYLOAD  256u

/* Request types; a reply has the request's type | TG_LINK_REPLY, an error reply TG_LINK_ERROR. */
enum {
    TG_MSG_ECHO = 0x01,
    TG_MSG_INFO = 0x02,
    TG_MSG_WRITE_INPUT = 0x03,
    TG_MSG_INVOKE = 0x04,
    TG_MSG_READ_OUTPUT = 0x05,
    TG_MSG_READ_PROFILE = 0x06,
    TG_MSG_RESET = 0x07, /* tg_model_reset_state(): the state kept between invokes, as at start */
    TG_MSG_TALK = 0x08,  /* the tool is done: the firmware may print readable lines again (tg_talk.h) */
};
#define TG_LINK_REPLY 0x80u
#define TG_LINK_ERROR 0xFFu

/* Error codes, the first payload byte of an error reply (the second is the request type). */
enum {
    TG_ERR_VERSION = 1,    /* the request's protocol version is not TG_LINK_VERSION */
    TG_ERR_TYPE = 2,       /* unknown request type */
    TG_ERR_LENGTH = 3,     /* payload length wrong for the type */
    TG_ERR_INDEX = 4,      /* no such input or output */
    TG_ERR_OFFSET = 5,     /* a write past the tensor, or not contiguous with what was written */
    TG_ERR_INCOMPLETE = 6, /* invoke before every input byte was written */
    TG_ERR_NO_OUTPUT = 7,  /* read before an invoke (or after new input) */
};

uint32_t tg_link_crc32(uint32_t crc, const uint8_t *data, size_t len);

/*
 * Receives frames byte by byte. Damaged bytes are skipped one at a time, so the decoder finds the
 * next frame start even inside what a damaged header claimed as its length.
 */
typedef struct {
    uint8_t buf[TG_LINK_HEADER_BYTES + TG_LINK_MAX_PAYLOAD + TG_LINK_CRC_BYTES];
    size_t have;  /* bytes in buf */
    size_t frame; /* length of the valid frame at buf[0] last returned, 0 when none */
} tg_link_decoder;

/* Returns 1 when `byte` completes a valid frame (then read it with the accessors below). */
int tg_link_decode(tg_link_decoder *d, uint8_t byte);
/* Returns 1 when bytes already received hold another valid frame (after resynchronising). */
int tg_link_decode_next(tg_link_decoder *d);
static inline uint8_t tg_link_frame_version(const tg_link_decoder *d) { return d->buf[2]; }
static inline uint8_t tg_link_frame_type(const tg_link_decoder *d) { return d->buf[3]; }
static inline uint8_t tg_link_frame_seq(const tg_link_decoder *d) { return d->buf[4]; }
static inline const uint8_t *tg_link_frame_payload(const tg_link_decoder *d) { return d->buf + TG_LINK_HEADER_BYTES; }
static inline size_t tg_link_frame_length(const tg_link_decoder *d)
{
    return d->frame - TG_LINK_HEADER_BYTES - TG_LINK_CRC_BYTES;
}

/* Sends one frame: header, then the payload in parts (so large data is not copied), then CRC. */
void tg_link_send(uint8_t type, uint8_t seq, const void *head, size_t head_len, const void *body, size_t body_len);

/* Provided by the firmware main: write bytes to the serial port. */
void tg_link_write(const void *data, size_t len);

/* The protocol server (tg_link_server.c). */
void tg_link_server_init(void);
void tg_link_feed(uint8_t byte);
/* 1 from a tool's first frame until its TALK request: nothing but frames may go out meanwhile. */
int tg_link_in_use(void);
/* Forgets the inputs written and the outputs computed (the firmware ran the model on its own). */
void tg_link_forget_io(void);

#ifdef __cplusplus
}
#endif

#endif
