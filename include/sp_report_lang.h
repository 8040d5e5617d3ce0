/*
 * sp_report_lang.h — the words of the AVG art. 15 report (sp_report.c), in
 * Dutch (the default: the report is for the person it is about) and
 * English. One table, one entry per text, both languages side by side, so
 * that a missing translation shows in review. Texts with %s take the
 * arguments named in their comment, in order; all are static.
 */
#ifndef SP_REPORT_LANG_H
#define SP_REPORT_LANG_H

#include <stddef.h>
#include <stdint.h>

enum sp_report_lang { SP_LANG_NL = 0, SP_LANG_EN = 1 };

enum sp_report_msg {
	M_HTML_LANG, M_TITLE, M_INTRO, M_ABOUT, M_MADE_ON, M_CONTROLLER, M_NOT_STATED,
	M_H_PURPOSES, M_PURPOSE_GENERAL, M_PURPOSE_RULES,
	M_H_DATA, M_DATA_INTRO, M_TIER_EXISTENCE, M_TIER_CONTACT, M_TIER_SUMMARY, M_TIER_FULL,
	M_DATA_CATS, M_WEIGHT_1, M_WEIGHT_2, M_WEIGHT_3, M_AND,
	M_H_RECIPIENTS, M_RECIPIENTS_INTRO, M_COL_WHEN, M_COL_TO, M_COL_WHAT, M_COL_WHY, M_COL_BASIS,
	M_COL_OPENED, M_NONE_SHARED, M_RULE,
	M_VIA_IMMEDIATE, M_VIA_INVOLVED, M_VIA_MATCH, M_VIA_ESCALATION,
	M_OPENED_AT, M_NOT_OPENED, M_SYSTEM_AT, M_PENDING,
	M_H_RETENTION, M_RETENTION_INTRO, M_RETENTION_LINE, M_RETENTION_ESCALATED, M_DAYS, M_HOURS,
	M_H_RIGHTS, M_RIGHTS, M_RIGHTS_CONTACT, M_DPO,
	M_H_COMPLAINT, M_COMPLAINT,
	M_H_SOURCE, M_SOURCE_NONE, M_SOURCE_SIGNAL, M_SOURCE_INVOLVED, M_SOURCE_UNINVOLVED, M_SOURCE_REFUSED,
	M_H_AUTOMATED, M_AUTOMATED,
	M_H_TRANSFER, M_TRANSFER,
	M_H_EVENTS, M_EV_ESCALATED, M_EV_STATUS, M_EV_MATCHED, M_EV_QUERY, M_EV_ALIAS, M_EV_MOVED, M_EV_WITHDRAWN,
	M_EV_OTHER,
	M_ST_ACCEPTED, M_ST_IN_PROGRESS, M_ST_INTERVENTION, M_ST_DECLINED, M_ST_SCALED_DOWN, M_ST_CLOSED,
	M_ST_OTHER,
	M_H_COMPLETE, M_COMPLETE, M_NOT_COMPLETE, M_WARNING,
	M_COUNT
};

/* "nl" / "en" -> the language, -1 when unknown. */
int sp_report_lang_parse(const char *s);
const char *sp_report_lang_name(int lang);
const char *sp_report_t(int lang, enum sp_report_msg m);
/* "2 december 2026 om 08:05 UTC" / "2 December 2026 at 08:05 UTC". */
const char *sp_report_date(int lang, uint64_t ms, char *buf, size_t len);

#endif
