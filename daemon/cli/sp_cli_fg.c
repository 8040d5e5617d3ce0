/*
 * sp_cli_fg.c — the privacy officer's audit commands (seinpost audit ...):
 * verify (records + signed tree heads), log with filters, who-saw, report,
 * export, witness.
 *
 * On the privacy officer's node, log / who-saw / report query the broker
 * through the node (the BSN is pseudonymised here, never sent); answers are
 * checked against the broker's signed tree head with RFC 9162 inclusion
 * proofs. On the broker's own configuration the same commands read the
 * local log (who-saw then takes --pseudonym, the broker holds no
 * pseudonymisation key) and the look-up is audited there too.
 */
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>
#include <sodium.h>

#include "sp_audit.h"
#include "sp_bsn.h"
#include "sp_statedir.h"
#include "sp_cli.h"
#include "sp_config.h"
#include "sp_merkle.h"
#include "sp_mtree.h"
#include "sp_policy.h"
#include "sp_pseudo.h"
#include "sp_report.h"
#include "sp_report_lang.h"
#include "sp_orgverify.h"
#include "sp_roster.h"
#include "sp_rosterstate.h"
#include "sp_sth.h"
#include "sp_store.h"
#include "sp_submit.h"
#include "sp_translate.h"
#include "sp_util.h"
#include "sp_whosaw.h"
#include "sp_wire.h"
#include "sp_witness.h"


typedef int (*rec_fn)(void *ctx, const uint8_t *raw, size_t len, const Seinpost__AuditRecord *r, int proven);

struct fetch {
	const sp_config *cfg;
	const sp_roster *roster;
	Seinpost__AuditQuery q;
	rec_fn fn;
	void *ctx;
	/* out */
	uint64_t head_size, head_time;
	uint8_t head_root[32];
	int head_ok, all_proven;
	/* who-saw after key rotations: the subject's earlier pseudonyms */
	uint8_t earlier[SP_ROSTER_ROTATIONS_MAX][32], eproof[SP_ROSTER_ROTATIONS_MAX][64];
	uint32_t eepoch[SP_ROSTER_ROTATIONS_MAX];
	size_t nearlier;
};


/* Remote: page through the broker's answers, checking each against the
 * signed head it came with. */
static int fetch_remote(struct fetch *f)
{
	Seinpost__LocalRequest req = SEINPOST__LOCAL_REQUEST__INIT;
	Seinpost__LocalReply *rep = NULL;
	int rc;

	f->all_proven = 1;
	req.body_case = SEINPOST__LOCAL_REQUEST__BODY_AUDIT_QUERY;
	req.audit_query = &f->q;
	for (;;) {
		Seinpost__AuditQueryResult *res;
		f->q.id = (ProtobufCBinaryData){ 0 };
		rc = sp_cli_local_call(f->cfg, &req, &rep);
		if (rc != SP_OK)
			return rc;
		res = rep->audit;
		if (rep->code != 0 || !res) {
			fprintf(stderr, "seinpost audit: %s\n", rep->message[0] ? rep->message : sp_strerror(rep->code));
			rc = rep->code ? rep->code : SP_EMALFORMED;
			goto out;
		}
		if (!res->sth || sp_roster_verify_sth(f->roster, res->sth) != SP_OK) {
			fprintf(stderr, "seinpost audit: the answer's tree head is not signed by the broker\n");
			rc = SP_ESIG;
			goto out;
		}
		for (size_t i = 0; i < res->n_earlier && f->nearlier < SP_ROSTER_ROTATIONS_MAX; i++, f->nearlier++) {
			memcpy(f->earlier[f->nearlier], res->earlier[i]->pseudonym.data, 32); /* sizes: sp_wire */
			memcpy(f->eproof[f->nearlier], res->earlier[i]->proof.data, 64);
			f->eepoch[f->nearlier] = res->earlier[i]->epoch;
		}
		f->head_ok = 1;
		f->head_size = res->sth->tree_size;
		f->head_time = res->sth->timestamp;
		memcpy(f->head_root, res->sth->root_hash.data, 32);
		for (size_t i = 0; i < res->n_records; i++) {
			Seinpost__AuditRecord *r = seinpost__audit_record__unpack(NULL, res->records[i].len,
			                                                          res->records[i].data);
			int proven = 0;
			if (!r) {
				rc = SP_EMALFORMED;
				goto out;
			}
			if (i < res->n_proofs) {
				sp_merkle_hash p[64];
				uint8_t leaf[32];
				size_t n = res->proofs[i]->n_hashes;
				for (size_t j = 0; j < n && j < 64; j++)
					memcpy(p[j], res->proofs[i]->hashes[j].data, 32);
				sp_merkle_leaf(res->records[i].data, res->records[i].len, leaf);
				proven = r->seq >= 1 && sp_merkle_inclusion_verify(r->seq - 1, res->sth->tree_size, leaf,
				                                                   p, n, res->sth->root_hash.data) == SP_OK;
			}
			if (!proven)
				f->all_proven = 0;
			rc = f->fn(f->ctx, res->records[i].data, res->records[i].len, r, proven);
			seinpost__audit_record__free_unpacked(r, NULL);
			if (rc != SP_OK)
				goto out;
		}
		if (!res->next_seq)
			break;
		f->q.from_seq = res->next_seq;
		seinpost__local_reply__free_unpacked(rep, NULL);
		rep = NULL;
	}
	rc = SP_OK;
out:
	if (rep)
		seinpost__local_reply__free_unpacked(rep, NULL);
	return rc;
}

