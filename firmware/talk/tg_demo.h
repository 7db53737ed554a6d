/* What tinygen bundles into a firmware for it to talk about (generated as tg_demo.c). */
#ifndef TG_DEMO_H
#define TG_DEMO_H

#include <stdint.h>

#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const char tg_demo_model_name[];
extern const uint8_t *const tg_demo_inputs[TG_MODEL_NUM_INPUTS]; /* each input's bytes, as the tensor holds them */
extern const char *const tg_demo_labels[];                       /* names of output 0's values, or none */
extern const uint32_t tg_demo_num_labels;

#ifdef __cplusplus
}
#endif

#endif
