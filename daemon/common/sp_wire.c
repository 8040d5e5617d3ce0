/*
 * sp_wire.c — the one validation layer for outside input.
 *
 * Everything that arrives from a peer, from the local socket or from disk is
 * unpacked by protobuf-c here and then checked field by field, so the rest of
 * the daemon can rely on sizes, ranges and identifier syntax without checking
 * again. protobuf-c guarantees only the wire syntax: lengths of bytes fields,
 * enum ranges (it stores any integer) and presence of sub-messages are ours.
 *
 * Reasons written into `why` name the field, never its content: a rejected
 * field may hold a BSN, a name or free text.
 */
#include "sp_wire.h"
#include "sp_wire_int.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_signal.h"
#include "sp_util.h"

#define fail sp_wire_fail
#define has_unknown sp_wire_has_unknown
#define ID_BYTES 16
#define HASH_BYTES 32
#define SIG_BYTES 64
#define NONCE_BYTES 24
#define TAG_BYTES 16
#define MAX_RULE_IDS 256
#define MAX_REASON 512
/* Upper bound of a local request: every text field at its maximum plus
 * protobuf overhead. Anything larger is refused before unpacking. */
#define MAX_LOCAL SP_MAX_LOCAL_REQUEST
#define MAX_LOCAL_CATEGORY 64
#define MAX_LOCAL_SUBJECT_ID 64
#define MAX_LOCAL_BIRTHDATE 32
#define MAX_INVOLVE_BATCH 4096    /* bulk involvement: items per request / frame */

int sp_wire_fail(char *why, size_t whylen, int rc, const char *fmt, ...)
{
	va_list ap;
	if (why && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int check_referral(const Seinpost__Referral *r, char *why, size_t whylen);

static int check_involve_update(const Seinpost__InvolveUpdate *u, char *why, size_t whylen)
{
	if (u->n_pseudonyms < 1 || u->n_pseudonyms > 16)
		return fail(why, whylen, SP_EMALFORMED, "involve: 1 to 16 pseudonyms required");
	for (size_t i = 0; i < u->n_pseudonyms; i++)
		if (!u->pseudonyms[i] || u->pseudonyms[i]->pseudonym.len != HASH_BYTES)
			return fail(why, whylen, SP_EMALFORMED, "involve: pseudonym %zu must be %d bytes", i, HASH_BYTES);
	return SP_OK;
}

static int tier_ok(int t)
{
	return t >= SP_TIER_CONTACT && t <= SP_TIER_FULL;
}

/* Unknown fields are refused anywhere in a message. Peers run the same
 * schema (SP_WIRE_VERSION), fields outside the signed header would travel
 * unsigned through the broker, and protobuf-c 1.4 even keeps invalid ones
 * (field number 0) that it cannot read back after packing. */
int sp_wire_has_unknown(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;

	if (m->n_unknown_fields > 0)
		return 1;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)(base + f->offset);
			for (size_t j = 0; j < n; j++)
				if (arr[j] && has_unknown(arr[j]))
					return 1;
			continue;
		}
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
			continue; /* not the member the union holds */
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)(base + f->offset);
		if (sub && has_unknown(sub))
			return 1;
	}
	return 0;
}

static int check_header(const Seinpost__SignalHeader *h, char *why, size_t whylen)
{
	unsigned seen = 0;

	if (h->version != SP_HEADER_VERSION)
		return fail(why, whylen, SP_EMALFORMED, "header: unsupported version (%u; this network uses %d)",
		            h->version, SP_HEADER_VERSION);
	if (h->id.len != ID_BYTES)
		return fail(why, whylen, SP_EMALFORMED, "header: id must be %d bytes", ID_BYTES);
	if (!sp_ident_ok(h->sender))
		return fail(why, whylen, SP_EMALFORMED, "header: sender is not a valid org id");
	if ((int)h->subject_kind < SEINPOST__SUBJECT_KIND__SUBJECT_NONE ||
	    h->subject_kind > SEINPOST__SUBJECT_KIND__SUBJECT_LOCATION)
		return fail(why, whylen, SP_EMALFORMED, "header: subject_kind out of range");
	if (h->resident_report && h->subject_kind == SEINPOST__SUBJECT_KIND__SUBJECT_PERSON)
		return fail(why, whylen, SP_EMALFORMED, "header: a resident report is never about a person");
	if (h->subject_kind == SEINPOST__SUBJECT_KIND__SUBJECT_NONE) {
		/* no subject: only a resident report, and then no pseudonym */
		if (!h->resident_report)
			return fail(why, whylen, SP_EMALFORMED, "header: subject_kind none is only for a resident report");
		if (h->subject_commitment.len != 0)
			return fail(why, whylen, SP_EMALFORMED, "header: a report without a subject carries no pseudonym");
	} else if (h->subject_commitment.len != HASH_BYTES)
		return fail(why, whylen, SP_EMALFORMED, "header: subject_commitment must be %d bytes", HASH_BYTES);
	/* The network pseudonym is never in the signed header (issue 13). */
	if (h->pseudonym.len != 0)
		return fail(why, whylen, SP_EMALFORMED, "header: carries a pseudonym (only its commitment belongs there)");
	if (!sp_ident_ok(h->category))
		return fail(why, whylen, SP_EMALFORMED, "header: category is not a valid id");
	if (h->weight < 1 || h->weight > 3)
		return fail(why, whylen, SP_EWEIGHT, "header: weight out of range 1..3");
	if (h->created == 0)
		return fail(why, whylen, SP_EMALFORMED, "header: created missing");
	if (h->expires <= h->created)
		return fail(why, whylen, SP_EMALFORMED, "header: expires not after created");
	if (h->policy_hash.len != HASH_BYTES)
		return fail(why, whylen, SP_EMALFORMED, "header: policy_hash must be %d bytes", HASH_BYTES);
	for (size_t i = 0; i < h->n_tiers; i++) {
		const Seinpost__TierDigest *d = h->tiers[i];
		if (!d || !tier_ok(d->tier))
			return fail(why, whylen, SP_EMALFORMED, "header: tier digest %zu: tier out of range", i);
		if (seen & (1u << d->tier))
			return fail(why, whylen, SP_EMALFORMED, "header: tier digest %zu: duplicate tier", i);
		seen |= 1u << d->tier;
		if (d->digest.len != HASH_BYTES)
			return fail(why, whylen, SP_EMALFORMED, "header: tier digest %zu: digest must be %d bytes",
			            i, HASH_BYTES);
	}
	return SP_OK;
}

