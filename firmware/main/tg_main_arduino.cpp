/* Firmware main for Arduino-core boards: the protocol server on the board's Serial (USB CDC on
 * the Nano 33 BLE). The baud rate only matters for boards whose Serial is a real UART. */
#include <Arduino.h>

#include "tg_link.h"

extern "C" void tg_link_write(const void *data, size_t len) { Serial.write(static_cast<const uint8_t *>(data), len); }

void setup()
{
    Serial.begin(115200);
    tg_link_server_init();
}

void loop()
{
    while (Serial.available() > 0) {
        tg_link_feed(static_cast<uint8_t>(Serial.read()));
    }
}
