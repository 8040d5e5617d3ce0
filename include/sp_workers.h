/*
 * sp_workers.h — one helper thread that shares a loop with its caller.
 *
 * sp_workers_run(w, fn, ctx, n) calls fn(ctx, i) for every i in [0, n):
 * the helper thread takes the first half, the calling thread the second,
 * and it returns when both are done. Used where independent CPU work sits in
 * front of sequential work (the broker's signature checks before its batch
 * transaction), so a second core does half of it.
 *
 * fn must only touch state that belongs to index i (and read-only shared
 * state). With one CPU, or when the thread could not be started, everything
 * runs on the caller.
 */
#ifndef SP_WORKERS_H
#define SP_WORKERS_H

#include <stddef.h>
#include "sp_error.h"

typedef struct sp_workers sp_workers;
typedef void (*sp_workers_fn)(void *ctx, size_t i);

/* *out owned by the caller; free with sp_workers_free (joins the thread). */
int sp_workers_new(sp_workers **out) SP_MUST_CHECK;
void sp_workers_free(sp_workers **w);
void sp_workers_run(sp_workers *w, sp_workers_fn fn, void *ctx, size_t n);

#endif
