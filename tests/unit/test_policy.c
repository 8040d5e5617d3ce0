/* test_policy.c — the sharing policy: example loads, hash, entitlements,
 * grants, and a line-numbered error for every malformed case. */
#include "sp_test.h"

#include <sodium.h>

#include "sp_policy.h"
#include "sp_policy_tables.h"
#include "sp_roster.h"
#include "sp_signal.h"
#include "sp_util.h"

#define EXAMPLE "deploy/policy.example"

static char tmp[256];

static void setup(void)
{
	ck_assert_ptr_nonnull(sp_test_tmpdir(tmp, sizeof tmp));
}

static void teardown(void)
{
	sp_test_rmdir(tmp);
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
}

static sp_policy *load_example(void)
{
	sp_policy *p = NULL;
	char err[512];
	int rc = sp_policy_load(EXAMPLE, &p, err, sizeof err);
	ck_assert_msg(rc == SP_OK, "example policy: %s", err);
	return p;
}

START_TEST(example_loads)
{
	sp_policy *p = load_example();
	const char *must[] = { "school-absence", "gia", "drug-recruitment", "money-mule",
	                       "online-exploitation", "sexual-exploitation", "weapon",
	                       "serious-offence" };
	ck_assert_str_eq(sp_policy_version(p), "2024.1-example");
	for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
		const sp_policy_category *c = sp_policy_category_find(p, must[i]);
		ck_assert_msg(c != NULL, "category %s", must[i]);
		ck_assert_int_ge(c->default_weight, 1);
		ck_assert_int_le(c->default_weight, 3);
		ck_assert_uint_gt(c->retention_days, 0);
	}
	ck_assert_uint_eq(sp_policy_category_count(p), 11);
	ck_assert_uint_gt(sp_policy_rule_count(p), 20);
	for (size_t i = 0; i < sp_policy_rule_count(p); i++) {
		const sp_policy_rule *r = sp_policy_rule_at(p, i);
		ck_assert_ptr_nonnull(r->basis);
		ck_assert_ptr_nonnull(r->purpose);
		ck_assert_uint_ne(r->tiers_mask, 0);
	}
	ck_assert_ptr_null(sp_policy_rule_at(p, 100000));
	/* The table prints without crashing and names the legal bases. */
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		sp_policy_print(p, f);
		fclose(f);
		ck_assert_ptr_nonnull(strstr(buf, "Jeugdwet art. 7.1.4.1"));
		ck_assert_ptr_nonnull(strstr(buf, "category gia"));
		free(buf);
	}
	sp_policy_free(&p);
	ck_assert_ptr_null(p);
	sp_policy_free(&p); /* NULL-safe */
}
END_TEST

START_TEST(hash_stable_and_sensitive)
{
	sp_policy *a = load_example(), *b = load_example(), *c = NULL;
	uint8_t *buf = NULL;
	size_t len;
	char path[512], err[512];
	uint8_t expect[32];

	ck_assert_mem_eq(sp_policy_hash(a), sp_policy_hash(b), 32);
	ck_assert_int_eq(sp_file_read(EXAMPLE, 1 << 20, &buf, &len), SP_OK);
	crypto_generichash(expect, 32, buf, len, NULL, 0);
	ck_assert_mem_eq(sp_policy_hash(a), expect, 32);
	/* One byte in a comment changes the version. */
	ck_assert_int_eq(buf[0], '#');
	buf[1] = buf[1] == 'x' ? 'y' : 'x';
	snprintf(path, sizeof path, "%s/p.ini", tmp);
	write_file(path, (char *)buf, len);
	ck_assert_int_eq(sp_policy_load(path, &c, err, sizeof err), SP_OK);
	ck_assert_int_ne(memcmp(sp_policy_hash(a), sp_policy_hash(c), 32), 0);
	free(buf);
	sp_policy_free(&a);
	sp_policy_free(&b);
	sp_policy_free(&c);
}
END_TEST

