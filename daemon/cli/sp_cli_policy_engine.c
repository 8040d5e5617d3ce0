/* sp_cli_policy_engine.c — referrals (a node command; involve is sp_cli_involve.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <jansson.h>

#include "sp_cli.h"
#include "sp_config.h"
#include "sp_policy_tables.h"
#include "sp_involve.h"
#include "sp_render.h"
#include "sp_signal.h"
#include "sp_store.h"
#include "sp_util.h"
#include "sp_wire.h"

/* ---- referrals: grouped from the inbox ------------------------------------ */

struct ref_row {
	Seinpost__Referral *r;   /* the most complete copy seen */
};

struct ref_ctx {
	struct ref_row *rows;
	size_t n;
	sp_txn *t;
};

static int collect_ref(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct ref_ctx *c = ctx;
	Seinpost__InboxEntry *e = seinpost__inbox_entry__unpack(NULL, vl, v);
	Seinpost__Referral *r;
	size_t i;
	if (!e || !e->delivery || !e->delivery->referral || e->delivery->referral->id.len != 16)
		goto out;
	r = e->delivery->referral;
	for (i = 0; i < c->n; i++)
		if (memcmp(c->rows[i].r->id.data, r->id.data, 16) == 0)
			break;
	/* the newest status wins (a move re-sends the referral; a withdrawal shrinks its list), then the
	 * fullest listing */
	if (i < c->n && (c->rows[i].r->status_time > r->status_time ||
	                 (c->rows[i].r->status_time == r->status_time && c->rows[i].r->n_signal_ids >= r->n_signal_ids)))
		goto out;
	if (i == c->n) {
		void *a = realloc(c->rows, (c->n + 1) * sizeof *c->rows);
		if (!a)
			goto out;
		c->rows = a;
		c->n++;
	} else
		seinpost__referral__free_unpacked(c->rows[i].r, NULL);
	/* Keep our own copy of the referral. */
	{
		uint8_t *buf = NULL;
		size_t len;
		c->rows[i].r = NULL;
		if (sp_wire_pack(&r->base, &buf, &len) == SP_OK)
			c->rows[i].r = seinpost__referral__unpack(NULL, len, buf);
		free(buf);
		if (!c->rows[i].r)
			c->n--;
	}
out:
	if (e)
		seinpost__inbox_entry__free_unpacked(e, NULL);
	return 0;
}

/* What this node holds of a listed signal: its header, the tiers granted
 * to us and the rule that routed it. 0 when it is not (or no longer) in the
 * inbox; sig_free in every case. */
struct sig_info {
	Seinpost__InboxEntry *e;
	Seinpost__SignalHeader *h;
	char tiers[64];
	unsigned mask;
	const char *rule;
};

static int sig_load(sp_txn *t, const uint8_t id[16], struct sig_info *s)
{
	const void *v;
	size_t vl;
	memset(s, 0, sizeof *s);
	if (sp_store_get(t, SP_DB_INBOX, id, 16, &v, &vl) != SP_OK ||
	    !(s->e = seinpost__inbox_entry__unpack(NULL, vl, v)) || !s->e->delivery || !s->e->delivery->signal ||
	    !(s->h = sp_wire_header_of(s->e->delivery->signal, &s->e->delivery->recipient_pseudonym)))
		return 0;
	unsigned m = 1;
	for (size_t i = 0; i < s->e->delivery->signal->n_grants; i++)
		m |= 1u << s->e->delivery->signal->grants[i]->tier;
	s->mask = m;
	sp_render_tiers(m, s->tiers, sizeof s->tiers);
	s->rule = s->e->delivery->n_rule_ids ? s->e->delivery->rule_ids[s->e->delivery->n_rule_ids - 1] : "-";
	return 1;
}

static void sig_free(struct sig_info *s)
{
	if (s->h)
		seinpost__signal_header__free_unpacked(s->h, NULL);
	if (s->e)
		seinpost__inbox_entry__free_unpacked(s->e, NULL);
	memset(s, 0, sizeof *s);
}

static void print_signal(sp_txn *t, const uint8_t id[16])
{
	struct sig_info s;
	char idhex[SP_ID_HEX];
	sp_hex(id, 16, idhex);
	if (sig_load(t, id, &s))
		printf("    %s  from %-20s %-20s w%u  tiers %-24s rule %s\n", idhex, s.h->sender, s.h->category,
		       s.h->weight, s.tiers, s.rule);
	else
		printf("    %s  (not yet received, or expired)\n", idhex);
	sig_free(&s);
}

static json_t *signal_json(sp_txn *t, const uint8_t id[16])
{
	struct sig_info s;
	char idhex[SP_ID_HEX];
	json_t *o;
	sp_hex(id, 16, idhex);
	if (sig_load(t, id, &s))
		o = json_pack("{s:s,s:s,s:s,s:i,s:o,s:s}", "id", idhex, "from", s.h->sender, "category",
		              s.h->category, "weight", (int)s.h->weight, "tiers", sp_render_tiers_json(s.mask),
		              "rule", s.rule);
	else
		o = json_pack("{s:s,s:b}", "id", idhex, "received", 0);
	sig_free(&s);
	return o;
}

