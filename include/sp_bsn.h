/*
 * sp_bsn.h — subject identifiers: BSN (elfproef), KvK number, BAG id.
 */
#ifndef SP_BSN_H
#define SP_BSN_H

#include "sp_error.h"

#define SP_BSN_LEN 9

/* Normalise a BSN as typed (spaces and dots allowed, 8 digits get a leading
 * zero) into out (10 bytes, 9 digits + NUL) and check the elfproef:
 * 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 ≡ 0 (mod 11), not all zeros.
 * SP_EBSN on any failure; out is zeroed then. */
int sp_bsn_normalise(const char *in, char out[SP_BSN_LEN + 1]) SP_MUST_CHECK;

/* KvK: exactly 8 digits (spaces allowed in input). out: 9 bytes. SP_EINVAL. */
int sp_kvk_normalise(const char *in, char out[9]) SP_MUST_CHECK;

/* BAG verblijfsobject/nummeraanduiding id: exactly 16 digits. out: 17 bytes. */
int sp_bag_normalise(const char *in, char out[17]) SP_MUST_CHECK;

/* YYYY-MM-DD, a real calendar date between 1900-01-01 and today. SP_EDATE. */
int sp_date_check(const char *s) SP_MUST_CHECK;

#endif