struct lctx {
	struct fetch *f;
	sp_txn *t;
	int rc;
};

static int local_seq(void *ctx, uint64_t seq)
{
	struct lctx *c = ctx;
	const Seinpost__AuditQuery *q = &c->f->q;
	Seinpost__AuditRecord *r;
	uint8_t key[8];
	const void *v;
	size_t vl;
	int keep;
	sp_be64_put(key, seq);
	if ((c->rc = sp_store_get(c->t, SP_DB_AUDIT, key, 8, &v, &vl)) != SP_OK)
		return 1;
	if (!(r = seinpost__audit_record__unpack(NULL, vl, v))) {
		c->rc = SP_ECORRUPT;
		return 1;
	}
	keep = (!q->since || r->time >= q->since) && (!q->until || r->time <= q->until) &&
	       (!q->org[0] || !strcmp(r->actor, q->org) || !strcmp(r->recipient, q->org)) &&
	       (q->signal_id.len != 16 || (r->signal_id.len == 16 && !memcmp(r->signal_id.data, q->signal_id.data, 16)));
	if (keep)
		c->rc = c->f->fn(c->f->ctx, v, vl, r, 0);
	seinpost__audit_record__free_unpacked(r, NULL);
	return c->rc != SP_OK;
}

/* Local: this process's own log (broker or node). On the broker a who-saw
 * look-up is audited before it is answered. */
static int fetch_local(struct fetch *f)
{
	sp_store *st = NULL;
	sp_txn *t = NULL;
	struct lctx c = { .f = f };
	Seinpost__SignedTreeHead *h = NULL;
	uint64_t size = 0;
	int rc;
	sp_lock *lock = NULL;
	char why[512];
	int who = f->q.kind == SEINPOST__AUDIT_QUERY_KIND__AUDIT_QUERY_WHO_SAW;
	/* who-saw writes its query record beside a running broker: a writer's lock. */
	if (who && (rc = sp_statedir_lock(f->cfg->state_dir, SP_LOCK_WRITER, &lock, why, sizeof why)) != SP_OK) {
		fprintf(stderr, "seinpost audit: %s\n", why);
		return rc;
	}
	rc = sp_store_open(f->cfg->state_dir, f->cfg->map_size, who ? 0 : SP_STORE_RDONLY, &st);
	if (rc != SP_OK) {
		sp_statedir_unlock(&lock);
		fprintf(stderr, "seinpost audit: state %s: %s\n", f->cfg->state_dir, sp_strerror(rc));
		return rc;
	}
	if (who) {
		sp_audit_entry e = {
			.event = SEINPOST__AUDIT_EVENT__AUDIT_QUERY,
			.actor = f->cfg->org,
			.pseudonym = f->q.pseudonym.data,
			.reason = "who-saw (offline, on the broker)",
		};
		rc = sp_txn_begin(st, 1, &t);
		if (rc == SP_OK)
			rc = sp_audit_append(t, &e, NULL);
		if (rc == SP_OK)
			rc = sp_txn_commit(&t);
		sp_txn_abort(&t);
		if (rc != SP_OK) {
			fprintf(stderr, "seinpost audit: cannot audit the look-up: %s; not answered\n", sp_strerror(rc));
			goto out;
		}
	}
	if ((rc = sp_txn_begin(st, 0, &t)) != SP_OK)
		goto out;
	c.t = t;
	if (sp_sth_latest(t, &h) == SP_OK) {
		f->head_ok = 1;
		f->head_size = h->tree_size;
		f->head_time = h->timestamp;
		memcpy(f->head_root, h->root_hash.data, 32);
	}
	if (who)
		rc = sp_mtree_index_foreach(t, SP_MTREE_BY_PSEUDO, f->q.pseudonym.data, 32, local_seq, &c);
	else if (f->q.signal_id.len == 16)
		rc = sp_mtree_index_foreach(t, SP_MTREE_BY_SIGNAL, f->q.signal_id.data, 16, local_seq, &c);
	else if ((rc = sp_audit_size(t, &size)) == SP_OK)
		for (uint64_t s = 1; s <= size; s++)
			if (local_seq(&c, s))
				break;
	if (rc >= 0 && c.rc != SP_OK)
		rc = c.rc;
	if (rc > 0)
		rc = SP_OK;
out:
	if (h)
		seinpost__signed_tree_head__free_unpacked(h, NULL);
	sp_txn_abort(&t);
	sp_store_close(&st);
	sp_statedir_unlock(&lock);
	return rc;
}

