/* tinygen bare-metal HAL: the few services the firmware main needs on an emulated board.
 * Board facts (addresses, clocks) come from the generated tg_board.h; which UART driver and
 * which counter get compiled is chosen by tinygen from the board profile. */
#ifndef TG_HAL_H
#define TG_HAL_H

#include <stddef.h>
#include <stdint.h>

#include "tg_board.h"

#ifdef __cplusplus
extern "C" {
#endif

/* UART0 of the board (CMSDK APB UART or Stellaris UART). */
void tg_uart_init(void);
void tg_uart_write(const void *data, size_t len);
uint8_t tg_uart_read_byte(void); /* blocks until a byte arrives */
int tg_uart_poll_byte(void);     /* a byte 0..255, or -1 when none is waiting */

/* Elapsed-time counter: SysTick ticks (instruction-exact under QEMU -icount) or DWT cycles.
 * read() gives the ticks since start() and leaves it running; stop() gives them and stops it. */
void tg_counter_start(void);
uint64_t tg_counter_read(void);
uint64_t tg_counter_stop(void);

/* Ends the program: prints "tinygen-exit: <code>" on UART0, then resets (QEMU -no-reboot exits). */
void tg_exit(int code) __attribute__((noreturn));

/* Exit code when the CPU takes a fault or an unexpected interrupt. */
#define TG_EXIT_FAULT 254

#ifdef __cplusplus
}
#endif

#endif
