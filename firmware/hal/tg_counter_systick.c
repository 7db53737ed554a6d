/* SysTick as a 64-bit tick counter. Under QEMU with -icount it advances exactly with executed
 * instructions (QEMU models no DWT); an interrupt per 2^24 ticks extends it past 24 bits. */
#include "tg_hal.h"

#define SYST_CSR                  (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR                  (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR                  (*(volatile uint32_t *)0xE000E018u)
#define SCB_ICSR                  (*(volatile uint32_t *)0xE000ED04u)
#define CSR_ENABLE_TICKINT_CPUCLK 7u
#define ICSR_PENDSTSET            (1u << 26)
#define ICSR_PENDSTCLR            (1u << 25)
#define RELOAD                    0x00FFFFFFu

static volatile uint32_t wraps;

void SysTick_Handler(void) { wraps++; }

void tg_counter_start(void)
{
    SYST_CSR = 0;
    SYST_RVR = RELOAD;
    SYST_CVR = 0;
    wraps = 0;
    SYST_CSR = CSR_ENABLE_TICKINT_CPUCLK;
}

/* Ticks since tg_counter_start(); interrupts must be off. */
static uint64_t elapsed(void)
{
    uint32_t now = SYST_CVR;
    uint64_t total = wraps;
    /* A wrap whose interrupt is still pending counts only if it came before `now` was read. */
    if ((SCB_ICSR & ICSR_PENDSTSET) && now > RELOAD / 2) total++;
    return total * (RELOAD + 1u) + (RELOAD - now);
}

uint64_t tg_counter_read(void)
{
    __asm__ volatile("cpsid i" ::: "memory");
    const uint64_t ticks = elapsed();
    __asm__ volatile("cpsie i" ::: "memory");
    return ticks;
}

uint64_t tg_counter_stop(void)
{
    /* Read the count while SysTick runs (QEMU returns a wrong value once it is disabled). */
    __asm__ volatile("cpsid i" ::: "memory");
    const uint64_t ticks = elapsed();
    SYST_CSR = 0;
    SCB_ICSR = ICSR_PENDSTCLR;
    __asm__ volatile("cpsie i" ::: "memory");
    return ticks;
}
