/*
 * gen-seeds.c — writes the committed seed corpora (valid and a few invalid
 * inputs) for fuzz_frame, fuzz_local and fuzz_roster. Run by hand from the
 * repository root when the schema changes; the output is committed:
 *
 *   make build/libseinpost.a
 *   cc -std=c11 -D_GNU_SOURCE -Iinclude -Ibuild/gen -Itests/fuzz -o build/gen-seeds \
 *      tests/fuzz/gen-seeds.c build/libseinpost.a $(pkg-config --libs libsodium \
 *      libprotobuf-c libzmq lmdb libsystemd inih jansson libcrypto) -lpthread
 *   build/gen-seeds tests/fuzz/corpus
 *
 * Crypto fields are filled with fixed bytes: sp_wire checks sizes, not
 * signatures. Roster seeds are really signed with the fuzz operator key.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_keys.h"
#include "sp_roster.h"
#include "sp_signal.h"
#include "sp_wire.h"

static const char *outdir;

static void put(const char *sub, const char *name, const void *data, size_t len)
{
	char path[1024];
	FILE *f;
	snprintf(path, sizeof path, "%s/%s/%s", outdir, sub, name);
	if (!(f = fopen(path, "wb")) || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "gen-seeds: cannot write %s\n", path);
		exit(1);
	}
}

static void put_msg(const char *sub, const char *name, const ProtobufCMessage *m)
{
	uint8_t *buf;
	size_t len;
	if (sp_wire_pack(m, &buf, &len) != SP_OK)
		exit(1);
	put(sub, name, buf, len);
	free(buf);
}

static uint8_t id[16], pseudo[32], commit[32], phash[32], digest[3][32], nonce[3][24];
static uint8_t ct[3][48], sealed[3][SP_SEALED_KEY_BYTES], sig64[64];
static Seinpost__TierDigest td[3];
static Seinpost__TierDigest *tdp[3];
static Seinpost__SignalHeader hdr;
static Seinpost__TierBox box[3];
static Seinpost__TierBox *boxp[3];
static Seinpost__Grant grant[3];
static Seinpost__Grant *grantp[3];
static Seinpost__Signal sig;

static void signal_build(uint32_t weight, size_t ntiers)
{
	static uint8_t *hbuf;
	size_t hlen;
	static const char *recip[3] = { "school-bonnefanten", "zvh-mh", "youthcare-mosae" };

	memset(id, 0xa1, sizeof id);
	memset(pseudo, 0xb2, sizeof pseudo);
	memset(phash, 0xc3, sizeof phash);
	memset(sig64, 0xd4, sizeof sig64);
	seinpost__signal_header__init(&hdr);
	hdr.version = SP_HEADER_VERSION;
	hdr.id = (ProtobufCBinaryData){ 16, id };
	hdr.sender = "politie-limburg";
	hdr.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON;
	sp_signal_commitment(pseudo, id, commit); /* issue 13: P beside the header */
	hdr.subject_commitment = (ProtobufCBinaryData){ 32, commit };
	hdr.pseudonym_epoch = 1;
	hdr.category = "criminal-exploitation";
	hdr.weight = weight;
	hdr.created = 1735689600;
	hdr.expires = 1735689600 + 180 * 86400;
	hdr.policy_hash = (ProtobufCBinaryData){ 32, phash };
	for (int i = 0; i < 3; i++) {
		memset(digest[i], 0x10 + i, 32);
		memset(nonce[i], 0x20 + i, 24);
		memset(ct[i], 0x30 + i, sizeof ct[i]);
		memset(sealed[i], 0x40 + i, SP_SEALED_KEY_BYTES);
		seinpost__tier_digest__init(&td[i]);
		td[i].tier = (Seinpost__Tier)(i + 1);
		td[i].digest = (ProtobufCBinaryData){ 32, digest[i] };
		tdp[i] = &td[i];
		seinpost__tier_box__init(&box[i]);
		box[i].tier = (Seinpost__Tier)(i + 1);
		box[i].nonce = (ProtobufCBinaryData){ 24, nonce[i] };
		box[i].ciphertext = (ProtobufCBinaryData){ sizeof ct[i], ct[i] };
		boxp[i] = &box[i];
		seinpost__grant__init(&grant[i]);
		grant[i].recipient = (char *)recip[i];
		grant[i].tier = (Seinpost__Tier)(i + 1);
		grant[i].mode = (Seinpost__GrantMode)(i + 1);
		grant[i].sealed_key = (ProtobufCBinaryData){ SP_SEALED_KEY_BYTES, sealed[i] };
		grantp[i] = &grant[i];
	}
	hdr.n_tiers = ntiers;
	hdr.tiers = tdp;
	free(hbuf);
	if (sp_wire_pack(&hdr.base, &hbuf, &hlen) != SP_OK)
		exit(1);
	seinpost__signal__init(&sig);
	sig.header = (ProtobufCBinaryData){ hlen, hbuf };
	sig.signature = (ProtobufCBinaryData){ 64, sig64 };
	sig.subject_pseudonym = (ProtobufCBinaryData){ 32, pseudo };
	sig.n_tiers = ntiers;
	sig.tiers = boxp;
	sig.n_grants = ntiers;
	sig.grants = grantp;
}

