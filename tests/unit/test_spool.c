/* test_spool.c — the spool file parser (sp_spool_parse), the idempotency
 * key and the directory watcher's moves; the node path (validation against
 * the policy, commit, delivery) is in tests/e2e/test_spool.sh. */
#include <sodium.h>
#include <sys/stat.h>
#include "sp_test.h"
#include "sp_spool.h"
#include "sp_util.h"
#include "sp_wire.h"

#define NOW 1700000000u /* 2023-11-14 */

struct parsed {
	int rc, kind;
	char errs[SP_SPOOL_ERRORS_MAX];
	Seinpost__LocalRequest *req;
};

static struct parsed *parse(const char *json)
{
	static struct parsed p;
	uint8_t *buf = NULL;
	size_t len = 0;
	if (p.req)
		seinpost__local_request__free_unpacked(p.req, NULL);
	memset(&p, 0, sizeof p);
	p.rc = sp_spool_parse(json, strlen(json), NOW, &p.kind, &buf, &len, p.errs, sizeof p.errs);
	if (p.rc == SP_OK) {
		p.req = seinpost__local_request__unpack(NULL, len, buf);
		ck_assert_ptr_nonnull(p.req);
	} else {
		ck_assert_ptr_null(buf);
		ck_assert_msg(p.errs[0], "a refusal without a reason");
	}
	free(buf);
	return &p;
}

#define REFUSED(json, rc_, text)                                                        \
	do {                                                                            \
		struct parsed *p_ = parse(json);                                        \
		ck_assert_int_eq(p_->rc, rc_);                                          \
		ck_assert_msg(strstr(p_->errs, text), "expected '%s' in '%s'", text, p_->errs); \
	} while (0)

START_TEST(signal_valid)
{
	struct parsed *p = parse("{\"type\":\"signal\",\"category\":\"drug-recruitment\",\"weight\":2,"
	                         "\"bsn\":\"111222333\",\"summary\":\"s\",\"contact\":\"c\",\"name\":\"n\","
	                         "\"birthdate\":\"2009-03-14\",\"address\":\"a\",\"narrative\":\"line\\nline\"}");
	ck_assert_int_eq(p->rc, SP_OK);
	ck_assert_int_eq(p->kind, SP_SPOOL_SIGNAL);
	ck_assert_int_eq(p->req->body_case, SEINPOST__LOCAL_REQUEST__BODY_SUBMIT);
	Seinpost__SubmitRequest *s = p->req->submit;
	ck_assert_str_eq(s->category, "drug-recruitment");
	ck_assert_uint_eq(s->weight, 2);
	ck_assert_int_eq(s->subject_kind, SEINPOST__SUBJECT_KIND__SUBJECT_PERSON);
	ck_assert_str_eq(s->subject_id, "111222333");
	ck_assert_str_eq(s->narrative, "line\nline");
	/* no key given: the file's hash is the key */
	ck_assert_int_eq(strncmp(s->idempotency_key, "blake2b:", 8), 0);
	ck_assert_uint_eq(strlen(s->idempotency_key), 8 + 64);
}
END_TEST

START_TEST(signal_key)
{
	char k1[80], k2[80];
	struct parsed *p = parse("{\"type\":\"signal\",\"category\":\"gia\",\"bsn\":\"111222333\",\"idempotency_key\":\"zaak-1\"}");
	ck_assert_int_eq(p->rc, SP_OK);
	ck_assert_str_eq(p->req->submit->idempotency_key, "zaak-1");
	ck_assert_uint_eq(p->req->submit->weight, 0); /* the category's default */
	/* the same bytes give the same key, other bytes another */
	p = parse("{\"type\":\"signal\",\"category\":\"gia\",\"bsn\":\"111222333\"}");
	snprintf(k1, sizeof k1, "%s", p->req->submit->idempotency_key);
	p = parse("{\"type\":\"signal\",\"category\":\"gia\",\"bsn\":\"111222333\"}");
	snprintf(k2, sizeof k2, "%s", p->req->submit->idempotency_key);
	ck_assert_str_eq(k1, k2);
	p = parse("{\"type\":\"signal\",\"category\":\"gia\", \"bsn\":\"111222333\"}");
	ck_assert_str_ne(k1, p->req->submit->idempotency_key);
	REFUSED("{\"type\":\"signal\",\"category\":\"gia\",\"bsn\":\"111222333\",\"idempotency_key\":\"\"}", SP_EINVAL,
	        "field 'idempotency_key'");
	REFUSED("{\"type\":\"signal\",\"category\":\"gia\",\"bsn\":\"111222333\",\"idempotency_key\":\"a\\u0001\"}",
	        SP_EINVAL, "field 'idempotency_key'");
}
END_TEST

