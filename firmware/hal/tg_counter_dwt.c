/* DWT cycle counter (Cortex-M3/M4/M7/M33 silicon; reads 0 under QEMU). 32 bits: wraps after
 * 2^32 cycles (about 9 s at 480 MHz). */
#include "tg_hal.h"

#define DEMCR          (*(volatile uint32_t *)0xE000EDFCu)
#define DWT_CTRL       (*(volatile uint32_t *)0xE0001000u)
#define DWT_CYCCNT     (*(volatile uint32_t *)0xE0001004u)
#define DWT_LAR        (*(volatile uint32_t *)0xE0001FB0u)
#define DEMCR_TRCENA   (1u << 24)
#define CTRL_CYCCNTENA 1u

static uint32_t started;

void tg_counter_start(void)
{
    DEMCR |= DEMCR_TRCENA;
#if TG_DWT_LOCKED
    DWT_LAR = 0xC5ACCE55u; /* the Cortex-M7 DWT starts locked */
#endif
    DWT_CTRL |= CTRL_CYCCNTENA;
    started = DWT_CYCCNT;
}

uint64_t tg_counter_read(void) { return (uint32_t)(DWT_CYCCNT - started); }

uint64_t tg_counter_stop(void) { return tg_counter_read(); }
