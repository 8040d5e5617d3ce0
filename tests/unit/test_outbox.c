/* test_outbox.c — pending index, settle, migration, backoff; and the store
 * additions the delivery feature relies on (seek, child transactions). */
#include "sp_test.h"
#include "sp_outbox.h"
#include "sp_store.h"
#include "sp_util.h"
#include "sp_wire.h"
#include "seinpost.pb-c.h"

/* Each test works in its own subdirectory of the runner's base (sp_test.h). */
static char dir[256];

static void setup(void)
{
	sp_test_subdir(dir, sizeof dir);
}

static void teardown(void)
{
	sp_test_rmdir(dir);
}

static sp_store *open_store(void)
{
	sp_store *s = NULL;
	char p[300];
	snprintf(p, sizeof p, "%s/state", dir);
	ck_assert_int_eq(sp_store_open(p, 0, 0, &s), SP_OK);
	return s;
}

static void entry(int state, uint64_t queued, uint8_t **buf, size_t *len)
{
	Seinpost__OutboxEntry e = SEINPOST__OUTBOX_ENTRY__INIT;
	e.state = (Seinpost__OutboxState)state;
	e.queued = queued;
	ck_assert_int_eq(sp_wire_pack(&e.base, buf, len), SP_OK);
}

struct seen {
	uint8_t ids[16][16];
	uint64_t pos[16];
	int n;
};

static int collect(void *ctx, uint64_t pos, const uint8_t id[16], const void *e, size_t el)
{
	struct seen *s = ctx;
	memcpy(s->ids[s->n], id, 16);
	s->pos[s->n++] = pos;
	return 0;
}

static void add(sp_store *s, uint8_t tag, int state)
{
	sp_txn *t = NULL;
	uint8_t id[16], *buf;
	size_t len;
	memset(id, tag, 16);
	entry(state, 1000u + tag, &buf, &len);
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_outbox_add(t, id, buf, len), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	free(buf);
}

START_TEST(test_pending_order_and_settle)
{
	sp_store *s = open_store();
	sp_txn *t = NULL;
	struct seen seen = { 0 };
	uint8_t id[16], *buf;
	size_t len;
	uint64_t n, oldest;

	add(s, 0x30, SEINPOST__OUTBOX_STATE__OUTBOX_PENDING);
	add(s, 0x10, SEINPOST__OUTBOX_STATE__OUTBOX_PENDING);
	add(s, 0x20, SEINPOST__OUTBOX_STATE__OUTBOX_PENDING);
	/* Duplicate id refused. */
	memset(id, 0x10, 16);
	entry(1, 1, &buf, &len);
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_outbox_add(t, id, buf, len), SP_EEXIST);
	sp_txn_abort(&t);
	free(buf);

	ck_assert_int_eq(sp_txn_begin(s, 0, &t), SP_OK);
	ck_assert_int_eq(sp_outbox_foreach_pending(t, 0, collect, &seen), SP_OK);
	ck_assert_int_eq(seen.n, 3);
	/* Submission order, not id order. */
	ck_assert_uint_eq(seen.ids[0][0], 0x30);
	ck_assert_uint_eq(seen.ids[1][0], 0x10);
	ck_assert_uint_eq(seen.ids[2][0], 0x20);
	ck_assert_int_eq(sp_outbox_pending(t, &n, &oldest), SP_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(oldest, 1000u + 0x30);
	sp_txn_abort(&t);

	/* Settle the middle one (twice: idempotent). */
	entry(SEINPOST__OUTBOX_STATE__OUTBOX_ACCEPTED, 1, &buf, &len);
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_outbox_settle(t, id, buf, len), SP_OK);
	ck_assert_int_eq(sp_outbox_settle(t, id, buf, len), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	free(buf);

	memset(&seen, 0, sizeof seen);
	ck_assert_int_eq(sp_txn_begin(s, 0, &t), SP_OK);
	ck_assert_int_eq(sp_outbox_foreach_pending(t, 0, collect, &seen), SP_OK);
	ck_assert_int_eq(seen.n, 2);
	ck_assert_uint_eq(seen.ids[0][0], 0x30);
	ck_assert_uint_eq(seen.ids[1][0], 0x20);
	/* Start further on: only what follows. */
	struct seen later = { 0 };
	ck_assert_int_eq(sp_outbox_foreach_pending(t, seen.pos[0] + 1, collect, &later), SP_OK);
	ck_assert_int_eq(later.n, 1);
	ck_assert_uint_eq(later.ids[0][0], 0x20);
	/* The settled entry is still in the outbox (history). */
	ck_assert_int_eq(sp_store_count(t, SP_DB_OUTBOX, &n), SP_OK);
	ck_assert_uint_eq(n, 3);
	sp_txn_abort(&t);
	sp_store_close(&s);
}
END_TEST

/* A store written before the index existed: migrate indexes its PENDING
 * entries once, leaves settled ones out, and is a no-op the second time. */
START_TEST(test_migrate)
{
	sp_store *s = open_store();
	sp_txn *t = NULL;
	struct seen seen = { 0 };
	uint8_t *buf;
	size_t len;

	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	for (uint8_t tag = 1; tag <= 4; tag++) {
		uint8_t id[16];
		memset(id, tag, 16);
		entry(tag % 2 ? SEINPOST__OUTBOX_STATE__OUTBOX_PENDING : SEINPOST__OUTBOX_STATE__OUTBOX_ACCEPTED,
		      tag, &buf, &len);
		ck_assert_int_eq(sp_store_put(t, SP_DB_OUTBOX, id, 16, buf, len, 0), SP_OK);
		free(buf);
	}
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	ck_assert_int_eq(sp_outbox_migrate(s), SP_OK);
	ck_assert_int_eq(sp_outbox_migrate(s), SP_OK);
	ck_assert_int_eq(sp_txn_begin(s, 0, &t), SP_OK);
	ck_assert_int_eq(sp_outbox_foreach_pending(t, 0, collect, &seen), SP_OK);
	ck_assert_int_eq(seen.n, 2);
	ck_assert_uint_eq(seen.ids[0][0], 1);
	ck_assert_uint_eq(seen.ids[1][0], 3);
	sp_txn_abort(&t);
	sp_store_close(&s);
}
END_TEST