START_TEST(entitlement_and_allows)
{
	sp_policy *p = load_example();
	sp_entitlement e;
	const sp_policy_rule *r = NULL;

	/* drug-recruitment weight 2: only an involved school gets contact and summary. */
	sp_policy_entitlement(p, 1, "drug-recruitment", 2, "school", &e);
	ck_assert_int_eq(e.when[SP_TIER_EXISTENCE], SP_WHEN_IF_INVOLVED);
	ck_assert_int_eq(e.when[SP_TIER_CONTACT], SP_WHEN_IF_INVOLVED);
	ck_assert_int_eq(e.when[SP_TIER_SUMMARY], SP_WHEN_IF_INVOLVED);
	ck_assert_int_eq(e.when[SP_TIER_FULL], 0);
	ck_assert_ptr_null(e.rule[SP_TIER_FULL]);
	ck_assert_str_eq(e.rule[SP_TIER_CONTACT]->id, "drug-w2-school");

	ck_assert_int_eq(sp_policy_allows(p, 1, "drug-recruitment", 2, "youthcare", SP_TIER_SUMMARY,
	                                  SP_WHEN_IMMEDIATELY, &r), SP_OK);
	ck_assert_str_eq(r->id, "drug-w2-youthcare");
	/* Stricter than policy is fine. */
	ck_assert_int_eq(sp_policy_allows(p, 1, "drug-recruitment", 2, "school", SP_TIER_SUMMARY,
	                                  SP_WHEN_ON_ESCALATION, NULL), SP_OK);
	/* More permissive than policy is refused. */
	ck_assert_int_eq(sp_policy_allows(p, 1, "drug-recruitment", 2, "school", SP_TIER_SUMMARY,
	                                  SP_WHEN_IMMEDIATELY, &r), SP_EPOLICY);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(sp_policy_allows(p, 1, "gia", 3, "zvh", SP_TIER_FULL,
	                                  SP_WHEN_IMMEDIATELY, NULL), SP_EPOLICY);
	ck_assert_int_eq(sp_policy_allows(p, 1, "gia", 3, "zvh", SP_TIER_FULL,
	                                  SP_WHEN_ON_ESCALATION, NULL), SP_OK);
	/* Not at all: full at weight 2, a role without rules, wrong inputs. */
	ck_assert_int_eq(sp_policy_allows(p, 1, "gia", 2, "zvh", SP_TIER_FULL,
	                                  SP_WHEN_ON_ESCALATION, NULL), SP_EPOLICY);
	ck_assert_int_eq(sp_policy_allows(p, 1, "gia", 2, "police", SP_TIER_EXISTENCE,
	                                  SP_WHEN_ON_ESCALATION, NULL), SP_EPOLICY);
	ck_assert_int_eq(sp_policy_allows(p, 1, "gia", 2, "privacy-officer", SP_TIER_EXISTENCE,
	                                  SP_WHEN_ON_ESCALATION, NULL), SP_EPOLICY);
	ck_assert_int_eq(sp_policy_allows(p, 1, "nope", 2, "school", SP_TIER_EXISTENCE,
	                                  SP_WHEN_ON_ESCALATION, NULL), SP_EPOLICY);
	ck_assert_int_eq(sp_policy_allows(p, 1, "gia", 4, "school", SP_TIER_EXISTENCE,
	                                  SP_WHEN_ON_ESCALATION, NULL), SP_EPOLICY);
	ck_assert_int_eq(sp_policy_allows(p, 1, "gia", 2, "school", 7,
	                                  SP_WHEN_ON_ESCALATION, NULL), SP_EPOLICY);
	ck_assert_int_eq(sp_policy_allows(p, 1, "gia", 2, "school", SP_TIER_EXISTENCE, 0, NULL),
	                 SP_EPOLICY);
	/* Handle With Care: the school learns existence only, if involved. */
	sp_policy_entitlement(p, 1, "gia", 2, "school", &e);
	ck_assert_int_eq(e.when[SP_TIER_EXISTENCE], SP_WHEN_IF_INVOLVED);
	ck_assert_int_eq(e.when[SP_TIER_CONTACT] | e.when[SP_TIER_SUMMARY] | e.when[SP_TIER_FULL], 0);
	sp_policy_free(&p);
}
END_TEST