/* Withdrawal (issue 16): the request, its ack, the withdrawal delivery
 * (header and signature only) and one that wrongly keeps its tiers. */
static void withdrawals(Seinpost__Frame *fr, Seinpost__Delivery *del)
{
	Seinpost__Withdraw w = SEINPOST__WITHDRAW__INIT;
	Seinpost__WithdrawAck a = SEINPOST__WITHDRAW_ACK__INIT;
	Seinpost__Signal bare = SEINPOST__SIGNAL__INIT;
	Seinpost__Delivery d = SEINPOST__DELIVERY__INIT;
	w.id = (ProtobufCBinaryData){ 16, id };
	w.signal_id = (ProtobufCBinaryData){ 16, id };
	w.reason = "onterecht: verkeerde persoon";
	w.user = "agent.b";
	fr->body_case = SEINPOST__FRAME__BODY_WITHDRAW;
	fr->withdraw = &w;
	put_msg("frame", "withdraw", &fr->base);
	a.id = w.id;
	a.signal_id = w.signal_id;
	a.message = "signal withdrawn; 2 organisations told to delete their copies";
	a.time = 1764000000000ull;
	a.audit_seq = 42;
	a.recipients = 2;
	a.reason = w.reason;
	fr->body_case = SEINPOST__FRAME__BODY_WITHDRAW_ACK;
	fr->withdraw_ack = &a;
	put_msg("frame", "withdraw-ack", &fr->base);
	a.code = SP_EROLE;
	a.message = "only the organisation that sent a signal may withdraw it";
	put_msg("frame", "withdraw-ack-refused", &fr->base);
	bare.header = sig.header;
	bare.signature = sig.signature;
	d.signal = &bare;
	d.withdrawn = 1764000000000ull;
	fr->body_case = SEINPOST__FRAME__BODY_DELIVERY;
	fr->delivery = &d;
	put_msg("frame", "delivery-withdrawn", &fr->base);
	del->withdrawn = 1764000000000ull;
	fr->delivery = del;
	put_msg("frame", "bad-delivery-withdrawn-with-tiers", &fr->base);
	del->withdrawn = 0;
}