START_TEST(test_backoff)
{
	sp_backoff b;
	sp_backoff_init(&b, 100, 800);
	ck_assert(sp_backoff_due(&b, 0));
	sp_backoff_fail(&b, 1000);
	ck_assert(!sp_backoff_due(&b, 1099));
	ck_assert(sp_backoff_due(&b, 1000 + 100 + 25));
	for (int i = 0; i < 10; i++)
		sp_backoff_fail(&b, 2000);
	ck_assert_uint_eq(b.cur_ms, 800);             /* capped */
	ck_assert(b.next_ms <= 2000 + 800 + 200);      /* with at most 25% jitter */
	sp_backoff_ok(&b, 5000);
	ck_assert_uint_eq(b.cur_ms, 100);
	ck_assert(sp_backoff_due(&b, 5100));
}
END_TEST

static int keys_visit(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	char *out = ctx;
	strncat(out, (const char *)k + 2, kl - 2);
	return 0;
}

START_TEST(test_store_seek_and_child)
{
	sp_store *s = open_store();
	sp_txn *t = NULL, *c = NULL;
	const char *keys[] = { "a:1", "a:3", "a:5", "b:2" };
	char got[32] = "";
	const void *v;
	size_t vl;
	uint64_t used, map;

	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(sp_store_put(t, SP_DB_QUEUE, keys[i], 3, "x", 1, 0), SP_OK);
	/* Seek inside a prefix: starts at the first key >= from, stops at the prefix end. */
	ck_assert_int_eq(sp_store_foreach_from(t, SP_DB_QUEUE, "a:", 2, "a:2", 3, keys_visit, got), SP_OK);
	ck_assert_str_eq(got, "35");
	ck_assert_int_eq(sp_store_foreach_from(t, SP_DB_QUEUE, "a:", 2, "b:0", 3, keys_visit, got), SP_EINVAL);
	/* A child's changes vanish on abort, the parent goes on. */
	ck_assert_int_eq(sp_txn_begin_child(t, &c), SP_OK);
	ck_assert_int_eq(sp_store_put(c, SP_DB_QUEUE, "c:1", 3, "y", 1, 0), SP_OK);
	sp_txn_abort(&c);
	ck_assert_int_eq(sp_store_get(t, SP_DB_QUEUE, "c:1", 3, &v, &vl), SP_ENOTFOUND);
	ck_assert_int_eq(sp_txn_begin_child(t, &c), SP_OK);
	ck_assert_int_eq(sp_store_put(c, SP_DB_QUEUE, "c:2", 3, "z", 1, 0), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&c), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	ck_assert_int_eq(sp_txn_begin(s, 0, &t), SP_OK);
	ck_assert_int_eq(sp_store_get(t, SP_DB_QUEUE, "c:2", 3, &v, &vl), SP_OK);
	ck_assert_int_eq(sp_txn_begin_child(t, &c), SP_EINVAL); /* not on a read txn */
	sp_txn_abort(&t);
	ck_assert_int_eq(sp_store_usage(s, &used, &map), SP_OK);
	ck_assert_uint_gt(used, 0);
	ck_assert_uint_ge(map, used);
	sp_store_close(&s);
}
END_TEST

/* A full map inside a child fails the child only: the parent (the rest of
 * the batch) is still usable and commits. */
START_TEST(test_child_map_full)
{
	sp_store *s = NULL;
	sp_txn *t = NULL, *c = NULL;
	char p[300];
	const void *v;
	size_t vl, bigl = 2u << 20;
	char *big = calloc(1, bigl);
	snprintf(p, sizeof p, "%s/state", dir);
	ck_assert_int_eq(sp_store_open(p, 1u << 20, 0, &s), SP_OK);
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_store_put(t, SP_DB_META, "before", 6, "1", 1, 0), SP_OK);
	ck_assert_int_eq(sp_txn_begin_child(t, &c), SP_OK);
	ck_assert_int_eq(sp_store_put(c, SP_DB_QUEUE, "huge", 4, big, bigl, 0), SP_EMAPFULL);
	sp_txn_abort(&c);
	ck_assert_int_eq(sp_store_put(t, SP_DB_META, "after", 5, "2", 1, 0), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	ck_assert_int_eq(sp_txn_begin(s, 0, &t), SP_OK);
	ck_assert_int_eq(sp_store_get(t, SP_DB_META, "before", 6, &v, &vl), SP_OK);
	ck_assert_int_eq(sp_store_get(t, SP_DB_META, "after", 5, &v, &vl), SP_OK);
	ck_assert_int_eq(sp_store_get(t, SP_DB_QUEUE, "huge", 4, &v, &vl), SP_ENOTFOUND);
	sp_txn_abort(&t);
	sp_store_close(&s);
	free(big);
}
END_TEST

static Suite *outbox_suite(void)
{
	Suite *s = suite_create("outbox");
	TCase *tc = tcase_create("core");
	tcase_add_unchecked_fixture(tc, sp_test_base_setup, sp_test_base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pending_order_and_settle);
	tcase_add_test(tc, test_migrate);
	tcase_add_test(tc, test_backoff);
	tcase_add_test(tc, test_store_seek_and_child);
	tcase_add_test(tc, test_child_map_full);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(outbox_suite)