static void org(sp_roster *r, const char *id, const char *role)
{
	sp_org o;
	memset(&o, 0, sizeof o);
	snprintf(o.id, sizeof o.id, "%s", id);
	snprintf(o.role, sizeof o.role, "%s", role);
	randombytes_buf(o.curve_pk, 32);
	randombytes_buf(o.sign_pk, 32);
	randombytes_buf(o.box_pk, 32);
	ck_assert_int_eq(sp_roster_add(r, &o), SP_OK);
}

static const sp_grant_spec *find_grant(const sp_grant_spec *g, size_t n, const char *to, int tier)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(g[i].recipient, to) == 0 && g[i].tier == tier)
			return &g[i];
	return NULL;
}

/* Rules apply to the subject kinds they name (persons by default). */
START_TEST(subject_kinds)
{
	sp_policy *p = load_example();
	sp_entitlement e;
	const sp_policy_rule *r = NULL;
	/* weapon w3 gives the ZVH the full tier on escalation — for persons only */
	ck_assert_int_eq(sp_policy_allows(p, 1, "weapon", 3, "zvh", SP_TIER_FULL, SP_WHEN_ON_ESCALATION, &r), SP_OK);
	ck_assert_int_eq(sp_policy_allows(p, 3, "weapon", 3, "zvh", SP_TIER_FULL, SP_WHEN_ON_ESCALATION, NULL),
	                 SP_EPOLICY);
	ck_assert_int_eq(sp_policy_allows(p, 2, "weapon", 3, "zvh", SP_TIER_EXISTENCE, SP_WHEN_ON_ESCALATION, NULL),
	                 SP_EPOLICY);
	/* drug premises: locations and businesses to the municipality, never a person */
	sp_policy_entitlement(p, 3, "drug-premises", 2, "municipality", &e);
	ck_assert_int_eq(e.when[SP_TIER_SUMMARY], SP_WHEN_IMMEDIATELY);
	sp_policy_entitlement(p, 1, "drug-premises", 2, "municipality", &e);
	ck_assert_int_eq(e.when[SP_TIER_EXISTENCE], 0);
	sp_policy_entitlement(p, 3, "drug-premises", 2, "zvh", &e);
	ck_assert_int_eq(e.when[SP_TIER_EXISTENCE], 0);
	/* out of range kinds get nothing */
	sp_policy_entitlement(p, 9, "weapon", 3, "zvh", &e);
	ck_assert_int_eq(e.when[SP_TIER_EXISTENCE], 0);
	/* youth escalations for persons; undermining for addresses and businesses */
	for (size_t i = 0; i < sp_policy_escalation_count(p); i++)
		ck_assert_uint_eq(sp_policy_escalation_at(p, i)->kind_mask,
		                  strcmp(sp_policy_escalation_at(p, i)->id, "undermining-lwo") == 0
		                          ? SP_POLICY_KIND_BIT(2) | SP_POLICY_KIND_BIT(3)
		                          : SP_POLICY_KIND_BIT(1));
	sp_policy_free(&p);
}
END_TEST

