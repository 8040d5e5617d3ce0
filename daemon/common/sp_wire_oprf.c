/*
 * sp_wire_oprf.c — the sp_wire decoders of the pseudonymisation service's
 * own formats (sp_wire.h): the alarm feed, the broker's translation file and
 * the ceremony's signed deals and rotations. One validation layer, two files
 * by concern: sp_wire.c holds the frames, signals and local requests.
 */
#include "sp_wire.h"
#include "sp_wire_int.h"

#include <sodium.h>
#include <string.h>

#include "sp_util.h"

#define fail sp_wire_fail
#define has_unknown sp_wire_has_unknown

/* ---- the pseudonymisation service's alarm feed ----------------------------- */

static int alarm_ok(const Seinpost__OprfAlarm *a)
{
	return a && sp_ident_ok(a->org) && (!a->role[0] || sp_ident_ok(a->role)) && a->seq >= 1 &&
	       a->kind <= SEINPOST__OPRF_ALARM_KIND__OPRF_ALARM_KIND_SIGNATURE;
}

int sp_wire_decode_oprf_alarm_fetch(const uint8_t *buf, size_t len, Seinpost__OprfAlarmFetch **out)
{
	Seinpost__OprfAlarmFetch *f;
	*out = NULL;
	if (!buf || len == 0 || len > 64)
		return SP_EMALFORMED;
	f = seinpost__oprf_alarm_fetch__unpack(NULL, len, buf);
	if (!f || has_unknown(&f->base) || f->alarm_from < 1 || f->alarm_nonce.len != SP_OPRF_ALARM_NONCE) {
		if (f)
			seinpost__oprf_alarm_fetch__free_unpacked(f, NULL);
		return SP_EMALFORMED;
	}
	*out = f;
	return SP_OK;
}

int sp_wire_decode_oprf_alarm_reply(const uint8_t *buf, size_t len, Seinpost__OprfAlarmReply **reply,
                                    Seinpost__OprfAlarmPage **page, char *why, size_t whylen)
{
	Seinpost__OprfAlarmReply *r;
	Seinpost__OprfAlarmPage *p = NULL;
	*reply = NULL;
	*page = NULL;
	r = seinpost__oprf_alarm_reply__unpack(NULL, len, buf);
	if (!r || has_unknown(&r->base)) {
		if (r)
			seinpost__oprf_alarm_reply__free_unpacked(r, NULL);
		return fail(why, whylen, SP_EMALFORMED, "alarm reply does not decode");
	}
	if (r->code != 0) {
		if (r->code < 0 && r->code > SP_ELAST) {
			*reply = r;
			return SP_OK;
		}
		seinpost__oprf_alarm_reply__free_unpacked(r, NULL);
		return fail(why, whylen, SP_EMALFORMED, "alarm reply: bad code");
	}
	if (r->signature.len != 64 || !(p = seinpost__oprf_alarm_page__unpack(NULL, r->page.len, r->page.data)) ||
	    has_unknown(&p->base))
		goto bad;
	if (!sp_ident_ok(p->service) || !sp_ident_ok(p->to) || p->nonce.len != SP_OPRF_ALARM_NONCE ||
	    p->n_alarms > SP_OPRF_ALARM_PAGE_MAX)
		goto bad;
	for (size_t i = 0; i < p->n_alarms; i++)
		if (!alarm_ok(p->alarms[i]) || p->alarms[i]->seq != p->from_seq + i || p->alarms[i]->seq > p->last_seq)
			goto bad;
	*reply = r;
	*page = p;
	return SP_OK;
bad:
	if (p)
		seinpost__oprf_alarm_page__free_unpacked(p, NULL);
	seinpost__oprf_alarm_reply__free_unpacked(r, NULL);
	return fail(why, whylen, SP_EMALFORMED, "alarm page malformed");
}

int sp_wire_stored_oprf_alarm(const void *v, size_t len, Seinpost__OprfAlarm **out)
{
	*out = seinpost__oprf_alarm__unpack(NULL, len, v);
	if (*out && !alarm_ok(*out)) {
		seinpost__oprf_alarm__free_unpacked(*out, NULL);
		*out = NULL;
	}
	return *out ? SP_OK : SP_ECORRUPT;
}