static void frames(void)
{
	Seinpost__Frame fr = SEINPOST__FRAME__INIT;
	Seinpost__Hello hello = SEINPOST__HELLO__INIT;
	Seinpost__SubmitAck ack = SEINPOST__SUBMIT_ACK__INIT;
	Seinpost__Delivery del = SEINPOST__DELIVERY__INIT;
	Seinpost__DeliveryAck dack = SEINPOST__DELIVERY_ACK__INIT;
	char *rules[] = { "hwc-gia", "escalation-multi-org" };
	static const uint8_t garbage[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12 };

	fr.version = SP_WIRE_VERSION;
	hello.org = "school-bonnefanten";
	hello.policy_hash = (ProtobufCBinaryData){ 32, phash };
	fr.body_case = SEINPOST__FRAME__BODY_HELLO;
	fr.hello = &hello;
	put_msg("frame", "hello", &fr.base);

	signal_build(2, 3);
	fr.body_case = SEINPOST__FRAME__BODY_SUBMIT;
	fr.submit = &sig;
	put_msg("frame", "submit-3-tiers", &fr.base);
	signal_build(3, 0);
	put_msg("frame", "submit-existence", &fr.base);
	signal_build(1, 1);
	put_msg("frame", "submit-contact", &fr.base);

	ack.id = (ProtobufCBinaryData){ 16, id };
	ack.status = SEINPOST__STATUS__STATUS_OK;
	fr.body_case = SEINPOST__FRAME__BODY_SUBMIT_ACK;
	fr.submit_ack = &ack;
	put_msg("frame", "submit-ack-ok", &fr.base);
	ack.status = SEINPOST__STATUS__STATUS_REJECTED;
	ack.code = SP_EPOLICY;
	ack.reason = "grants exceed the sharing policy";
	put_msg("frame", "submit-ack-rejected", &fr.base);

	signal_build(2, 2);
	del.signal = &sig;
	del.n_rule_ids = 2;
	del.rule_ids = rules;
	fr.body_case = SEINPOST__FRAME__BODY_DELIVERY;
	fr.delivery = &del;
	put_msg("frame", "bad-delivery-network-pseudonym", &fr.base);
	sig.subject_pseudonym = (ProtobufCBinaryData){ 0, NULL }; /* issue 13: the recipient's own, signed */
	del.recipient_pseudonym = (ProtobufCBinaryData){ 32, digest[0] };
	del.recipient_pseudonym_sig = (ProtobufCBinaryData){ 64, sig64 };
	put_msg("frame", "delivery", &fr.base);
	withdrawals(&fr, &del);

	dack.id = (ProtobufCBinaryData){ 16, id };
	dack.time = 1735689700;
	dack.signature = (ProtobufCBinaryData){ 64, sig64 };
	fr.body_case = SEINPOST__FRAME__BODY_DELIVERY_ACK;
	fr.delivery_ack = &dack;
	put_msg("frame", "delivery-ack", &fr.base);

	/* one signed receipt for a batch of ids */
	{
		Seinpost__DeliveryAckBatch ab = SEINPOST__DELIVERY_ACK_BATCH__INIT;
		ProtobufCBinaryData ids[3] = { { 16, id }, { 16, pseudo }, { 16, phash } };
		ab.n_ids = 3;
		ab.ids = ids;
		ab.time = 1735689700123;
		ab.signature = (ProtobufCBinaryData){ 64, sig64 };
		fr.body_case = SEINPOST__FRAME__BODY_DELIVERY_ACKS;
		fr.delivery_acks = &ab;
		put_msg("frame", "delivery-acks", &fr.base);
		ab.n_ids = 1;
		put_msg("frame", "delivery-acks-one", &fr.base);
		ids[1].len = 17; /* invalid: an id of the wrong size */
		ab.n_ids = 3;
		put_msg("frame", "bad-delivery-acks-id", &fr.base);
	}

	/* policy: involvement and policy info */
	{
		Seinpost__PseudonymAt pa[2] = { SEINPOST__PSEUDONYM_AT__INIT, SEINPOST__PSEUDONYM_AT__INIT };
		Seinpost__PseudonymAt *pas[2] = { &pa[0], &pa[1] };
		Seinpost__InvolveUpdate iu = SEINPOST__INVOLVE_UPDATE__INIT;
		Seinpost__InvolveAck ia = SEINPOST__INVOLVE_ACK__INIT;
		Seinpost__PolicyInfo pi = SEINPOST__POLICY_INFO__INIT;
		pa[0].epoch = 2;
		pa[0].pseudonym = (ProtobufCBinaryData){ 32, pseudo };
		pa[1].epoch = 1;
		pa[1].pseudonym = (ProtobufCBinaryData){ 32, phash };
		iu.n_pseudonyms = 2;
		iu.pseudonyms = pas;
		iu.until = 1767225600;
		iu.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON;
		fr.body_case = SEINPOST__FRAME__BODY_INVOLVE;
		fr.involve = &iu;
		put_msg("frame", "involve", &fr.base);
		ia.pseudonym = (ProtobufCBinaryData){ 32, pseudo };
		ia.status = SEINPOST__STATUS__STATUS_OK;
		fr.body_case = SEINPOST__FRAME__BODY_INVOLVE_ACK;
		fr.involve_ack = &ia;
		put_msg("frame", "involve-ack", &fr.base);
		pi.policy_hash = (ProtobufCBinaryData){ 32, phash };
		pi.version = "2024.1-example";
		fr.body_case = SEINPOST__FRAME__BODY_POLICY_INFO;
		fr.policy_info = &pi;
		put_msg("frame", "policy-info", &fr.base);
	}
	/* audit: tree heads, proofs, read receipts, queries */
	{
		Seinpost__SignedTreeHead sth = SEINPOST__SIGNED_TREE_HEAD__INIT;
		Seinpost__AuditProofRequest apr = SEINPOST__AUDIT_PROOF_REQUEST__INIT;
		Seinpost__AuditProof ap = SEINPOST__AUDIT_PROOF__INIT;
		Seinpost__ReadReceipt rr = SEINPOST__READ_RECEIPT__INIT;
		Seinpost__ReadEvent ev = SEINPOST__READ_EVENT__INIT;
		Seinpost__ReadAck ra = SEINPOST__READ_ACK__INIT;
		Seinpost__AuditQuery aq = SEINPOST__AUDIT_QUERY__INIT;
		ProtobufCBinaryData cons[2] = { { 32, digest[0] }, { 32, digest[1] } };
		uint8_t evbuf[256];
		sth.tree_size = 17;
		sth.timestamp = 1735689700000ull;
		sth.root_hash = (ProtobufCBinaryData){ 32, digest[2] };
		sth.signature = (ProtobufCBinaryData){ 64, sig64 };
		apr.from_size = 9;
		fr.body_case = SEINPOST__FRAME__BODY_AUDIT_PROOF_REQUEST;
		fr.audit_proof_request = &apr;
		put_msg("frame", "audit-proof-request", &fr.base);
		ap.from_size = 9;
		ap.sth = &sth;
		ap.n_consistency = 2;
		ap.consistency = cons;
		fr.body_case = SEINPOST__FRAME__BODY_AUDIT_PROOF;
		fr.audit_proof = &ap;
		put_msg("frame", "audit-proof", &fr.base);
		ev.id = (ProtobufCBinaryData){ 16, id };
		ev.signal_id = (ProtobufCBinaryData){ 16, id };
		ev.org = "school-bonnefanten";
		ev.user = "mentor.a";
		ev.time = 1735689700000ull;
		ev.tiers = 3;
		rr.event = (ProtobufCBinaryData){ seinpost__read_event__pack(&ev, evbuf), evbuf };
		rr.signature = (ProtobufCBinaryData){ 64, sig64 };
		fr.body_case = SEINPOST__FRAME__BODY_READ_RECEIPT;
		fr.read_receipt = &rr;
		put_msg("frame", "read-receipt", &fr.base);
		ra.id = (ProtobufCBinaryData){ 16, id };
		ra.sth = &sth;
		fr.body_case = SEINPOST__FRAME__BODY_READ_ACK;
		fr.read_ack = &ra;
		put_msg("frame", "read-ack", &fr.base);
		aq.id = (ProtobufCBinaryData){ 16, id };
		aq.kind = SEINPOST__AUDIT_QUERY_KIND__AUDIT_QUERY_WHO_SAW;
		aq.pseudonym = (ProtobufCBinaryData){ 32, pseudo };
		fr.body_case = SEINPOST__FRAME__BODY_AUDIT_QUERY;
		fr.audit_query = &aq;
		put_msg("frame", "audit-query-who-saw", &fr.base);
	}

	/* invalid ones: each hits one rule */
	fr.version = 2;
	put_msg("frame", "bad-version", &fr.base);
	fr.version = 1;
	fr.body_case = SEINPOST__FRAME__BODY__NOT_SET;
	put_msg("frame", "bad-no-body", &fr.base);
	signal_build(4, 3);
	fr.body_case = SEINPOST__FRAME__BODY_SUBMIT;
	fr.submit = &sig;
	put_msg("frame", "bad-weight", &fr.base);
	signal_build(2, 3);
	sig.n_tiers = 2; /* grant for the full tier without its box */
	put_msg("frame", "bad-grant-no-box", &fr.base);
	put("frame", "bad-garbage", garbage, sizeof garbage);
	{
		/* issue 16: a referral moved to a table, its ack, a delivery carrying the table */
		Seinpost__ReferralUpdate ru = SEINPOST__REFERRAL_UPDATE__INIT;
		Seinpost__ReferralUpdateAck ra = SEINPOST__REFERRAL_UPDATE_ACK__INIT;
		Seinpost__Referral ref = SEINPOST__REFERRAL__INIT;
		Seinpost__Delivery dl = SEINPOST__DELIVERY__INIT;
		ProtobufCBinaryData ids[1] = { { 16, id } };
		ru.id = (ProtobufCBinaryData){ 16, id };
		ru.referral_id = (ProtobufCBinaryData){ 16, id };
		ru.table = "mot";
		ru.reason = "facts: stroomdiefstal vastgesteld";
		ru.user = "bibob.adviseur";
		fr.version = 1;
		fr.body_case = SEINPOST__FRAME__BODY_REFERRAL_UPDATE;
		fr.referral_update = &ru;
		put_msg("frame", "referral-move", &fr.base);
		ru.table = "bad table!";
		put_msg("frame", "bad-referral-move-table", &fr.base);
		ra.id = (ProtobufCBinaryData){ 16, id };
		ra.message = "moved up from lwo to mot; 2 release(s) to its members";
		fr.body_case = SEINPOST__FRAME__BODY_REFERRAL_UPDATE_ACK;
		fr.referral_update_ack = &ra;
		put_msg("frame", "referral-move-ack", &fr.base);
		signal_build(2, 3);
		ref.id = (ProtobufCBinaryData){ 16, id };
		ref.pseudonym = (ProtobufCBinaryData){ 32, pseudo };
		ref.rule_id = "undermining-lwo";
		ref.basis = "AVG art. 6(1)(e)";
		ref.fired = 1735689600;
		ref.n_signal_ids = 1;
		ref.signal_ids = ids;
		ref.table = "lwo";
		dl.signal = &sig;
		dl.referral = &ref;
		fr.body_case = SEINPOST__FRAME__BODY_DELIVERY;
		fr.delivery = &dl;
		put_msg("frame", "delivery-referral-table", &fr.base);
	}
}

