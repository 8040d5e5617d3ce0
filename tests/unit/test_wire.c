/* test_wire.c — every validation rule of sp_wire, accepted and refused. */
#include "sp_test.h"

#include "sp_error.h"
#include "sp_signal.h"
#include "sp_wire.h"

/* A valid signal built from protobuf-c structs; tests break one field and
 * pack it again (pack re-serialises the header into signal.header). */
typedef struct fx {
	uint8_t id[16], pseudo[32], commit[32], phash[32], digest[3][32], nonce[3][24];
	uint8_t ct[3][40], sealed[3][SP_SEALED_KEY_BYTES], sig[64];
	Seinpost__TierDigest td[3];
	Seinpost__TierDigest *tdp[3];
	Seinpost__SignalHeader hdr;
	Seinpost__TierBox box[3];
	Seinpost__TierBox *boxp[3];
	Seinpost__Grant grant[3];
	Seinpost__Grant *grantp[3];
	Seinpost__Signal sig_msg;
	Seinpost__Frame frame;
	uint8_t *hdr_bytes;
} fx;

static void fx_init(fx *f)
{
	memset(f, 0, sizeof *f);
	memset(f->id, 1, sizeof f->id);
	memset(f->pseudo, 2, sizeof f->pseudo);
	memset(f->phash, 3, sizeof f->phash);
	memset(f->sig, 4, sizeof f->sig);
	seinpost__signal_header__init(&f->hdr);
	f->hdr.version = SP_HEADER_VERSION;
	f->hdr.id = (ProtobufCBinaryData){ 16, f->id };
	f->hdr.sender = "politie-limburg";
	f->hdr.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON;
	sp_signal_commitment(f->pseudo, f->id, f->commit); /* issue 13: P beside, its commitment in the header */
	f->hdr.subject_commitment = (ProtobufCBinaryData){ 32, f->commit };
	f->hdr.category = "criminal-exploitation";
	f->hdr.weight = 2;
	f->hdr.created = 1700000000;
	f->hdr.expires = 1700000000 + 86400;
	f->hdr.policy_hash = (ProtobufCBinaryData){ 32, f->phash };
	for (int i = 0; i < 3; i++) {
		seinpost__tier_digest__init(&f->td[i]);
		f->td[i].tier = (Seinpost__Tier)(i + 1);
		f->td[i].digest = (ProtobufCBinaryData){ 32, f->digest[i] };
		f->tdp[i] = &f->td[i];
		seinpost__tier_box__init(&f->box[i]);
		f->box[i].tier = (Seinpost__Tier)(i + 1);
		f->box[i].nonce = (ProtobufCBinaryData){ 24, f->nonce[i] };
		f->box[i].ciphertext = (ProtobufCBinaryData){ 40, f->ct[i] };
		f->boxp[i] = &f->box[i];
		seinpost__grant__init(&f->grant[i]);
		f->grant[i].recipient = "zvh-mh";
		f->grant[i].tier = (Seinpost__Tier)(i + 1);
		f->grant[i].mode = SEINPOST__GRANT_MODE__GRANT_IMMEDIATE;
		f->grant[i].sealed_key = (ProtobufCBinaryData){ SP_SEALED_KEY_BYTES, f->sealed[i] };
		f->grantp[i] = &f->grant[i];
	}
	f->hdr.n_tiers = 3;
	f->hdr.tiers = f->tdp;
	seinpost__signal__init(&f->sig_msg);
	f->sig_msg.signature = (ProtobufCBinaryData){ 64, f->sig };
	f->sig_msg.subject_pseudonym = (ProtobufCBinaryData){ 32, f->pseudo };
	f->sig_msg.n_tiers = 3;
	f->sig_msg.tiers = f->boxp;
	f->sig_msg.n_grants = 3;
	f->sig_msg.grants = f->grantp;
	seinpost__frame__init(&f->frame);
	f->frame.version = SP_WIRE_VERSION;
	f->frame.body_case = SEINPOST__FRAME__BODY_SUBMIT;
	f->frame.submit = &f->sig_msg;
}

static void fx_pack_header(fx *f)
{
	size_t n;
	free(f->hdr_bytes);
	ck_assert_int_eq(sp_wire_pack(&f->hdr.base, &f->hdr_bytes, &n), SP_OK);
	f->sig_msg.header = (ProtobufCBinaryData){ n, f->hdr_bytes };
}