static int is_privacy_officer(const sp_config *cfg, const sp_roster *r)
{
	const sp_org *o = cfg->role == SP_RUN_NODE ? sp_roster_find(r, cfg->org) : NULL;
	return o && strcmp(o->role, "privacy-officer") == 0;
}

static int parse_time(const char *s, uint64_t *ms)
{
	struct tm tm;
	const char *end;
	char *e;
	memset(&tm, 0, sizeof tm);
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) && !*end)
		goto ok;
	memset(&tm, 0, sizeof tm);
	if ((end = strptime(s, "%Y-%m-%d", &tm)) && !*end)
		goto ok;
	*ms = strtoull(s, &e, 10);
	return *s && !*e ? SP_OK : SP_EINVAL;
ok:
	*ms = (uint64_t)timegm(&tm) * 1000u;
	return SP_OK;
}

/* ---- printing ----------------------------------------------------------- */

struct out_log {
	int json;
	json_t *arr;
};

static int print_log(void *ctx, const uint8_t *raw, size_t len, const Seinpost__AuditRecord *r, int proven)
{
	struct out_log *o = ctx;
	(void)raw;
	(void)len;
	if (o->json) {
		json_t *j = sp_cli_audit_record_json(r);
		if (j)
			json_object_set_new(j, "proven", json_boolean(proven));
		json_array_append_new(o->arr, j);
		return SP_OK;
	}
	sp_cli_audit_record_print(r);
	return SP_OK;
}

/* The broker's who-saw answer on the privacy officer's node: only which
 * records it listed; the list itself comes from the verified copy. */
struct seqs {
	uint64_t *v;
	size_t n, cap;
};

static int note_seq(void *ctx, const uint8_t *raw, size_t len, const Seinpost__AuditRecord *r, int proven)
{
	struct seqs *s = ctx;
	(void)raw;
	(void)len;
	(void)proven;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return SP_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = r->seq;
	return SP_OK;
}

static int add_report(void *ctx, const uint8_t *raw, size_t len, const Seinpost__AuditRecord *r, int proven)
{
	(void)raw;
	(void)len;
	return sp_report_add(ctx, r, proven);
}

/* After rotations of the pseudonymisation key the records before them carry
 * the subject's earlier pseudonyms (sp_translate.h). The broker's answer
 * names them, each proven (DLEQ) against the roster's d of its rotation; a
 * missing or unproven one is an alarm. Each is then asked for and checked
 * against the verified copy like the current one. */