/* [table]s of the example: ladders, tiers, kinds (sp_policy_tables.h). */
START_TEST(tables)
{
	sp_policy *p = load_example();
	const sp_policy_table *nw = sp_policy_table_find(p, "netwerkoverleg"), *ja = sp_policy_table_find(p, "jonge-aanwas"),
	                      *pga = sp_policy_table_find(p, "pga"), *lwo = sp_policy_table_find(p, "lwo"),
	                      *mot = sp_policy_table_find(p, "mot");
	ck_assert_ptr_nonnull(nw);
	ck_assert_ptr_nonnull(ja);
	ck_assert_ptr_nonnull(pga);
	ck_assert_ptr_nonnull(lwo);
	ck_assert_ptr_nonnull(mot);
	ck_assert_ptr_null(sp_policy_table_find(p, "stamtafel"));
	ck_assert_int_eq(sp_policy_table_direction(p, nw, pga), 1);   /* up, two steps */
	ck_assert_int_eq(sp_policy_table_direction(p, pga, ja), -1);
	ck_assert_int_eq(sp_policy_table_direction(p, nw, lwo), 0);   /* another ladder */
	ck_assert_int_eq(sp_policy_table_direction(p, nw, nw), 0);
	ck_assert_ptr_eq(sp_policy_table_below(p, ja), nw);
	ck_assert_ptr_null(sp_policy_table_below(p, nw));
	ck_assert_int_eq(sp_policy_table_tier(pga, "zvh"), SP_TIER_FULL);
	ck_assert_int_eq(sp_policy_table_tier(nw, "police"), -1);
	ck_assert_int_eq(sp_policy_table_tier(ja, "police"), SP_TIER_SUMMARY);
	/* youth tables take persons only; the undermining ladder never a person */
	ck_assert_uint_eq(nw->kind_mask, SP_POLICY_KIND_BIT(1));
	ck_assert_uint_eq(lwo->kind_mask & SP_POLICY_KIND_BIT(1), 0);
	ck_assert_ptr_nonnull(mot->requires_reason);
	ck_assert_ptr_null(lwo->requires_reason);
	sp_policy_free(&p);
}
END_TEST

START_TEST(grants_for_roster)
{
	sp_policy *p = load_example();
	sp_roster *r = NULL;
	uint8_t k1[32], k2[32];
	sp_grant_spec *g = NULL;
	size_t n = 0;
	const sp_grant_spec *s;

	randombytes_buf(k1, 32);
	randombytes_buf(k2, 32);
	ck_assert_int_eq(sp_roster_new("test", k1, k2, &r), SP_OK);
	org(r, "politie", "police");
	org(r, "politie-2", "police");
	org(r, "school-a", "school");
	org(r, "jeugdzorg", "youthcare");
	org(r, "zvh", "zvh");
	org(r, "fg", "privacy-officer");

	ck_assert_int_eq(sp_policy_grants_for(p, r, "politie", 1, "drug-recruitment", 2, &g, &n), SP_OK);
	ck_assert_uint_eq(n, 7);
	/* another police organisation: sealed for the overleg jonge aanwas, held until a move */
	ck_assert_ptr_nonnull(s = find_grant(g, n, "politie-2", SP_TIER_SUMMARY));
	ck_assert_int_eq(s->mode, SP_WHEN_ON_ESCALATION);
	ck_assert_ptr_nonnull(s = find_grant(g, n, "school-a", SP_TIER_CONTACT));
	ck_assert_int_eq(s->mode, SP_WHEN_IF_INVOLVED);
	ck_assert_mem_eq(s->box_pk, sp_roster_find(r, "school-a")->box_pk, 32);
	ck_assert_ptr_nonnull(s = find_grant(g, n, "school-a", SP_TIER_SUMMARY));
	ck_assert_int_eq(s->mode, SP_WHEN_IF_INVOLVED);
	ck_assert_ptr_nonnull(s = find_grant(g, n, "jeugdzorg", SP_TIER_SUMMARY));
	ck_assert_int_eq(s->mode, SP_WHEN_IMMEDIATELY);
	ck_assert_ptr_nonnull(s = find_grant(g, n, "jeugdzorg", SP_TIER_CONTACT));
	ck_assert_int_eq(s->mode, SP_WHEN_IMMEDIATELY);
	ck_assert_ptr_nonnull(s = find_grant(g, n, "zvh", SP_TIER_SUMMARY));
	ck_assert_int_eq(s->mode, SP_WHEN_ON_ESCALATION);
	ck_assert_ptr_null(find_grant(g, n, "zvh", SP_TIER_FULL));
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_ne(g[i].recipient, "politie");
		ck_assert(strcmp(g[i].recipient, "politie-2") != 0 || g[i].mode == SP_WHEN_ON_ESCALATION);
		ck_assert_str_ne(g[i].recipient, "fg");
		ck_assert_int_ge(g[i].tier, SP_TIER_CONTACT);
	}
	free(g);

	/* Handle With Care has no tier >= contact for the school. */
	ck_assert_int_eq(sp_policy_grants_for(p, r, "politie", 1, "gia", 1, &g, &n), SP_OK);
	ck_assert_ptr_null(find_grant(g, n, "school-a", SP_TIER_CONTACT));
	free(g);

	ck_assert_int_eq(sp_policy_grants_for(p, r, "politie", 1, "nope", 2, &g, &n), SP_ECATEGORY);
	ck_assert_int_eq(sp_policy_grants_for(p, r, "politie", 1, "gia", 0, &g, &n), SP_EWEIGHT);
	ck_assert_int_eq(sp_policy_grants_for(p, r, "stranger", 1, "gia", 2, &g, &n), SP_EORG);
	ck_assert_ptr_null(g);
	sp_roster_free(&r);
	sp_policy_free(&p);
}
END_TEST

