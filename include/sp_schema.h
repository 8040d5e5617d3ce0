/*
 * sp_schema.h — the layout version of a store, and the migrations between
 * versions.
 *
 * Every LMDB environment (broker or node) carries its layout version in
 * SP_DB_META under the key "schema.version" (4 bytes, big-endian). A store
 * without that key was written before versions existed: version 1.
 *
 *   version 1  the layouts up to seinpost 0.1.0 (no version key)
 *   version 2  the same layouts, with the version key
 *
 * A read-write open (sp_store_open, daemons) brings an older store up to
 * SP_SCHEMA_VERSION by running each migration in turn, all in one write
 * transaction: the store is either migrated completely or left as it was.
 * A newer store is refused with SP_ESCHEMA by every open, read-only ones
 * included: an older binary must not guess at a layout it does not know.
 * A read-only open of an older store is allowed when the layout is one this
 * binary still reads (>= SP_SCHEMA_READ_MIN); it does not migrate.
 *
 * Adding a version: bump SP_SCHEMA_VERSION, append a step to the table in
 * sp_schema.c, describe it above, and test the step on a store of the
 * version before (tests/unit/test_schema.c).
 */
#ifndef SP_SCHEMA_H
#define SP_SCHEMA_H

#include <stdint.h>
#include "sp_error.h"
#include "sp_store.h"

#define SP_SCHEMA_VERSION 2
#define SP_SCHEMA_READ_MIN 1
#define SP_SCHEMA_KEY "schema.version"

/* The store's version: 1 when it has no version key (written before
 * versions existed, or not yet stamped). */
int sp_schema_get(sp_txn *t, uint32_t *version) SP_MUST_CHECK;

/* Stamp a version (migrations and tests only). */
int sp_schema_put(sp_txn *t, uint32_t version) SP_MUST_CHECK;

/* At open: refuse a newer store (SP_ESCHEMA, the reason in
 * sp_store_last_error()), migrate an older one when writable.
 * *from / *to (may be NULL) get the version found and the version now. */
int sp_schema_open(sp_store *s, int rdonly, uint32_t *from, uint32_t *to) SP_MUST_CHECK;

#endif