/* Pack the frame and decode it; returns the decoder's code. */
static int fx_decode(fx *f, char *why, size_t whylen)
{
	uint8_t *buf = NULL;
	size_t len;
	Seinpost__Frame *out = NULL;
	int rc;
	fx_pack_header(f);
	ck_assert_int_eq(sp_wire_pack(&f->frame.base, &buf, &len), SP_OK);
	rc = sp_wire_decode_frame(buf, len, SP_MAX_FRAME_DEFAULT, &out, why, whylen);
	if (rc == SP_OK)
		ck_assert_ptr_nonnull(out);
	else
		ck_assert_ptr_null(out);
	seinpost__frame__free_unpacked(out, NULL);
	free(buf);
	return rc;
}

static void fx_free(fx *f)
{
	free(f->hdr_bytes);
	f->hdr_bytes = NULL;
}

/* Expect rc and a reason that mentions `field`. */
#define EXPECT(f, rc, field)                                                   \
	do {                                                                   \
		char why_[256] = "";                                           \
		ck_assert_int_eq(fx_decode((f), why_, sizeof why_), (rc));     \
		if ((rc) != SP_OK)                                             \
			ck_assert_msg(strstr(why_, (field)) != NULL,           \
			              "reason '%s' lacks '%s'", why_, (field));    \
		fx_free(f);                                                    \
	} while (0)

START_TEST(signal_valid)
{
	fx f;
	fx_init(&f);
	EXPECT(&f, SP_OK, "");
	/* the broker forwards a subset of boxes; digests stay */
	fx_init(&f);
	f.sig_msg.n_tiers = 1;
	f.sig_msg.n_grants = 1;
	EXPECT(&f, SP_OK, "");
	/* existence only */
	fx_init(&f);
	f.sig_msg.n_tiers = 0;
	f.sig_msg.n_grants = 0;
	f.hdr.n_tiers = 0;
	EXPECT(&f, SP_OK, "");
}
END_TEST

START_TEST(signal_header_rules)
{
	fx f;
	fx_init(&f); f.hdr.version = 1; EXPECT(&f, SP_EMALFORMED, "version");
	fx_init(&f); f.hdr.id.len = 15; EXPECT(&f, SP_EMALFORMED, "id");
	fx_init(&f); f.hdr.id.len = 0; EXPECT(&f, SP_EMALFORMED, "id");
	fx_init(&f); f.hdr.sender = "Politie Limburg"; EXPECT(&f, SP_EMALFORMED, "sender");
	fx_init(&f); f.hdr.sender = ""; EXPECT(&f, SP_EMALFORMED, "sender");
	fx_init(&f); f.hdr.subject_kind = 0; EXPECT(&f, SP_EMALFORMED, "only for a resident report");
	/* issue 16: anonymous resident reports — never a person; kind none has no pseudonym */
	fx_init(&f); f.hdr.resident_report = 1; EXPECT(&f, SP_EMALFORMED, "never about a person");
	fx_init(&f); f.hdr.resident_report = 1; f.hdr.subject_kind = 3; EXPECT(&f, SP_OK, "");
	fx_init(&f); f.hdr.resident_report = 1; f.hdr.subject_kind = 0; EXPECT(&f, SP_EMALFORMED, "no pseudonym");
	fx_init(&f); f.hdr.resident_report = 1; f.hdr.subject_kind = 0; f.hdr.subject_commitment.len = 0;
	f.sig_msg.subject_pseudonym.len = 0; EXPECT(&f, SP_OK, "");
	fx_init(&f); f.hdr.subject_kind = 4; EXPECT(&f, SP_EMALFORMED, "subject_kind");
	fx_init(&f); f.hdr.subject_kind = 3; EXPECT(&f, SP_OK, "");
	fx_init(&f); f.hdr.subject_commitment.len = 31; EXPECT(&f, SP_EMALFORMED, "commitment");
	/* issue 13: P never in the signed header; P beside it must match the commitment */
	fx_init(&f); f.hdr.pseudonym = (ProtobufCBinaryData){ 32, f.pseudo }; EXPECT(&f, SP_EMALFORMED, "carries a pseudonym");
	fx_init(&f); f.pseudo[0] ^= 1; EXPECT(&f, SP_EMALFORMED, "does not match");
	fx_init(&f); f.sig_msg.subject_pseudonym.len = 31; EXPECT(&f, SP_EMALFORMED, "subject_pseudonym");
	fx_init(&f); f.sig_msg.subject_pseudonym.len = 0; EXPECT(&f, SP_OK, ""); /* a recipient's copy */
	fx_init(&f); f.hdr.category = "bad/cat"; EXPECT(&f, SP_EMALFORMED, "category");
	fx_init(&f); f.hdr.weight = 0; EXPECT(&f, SP_EWEIGHT, "weight");
	fx_init(&f); f.hdr.weight = 4; EXPECT(&f, SP_EWEIGHT, "weight");
	fx_init(&f); f.hdr.weight = 1; EXPECT(&f, SP_OK, "");
	fx_init(&f); f.hdr.weight = 3; EXPECT(&f, SP_OK, "");
	fx_init(&f); f.hdr.created = 0; EXPECT(&f, SP_EMALFORMED, "created");
	fx_init(&f); f.hdr.expires = f.hdr.created; EXPECT(&f, SP_EMALFORMED, "expires");
	fx_init(&f); f.hdr.policy_hash.len = 0; EXPECT(&f, SP_EMALFORMED, "policy_hash");
	fx_init(&f); f.td[0].tier = 0; EXPECT(&f, SP_EMALFORMED, "tier digest");
	fx_init(&f); f.td[2].tier = 4; EXPECT(&f, SP_EMALFORMED, "tier digest");
	fx_init(&f); f.td[1].tier = 1; EXPECT(&f, SP_EMALFORMED, "duplicate");
	fx_init(&f); f.td[1].digest.len = 31; EXPECT(&f, SP_EMALFORMED, "digest");
}
END_TEST

