/* Stellaris (LM3S) UART, a PL011 derivative. */
#include "tg_hal.h"

#define REG(offset) (*(volatile uint32_t *)(TG_UART_BASE + (offset)))
#define UART_DR     REG(0x000)
#define UART_FR     REG(0x018) /* bit 4: RX FIFO empty, bit 5: TX FIFO full */
#define UART_IBRD   REG(0x024)
#define UART_FBRD   REG(0x028)
#define UART_LCRH   REG(0x02C) /* bits 5-6: word length, bit 4: FIFO enable */
#define UART_CTL    REG(0x030) /* bit 0: enable, bit 8: TX enable, bit 9: RX enable */
#define FR_RXFE     (1u << 4)
#define FR_TXFF     (1u << 5)

void tg_uart_init(void)
{
    UART_CTL = 0;
    UART_IBRD = TG_CLOCK_HZ / (16u * TG_UART_BAUD);
    UART_FBRD = 0;
    UART_LCRH = (3u << 5) | (1u << 4); /* 8 data bits, FIFOs on */
    UART_CTL = (1u << 0) | (1u << 8) | (1u << 9);
}

void tg_uart_write(const void *data, size_t len)
{
    const uint8_t *bytes = data;
    for (size_t i = 0; i < len; i++) {
        while (UART_FR & FR_TXFF) {
        }
        UART_DR = bytes[i];
    }
}

int tg_uart_poll_byte(void) { return (UART_FR & FR_RXFE) ? -1 : (int)(UART_DR & 0xFFu); }

uint8_t tg_uart_read_byte(void)
{
    int byte;
    while ((byte = tg_uart_poll_byte()) < 0) {
    }
    return (uint8_t)byte;
}