START_TEST(stored_key)
{
	uint8_t a[SP_SPOOL_KEY_BYTES], b[SP_SPOOL_KEY_BYTES], c[SP_SPOOL_KEY_BYTES];
	sp_spool_key("zaak-1", a);
	sp_spool_key("zaak-1", b);
	sp_spool_key("zaak-2", c);
	ck_assert_mem_eq(a, b, sizeof a);
	ck_assert_int_ne(memcmp(a, c, sizeof a), 0);
}
END_TEST

START_TEST(subjects)
{
	struct parsed *p = parse("{\"type\":\"signal\",\"category\":\"gia\",\"kvk\":\"12345678\"}");
	ck_assert_int_eq(p->rc, SP_OK);
	ck_assert_int_eq(p->req->submit->subject_kind, SEINPOST__SUBJECT_KIND__SUBJECT_BUSINESS);
	p = parse("{\"type\":\"signal\",\"category\":\"gia\",\"bag\":\"0123456789012345\"}");
	ck_assert_int_eq(p->rc, SP_OK);
	ck_assert_int_eq(p->req->submit->subject_kind, SEINPOST__SUBJECT_KIND__SUBJECT_LOCATION);
	REFUSED("{\"type\":\"signal\",\"category\":\"gia\"}", SP_EINVAL, "field 'bsn': required");
	REFUSED("{\"type\":\"signal\",\"category\":\"gia\",\"bsn\":\"111222333\",\"kvk\":\"12345678\"}", SP_EINVAL,
	        "exactly one subject");
	REFUSED("{\"type\":\"signal\",\"category\":\"gia\",\"kvk\":\"1234\"}", SP_EINVAL, "field 'kvk': invalid");
	REFUSED("{\"type\":\"signal\",\"category\":\"gia\",\"bsn\":111222333}", SP_EMALFORMED,
	        "field 'bsn': must be a string");
}
END_TEST

START_TEST(signal_refused)
{
	REFUSED("{\"type\":\"signal\",\"category\":\"gia\",\"bsn\":\"123456789\"}", SP_EBSN, "field 'bsn': invalid BSN");
	ck_assert_ptr_null(strstr(parse("{\"type\":\"signal\",\"category\":\"gia\",\"bsn\":\"123456789\"}")->errs,
	                          "123456789"));
	REFUSED("{\"type\":\"signal\",\"weight\":2,\"bsn\":\"111222333\"}", SP_ECATEGORY, "field 'category': required");
	REFUSED("{\"type\":\"signal\",\"category\":\"Knit ting\",\"bsn\":\"111222333\"}", SP_ECATEGORY,
	        "field 'category': not a category name");
	REFUSED("{\"type\":\"signal\",\"category\":\"gia\",\"weight\":0,\"bsn\":\"111222333\"}", SP_EWEIGHT,
	        "field 'weight': must be 1 (low), 2 or 3 (high)");
	REFUSED("{\"type\":\"signal\",\"category\":\"gia\",\"weight\":4,\"bsn\":\"111222333\"}", SP_EWEIGHT, "field 'weight'");
	REFUSED("{\"type\":\"signal\",\"category\":\"gia\",\"weight\":2.0,\"bsn\":\"111222333\"}", SP_EWEIGHT, "field 'weight'");
	REFUSED("{\"type\":\"signal\",\"category\":\"gia\",\"weight\":\"2\",\"bsn\":\"111222333\"}", SP_EWEIGHT, "field 'weight'");
	REFUSED("{\"type\":\"signal\",\"category\":\"gia\",\"bsn\":\"111222333\",\"birthdate\":\"2009-02-30\"}", SP_EDATE,
	        "field 'birthdate'");
	REFUSED("{\"type\":\"signal\",\"category\":\"gia\",\"bsn\":\"111222333\",\"colour\":\"red\"}", SP_EMALFORMED,
	        "unknown field 'colour'");
	/* a field name that could be personal data is not echoed */
	REFUSED("{\"type\":\"signal\",\"category\":\"gia\",\"bsn\":\"111222333\",\"111222333\":1}", SP_EMALFORMED,
	        "name is not shown");
	REFUSED("{\"type\":\"signal\",\"category\":\"gia\",\"bsn\":\"111222333\",\"summary\":[1]}", SP_EMALFORMED,
	        "field 'summary': must be a string");
	REFUSED("{\"type\":\"signal\",\"category\":\"gia\",\"bsn\":\"111222333\",\"contact\":\"a\\nb\"}", SP_EMALFORMED,
	        "field 'contact': not acceptable text: a newline or tab (one line only)");
	{
		/* every oversized field is listed, whatever the file's total size */
		size_t big = 70000;
		char *json = malloc(2 * big + 200);
		char *fill = malloc(big + 1);
		memset(fill, 'a', big);
		fill[big] = '\0';
		sprintf(json, "{\"type\":\"signal\",\"category\":\"gia\",\"bsn\":\"111222333\",\"summary\":\"%s\","
		        "\"narrative\":\"%s\"}", fill, fill);
		struct parsed *p = parse(json);
		ck_assert_int_eq(p->rc, SP_ESIZE);
		ck_assert_ptr_nonnull(strstr(p->errs, "field 'summary': longer than 4096 bytes"));
		ck_assert_ptr_nonnull(strstr(p->errs, "field 'narrative': longer than 16384 bytes"));
		free(json);
		free(fill);
	}
}
END_TEST

