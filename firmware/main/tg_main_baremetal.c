/* Firmware main for the bare-metal (QEMU) boards: the protocol server on UART0, and readable lines
 * (tg_talk.h) whenever no tool is using the link. */
#include "tg_hal.h"
#include "tg_link.h"
#include "tg_talk.h"

void tg_link_write(const void *data, size_t len) { tg_uart_write(data, len); }

/* A clock from the elapsed-time counter, started at boot. Profiling an invoke restarts the counter for
 * each layer and stops it after the last: the clock carries on from where it was (it only paces the
 * readable lines) and starts the counter again. */
static uint64_t clock_ticks(void)
{
    static uint64_t base, last;
    const uint64_t now = tg_counter_read();
    if (now == last) { /* stopped: a polling loop never reads the same tick twice */
        base += now;
        last = 0;
        tg_counter_start();
        return base;
    }
    if (now < last) { /* restarted: what was counted before stays counted */
        base += last;
    }
    last = now;
    return base + now;
}

/* TG_COUNTER_HZ, not TG_CLOCK_HZ: SysTick need not tick at the core's clock (lm3s6965evb: a quarter). */
uint32_t tg_clock_ms(void) { return (uint32_t)(clock_ticks() / (TG_COUNTER_HZ / 1000u)); }
uint32_t tg_clock_us(void) { return (uint32_t)(clock_ticks() * 1000000u / TG_COUNTER_HZ); }

int main(void)
{
    tg_uart_init();
    tg_link_server_init();
    tg_counter_start();
    for (;;) {
        const int byte = tg_uart_poll_byte();
        if (byte >= 0) {
            tg_link_feed((uint8_t)byte);
        } else {
            tg_talk_poll();
        }
    }
}
