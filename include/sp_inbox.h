/*
 * sp_inbox.h — the node's inbox (node process).
 */
#ifndef SP_INBOX_H
#define SP_INBOX_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

/* A later delivery of a signal we already hold (released grants) is merged
 * into the stored inbox entry: union of grants, tier boxes and rule ids;
 * the newest referral wins. *changed = 0 for a plain repeat. Header and
 * signature are unchanged (the caller checked they verify); SP_EINVAL when
 * the headers differ. *out: malloc'd, the caller frees. */
int sp_inbox_merge(const Seinpost__InboxEntry *old, const Seinpost__Delivery *d,
                   uint8_t **out, size_t *outlen, int *changed) SP_MUST_CHECK;

/* Merge delivery d into the stored inbox entry of h inside t (written only
 * when *changed). Moved from sp_node.c. */
int sp_inbox_merge_stored(sp_txn *t, const Seinpost__SignalHeader *h, const Seinpost__Delivery *d,
                          int *changed) SP_MUST_CHECK;
/* 1 when d repeats what we hold: same header and signature bytes as our
 * verified copy and nothing new to merge (only the receipt is due). */
int sp_inbox_plain_repeat(sp_txn *t, const Seinpost__SignalHeader *h, const Seinpost__Delivery *d);

#endif
