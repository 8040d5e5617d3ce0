/*
 * sp_ceremony_forge — a cheating dealer (tests only): takes its own signed
 * deal, puts another deal's commitments in it (so its sealed sub-shares no
 * longer match what it commits to) and signs it again with its own key, as
 * a dealer that lies about its polynomial would. The combine of every
 * honest instance must name it in a complaint and write nothing.
 *
 * usage: sp_ceremony_forge DEAL OTHER_DEAL KEYS_DIR OUT
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "seinpost.pb-c.h"
#include "sp_keys.h"
#include "sp_util.h"

#define DOMAIN "seinpost/ceremony/v1"

static Seinpost__SignedCeremonyDeal *load(const char *path, Seinpost__CeremonyDeal **d)
{
	uint8_t *buf = NULL;
	size_t len;
	Seinpost__SignedCeremonyDeal *sd;
	if (sp_file_read(path, 16384, &buf, &len) != SP_OK || !(sd = seinpost__signed_ceremony_deal__unpack(NULL, len, buf)))
		exit(1);
	if (!(*d = seinpost__ceremony_deal__unpack(NULL, sd->deal.len, sd->deal.data)))
		exit(1);
	free(buf);
	return sd;
}

int main(int argc, char **argv)
{
	Seinpost__CeremonyDeal *mine, *other;
	Seinpost__SignedCeremonyDeal *sd, *so, out = SEINPOST__SIGNED_CEREMONY_DEAL__INIT;
	sp_keyset *k = NULL;
	uint8_t *db, *msg, sig[64], *ob;
	size_t dl, ol;
	if (argc != 5 || sodium_init() < 0)
		return 2;
	sd = load(argv[1], &mine);
	so = load(argv[2], &other);
	(void)sd;
	(void)so;
	if (sp_keys_load(argv[3], &k) != SP_OK || mine->n_commitments != other->n_commitments)
		return 1;
	mine->commitments = other->commitments;
	dl = seinpost__ceremony_deal__get_packed_size(mine);
	db = malloc(dl);
	msg = malloc(sizeof DOMAIN - 1 + dl);
	if (!db || !msg)
		return 1;
	seinpost__ceremony_deal__pack(mine, db);
	memcpy(msg, DOMAIN, sizeof DOMAIN - 1);
	memcpy(msg + sizeof DOMAIN - 1, db, dl);
	crypto_sign_detached(sig, NULL, msg, sizeof DOMAIN - 1 + dl, k->sign_sk);
	out.deal = (ProtobufCBinaryData){ dl, db };
	out.signature = (ProtobufCBinaryData){ 64, sig };
	ol = seinpost__signed_ceremony_deal__get_packed_size(&out);
	ob = malloc(ol);
	if (!ob)
		return 1;
	seinpost__signed_ceremony_deal__pack(&out, ob);
	return sp_file_write(argv[4], ob, ol, 0644) == SP_OK ? 0 : 1;
}