static void locals(void)
{
	Seinpost__LocalRequest q = SEINPOST__LOCAL_REQUEST__INIT;
	Seinpost__SubmitRequest s = SEINPOST__SUBMIT_REQUEST__INIT;
	static const uint8_t garbage[] = { 0x0a, 0x80 };

	s.category = "criminal-exploitation";
	s.weight = 2;
	s.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON;
	s.subject_id = "111222333";
	s.name = "Test Persoon";
	s.birthdate = "2010-01-01";
	s.address = "Teststraat 1, 6211 AA Maastricht";
	s.summary = "Fictional test summary.\nSecond line.";
	s.contact = "mentor, 043-0000000";
	s.narrative = "Fictional narrative for fuzzing.\n\tIndented.";
	q.body_case = SEINPOST__LOCAL_REQUEST__BODY_SUBMIT;
	q.submit = &s;
	put_msg("local", "submit-full", &q.base);
	{
		Seinpost__LocalRequest wq = SEINPOST__LOCAL_REQUEST__INIT;
		Seinpost__Withdraw w = SEINPOST__WITHDRAW__INIT;
		w.id = (ProtobufCBinaryData){ 16, id };
		w.signal_id = (ProtobufCBinaryData){ 16, id };
		w.reason = "dubbel gemeld";
		wq.body_case = SEINPOST__LOCAL_REQUEST__BODY_WITHDRAW;
		wq.withdraw = &w;
		put_msg("local", "withdraw", &wq.base);
		w.signal_id.len = 3;
		put_msg("local", "bad-withdraw-id", &wq.base);
	}
	seinpost__submit_request__init(&s);
	s.category = "hwc";
	s.weight = 1;
	s.subject_id = "111222333";
	put_msg("local", "submit-minimal", &q.base);
	s.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_LOCATION;
	s.subject_id = "0935010000012345";
	s.summary = "Location signal.";
	put_msg("local", "submit-location", &q.base);
	q.body_case = SEINPOST__LOCAL_REQUEST__BODY_OUTBOX_STATUS;
	q.outbox_status = (ProtobufCBinaryData){ 16, id };
	put_msg("local", "outbox-status", &q.base);

	q.outbox_status.len = 5;
	put_msg("local", "bad-status-id", &q.base);
	q.body_case = SEINPOST__LOCAL_REQUEST__BODY_SUBMIT;
	q.submit = &s; /* the oneof union was overwritten */
	s.name = "bad\x01name";
	put_msg("local", "bad-control-char", &q.base);
	s.name = "";
	s.subject_kind = 7;
	put_msg("local", "bad-subject-kind", &q.base);
	put("local", "bad-garbage", garbage, sizeof garbage);
	{
		/* issue 16: `seinpost referral move` (the node assigns the id) */
		Seinpost__LocalRequest mq = SEINPOST__LOCAL_REQUEST__INIT;
		Seinpost__ReferralUpdate ru = SEINPOST__REFERRAL_UPDATE__INIT;
		ru.id = (ProtobufCBinaryData){ 16, id };
		ru.referral_id = (ProtobufCBinaryData){ 16, id };
		ru.table = "jonge-aanwas";
		ru.reason = "patroon van ronselen";
		mq.body_case = SEINPOST__LOCAL_REQUEST__BODY_REFERRAL_UPDATE;
		mq.referral_update = &ru;
		put_msg("local", "referral-move", &mq.base);
	}
	{
		Seinpost__LocalRequest lq = SEINPOST__LOCAL_REQUEST__INIT;
		Seinpost__InvolveRequest ir = SEINPOST__INVOLVE_REQUEST__INIT;
		Seinpost__AuditQuery aq = SEINPOST__AUDIT_QUERY__INIT;
		ir.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON;
		ir.subject_id = "111222333";
		ir.until = "2027-07-31";
		ir.ref = "pupil 2231";
		lq.body_case = SEINPOST__LOCAL_REQUEST__BODY_INVOLVE;
		lq.involve = &ir;
		put_msg("local", "involve", &lq.base);
		aq.kind = SEINPOST__AUDIT_QUERY_KIND__AUDIT_QUERY_LOG; /* no id: the node assigns it */
		aq.org = "school-bonnefanten";
		aq.since = 1735689700000ull;
		lq.body_case = SEINPOST__LOCAL_REQUEST__BODY_AUDIT_QUERY;
		lq.audit_query = &aq;
		put_msg("local", "audit-query-log", &lq.base);
	}
	{
		/* bulk involvement (issue #6) */
		Seinpost__InvolveRequest i1 = SEINPOST__INVOLVE_REQUEST__INIT, i2 = SEINPOST__INVOLVE_REQUEST__INIT;
		Seinpost__InvolveRequest *items[2] = { &i1, &i2 };
		Seinpost__InvolveBatchRequest b = SEINPOST__INVOLVE_BATCH_REQUEST__INIT;
		uint32_t lines[2] = { 2, 5 };
		i1.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON;
		i1.subject_id = "111222333";
		i1.ref = "LL-1";
		i1.until = "2030-06-30";
		i2.subject_id = "100000009";
		b.n_items = 2;
		b.items = items;
		b.n_lines = 2;
		b.lines = lines;
		b.first_line = 2;
		q.body_case = SEINPOST__LOCAL_REQUEST__BODY_INVOLVE_BATCH;
		q.involve_batch = &b;
		put_msg("local", "involve-batch", &q.base);
		b.n_lines = 1;
		put_msg("local", "bad-involve-batch-lines", &q.base);
	}
}