static unsigned header_tiers(const Seinpost__SignalHeader *h)
{
	unsigned m = 0;
	for (size_t i = 0; i < h->n_tiers; i++)
		m |= 1u << h->tiers[i]->tier;
	return m;
}

/* The network pseudonym beside the header (the sender's and the broker's
 * copies): it must match the header's commitment, and it is filled into the
 * decoded header so the broker's code reads h->pseudonym (sp_wire.h). */
static int subject_pseudonym(const Seinpost__Signal *sig, Seinpost__SignalHeader *h, char *why, size_t whylen)
{
	uint8_t c[HASH_BYTES];
	if (sig->subject_pseudonym.len == 0)
		return SP_OK; /* a recipient's copy */
	if (h->subject_commitment.len != HASH_BYTES || sig->subject_pseudonym.len != HASH_BYTES)
		return fail(why, whylen, SP_EMALFORMED, "signal: subject_pseudonym must be %d bytes, beside a commitment",
		            HASH_BYTES);
	sp_signal_commitment(sig->subject_pseudonym.data, h->id.data, c);
	if (sodium_memcmp(c, h->subject_commitment.data, HASH_BYTES) != 0)
		return fail(why, whylen, SP_EMALFORMED, "signal: the pseudonym does not match the header's commitment");
	h->pseudonym.data = malloc(HASH_BYTES); /* freed by free_unpacked with the header */
	if (!h->pseudonym.data)
		return SP_ENOMEM;
	memcpy(h->pseudonym.data, sig->subject_pseudonym.data, HASH_BYTES);
	h->pseudonym.len = HASH_BYTES;
	return SP_OK;
}

static int fill_pseudonym(Seinpost__SignalHeader *h, const ProtobufCBinaryData *p)
{
	if (!p || p->len != HASH_BYTES || h->pseudonym.len)
		return SP_OK;
	if (!(h->pseudonym.data = malloc(HASH_BYTES))) /* freed by free_unpacked with the header */
		return SP_ENOMEM;
	memcpy(h->pseudonym.data, p->data, HASH_BYTES);
	h->pseudonym.len = HASH_BYTES;
	return SP_OK;
}

Seinpost__SignalHeader *sp_wire_header_of(const Seinpost__Signal *sig, const ProtobufCBinaryData *mine)
{
	Seinpost__SignalHeader *h;
	if (!sig || !(h = seinpost__signal_header__unpack(NULL, sig->header.len, sig->header.data)))
		return NULL;
	if (h->id.len != ID_BYTES || subject_pseudonym(sig, h, NULL, 0) != SP_OK || fill_pseudonym(h, mine) != SP_OK) {
		seinpost__signal_header__free_unpacked(h, NULL);
		return NULL;
	}
	return h;
}

int sp_wire_delivery_header(const Seinpost__Delivery *d, Seinpost__SignalHeader **hdr_out, char *why,
                            size_t whylen)
{
	int rc = sp_wire_check_signal(d->signal, hdr_out, why, whylen);
	if (rc == SP_OK && (rc = fill_pseudonym(*hdr_out, &d->recipient_pseudonym)) != SP_OK) {
		seinpost__signal_header__free_unpacked(*hdr_out, NULL);
		*hdr_out = NULL;
	}
	return rc;
}

int sp_wire_check_signal(const Seinpost__Signal *sig, Seinpost__SignalHeader **hdr_out,
                         char *why, size_t whylen)
{
	Seinpost__SignalHeader *h = NULL;
	unsigned digests, boxes = 0;
	int rc;

	if (hdr_out)
		*hdr_out = NULL;
	if (!sig)
		return fail(why, whylen, SP_EMALFORMED, "signal missing");
	if (has_unknown(&sig->base)) {
		rc = fail(why, whylen, SP_EMALFORMED, "signal: unknown field");
		goto out;
	}
	if (sig->signature.len != SIG_BYTES) {
		rc = fail(why, whylen, SP_EMALFORMED, "signal: signature must be %d bytes", SIG_BYTES);
		goto out;
	}
	if (sig->header.len == 0) {
		rc = fail(why, whylen, SP_EMALFORMED, "signal: header missing");
		goto out;
	}
	h = seinpost__signal_header__unpack(NULL, sig->header.len, sig->header.data);
	if (!h) {
		rc = fail(why, whylen, SP_EMALFORMED, "signal: header does not decode");
		goto out;
	}
	if (has_unknown(&h->base)) {
		rc = fail(why, whylen, SP_EMALFORMED, "header: unknown field");
		goto out;
	}
	if ((rc = check_header(h, why, whylen)) != SP_OK)
		goto out;
	digests = header_tiers(h);

	/* Boxes may be a subset of the digests: a broker forwards only the
	 * boxes a recipient holds a grant for, with the header unchanged. */
	for (size_t i = 0; i < sig->n_tiers; i++) {
		const Seinpost__TierBox *b = sig->tiers[i];
		rc = SP_EMALFORMED;
		if (!b || !tier_ok(b->tier)) {
			fail(why, whylen, rc, "signal: tier box %zu: tier out of range", i);
			goto out;
		}
		if (boxes & (1u << b->tier)) {
			fail(why, whylen, rc, "signal: tier box %zu: duplicate tier", i);
			goto out;
		}
		boxes |= 1u << b->tier;
		if (!(digests & (1u << b->tier))) {
			fail(why, whylen, rc, "signal: tier box %zu: no digest in header", i);
			goto out;
		}
		if (b->nonce.len != NONCE_BYTES) {
			fail(why, whylen, rc, "signal: tier box %zu: nonce must be %d bytes", i, NONCE_BYTES);
			goto out;
		}
		if (b->ciphertext.len <= TAG_BYTES) {
			fail(why, whylen, rc, "signal: tier box %zu: ciphertext too short", i);
			goto out;
		}
		if (b->ciphertext.len > SP_MAX_TIER_BOX) {
			rc = fail(why, whylen, SP_ESIZE, "signal: tier box %zu: ciphertext too large", i);
			goto out;
		}
	}

	if (sig->n_grants > SP_MAX_GRANTS) {
		rc = fail(why, whylen, SP_ESIZE, "signal: more than %d grants", SP_MAX_GRANTS);
		goto out;
	}
	for (size_t i = 0; i < sig->n_grants; i++) {
		const Seinpost__Grant *g = sig->grants[i];
		rc = SP_EMALFORMED;
		if (!g || !sp_ident_ok(g->recipient)) {
			fail(why, whylen, rc, "signal: grant %zu: recipient is not a valid org id", i);
			goto out;
		}
		if (!tier_ok(g->tier)) {
			fail(why, whylen, rc, "signal: grant %zu: tier out of range", i);
			goto out;
		}
		if (!(boxes & (1u << g->tier))) {
			fail(why, whylen, rc, "signal: grant %zu: no tier box for its tier", i);
			goto out;
		}
		if (g->mode < SEINPOST__GRANT_MODE__GRANT_IMMEDIATE ||
		    g->mode > SEINPOST__GRANT_MODE__GRANT_ON_ESCALATION) {
			fail(why, whylen, rc, "signal: grant %zu: mode out of range", i);
			goto out;
		}
		if (g->sealed_key.len != SP_SEALED_KEY_BYTES) {
			fail(why, whylen, rc, "signal: grant %zu: sealed_key must be %d bytes", i,
			     SP_SEALED_KEY_BYTES);
			goto out;
		}
	}

	if ((rc = subject_pseudonym(sig, h, why, whylen)) != SP_OK)
		goto out;
	rc = SP_OK;
	if (hdr_out) {
		*hdr_out = h;
		h = NULL;
	}
out:
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	return rc;
}

