/* Semihosting exit: QEMU (-semihosting-config enable=on) ends with the given exit code. */
#include "tg_hal.h"

#define SYS_EXIT_EXTENDED            0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

void tg_exit(int code)
{
    /* Plain SYS_EXIT can only report 0 or 1 on AArch32; the extended call carries the code. */
    volatile uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    register uint32_t r0 __asm__("r0") = SYS_EXIT_EXTENDED;
    register volatile uint32_t *r1 __asm__("r1") = block;
    __asm__ volatile("bkpt 0xAB" : : "r"(r0), "r"(r1) : "memory");
    for (;;) {
    }
}
