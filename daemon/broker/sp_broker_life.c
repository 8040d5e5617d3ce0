/* sp_broker_life.c — the broker process starts (keys before the sandbox,
 * then roster, policy, store and sockets), reloads its policy and roster on
 * SIGHUP, and stops. */
#include "sp_broker_int.h"
#include "sp_subject.h"
#include "sp_translate.h"

#include <limits.h>

int sp_broker_load_policy(struct broker *b)
{
	char err[512];
	sp_policy *p = NULL;
	if (sp_policy_load(b->cfg->policy_path, &p, err, sizeof err) != SP_OK) {
		sp_log(LOG_ERR, C, "policy: %s", err);
		return SP_ECONFIG;
	}
	sp_policy_free(&b->policy);
	b->policy = p;
	return SP_OK;
}

int sp_broker_audit_policy_loaded(struct broker *b)
{
	sp_txn *t = NULL;
	int changed = 0, rc = sp_txn_begin(b->store, 1, &t);
	if (rc != SP_OK)
		return rc;
	rc = sp_polver_note(t, sp_policy_hash(b->policy), sp_now_ms(), &b->polver, &changed);
	if (rc != SP_OK) {
		sp_txn_abort(&t);
		return rc;
	}
	if (b->polver.has_prev && (changed || b->polver.changed_ms / 1000u + b->cfg->policy_grace_s > sp_now_s())) {
		char until[SP_ISO_TIME];
		sp_log(LOG_NOTICE, C, "policy %s: signals made under the previous version are accepted until %s "
		       "(policy_grace_s)", sp_policy_version(b->policy),
		       sp_iso_time(b->polver.changed_ms + (uint64_t)b->cfg->policy_grace_s * 1000u, until, sizeof until));
	}
	sp_audit_entry e = {
		.event = SEINPOST__AUDIT_EVENT__AUDIT_POLICY_LOADED,
		.actor = "broker",
		.policy_hash = sp_policy_hash(b->policy),
		.reason = sp_policy_version(b->policy),
	};
	rc = sp_audit_append(t, &e, NULL);
	if (rc == SP_OK)
		return sp_txn_commit(&t);
	sp_txn_abort(&t);
	return rc;
}

/* SIGHUP: the operator changed the roster (sp_rostersync.h). The ZAP
 * handler and the per-frame check use the new one from the next frame on;
 * connected nodes get it pushed. */
void sp_broker_reload_roster(struct broker *b)
{
	sp_roster *r = NULL, *old = b->roster;
	sp_keyset *k = NULL;
	struct peer *peers;
	uint8_t *buf = NULL;
	size_t len;
	if (sp_rostersync_load(b->cfg, old, b->keys, &r, &k) != SP_OK)
		return;
	peers = calloc(sp_roster_count(r) + 1, sizeof *peers);
	if (!peers || sp_rostersync_commit(b->store, old, r) != SP_OK) {
		free(peers);
		sp_roster_free(&r);
		sp_keys_free(&k);
		return;
	}
	/* Delivery state follows the organisation, not its roster position. */
	for (size_t i = 0; i < sp_roster_count(r); i++) {
		struct peer *p = sp_broker_peer_of(b, sp_roster_at(r, i)->id);
		if (p)
			peers[i] = *p;
	}
	sp_zap_set_roster(b->zap, r);
	free(b->peers);
	b->peers = peers;
	b->npeers = sp_roster_count(r);
	b->roster = r;
	sp_roster_free(&old);
	if (k) { /* the broker's sign key rotated: heads and recipient pseudonyms from now on */
		sp_subject_set_signer(k->sign_sk);
		sp_keys_free(&b->keys);
		b->keys = k;
	}
	sp_log(LOG_NOTICE, C, "roster reloaded: serial %llu, %zu organisations", (unsigned long long)sp_roster_serial(r),
	       sp_roster_count(r));
	for (size_t i = 0; i < b->npeers; i++)
		if (b->peers[i].rid_len && (buf || sp_rostersync_frame(r, &buf, &len) == SP_OK) &&
		    sp_transport_send(b->sock, b->peers[i].rid, b->peers[i].rid_len, buf, len) != SP_OK)
			sp_log(LOG_DEBUG, C, "roster not pushed to a peer; it gets it with its next hello");
	free(buf);
}

