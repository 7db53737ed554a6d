/*
 * The interface every generated model.c implements (declared in its model.h).
 * Firmware mains, host harnesses and profilers are written against this alone.
 */
#ifndef TG_MODEL_API_H
#define TG_MODEL_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The codes the serial link reports (docs/protocol.md). */
typedef enum {
    TG_INT8 = 0,
    TG_INT32 = 1,
    TG_FLOAT32 = 2,
    TG_UINT8 = 3,
    TG_INT16 = 4,
    TG_BOOL = 5,
    TG_INT64 = 6,
    TG_UINT32 = 7,
    TG_UINT64 = 8
} tg_dtype;

#define TG_MAX_DIMS 6

typedef struct {
    const char *name;
    tg_dtype dtype;
    int32_t rank;
    int32_t dims[TG_MAX_DIMS];
    float scale; /* real = scale * (q - zero_point); 0 for float tensors */
    int32_t zero_point;
    uint32_t bytes;
    void *data; /* inside the arena: valid between invokes */
} tg_tensor_info;

typedef struct {
    const char *op;     /* TFLite op name */
    void (*run)(void);  /* NULL for ops that run nothing (RESHAPE aliases) */
    const void *output; /* the layer's output, valid right after it runs; NULL if it only updates state */
    uint32_t output_bytes;
} tg_layer_info;

/* Called before (end = 0) and after (end = 1) each layer that runs. */
typedef void (*tg_layer_hook)(void *ctx, int layer, int end);

#ifdef __cplusplus
}
#endif

#endif /* TG_MODEL_API_H */