int sp_wire_decode_signal(const uint8_t *buf, size_t len, Seinpost__Signal **sig,
                          Seinpost__SignalHeader **hdr, char *why, size_t whylen)
{
	Seinpost__Signal *s = NULL;
	int rc;

	*sig = NULL;
	if (hdr)
		*hdr = NULL;
	if (!buf && len > 0)
		return fail(why, whylen, SP_EINVAL, "signal: no buffer");
	s = seinpost__signal__unpack(NULL, len, buf);
	if (!s)
		return fail(why, whylen, SP_EMALFORMED, "signal does not decode");
	rc = sp_wire_check_signal(s, hdr, why, whylen);
	if (rc != SP_OK) {
		seinpost__signal__free_unpacked(s, NULL);
		return rc;
	}
	*sig = s;
	return SP_OK;
}

static int check_sth(const Seinpost__SignedTreeHead *h, const char *what, char *why, size_t whylen)
{
	if (!h)
		return SP_OK;
	if (h->root_hash.len != HASH_BYTES || h->signature.len != SIG_BYTES)
		return fail(why, whylen, SP_EMALFORMED, "%s: tree head root or signature has the wrong size", what);
	return SP_OK;
}

/* Audit bodies (field numbers 20-29). Proof hashes and record counts are
 * bounded here; signatures and proofs are checked by their modules. */
static int check_audit_query(const Seinpost__AuditQuery *q, int need_id, char *why, size_t whylen)
{
	if (!q)
		return fail(why, whylen, SP_EMALFORMED, "audit_query: missing");
	/* the local client leaves the id to its node */
	if (need_id ? q->id.len != ID_BYTES : q->id.len != 0)
		return need_id ? fail(why, whylen, SP_EMALFORMED, "audit_query: id must be %d bytes", ID_BYTES)
		               : fail(why, whylen, SP_EMALFORMED, "audit_query: id must be empty (the node assigns it)");
	if (q->kind < SEINPOST__AUDIT_QUERY_KIND__AUDIT_QUERY_LOG ||
	    q->kind > SEINPOST__AUDIT_QUERY_KIND__AUDIT_QUERY_WHO_SAW)
		return fail(why, whylen, SP_EMALFORMED, "audit_query: kind out of range");
	if (q->org[0] && !sp_ident_ok(q->org))
		return fail(why, whylen, SP_EMALFORMED, "audit_query: org is not a valid org id");
	if (q->signal_id.len && q->signal_id.len != ID_BYTES)
		return fail(why, whylen, SP_EMALFORMED, "audit_query: signal_id must be %d bytes", ID_BYTES);
	if (q->pseudonym.len && q->pseudonym.len != HASH_BYTES)
		return fail(why, whylen, SP_EMALFORMED, "audit_query: pseudonym must be %d bytes", HASH_BYTES);
	if (q->kind == SEINPOST__AUDIT_QUERY_KIND__AUDIT_QUERY_WHO_SAW && q->pseudonym.len != HASH_BYTES)
		return fail(why, whylen, SP_EMALFORMED, "audit_query: who-saw needs a pseudonym");
	return SP_OK;
}

/* Sizes only: what a status may be is the broker's (sp_referral_status.c). */
static int check_referral_update(const Seinpost__ReferralUpdate *u, char *why, size_t whylen)
{
	if (!u || u->id.len != ID_BYTES || u->referral_id.len != ID_BYTES)
		return fail(why, whylen, SP_EMALFORMED, "referral_update: ids must be %d bytes", ID_BYTES);
	if (!sp_text_ok(u->status, 32, 0) || !sp_text_ok(u->intervention, 64, 0) ||
	    !sp_text_ok(u->reason, 500, 0) || !sp_text_ok(u->user, SP_MAX_USER, 0) || !sp_text_ok(u->table, 48, 0))
		return fail(why, whylen, SP_EMALFORMED, "referral_update: a field is too long or not printable");
	return SP_OK;
}