START_TEST(every_problem_listed)
{
	struct parsed *p = parse("{\"type\":\"signal\",\"weight\":9,\"bsn\":\"123456789\",\"x\":1}");
	int lines = 0;
	for (const char *c = p->errs; *c; c++)
		lines += *c == '\n';
	ck_assert_int_eq(lines, 4);
	ck_assert_int_eq(p->rc, SP_EMALFORMED); /* the first problem's code */
	ck_assert_ptr_nonnull(strstr(p->errs, "field 'category'"));
	ck_assert_ptr_nonnull(strstr(p->errs, "field 'weight'"));
	ck_assert_ptr_nonnull(strstr(p->errs, "field 'bsn'"));
}
END_TEST

START_TEST(not_json)
{
	REFUSED("", SP_EMALFORMED, "(half-written file?)");
	REFUSED("{\"type\":\"signal\",\"category\":\"gia\",", SP_EMALFORMED, "not JSON: line 1 column");
	REFUSED("{\"type\":\"signal\",\"category\":\"gia\",", SP_EMALFORMED, "(half-written file?)");
	REFUSED("{\"type\":\"signal\",\n\"bsn\": 123456789x}", SP_EMALFORMED, "not JSON: line 2 column");
	ck_assert_ptr_null(strstr(parse("{\"type\":\"signal\",\n\"bsn\": 123456789x}")->errs, "123456789"));
	REFUSED("{\"type\":\"signal\",\"type\":\"signal\"}", SP_EMALFORMED, "duplicate");
	REFUSED("[1]", SP_EMALFORMED, "not a JSON object");
	REFUSED("{\"category\":\"gia\"}", SP_EMALFORMED, "field 'type': required");
	REFUSED("{\"type\":\"letter\"}", SP_EMALFORMED, "field 'type': unknown");
	{
		const char nul[] = "{\"type\":\"signal\"\0}";
		char errs[SP_SPOOL_ERRORS_MAX];
		uint8_t *req = NULL;
		size_t len;
		int kind;
		ck_assert_int_eq(sp_spool_parse(nul, sizeof nul - 1, NOW, &kind, &req, &len, errs, sizeof errs),
		                 SP_EMALFORMED);
	}
}
END_TEST