START_TEST(signal_body_rules)
{
	fx f;
	fx_init(&f); f.sig_msg.signature.len = 63; EXPECT(&f, SP_EMALFORMED, "signature");
	fx_init(&f); f.box[0].nonce.len = 12; EXPECT(&f, SP_EMALFORMED, "nonce");
	fx_init(&f); f.box[0].tier = 0; EXPECT(&f, SP_EMALFORMED, "tier box 0");
	fx_init(&f); f.box[2].tier = 2; EXPECT(&f, SP_EMALFORMED, "duplicate");
	fx_init(&f); f.box[1].ciphertext.len = 16; EXPECT(&f, SP_EMALFORMED, "ciphertext");
	fx_init(&f); f.box[1].ciphertext.len = 17; EXPECT(&f, SP_OK, "");
	/* a box whose tier has no digest in the signed header */
	fx_init(&f); f.hdr.n_tiers = 2; EXPECT(&f, SP_EMALFORMED, "no digest");
	/* a grant for a tier with no box */
	fx_init(&f); f.sig_msg.n_tiers = 2; EXPECT(&f, SP_EMALFORMED, "grant 2");
	fx_init(&f); f.grant[0].recipient = "ZVH"; EXPECT(&f, SP_EMALFORMED, "recipient");
	fx_init(&f); f.grant[0].tier = 0; EXPECT(&f, SP_EMALFORMED, "grant 0");
	fx_init(&f); f.grant[0].mode = 0; EXPECT(&f, SP_EMALFORMED, "mode");
	fx_init(&f); f.grant[0].mode = 4; EXPECT(&f, SP_EMALFORMED, "mode");
	fx_init(&f); f.grant[0].mode = 3; EXPECT(&f, SP_OK, "");
	fx_init(&f); f.grant[1].sealed_key.len = 48; EXPECT(&f, SP_EMALFORMED, "sealed_key");
}
END_TEST

START_TEST(signal_big_box)
{
	fx f;
	uint8_t *big = calloc(1, SP_MAX_TIER_BOX + 1);
	ck_assert_ptr_nonnull(big);
	fx_init(&f);
	f.box[2].ciphertext = (ProtobufCBinaryData){ SP_MAX_TIER_BOX + 1, big };
	EXPECT(&f, SP_ESIZE, "ciphertext");
	fx_init(&f);
	f.box[2].ciphertext = (ProtobufCBinaryData){ SP_MAX_TIER_BOX, big };
	EXPECT(&f, SP_OK, "");
	free(big);
}
END_TEST

START_TEST(signal_too_many_grants)
{
	fx f;
	Seinpost__Grant **gp = calloc(SP_MAX_GRANTS + 1, sizeof *gp);
	ck_assert_ptr_nonnull(gp);
	fx_init(&f);
	for (size_t i = 0; i <= SP_MAX_GRANTS; i++)
		gp[i] = &f.grant[i % 3];
	f.sig_msg.grants = gp;
	f.sig_msg.n_grants = SP_MAX_GRANTS + 1;
	EXPECT(&f, SP_ESIZE, "grants");
	fx_init(&f);
	f.sig_msg.grants = gp;
	f.sig_msg.n_grants = SP_MAX_GRANTS;
	EXPECT(&f, SP_OK, "");
	free(gp);
}
END_TEST