/* Sizes only: who may withdraw what is the broker's (sp_withdraw.c). */
static int check_withdraw(const Seinpost__Withdraw *w, char *why, size_t whylen)
{
	if (!w || w->id.len != ID_BYTES || w->signal_id.len != ID_BYTES)
		return fail(why, whylen, SP_EMALFORMED, "withdraw: ids must be %d bytes", ID_BYTES);
	if (!sp_text_ok(w->reason, 500, 0) || !sp_text_ok(w->user, SP_MAX_USER, 0))
		return fail(why, whylen, SP_EMALFORMED, "withdraw: a field is too long or not printable");
	return SP_OK;
}

/* Feedback to the signaller (issue 16): a cursor one way, events the other. */
#define MAX_FEEDBACK_ITEMS 4096
static int check_feedback_body(const Seinpost__Frame *f, char *why, size_t whylen)
{
	switch (f->body_case) {
	case SEINPOST__FRAME__BODY_FEEDBACK_REQUEST:
		return f->feedback_request ? SP_OK : fail(why, whylen, SP_EMALFORMED, "frame: no body");
	case SEINPOST__FRAME__BODY_FEEDBACK: {
		const Seinpost__FeedbackBatch *b = f->feedback;
		if (!b)
			return fail(why, whylen, SP_EMALFORMED, "frame: no body");
		if (b->n_items > MAX_FEEDBACK_ITEMS)
			return fail(why, whylen, SP_ESIZE, "feedback: at most %d items", MAX_FEEDBACK_ITEMS);
		for (size_t i = 0; i < b->n_items; i++) {
			const Seinpost__FeedbackItem *it = b->items[i];
			if (!it || it->signal_id.len != ID_BYTES || it->seq == 0 || it->seq > b->next_seq)
				return fail(why, whylen, SP_EMALFORMED, "feedback: item %zu malformed", i);
			if (!sp_ident_ok(it->event) || (it->role[0] && !sp_ident_ok(it->role)) ||
			    !sp_text_ok(it->status, 64, 0))
				return fail(why, whylen, SP_EMALFORMED, "feedback: item %zu: bad event, role or status", i);
		}
		return SP_OK;
	}
	case SEINPOST__FRAME__BODY_REFERRAL_UPDATE:
		return check_referral_update(f->referral_update, why, whylen);
	case SEINPOST__FRAME__BODY_REFERRAL_UPDATE_ACK: {
		const Seinpost__ReferralUpdateAck *a = f->referral_update_ack;
		if (!a || a->id.len != ID_BYTES || !sp_text_ok(a->message, MAX_REASON, 0))
			return fail(why, whylen, SP_EMALFORMED, "referral_update_ack: malformed");
		return SP_OK;
	}
	case SEINPOST__FRAME__BODY_WITHDRAW:
		return check_withdraw(f->withdraw, why, whylen);
	case SEINPOST__FRAME__BODY_WITHDRAW_ACK: {
		const Seinpost__WithdrawAck *a = f->withdraw_ack;
		if (!a || a->id.len != ID_BYTES || a->signal_id.len != ID_BYTES || a->code > 0 || a->code <= SP_ELAST ||
		    !sp_text_ok(a->message, MAX_REASON, 0))
			return fail(why, whylen, SP_EMALFORMED, "withdraw_ack: malformed");
		return SP_OK;
	}
	default:
		return fail(why, whylen, SP_EMALFORMED, "frame: no body");
	}
}

static int check_audit_body(const Seinpost__Frame *f, char *why, size_t whylen)
{
	switch (f->body_case) {
	case SEINPOST__FRAME__BODY_AUDIT_PROOF_REQUEST:
		return f->audit_proof_request ? SP_OK : fail(why, whylen, SP_EMALFORMED, "frame: no body");
	case SEINPOST__FRAME__BODY_AUDIT_PROOF: {
		const Seinpost__AuditProof *p = f->audit_proof;
		if (!p || !p->sth)
			return fail(why, whylen, SP_EMALFORMED, "audit_proof: tree head missing");
		if (p->n_consistency > 128)
			return fail(why, whylen, SP_ESIZE, "audit_proof: proof too long");
		for (size_t i = 0; i < p->n_consistency; i++)
			if (p->consistency[i].len != HASH_BYTES)
				return fail(why, whylen, SP_EMALFORMED, "audit_proof: hash %zu has the wrong size", i);
		return check_sth(p->sth, "audit_proof", why, whylen);
	}
	case SEINPOST__FRAME__BODY_READ_RECEIPT: {
		const Seinpost__ReadReceipt *r = f->read_receipt;
		if (!r || r->signature.len != SIG_BYTES || r->event.len == 0 || r->event.len > 1024)
			return fail(why, whylen, SP_EMALFORMED, "read_receipt: event or signature malformed");
		return SP_OK;
	}
	case SEINPOST__FRAME__BODY_READ_ACK:
		if (!f->read_ack || f->read_ack->id.len != ID_BYTES)
			return fail(why, whylen, SP_EMALFORMED, "read_ack: id must be %d bytes", ID_BYTES);
		return check_sth(f->read_ack->sth, "read_ack", why, whylen);
	case SEINPOST__FRAME__BODY_AUDIT_QUERY:
		return check_audit_query(f->audit_query, 1, why, whylen);
	case SEINPOST__FRAME__BODY_AUDIT_RESULT: {
		const Seinpost__AuditQueryResult *r = f->audit_result;
		if (!r || r->id.len != ID_BYTES)
			return fail(why, whylen, SP_EMALFORMED, "audit_result: id must be %d bytes", ID_BYTES);
		if (r->n_proofs && r->n_proofs != r->n_records)
			return fail(why, whylen, SP_EMALFORMED, "audit_result: one proof per record");
		for (size_t i = 0; i < r->n_proofs; i++) {
			if (!r->proofs[i] || r->proofs[i]->n_hashes > 64)
				return fail(why, whylen, SP_EMALFORMED, "audit_result: proof %zu malformed", i);
			for (size_t j = 0; j < r->proofs[i]->n_hashes; j++)
				if (r->proofs[i]->hashes[j].len != HASH_BYTES)
					return fail(why, whylen, SP_EMALFORMED, "audit_result: proof %zu malformed", i);
		}
		if (!sp_text_ok(r->message, MAX_REASON, 0))
			return fail(why, whylen, SP_EMALFORMED, "audit_result: message not printable");
		if (r->n_earlier > 64)
			return fail(why, whylen, SP_EMALFORMED, "audit_result: more than 64 earlier pseudonyms");
		for (size_t i = 0; i < r->n_earlier; i++)
			if (!r->earlier[i] || r->earlier[i]->pseudonym.len != 32 || r->earlier[i]->proof.len != 64)
				return fail(why, whylen, SP_EMALFORMED, "audit_result: earlier pseudonym %zu malformed", i);
		return check_sth(r->sth, "audit_result", why, whylen);
	}
	case SEINPOST__FRAME__BODY_AUDIT_FETCH:
		if (!f->audit_fetch || f->audit_fetch->from_seq == 0)
			return fail(why, whylen, SP_EMALFORMED, "audit_fetch: from_seq must be 1 or more");
		return SP_OK;
	case SEINPOST__FRAME__BODY_AUDIT_FETCH_RESULT: {
		const Seinpost__AuditFetchResult *r = f->audit_fetch_result;
		if (!r || r->from_seq == 0)
			return fail(why, whylen, SP_EMALFORMED, "audit_fetch_result: from_seq must be 1 or more");
		if (r->n_records > 4096)
			return fail(why, whylen, SP_ESIZE, "audit_fetch_result: more than 4096 records");
		for (size_t i = 0; i < r->n_records; i++)
			if (r->records[i].len == 0)
				return fail(why, whylen, SP_EMALFORMED, "audit_fetch_result: record %zu empty", i);
		return check_sth(r->sth, "audit_fetch_result", why, whylen);
	}
	default:
		return check_feedback_body(f, why, whylen);
	}
}

