/*
 * sp_enrol.c — enrol.json: an organisation's public keys, self-signed.
 *
 * The file crosses an organisational boundary (it is mailed or carried to
 * the operator), so it is parsed strictly, like every outside input: one
 * JSON object of known keys, exact hex sizes, a known role, a valid id, and
 * signatures checked over a fixed binary encoding of the parsed fields.
 */
#include "sp_enrol.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_util.h"

#define FORMAT "seinpost-enrol/1"
#define MSG_MAX (sizeof SP_ENROL_DOMAIN + 1 + SP_ID_MAX + 1 + SP_ROLE_MAX + 96 + 1 + SP_ENROL_TIME_MAX + 32 + 8 + 36)
#define PSEUDONYMISER "pseudonymiser"

/* domain || len(org) org || len(role) role || curve || sign || box ||
 * len(created_at) created_at || prev_sign (zeros: none) || be64(overlap_s)
 * [|| oprf_key || be32(oprf_index): role pseudonymiser only] */
static size_t enrol_message(const sp_enrol *e, uint8_t out[MSG_MAX])
{
	size_t n = 0, l;
	memcpy(out, SP_ENROL_DOMAIN, sizeof SP_ENROL_DOMAIN - 1);
	n += sizeof SP_ENROL_DOMAIN - 1;
	l = strlen(e->org);
	out[n++] = (uint8_t)l;
	memcpy(out + n, e->org, l);
	n += l;
	l = strlen(e->role);
	out[n++] = (uint8_t)l;
	memcpy(out + n, e->role, l);
	n += l;
	memcpy(out + n, e->curve_pk, 32);
	memcpy(out + n + 32, e->sign_pk, 32);
	memcpy(out + n + 64, e->box_pk, 32);
	n += 96;
	l = strlen(e->created_at);
	out[n++] = (uint8_t)l;
	memcpy(out + n, e->created_at, l);
	n += l;
	if (e->rotation)
		memcpy(out + n, e->prev_sign_pk, 32);
	else
		memset(out + n, 0, 32);
	n += 32;
	sp_be64_put(out + n, e->rotation ? e->overlap_s : 0);
	n += 8;
	if (e->has_oprf) {
		memcpy(out + n, e->oprf_pk, 32);
		out[n + 32] = (uint8_t)(e->oprf_index >> 24);
		out[n + 33] = (uint8_t)(e->oprf_index >> 16);
		out[n + 34] = (uint8_t)(e->oprf_index >> 8);
		out[n + 35] = (uint8_t)e->oprf_index;
		n += 36;
	}
	return n;
}

int sp_enrol_make(const sp_keyset *k, const char *org, const char *role, const sp_keyset *prev,
                  uint64_t overlap_s, sp_enrol *out)
{
	uint8_t m[MSG_MAX];
	size_t ml;
	if (!k || !org || !role || !out || !k->has_box || strcmp(role, PSEUDONYMISER) == 0)
		return SP_EINVAL;
	memset(out, 0, sizeof *out);
	if (strlen(org) >= SP_ID_MAX || !sp_ident_ok(org) || strlen(role) >= SP_ROLE_MAX || !sp_role_known(role))
		return SP_EINVAL;
	strcpy(out->org, org);
	strcpy(out->role, role);
	memcpy(out->curve_pk, k->curve_pk, 32);
	memcpy(out->sign_pk, k->sign_pk, 32);
	memcpy(out->box_pk, k->box_pk, 32);
	sp_iso_time(sp_now_ms(), out->created_at, sizeof out->created_at);
	if (prev) {
		out->rotation = 1;
		memcpy(out->prev_sign_pk, prev->sign_pk, 32);
		out->overlap_s = overlap_s;
	}
	ml = enrol_message(out, m);
	crypto_sign_detached(out->signature, NULL, m, ml, k->sign_sk);
	if (prev)
		crypto_sign_detached(out->prev_signature, NULL, m, ml, prev->sign_sk);
	return SP_OK;
}

int sp_enrol_make_pseudonymiser(const sp_keyset *k, const char *org, const uint8_t oprf_pk[32],
                                uint32_t oprf_index, sp_enrol *out)
{
	uint8_t m[MSG_MAX];
	if (!k || !org || !oprf_pk || !out || k->has_box || strlen(org) >= SP_ID_MAX || !sp_ident_ok(org))
		return SP_EINVAL;
	memset(out, 0, sizeof *out);
	strcpy(out->org, org);
	strcpy(out->role, PSEUDONYMISER);
	memcpy(out->curve_pk, k->curve_pk, 32);
	memcpy(out->sign_pk, k->sign_pk, 32);
	out->has_oprf = 1;
	memcpy(out->oprf_pk, oprf_pk, 32);
	out->oprf_index = oprf_index;
	sp_iso_time(sp_now_ms(), out->created_at, sizeof out->created_at);
	crypto_sign_detached(out->signature, NULL, m, enrol_message(out, m), k->sign_sk);
	return SP_OK;
}

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), SP_EMALFORMED)