static int whosaw_earlier(const struct fetch *cur, sp_report *rep, uint8_t (*pseudos)[32], uint64_t *heads,
                          size_t *np, struct seqs *bs, int *proven)
{
	uint32_t epoch = sp_roster_oprf_epoch(cur->roster);
	const uint8_t *newer = cur->q.pseudonym.data;
	int rc = SP_OK;
	if (cur->nearlier < epoch)
		sp_report_warn(rep, "ALARM: the roster names %u rotation(s) of the pseudonymisation key, the broker's answer "
		               "maps %zu back: records from before a rotation may be left out", epoch, cur->nearlier);
	for (size_t i = 0; i < cur->nearlier && rc == SP_OK; i++) {
		struct fetch *g;
		if (sp_translate_earlier_verify(cur->roster, cur->eepoch[i] + 1, cur->earlier[i], newer, cur->eproof[i]) !=
		    SP_OK) {
			sp_report_warn(rep, "ALARM: the broker's pseudonym for key epoch %u fails its proof against the "
			               "roster's rotation: records from before it are not listed", cur->eepoch[i]);
			break;
		}
		sp_report_add_earlier(rep, cur->eepoch[i], cur->earlier[i], cur->eproof[i],
		                      sp_roster_oprf_rotation_of(cur->roster, cur->eepoch[i] + 1)->d);
		if (!(g = calloc(1, sizeof *g)))
			return SP_ENOMEM;
		g->cfg = cur->cfg;
		g->roster = cur->roster;
		g->q = cur->q;
		g->q.from_seq = 0;
		g->q.pseudonym = (ProtobufCBinaryData){ 32, (uint8_t *)cur->earlier[i] };
		g->fn = note_seq;
		g->ctx = bs;
		if ((rc = fetch_remote(g)) == SP_OK) {
			memcpy(pseudos[*np], cur->earlier[i], 32);
			heads[(*np)++] = g->head_size;
			*proven = *proven && g->all_proven;
		}
		free(g);
		newer = cur->earlier[i];
	}
	return rc;
}

/* ---- subcommands -------------------------------------------------------- */

