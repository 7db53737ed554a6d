// The peer baseline's firmware: tflite-micro (with CMSIS-NN kernels) runs one model once on
// tinygen's bare-metal HAL, and reports over UART0 what benchmarks/peers.py reads:
//
//   peer-arena-used: <bytes>           arena_used_bytes() after AllocateTensors
//   peer-layer: <op index> <op> <ticks> one line per op, where the interpreter has its profiler
//                                       hook (micro_interpreter_graph.cc compiled without
//                                       TF_LITE_STRIP_ERROR_STRINGS)
//   peer-invoke: <ticks>               the whole first Invoke()
//   peer-output: <hex bytes>           output 0, to check against the reference interpreter
//
// Ticks come from the HAL's SysTick counter, which advances exactly with executed instructions
// under QEMU -icount (tinygen.device.qemu.instructions_from_ticks converts them). The model, its
// input and its op list come from peer_model.h, which peers.py writes for each model.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "peer_model.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/micro_profiler_interface.h"
#include "tensorflow/lite/schema/schema_generated.h"
#include "tg_hal.h"

namespace
{

constexpr size_t kArenaBytes = PEER_ARENA_BYTES;
constexpr int kMaxEvents = 256;
alignas(16) uint8_t g_arena[kArenaBytes];

void Write(const char *text) { tg_uart_write(text, strlen(text)); }

void WriteUnsigned(uint64_t value)
{
    char digits[20];
    size_t start = sizeof(digits);
    do {
        digits[--start] = static_cast<char>('0' + value % 10u);
        value /= 10u;
    } while (value != 0u);
    tg_uart_write(digits + start, sizeof(digits) - start);
}

void WriteLine(const char *key, uint64_t value)
{
    Write(key);
    WriteUnsigned(value);
    Write("\n");
}

// The HAL's counter restarts at each tg_counter_start; laps keep the whole Invoke's count while
// the profiler takes each op's share.
uint64_t g_elapsed;

void ClockStart()
{
    g_elapsed = 0;
    tg_counter_start();
}

uint64_t ClockLap() // ticks since the last lap (or start); g_elapsed keeps the sum
{
    const uint64_t ticks = tg_counter_stop();
    g_elapsed += ticks;
    tg_counter_start();
    return ticks;
}

// One event per op, in execution order; the interpreter opens and closes each before the next.
class LayerProfiler : public tflite::MicroProfilerInterface
{
  public:
    uint32_t BeginEvent(const char *tag) override
    {
        ClockLap();
        if (count_ < kMaxEvents) tags_[count_] = tag;
        return static_cast<uint32_t>(count_);
    }

    void EndEvent(uint32_t handle) override
    {
        const uint64_t ticks = ClockLap();
        if (handle < static_cast<uint32_t>(kMaxEvents)) ticks_[handle] = ticks;
        count_++;
    }

    void Report() const
    {
        for (int i = 0; i < count_ && i < kMaxEvents; i++) {
            Write("peer-layer: ");
            WriteUnsigned(static_cast<uint64_t>(i));
            Write(" ");
            Write(tags_[i] != nullptr ? tags_[i] : "?");
            Write(" ");
            WriteUnsigned(ticks_[i]);
            Write("\n");
        }
    }

    void Reset() { count_ = 0; }

  private:
    int count_ = 0;
    const char *tags_[kMaxEvents] = {};
    uint64_t ticks_[kMaxEvents] = {};
};

int Fail(const char *why)
{
    Write("peer-error: ");
    Write(why);
    Write("\n");
    return 1;
}

} // namespace

int main(void)
{
    tg_uart_init();
    const tflite::Model *model = tflite::GetModel(g_peer_model);
    if (model->version() != TFLITE_SCHEMA_VERSION) return Fail("schema version");

    tflite::MicroMutableOpResolver<PEER_OP_KINDS> resolver;
    PEER_ADD_OPS(resolver);

    LayerProfiler profiler;
    tflite::MicroInterpreter interpreter(model, resolver, g_arena, kArenaBytes, nullptr, &profiler);
    if (interpreter.AllocateTensors() != kTfLiteOk) return Fail("AllocateTensors");
    WriteLine("peer-arena-used: ", interpreter.arena_used_bytes());

    TfLiteTensor *input = interpreter.input(0);
    if (input->bytes != sizeof(g_peer_input)) return Fail("input size");
    memcpy(input->data.raw, g_peer_input, sizeof(g_peer_input));

    profiler.Reset(); // Prepare may have reported events too
    ClockStart();
    const TfLiteStatus status = interpreter.Invoke();
    ClockLap();
    const uint64_t ticks = g_elapsed;
    if (status != kTfLiteOk) return Fail("Invoke");
    profiler.Report();
    WriteLine("peer-invoke: ", ticks);

    const TfLiteTensor *output = interpreter.output(0);
    static const char kHex[] = "0123456789abcdef";
    Write("peer-output: ");
    for (size_t i = 0; i < output->bytes; i++) {
        const uint8_t byte = static_cast<uint8_t>(output->data.raw[i]);
        const char pair[2] = {kHex[byte >> 4], kHex[byte & 15u]};
        tg_uart_write(pair, 2);
    }
    Write("\n");
    return 0;
}
