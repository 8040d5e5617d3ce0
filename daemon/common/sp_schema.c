/*
 * sp_schema.c — the layout version of a store, and its migrations.
 *
 * Why a version at all: a store outlives the binary that wrote it (apt
 * upgrades, restores from backup, a rollback after a bad upgrade). Without a
 * version, an older binary would read a newer layout as if it were its own,
 * and the first sign would be a damaged record or a broken audit chain. With
 * it, the older binary stops at open with a message that says what to do.
 *
 * The migrations run at a read-write open, before anything else touches the
 * store, in one write transaction together with the new version stamp.
 */
#include "sp_schema.h"

#include <string.h>

#include "sp_log.h"
#include "sp_util.h"

#define C "store"

static uint32_t be32_get(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void be32_put(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

struct step {
	uint32_t from;              /* migrates a store of this version to from + 1 */
	const char *what;           /* one line for the log */
	int (*run)(sp_txn *t);      /* NULL: nothing but the version stamp changes */
};

/* Version 1 -> 2: version 1 stores have no version key; the new key is all
 * that changes, and the framework writes it after the last step. */
static const struct step steps[] = {
	{ 1, "add the schema version key", NULL },
};
#define NSTEPS (sizeof steps / sizeof steps[0])

_Static_assert(NSTEPS == SP_SCHEMA_VERSION - 1, "one migration step per version after the first");

int sp_schema_get(sp_txn *t, uint32_t *version)
{
	const void *v;
	size_t vl;
	int rc;

	if (!t || !version)
		return SP_EINVAL;
	rc = sp_store_get(t, SP_DB_META, SP_SCHEMA_KEY, strlen(SP_SCHEMA_KEY), &v, &vl);
	if (rc == SP_ENOTFOUND) {
		*version = 1;
		return SP_OK;
	}
	if (rc != SP_OK)
		return rc;
	if (vl != 4)
		return SP_ECORRUPT;
	*version = be32_get(v);
	if (*version < 2)
		return SP_ECORRUPT; /* version 1 never had a key */
	return SP_OK;
}

int sp_schema_put(sp_txn *t, uint32_t version)
{
	uint8_t b[4];
	if (!t || version < 2)
		return SP_EINVAL;
	be32_put(b, version);
	return sp_store_put(t, SP_DB_META, SP_SCHEMA_KEY, strlen(SP_SCHEMA_KEY), b, sizeof b, 0);
}

/* A brand-new environment has nothing in any database. */
static int store_empty(sp_txn *t, int *empty)
{
	uint64_t n;
	int rc;
	*empty = 1;
	for (int db = 0; db < SP_DB_COUNT; db++) {
		rc = sp_store_count(t, (enum sp_db)db, &n);
		if (rc == SP_ENOTFOUND)
			continue;
		if (rc != SP_OK)
			return rc;
		if (n) {
			*empty = 0;
			break;
		}
	}
	return SP_OK;
}

static int refuse_newer(uint32_t v)
{
	sp_store_note_error("the store has layout version %u, newer than this seinpost knows (%u): "
	                    "it was written by a newer release; run that release (or newer), or "
	                    "restore a backup made by this one", v, (unsigned)SP_SCHEMA_VERSION);
	sp_log(LOG_ERR, C, "%s", sp_store_last_error());
	return SP_ESCHEMA;
}

int sp_schema_open(sp_store *s, int rdonly, uint32_t *from, uint32_t *to)
{
	sp_txn *t = NULL;
	uint32_t v = 0;
	int rc, empty = 0;

	if (!s)
		return SP_EINVAL;
	rc = sp_txn_begin(s, !rdonly, &t);
	if (rc != SP_OK)
		goto out;
	rc = sp_schema_get(t, &v);
	if (rc == SP_ECORRUPT)
		sp_store_note_error("the store's layout version key is malformed");
	if (rc != SP_OK)
		goto out;
	if (from)
		*from = v;
	if (to)
		*to = v;
	if (v > SP_SCHEMA_VERSION) {
		rc = refuse_newer(v);
		goto out;
	}
	if (v == SP_SCHEMA_VERSION)
		goto out;
	if (rdonly) {
		if (v < SP_SCHEMA_READ_MIN) {
			sp_store_note_error("the store has layout version %u, older than this seinpost "
			                    "reads (%u and later): start the daemon once to migrate it",
			                    v, (unsigned)SP_SCHEMA_READ_MIN);
			rc = SP_ESCHEMA;
		}
		goto out;
	}
	if ((rc = store_empty(t, &empty)) != SP_OK)
		goto out;
	for (size_t i = 0; !empty && i < NSTEPS; i++) {
		if (steps[i].from < v)
			continue;
		if (steps[i].run && (rc = steps[i].run(t)) != SP_OK) {
			sp_store_note_error("migration from layout version %u failed: %s", steps[i].from,
			                    sp_strerror(rc));
			goto out;
		}
		sp_log(LOG_NOTICE, C, "store layout migrated from version %u to %u: %s", steps[i].from,
		       steps[i].from + 1, steps[i].what);
	}
	if ((rc = sp_schema_put(t, SP_SCHEMA_VERSION)) != SP_OK)
		goto out;
	rc = sp_txn_commit(&t);
	if (rc == SP_OK && to)
		*to = SP_SCHEMA_VERSION;
out:
	sp_txn_abort(&t);
	return rc;
}
