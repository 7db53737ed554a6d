/*
 * Host harness: runs a generated model on raw samples streamed through stdin/stdout.
 *
 * For each sample it reads every input's bytes (in order), invokes the model and
 * writes every output's bytes. With --trace it first writes, for each layer that
 * runs, that layer's output bytes, so a mismatch can be traced to its first layer.
 * With --steps N the samples are sequences of N steps: the model's state is reset
 * (tg_model_reset_state) before each sequence; without it, all samples are one sequence.
 * It exits 0 at a clean end of input, 2 on a short read or bad arguments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static void write_layer_output(void *ctx, int layer, int end)
{
    (void)ctx;
    if (end && tg_model_layers[layer].output != NULL) { /* an ASSIGN_VARIABLE has no output */
        fwrite(tg_model_layers[layer].output, 1, tg_model_layers[layer].output_bytes, stdout);
    }
}

int main(int argc, char **argv)
{
    int trace = 0;
    long steps = 0;
    for (int a = 1; a < argc; ++a) {
        if (strcmp(argv[a], "--trace") == 0) {
            trace = 1;
        } else if (strcmp(argv[a], "--steps") == 0 && a + 1 < argc && (steps = strtol(argv[a + 1], NULL, 10)) > 0) {
            ++a;
        } else {
            fprintf(stderr, "usage: %s [--trace] [--steps N]\n", argv[0]);
            return 2;
        }
    }
    tg_model_init();
    for (long sample = 0;; ++sample) {
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
        if (steps > 0 && sample > 0 && sample % steps == 0) {
            tg_model_reset_state();
        }
        tg_model_invoke_hooked(trace ? write_layer_output : NULL, NULL);
        for (int i = 0; i < TG_MODEL_NUM_OUTPUTS; ++i) {
            fwrite(tg_model_outputs[i].data, 1, tg_model_outputs[i].bytes, stdout);
        }
        fflush(stdout);
    }
}