static int check_body(const Seinpost__Frame *f, char *why, size_t whylen)
{
	switch (f->body_case) {
	case SEINPOST__FRAME__BODY_HELLO:
		if (!f->hello)
			break;
		if (!sp_ident_ok(f->hello->org))
			return fail(why, whylen, SP_EMALFORMED, "hello: org is not a valid org id");
		if (f->hello->policy_hash.len != HASH_BYTES)
			return fail(why, whylen, SP_EMALFORMED, "hello: policy_hash must be %d bytes",
			            HASH_BYTES);
		return SP_OK;
	case SEINPOST__FRAME__BODY_SUBMIT:
		if (!f->submit)
			break;
		return sp_wire_check_signal(f->submit, NULL, why, whylen);
	case SEINPOST__FRAME__BODY_SUBMIT_ACK: {
		const Seinpost__SubmitAck *a = f->submit_ack;
		if (!a)
			break;
		if (a->id.len != ID_BYTES)
			return fail(why, whylen, SP_EMALFORMED, "submit_ack: id must be %d bytes", ID_BYTES);
		if (a->status < SEINPOST__STATUS__STATUS_OK || a->status > SEINPOST__STATUS__STATUS_REJECTED)
			return fail(why, whylen, SP_EMALFORMED, "submit_ack: status out of range");
		if (a->code > 0 || a->code <= SP_ELAST)
			return fail(why, whylen, SP_EMALFORMED, "submit_ack: code out of range");
		if (!sp_text_ok(a->reason, MAX_REASON, 0))
			return fail(why, whylen, SP_EMALFORMED, "submit_ack: reason not printable or too long");
		return check_sth(a->sth, "submit_ack", why, whylen);
	}
	case SEINPOST__FRAME__BODY_DELIVERY: {
		const Seinpost__Delivery *d = f->delivery;
		int rc;
		if (!d)
			break;
		Seinpost__SignalHeader *h = NULL;
		if ((rc = sp_wire_check_signal(d->signal, &h, why, whylen)) != SP_OK)
			return rc;
		rc = h->subject_kind != SEINPOST__SUBJECT_KIND__SUBJECT_NONE && !d->withdrawn;
		seinpost__signal_header__free_unpacked(h, NULL);
		/* Issue 13: no byte of the network pseudonym reaches a recipient;
		 * it gets its own pseudonym, signed by the broker. */
		if (d->signal->subject_pseudonym.len)
			return fail(why, whylen, SP_EMALFORMED, "delivery: carries the network pseudonym");
		if (rc ? d->recipient_pseudonym.len != HASH_BYTES || d->recipient_pseudonym_sig.len != SIG_BYTES
		       : d->recipient_pseudonym.len != 0 && d->recipient_pseudonym.len != HASH_BYTES)
			return fail(why, whylen, SP_EMALFORMED, "delivery: recipient pseudonym or its signature missing");
		if (d->withdrawn && (d->signal->n_tiers || d->signal->n_grants))
			return fail(why, whylen, SP_EMALFORMED, "delivery: a withdrawal carries no tier and no grant");
		if (d->n_rule_ids > MAX_RULE_IDS)
			return fail(why, whylen, SP_ESIZE, "delivery: too many rule ids");
		for (size_t i = 0; i < d->n_rule_ids; i++)
			if (!sp_ident_ok(d->rule_ids[i]))
				return fail(why, whylen, SP_EMALFORMED, "delivery: rule id %zu is not a valid id", i);
		return check_referral(d->referral, why, whylen);
	}
	case SEINPOST__FRAME__BODY_INVOLVE:
		if (!f->involve)
			break;
		return check_involve_update(f->involve, why, whylen);
	case SEINPOST__FRAME__BODY_INVOLVE_BATCH: {
		const Seinpost__InvolveBatch *b = f->involve_batch;
		if (!b)
			break;
		if (b->n_updates < 1 || b->n_updates > MAX_INVOLVE_BATCH)
			return fail(why, whylen, SP_EMALFORMED, "involve_batch: 1 to %d updates", MAX_INVOLVE_BATCH);
		for (size_t i = 0; i < b->n_updates; i++) {
			int rc = b->updates[i] ? check_involve_update(b->updates[i], why, whylen) : SP_EMALFORMED;
			if (rc != SP_OK)
				return fail(why, whylen, SP_EMALFORMED, "involve_batch: update %zu malformed", i);
		}
		return SP_OK;
	}
	case SEINPOST__FRAME__BODY_INVOLVE_BATCH_ACK: {
		const Seinpost__InvolveBatchAck *a = f->involve_batch_ack;
		if (!a)
			break;
		if (a->n_stored > MAX_INVOLVE_BATCH || a->n_refused > MAX_INVOLVE_BATCH)
			return fail(why, whylen, SP_EMALFORMED, "involve_batch_ack: too many entries");
		for (size_t i = 0; i < a->n_stored; i++)
			if (a->stored[i].len != HASH_BYTES)
				return fail(why, whylen, SP_EMALFORMED, "involve_batch_ack: pseudonym must be %d bytes", HASH_BYTES);
		if (a->n_stored_recipient != a->n_stored)
			return fail(why, whylen, SP_EMALFORMED, "involve_batch_ack: one recipient pseudonym per stored update");
		for (size_t i = 0; i < a->n_stored_recipient; i++)
			if (a->stored_recipient[i].len != HASH_BYTES)
				return fail(why, whylen, SP_EMALFORMED, "involve_batch_ack: recipient pseudonym must be %d bytes",
				            HASH_BYTES);
		for (size_t i = 0; i < a->n_refused; i++)
			if (!a->refused[i] || a->refused[i]->pseudonym.len != HASH_BYTES ||
			    !sp_text_ok(a->refused[i]->reason, MAX_REASON, 0))
				return fail(why, whylen, SP_EMALFORMED, "involve_batch_ack: refusal %zu malformed", i);
		return SP_OK;
	}
	case SEINPOST__FRAME__BODY_INVOLVE_ACK: {
		const Seinpost__InvolveAck *a = f->involve_ack;
		if (!a)
			break;
		if (a->pseudonym.len != HASH_BYTES)
			return fail(why, whylen, SP_EMALFORMED, "involve_ack: pseudonym must be %d bytes", HASH_BYTES);
		if (a->recipient_pseudonym.len != 0 && a->recipient_pseudonym.len != HASH_BYTES)
			return fail(why, whylen, SP_EMALFORMED, "involve_ack: recipient pseudonym must be %d bytes", HASH_BYTES);
		if (!sp_text_ok(a->reason, MAX_REASON, 0))
			return fail(why, whylen, SP_EMALFORMED, "involve_ack: reason not printable or too long");
		return SP_OK;
	}
	case SEINPOST__FRAME__BODY_POLICY_INFO: {
		const Seinpost__PolicyInfo *pi = f->policy_info;
		if (!pi)
			break;
		if (pi->policy_hash.len != HASH_BYTES)
			return fail(why, whylen, SP_EMALFORMED, "policy_info: hash must be %d bytes", HASH_BYTES);
		if (!sp_text_ok(pi->version, 64, 0))
			return fail(why, whylen, SP_EMALFORMED, "policy_info: version not printable or too long");
		return SP_OK;
	}
	case SEINPOST__FRAME__BODY_DELIVERY_ACK: {
		const Seinpost__DeliveryAck *a = f->delivery_ack;
		if (!a)
			break;
		if (a->id.len != ID_BYTES)
			return fail(why, whylen, SP_EMALFORMED, "delivery_ack: id must be %d bytes", ID_BYTES);
		if (a->signature.len != SIG_BYTES)
			return fail(why, whylen, SP_EMALFORMED, "delivery_ack: signature must be %d bytes",
			            SIG_BYTES);
		if (a->time == 0)
			return fail(why, whylen, SP_EMALFORMED, "delivery_ack: time missing");
		return SP_OK;
	}
	case SEINPOST__FRAME__BODY_DELIVERY_ACKS: {
		const Seinpost__DeliveryAckBatch *a = f->delivery_acks;
		if (!a)
			break;
		if (a->n_ids < 1 || a->n_ids > SP_RECEIPT_BATCH_MAX)
			return fail(why, whylen, SP_EMALFORMED, "delivery_acks: 1 to %d ids", SP_RECEIPT_BATCH_MAX);
		for (size_t i = 0; i < a->n_ids; i++)
			if (a->ids[i].len != ID_BYTES)
				return fail(why, whylen, SP_EMALFORMED, "delivery_acks: id %zu must be %d bytes", i,
				            ID_BYTES);
		if (a->signature.len != SIG_BYTES)
			return fail(why, whylen, SP_EMALFORMED, "delivery_acks: signature must be %d bytes",
			            SIG_BYTES);
		if (a->time == 0)
			return fail(why, whylen, SP_EMALFORMED, "delivery_acks: time missing");
		return SP_OK;
	}
	case SEINPOST__FRAME__BODY_DELIVERY_REFUSAL:
		if (!f->delivery_refusal)
			break;
		if (f->delivery_refusal->id.len != ID_BYTES)
			return fail(why, whylen, SP_EMALFORMED, "delivery_refusal: id must be %d bytes", ID_BYTES);
		return SP_OK;
	case SEINPOST__FRAME__BODY_ROSTER:
		/* The node checks the operator's signature and every entry
		 * (sp_roster_load_bytes); here only the envelope. */
		if (!f->roster)
			break;
		if (f->roster->signature.len != SIG_BYTES || f->roster->roster.len == 0)
			return fail(why, whylen, SP_EMALFORMED, "roster: signature or roster missing");
		return SP_OK;
	case SEINPOST__FRAME__BODY__NOT_SET:
		break;
	default:
		return check_audit_body(f, why, whylen);
	}
	return fail(why, whylen, SP_EMALFORMED, "frame: no body");
}

