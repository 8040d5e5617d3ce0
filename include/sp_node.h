/*
 * sp_node.h — the node role of seinpostd.
 *
 * Serves the local submit socket (ipc:// Unix socket in the state directory,
 * directory 0700), validates and seals submitted signals, keeps them in the
 * durable LMDB outbox until the broker acknowledges, and stores deliveries
 * durably in the inbox before sending a signed receipt.
 */
#ifndef SP_NODE_H
#define SP_NODE_H

#include <signal.h>
#include "sp_config.h"
#include "sp_kh.h"

/* The network process (docs/privsep.md): kh is its handle on the key
 * holder, borrowed. Returns when *stop is set or the key holder is lost. */
int sp_node_run(const sp_config *c, sp_kh *kh, volatile sig_atomic_t *stop,
                volatile sig_atomic_t *reload);

#endif