START_TEST(signal_header_garbage)
{
	fx f;
	uint8_t junk[] = { 0xff, 0xff, 0xff };
	uint8_t *buf;
	size_t len;
	Seinpost__Frame *out = NULL;
	char why[128];
	fx_init(&f);
	f.sig_msg.header = (ProtobufCBinaryData){ sizeof junk, junk };
	ck_assert_int_eq(sp_wire_pack(&f.frame.base, &buf, &len), SP_OK);
	ck_assert_int_eq(sp_wire_decode_frame(buf, len, SP_MAX_FRAME_DEFAULT, &out, why, sizeof why),
	                 SP_EMALFORMED);
	ck_assert_ptr_null(strstr(why, "\xff"));
	free(buf);
	f.sig_msg.header = (ProtobufCBinaryData){ 0, NULL };
	ck_assert_int_eq(sp_wire_pack(&f.frame.base, &buf, &len), SP_OK);
	ck_assert_int_eq(sp_wire_decode_frame(buf, len, SP_MAX_FRAME_DEFAULT, &out, why, sizeof why),
	                 SP_EMALFORMED);
	free(buf);
}
END_TEST

START_TEST(decode_signal_and_header)
{
	fx f;
	uint8_t *buf;
	size_t len;
	Seinpost__Signal *s = NULL;
	Seinpost__SignalHeader *h = NULL;
	char why[128];
	fx_init(&f);
	fx_pack_header(&f);
	ck_assert_int_eq(sp_wire_pack(&f.sig_msg.base, &buf, &len), SP_OK);
	ck_assert_int_eq(sp_wire_decode_signal(buf, len, &s, &h, why, sizeof why), SP_OK);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(h->sender, "politie-limburg");
	ck_assert_uint_eq(h->weight, 2);
	ck_assert_int_eq(sp_wire_check_signal(s, NULL, why, sizeof why), SP_OK);
	seinpost__signal_header__free_unpacked(h, NULL);
	seinpost__signal__free_unpacked(s, NULL);
	ck_assert_int_eq(sp_wire_decode_signal(buf, len - 3, &s, &h, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_null(s);
	ck_assert_ptr_null(h);
	ck_assert_int_eq(sp_wire_check_signal(NULL, &h, why, sizeof why), SP_EMALFORMED);
	free(buf);
	fx_free(&f);
}
END_TEST

static int decode_frame_msg(Seinpost__Frame *fr, size_t max, char *why, size_t wl)
{
	uint8_t *buf;
	size_t len;
	Seinpost__Frame *out = NULL;
	int rc;
	ck_assert_int_eq(sp_wire_pack(&fr->base, &buf, &len), SP_OK);
	rc = sp_wire_decode_frame(buf, len, max, &out, why, wl);
	seinpost__frame__free_unpacked(out, NULL);
	free(buf);
	return rc;
}

START_TEST(frame_rules)
{
	Seinpost__Frame fr = SEINPOST__FRAME__INIT;
	Seinpost__Hello hello = SEINPOST__HELLO__INIT;
	Seinpost__Frame *out = NULL;
	uint8_t h32[32] = { 0 }, junk[4] = { 0xde, 0xad, 0xbe, 0xef };
	char why[128];

	hello.org = "school-bonnefanten";
	hello.policy_hash = (ProtobufCBinaryData){ 32, h32 };
	fr.version = 1;
	fr.body_case = SEINPOST__FRAME__BODY_HELLO;
	fr.hello = &hello;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_OK);
	/* oversize is refused before unpacking, even when the max is tiny */
	ck_assert_int_eq(decode_frame_msg(&fr, 10, why, sizeof why), SP_ESIZE);
	ck_assert_int_eq(sp_wire_decode_frame(junk, SP_MAX_FRAME_DEFAULT + 1, SP_MAX_FRAME_DEFAULT,
	                                      &out, why, sizeof why), SP_ESIZE);
	fr.version = 2;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "version"));
	fr.version = 0;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	fr.version = 1;
	hello.org = "School";
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "org"));
	hello.org = "school-bonnefanten";
	hello.policy_hash.len = 16;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "policy_hash"));
	/* missing body (two bodies cannot be expressed in a oneof) */
	fr.body_case = SEINPOST__FRAME__BODY__NOT_SET;
	fr.hello = NULL;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "body"));
	/* garbage and empty input */
	ck_assert_int_eq(sp_wire_decode_frame(junk, sizeof junk, SP_MAX_FRAME_DEFAULT, &out, why,
	                                      sizeof why), SP_EMALFORMED);
	ck_assert_int_eq(sp_wire_decode_frame(junk, 0, SP_MAX_FRAME_DEFAULT, &out, why, sizeof why),
	                 SP_EMALFORMED);
	ck_assert_ptr_null(out);
	/* NULL why is allowed */
	ck_assert_int_eq(sp_wire_decode_frame(junk, sizeof junk, SP_MAX_FRAME_DEFAULT, &out, NULL, 0),
	                 SP_EMALFORMED);
}
END_TEST

