/* Firmware main for Arduino-core boards: the protocol server on the board's Serial (USB CDC on the
 * Nano 33 BLE), and readable lines for the Serial Monitor (tg_talk.h) whenever no tool is using the
 * link. The baud rate only matters for boards whose Serial is a real UART. */
#include <Arduino.h>

#include "tg_link.h"
#include "tg_talk.h"

extern "C" void tg_link_write(const void *data, size_t len) { Serial.write(static_cast<const uint8_t *>(data), len); }
extern "C" uint32_t tg_clock_ms(void) { return millis(); }
extern "C" uint32_t tg_clock_us(void) { return micros(); }

void setup()
{
    Serial.begin(115200);
    tg_link_server_init();
}

void loop()
{
    if (Serial.available() > 0) {
        tg_link_feed(static_cast<uint8_t>(Serial.read()));
    } else {
        tg_talk_poll();
    }
}
