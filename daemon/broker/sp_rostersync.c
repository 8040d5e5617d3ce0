/*
 * sp_rostersync.c — applying a new roster at the broker (sp_rostersync.h).
 *
 * Runs once per reload, in one write transaction with its audit records:
 * a crash leaves either the old state (and the broker, restarted, reads the
 * new roster file and applies it again) or all of it.
 */
#include "sp_rostersync.h"
#include "sp_meta_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_audit.h"
#include "sp_log.h"
#include "sp_queue.h"
#include "sp_rosterfeed.h"
#include "sp_sth.h"
#include "sp_util.h"
#include "sp_wire.h"
#include "seinpost.pb-c.h"

#define C "roster"

struct keylist {
	uint8_t **keys;
	size_t *lens;
	size_t n, cap;
};

static int collect(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct keylist *l = ctx;
	(void)v;
	(void)vl;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		uint8_t **nk = realloc(l->keys, cap * sizeof *nk);
		size_t *nl;
		if (!nk)
			return -1;
		l->keys = nk;
		nl = realloc(l->lens, cap * sizeof *nl);
		if (!nl)
			return -1;
		l->lens = nl;
		l->cap = cap;
	}
	if (!(l->keys[l->n] = malloc(kl ? kl : 1)))
		return -1;
	memcpy(l->keys[l->n], k, kl);
	l->lens[l->n++] = kl;
	return 0;
}

static void keylist_free(struct keylist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->keys[i]);
	free(l->keys);
	free(l->lens);
	memset(l, 0, sizeof *l);
}

/* Delete every key of db starting with prefix; keys copied out first
 * (deleting while walking would move the cursor). */
static int drop_prefix(sp_txn *t, enum sp_db db, const void *prefix, size_t pl, size_t *count)
{
	struct keylist l = { 0 };
	int rc = sp_store_foreach(t, db, prefix, pl, collect, &l) < 0 ? SP_ENOMEM : SP_OK;
	for (size_t i = 0; rc == SP_OK && i < l.n; i++) {
		rc = sp_store_del(t, db, l.keys[i], l.lens[i]);
		if (rc == SP_ENOTFOUND)
			rc = SP_OK;
		(*count)++;
	}
	keylist_free(&l);
	return rc;
}

struct involve_ctx {
	const char *org;
	struct keylist l;
};

/* SP_DB_INVOLVE: pseudonym(32) || org -> Involvement */
static int involve_visit(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct involve_ctx *c = ctx;
	size_t ol = strlen(c->org);
	if (kl == 32 + ol && memcmp((const uint8_t *)k + 32, c->org, ol) == 0)
		return collect(&c->l, k, kl, v, vl);
	return 0;
}

static int drop_org(sp_txn *t, const char *org, size_t *dropped)
{
	uint8_t prefix[2 + SP_ID_MAX + 1];
	size_t ol = strlen(org), n = 0;
	struct involve_ctx ic = { .org = org };
	int rc;

	/* queued deliveries: org '\0' be64(seq), and their "q:" index */
	memcpy(prefix, org, ol + 1);
	rc = drop_prefix(t, SP_DB_QUEUE, prefix, ol + 1, &n);
	*dropped = n;
	memcpy(prefix, SP_MK_QUEUE_INDEX, 2);
	memcpy(prefix + 2, org, ol + 1);
	if (rc == SP_OK)
		rc = drop_prefix(t, SP_DB_META, prefix, ol + 3, &n);
	/* deferred releases: the conditional grants held for it */
	prefix[0] = 'r';
	n = 0;
	if (rc == SP_OK)
		rc = drop_prefix(t, SP_DB_META, prefix, ol + 3, &n);
	*dropped += n;
	if (rc == SP_OK && sp_store_foreach(t, SP_DB_INVOLVE, NULL, 0, involve_visit, &ic) < 0)
		rc = SP_ENOMEM;
	for (size_t i = 0; rc == SP_OK && i < ic.l.n; i++) {
		rc = sp_store_del(t, SP_DB_INVOLVE, ic.l.keys[i], ic.l.lens[i]);
		if (rc == SP_ENOTFOUND)
			rc = SP_OK;
	}
	*dropped += ic.l.n;
	keylist_free(&ic.l);
	return rc;
}

static int audit(sp_txn *t, int event, const char *actor, const char *recipient, const char *reason)
{
	sp_audit_entry e = { .event = event, .actor = actor, .recipient = recipient, .reason = reason };
	return sp_audit_append(t, &e, NULL);
}