START_TEST(submit_ack_rules)
{
	Seinpost__Frame fr = SEINPOST__FRAME__INIT;
	Seinpost__SubmitAck a = SEINPOST__SUBMIT_ACK__INIT;
	uint8_t id[16] = { 1 };
	char why[128];
	fr.version = 1;
	fr.body_case = SEINPOST__FRAME__BODY_SUBMIT_ACK;
	fr.submit_ack = &a;
	a.id = (ProtobufCBinaryData){ 16, id };
	a.status = SEINPOST__STATUS__STATUS_OK;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_OK);
	a.status = SEINPOST__STATUS__STATUS_REJECTED;
	a.code = SP_EWEIGHT;
	a.reason = "weight out of range";
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_OK);
	a.status = 0;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "status"));
	a.status = 4;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	a.status = 2;
	a.id.len = 15;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "id"));
	a.id.len = 16;
	a.reason = "bad\x01reason";
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
}
END_TEST

START_TEST(delivery_rules)
{
	fx f;
	Seinpost__Delivery d = SEINPOST__DELIVERY__INIT;
	char *rules[2] = { "gia-hwc", "escalation.weight3" };
	char why[128];
	fx_init(&f);
	fx_pack_header(&f);
	d.signal = &f.sig_msg;
	d.n_rule_ids = 2;
	d.rule_ids = rules;
	f.frame.body_case = SEINPOST__FRAME__BODY_DELIVERY;
	f.frame.delivery = &d;
	/* issue 13: never the network pseudonym, always the recipient's own, signed */
	ck_assert_int_eq(decode_frame_msg(&f.frame, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "network pseudonym"));
	f.sig_msg.subject_pseudonym.len = 0;
	ck_assert_int_eq(decode_frame_msg(&f.frame, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "recipient pseudonym"));
	d.recipient_pseudonym = (ProtobufCBinaryData){ 32, f.digest[0] };
	d.recipient_pseudonym_sig = (ProtobufCBinaryData){ 64, f.sig };
	ck_assert_int_eq(decode_frame_msg(&f.frame, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_OK);
	d.recipient_pseudonym_sig.len = 63;
	ck_assert_int_eq(decode_frame_msg(&f.frame, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	d.recipient_pseudonym_sig.len = 64;
	rules[1] = "Bad Rule";
	ck_assert_int_eq(decode_frame_msg(&f.frame, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "rule id 1"));
	rules[1] = "ok";
	f.hdr.weight = 9;
	fx_pack_header(&f);
	ck_assert_int_eq(decode_frame_msg(&f.frame, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EWEIGHT);
	d.signal = NULL;
	ck_assert_int_eq(decode_frame_msg(&f.frame, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "signal"));
	fx_free(&f);
}
END_TEST

/* Withdrawal (issue 16): the request and its ack are size-checked; a
 * withdrawal delivery carries header and signature only. */
START_TEST(withdraw_rules)
{
	fx f;
	Seinpost__Delivery d = SEINPOST__DELIVERY__INIT;
	Seinpost__Withdraw w = SEINPOST__WITHDRAW__INIT;
	Seinpost__WithdrawAck a = SEINPOST__WITHDRAW_ACK__INIT;
	Seinpost__Signal bare = SEINPOST__SIGNAL__INIT;
	uint8_t id[16] = { 7 };
	char why[128];
	fx_init(&f);
	fx_pack_header(&f);
	w.id = (ProtobufCBinaryData){ 16, id };
	w.signal_id = (ProtobufCBinaryData){ 16, id };
	w.reason = "onterecht";
	f.frame.body_case = SEINPOST__FRAME__BODY_WITHDRAW;
	f.frame.withdraw = &w;
	ck_assert_int_eq(decode_frame_msg(&f.frame, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_OK);
	w.signal_id.len = 15;
	ck_assert_int_eq(decode_frame_msg(&f.frame, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	w.signal_id.len = 16;
	w.reason = "a\x01b";
	ck_assert_int_eq(decode_frame_msg(&f.frame, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	a.id = w.id;
	a.signal_id = w.signal_id;
	a.code = SP_EROLE;
	a.message = "only the sender";
	f.frame.body_case = SEINPOST__FRAME__BODY_WITHDRAW_ACK;
	f.frame.withdraw_ack = &a;
	ck_assert_int_eq(decode_frame_msg(&f.frame, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_OK);
	a.code = 5;
	ck_assert_int_eq(decode_frame_msg(&f.frame, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	bare.header = f.sig_msg.header;
	bare.signature = f.sig_msg.signature;
	d.signal = &bare;
	d.withdrawn = 1764000000000ull;
	f.frame.body_case = SEINPOST__FRAME__BODY_DELIVERY;
	f.frame.delivery = &d;
	ck_assert_int_eq(decode_frame_msg(&f.frame, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_OK);
	f.sig_msg.subject_pseudonym.len = 0;
	d.signal = &f.sig_msg; /* tiers and grants kept: refused */
	ck_assert_int_eq(decode_frame_msg(&f.frame, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "withdrawal"));
	fx_free(&f);
}
END_TEST

START_TEST(delivery_ack_rules)
{
	Seinpost__Frame fr = SEINPOST__FRAME__INIT;
	Seinpost__DeliveryAck a = SEINPOST__DELIVERY_ACK__INIT;
	uint8_t id[17] = { 1 }, sig[64] = { 2 };
	char why[128];
	fr.version = 1;
	fr.body_case = SEINPOST__FRAME__BODY_DELIVERY_ACK;
	fr.delivery_ack = &a;
	a.id = (ProtobufCBinaryData){ 16, id };
	a.signature = (ProtobufCBinaryData){ 64, sig };
	a.time = 1700000000;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_OK);
	a.time = 0;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "time"));
	a.time = 1;
	a.signature.len = 32;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "signature"));
	a.signature.len = 64;
	a.id.len = 17;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
}
END_TEST

START_TEST(delivery_acks_rules)
{
	Seinpost__Frame fr = SEINPOST__FRAME__INIT;
	Seinpost__DeliveryAckBatch a = SEINPOST__DELIVERY_ACK_BATCH__INIT;
	static uint8_t idv[SP_RECEIPT_BATCH_MAX + 1][17];
	static ProtobufCBinaryData ids[SP_RECEIPT_BATCH_MAX + 1];
	uint8_t sig[64] = { 2 };
	char why[128];
	for (int i = 0; i <= SP_RECEIPT_BATCH_MAX; i++)
		ids[i] = (ProtobufCBinaryData){ 16, idv[i] };
	fr.version = 1;
	fr.body_case = SEINPOST__FRAME__BODY_DELIVERY_ACKS;
	fr.delivery_acks = &a;
	a.ids = ids;
	a.n_ids = 3;
	a.signature = (ProtobufCBinaryData){ 64, sig };
	a.time = 1700000000000;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_OK);
	a.n_ids = SP_RECEIPT_BATCH_MAX;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_OK);
	a.n_ids = SP_RECEIPT_BATCH_MAX + 1;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "ids"));
	a.n_ids = 0;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	a.n_ids = 3;
	ids[1].len = 17;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "id 1"));
	ids[1].len = 15;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	ids[1].len = 16;
	a.signature.len = 63;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "signature"));
	a.signature.len = 64;
	a.time = 0;
	ck_assert_int_eq(decode_frame_msg(&fr, SP_MAX_FRAME_DEFAULT, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "time"));
}
END_TEST

