/* Framing for the tinygen serial link: CRC-32, the byte-wise decoder, the encoder. */
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

int tg_link_decode(tg_link_decoder *d, uint8_t byte)
{
    static const uint8_t magic[2] = {TG_LINK_MAGIC0, TG_LINK_MAGIC1};
    if (d->complete) {
        d->have = 0;
        d->complete = 0;
    }
    if (d->have < 2 && byte != magic[d->have]) {
        /* Hunting for the magic: garbage is skipped, and a 'T' may start the next frame. */
        d->have = byte == TG_LINK_MAGIC0 ? 1 : 0;
        return 0;
    }
    d->frame[d->have++] = byte;
    if (d->have < TG_LINK_HEADER_BYTES) {
        return 0;
    }
    const size_t length = (size_t)d->frame[5] | ((size_t)d->frame[6] << 8);
    if (length > TG_LINK_MAX_PAYLOAD) {
        d->have = 0;
        return 0;
    }
    const size_t total = TG_LINK_HEADER_BYTES + length + TG_LINK_CRC_BYTES;
    if (d->have < total) {
        return 0;
    }
    const uint32_t crc = tg_link_crc32(0, d->frame + 2, TG_LINK_HEADER_BYTES - 2 + length);
    if (crc != read_u32(d->frame + total - TG_LINK_CRC_BYTES)) {
        d->have = 0;
        return 0;
    }
    d->complete = 1;
    return 1;
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
