/* test_hook.c — delivery hook queue: item encoding, ids, backoff, ordered
 * enqueue with a never-reused sequence, status levels, and the runner
 * dropping an item whose signal is no longer held. */
#include "sp_test.h"
#include "sp_config.h"
#include "sp_hook.h"
#include "sp_status.h"
#include "sp_store.h"
#include "sp_util.h"

static char dir[256];

static void setup(void)
{
	sp_test_subdir(dir, sizeof dir);
}

static void teardown(void)
{
	sp_test_rmdir(dir);
}

/* The state directory is the test's own subdirectory. */
static sp_store *store(void)
{
	sp_store *s = NULL;
	ck_assert_int_eq(sp_store_open(dir, 0, 0, &s), SP_OK);
	return s;
}

static void enqueue(sp_store *s, uint8_t tag, Seinpost__HookKind kind)
{
	sp_txn *t = NULL;
	uint8_t id[16];
	memset(id, tag, sizeof id);
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_hook_enqueue(t, id, kind, sp_now_ms()), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
}

struct rows {
	uint64_t seq[8];
	uint8_t tag[8];
	int kind[8];
	int n;
};

static int row(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct rows *r = ctx;
	Seinpost__HookItem *it = NULL;
	ck_assert_uint_eq(kl, 8);
	ck_assert_int_eq(sp_hook_item_decode(v, vl, &it), SP_OK);
	ck_assert_uint_eq(sp_be64_get(k), it->seq);
	r->seq[r->n] = it->seq;
	r->tag[r->n] = it->signal_id.data[0];
	r->kind[r->n++] = it->kind;
	seinpost__hook_item__free_unpacked(it, NULL);
	return 0;
}

static struct rows list(sp_store *s)
{
	struct rows r = { 0 };
	sp_txn *t = NULL;
	ck_assert_int_eq(sp_txn_begin(s, 0, &t), SP_OK);
	(void)sp_store_foreach(t, SP_DB_HOOK, NULL, 0, row, &r);
	sp_txn_abort(&t);
	return r;
}

START_TEST(test_backoff)
{
	ck_assert_uint_eq(sp_hook_backoff_ms(5, 1), 5000);
	ck_assert_uint_eq(sp_hook_backoff_ms(5, 2), 10000);
	ck_assert_uint_eq(sp_hook_backoff_ms(5, 3), 20000);
	ck_assert_uint_eq(sp_hook_backoff_ms(5, 7), 320000);
	ck_assert_uint_eq(sp_hook_backoff_ms(5, 8), SP_HOOK_BACKOFF_MAX_MS);
	ck_assert_uint_eq(sp_hook_backoff_ms(5, 4000000000u), SP_HOOK_BACKOFF_MAX_MS);
	ck_assert_uint_eq(sp_hook_backoff_ms(3600, 1), SP_HOOK_BACKOFF_MAX_MS); /* capped from the start */
	ck_assert_uint_eq(sp_hook_backoff_ms(0, 1), 1000);
	ck_assert_uint_eq(sp_hook_backoff_ms(1, 0), 1000);
}
END_TEST

START_TEST(test_encode_decode_and_id)
{
	Seinpost__HookItem it = SEINPOST__HOOK_ITEM__INIT, *back = NULL;
	uint8_t id[16], *buf = NULL;
	size_t len;
	char s[SP_HOOK_ITEM_ID_MAX];
	memset(id, 0xab, sizeof id);
	it.signal_id.data = id;
	it.signal_id.len = 16;
	it.kind = SEINPOST__HOOK_KIND__HOOK_REFERRAL;
	it.seq = 42;
	it.attempts = 3;
	it.next_attempt = 123456;
	it.last_error = "exit 3";
	it.audited = 1;
	ck_assert_int_eq(sp_hook_item_encode(&it, &buf, &len), SP_OK);
	ck_assert_int_eq(sp_hook_item_decode(buf, len, &back), SP_OK);
	ck_assert_mem_eq(back->signal_id.data, id, 16);
	ck_assert_int_eq(back->kind, SEINPOST__HOOK_KIND__HOOK_REFERRAL);
	ck_assert_uint_eq(back->seq, 42);
	ck_assert_uint_eq(back->attempts, 3);
	ck_assert_uint_eq(back->next_attempt, 123456);
	ck_assert_str_eq(back->last_error, "exit 3");
	ck_assert(back->audited && !back->out_done);
	sp_hook_item_id(back, s, sizeof s);
	ck_assert_str_eq(s, "abababababababababababababababab-referral-42");
	seinpost__hook_item__free_unpacked(back, NULL);
	free(buf);

	it.signal_id.len = 15; /* a signal id is 16 bytes */
	ck_assert_int_eq(sp_hook_item_encode(&it, &buf, &len), SP_OK);
	ck_assert_int_eq(sp_hook_item_decode(buf, len, &back), SP_EMALFORMED);
	ck_assert_ptr_null(back);
	free(buf);
	ck_assert_int_eq(sp_hook_item_decode("\xff\xff\xff", 3, &back), SP_EMALFORMED);
	ck_assert_str_eq(sp_hook_kind_name(SEINPOST__HOOK_KIND__HOOK_UPDATE), "update");
	ck_assert_str_eq(sp_hook_kind_name(99), "unknown");
}
END_TEST

