/*
 * sp_orgverify.h — checking a signature against an organisation's keys
 * across a key rotation (docs/enrolment.md).
 *
 * now_s != 0: a NEW frame (broker admission, receipts): the current sign
 * key, or an older one whose overlap has not ended. now_s == 0: a STORED
 * signature (a node opening a delivery it kept): any generation on the
 * roster, so signatures made before a rotation stay verifiable.
 */
#ifndef SP_ORGVERIFY_H
#define SP_ORGVERIFY_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_roster.h"
#include "seinpost.pb-c.h"

int sp_org_verify_signal(const sp_org *o, const Seinpost__Signal *sig, const Seinpost__SignalHeader *hdr,
                         uint64_t now_s) SP_MUST_CHECK;
int sp_org_verify_receipt(const sp_org *o, const uint8_t id[16], uint64_t time, const uint8_t sig[64],
                          uint64_t now_s) SP_MUST_CHECK;
int sp_org_verify_receipts(const sp_org *o, uint64_t time, const uint8_t *const *ids, size_t n,
                           const uint8_t sig[64], uint64_t now_s) SP_MUST_CHECK;
/* Tree head against the broker's sign keys (current and those of the
 * transition records). */
int sp_roster_verify_sth(const sp_roster *r, const Seinpost__SignedTreeHead *h) SP_MUST_CHECK;

#endif