static int decode_local_msg(Seinpost__LocalRequest *q, char *why, size_t wl)
{
	uint8_t *buf;
	size_t len;
	Seinpost__LocalRequest *out = NULL;
	int rc;
	ck_assert_int_eq(sp_wire_pack(&q->base, &buf, &len), SP_OK);
	rc = sp_wire_decode_local(buf, len, &out, why, wl);
	if (rc == SP_OK)
		ck_assert_ptr_nonnull(out);
	else
		ck_assert_ptr_null(out);
	seinpost__local_request__free_unpacked(out, NULL);
	free(buf);
	return rc;
}

static void submit_valid(Seinpost__SubmitRequest *s)
{
	seinpost__submit_request__init(s);
	s->category = "criminal-exploitation";
	s->weight = 2;
	s->subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON;
	s->subject_id = "111222333";
	s->name = "Jan Jansen";
	s->birthdate = "2009-04-01";
	s->address = "Markt 1, Maastricht";
	s->summary = "Line one.\nLine two.";
	s->contact = "mentor, 043-0000000";
	s->narrative = "Long story\n\twith tabs.";
}

START_TEST(local_rules)
{
	Seinpost__LocalRequest q = SEINPOST__LOCAL_REQUEST__INIT;
	Seinpost__SubmitRequest s;
	char why[128];
	char *big = malloc(SP_MAX_NARRATIVE + 2);
	uint8_t id[16] = { 5 };

	ck_assert_ptr_nonnull(big);
	submit_valid(&s);
	q.body_case = SEINPOST__LOCAL_REQUEST__BODY_SUBMIT;
	q.submit = &s;
	ck_assert_int_eq(decode_local_msg(&q, why, sizeof why), SP_OK);
	/* weight is the node's business (specific error), any value passes here */
	s.weight = 0;
	ck_assert_int_eq(decode_local_msg(&q, why, sizeof why), SP_OK);
	s.weight = 99;
	ck_assert_int_eq(decode_local_msg(&q, why, sizeof why), SP_OK);
	s.subject_kind = 0;
	ck_assert_int_eq(decode_local_msg(&q, why, sizeof why), SP_OK);
	s.subject_kind = 4;
	ck_assert_int_eq(decode_local_msg(&q, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "subject_kind"));
	submit_valid(&s);
	s.name = "Jan\nJansen";
	ck_assert_int_eq(decode_local_msg(&q, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "name"));
	ck_assert_ptr_null(strstr(why, "Jan")); /* never the content */
	submit_valid(&s);
	s.contact = "a\nb";
	ck_assert_int_eq(decode_local_msg(&q, why, sizeof why), SP_EMALFORMED);
	submit_valid(&s);
	s.address = "\xc3\x28";
	ck_assert_int_eq(decode_local_msg(&q, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "address"));
	submit_valid(&s);
	memset(big, 'x', SP_MAX_NARRATIVE);
	big[SP_MAX_NARRATIVE] = '\0';
	s.narrative = big;
	ck_assert_int_eq(decode_local_msg(&q, why, sizeof why), SP_OK);
	big[SP_MAX_NARRATIVE] = 'x';
	big[SP_MAX_NARRATIVE + 1] = '\0';
	ck_assert_int_eq(decode_local_msg(&q, why, sizeof why), SP_ESIZE);
	ck_assert_ptr_nonnull(strstr(why, "narrative"));
	submit_valid(&s);
	big[SP_MAX_SUMMARY + 1] = '\0';
	s.summary = big;
	ck_assert_int_eq(decode_local_msg(&q, why, sizeof why), SP_ESIZE);
	ck_assert_ptr_nonnull(strstr(why, "summary"));
	submit_valid(&s);
	big[SP_MAX_NAME + 1] = '\0';
	s.name = big;
	ck_assert_int_eq(decode_local_msg(&q, why, sizeof why), SP_ESIZE);
	submit_valid(&s);
	s.category = "cat\x7f";
	ck_assert_int_eq(decode_local_msg(&q, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "category"));

	q.body_case = SEINPOST__LOCAL_REQUEST__BODY_OUTBOX_STATUS;
	q.outbox_status = (ProtobufCBinaryData){ 16, id };
	ck_assert_int_eq(decode_local_msg(&q, why, sizeof why), SP_OK);
	q.outbox_status.len = 8;
	ck_assert_int_eq(decode_local_msg(&q, why, sizeof why), SP_EMALFORMED);
	q.body_case = SEINPOST__LOCAL_REQUEST__BODY__NOT_SET;
	ck_assert_int_eq(decode_local_msg(&q, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "body"));
	free(big);
}
END_TEST