START_TEST(involvement_valid)
{
	struct parsed *p = parse("{\"type\":\"involvement\",\"involvements\":[{\"bsn\":\"111222333\",\"ref\":\"LL-1\","
	                         "\"until\":\"2031-07-31\"},{\"bsn\":\"123456782\"}]}");
	ck_assert_int_eq(p->rc, SP_OK);
	ck_assert_int_eq(p->kind, SP_SPOOL_INVOLVE);
	ck_assert_int_eq(p->req->body_case, SEINPOST__LOCAL_REQUEST__BODY_INVOLVE_BATCH);
	Seinpost__InvolveBatchRequest *b = p->req->involve_batch;
	ck_assert_uint_eq(b->n_items, 2);
	ck_assert_str_eq(b->items[0]->subject_id, "111222333");
	ck_assert_str_eq(b->items[0]->ref, "LL-1");
	ck_assert_str_eq(b->items[0]->until, "2031-07-31");
	ck_assert_str_eq(b->items[1]->ref, "");
	ck_assert_str_eq(b->items[1]->until, "");
	ck_assert(!b->items[0]->remove && !b->items[1]->remove);
	p = parse("{\"type\":\"involvement\",\"involvements\":[{\"bsn\":\"111222333\",\"remove\":true},"
	          "{\"bsn\":\"123456782\",\"remove\":false}]}");
	ck_assert_int_eq(p->rc, SP_OK);
	ck_assert(p->req->involve_batch->items[0]->remove && !p->req->involve_batch->items[1]->remove);
	REFUSED("{\"type\":\"involvement\",\"involvements\":[{\"bsn\":\"111222333\",\"remove\":1}]}",
	        SP_EMALFORMED, "field 'involvements[0].remove': must be true or false");
	REFUSED("{\"type\":\"involvement\",\"involvements\":[{\"bsn\":\"111222333\",\"remove\":true,"
	        "\"until\":\"2031-01-01\"}]}", SP_EINVAL, "a removal takes only the BSN");
}
END_TEST

START_TEST(involvement_refused)
{
	struct parsed *p = parse("{\"type\":\"involvement\",\"involvements\":[{\"bsn\":\"111222333\"},"
	                         "{\"bsn\":\"123456789\"},{\"bsn\":\"111222333\",\"until\":\"2020-01-01\"},"
	                         "{\"ref\":\"x\"},7,{\"bsn\":\"111222333\",\"until\":\"2031-02-30\",\"pupil\":1}]}");
	ck_assert_int_eq(p->rc, SP_EBSN);
	ck_assert_ptr_nonnull(strstr(p->errs, "field 'involvements[1].bsn': invalid BSN"));
	ck_assert_ptr_nonnull(strstr(p->errs, "field 'involvements[2].until': the date has passed"));
	ck_assert_ptr_nonnull(strstr(p->errs, "field 'involvements[3].bsn': required"));
	ck_assert_ptr_nonnull(strstr(p->errs, "field 'involvements[4]': must be an object"));
	ck_assert_ptr_nonnull(strstr(p->errs, "field 'involvements[5].until': expected YYYY-MM-DD"));
	ck_assert_ptr_nonnull(strstr(p->errs, "field 'involvements[5]': unknown field 'pupil'"));
	ck_assert_ptr_null(strstr(p->errs, "123456789"));
	ck_assert_ptr_null(strstr(p->errs, "involvements[0]"));
	REFUSED("{\"type\":\"involvement\",\"involvements\":[]}", SP_EMALFORMED, "1 to 2048 entries");
	REFUSED("{\"type\":\"involvement\"}", SP_EMALFORMED, "field 'involvements': required");
	REFUSED("{\"type\":\"involvement\",\"involvements\":[{\"bsn\":\"111222333\"}],\"idempotency_key\":\"k\"}",
	        SP_EMALFORMED, "unknown field 'idempotency_key'");
	char ref[200] = "{\"type\":\"involvement\",\"involvements\":[{\"bsn\":\"111222333\",\"ref\":\"";
	memset(ref + strlen(ref), 'r', 70);
	strcat(ref, "\"}]}");
	REFUSED(ref, SP_EINVAL, "field 'involvements[0].ref': must be at most 64");
}
END_TEST

START_TEST(error_list_bounded)
{
	/* thousands of bad entries: the .error text stays bounded and says so */
	size_t n = 2000, len = 0;
	char *json = malloc(n * 24 + 64);
	len += (size_t)sprintf(json, "{\"type\":\"involvement\",\"involvements\":[");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(json + len, "%s{\"bsn\":\"1\"}", i ? "," : "");
	strcpy(json + len, "]}");
	struct parsed *p = parse(json);
	ck_assert_int_eq(p->rc, SP_EBSN);
	ck_assert_ptr_nonnull(strstr(p->errs, "(more problems not listed)"));
	free(json);
}
END_TEST