static int cmd_query(const sp_config *cfg, const sp_roster *roster, int argc, char **argv, const char *sub)
{
	struct fetch f = { .cfg = cfg, .roster = roster };
	static const struct option opts[] = {
		{ "since", required_argument, 0, 's' }, { "until", required_argument, 0, 'u' },
		{ "org", required_argument, 0, 'o' }, { "signal", required_argument, 0, 'i' },
		{ "bsn", required_argument, 0, 'b' }, { "pseudonym", required_argument, 0, 'p' },
		{ "kvk", required_argument, 0, 'k' }, { "bag", required_argument, 0, 'g' },
		{ "json", no_argument, 0, 'j' }, { "format", required_argument, 0, 'f' },
		{ "local", no_argument, 0, 'l' }, { "lang", required_argument, 0, 'L' }, { 0, 0, 0, 0 },
	};
	uint8_t sid[16], pseudo[32];
	const char *bsn = NULL, *format = "text";
	int subject_kind = SP_SUBJECT_PERSON; /* --bsn; --kvk and --bag name a business or an address */
	char label[32] = "";
	int json = 0, local = 0, c, rc, status = 1, lang = -1;
	int who = strcmp(sub, "log") != 0;
	sp_report *rep = NULL;
	sp_policy *policy = NULL;
	struct out_log ol = { 0 };

	seinpost__audit_query__init(&f.q);
	f.q.kind = who ? SEINPOST__AUDIT_QUERY_KIND__AUDIT_QUERY_WHO_SAW : SEINPOST__AUDIT_QUERY_KIND__AUDIT_QUERY_LOG;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': if (parse_time(optarg, &f.q.since)) goto usage; break;
		case 'u': if (parse_time(optarg, &f.q.until)) goto usage; break;
		case 'o': if (!sp_ident_ok(optarg)) goto usage; f.q.org = optarg; break;
		case 'i':
			if (sp_unhex(optarg, sid, 16) != SP_OK)
				goto usage;
			f.q.signal_id = (ProtobufCBinaryData){ 16, sid };
			break;
		case 'b': bsn = optarg; subject_kind = SP_SUBJECT_PERSON; break;
		case 'k': bsn = optarg; subject_kind = SP_SUBJECT_BUSINESS; break;
		case 'g': bsn = optarg; subject_kind = SP_SUBJECT_LOCATION; break;
		case 'p':
			if (sp_unhex(optarg, pseudo, 32) != SP_OK)
				goto usage;
			f.q.pseudonym = (ProtobufCBinaryData){ 32, pseudo };
			break;
		case 'j': json = 1; break;
		case 'f': format = optarg; break;
		case 'l': local = 1; break;
		case 'L':
			if ((lang = sp_report_lang_parse(optarg)) < 0) {
				fprintf(stderr, "seinpost audit: --lang takes nl or en\n");
				goto usage;
			}
			break;
		default: goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	if (strcmp(sub, "report") == 0 && strcmp(format, "html") != 0 && strcmp(format, "json") != 0)
		goto usage;
	if (lang >= 0 && strcmp(sub, "report") != 0)
		goto usage; /* the language of the art. 15 report only */
	if (strcmp(sub, "report") == 0 && (!bsn || subject_kind != SP_SUBJECT_PERSON))
		goto usage; /* art. 15 is a person's right; no pseudonym on the page */
	if (who) {
		if (bsn) {
			sp_pseudo_keyring *kr = NULL;
			sp_kh *kh = NULL;
			char why[128];
			uint32_t epoch;
			if (cfg->oprf_service[0]) {
				/* pseudonyms from the pseudonymisation service (sp_node_oprf.h) */
				char norm[24];
				if ((subject_kind == SP_SUBJECT_PERSON ? sp_bsn_normalise(bsn, norm) :
				     subject_kind == SP_SUBJECT_BUSINESS ? sp_kvk_normalise(bsn, norm) :
				     sp_bag_normalise(bsn, norm)) != SP_OK) {
					fprintf(stderr, "seinpost audit: %s\n", subject_kind == SP_SUBJECT_PERSON ? "invalid BSN" :
					        subject_kind == SP_SUBJECT_BUSINESS ? "invalid KvK number: must be 8 digits" :
					        "invalid BAG id: must be 16 digits");
					return 2;
				}
				rc = sp_cli_oprf_lookup(cfg, subject_kind, norm, pseudo, why, sizeof why);
				sodium_memzero(norm, sizeof norm);
				if (rc != SP_OK) {
					fprintf(stderr, "seinpost audit: the pseudonymisation service gave no pseudonym: %s\n", why);
					return rc == SP_ETIMEOUT ? 3 : 1;
				}
			} else if (!cfg->pseudo_key_path[0]) {
				fprintf(stderr, "seinpost audit: --bsn needs the pseudonymisation key (the privacy officer's node); "
				                "on the broker use --pseudonym\n");
				return 2;
			} else {
				if ((rc = sp_pseudo_keyring_load(cfg->pseudo_key_path, &kr)) == SP_OK &&
				    (rc = sp_kh_local(cfg->org, NULL, kr, &kh)) == SP_OK)
					rc = sp_submit_pseudonym(kh, subject_kind, bsn, pseudo, &epoch, why, sizeof why);
				sp_kh_free(&kh);
				sp_pseudo_keyring_free(&kr);
				if (rc != SP_OK) {
					fprintf(stderr, "seinpost audit: %s\n", rc == SP_EBSN ? "invalid BSN" :
					        subject_kind == SP_SUBJECT_BUSINESS ? "invalid KvK number: must be 8 digits" :
					        subject_kind == SP_SUBJECT_LOCATION ? "invalid BAG id: must be 16 digits" :
					        sp_strerror(rc));
					return 2;
				}
			}
			f.q.pseudonym = (ProtobufCBinaryData){ 32, pseudo };
			/* The report names its subject by a masked number only. */
			snprintf(label, sizeof label, "%s *****%s",
			         subject_kind == SP_SUBJECT_BUSINESS ? "KvK" : subject_kind == SP_SUBJECT_LOCATION ? "BAG" : "BSN",
			         bsn + (strlen(bsn) > 4 ? strlen(bsn) - 4 : 0));
		} else if (f.q.pseudonym.len == 32) {
			char h[17];
			snprintf(label, sizeof label, "pseudonym %s…", sp_hex(pseudo, 8, h));
		} else {
			goto usage;
		}
		if ((rc = sp_report_new(&rep)) != SP_OK)
			return 1;
		if (strcmp(sub, "report") == 0) {
			/* Purposes, retention and the [report] texts come from the policy. */
			char perr[512];
			if ((rc = sp_policy_load(cfg->policy_path, &policy, perr, sizeof perr)) != SP_OK) {
				fprintf(stderr, "seinpost audit: policy: %s\n", perr[0] ? perr : sp_strerror(rc));
				sp_report_free(&rep);
				return 1;
			}
			sp_report_set_context(rep, policy, roster, lang < 0 ? SP_LANG_NL : lang);
		}
		f.fn = add_report;
		f.ctx = rep;
	} else {
		ol.json = json;
		ol.arr = json_array();
		f.fn = print_log;
		f.ctx = &ol;
	}
	int remote = !local && is_privacy_officer(cfg, roster);
	if (remote && who) {
		struct seqs bs = { 0 };
		f.fn = note_seq;
		f.ctx = &bs;
		uint8_t pseudos[1 + SP_ROSTER_ROTATIONS_MAX][32];
		uint64_t heads[1 + SP_ROSTER_ROTATIONS_MAX];
		size_t np = 1;
		int proven = 1;
		rc = fetch_remote(&f);
		if (rc == SP_OK) {
			memcpy(pseudos[0], f.q.pseudonym.data, 32);
			heads[0] = f.head_size;
			proven = f.all_proven;
			rc = whosaw_earlier(&f, rep, pseudos, heads, &np, &bs, &proven);
		}
		if (rc == SP_OK) /* one list, every entry against the same verified head */
			(void)sp_whosaw_complete(cfg, (const uint8_t(*)[32])pseudos, heads, np, bs.v, bs.n, proven, rep);
		free(bs.v);
	} else if (remote)
		rc = fetch_remote(&f);
	else if (who && cfg->role != SP_RUN_BROKER) {
		fprintf(stderr, "seinpost audit: who-saw runs on the privacy officer's node or the broker\n");
		rc = SP_EROLE;
	} else
		rc = fetch_local(&f);
	if (rc != SP_OK) {
		status = remote ? sp_cli_call_exit(rc) : SP_EXIT_BAD; /* 3: the node did not answer */
		goto out;
	}
	if (!who) {
		if (json) {
			char *s = json_dumps(ol.arr, JSON_INDENT(2));
			puts(s);
			free(s);
		}
		status = 0;
		goto out;
	}
	if (local || !is_privacy_officer(cfg, roster))
		sp_report_set_head(rep, f.head_size, f.head_time, f.head_root, 0);
	if (strcmp(sub, "report") == 0) {
		if (strcmp(format, "html") == 0)
			rc = sp_report_html(rep, label, stdout);
		else
			rc = sp_report_json(rep, label, stdout);
	} else if (json) {
		rc = sp_report_json(rep, label, stdout);
	} else {
		sp_report_text(rep, stdout);
	}
	status = rc == SP_OK && !sp_report_warnings(rep) ? 0 : 1;
out:
	if (ol.arr)
		json_decref(ol.arr);
	sp_report_free(&rep);
	sp_policy_free(&policy);
	return status;
usage:
	fprintf(stderr, "usage: seinpost --config FILE audit log [--since T] [--until T] [--org ORG] [--signal ID] [--json] [--local]\n"
	                "       seinpost --config FILE audit who-saw (--bsn BSN | --kvk NUMBER | --bag ID | --pseudonym HEX) [--json]\n"
	                "       seinpost --config FILE audit report --bsn BSN --format html|json [--lang nl|en]\n"
	                "(T: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or unix milliseconds)\n");
	json_decref(ol.arr);
	sp_report_free(&rep);
	sp_policy_free(&policy);
	return 2;
}

