/*
 * sp_broker.h — the broker role of seinpostd.
 *
 * Receives signals over CURVE-authenticated ZeroMQ, admits them (sp_admit),
 * and in ONE LMDB transaction per batch of frames stores the dedup index,
 * the audit records and the per-recipient queues; acks leave only after the
 * commit. Pushes each recipient its share and dequeues on its signed receipt.
 * Never loads a box or pseudonymisation key.
 */
#ifndef SP_BROKER_H
#define SP_BROKER_H

#include <signal.h>
#include "sp_config.h"

/* Runs until *stop becomes nonzero; *reload asks for a policy reload.
 * Returns 0 on clean shutdown, negative SP_E* on a start-up failure. */
int sp_broker_run(const sp_config *c, volatile sig_atomic_t *stop,
                  volatile sig_atomic_t *reload);

#endif