START_TEST(local_oversize)
{
	Seinpost__LocalRequest *out = NULL;
	size_t n = 1024 * 1024;
	uint8_t *buf = calloc(1, n);
	char why[128];
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(sp_wire_decode_local(buf, n, &out, why, sizeof why), SP_ESIZE);
	ck_assert_ptr_null(out);
	free(buf);
}
END_TEST

START_TEST(pack_roundtrip)
{
	Seinpost__Hello h = SEINPOST__HELLO__INIT;
	Seinpost__Hello *back;
	Seinpost__Frame empty = SEINPOST__FRAME__INIT;
	uint8_t *buf;
	size_t len;
	h.org = "zvh-mh";
	ck_assert_int_eq(sp_wire_pack(&h.base, &buf, &len), SP_OK);
	back = seinpost__hello__unpack(NULL, len, buf);
	ck_assert_ptr_nonnull(back);
	ck_assert_str_eq(back->org, "zvh-mh");
	seinpost__hello__free_unpacked(back, NULL);
	free(buf);
	ck_assert_int_eq(sp_wire_pack(&empty.base, &buf, &len), SP_OK);
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_nonnull(buf);
	free(buf);
	ck_assert_int_eq(sp_wire_pack(NULL, &buf, &len), SP_EINVAL);
}
END_TEST