static int export_head(void *ctx, uint64_t key_size, const Seinpost__SignedTreeHead *h)
{
	char root[65], sig[129];
	if (!h || h->root_hash.len != 32 || h->signature.len != 64)
		return 0;
	/* timestamp_ms: the signed value itself, which a verifier needs. */
	json_t *o = sp_cli_tree_head_json(h->tree_size, h->root_hash.data, h->timestamp);
	if (o) {
		json_object_set_new(o, "timestamp_ms", json_integer((json_int_t)h->timestamp));
		json_object_set_new(o, "signature", json_string(sp_hex(h->signature.data, 64, sig)));
	}
	json_array_append_new(ctx, o);
	(void)root;
	(void)key_size;
	return 0;
}

static int export_rec(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	uint8_t leaf[32];
	char lh[65];
	char *b64 = malloc(sodium_base64_ENCODED_LEN(vl, sodium_base64_VARIANT_ORIGINAL));
	if (!b64 || kl != 8) {
		free(b64);
		return kl != 8 ? 0 : SP_ENOMEM;
	}
	sodium_bin2base64(b64, sodium_base64_ENCODED_LEN(vl, sodium_base64_VARIANT_ORIGINAL), v, vl,
	                  sodium_base64_VARIANT_ORIGINAL);
	sp_merkle_leaf(v, vl, leaf);
	json_array_append_new(ctx, json_pack("{s:I,s:s,s:s}", "seq", (json_int_t)sp_be64_get(k),
	                                     "leaf_hash", sp_hex(leaf, 32, lh), "record", b64));
	free(b64);
	return 0;
}

