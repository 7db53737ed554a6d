/*
 * Host harness: runs a generated model on raw samples streamed through stdin/stdout.
 *
 * For each sample it reads every input's bytes (in order), invokes the model and
 * writes every output's bytes. With --trace it first writes, for each layer that
 * runs, that layer's output bytes, so a mismatch can be traced to its first layer.
 * It exits 0 at a clean end of input, 2 on a short read.
 */
#include <stdio.h>
#include <string.h>

#include "model.h"

static void write_layer_output(void *ctx, int layer, int end)
{
    (void)ctx;
    if (end) {
        fwrite(tg_model_layers[layer].output, 1, tg_model_layers[layer].output_bytes, stdout);
    }
}

int main(int argc, char **argv)
{
    const int trace = argc > 1 && strcmp(argv[1], "--trace") == 0;
    tg_model_init();
    for (;;) {
        for (int i = 0; i < TG_MODEL_NUM_INPUTS; ++i) {
            const size_t got = fread(tg_model_inputs[i].data, 1, tg_model_inputs[i].bytes, stdin);
            if (got == 0 && i == 0 && feof(stdin)) {
                return 0;
            }
            if (got != tg_model_inputs[i].bytes) {
                fprintf(stderr, "short read: input %d wants %u bytes, got %u\n", i, (unsigned)tg_model_inputs[i].bytes,
                        (unsigned)got);
                return 2;
            }
        }
        tg_model_invoke_hooked(trace ? write_layer_output : NULL, NULL);
        for (int i = 0; i < TG_MODEL_NUM_OUTPUTS; ++i) {
            fwrite(tg_model_outputs[i].data, 1, tg_model_outputs[i].bytes, stdout);
        }
        fflush(stdout);
    }
}
