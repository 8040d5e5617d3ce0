/*
 * sp_store_poke — store faults on purpose, for the fault tests. Never used
 * in production.
 *
 *   sp_store_poke STATE_DIR hold-reader
 *        open the store, begin a read transaction, print "ready", wait: the
 *        test kills it with -9 and leaves a stale reader slot behind
 *   sp_store_poke STATE_DIR corrupt-queue ORG
 *        flip one byte of the sender's signature in ORG's first queued
 *        delivery (the store of a stopped broker): it still decodes, but no
 *        recipient can verify it
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seinpost.pb-c.h"
#include "sp_store.h"
#include "sp_util.h"
#include "sp_wire.h"

struct first {
	uint8_t key[512];
	size_t kl;
	uint8_t *val;
	size_t vl;
};

static int take_first(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct first *f = ctx;
	if (kl > sizeof f->key || !(f->val = malloc(vl)))
		return 2;
	memcpy(f->key, k, kl);
	f->kl = kl;
	memcpy(f->val, v, vl);
	f->vl = vl;
	return 1;
}

static int corrupt_queue(sp_store *s, const char *org)
{
	struct first f = { 0 };
	sp_txn *t = NULL;
	Seinpost__Delivery *d = NULL;
	uint8_t *buf = NULL;
	size_t len;
	int rc = sp_txn_begin(s, 1, &t);
	if (rc == SP_OK)
		rc = sp_store_foreach(t, SP_DB_QUEUE, org, strlen(org) + 1, take_first, &f);
	if (rc != 1) {
		fprintf(stderr, "no queued delivery for %s\n", org);
		rc = 1;
		goto out;
	}
	d = seinpost__delivery__unpack(NULL, f.vl, f.val);
	if (!d || !d->signal || d->signal->signature.len < 1) {
		fprintf(stderr, "queued delivery does not decode\n");
		rc = 1;
		goto out;
	}
	d->signal->signature.data[0] ^= 0x01;
	rc = sp_wire_pack(&d->base, &buf, &len);
	if (rc == SP_OK)
		rc = sp_store_put(t, SP_DB_QUEUE, f.key, f.kl, buf, len, 0);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
out:
	sp_txn_abort(&t);
	free(buf);
	free(f.val);
	if (d)
		seinpost__delivery__free_unpacked(d, NULL);
	return rc == SP_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
	sp_store *s = NULL;
	int rc;
	if (argc < 3) {
		fprintf(stderr, "usage: sp_store_poke STATE_DIR hold-reader | corrupt-queue ORG\n");
		return 2;
	}
	if (strcmp(argv[2], "hold-reader") == 0) {
		sp_txn *t = NULL;
		if (sp_store_open(argv[1], 0, SP_STORE_RDONLY, &s) != SP_OK || sp_txn_begin(s, 0, &t) != SP_OK) {
			fprintf(stderr, "cannot open %s: %s\n", argv[1], sp_store_last_error());
			return 1;
		}
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	if (strcmp(argv[2], "corrupt-queue") == 0 && argc == 4) {
		if ((rc = sp_store_open(argv[1], 0, 0, &s)) != SP_OK) {
			fprintf(stderr, "cannot open %s: %s\n", argv[1], sp_store_last_error());
			return 1;
		}
		rc = corrupt_queue(s, argv[3]);
		sp_store_close(&s);
		return rc;
	}
	fprintf(stderr, "usage: sp_store_poke STATE_DIR hold-reader | corrupt-queue ORG\n");
	return 2;
}