int sp_wire_decode_translation(const uint8_t *buf, size_t len, Seinpost__PseudonymTranslation **out,
                               char *why, size_t whylen)
{
	Seinpost__PseudonymTranslation *x;
	uint8_t d[32], wide[64] = { 0 }, red[32];
	int rc = SP_EMALFORMED;
	*out = NULL;
	if (!buf || len > 1024)
		return fail(why, whylen, SP_ESIZE, "translation file: larger than 1024 bytes");
	if (!(x = seinpost__pseudonym_translation__unpack(NULL, len, buf)))
		return fail(why, whylen, SP_EMALFORMED, "translation file does not decode");
	if (has_unknown(&x->base))
		fail(why, whylen, rc, "translation file: unknown field");
	else if (x->d.len != 32 || x->new_group_key.len != 32 || x->epoch == 0 ||
	         !((x->delta.len == 32 && x->sealed_delta.len == 0) ||
	           (x->delta.len == 0 && x->sealed_delta.len == 32 + crypto_box_SEALBYTES)))
		fail(why, whylen, rc, "translation file: delta (or sealed_delta), d and the group key of their sizes, the "
		     "epoch 1 or more");
	else if (x->sealed_delta.len) { /* δ checked by the broker once unsealed */
		*out = x;
		return SP_OK;
	} else if ((memcpy(wide, x->delta.data, 32), crypto_core_ristretto255_scalar_reduce(red, wide),
	          sodium_memcmp(red, x->delta.data, 32) != 0) || sodium_is_zero(x->delta.data, 32) ||
	         crypto_scalarmult_ristretto255_base(d, x->delta.data) != 0 || sodium_memcmp(d, x->d.data, 32) != 0 ||
	         !crypto_core_ristretto255_is_valid_point(x->new_group_key.data))
		fail(why, whylen, rc = SP_ECRYPTO, "translation file: d is not delta times the base point");
	else {
		sodium_memzero(wide, sizeof wide);
		sodium_memzero(red, sizeof red);
		*out = x;
		return SP_OK;
	}
	sodium_memzero(wide, sizeof wide);
	sodium_memzero(red, sizeof red);
	if (x->delta.len)
		sodium_memzero(x->delta.data, x->delta.len);
	seinpost__pseudonym_translation__free_unpacked(x, NULL);
	return rc;
}

int sp_wire_decode_ceremony_deal(const uint8_t *buf, size_t len, Seinpost__SignedCeremonyDeal **sd,
                                 Seinpost__CeremonyDeal **deal, char *why, size_t whylen)
{
	Seinpost__SignedCeremonyDeal *s = NULL;
	Seinpost__CeremonyDeal *d = NULL;
	size_t sub;
	*sd = NULL;
	*deal = NULL;
	if (!buf || len > 16384)
		return fail(why, whylen, SP_ESIZE, "deal: larger than 16384 bytes");
	if (!(s = seinpost__signed_ceremony_deal__unpack(NULL, len, buf)) || has_unknown(&s->base) ||
	    s->signature.len != 64 || !s->deal.len ||
	    !(d = seinpost__ceremony_deal__unpack(NULL, s->deal.len, s->deal.data)) || has_unknown(&d->base)) {
		fail(why, whylen, SP_EMALFORMED, "deal: does not decode");
		goto bad;
	}
	sub = 32 + (d->kind == 2 ? 32 : 0) + crypto_box_SEALBYTES;
	if ((d->kind != 1 && d->kind != 2) || d->session.len != 32 || d->t < 1 || d->n < d->t || d->n > 16 ||
	    d->dealer < 1 || d->dealer > d->n || d->n_commitments != d->t || d->n_sealed != d->n ||
	    d->sealed_broker.len != (d->kind == 2 ? 32 + crypto_box_SEALBYTES : 0)) {
		fail(why, whylen, SP_EMALFORMED, "deal: kind, session, t, n, dealer or counts out of range");
		goto bad;
	}
	for (size_t i = 0; i < d->n_commitments; i++)
		if (d->commitments[i].len != 32) {
			fail(why, whylen, SP_EMALFORMED, "deal: commitment %zu is not 32 bytes", i);
			goto bad;
		}
	for (size_t i = 0; i < d->n_sealed; i++)
		if (d->sealed[i].len != sub) {
			fail(why, whylen, SP_EMALFORMED, "deal: sealed sub-share %zu is not %zu bytes", i, sub);
			goto bad;
		}
	*sd = s;
	*deal = d;
	return SP_OK;
bad:
	if (d)
		seinpost__ceremony_deal__free_unpacked(d, NULL);
	if (s)
		seinpost__signed_ceremony_deal__free_unpacked(s, NULL);
	return SP_EMALFORMED;
}

int sp_wire_decode_ceremony_rotation(const uint8_t *buf, size_t len, Seinpost__CeremonyRotation **out, char *why,
                                     size_t whylen)
{
	Seinpost__CeremonyRotation *x;
	*out = NULL;
	if (!buf || len > 4096)
		return fail(why, whylen, SP_ESIZE, "rotation file: larger than 4096 bytes");
	if (!(x = seinpost__ceremony_rotation__unpack(NULL, len, buf)))
		return fail(why, whylen, SP_EMALFORMED, "rotation file: does not decode");
	int ok = !has_unknown(&x->base) && x->epoch >= 1 && x->session.len == 32 && x->d.len == 32 &&
	         x->n_scaled >= 1 && x->n_scaled <= 16 && x->proof.len == 64 && x->proof_c0.len == 64;
	for (size_t i = 0; ok && i < x->n_scaled; i++)
		ok = x->scaled[i].len == 32;
	if (!ok) {
		seinpost__ceremony_rotation__free_unpacked(x, NULL);
		return fail(why, whylen, SP_EMALFORMED, "rotation file: fields out of range");
	}
	*out = x;
	return SP_OK;
}