int sp_rostersync_apply(sp_txn *t, const sp_roster *old, const sp_roster *cur)
{
	char why[SP_REASON_MAX + 64];
	int rc = SP_OK;

	for (size_t i = 0; rc == SP_OK && i < sp_roster_count(old); i++) {
		const sp_org *o = sp_roster_at(old, i), *n = sp_roster_find(cur, o->id);
		if (n) {
			if (memcmp(o->curve_pk, n->curve_pk, 32) != 0 || memcmp(o->sign_pk, n->sign_pk, 32) != 0 ||
			    memcmp(o->box_pk, n->box_pk, 32) != 0) {
				snprintf(why, sizeof why, "organisation keys rotated (curve, sign, box); old keys admitted until %llu",
				         (unsigned long long)(n->nprev ? n->prev[0].until : 0));
				rc = audit(t, SEINPOST__AUDIT_EVENT__AUDIT_KEY_ROTATED, o->id, NULL, why);
				sp_log_event(LOG_NOTICE, C, o->id, NULL, "keys rotated");
			}
			continue;
		}
		const sp_removal *rm = sp_roster_removed(cur, o->id);
		size_t dropped = 0;
		snprintf(why, sizeof why, "%s", rm ? rm->reason : "no longer on the roster");
		rc = audit(t, SEINPOST__AUDIT_EVENT__AUDIT_ORG_REVOKED, o->id, NULL, why);
		if (rc == SP_OK)
			rc = drop_org(t, o->id, &dropped);
		if (rc == SP_OK) {
			sp_audit_entry e = { .event = SEINPOST__AUDIT_EVENT__AUDIT_GRANTS_DROPPED, .actor = "broker",
			                     .recipient = o->id, .reason = why };
			snprintf(why, sizeof why, "%zu queued deliveries, held grants and involvements dropped", dropped);
			rc = sp_audit_append(t, &e, NULL);
		}
		sp_log_event(LOG_NOTICE, C, o->id, NULL, "revoked; %zu pending items dropped", dropped);
	}
	for (size_t i = 0; rc == SP_OK && i < sp_roster_count(cur); i++) {
		const sp_org *n = sp_roster_at(cur, i);
		if (!sp_roster_find(old, n->id)) {
			snprintf(why, sizeof why, "enrolled as %s", n->role);
			rc = audit(t, SEINPOST__AUDIT_EVENT__AUDIT_ORG_ADDED, n->id, NULL, why);
			sp_log_event(LOG_NOTICE, C, n->id, NULL, "enrolled as %s", n->role);
		}
	}
	if (rc == SP_OK && memcmp(sp_roster_broker_sign(old), sp_roster_broker_sign(cur), 32) != 0) {
		char a[17], b[17];
		snprintf(why, sizeof why, "broker sign key %s... replaced by %s... (transition record signed by both)",
		         sp_hex(sp_roster_broker_sign(old), 8, a), sp_hex(sp_roster_broker_sign(cur), 8, b));
		rc = audit(t, SEINPOST__AUDIT_EVENT__AUDIT_KEY_ROTATED, "broker", NULL, why);
	}
	if (rc == SP_OK) {
		snprintf(why, sizeof why, "serial %llu, %zu organisations", (unsigned long long)sp_roster_serial(cur),
		         sp_roster_count(cur));
		rc = audit(t, SEINPOST__AUDIT_EVENT__AUDIT_ROSTER_LOADED, "broker", NULL, why);
	}
	return rc;
}

const char *sp_rostersync_refusal(const sp_roster *r, const char *user, int *code)
{
	if (sp_roster_find(r, user))
		return NULL;
	if (sp_roster_removed(r, user)) {
		*code = SP_EREVOKED;
		return "organisation revoked";
	}
	*code = SP_EORG;
	return "organisation not on the roster";
}

int sp_rostersync_commit(sp_store *s, const sp_roster *old, const sp_roster *cur)
{
	sp_txn *t = NULL;
	int rc = sp_txn_begin(s, 1, &t);
	if (rc == SP_OK)
		rc = sp_rostersync_apply(t, old, cur);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	if (rc != SP_OK)
		sp_log(LOG_ERR, C, "applying roster serial %llu failed: %s; keeping serial %llu",
		       (unsigned long long)sp_roster_serial(cur), sp_strerror(rc), (unsigned long long)sp_roster_serial(old));
	return rc;
}