START_TEST(wire_key_limit)
{
	Seinpost__SubmitRequest sr = SEINPOST__SUBMIT_REQUEST__INIT;
	Seinpost__LocalRequest r = SEINPOST__LOCAL_REQUEST__INIT, *out = NULL;
	char key[SP_IDEMPOTENCY_KEY_MAX + 2], why[256];
	uint8_t *buf = NULL;
	size_t len;
	memset(key, 'k', sizeof key - 1);
	key[sizeof key - 1] = '\0';
	sr.category = "gia";
	sr.subject_id = "111222333";
	sr.idempotency_key = key;
	r.body_case = SEINPOST__LOCAL_REQUEST__BODY_SUBMIT;
	r.submit = &sr;
	ck_assert_int_eq(sp_wire_pack(&r.base, &buf, &len), SP_OK);
	ck_assert_int_eq(sp_wire_decode_local(buf, len, &out, why, sizeof why), SP_ESIZE);
	ck_assert_ptr_nonnull(strstr(why, "idempotency_key"));
	free(buf);
	key[SP_IDEMPOTENCY_KEY_MAX] = '\0';
	ck_assert_int_eq(sp_wire_pack(&r.base, &buf, &len), SP_OK);
	ck_assert_int_eq(sp_wire_decode_local(buf, len, &out, why, sizeof why), SP_OK);
	ck_assert_str_eq(out->submit->idempotency_key, key);
	seinpost__local_request__free_unpacked(out, NULL);
	free(buf);
}
END_TEST

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static int exists(const char *dir, const char *name)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

