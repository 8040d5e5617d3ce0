/*
 * sp_schema_set — test tool: make a store look as another release left it.
 *   sp_schema_set DIR get       print the layout version (1: no version key)
 *   sp_schema_set DIR 1         remove the version key (a store from before versions)
 *   sp_schema_set DIR N         stamp version N (N > 2: a store from a newer release)
 * Opens the environment with LMDB directly, below sp_store, which would
 * migrate or refuse it.
 */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_schema.h"
#include "sp_store.h"

int main(int argc, char **argv)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_val k = { strlen(SP_SCHEMA_KEY), (void *)SP_SCHEMA_KEY }, v;
	int get, rc;
	unsigned long n = 0;
	uint8_t b[4];

	if (argc != 3) {
		fprintf(stderr, "usage: sp_schema_set DIR get|N\n");
		return 2;
	}
	get = strcmp(argv[2], "get") == 0;
	if (!get && ((n = strtoul(argv[2], NULL, 10)) < 1 || n > 1000)) {
		fprintf(stderr, "sp_schema_set: bad version\n");
		return 2;
	}
	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, SP_DB_COUNT)) ||
	    (rc = mdb_env_set_mapsize(env, 256u << 20)) ||
	    (rc = mdb_env_open(env, argv[1], get ? MDB_RDONLY : 0, 0600)) ||
	    (rc = mdb_txn_begin(env, NULL, get ? MDB_RDONLY : 0, &txn)) ||
	    (rc = mdb_dbi_open(txn, "meta", 0, &dbi)))
		goto out;
	if (get) {
		rc = mdb_get(txn, dbi, &k, &v);
		if (rc == MDB_NOTFOUND)
			printf("1\n");
		else if (rc == 0 && v.mv_size == 4) {
			const uint8_t *p = v.mv_data;
			printf("%u\n", (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3]);
		}
		rc = rc == MDB_NOTFOUND ? 0 : rc;
		goto out;
	}
	if (n == 1) {
		rc = mdb_del(txn, dbi, &k, NULL);
		if (rc == MDB_NOTFOUND)
			rc = 0;
	} else {
		b[0] = (uint8_t)(n >> 24), b[1] = (uint8_t)(n >> 16), b[2] = (uint8_t)(n >> 8), b[3] = (uint8_t)n;
		v.mv_size = 4;
		v.mv_data = b;
		rc = mdb_put(txn, dbi, &k, &v, 0);
	}
	if (rc == 0) {
		rc = mdb_txn_commit(txn);
		txn = NULL;
	}
out:
	if (txn)
		mdb_txn_abort(txn);
	if (env)
		mdb_env_close(env);
	if (rc)
		fprintf(stderr, "sp_schema_set: %s\n", mdb_strerror(rc));
	return rc ? 1 : 0;
}