START_TEST(unknown_fields_refused)
{
	Seinpost__Frame fr = SEINPOST__FRAME__INIT;
	Seinpost__Hello hello = SEINPOST__HELLO__INIT;
	Seinpost__Frame *out = NULL;
	Seinpost__LocalRequest *q = NULL;
	uint8_t h32[32] = { 0 }, *buf, *big;
	/* field 99, varint 1 */
	static const uint8_t extra[] = { 0x98, 0x06, 0x01 };
	/* found by fuzz_local: a non-minimal tag for field number 0 */
	static const uint8_t tag0[] = { 0x0a, 0x80, 0x00, 0x80, 0x00, 0x00 };
	size_t len;
	char why[128];
	fx f;

	hello.org = "zvh-mh";
	hello.policy_hash = (ProtobufCBinaryData){ 32, h32 };
	fr.version = 1;
	fr.body_case = SEINPOST__FRAME__BODY_HELLO;
	fr.hello = &hello;
	ck_assert_int_eq(sp_wire_pack(&fr.base, &buf, &len), SP_OK);
	big = malloc(len + sizeof extra);
	ck_assert_ptr_nonnull(big);
	memcpy(big, buf, len);
	memcpy(big + len, extra, sizeof extra);
	ck_assert_int_eq(sp_wire_decode_frame(big, len + sizeof extra, SP_MAX_FRAME_DEFAULT, &out, why,
	                                      sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "unknown field"));
	free(big);
	free(buf);
	/* nested in the hello */
	ck_assert_int_eq(sp_wire_pack(&hello.base, &buf, &len), SP_OK);
	big = malloc(len + sizeof extra + 4);
	ck_assert_ptr_nonnull(big);
	big[0] = 0x08; big[1] = 0x01;                 /* version = 1 */
	big[2] = 0x12; big[3] = (uint8_t)(len + sizeof extra); /* hello = ... */
	memcpy(big + 4, buf, len);
	memcpy(big + 4 + len, extra, sizeof extra);
	ck_assert_int_eq(sp_wire_decode_frame(big, len + sizeof extra + 4, SP_MAX_FRAME_DEFAULT, &out,
	                                      why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "unknown field"));
	free(big);
	free(buf);
	/* inside the signed header bytes */
	fx_init(&f);
	fx_pack_header(&f);
	big = malloc(f.sig_msg.header.len + sizeof extra);
	ck_assert_ptr_nonnull(big);
	memcpy(big, f.sig_msg.header.data, f.sig_msg.header.len);
	memcpy(big + f.sig_msg.header.len, extra, sizeof extra);
	f.sig_msg.header = (ProtobufCBinaryData){ f.sig_msg.header.len + sizeof extra, big };
	ck_assert_int_eq(sp_wire_check_signal(&f.sig_msg, NULL, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "header: unknown field"));
	free(big);
	fx_free(&f);
	ck_assert_int_eq(sp_wire_decode_local(tag0, sizeof tag0, &q, why, sizeof why), SP_EMALFORMED);
	ck_assert_ptr_null(q);
}
END_TEST

static Suite *wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, signal_valid);
	tcase_add_test(tc, signal_header_rules);
	tcase_add_test(tc, signal_body_rules);
	tcase_add_test(tc, signal_big_box);
	tcase_add_test(tc, signal_too_many_grants);
	tcase_add_test(tc, signal_header_garbage);
	tcase_add_test(tc, decode_signal_and_header);
	tcase_add_test(tc, frame_rules);
	tcase_add_test(tc, submit_ack_rules);
	tcase_add_test(tc, delivery_rules);
	tcase_add_test(tc, withdraw_rules);
	tcase_add_test(tc, delivery_ack_rules);
	tcase_add_test(tc, delivery_acks_rules);
	tcase_add_test(tc, local_rules);
	tcase_add_test(tc, local_oversize);
	tcase_add_test(tc, pack_roundtrip);
	tcase_add_test(tc, unknown_fields_refused);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(wire_suite)
