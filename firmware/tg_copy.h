/* A copy of bytes: READ_VARIABLE (a resource variable's value out of the state region) and
 * ASSIGN_VARIABLE (a new value into it). */
#ifndef TG_COPY_H
#define TG_COPY_H

#include "tg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t bytes;
} tg_copy_params;

void tg_copy(const tg_copy_params *p, const void *input, void *output);

#ifdef __cplusplus
}
#endif

#endif /* TG_COPY_H */
