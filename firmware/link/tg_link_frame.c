/* Framing for the tinygen serial link: CRC-32, the byte-wise decoder, the encoder. */
#include <string.h>

#include "tg_link.h"

uint32_t tg_link_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
    /* Bitwise CRC-32 (reflected, polynomial 0xEDB88320): slow but table-free, frames are short. */
    crc = ~crc;
    while (len--) {
        crc ^= *data++;
        for (int k = 0; k < 8; ++k) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

static uint32_t read_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void drop(tg_link_decoder *d, size_t n)
{
    memmove(d->buf, d->buf + n, d->have - n);
    d->have -= n;
}

/* The frame length a header at buf[p] claims, or 0 when it is not a possible header. */
static size_t claimed_total(const tg_link_decoder *d, size_t p)
{
    if (d->buf[p] != TG_LINK_MAGIC0 || d->buf[p + 1] != TG_LINK_MAGIC1) {
        return 0;
    }
    const size_t length = (size_t)d->buf[p + 5] | ((size_t)d->buf[p + 6] << 8);
    return length > TG_LINK_MAX_PAYLOAD ? 0 : TG_LINK_HEADER_BYTES + length + TG_LINK_CRC_BYTES;
}

static int crc_ok(const tg_link_decoder *d, size_t p, size_t total)
{
    const uint32_t crc = tg_link_crc32(0, d->buf + p + 2, total - 2 - TG_LINK_CRC_BYTES);
    return crc == read_u32(d->buf + p + total - TG_LINK_CRC_BYTES);
}

/*
 * Looks for a valid frame at the start of the buffer, dropping what cannot start one. A header
 * with an impossible length or a frame with a bad CRC loses only its first byte, so the search
 * goes on inside what a damaged header claimed. And while the first header still waits for the
 * bytes it claims, a later frame start whose frame is complete and valid wins: a damaged length
 * cannot hold back a good request that follows it.
 */
static int scan(tg_link_decoder *d)
{
    for (;;) {
        size_t skip = 0;
        while (skip < d->have &&
               !(d->buf[skip] == TG_LINK_MAGIC0 && (skip + 1 == d->have || d->buf[skip + 1] == TG_LINK_MAGIC1))) {
            ++skip;
        }
        drop(d, skip);
        if (d->have < TG_LINK_HEADER_BYTES) {
            return 0;
        }
        const size_t total = claimed_total(d, 0);
        if (total == 0 || (d->have >= total && !crc_ok(d, 0, total))) {
            drop(d, 1);
            continue;
        }
        if (d->have >= total) {
            d->frame = total;
            return 1;
        }
        for (size_t p = 1; p + TG_LINK_HEADER_BYTES <= d->have; ++p) {
            const size_t later = claimed_total(d, p);
            if (later != 0 && d->have - p == later && crc_ok(d, p, later)) {
                drop(d, p);
                d->frame = later;
                return 1;
            }
        }
        return 0;
    }
}

int tg_link_decode(tg_link_decoder *d, uint8_t byte)
{
    if (d->frame) { /* the frame returned last time has been handled */
        drop(d, d->frame);
        d->frame = 0;
    }
    /* The buffer never holds a whole frame without scan() having taken or dropped it: room is left. */
    d->buf[d->have++] = byte;
    return scan(d);
}

int tg_link_decode_next(tg_link_decoder *d)
{
    if (d->frame) {
        drop(d, d->frame);
        d->frame = 0;
    }
    return scan(d);
}

void tg_link_send(uint8_t type, uint8_t seq, const void *head, size_t head_len, const void *body, size_t body_len)
{
    const size_t length = head_len + body_len;
    const uint8_t header[TG_LINK_HEADER_BYTES] = {
        TG_LINK_MAGIC0, TG_LINK_MAGIC1, TG_LINK_VERSION, type, seq, (uint8_t)length, (uint8_t)(length >> 8),
    };
    uint32_t crc = tg_link_crc32(0, header + 2, TG_LINK_HEADER_BYTES - 2);
    crc = tg_link_crc32(crc, head, head_len);
    crc = tg_link_crc32(crc, body, body_len);
    const uint8_t trailer[TG_LINK_CRC_BYTES] = {(uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16),
                                                (uint8_t)(crc >> 24)};
    tg_link_write(header, sizeof header);
    tg_link_write(head, head_len);
    tg_link_write(body, body_len);
    tg_link_write(trailer, sizeof trailer);
}
