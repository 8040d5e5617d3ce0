/* sp_queue.c — per-recipient delivery queue keys and enqueueing (broker). */
#include "sp_queue.h"
#include "sp_meta_keys.h"

#include <stdlib.h>
#include <string.h>

#include "sp_signal.h"
#include "sp_subject.h"
#include "sp_util.h"
#include "sp_wire.h"
#include "sp_withdraw.h"

size_t sp_queue_key(uint8_t *out, const char *org, uint64_t seq)
{
	size_t n = strnlen(org, SP_ID_MAX - 1);
	memcpy(out, org, n);
	out[n] = '\0';
	sp_be64_put(out + n + 1, seq);
	return n + 9;
}

size_t sp_queue_idkey(uint8_t *out, char tag, const char *org, const uint8_t id[16])
{
	size_t n = strnlen(org, SP_ID_MAX - 1);
	out[0] = (uint8_t)tag;
	out[1] = ':';
	memcpy(out + 2, org, n);
	out[2 + n] = '\0';
	memcpy(out + 3 + n, id, 16);
	return n + 19;
}

int sp_queue_next_seq(sp_txn *t, uint64_t *seq)
{
	const void *v;
	size_t vl;
	uint8_t buf[8];
	uint64_t s = 0;
	int rc = sp_store_get(t, SP_DB_META, SP_MK_QUEUE_SEQ, strlen(SP_MK_QUEUE_SEQ), &v, &vl);
	if (rc == SP_OK && vl == 8)
		s = sp_be64_get(v);
	else if (rc != SP_ENOTFOUND && rc != SP_OK)
		return rc;
	*seq = ++s;
	sp_be64_put(buf, s);
	return sp_store_put(t, SP_DB_META, SP_MK_QUEUE_SEQ, strlen(SP_MK_QUEUE_SEQ), buf, 8, 0);
}

/* The one place that writes a queued delivery: the entry under the next
 * sequence number, and its receipt index (tag 'q', to, id) -> seq. */
int sp_queue_append(sp_txn *t, const char *to, const uint8_t id[16], const Seinpost__Delivery *d,
                    const struct sp_subject_named *subject)
{
	uint8_t *buf = NULL, key[SP_QUEUE_KEY_MAX], akey[SP_QUEUE_IDKEY_MAX], seqb[8 + 8 + 32];
	size_t len;
	uint64_t seq;
	int rc = sp_wire_pack(&d->base, &buf, &len);
	if (rc == SP_OK)
		rc = sp_queue_next_seq(t, &seq);
	if (rc == SP_OK)
		rc = sp_store_put(t, SP_DB_QUEUE, key, sp_queue_key(key, to, seq), buf, len, 0);
	if (rc == SP_OK) {
		size_t n = 8;
		sp_be64_put(seqb, seq);
		if (subject && subject->has) { /* seq ‖ be64(epoch) ‖ P */
			sp_be64_put(seqb + 8, subject->epoch);
			memcpy(seqb + 16, subject->p, 32);
			n = sizeof seqb;
		}
		rc = sp_store_put(t, SP_DB_META, akey, sp_queue_idkey(akey, 'q', to, id), seqb, n, 0);
	}
	free(buf);
	return rc;
}

int sp_queue_put(sp_txn *t, const Seinpost__Signal *sig, const uint8_t id[16], const char *to,
                 unsigned mode_mask, const char *rule_id, const Seinpost__Referral *ref)
{
	uint8_t *fwd = NULL;
	size_t fwdlen;
	unsigned tiers;
	Seinpost__Signal *copy = NULL;
	Seinpost__Delivery d = SEINPOST__DELIVERY__INIT;
	sp_subject_named named;
	char *rules[1] = { (char *)(rule_id ? rule_id : "") };
	int rc;

	rc = sp_signal_for_recipient(sig, to, mode_mask, &fwd, &fwdlen, &tiers);
	if (rc != SP_OK)
		goto out;
	copy = seinpost__signal__unpack(NULL, fwdlen, fwd);
	if (!copy) {
		rc = SP_EMALFORMED;
		goto out;
	}
	d.signal = copy;
	d.n_rule_ids = rule_id && rule_id[0] ? 1 : 0;
	d.rule_ids = rules;
	d.referral = (Seinpost__Referral *)ref;
	/* Issue 13: the recipient's own pseudonym of the subject, never P; a
	 * referral names the subject by it too. */
	if ((rc = sp_subject_name_delivery(t, sig, to, &d, &named)) != SP_OK)
		goto out;
	rc = sp_queue_append(t, to, id, &d, &named);
	if (rc == SP_OK) /* whom to tell should its sender withdraw it */
		rc = sp_withdraw_note_holder(t, id, to);
out:
	if (copy)
		seinpost__signal__free_unpacked(copy, NULL);
	free(fwd);
	return rc;
}