static int get_hex(json_t *o, const char *key, uint8_t *out, size_t n, int required, char *why, size_t whylen)
{
	json_t *v = json_object_get(o, key);
	const char *s;
	if (!v) {
		if (required)
			return WHY("enrol.json: \"%s\" missing", key);
		return SP_ENOTFOUND;
	}
	s = json_string_value(v);
	if (!s || strlen(s) != 2 * n || sp_unhex(s, out, n) != SP_OK)
		return WHY("enrol.json: \"%s\" must be %zu hex characters", key, 2 * n);
	return SP_OK;
}

static int get_str(json_t *o, const char *key, char *out, size_t max, char *why, size_t whylen)
{
	json_t *v = json_object_get(o, key);
	const char *s = v ? json_string_value(v) : NULL;
	if (!s)
		return WHY("enrol.json: \"%s\" missing or not a string", key);
	if (strlen(s) >= max || !sp_text_ok(s, max - 1, 0))
		return WHY("enrol.json: \"%s\" too long or not printable", key);
	strcpy(out, s);
	return SP_OK;
}

int sp_enrol_parse(const char *text, size_t len, sp_enrol *out, char *why, size_t whylen)
{
	static const char *const known[] = { "format", "org", "role", "curve_key", "sign_key", "box_key",
	                                     "created_at", "signature", "previous_sign_key",
	                                     "previous_signature", "overlap_s", "oprf_key", "oprf_index" };
	json_error_t err;
	json_t *o = NULL, *v;
	const char *key;
	char fmt[32];
	uint8_t m[MSG_MAX];
	size_t ml;
	int rc = SP_EMALFORMED, has_prev, has_psig;

	if (!text || !out || !why || !whylen)
		return SP_EINVAL;
	memset(out, 0, sizeof *out);
	why[0] = '\0';
	if (len > SP_ENROL_MAX_FILE)
		return snprintf(why, whylen, "enrol.json: larger than %d bytes", SP_ENROL_MAX_FILE), SP_ESIZE;
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (!o || !json_is_object(o)) {
		rc = WHY("enrol.json: not a JSON object (line %d)", o ? 1 : err.line);
		goto out;
	}
	json_object_foreach(o, key, v) {
		size_t i;
		for (i = 0; i < sizeof known / sizeof known[0]; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (i == sizeof known / sizeof known[0]) {
			rc = WHY("enrol.json: unknown key (see docs/enrolment.md for the fields)");
			goto out;
		}
	}
	if ((rc = get_str(o, "format", fmt, sizeof fmt, why, whylen)) != SP_OK)
		goto out;
	if (strcmp(fmt, FORMAT) != 0) {
		rc = WHY("enrol.json: format must be \"%s\"", FORMAT);
		goto out;
	}
	if ((rc = get_str(o, "org", out->org, sizeof out->org, why, whylen)) != SP_OK ||
	    (rc = get_str(o, "role", out->role, sizeof out->role, why, whylen)) != SP_OK ||
	    (rc = get_str(o, "created_at", out->created_at, sizeof out->created_at, why, whylen)) != SP_OK)
		goto out;
	if (!sp_ident_ok(out->org)) {
		rc = WHY("enrol.json: org is not a valid id (lower case letters, digits, '-' and '.')");
		goto out;
	}
	if (!sp_role_known(out->role)) {
		rc = WHY("enrol.json: role is not known");
		goto out;
	}
	out->has_oprf = strcmp(out->role, PSEUDONYMISER) == 0;
	/* a pseudonymiser: an OPRF key and no box key; anyone else: the reverse */
	if ((rc = get_hex(o, "curve_key", out->curve_pk, 32, 1, why, whylen)) != SP_OK ||
	    (rc = get_hex(o, "sign_key", out->sign_pk, 32, 1, why, whylen)) != SP_OK ||
	    (!out->has_oprf && (rc = get_hex(o, "box_key", out->box_pk, 32, 1, why, whylen)) != SP_OK) ||
	    (out->has_oprf && (rc = get_hex(o, "oprf_key", out->oprf_pk, 32, 1, why, whylen)) != SP_OK) ||
	    (rc = get_hex(o, "signature", out->signature, 64, 1, why, whylen)) != SP_OK)
		goto out;
	if (out->has_oprf ? json_object_get(o, "box_key") != NULL
	                  : (json_object_get(o, "oprf_key") != NULL || json_object_get(o, "oprf_index") != NULL)) {
		rc = WHY("enrol.json: a pseudonymiser has oprf_key and no box_key; other roles the reverse");
		goto out;
	}
	if ((v = json_object_get(o, "oprf_index")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 255) {
			rc = WHY("enrol.json: oprf_index must be 1..255");
			goto out;
		}
		out->oprf_index = (uint32_t)json_integer_value(v);
	}
	has_prev = get_hex(o, "previous_sign_key", out->prev_sign_pk, 32, 0, why, whylen);
	has_psig = get_hex(o, "previous_signature", out->prev_signature, 64, 0, why, whylen);
	if ((has_prev != SP_OK && has_prev != SP_ENOTFOUND) || (has_psig != SP_OK && has_psig != SP_ENOTFOUND)) {
		rc = SP_EMALFORMED;
		goto out;
	}
	v = json_object_get(o, "overlap_s");
	if ((has_prev == SP_OK) != (has_psig == SP_OK) || (has_prev == SP_OK) != (v != NULL)) {
		rc = WHY("enrol.json: a rotation needs previous_sign_key, previous_signature and overlap_s together");
		goto out;
	}
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 366LL * 86400) {
			rc = WHY("enrol.json: overlap_s must be 0..31622400");
			goto out;
		}
		out->overlap_s = (uint64_t)json_integer_value(v);
		out->rotation = 1;
		if (out->has_oprf) {
			rc = WHY("enrol.json: a pseudonymiser's keys do not rotate by enrolment");
			goto out;
		}
	}
	ml = enrol_message(out, m);
	if (crypto_sign_verify_detached(out->signature, m, ml, out->sign_pk) != 0) {
		snprintf(why, whylen, "enrol.json: signature does not verify with its sign_key");
		rc = SP_ESIG;
		goto out;
	}
	if (out->rotation && crypto_sign_verify_detached(out->prev_signature, m, ml, out->prev_sign_pk) != 0) {
		snprintf(why, whylen, "enrol.json: previous_signature does not verify with previous_sign_key");
		rc = SP_ESIG;
		goto out;
	}
	rc = SP_OK;
