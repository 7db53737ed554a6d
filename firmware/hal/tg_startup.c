/* Reset and vector table for the bare-metal boards: set up C memory, then exit(main()). */
#include "tg_hal.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack; /* from the linker script */
extern int main(void);
extern void __libc_init_array(void);

void tg_reset_handler(void) __attribute__((noreturn));
void tg_fault_handler(void);
void SysTick_Handler(void) __attribute__((weak, alias("tg_fault_handler")));

/* The 16 system exceptions; the firmware enables no device interrupts. */
__attribute__((section(".isr_vector"), used)) static void (*const vector_table[16])(void) = {
    (void (*)(void)) & _estack,
    tg_reset_handler,
    tg_fault_handler, /* NMI */
    tg_fault_handler, /* HardFault */
    tg_fault_handler, /* MemManage */
    tg_fault_handler, /* BusFault */
    tg_fault_handler, /* UsageFault */
    tg_fault_handler, /* SecureFault (v8-M) */
    0,
    0,
    0,
    tg_fault_handler, /* SVCall */
    tg_fault_handler, /* DebugMonitor */
    0,
    tg_fault_handler, /* PendSV */
    SysTick_Handler,
};

/* newlib's __libc_init_array calls these; -nostartfiles drops the crt versions. */
void _init(void) {}
void _fini(void) {}

void tg_fault_handler(void) { tg_exit(TG_EXIT_FAULT); }

void tg_reset_handler(void)
{
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;)
        *dst++ = *src++;
    for (uint32_t *dst = &_sbss; dst < &_ebss;)
        *dst++ = 0;
#if defined(__ARM_FP)
    /* CPACR: full access to CP10/CP11 before the first floating-point instruction. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    __libc_init_array();
    tg_exit(main());
}