int sp_broker_open(struct broker *b)
{
	char path[PATH_MAX];
	struct stat st;
	int rc;

	/* Before any secret is in memory: the roster reader (sp_rosterfeed.h). */
	rc = sp_rosterfeed_start(b->cfg->roster_path);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "cannot start the roster reader");
		return rc;
	}
	rc = sp_keys_load(b->cfg->keys_dir, &b->keys);
	if (rc == SP_OK) {
		sp_subject_set_signer(b->keys->sign_sk);
		rc = sp_malformed_new(&b->malformed);
	}
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "keys in %s: %s", b->cfg->keys_dir, sp_strerror(rc));
		return rc;
	}
	if (b->keys->has_box || /* e.g. keys_box.key among systemd credentials */
	    (sp_path_join(b->cfg->keys_dir, "box.key", path, sizeof path) == SP_OK && stat(path, &st) == 0)) {
		sp_log(LOG_ERR, C, "refusing to start: %s exists; the broker must never hold a content key", path);
		return SP_ECONFIG;
	}
	/* δ of past key rotations is sealed in the store under this key */
	if ((rc = sp_translate_key_load(b->cfg->keys_dir)) != SP_OK) {
		sp_log(LOG_ERR, C, "%s/%s: %s", b->cfg->keys_dir, SP_TRANSLATE_KEY_FILE, sp_strerror(rc));
		return rc;
	}
	/* The keys are in memory: close keys/, dumps and new privileges before
	 * any thread exists (docs/privsep.md). */
	rc = sp_sandbox_broker(b->cfg);
	if (rc != SP_OK)
		return rc;
	rc = sp_roster_load(b->cfg->roster_path, b->cfg->operator_pk, &b->roster);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "roster %s: %s", b->cfg->roster_path, sp_strerror(rc));
		return rc;
	}
	if (memcmp(sp_roster_broker_curve(b->roster), b->keys->curve_pk, 32) != 0) {
		sp_log(LOG_ERR, C, "our CURVE key is not the broker key in the roster");
		return SP_EKEY;
	}
	rc = sp_broker_load_policy(b);
	if (rc != SP_OK)
		return rc;
	rc = sp_store_open(b->cfg->state_dir, b->cfg->map_size, SP_STORE_CHECK, &b->store);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "state %s: %s (%s)", b->cfg->state_dir, sp_strerror(rc), sp_store_last_error());
		return rc;
	}
	if ((rc = sp_translate_load(b->store)) != SP_OK) {
		sp_log(LOG_ERR, C, "the pseudonym translations in the store cannot be opened with %s/%s: %s",
		       b->cfg->keys_dir, SP_TRANSLATE_KEY_FILE, sp_strerror(rc));
		return rc;
	}
	if (sp_translate_epoch())
		sp_log(LOG_INFO, C, "pseudonymisation key epoch %u (older pseudonyms are translated)", sp_translate_epoch());
	sp_health_audit_check(&b->health, b->store, b->keys->sign_pk);
	b->npeers = sp_roster_count(b->roster);
	b->peers = calloc(b->npeers ? b->npeers : 1, sizeof *b->peers);
	b->inbox = calloc(BATCH_MAX, sizeof *b->inbox);
	if (!b->inbox || sp_workers_new(&b->workers) != SP_OK)
		return SP_ENOMEM;
	if (!b->peers)
		return SP_ENOMEM;
	b->zctx = zmq_ctx_new();
	if (!b->zctx)
		return SP_ENOMEM;
	rc = sp_zap_start(b->zctx, b->roster, &b->zap);
	if (rc != SP_OK)
		return rc;
	if ((rc = sp_control_open(b->zctx, b->cfg, b->roster, &b->ctl)) != SP_OK ||
	    (rc = sp_quarantine_new(b->cfg->max_refusals, &b->quar)) != SP_OK)
		return rc;
	sp_transport_opts o = {
		.endpoint = b->cfg->endpoint,
		.max_frame = b->cfg->max_frame,
		.heartbeat_ms = b->cfg->heartbeat_ms,
		.handshake_ms = b->cfg->handshake_s * 1000u,
	};
	/* sp_transport_broker says why in one line (the errno of the bind). */
	return sp_transport_broker(b->zctx, b->keys, &o, &b->sock);
}

void sp_broker_close(struct broker *b)
{
	sp_rosterfeed_stop();
	sp_malformed_free(&b->malformed);
	for (size_t i = 0; i < b->nreplies; i++)
		free(b->replies[i].buf);
	if (b->sock)
		zmq_close(b->sock);
	sp_control_close(&b->ctl);
	sp_quarantine_free(&b->quar);
	sp_zap_stop(&b->zap);
	if (b->zctx)
		zmq_ctx_term(b->zctx);
	free(b->peers);
	free(b->inbox);
	sp_workers_free(&b->workers);
	sp_store_close(&b->store);
	if (b->sth)
		seinpost__signed_tree_head__free_unpacked(b->sth, NULL);
	sp_policy_free(&b->policy);
	sp_roster_free(&b->roster);
	sp_keys_free(&b->keys);
}