START_TEST(watcher)
{
	char base[256], dir[300], path[400], big[600];
	sp_spool *s = NULL;
	sp_spool_file *f = NULL;
	uint8_t id[SP_ID_BYTES], *text = NULL;
	size_t len;
	struct stat st;

	sp_test_subdir(base, sizeof base);
	snprintf(dir, sizeof dir, "%s/spool", base);
	ck_assert_int_eq(sp_mkdir_p(dir, 0700), SP_OK);
	ck_assert_int_eq(chmod(dir, 0777), 0);
	ck_assert_int_eq(sp_spool_open(dir, 512, &s), SP_EPERM); /* anyone could submit */
	ck_assert_ptr_null(s);
	ck_assert_int_eq(chmod(dir, 02770), 0);
	/* present before start: read in name order; temporary names never */
	put(dir, "b.json", "{\"type\":\"signal\",\"category\":\"gia\",\"bsn\":\"111222333\"}");
	put(dir, "a.json", "{\"type\":\"signal\",\"category\":\"gia\",\"weight\":7,\"bsn\":\"111222333\"}");
	put(dir, ".c.json", "{}");
	put(dir, "c.json.tmp", "{}");
	memset(big, ' ', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	put(dir, "d.json", big);
	ck_assert_int_eq(sp_spool_open(dir, 512, &s), SP_OK);
	snprintf(path, sizeof path, "%s/done", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0750);
	ck_assert_uint_eq(sp_spool_waiting(s), 3);

	/* a.json does not parse: rejected on the way, b.json comes out */
	ck_assert_int_eq(sp_spool_next(s, &f), 1);
	ck_assert_str_eq(f->name, "b.json");
	ck_assert_int_eq(f->kind, SP_SPOOL_SIGNAL);
	ck_assert(exists(dir, "rejected/a.json") && exists(dir, "rejected/a.json.error") && !exists(dir, "a.json"));
	snprintf(path, sizeof path, "%s/rejected/a.json.error", dir);
	ck_assert_int_eq(sp_file_read(path, 4096, &text, &len), SP_OK);
	ck_assert_str_eq((char *)text, "field 'weight': must be 1 (low), 2 or 3 (high)\n");
	free(text);
	memset(id, 0xab, sizeof id);
	sp_spool_done(s, f, id);
	ck_assert(exists(dir, "done/b.json") && !exists(dir, "b.json"));
	snprintf(path, sizeof path, "%s/done/b.json.id", dir);
	ck_assert_int_eq(sp_file_read(path, 4096, &text, &len), SP_OK);
	ck_assert_str_eq((char *)text, "abababababababababababababababab\n");
	free(text);

	/* d.json is larger than the limit: rejected unread */
	ck_assert_int_eq(sp_spool_next(s, &f), 0);
	ck_assert(exists(dir, "rejected/d.json.error"));
	ck_assert(exists(dir, ".c.json") && exists(dir, "c.json.tmp"));

	/* a new file arrives by rename (inotify), a local fault leaves it */
	put(dir, ".e.tmp", "{\"type\":\"involvement\",\"involvements\":[{\"bsn\":\"111222333\"}]}");
	snprintf(path, sizeof path, "%s/.e.tmp", dir);
	snprintf(big, sizeof big, "%s/e.json", dir);
	ck_assert_int_eq(rename(path, big), 0);
	sp_spool_events(s, 1000);
	ck_assert_int_eq(sp_spool_next(s, &f), 1);
	ck_assert_int_eq(f->kind, SP_SPOOL_INVOLVE);
	sp_spool_later(s, f, 1000);
	ck_assert(exists(dir, "e.json"));
	sp_spool_events(s, 2000);
	ck_assert_int_eq(sp_spool_next(s, &f), 0); /* not before the retry time */
	sp_spool_events(s, 1000 + 60000);
	ck_assert_int_eq(sp_spool_next(s, &f), 1);
	ck_assert_str_eq(f->name, "e.json");
	sp_spool_reject(s, f, "one\ntwo\n");
	ck_assert(exists(dir, "rejected/e.json") && !exists(dir, "e.json"));

	/* replaced (renamed over) while being imported: the new file is not
	 * moved with the old one's verdict, it gets its own turn */
	put(dir, "f.json", "{\"type\":\"signal\",\"category\":\"gia\",\"bsn\":\"111222333\"}");
	sp_spool_events(s, 70000);
	ck_assert_int_eq(sp_spool_next(s, &f), 1);
	ck_assert_str_eq(f->name, "f.json");
	put(dir, ".f.tmp", "{\"type\":\"signal\",\"category\":\"gia\",\"bsn\":\"123456782\"}");
	snprintf(path, sizeof path, "%s/.f.tmp", dir);
	snprintf(big, sizeof big, "%s/f.json", dir);
	ck_assert_int_eq(rename(path, big), 0);
	sp_spool_done(s, f, id);
	ck_assert(exists(dir, "f.json") && !exists(dir, "done/f.json"));
	sp_spool_events(s, 70000);
	ck_assert_int_eq(sp_spool_next(s, &f), 1);
	ck_assert_str_eq(f->name, "f.json");
	sp_spool_done(s, f, id);
	ck_assert(!exists(dir, "f.json") && exists(dir, "done/f.json"));
	sp_spool_close(&s);
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(prune)
{
	char dir[256];
	sp_store *st = NULL;
	sp_txn *t = NULL;
	uint8_t id[SP_ID_BYTES] = { 1 }, k1[SP_SPOOL_KEY_BYTES], k2[SP_SPOOL_KEY_BYTES], v[SP_SPOOL_KEY_VALUE];
	const void *got;
	size_t gl, pruned = 0;
	sp_test_subdir(dir, sizeof dir);
	ck_assert_int_eq(sp_store_open(dir, 0, 0, &st), SP_OK);
	sp_spool_key("old", k1);
	sp_spool_key("new", k2);
	ck_assert_int_eq(sp_txn_begin(st, 1, &t), SP_OK);
	sp_spool_key_value(id, NOW - 1, v);
	ck_assert_int_eq(sp_store_put(t, SP_DB_SPOOL, k1, sizeof k1, v, sizeof v, 0), SP_OK);
	sp_spool_key_value(id, NOW + 86400, v);
	ck_assert_int_eq(sp_store_put(t, SP_DB_SPOOL, k2, sizeof k2, v, sizeof v, 0), SP_OK);
	ck_assert_int_eq(sp_spool_prune(t, NOW, &pruned), SP_OK);
	ck_assert_uint_eq(pruned, 1);
	ck_assert_int_eq(sp_store_get(t, SP_DB_SPOOL, k1, sizeof k1, &got, &gl), SP_ENOTFOUND);
	ck_assert_int_eq(sp_store_get(t, SP_DB_SPOOL, k2, sizeof k2, &got, &gl), SP_OK);
	ck_assert_mem_eq(got, id, SP_ID_BYTES);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	sp_store_close(&st);
}
END_TEST

static Suite *spool_suite(void)
{
	Suite *s = suite_create("spool");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, signal_valid);
	tcase_add_test(tc, signal_key);
	tcase_add_test(tc, stored_key);
	tcase_add_test(tc, subjects);
	tcase_add_test(tc, signal_refused);
	tcase_add_test(tc, every_problem_listed);
	tcase_add_test(tc, not_json);
	tcase_add_test(tc, involvement_valid);
	tcase_add_test(tc, involvement_refused);
	tcase_add_test(tc, error_list_bounded);
	tcase_add_test(tc, wire_key_limit);
	suite_add_tcase(s, tc);
	tc = tcase_create("watcher");
	tcase_add_unchecked_fixture(tc, sp_test_base_setup, sp_test_base_teardown);
	tcase_add_test(tc, watcher);
	tcase_add_test(tc, prune);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(spool_suite)