/* Everything an independent verifier needs, nothing it must trust. */
static int cmd_export(const sp_config *cfg, const sp_roster *roster)
{
	sp_store *st = NULL;
	sp_txn *t = NULL;
	json_t *recs = json_array(), *heads = json_array(), *o = NULL;
	char pk[65];
	int rc = sp_store_open(cfg->state_dir, cfg->map_size, SP_STORE_RDONLY, &st);
	if (rc == SP_OK)
		rc = sp_txn_begin(st, 0, &t);
	if (rc == SP_OK)
		rc = sp_store_foreach(t, SP_DB_AUDIT, NULL, 0, export_rec, recs);
	if (rc == SP_OK)
		rc = sp_sth_foreach(t, export_head, heads);
	sp_txn_abort(&t);
	sp_store_close(&st);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost audit export: %s\n", sp_strerror(rc));
		json_decref(recs);
		json_decref(heads);
		return 1;
	}
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "format", "seinpost-audit-export/v1",
	              "hashing", "RFC 9162 section 2.1, SHA-256: leaf = H(0x00 || record), node = H(0x01 || l || r)",
	              "tree_head_signature",
	              "Ed25519 over 'seinpost/sth/v1' || be64(tree_size) || be64(timestamp) || root_hash",
	              "broker_sign_key", sp_hex(sp_roster_broker_sign(roster), 32, pk),
	              "org", cfg->org, "records", recs, "tree_heads", heads);
	char *s = json_dumps(o, JSON_INDENT(1));
	puts(s);
	free(s);
	json_decref(o);
	return 0;
}

static int cmd_witness(const sp_config *cfg, int json)
{
	sp_store *st = NULL;
	sp_witness_state w;
	char root[65], when[32];
	int rc = sp_store_open(cfg->state_dir, cfg->map_size, SP_STORE_RDONLY, &st);
	if (rc == SP_OK)
		rc = sp_witness_status(st, &w);
	sp_store_close(&st);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost audit witness: %s\n", sp_strerror(rc));
		return 1;
	}
	sp_iso_time(w.time, when, sizeof when);
	sp_hex(w.root, 32, root);
	if (json) {
		json_t *o = json_pack("{s:b,s:I,s:b,s:s}", "have_head", w.have_head, "heads_checked",
		                      (json_int_t)w.checked, "alarm", w.alarm, "reason", w.reason);
		if (o && w.have_head)
			json_object_set_new(o, "tree_head", sp_cli_tree_head_json(w.size, w.root, w.time));
		if (sp_cli_print_json(o) != SP_EXIT_OK)
			return SP_EXIT_BAD;
	} else if (w.alarm) {
		printf("witness ALARM: the broker's audit history %s\n", w.reason);
	} else if (w.have_head) {
		printf("witness OK: broker log consistent up to tree size %llu (root %.16s…, signed %s; %llu heads checked)\n",
		       (unsigned long long)w.size, root, when, (unsigned long long)w.checked);
	} else {
		printf("witness: no tree head seen yet\n");
	}
	return w.alarm ? 1 : 0;
}

