/*
 * fuzz_oprfalarm.c — the pseudonymisation service's alarm feed, both
 * sides of the wire (sp_wire.c): an alarm fetch as the service decodes it
 * (and, when it decodes, served from a store holding three alarms: every
 * reply must decode and verify), an alarm reply as the privacy officer's
 * node decodes it (every page that passes has its alarms numbered from
 * from_seq, at most SP_OPRF_ALARM_PAGE_MAX, its ids identifiers), and a
 * stored alarm. Keys here are public test material only.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seinpost.pb-c.h"
#include "sp_keys.h"
#include "sp_oprf_alarmfeed.h"
#include "sp_oprf_alarms.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "sp_util.h"
#include "sp_wire.h"
#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[256];
static sp_roster *roster;
static sp_keyset *svc;
static sp_store *store;

static void cleanup(void)
{
	char cmd[300];
	sp_store_close(&store);
	sp_roster_free(&roster);
	sp_keys_free(&svc);
	if (dir[0]) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
}

static int setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[300];
	uint8_t bc[32] = { 1 }, bs[32] = { 2 };
	sp_org o;
	sp_txn *t = NULL;
	if (roster)
		return 0;
	if (sodium_init() < 0)
		return -1;
	snprintf(dir, sizeof dir, "%s/sp-fuzz-oalarm-XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		dir[0] = '\0';
		return -1;
	}
	atexit(cleanup);
	if (sp_keys_generate(0, &svc) != SP_OK || sp_roster_new("fuzz", bc, bs, &roster) != SP_OK)
		return -1;
	crypto_sign_seed_keypair(svc->sign_pk, svc->sign_sk, sp_fuzz_operator_seed);
	memset(&o, 0, sizeof o);
	snprintf(o.id, sizeof o.id, "fg-a");
	snprintf(o.role, sizeof o.role, "privacy-officer");
	memset(o.curve_pk, 3, 32);
	memset(o.box_pk, 4, 32);
	memset(o.sign_pk, 5, 32);
	if (sp_roster_add(roster, &o) != SP_OK)
		return -1;
	snprintf(path, sizeof path, "%s/state", dir);
	if (sp_store_open(path, 64u << 20, 0, &store) != SP_OK || sp_txn_begin(store, 1, &t) != SP_OK)
		return -1;
	for (int i = 0; i < 3; i++) {
		sp_oprf_alarm a = { 1 + i % 2, "school-a", "school", 256, (uint64_t)i, 300 };
		if (sp_oprf_alarm_append(t, 1000 + (uint64_t)i, &a) != SP_OK)
			return -1;
	}
	return sp_txn_commit(&t) == SP_OK ? 0 : -1;
}

static void check_page(const Seinpost__OprfAlarmPage *p)
{
	char text[320];
	if (p->n_alarms > SP_OPRF_ALARM_PAGE_MAX || !sp_ident_ok(p->service) || !sp_ident_ok(p->to))
		abort();
	for (size_t i = 0; i < p->n_alarms; i++) {
		if (p->alarms[i]->seq != p->from_seq + i || p->alarms[i]->seq > p->last_seq)
			abort();
		sp_oalarms_text(p->alarms[i], text, sizeof text);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Seinpost__OprfAlarmFetch *f = NULL;
	Seinpost__OprfAlarmReply *r = NULL;
	Seinpost__OprfAlarmPage *p = NULL;
	Seinpost__OprfAlarm *a = NULL;
	char text[320];
	if (setup() != 0)
		abort();
	if (sp_wire_decode_oprf_alarm_fetch(data, size, &f) == SP_OK) {
		sp_txn *t = NULL;
		uint8_t *reply = NULL;
		size_t rlen = 0;
		if (f->alarm_from < 1 || f->alarm_nonce.len != SP_OPRF_ALARM_NONCE || sp_txn_begin(store, 0, &t) != SP_OK)
			abort();
		if (sp_oprf_alarm_serve(t, roster, svc, "pseudo-fuzz", "fg-a", f, 5000, &reply, &rlen) == SP_OK) {
			if (sp_wire_decode_oprf_alarm_reply(reply, rlen, &r, &p, NULL, 0) != SP_OK || !p)
				abort(); /* the service's own page must pass the node's decoder */
			check_page(p);
			seinpost__oprf_alarm_page__free_unpacked(p, NULL);
			seinpost__oprf_alarm_reply__free_unpacked(r, NULL);
			r = NULL;
			p = NULL;
		}
		free(reply);
		sp_txn_abort(&t);
		seinpost__oprf_alarm_fetch__free_unpacked(f, NULL);
	}
	if (sp_wire_decode_oprf_alarm_reply(data, size, &r, &p, NULL, 0) == SP_OK) {
		if (p)
			check_page(p);
		else if (r->code >= 0 || r->code <= SP_ELAST)
			abort();
		if (p)
			seinpost__oprf_alarm_page__free_unpacked(p, NULL);
		seinpost__oprf_alarm_reply__free_unpacked(r, NULL);
	}
	if (sp_wire_stored_oprf_alarm(data, size, &a) == SP_OK) {
		sp_oalarms_text(a, text, sizeof text);
		seinpost__oprf_alarm__free_unpacked(a, NULL);
	}
	return 0;
}