static void rosters(void)
{
	uint8_t pk[32], sk[64], bc[32], bs[32];
	sp_roster *r = NULL;
	static const char *ids[] = { "politie-limburg", "school-bonnefanten", "zvh-mh", "fg-maastricht" };
	static const char *roles[] = { "police", "school", "zvh", "privacy-officer" };
	char path[1024];
	FILE *f;
	uint8_t buf[8192];
	size_t n;

	crypto_sign_seed_keypair(pk, sk, sp_fuzz_operator_seed);
	memset(bc, 0x61, sizeof bc);
	memcpy(bs, pk, 32);
	if (sp_roster_new("maastricht-heuvelland", bc, bs, &r) != SP_OK)
		exit(1);
	for (int i = 0; i < 4; i++) {
		sp_org o;
		memset(&o, 0, sizeof o);
		snprintf(o.id, sizeof o.id, "%s", ids[i]);
		snprintf(o.role, sizeof o.role, "%s", roles[i]);
		memset(o.curve_pk, 0x70 + i, 32);
		memset(o.sign_pk, 0x80 + i, 32);
		memset(o.box_pk, 0x90 + i, 32);
		if (sp_roster_add(r, &o) != SP_OK)
			exit(1);
	}
	snprintf(path, sizeof path, "%s/roster/valid-4-orgs", outdir);
	if (sp_roster_save(r, path, sk) != SP_OK)
		exit(1);
	sp_roster_free(&r);

	/* invalid variants of the valid one */
	if (!(f = fopen(path, "rb")) || (n = fread(buf, 1, sizeof buf, f)) == 0)
		exit(1);
	fclose(f);
	put("roster", "bad-truncated", buf, n / 2);
	buf[n - 1] ^= 1;
	put("roster", "bad-signature", buf, n);

	if (sp_roster_new("empty-net", bc, bs, &r) != SP_OK)
		exit(1);
	snprintf(path, sizeof path, "%s/roster/valid-empty", outdir);
	if (sp_roster_save(r, path, sk) != SP_OK)
		exit(1);
	sp_roster_free(&r);
}

