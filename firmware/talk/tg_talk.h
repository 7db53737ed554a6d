/*
 * The board talks back: readable lines on the serial port for a person at a Serial Monitor, while
 * the port still answers tinygen's binary link (firmware/link/). At power-up, and whenever a
 * tinygen tool hands the port back (the link's TALK request), the firmware prints a banner and
 * then one result line a second, running the model on the input bundled at build time
 * (tinygen build --demo-input, zeros by default). The first binary frame silences it.
 *
 *   tinygen: mps2-an386 runs digits_int8 (4f2a91c0): input int8 [1, 8, 8, 1], output int8 [1, 10], ...
 *   result top=7 score=0.9961 us=1234 in_min=-128 in_max=127 in_mean=-87.21 in_sat=12/64 in_low=5 label=seven
 *
 * in_* describe input 0 as the model received it (raw values; in_sat counts values at the type's
 * limits, where a real input beyond the calibrated range is clipped, in_low those at its lowest);
 * score is output 0's real value at its top index.
 * `tinygen monitor` reads these lines. A sketch that fills the inputs from a sensor calls
 * tg_talk_invoke(0) to run and report the same way.
 */
#ifndef TG_TALK_H
#define TG_TALK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TG_TALK_PERIOD_MS 1000u

/* Provided by the firmware main: a millisecond and a microsecond clock (they may wrap). */
uint32_t tg_clock_ms(void);
uint32_t tg_clock_us(void);

/* Call whenever no received byte is waiting: prints the banner and the demo's results when due. */
void tg_talk_poll(void);

/* Runs the model once, on the bundled demo input (demo_input = 1) or on the inputs already in
 * place, and prints a result line. */
void tg_talk_invoke(int demo_input);

#ifdef __cplusplus
}
#endif

#endif
