/*
 * sp_malformed.h — the broker's answer to frames that fail wire validation.
 *
 * A signal that fails validation is answered with a rejection (SubmitAck
 * REJECTED, the validation code and reason), so the sender stops resending
 * it. Malformed frames are logged and audited per peer at most
 * SP_MALFORMED_BURST times per window; the rest are counted and summed up
 * in one log line and one AUDIT_MALFORMED record ("N malformed frames from X
 * in 10 s") when the window ends. An authenticated peer can then no longer
 * grow the audit log and the journal by one entry per garbage frame.
 */
#ifndef SP_MALFORMED_H
#define SP_MALFORMED_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_store.h"

#define SP_MALFORMED_WINDOW_MS 10000
#define SP_MALFORMED_BURST 3

typedef struct sp_malformed sp_malformed;

int sp_malformed_new(sp_malformed **out) SP_MUST_CHECK;
void sp_malformed_free(sp_malformed **m);

/* The id of the signal in a frame that failed validation, when it can be
 * read at all (len within max, a submit, a header that decodes, sender is
 * the authenticated org). SP_OK or SP_ENOTFOUND. */
int sp_malformed_signal_id(const uint8_t *body, size_t len, size_t max, const char *org,
                           uint8_t id[16]) SP_MUST_CHECK;

/* One malformed frame from org (the authenticated identity): logged and
 * audited inside t while within the burst, counted otherwise. */
int sp_malformed_note(sp_malformed *m, sp_txn *t, const char *org, int code, const char *why,
                      uint64_t now_ms) SP_MUST_CHECK;

/* Close the windows that ended: one line and one record per peer with
 * frames beyond the burst. *wrote: records appended (commit them). */
int sp_malformed_flush(sp_malformed *m, sp_txn *t, uint64_t now_ms, int *wrote) SP_MUST_CHECK;

#endif