/* One referral for --json: sp_render's description of it (the same object a
 * delivery hook gets as "referral"), plus the subject's pseudonym prefix,
 * our own reference, and per signal what this node holds. */
static json_t *referral_json(sp_txn *t, const Seinpost__Referral *r, const char *ps, const char *ref)
{
	json_t *o = sp_render_referral_json(r), *sigs = json_array();
	if (!o || !sigs) {
		json_decref(o);
		json_decref(sigs);
		return NULL;
	}
	json_object_del(o, "signals"); /* the ids; replaced by the details, last */
	json_object_set_new(o, "subject", json_string(ps));
	if (ref[0])
		json_object_set_new(o, "ref", json_string(ref));
	if (r->status[0]) /* the coordinator's, or closed after a withdrawal (docs/casework.md) */
		json_object_set_new(o, "status", json_string(r->status));
	for (size_t j = 0; j < r->n_signal_ids; j++)
		if (r->signal_ids[j].len == 16 && json_array_append_new(sigs, signal_json(t, r->signal_ids[j].data)) != 0) {
			json_decref(o);
			json_decref(sigs);
			return NULL;
		}
	if (json_object_set_new(o, "signals", sigs) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int sp_cli_referrals(const char *cfg_path, int argc, char **argv)
{
	sp_config cfg;
	sp_store *st = NULL;
	sp_txn *t = NULL;
	struct ref_ctx c = { 0 };
	sp_policy *pol = NULL;
	json_t *arr = NULL;
	int rc, json = argc == 2 && strcmp(argv[1], "--json") == 0;
	if (argc != 1 && !json) {
		fprintf(stderr, "usage: seinpost --config FILE referrals [--json]\n");
		return 2;
	}
	if ((rc = sp_cli_load_config(cfg_path, &cfg)) != 0)
		return rc;
	rc = sp_store_open(cfg.state_dir, cfg.map_size, SP_STORE_RDONLY, &st);
	if (rc == SP_OK)
		rc = sp_txn_begin(st, 0, &t);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost referrals: state %s: %s\n", cfg.state_dir, sp_strerror(rc));
		sp_store_close(&st);
		return 1;
	}
	(void)sp_store_foreach(t, SP_DB_INBOX, NULL, 0, collect_ref, &c);
	/* the node's copy of the policy, for the tables' display names only */
	if (sp_policy_load(cfg.policy_path, &pol, NULL, 0) != SP_OK)
		pol = NULL;
	if (json)
		arr = json_array();
	else if (!c.n)
		printf("(no referrals)\n");
	rc = json && !arr;
	for (size_t i = 0; i < c.n; i++) {
		Seinpost__Referral *r = c.rows[i].r;
		char idhex[SP_ID_HEX], ps[17], when[32], ref[SP_INVOLVE_REF_MAX + 1];
		sp_hex(r->pseudonym.data, 8, ps);
		sp_involve_local_ref(t, r->pseudonym.data, ref, sizeof ref);
		if (json) {
			json_t *o = arr ? referral_json(t, r, ps, ref) : NULL;
			if (!o || json_array_append_new(arr, o) != 0)
				rc = 1;
			seinpost__referral__free_unpacked(r, NULL);
			continue;
		}
		printf("referral %s\n  escalation rule %s, fired %s\n  subject %s%s%s\n"
		       "  window: %u organisations, summed weight %u; %zu signals listed, %u not shareable with us\n",
		       sp_hex(r->id.data, 16, idhex), r->rule_id, sp_iso_time(r->fired * 1000u, when, sizeof when),
		       ps, ref[0] ? "  ref " : "", ref, r->orgs, r->weight_sum, r->n_signal_ids, r->hidden);
		if (r->table[0]) {
			const sp_policy_table *tb = sp_policy_table_find(pol, r->table);
			printf("  table: %s%s%s%s\n", r->table, tb ? " (" : "", tb ? tb->name : "", tb ? ")" : "");
		}
		if (r->status[0])
			printf("  status: %s\n", r->status);
		printf("  basis: %s\n  signals:\n", r->basis);
		for (size_t j = 0; j < r->n_signal_ids; j++)
			if (r->signal_ids[j].len == 16)
				print_signal(t, r->signal_ids[j].data);
		seinpost__referral__free_unpacked(r, NULL);
	}
	free(c.rows);
	sp_policy_free(&pol);
	sp_txn_abort(&t);
	sp_store_close(&st);
	if (json && !rc) {
		char *s = json_dumps(arr, JSON_INDENT(2));
		if (s)
			puts(s);
		else
			rc = 1;
		free(s);
	}
	json_decref(arr);
	if (rc)
		fprintf(stderr, "seinpost referrals: out of memory\n");
	return rc;
}