int sp_rostersync_load(const sp_config *c, const sp_roster *old, const sp_keyset *keys, sp_roster **out,
                       sp_keyset **keys_out)
{
	sp_roster *r = NULL;
	sp_keyset *k = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	/* Through the roster reader: keys/ is closed to the broker, and with it
	 * a roster file replaced next to it (sp_rosterfeed.h). */
	int rc = sp_rosterfeed_read(c->roster_path, 4u * 1024 * 1024, &buf, &len);
	if (rc == SP_OK)
		rc = sp_roster_load_bytes(buf, len, c->operator_pk, &r);
	free(buf);
	*out = NULL;
	*keys_out = NULL;
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "%s: %s; keeping the roster in force", c->roster_path, sp_strerror(rc));
		return rc;
	}
	if (sp_roster_serial(r) == sp_roster_serial(old)) {
		sp_roster_free(&r);
		return SP_EEXIST;
	}
	if (sp_roster_serial(r) < sp_roster_serial(old) || strcmp(sp_roster_network(r), sp_roster_network(old)) != 0 ||
	    memcmp(sp_roster_broker_curve(r), keys->curve_pk, 32) != 0) {
		sp_log(LOG_ERR, C, "%s is older, of another network or names another broker; keeping serial %llu",
		       c->roster_path, (unsigned long long)sp_roster_serial(old));
		sp_roster_free(&r);
		return SP_EINVAL;
	}
	if (memcmp(sp_roster_broker_sign(r), keys->sign_pk, 32) != 0) {
		rc = sp_keys_load(c->keys_dir, &k);
		if (rc == SP_OK && (memcmp(sp_roster_broker_sign(r), k->sign_pk, 32) != 0 ||
		                    memcmp(k->curve_pk, keys->curve_pk, 32) != 0))
			rc = SP_EKEY;
		if (rc != SP_OK) {
			sp_log(LOG_ERR, C, "the roster names a broker sign key that %s does not hold (%s); keeping serial %llu "
			       "(the broker reads keys/ only at start: restart it after `keys rotate --broker`)",
			       c->keys_dir, sp_strerror(rc), (unsigned long long)sp_roster_serial(old));
			sp_keys_free(&k);
			sp_roster_free(&r);
			return rc;
		}
	}
	*out = r;
	*keys_out = k;
	return SP_OK;
}

int sp_rostersync_frame(const sp_roster *r, uint8_t **buf, size_t *len)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__SignedRoster *sr;
	size_t rl;
	const uint8_t *raw = sp_roster_signed_bytes(r, &rl);
	int rc;
	if (!raw || !(sr = seinpost__signed_roster__unpack(NULL, rl, raw)))
		return SP_EINVAL;
	f.version = SP_WIRE_VERSION;
	f.body_case = SEINPOST__FRAME__BODY_ROSTER;
	f.roster = sr;
	rc = sp_wire_pack(&f.base, buf, len);
	seinpost__signed_roster__free_unpacked(sr, NULL);
	return rc;
}

int sp_rostersync_started(sp_store *s, const sp_roster *cur)
{
	Seinpost__SignedTreeHead *h = NULL;
	const uint8_t *bk[SP_BROKER_KEYS_MAX];
	size_t nbk = sp_roster_broker_keys(cur, bk, SP_BROKER_KEYS_MAX);
	sp_txn *t = NULL;
	int rc = sp_txn_begin(s, 1, &t);
	if (rc == SP_OK)
		rc = sp_sth_latest(t, &h);
	if (rc == SP_ENOTFOUND) {
		rc = SP_OK; /* no head yet: nothing was signed by any key */
	} else if (rc == SP_OK && h && sp_sth_verify(h, sp_roster_broker_sign(cur)) != SP_OK) {
		for (size_t i = 1; i < nbk; i++) {
			if (sp_sth_verify(h, bk[i]) != SP_OK)
				continue;
			char why[160], a[17], b[17];
			snprintf(why, sizeof why, "broker sign key %s... replaced by %s... (transition record signed by both)",
			         sp_hex(bk[i], 8, a), sp_hex(sp_roster_broker_sign(cur), 8, b));
			rc = audit(t, SEINPOST__AUDIT_EVENT__AUDIT_KEY_ROTATED, "broker", NULL, why);
			sp_log(LOG_NOTICE, C, "signing with the new broker sign key from the roster (serial %llu)",
			       (unsigned long long)sp_roster_serial(cur));
			break;
		}
	}
	if (h)
		seinpost__signed_tree_head__free_unpacked(h, NULL);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	return rc;
}