/* A referral rides on a delivery (policy range); absent is fine. */
static int check_referral(const Seinpost__Referral *r, char *why, size_t whylen)
{
	if (!r)
		return SP_OK;
	if (r->id.len != ID_BYTES || r->pseudonym.len != HASH_BYTES)
		return fail(why, whylen, SP_EMALFORMED, "referral: id or pseudonym has the wrong size");
	if (!sp_ident_ok(r->rule_id) || !sp_text_ok(r->basis, 1000, 0))
		return fail(why, whylen, SP_EMALFORMED, "referral: rule id or basis malformed");
	if (r->table[0] && (!sp_ident_ok(r->table) || strlen(r->table) > 48))
		return fail(why, whylen, SP_EMALFORMED, "referral: table id malformed");
	if (r->n_signal_ids > 4096)
		return fail(why, whylen, SP_ESIZE, "referral: too many signals");
	for (size_t i = 0; i < r->n_signal_ids; i++)
		if (r->signal_ids[i].len != ID_BYTES)
			return fail(why, whylen, SP_EMALFORMED, "referral: signal id %zu must be %d bytes", i, ID_BYTES);
	return SP_OK;
}

int sp_wire_decode_frame(const uint8_t *buf, size_t len, size_t max,
                         Seinpost__Frame **out, char *why, size_t whylen)
{
	Seinpost__Frame *f = NULL;
	int rc;

	*out = NULL;
	/* Size first: never let protobuf-c allocate for an oversized frame. */
	if (len > max)
		return fail(why, whylen, SP_ESIZE, "frame: larger than %zu bytes", max);
	if (!buf && len > 0)
		return fail(why, whylen, SP_EINVAL, "frame: no buffer");
	f = seinpost__frame__unpack(NULL, len, buf);
	if (!f)
		return fail(why, whylen, SP_EMALFORMED, "frame does not decode");
	if (f->version != SP_WIRE_VERSION) {
		rc = fail(why, whylen, SP_EMALFORMED, "frame: unsupported version");
		goto out;
	}
	if (has_unknown(&f->base)) {
		rc = fail(why, whylen, SP_EMALFORMED, "frame: unknown field");
		goto out;
	}
	rc = check_body(f, why, whylen);
out:
	if (rc != SP_OK) {
		seinpost__frame__free_unpacked(f, NULL);
		return rc;
	}
	*out = f;
	return SP_OK;
}