/* A minimal valid policy, one line per entry, so the malformed cases below
 * can say exactly which line must be named. */
static const char *base_lines[] = {
	"[policy]",                    /* 1 */
	"version = 1",                 /* 2 */
	"name = test",                 /* 3 */
	"owner = fg",                  /* 4 */
	"",                            /* 5 */
	"[category c1]",               /* 6 */
	"description = something",     /* 7 */
	"default_weight = 2",          /* 8 */
	"retention_days = 30",         /* 9 */
	"",                            /* 10 */
	"[rule r1]",                   /* 11 */
	"category = c1",               /* 12 */
	"weights = 1-3",               /* 13 */
	"role = school",               /* 14 */
	"tiers = existence, contact",  /* 15 */
	"when = if-involved",          /* 16 */
	"basis = AVG art. 6(1)(e); Jeugdwet art. 7.1.1.1", /* 17 */
	"purpose = testing",           /* 18 */
};
#define NBASE (sizeof base_lines / sizeof base_lines[0])

/* Build the base with line `at` (1-based) replaced by `repl` (NULL = drop,
 * may hold several lines); `at` 0 = append repl at the end. */
static void build(char *out, size_t outlen, int at, const char *repl)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < NBASE; i++) {
		const char *l = (int)i + 1 == at ? repl : base_lines[i];
		if (!l)
			continue;
		o += (size_t)snprintf(out + o, outlen - o, "%s\n", l);
	}
	if (at == 0 && repl)
		snprintf(out + o, outlen - o, "%s\n", repl);
}

struct bad {
	int at;
	const char *repl;
	int line;
	const char *msg;
};

