/* sp_polver.c — the previous policy version and when it was replaced. */
#include "sp_polver.h"
#include "sp_meta_keys.h"

#include <string.h>

#include "sp_util.h"

#define K_CUR SP_MK_POLICY_CUR
#define K_PREV SP_MK_POLICY_PREV

int sp_polver_note(sp_txn *t, const uint8_t cur[32], uint64_t now_ms, sp_polver *out, int *changed)
{
	const void *v;
	size_t vl;
	uint8_t prev[40];
	int rc;

	memset(out, 0, sizeof *out);
	if (changed)
		*changed = 0;
	rc = sp_store_get(t, SP_DB_META, K_CUR, strlen(K_CUR), &v, &vl);
	if (rc == SP_OK && vl == 32 && memcmp(v, cur, 32) != 0) {
		/* A new version: the one we held becomes the previous one. */
		memcpy(prev, v, 32);
		sp_be64_put(prev + 32, now_ms);
		if ((rc = sp_store_put(t, SP_DB_META, K_PREV, strlen(K_PREV), prev, sizeof prev, 0)) != SP_OK)
			return rc;
		if (changed)
			*changed = 1;
	} else if (rc == SP_OK && vl != 32) {
		return SP_ECORRUPT;
	} else if (rc != SP_OK && rc != SP_ENOTFOUND) {
		return rc;
	}
	if ((rc = sp_store_put(t, SP_DB_META, K_CUR, strlen(K_CUR), cur, 32, 0)) != SP_OK)
		return rc;
	rc = sp_store_get(t, SP_DB_META, K_PREV, strlen(K_PREV), &v, &vl);
	if (rc == SP_ENOTFOUND)
		return SP_OK;
	if (rc != SP_OK)
		return rc;
	if (vl != 40)
		return SP_ECORRUPT;
	if (memcmp(v, cur, 32) == 0)
		return SP_OK; /* went back to the previous version: nothing else is current */
	memcpy(out->prev, v, 32);
	out->changed_ms = sp_be64_get((const uint8_t *)v + 32);
	out->has_prev = 1;
	return SP_OK;
}
