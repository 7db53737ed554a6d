/* Every tinygen kernel family; generated model.c files include this one header. */
#ifndef TG_KERNELS_H
#define TG_KERNELS_H

#include "tg_conv.h"
#include "tg_depthwise.h"
#include "tg_fully_connected.h"

#endif /* TG_KERNELS_H */
