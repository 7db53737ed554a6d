/* Firmware main for the bare-metal (QEMU) boards: the protocol server on UART0, forever. */
#include "tg_hal.h"
#include "tg_link.h"

void tg_link_write(const void *data, size_t len) { tg_uart_write(data, len); }

int main(void)
{
    tg_uart_init();
    tg_link_server_init();
    for (;;) {
        tg_link_feed(tg_uart_read_byte());
    }
}
