#include "tg_copy.h"

void tg_copy(const tg_copy_params *p, const void *input, void *output) { memcpy(output, input, (size_t)p->bytes); }
