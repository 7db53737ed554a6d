/* Arm CMSDK APB UART (MPS2 boards). */
#include "tg_hal.h"

typedef struct {
    volatile uint32_t data;
    volatile uint32_t state; /* bit 0: TX full, bit 1: RX full */
    volatile uint32_t ctrl;  /* bit 0: TX enable, bit 1: RX enable */
    volatile uint32_t intstatus;
    volatile uint32_t bauddiv;
} cmsdk_uart_t;

#define UART          ((cmsdk_uart_t *)TG_UART_BASE)
#define STATE_TX_FULL 1u
#define STATE_RX_FULL 2u

void tg_uart_init(void)
{
    UART->bauddiv = TG_CLOCK_HZ / TG_UART_BAUD;
    UART->ctrl = 3u;
}

void tg_uart_write(const void *data, size_t len)
{
    const uint8_t *bytes = data;
    for (size_t i = 0; i < len; i++) {
        while (UART->state & STATE_TX_FULL) {
        }
        UART->data = bytes[i];
    }
}

int tg_uart_poll_byte(void) { return (UART->state & STATE_RX_FULL) ? (int)(UART->data & 0xFFu) : -1; }

uint8_t tg_uart_read_byte(void)
{
    int byte;
    while ((byte = tg_uart_poll_byte()) < 0) {
    }
    return (uint8_t)byte;
}