static int cmd_verify(const sp_config *cfg, const sp_roster *roster, int json)
{
	sp_store *st = NULL;
	sp_audit_verify_result r;
	char root[65];
	uint64_t t0 = sp_mono_ms();
	int rc = sp_store_open(cfg->state_dir, cfg->map_size, SP_STORE_RDONLY, &st);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost audit verify: state %s: %s\n", cfg->state_dir, sp_strerror(rc));
		return SP_EXIT_BAD;
	}
	/* Only the broker's log carries heads signed with the roster's broker key. */
	memset(&r, 0, sizeof r);
	{
		const uint8_t *bk[SP_BROKER_KEYS_MAX];
		size_t nbk = sp_roster_broker_keys(roster, bk, SP_BROKER_KEYS_MAX);
		rc = sp_audit_verify_keys(st, bk, nbk, &r);
	}
	sp_store_close(&st);
	sp_hex(r.root, 32, root);
	if (json) {
		json_t *o = json_pack("{s:b,s:I,s:I,s:I,s:s,s:I}", "ok", rc == SP_OK, "records", (json_int_t)r.records,
		                      "tree_heads_verified", (json_int_t)r.heads, "tree_size", (json_int_t)r.size,
		                      "root_hash", root, "duration_ms", (json_int_t)(sp_mono_ms() - t0));
		if (o && rc != SP_OK) {
			if (r.bad_head)
				json_object_set_new(o, "bad_tree_head", json_integer((json_int_t)r.bad_head));
			else
				json_object_set_new(o, "bad_record", json_integer((json_int_t)r.bad_seq));
			json_object_set_new(o, "reason", json_string(r.why[0] ? r.why : sp_strerror(rc)));
		}
		if (o) {
			/* clock steps: warnings, not tampering */
			json_t *w = json_array();
			for (uint32_t i = 0; i < r.nwarn && i < SP_AUDIT_WARN_MAX; i++)
				json_array_append_new(w, json_string(r.warn[i]));
			json_object_set_new(o, "warnings", w);
		}
		int prc = sp_cli_print_json(o);
		return rc == SP_OK ? prc : SP_EXIT_BAD;
	}
	if (rc == SP_OK) {
		printf("audit log OK: %llu records, hash chain intact, Merkle root %.16s…", (unsigned long long)r.records,
		       root);
		if (r.heads)
			printf(", %llu signed tree heads verified", (unsigned long long)r.heads);
		else if (cfg->role == SP_RUN_BROKER)
			printf("; no tree head signed yet");
		printf(" (%llu ms)\n", (unsigned long long)(sp_mono_ms() - t0));
		if (!r.heads && cfg->role != SP_RUN_BROKER)
			printf("(a node's own log has no signed tree heads: the broker signs its log, and this node "
			       "checks those heads; see 'audit witness')\n");
		/* A clock step is not tampering: the heads kept their order. */
		for (uint32_t i = 0; i < r.nwarn && i < SP_AUDIT_WARN_MAX; i++)
			printf("warning: %s\n", r.warn[i]);
		if (r.nwarn > SP_AUDIT_WARN_MAX)
			printf("warning: %u more clock steps\n", r.nwarn - SP_AUDIT_WARN_MAX);
		return SP_EXIT_OK;
	}
	if (r.bad_head)
		printf("audit log BROKEN at tree head of size %llu: %s\n", (unsigned long long)r.bad_head, r.why);
	else
		printf("audit log BROKEN at record %llu: %s\n", (unsigned long long)r.bad_seq,
		       r.why[0] ? r.why : sp_strerror(rc));
	return SP_EXIT_BAD;
}

static int usage_one(const char *sub)
{
	fprintf(stderr, "usage: seinpost --config FILE audit %s [--json]\n", sub);
	return SP_EXIT_USAGE;
}

int sp_cli_audit_ext(const char *cfg_path, int argc, char **argv)
{
	sp_config cfg;
	sp_roster *roster = NULL;
	const char *sub = argc > 1 ? argv[1] : "";
	int rc, status;

	if ((rc = sp_cli_load_config(cfg_path, &cfg)) != 0)
		return rc;
	if ((rc = sp_rosterstate_load(&cfg, &roster)) != SP_OK) {
		fprintf(stderr, "seinpost audit: roster %s: %s\n", cfg.roster_path, sp_strerror(rc));
		return 1;
	}
	if (strcmp(sub, "verify") == 0)
		status = argc > 3 || (argc == 3 && strcmp(argv[2], "--json") != 0) ? usage_one(sub)
		         : cmd_verify(&cfg, roster, argc == 3);
	else if (strcmp(sub, "export") == 0)
		status = argc > 3 || (argc == 3 && strcmp(argv[2], "--json") != 0) ? usage_one(sub)
		         : cmd_export(&cfg, roster);
	else if (strcmp(sub, "witness") == 0)
		status = argc > 3 || (argc == 3 && strcmp(argv[2], "--json") != 0) ? usage_one(sub)
		         : cmd_witness(&cfg, argc == 3);
	else
		status = cmd_query(&cfg, roster, argc - 1, argv + 1, sub);
	sp_roster_free(&roster);
	return status;
}

int sp_cli_audit_remote(const char *cfg_path)
{
	sp_config cfg;
	sp_roster *roster = NULL;
	char err[512];
	int po = 0;
	if (!cfg_path || sp_config_load(cfg_path, &cfg, err, sizeof err) != SP_OK)
		return 0;
	if (sp_rosterstate_load(&cfg, &roster) == SP_OK)
		po = is_privacy_officer(&cfg, roster);
	sp_roster_free(&roster);
	return po;
}