static const struct bad bads[] = {
	{ 12, "category = nope", 12, "unknown category" },
	{ 13, "weights = 3-2", 13, "malformed weights" },
	{ 13, "weights = 1,,3", 13, "malformed weights" },
	{ 13, "weights = 4", 13, "malformed weights" },
	{ 13, "weights = 1-3,2", 13, "malformed weights" },
	{ 13, "weights = 0-1", 13, "malformed weights" },
	{ 13, "weights = 2 3", 13, "malformed weights" },
	{ 14, "role = teacher", 14, "unknown role" },
	{ 14, "role = privacy-officer", 14, "receives no signals" },
	{ 15, "tiers = existence, secret", 15, "unknown tier" },
	{ 15, "tiers = summary,,full", 15, "malformed tiers" },
	{ 15, "tiers = full, full", 15, "twice" },
	{ 16, "when = later", 16, "unknown when" },
	{ 17, NULL, 11, "missing key 'basis'" },
	{ 18, "purpose =", 18, "empty value" },
	{ 18, "colour = red", 18, "unknown key 'colour'" },
	{ 8, "default_weight = 4", 8, "default_weight" },
	{ 8, "default_weight = two", 8, "default_weight" },
	{ 9, "retention_days = 0", 9, "retention_days" },
	{ 2, NULL, 1, "missing key 'version'" },
	{ 1, "[polisy]", 1, "unknown section" },
	{ 6, "[category]", 6, "needs an id" },
	{ 6, "[category Bad_Id]", 6, "not an identifier" },
	{ 1, "[policy extra]", 1, "takes no id" },
	{ 11, "[rule r1]\ngarbage line", 12, "syntax error" },
	{ 0, "[category c1]\ndescription = again", 19, "duplicate [category c1], first at line 6" },
	{ 0, "[escalation e1]\nmin_orgs = 2", 19, "missing key 'window_days'" },
	{ 0, "[escalation e1]\nwindow_days = 30\nto_role = zvh\nbasis = b\npurpose = p", 19,
	  "needs at least one condition" },
	{ 0, "[escalation e1]\nwindow_days = 30\nmin_orgs = 2\nto_role = teacher", 22, "unknown role" },
	{ 0, "[escalation e1]\nwindow_days = 30\nmin_weight = 4", 21, "min_weight" },
	{ 0, "[match m1]\nwindow_days = 0", 20, "window_days" },
	{ 0, "[match m1]\nwindow_days = 30\nroles = school", 21, "unknown key 'roles'" },
	{ 9, "retention_days = 30\nretention_w1 = 30", 10, "duration" },
	{ 9, "retention_days = 30\nretention_w2 = 5 fortnights", 10, "duration" },
	{ 9, "retention_days = 30\nretention_w3 = 4000 days", 10, "at most 3650 days" },
	{ 0, "basis = again", 19, "given twice" },
	{ 0, "[rule r2]", 19, "empty section" },
	{ 10, "[rule r0]", 10, "empty section" },
	{ 1, "version = 0\n[policy]", 1, "key outside a section" },
	{ 13, "weights = 1-3\n  2", 14, "single value" },
	{ 11, "  [rule r1]", 11, "beginning of the line" },
	{ 6, "[category c1", 6, "without ']'" },
	{ 18, "purpose = \x01", 18, "printable" },
};

START_TEST(escalation_match_retention)
{
	sp_policy *p = load_example();
	const sp_policy_escalation *multi = NULL, *serious = NULL;
	for (size_t i = 0; i < sp_policy_escalation_count(p); i++) {
		const sp_policy_escalation *e = sp_policy_escalation_at(p, i);
		if (strcmp(e->id, "ijam-multi") == 0)
			multi = e;
		if (strcmp(e->id, "serious") == 0)
			serious = e;
	}
	ck_assert_ptr_nonnull(multi);
	ck_assert_uint_eq(multi->window_days, 180);
	ck_assert_uint_eq(multi->min_orgs, 2);
	ck_assert_uint_eq(multi->min_weight_sum, 4);
	ck_assert_str_eq(multi->to_role, "zvh");
	ck_assert_ptr_nonnull(serious);
	ck_assert_int_eq(serious->min_weight, 3);
	ck_assert_uint_eq(sp_policy_match_count(p), 1);
	ck_assert_str_eq(sp_policy_match_at(p, 0)->id, "verwijsindex");
	ck_assert_ptr_null(sp_policy_escalation_at(p, 99));
	/* Per weight, falling back to retention_days; escalation only lengthens. */
	ck_assert_uint_eq(sp_policy_retention_s(p, "drug-recruitment", 1, 0), 365u * 86400);
	ck_assert_uint_eq(sp_policy_retention_s(p, "drug-recruitment", 2, 0), 730u * 86400);
	ck_assert_uint_eq(sp_policy_retention_s(p, "drug-recruitment", 2, 1), 1825u * 86400);
	ck_assert_uint_eq(sp_policy_retention_s(p, "gia", 2, 1), 730u * 86400);
	ck_assert_uint_eq(sp_policy_retention_s(p, "nope", 2, 0), 0);
	ck_assert_uint_eq(sp_policy_retention_s(p, "gia", 4, 0), 0);
	ck_assert_ptr_nonnull(sp_policy_rule_find(p, "gia-handle-with-care"));
	ck_assert_ptr_null(sp_policy_rule_find(p, "nope"));
	sp_policy_free(&p);
}
END_TEST

