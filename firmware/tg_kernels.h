/* Every tinygen kernel family; generated model.c files include this one header. */
#ifndef TG_KERNELS_H
#define TG_KERNELS_H

#include "tg_conv.h"
#include "tg_depthwise.h"
#include "tg_fully_connected.h"
#include "tg_pool.h"
#include "tg_elementwise.h"
#include "tg_pad.h"
#include "tg_concat.h"
#include "tg_quantize.h"
#include "tg_relu.h"
#include "tg_softmax.h"
#include "tg_activations.h"
#include "tg_mean.h"

#endif /* TG_KERNELS_H */