/* A text field: too long is SP_ESIZE, not valid UTF-8 or holding control
 * characters is SP_EMALFORMED. Empty means absent. */
static int check_text(const char *field, const char *s, size_t max, int newline,
                      char *why, size_t whylen)
{
	if (!s)
		return SP_OK;
	if (strlen(s) > max)
		return fail(why, whylen, SP_ESIZE, "%s: longer than %zu bytes", field, max);
	const char *problem = sp_text_problem(s, max, newline);
	if (problem)
		return fail(why, whylen, SP_EMALFORMED, "%s: not acceptable text: %s", field, problem);
	return SP_OK;
}

static int check_submit(const Seinpost__SubmitRequest *r, char *why, size_t whylen)
{
	static const struct {
		const char *name;
		size_t off, max;
		int newline;
	} fields[] = {
		{ "category", offsetof(Seinpost__SubmitRequest, category), MAX_LOCAL_CATEGORY, 0 },
		{ "subject_id", offsetof(Seinpost__SubmitRequest, subject_id), MAX_LOCAL_SUBJECT_ID, 0 },
		{ "name", offsetof(Seinpost__SubmitRequest, name), SP_MAX_NAME, 0 },
		{ "birthdate", offsetof(Seinpost__SubmitRequest, birthdate), MAX_LOCAL_BIRTHDATE, 0 },
		{ "address", offsetof(Seinpost__SubmitRequest, address), SP_MAX_ADDRESS, 0 },
		{ "summary", offsetof(Seinpost__SubmitRequest, summary), SP_MAX_SUMMARY, 1 },
		{ "contact", offsetof(Seinpost__SubmitRequest, contact), SP_MAX_CONTACT, 0 },
		{ "narrative", offsetof(Seinpost__SubmitRequest, narrative), SP_MAX_NARRATIVE, 1 },
		{ "idempotency_key", offsetof(Seinpost__SubmitRequest, idempotency_key), SP_IDEMPOTENCY_KEY_MAX, 0 },
	};
	int rc;

	/* weight is deliberately not checked: the node answers with the
	 * specific SP_EWEIGHT message. SUBJECT_NONE means a person. */
	if ((int)r->subject_kind < SEINPOST__SUBJECT_KIND__SUBJECT_NONE ||
	    r->subject_kind > SEINPOST__SUBJECT_KIND__SUBJECT_LOCATION)
		return fail(why, whylen, SP_EMALFORMED, "submit: subject_kind out of range");
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		const char *s = *(char *const *)((const char *)r + fields[i].off);
		rc = check_text(fields[i].name, s, fields[i].max, fields[i].newline, why, whylen);
		if (rc != SP_OK)
			return rc;
	}
	return SP_OK;
}

