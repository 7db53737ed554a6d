/*
 * Program exit without semihosting: the exit code goes out on UART0 as a last line
 * "tinygen-exit: <code>", then the core requests a system reset, which QEMU (started with
 * -no-reboot) turns into its own exit. Semihosting stays off: with it, firmware could ask the
 * emulator to open host files or run host commands.
 */
#include "tg_hal.h"

#define SCB_AIRCR         (*(volatile uint32_t *)0xE000ED0Cu)
#define AIRCR_VECTKEY     (0x05FAu << 16)
#define AIRCR_SYSRESETREQ (1u << 2)
#define TG_EXIT_LINE_MAX  32

void tg_exit(int code)
{
    char line[TG_EXIT_LINE_MAX] = "\ntinygen-exit: ";
    size_t len = 15;
    char digits[12];
    size_t n = 0;
    unsigned value = code < 0 ? 0u - (unsigned)code : (unsigned)code;
    do {
        digits[n++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u);
    if (code < 0) line[len++] = '-';
    while (n > 0)
        line[len++] = digits[--n];
    line[len++] = '\n';
    tg_uart_init(); /* a fault can come before main initialised the UART */
    tg_uart_write(line, len);
    __asm__ volatile("dsb" ::: "memory");
    SCB_AIRCR = AIRCR_VECTKEY | AIRCR_SYSRESETREQ;
    __asm__ volatile("dsb" ::: "memory");
    for (;;) {
    }
}
