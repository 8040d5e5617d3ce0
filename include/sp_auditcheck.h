/*
 * sp_auditcheck.h — a daemon's start-up check of the tail of its audit log.
 *
 * A full `seinpost audit verify` walks every record; a daemon cannot wait
 * for that at every start. What a signed tree head covers is protected by
 * its signature and the witnesses; the records after it (the tail) are not
 * yet. So at start the daemon checks the hash chain over the tail: every
 * record since the latest signed head, and at least the last
 * SP_AUDITCHECK_MIN records (a node signs no heads of its own), up to the
 * audit head in SP_DB_META. A damaged tail is an alarm: logged once and
 * shown by `status` (BAD) until the operator has looked (audit verify says
 * where); the daemon keeps running, and the chain keeps the damage visible.
 */
#ifndef SP_AUDITCHECK_H
#define SP_AUDITCHECK_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_store.h"

#define SP_AUDITCHECK_MIN 1000

/* SP_OK: sound; SP_ECORRUPT: why says which record (no record content);
 * *checked = records checked. sign_pk: the broker's key to check the latest
 * head's signature, NULL on a node. */
int sp_auditcheck_tail(sp_store *s, const uint8_t *sign_pk, uint64_t *checked, char *why,
                       size_t whylen) SP_MUST_CHECK;

#endif
