/*
 * sp_whosaw.c — who-saw on the privacy officer's node, complete and provably
 * so (docs/audit.md, "The privacy officer's verified copy").
 *
 * The broker's answer is still asked for (so the look-up is audited there),
 * but the list comes from the node's own verified copy of the whole log,
 * with an inclusion proof per entry against the signed head the copy
 * matched. The two are compared: a record the broker left out of its answer
 * (a deleted or altered index entry) is an alarm, as is a copy in alarm, a
 * witness alarm, or a copy that lags behind the head of the answer. Every
 * alarm becomes a warning at the top of the output and exit status 1.
 */
#include "sp_whosaw.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_monitor.h"
#include "sp_store.h"
#include "sp_util.h"
#include "sp_witness.h"

#define WAIT_MS 30000 /* for the copy to reach the answer's head (it polls every 2 s) */

struct walk {
	sp_txn *t;
	sp_report *rep;
	const sp_monitor_state *m;
	const uint8_t (*pseudos)[32];
	size_t np;
	const uint64_t *bseqs;
	size_t nb;
	uint64_t answer_head; /* the broker's answer covers records up to here */
	size_t missing, bad_proofs, wrong;
	uint64_t *cseqs; /* the copy's records about the subject */
	size_t nc, capc;
	int rc;
};

static int in_answer(const struct walk *w, uint64_t seq)
{
	for (size_t i = 0; i < w->nb; i++)
		if (w->bseqs[i] == seq)
			return 1;
	return 0;
}

static int one(void *ctx, uint64_t seq, const uint8_t *raw, size_t len)
{
	struct walk *w = ctx;
	sp_merkle_hash path[SP_MERKLE_MAX_PROOF];
	uint8_t leaf[32];
	size_t n = 0;
	Seinpost__AuditRecord *r = seinpost__audit_record__unpack(NULL, len, raw);
	if (!r) {
		w->rc = SP_ECORRUPT;
		return 1;
	}
	if (w->nc == w->capc) {
		size_t cap = w->capc ? w->capc * 2 : 64;
		uint64_t *c = realloc(w->cseqs, cap * sizeof *c);
		if (!c) {
			seinpost__audit_record__free_unpacked(r, NULL);
			w->rc = SP_ENOMEM;
			return 1;
		}
		w->cseqs = c;
		w->capc = cap;
	}
	w->cseqs[w->nc++] = seq;
	{
		size_t i = 0;
		while (i < w->np && (r->pseudonym.len != 32 || memcmp(r->pseudonym.data, w->pseudos[i], 32) != 0))
			i++;
		if (i == w->np)
			w->wrong++; /* our own index disagrees with the record: the copy is damaged */
	}
	if ((w->rc = sp_monitor_inclusion(w->t, seq, w->m->verified, path, &n)) == SP_OK) {
		sp_merkle_leaf(raw, len, leaf);
		if (sp_merkle_inclusion_verify(seq - 1, w->m->verified, leaf, path, n, w->m->head_root) != SP_OK)
			w->bad_proofs++;
		/* The copy may already hold records signed after the head the
		 * broker answered from (a read receipt, the query's own record):
		 * those are later, not left out. */
		if (seq <= w->answer_head && !in_answer(w, seq))
			w->missing++;
		w->rc = sp_report_add_proven(w->rep, r, raw, len, path, n);
	}
	seinpost__audit_record__free_unpacked(r, NULL);
	return w->rc != SP_OK;
}

int sp_whosaw_complete(const sp_config *cfg, const uint8_t (*pseudos)[32], const uint64_t *heads, size_t np,
                       const uint64_t *bseqs, size_t nb, int broker_proven, sp_report *rep)
{
	const uint8_t *pseudo = pseudos[0];
	uint64_t answer_head = 0;
	for (size_t i = 0; i < np; i++)
		answer_head = heads[i] > answer_head ? heads[i] : answer_head;
	sp_store *st = NULL;
	sp_txn *t = NULL;
	sp_monitor_state m;
	sp_witness_state wit;
	struct walk w = { .rep = rep, .m = &m, .pseudos = pseudos, .np = np, .bseqs = bseqs, .nb = nb,
	                  .answer_head = answer_head };
	size_t extra = 0;
	int rc = sp_store_open(cfg->state_dir, cfg->map_size, SP_STORE_RDONLY, &st);

	if (rc != SP_OK) {
		sp_report_warn(rep, "the verified copy of the audit log cannot be read: %s", sp_strerror(rc));
		return rc;
	}
	for (uint64_t waited = 0;; waited += 200) {
		if ((rc = sp_txn_begin(st, 0, &t)) != SP_OK)
			goto out;
		if ((rc = sp_monitor_state_get(t, &m)) != SP_OK)
			goto out;
		if (m.alarm || m.verified >= answer_head || waited >= WAIT_MS)
			break;
		sp_txn_abort(&t);
		usleep(200000);
	}
	if (sp_witness_status(st, &wit) == SP_OK && wit.alarm)
		sp_report_warn(rep, "witness ALARM: the broker's audit history %s", wit.reason);
	if (m.alarm)
		sp_report_warn(rep, "the verified copy is in ALARM: the broker's audit log %s", m.reason);
	if (!broker_proven)
		sp_report_warn(rep, "the broker's answer failed its inclusion checks against the signed tree head");
	if (m.verified < answer_head)
		sp_report_warn(rep, "the verified copy reaches the signed head of size %llu, the broker's answer "
		               "%llu: later records are not in this list", (unsigned long long)m.verified,
		               (unsigned long long)answer_head);
	if (m.verified) {
		w.t = t;
		for (size_t i = 0; i < np && rc == SP_OK; i++) {
			w.answer_head = heads[i]; /* what that answer covered */
			rc = sp_monitor_subject(t, pseudos[i], m.verified, one, &w);
			if (rc == SP_OK)
				rc = w.rc;
		}
		if (rc != SP_OK)
			goto out;
	}
	for (size_t i = 0; i < nb; i++) {
		uint64_t seq = bseqs[i];
		int found = 0;
		if (seq > m.verified)
			continue;
		/* an answered record the copy does not list under this subject */
		for (size_t j = 0; j < w.nc && !found; j++)
			found = w.cseqs[j] == seq;
		if (!found)
			extra++;
	}
	if (w.missing)
		sp_report_warn(rep, "ALARM: the broker's answer left out %zu record(s) about this subject that its own "
		               "signed log holds: its who-saw index was altered (listed here from the verified copy)",
		               w.missing);
	if (extra)
		sp_report_warn(rep, "ALARM: the broker's answer holds %zu record(s) that its signed log does not hold "
		               "about this subject", extra);
	if (w.bad_proofs || w.wrong)
		sp_report_warn(rep, "the verified copy is damaged: %zu entries fail their own proof",
		               w.bad_proofs + w.wrong);
	if (m.verified) {
		sp_report_set_head(rep, m.verified, m.head_time, m.head_root, !m.alarm);
		sp_report_set_signature(rep, m.head_sig, pseudo);
	} else {
		sp_report_set_head(rep, 0, 0, NULL, 0);
		sp_report_warn(rep, "the verified copy holds no signed tree head yet");
	}
out:
	if (rc != SP_OK)
		sp_report_warn(rep, "the verified copy of the audit log cannot be read: %s", sp_strerror(rc));
	free(w.cseqs);
	sp_txn_abort(&t);
	sp_store_close(&st);
	return rc;
}