out:
	json_decref(o);
	if (rc != SP_OK) {
		sodium_memzero(out, sizeof *out);
		if (!why[0])
			snprintf(why, whylen, "enrol.json: %s", sp_strerror(rc));
	}
	return rc;
}

int sp_enrol_read(const char *path, sp_enrol *out, char *why, size_t whylen)
{
	uint8_t *buf = NULL;
	size_t len;
	int rc = sp_file_read(path, SP_ENROL_MAX_FILE, &buf, &len);
	if (rc != SP_OK) {
		snprintf(why, whylen, "%s: %s", path, sp_strerror(rc));
		return rc;
	}
	rc = sp_enrol_parse((const char *)buf, len, out, why, whylen);
	free(buf);
	return rc;
}

int sp_enrol_write(const sp_enrol *e, const char *path)
{
	char c[65], s[65], b[65], sig[129], ps[65], psig[129];
	json_t *o;
	char *text;
	int rc;
	if (!e || !path)
		return SP_EINVAL;
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "format", FORMAT, "org", e->org, "role", e->role,
	              "curve_key", sp_hex(e->curve_pk, 32, c), "sign_key", sp_hex(e->sign_pk, 32, s),
	              e->has_oprf ? "oprf_key" : "box_key", sp_hex(e->has_oprf ? e->oprf_pk : e->box_pk, 32, b),
	              "created_at", e->created_at, "signature", sp_hex(e->signature, 64, sig));
	if (!o)
		return SP_ENOMEM;
	if (e->rotation &&
	    (json_object_set_new(o, "previous_sign_key", json_string(sp_hex(e->prev_sign_pk, 32, ps))) != 0 ||
	     json_object_set_new(o, "previous_signature", json_string(sp_hex(e->prev_signature, 64, psig))) != 0 ||
	     json_object_set_new(o, "overlap_s", json_integer((json_int_t)e->overlap_s)) != 0)) {
		json_decref(o);
		return SP_ENOMEM;
	}
	if (e->has_oprf && e->oprf_index &&
	    json_object_set_new(o, "oprf_index", json_integer((json_int_t)e->oprf_index)) != 0) {
		json_decref(o);
		return SP_ENOMEM;
	}
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return SP_ENOMEM;
	size_t n = strlen(text);
	text[n] = '\n'; /* json_dumps leaves room for the NUL we overwrite */
	rc = sp_file_write(path, text, n + 1, 0644);
	free(text);
	return rc;
}