int sp_wire_decode_local(const uint8_t *buf, size_t len, Seinpost__LocalRequest **out,
                         char *why, size_t whylen)
{
	Seinpost__LocalRequest *q = NULL;
	int rc = SP_EMALFORMED;

	*out = NULL;
	if (len > MAX_LOCAL)
		return fail(why, whylen, SP_ESIZE, "request: larger than %u bytes", MAX_LOCAL);
	if (!buf && len > 0)
		return fail(why, whylen, SP_EINVAL, "request: no buffer");
	q = seinpost__local_request__unpack(NULL, len, buf);
	if (!q)
		return fail(why, whylen, SP_EMALFORMED, "request does not decode");
	if (has_unknown(&q->base)) {
		rc = fail(why, whylen, SP_EMALFORMED, "request: unknown field");
		seinpost__local_request__free_unpacked(q, NULL);
		return rc;
	}
	switch (q->body_case) {
	case SEINPOST__LOCAL_REQUEST__BODY_SUBMIT:
		if (!q->submit)
			goto nobody;
		rc = check_submit(q->submit, why, whylen);
		break;
	case SEINPOST__LOCAL_REQUEST__BODY_INVOLVE:
		if (!q->involve)
			goto nobody;
		/* persons, businesses (KvK) and locations (BAG); never "none" */
		if ((int)q->involve->subject_kind < 0 || q->involve->subject_kind > SEINPOST__SUBJECT_KIND__SUBJECT_LOCATION)
			rc = fail(why, whylen, SP_EMALFORMED, "involve: subject kind must be person, business or location");
		else if ((rc = check_text("subject_id", q->involve->subject_id, MAX_LOCAL_SUBJECT_ID, 0, why, whylen)) == SP_OK &&
		         (rc = check_text("until", q->involve->until, MAX_LOCAL_BIRTHDATE, 0, why, whylen)) == SP_OK)
			rc = check_text("ref", q->involve->ref, 256, 0, why, whylen);
		break;
	case SEINPOST__LOCAL_REQUEST__BODY_OUTBOX_STATUS:
		if (q->outbox_status.len != ID_BYTES)
			rc = fail(why, whylen, SP_EMALFORMED, "outbox_status: id must be %d bytes", ID_BYTES);
		else
			rc = SP_OK;
		break;
	case SEINPOST__LOCAL_REQUEST__BODY_AUDIT_QUERY:
		rc = check_audit_query(q->audit_query, 0, why, whylen);
		break;
	case SEINPOST__LOCAL_REQUEST__BODY_HEALTH:
		rc = SP_OK; /* no fields */
		break;
	case SEINPOST__LOCAL_REQUEST__BODY_REFERRAL_UPDATE:
		rc = check_referral_update(q->referral_update, why, whylen);
		break;
	case SEINPOST__LOCAL_REQUEST__BODY_WITHDRAW:
		rc = check_withdraw(q->withdraw, why, whylen);
		break;
	case SEINPOST__LOCAL_REQUEST__BODY_INVOLVE_BATCH: {
		const Seinpost__InvolveBatchRequest *b = q->involve_batch;
		if (!b)
			goto nobody;
		rc = SP_OK;
		if (b->n_items < 1 || b->n_items > MAX_INVOLVE_BATCH)
			rc = fail(why, whylen, SP_EMALFORMED, "involve_batch: 1 to %d items", MAX_INVOLVE_BATCH);
		else if (b->n_lines && b->n_lines != b->n_items)
			rc = fail(why, whylen, SP_EMALFORMED, "involve_batch: one line number per item");
		for (size_t i = 0; rc == SP_OK && i < b->n_items; i++) {
			const Seinpost__InvolveRequest *r = b->items[i];
			if (!r || (int)r->subject_kind < 0 || r->subject_kind > SEINPOST__SUBJECT_KIND__SUBJECT_PERSON)
				rc = fail(why, whylen, SP_EMALFORMED, "involve_batch: item %zu: only persons (BSN)", i);
			else if ((rc = check_text("subject_id", r->subject_id, MAX_LOCAL_SUBJECT_ID, 0, why, whylen)) == SP_OK &&
			         (rc = check_text("until", r->until, MAX_LOCAL_BIRTHDATE, 0, why, whylen)) == SP_OK)
				rc = check_text("ref", r->ref, 256, 0, why, whylen);
		}
		break;
	}
	default:
	nobody:
		rc = fail(why, whylen, SP_EMALFORMED, "request: no body");
		break;
	}
	if (rc != SP_OK) {
		seinpost__local_request__free_unpacked(q, NULL);
		return rc;
	}
	*out = q;
	return SP_OK;
}

int sp_wire_pack(const ProtobufCMessage *m, uint8_t **out, size_t *len)
{
	uint8_t *buf;
	size_t n;

	*out = NULL;
	*len = 0;
	if (!m)
		return SP_EINVAL;
	n = protobuf_c_message_get_packed_size(m);
	/* +1: an empty message packs to zero bytes; malloc(0) may return NULL. */
	buf = malloc(n + 1);
	if (!buf)
		return SP_ENOMEM;
	if (protobuf_c_message_pack(m, buf) != n) {
		free(buf);
		return SP_EINVAL;
	}
	*out = buf;
	*len = n;
	return SP_OK;
}

int sp_wire_stored_signal_header(const void *v, size_t len, Seinpost__SignalHeader **hdr)
{
	Seinpost__BrokerSignal *bs = seinpost__broker_signal__unpack(NULL, len, v);
	*hdr = NULL;
	if (!bs || !bs->signal) {
		if (bs)
			seinpost__broker_signal__free_unpacked(bs, NULL);
		return SP_ECORRUPT;
	}
	*hdr = seinpost__signal_header__unpack(NULL, bs->signal->header.len, bs->signal->header.data);
	if (*hdr && ((*hdr)->id.len != ID_BYTES || !sp_ident_ok((*hdr)->sender) ||
	             subject_pseudonym(bs->signal, *hdr, NULL, 0) != SP_OK)) {
		seinpost__signal_header__free_unpacked(*hdr, NULL);
		*hdr = NULL;
	}
	seinpost__broker_signal__free_unpacked(bs, NULL);
	if (*hdr && ((*hdr)->id.len != ID_BYTES || !sp_ident_ok((*hdr)->sender))) {
		seinpost__signal_header__free_unpacked(*hdr, NULL);
		*hdr = NULL;
	}
	return *hdr ? SP_OK : SP_ECORRUPT;
}

int sp_wire_stored_feedback(const void *v, size_t len, Seinpost__FeedbackItem **out)
{
	*out = seinpost__feedback_item__unpack(NULL, len, v);
	if (*out && ((*out)->signal_id.len != ID_BYTES || !sp_ident_ok((*out)->event))) {
		seinpost__feedback_item__free_unpacked(*out, NULL);
		*out = NULL;
	}
	return *out ? SP_OK : SP_ECORRUPT;
}