START_TEST(test_enqueue_order_and_seq)
{
	sp_store *s = store();
	sp_txn *t = NULL, *c = NULL;
	uint8_t id[16] = { 9 };
	enqueue(s, 1, SEINPOST__HOOK_KIND__HOOK_SIGNAL);
	enqueue(s, 2, SEINPOST__HOOK_KIND__HOOK_REFERRAL);
	/* A child transaction rolled back (a frame that could not be stored)
	 * leaves no item and uses no sequence number. */
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_txn_begin_child(t, &c), SP_OK);
	ck_assert_int_eq(sp_hook_enqueue(c, id, SEINPOST__HOOK_KIND__HOOK_SIGNAL, 1), SP_OK);
	sp_txn_abort(&c);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	enqueue(s, 3, SEINPOST__HOOK_KIND__HOOK_UPDATE);
	struct rows r = list(s);
	ck_assert_int_eq(r.n, 3);
	ck_assert_uint_eq(r.seq[0], 1);
	ck_assert_uint_eq(r.seq[1], 2);
	ck_assert_uint_eq(r.seq[2], 3);
	ck_assert_int_eq(r.tag[0], 1);
	ck_assert_int_eq(r.kind[1], SEINPOST__HOOK_KIND__HOOK_REFERRAL);
	ck_assert_int_eq(r.kind[2], SEINPOST__HOOK_KIND__HOOK_UPDATE);

	/* Emptied queue: the next item still gets a new number, so no consumer
	 * ever sees an item id twice for different hand-overs. */
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	for (int i = 0; i < 3; i++) {
		uint8_t k[8];
		sp_be64_put(k, r.seq[i]);
		ck_assert_int_eq(sp_store_del(t, SP_DB_HOOK, k, 8), SP_OK);
	}
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	enqueue(s, 1, SEINPOST__HOOK_KIND__HOOK_SIGNAL);
	r = list(s);
	ck_assert_int_eq(r.n, 1);
	ck_assert_uint_eq(r.seq[0], 4);
	sp_store_close(&s);
}
END_TEST

static void node_config(sp_config *c)
{
	memset(c, 0, sizeof *c);
	c->role = SP_RUN_NODE;
	snprintf(c->org, sizeof c->org, "jeugdzorg-mh");
	snprintf(c->state_dir, sizeof c->state_dir, "%s", dir);
	snprintf(c->hook_command, sizeof c->hook_command, "/bin/true");
	c->hook_timeout_s = 30;
	c->hook_retry_s = 5;
}

static int hook_level(const sp_config *c, char *value, size_t vlen)
{
	sp_status_opts o = { .max_age_s = 86400, .map_bad_pct = 90 };
	sp_status *st = NULL;
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	ck_assert_int_eq(sp_status_collect(c, &o, &st), SP_OK);
	sp_status_print(st, f, 0);
	fclose(f);
	snprintf(value, vlen, "%s", buf);
	free(buf);
	int level = sp_status_level(st);
	sp_status_free(&st);
	return level;
}

START_TEST(test_status_levels)
{
	sp_config c;
	sp_store *s;
	sp_txn *t = NULL;
	char out[4096];
	node_config(&c);
	s = store();
	enqueue(s, 7, SEINPOST__HOOK_KIND__HOOK_SIGNAL);
	sp_store_close(&s);
	ck_assert_int_ne(hook_level(&c, out, sizeof out), SP_STATUS_BAD);
	ck_assert_ptr_nonnull(strstr(out, "07070707070707070707070707070707-signal-1: not tried yet"));

	/* The oldest failed SP_HOOK_BAD_ATTEMPTS times: unhealthy, with the error. */
	Seinpost__HookItem it = SEINPOST__HOOK_ITEM__INIT;
	uint8_t id[16], key[8], *buf = NULL;
	size_t len;
	memset(id, 7, sizeof id);
	it.signal_id.data = id;
	it.signal_id.len = 16;
	it.seq = 1;
	it.queued = sp_now_ms();
	it.attempts = SP_HOOK_BAD_ATTEMPTS;
	it.last_error = "exit 3";
	sp_be64_put(key, 1);
	ck_assert_int_eq(sp_hook_item_encode(&it, &buf, &len), SP_OK);
	s = store();
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_store_put(t, SP_DB_HOOK, key, 8, buf, len, 0), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	sp_store_close(&s);
	free(buf);
	ck_assert_int_eq(hook_level(&c, out, sizeof out), SP_STATUS_BAD);
	ck_assert_ptr_nonnull(strstr(out, "3 failed attempt(s), last error: exit 3"));

	/* Items left but the hook configuration removed: said loudly. */
	c.hook_command[0] = '\0';
	ck_assert_int_eq(hook_level(&c, out, sizeof out), SP_STATUS_BAD);
	ck_assert_ptr_nonnull(strstr(out, "no [hook] command or out is configured"));
}
END_TEST

START_TEST(test_runner_drops_item_without_signal)
{
	sp_config c;
	sp_store *s;
	sp_hook *h = NULL;
	node_config(&c);
	s = store();
	enqueue(s, 5, SEINPOST__HOOK_KIND__HOOK_SIGNAL);
	/* No inbox entry (retention deleted it): nothing to hand over, so the
	 * item goes without starting the command. No keys are needed for it. */
	ck_assert_int_eq(sp_hook_open(&c, s, NULL, NULL, NULL, &h), SP_OK);
	sp_hook_tick(h);
	ck_assert_int_eq(list(s).n, 0);
	sp_hook_tick(h); /* empty queue: nothing happens */
	sp_hook_close(&h);
	ck_assert_ptr_null(h);
	sp_store_close(&s);
}
END_TEST

static Suite *hook_suite(void)
{
	Suite *s = suite_create("hook");
	TCase *tc = tcase_create("core");
	tcase_add_unchecked_fixture(tc, sp_test_base_setup, sp_test_base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_backoff);
	tcase_add_test(tc, test_encode_decode_and_id);
	tcase_add_test(tc, test_enqueue_order_and_seq);
	tcase_add_test(tc, test_status_levels);
	tcase_add_test(tc, test_runner_drops_item_without_signal);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(hook_suite)
