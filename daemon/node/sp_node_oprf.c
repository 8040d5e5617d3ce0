/* sp_node_oprf.c — the node's pseudonyms from the pseudonymisation service
 * (sp_node_oprf.h). One client per network process. */
#include "sp_node_oprf.h"

#include <stdio.h>

#include "sp_log.h"
#include "sp_oprf_client.h"

#define C "oprf"

static sp_oprfc *client;
static uint64_t answered; /* pseudonyms the service gave: a sign it is back (sp_awaiting.c) */

static int sign_cb(void *ctx, const uint8_t *req, size_t len, uint8_t sig[64])
{
	return sp_kh_sign(ctx, SP_KH_DOM_OPRF, req, len, sig);
}

static int pseudonyms_cb(void *ctx, int purpose, int kind, const char *const *ids, size_t n, uint8_t *out, char *why,
                         size_t whylen)
{
	int rc = sp_oprfc_pseudonyms(ctx, purpose, kind, ids, n, out, why, whylen);
	if (rc == SP_ECRYPTO || rc == SP_EKEY)
		sp_log(LOG_CRIT, C, "ALARM: %s", why); /* a proof that failed names the instance, never an identifier */
	else if (rc != SP_OK)
		sp_log(LOG_WARNING, C, "pseudonymisation service: %s", why[0] ? why : sp_strerror(rc));
	else
		answered++;
	return rc;
}

int sp_node_oprf_open(const sp_config *c, const sp_keyset *keys, const sp_roster *r, sp_kh *kh)
{
	char why[512] = "";
	int rc;
	if (!c->oprf_service[0])
		return SP_OK;
	if ((rc = sp_oprfc_open(c, keys, r, &client, why, sizeof why)) != SP_OK) {
		sp_log(LOG_ERR, C, "pseudonymisation service: %s", why[0] ? why : sp_strerror(rc));
		return rc;
	}
	sp_oprfc_set_signer(client, sign_cb, kh);
	sp_oprfc_set_batch(client, SP_NODE_OPRF_BATCH);
	sp_kh_set_oprf(kh, pseudonyms_cb, client);
	sp_kh_set_oprf_epoch(kh, sp_oprfc_epoch(client));
	sp_log(LOG_INFO, C, "pseudonyms from the pseudonymisation service (%s)", c->oprf_service);
	return SP_OK;
}

void sp_node_oprf_roster(const sp_roster *r, sp_kh *kh)
{
	char why[512] = "";
	uint32_t before = sp_oprfc_epoch(client);
	int rc;
	if (!client)
		return;
	if ((rc = sp_oprfc_roster(client, r, why, sizeof why)) != SP_OK) {
		sp_log(LOG_CRIT, C, "%s", why[0] ? why : "ALARM: the pseudonymisation service on the new roster "
		       "is not the one this node uses; still using the old keys");
		return;
	}
	sp_kh_set_oprf_epoch(kh, sp_oprfc_epoch(client));
	if (sp_oprfc_epoch(client) != before)
		sp_log(LOG_NOTICE, C, "the pseudonymisation key rotated (epoch %u -> %u), proven from the pinned "
		       "group key", before, sp_oprfc_epoch(client));
}

uint64_t sp_node_oprf_answered(void)
{
	return answered;
}

void sp_node_oprf_close(sp_kh *kh)
{
	sp_kh_set_oprf(kh, NULL, NULL);
	sp_oprfc_close(&client);
}
