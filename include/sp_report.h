/*
 * sp_report.h — "who saw what about this person": the privacy officer's
 * who-saw list and the AVG art. 15 subject access report.
 *
 * Input: the broker's audit records about one pseudonym (decoded). Output:
 * one entry per disclosure (delivered), read, submission and audit query,
 * in time order, as text, JSON or a self-contained HTML page. Everything
 * from a record is escaped for HTML. The subject is named only by a label
 * the caller chooses (e.g. a masked BSN); records never hold identities.
 */
#ifndef SP_REPORT_H
#define SP_REPORT_H

#include <stdio.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_merkle.h"
#include "seinpost.pb-c.h"

typedef struct sp_report sp_report;

int sp_report_new(sp_report **out) SP_MUST_CHECK;
void sp_report_free(sp_report **r);
/* Copies what it needs from rec. proven: inclusion proof checked. */
int sp_report_add(sp_report *r, const Seinpost__AuditRecord *rec, int proven) SP_MUST_CHECK;
/* The signed head the answer was checked against (0 size: none). */
void sp_report_set_head(sp_report *r, uint64_t size, uint64_t time_ms, const uint8_t root[32],
                        int verified);
size_t sp_report_count(const sp_report *r);
/* The same with what a third party needs to check it: the record bytes and
 * its RFC 9162 inclusion path to the head (printed by sp_report_json). */
int sp_report_add_proven(sp_report *r, const Seinpost__AuditRecord *rec, const uint8_t *raw, size_t len,
                         const sp_merkle_hash *path, size_t n) SP_MUST_CHECK;
/* The head's signature and the subject's pseudonym, for the JSON proof. */
void sp_report_set_signature(sp_report *r, const uint8_t sig[64], const uint8_t pseudonym[32]);
/* who-saw after key rotations: the subject's pseudonym under an earlier
 * epoch, its DLEQ proof (checked) and the roster's d of the rotation after
 * it; in the JSON as earlier_pseudonyms, for a third party's check. */
void sp_report_add_earlier(sp_report *r, uint32_t epoch, const uint8_t p[32], const uint8_t proof[64],
                           const uint8_t d[32]);
/* A verification failure or alarm: printed at the top of every format; the
 * command then exits 1. */
void sp_report_warn(sp_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t sp_report_warnings(const sp_report *r);

/* The art. 15 report's context (borrowed until the report is freed): the
 * policy gives rules' purposes, retention, the [report] texts and names;
 * lang is an sp_report_lang (sp_report_lang.h). With a policy,
 * sp_report_json adds the art. 15 items (disclosures, sources, events,
 * art15); sp_report_html needs it for them. */
struct sp_policy;
struct sp_roster;
void sp_report_set_context(sp_report *r, const struct sp_policy *policy, const struct sp_roster *roster,
                           int lang);

void sp_report_text(const sp_report *r, FILE *out);
int sp_report_json(const sp_report *r, const char *subject_label, FILE *out) SP_MUST_CHECK;
int sp_report_html(const sp_report *r, const char *subject_label, FILE *out) SP_MUST_CHECK;

#endif
