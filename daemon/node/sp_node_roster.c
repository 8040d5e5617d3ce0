/* sp_node_roster.c — a newer signed roster from the broker or on SIGHUP:
 * checked against the operator key, swapped in, and our connection rekeyed
 * when our own keys on it changed. */
#include "sp_node_int.h"

/* Our keys on a new roster differ from the ones we connect with: `keys
 * rotate` put the new generation in the key directory. Connect with it
 * (the broker admits the new CURVE key from this roster on) and sign with
 * it; the old generations stay in the ring to open what was sealed to them. */
static void rekey(struct node *n, const sp_org *me)
{
	uint8_t old_pk[32], old_sk[32], old_sign[32];
	void *sock = NULL;
	sp_transport_opts o = { .endpoint = n->cfg->endpoint, .max_frame = n->cfg->max_frame,
	                        .heartbeat_ms = n->cfg->heartbeat_ms, .rcvhwm = -1 }; /* as at start (sp_node_life.c) */
	/* The key holder holds every generation (and re-reads keys/ for one
	 * written after start); we get only the new CURVE secret. */
	memcpy(old_pk, n->keys->curve_pk, 32);
	memcpy(old_sk, n->keys->curve_sk, 32);
	memcpy(old_sign, sp_kh_sign_pk(n->kh), 32);
	if (sp_kh_select(n->kh, me->curve_pk, me->sign_pk, n->keys->curve_sk) != SP_OK) {
		sp_log(LOG_ERR, C, "roster names keys for us that %s does not hold; still using the old ones",
		       n->cfg->keys_dir);
		memcpy(n->keys->curve_sk, old_sk, 32);
		sodium_memzero(old_sk, sizeof old_sk);
		return;
	}
	memcpy(n->keys->curve_pk, me->curve_pk, 32);
	memcpy(n->keys->sign_pk, me->sign_pk, 32);
	if (sp_transport_node(n->zctx, n->keys, sp_roster_broker_curve(n->roster), n->cfg->org, &o, &sock) != SP_OK) {
		sp_log(LOG_ERR, C, "cannot connect with the new keys; still using the old ones");
		memcpy(n->keys->curve_pk, old_pk, 32);
		memcpy(n->keys->sign_pk, old_sign, 32);
		if (sp_kh_select(n->kh, old_pk, old_sign, n->keys->curve_sk) != SP_OK)
			memcpy(n->keys->curve_sk, old_sk, 32);
		sodium_memzero(old_sk, sizeof old_sk);
		return;
	}
	sodium_memzero(old_sk, sizeof old_sk);
	zmq_close(n->sock);
	n->sock = sock;
	sp_log(LOG_NOTICE, C, "key rotation: now connected and signing with the new keys (older generations "
	       "stay with the key holder)");
	{
		/* Our own log records the switch too (not inside a batch: this
		 * runs after the batch commit or on SIGHUP). */
		sp_txn *t = NULL;
		int rc = sp_txn_begin(n->store, 1, &t);
		if (rc == SP_OK)
			rc = sp_node_local_audit(t, n, SEINPOST__AUDIT_EVENT__AUDIT_KEY_ROTATED, NULL, NULL, 0,
			                 "now connected and signing with the new keys");
		if (rc == SP_OK)
			rc = sp_txn_commit(&t);
		sp_txn_abort(&t);
		if (rc != SP_OK)
			sp_log(LOG_ERR, C, "audit of the key rotation failed: %s", sp_strerror(rc));
	}
	sp_node_send_hello(n);
	n->retry.next_ms = 0; /* what was in flight on the old connection goes again */
}

/* A newer roster (from the broker, or the files on SIGHUP). */
static void roster_swap(struct node *n, sp_roster *r)
{
	sp_roster *old = n->roster;
	const sp_org *me;
	n->roster = r;
	sp_hook_set_roster(n->hook, r);
	n->audit.roster = r;
	me = sp_roster_find(r, n->cfg->org);
	if (!me)
		sp_log(LOG_CRIT, C, "this organisation is no longer on the roster (serial %llu): the broker refuses "
		       "what we send", (unsigned long long)sp_roster_serial(r));
	else if (memcmp(me->curve_pk, n->keys->curve_pk, 32) != 0 || memcmp(me->sign_pk, sp_kh_sign_pk(n->kh), 32) != 0)
		rekey(n, me);
	sp_node_oprf_roster(r, n->kh); /* a rotation of the pseudonymisation key */
	sp_roster_free(&old);
	sp_log(LOG_NOTICE, C, "roster serial %llu in force, %zu organisations", (unsigned long long)sp_roster_serial(r),
	       sp_roster_count(r));
}

void sp_node_roster_offered(struct node *n, const Seinpost__SignedRoster *sr)
{
	sp_roster *r = NULL;
	int rc = sp_rosterstate_accept(n->cfg, n->roster, sr, &r);
	if (rc == SP_OK)
		roster_swap(n, r);
	else if (rc != SP_EEXIST)
		sp_log(LOG_ERR, C, "roster from the broker refused: %s", sp_strerror(rc));
}

/* SIGHUP: a roster file newer than the one in force (the broker hands
 * them out too; this is for a node that cannot reach it). */
void sp_node_roster_reload(struct node *n)
{
	sp_roster *r = NULL;
	if (sp_rosterstate_load(n->cfg, &r) != SP_OK)
		return;
	if (sp_roster_serial(r) > sp_roster_serial(n->roster) &&
	    strcmp(sp_roster_network(r), sp_roster_network(n->roster)) == 0 &&
	    memcmp(sp_roster_broker_curve(r), sp_roster_broker_curve(n->roster), 32) == 0)
		roster_swap(n, r);
	else
		sp_roster_free(&r);
}