START_TEST(malformed_line_numbers)
{
	const struct bad *b = &bads[_i];
	char text[4096], path[512], err[512], want[600];
	sp_policy *p = (sp_policy *)1;

	build(text, sizeof text, b->at, b->repl);
	snprintf(path, sizeof path, "%s/bad.ini", tmp);
	write_file(path, text, strlen(text));
	ck_assert_int_eq(sp_policy_load(path, &p, err, sizeof err), SP_ECONFIG);
	ck_assert_ptr_null(p);
	snprintf(want, sizeof want, "%s:%d: ", path, b->line);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "case %d: want %s got %s", _i, want, err);
	ck_assert_msg(strstr(err, b->msg) != NULL, "case %d: want '%s' in %s", _i, b->msg, err);
}
END_TEST

START_TEST(special_files)
{
	char text[4096], path[512], err[512], longline[300];
	sp_policy *p = NULL;
	const sp_policy_rule *r;

	snprintf(path, sizeof path, "%s/x.ini", tmp);
	/* The base itself is valid; continuation lines extend text. */
	build(text, sizeof text, 18, "purpose = first part\n  second part");
	write_file(path, text, strlen(text));
	ck_assert_msg(sp_policy_load(path, &p, err, sizeof err) == SP_OK, "%s", err);
	r = sp_policy_rule_at(p, 0);
	ck_assert_str_eq(r->purpose, "first part second part");
	ck_assert_uint_eq(r->weight_mask, 0xe);
	ck_assert_uint_eq(r->tiers_mask, 0x3);
	ck_assert_str_eq(r->basis, "AVG art. 6(1)(e); Jeugdwet art. 7.1.1.1");
	ck_assert_int_eq(r->line, 11);
	sp_policy_free(&p);

	build(text, sizeof text, 13, "weights = 1, 3");
	write_file(path, text, strlen(text));
	ck_assert_msg(sp_policy_load(path, &p, err, sizeof err) == SP_OK, "%s", err);
	ck_assert_uint_eq(sp_policy_rule_at(p, 0)->weight_mask, 0xa);
	sp_policy_free(&p);

	/* A line inih would split silently. */
	memset(longline, 'a', sizeof longline - 1);
	longline[sizeof longline - 1] = '\0';
	memcpy(longline, "purpose = ", 10);
	build(text, sizeof text, 18, longline);
	write_file(path, text, strlen(text));
	ck_assert_int_eq(sp_policy_load(path, &p, err, sizeof err), SP_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, ":18: line longer"));

	/* NUL byte. */
	build(text, sizeof text, 0, NULL);
	{
		size_t n = strlen(text);
		text[20] = '\0';
		write_file(path, text, n);
	}
	ck_assert_int_eq(sp_policy_load(path, &p, err, sizeof err), SP_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, ":2: NUL byte"));

	/* No categories, no [policy], empty file, missing file. */
	write_file(path, "[policy]\nversion=1\nname=n\nowner=o\n", 34);
	ck_assert_int_eq(sp_policy_load(path, &p, err, sizeof err), SP_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "no [category"));
	write_file(path, "", 0);
	ck_assert_int_eq(sp_policy_load(path, &p, err, sizeof err), SP_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, ":1: missing [policy]"));
	snprintf(path, sizeof path, "%s/absent.ini", tmp);
	ck_assert_int_eq(sp_policy_load(path, &p, err, sizeof err), SP_ENOTFOUND);
	ck_assert_ptr_null(p);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("policy");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, example_loads);
	tcase_add_test(tc, hash_stable_and_sensitive);
	tcase_add_test(tc, entitlement_and_allows);
	tcase_add_test(tc, grants_for_roster);
	tcase_add_test(tc, tables);
	tcase_add_test(tc, subject_kinds);
	tcase_add_test(tc, escalation_match_retention);
	tcase_add_loop_test(tc, malformed_line_numbers, 0, (int)(sizeof bads / sizeof bads[0]));
	tcase_add_test(tc, special_files);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(policy_suite)