/* Issue 16: feedback to the signaller, referral status, anonymous resident
 * reports. */
static void casework(void)
{
	Seinpost__Frame fr = SEINPOST__FRAME__INIT;
	Seinpost__LocalRequest q = SEINPOST__LOCAL_REQUEST__INIT;
	Seinpost__FeedbackRequest fq = SEINPOST__FEEDBACK_REQUEST__INIT;
	Seinpost__FeedbackItem it = SEINPOST__FEEDBACK_ITEM__INIT, *itp[1] = { &it };
	Seinpost__FeedbackBatch fb = SEINPOST__FEEDBACK_BATCH__INIT;
	Seinpost__ReferralUpdate ru = SEINPOST__REFERRAL_UPDATE__INIT;
	Seinpost__ReferralUpdateAck ra = SEINPOST__REFERRAL_UPDATE_ACK__INIT;
	Seinpost__SubmitRequest sr = SEINPOST__SUBMIT_REQUEST__INIT;
	uint8_t *hbuf = NULL;
	size_t hlen;

	memset(id, 0xa1, sizeof id);
	fr.version = 1;
	fq.after_seq = 41;
	fr.body_case = SEINPOST__FRAME__BODY_FEEDBACK_REQUEST;
	fr.feedback_request = &fq;
	put_msg("frame", "feedback-request", &fr.base);
	it.seq = 42;
	it.signal_id = (ProtobufCBinaryData){ 16, id };
	it.event = "referral";
	it.role = "zvh";
	it.time = 1735689700000ull;
	it.status = "accepted";
	fb.n_items = 1;
	fb.items = itp;
	fb.next_seq = 43;
	fr.body_case = SEINPOST__FRAME__BODY_FEEDBACK;
	fr.feedback = &fb;
	put_msg("frame", "feedback-batch", &fr.base);
	ru.id = (ProtobufCBinaryData){ 16, id };
	ru.referral_id = (ProtobufCBinaryData){ 16, id };
	ru.status = "intervention";
	ru.intervention = "family-coaching";
	ru.reason = "Gezin stemt in met begeleiding.";
	ru.user = "coordinator.a";
	fr.body_case = SEINPOST__FRAME__BODY_REFERRAL_UPDATE;
	fr.referral_update = &ru;
	put_msg("frame", "referral-update", &fr.base);
	q.body_case = SEINPOST__LOCAL_REQUEST__BODY_REFERRAL_UPDATE;
	q.referral_update = &ru;
	put_msg("local", "referral-update", &q.base);
	ra.id = (ProtobufCBinaryData){ 16, id };
	ra.code = -5;
	ra.message = "unknown referral";
	fr.body_case = SEINPOST__FRAME__BODY_REFERRAL_UPDATE_ACK;
	fr.referral_update_ack = &ra;
	put_msg("frame", "referral-update-ack", &fr.base);

	/* a resident report without a subject: kind none, no pseudonym, no grants */
	signal_build(2, 1);
	hdr.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_NONE;
	hdr.subject_commitment = (ProtobufCBinaryData){ 0, NULL };
	hdr.resident_report = 1;
	hdr.sender = "gemeente-maastricht";
	if (sp_wire_pack(&hdr.base, &hbuf, &hlen) != SP_OK)
		exit(1);
	sig.header = (ProtobufCBinaryData){ hlen, hbuf };
	sig.subject_pseudonym = (ProtobufCBinaryData){ 0, NULL };
	sig.n_grants = 0;
	fr.body_case = SEINPOST__FRAME__BODY_SUBMIT;
	fr.submit = &sig;
	put_msg("frame", "submit-resident-none", &fr.base);
	free(hbuf);
	sr.category = "weapon";
	sr.weight = 2;
	sr.summary = "Gesprek met bewoners.";
	sr.resident_report = 1;
	q.body_case = SEINPOST__LOCAL_REQUEST__BODY_SUBMIT;
	q.submit = &sr;
	put_msg("local", "submit-resident-report", &q.base);
}

int main(int argc, char **argv)
{
	if (argc != 2 || sodium_init() < 0) {
		fprintf(stderr, "usage: gen-seeds CORPUS_DIR\n");
		return 2;
	}
	outdir = argv[1];
	frames();
	locals();
	rosters();
	casework();
	return 0;
}
