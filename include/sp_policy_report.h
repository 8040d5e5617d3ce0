/*
 * sp_policy_report.h — the policy's optional [report] section: what the
 * AVG art. 15 report (sp_report.h) tells the person it is about and that
 * no audit record holds: who the controller is and how to reach it, the
 * data protection officer (FG), and the plain names of organisations and
 * categories.
 *
 *   [report]
 *   controller = Gemeente Maastricht, namens de partners van het netwerk
 *   contact    = Postbus 1992, 6201 BZ Maastricht; privacy@example.nl
 *   dpo        = Functionaris gegevensbescherming, fg@example.nl
 *   name.politie-limburg = Politie Limburg
 *   category.drug-recruitment = werving voor drugsklusjes
 *
 * controller, contact and dpo are required once the section is there;
 * name.ORG names a roster organisation (the roster carries no display
 * name); category.ID (a plain Dutch name, for the Dutch report) must name
 * a category declared earlier in the file.
 * Parsed by sp_policy_load through sp_policy_report_key; strings are owned
 * by the policy and live as long as it does.
 */
#ifndef SP_POLICY_REPORT_H
#define SP_POLICY_REPORT_H

#include "sp_ini.h"
#include "sp_policy.h"

typedef struct sp_policy_report sp_policy_report;

/* One key of [report]; 0, or -1 after sp_ini_fail on rd. */
int sp_policy_report_key(const sp_policy *p, sp_policy_report **rp, sp_ini_reader *rd, const char *name,
                         const char *value);
/* At the end of the file: required keys present; 0, or -1 after sp_ini_fail. */
int sp_policy_report_finish(sp_policy_report *r, sp_ini_reader *rd);
void sp_policy_report_free(sp_policy_report **rp);

/* NULL when the policy has no [report] section / no such name. Borrowed. */
const sp_policy_report *sp_policy_report_of(const sp_policy *p);
const char *sp_policy_report_controller(const sp_policy_report *r);
const char *sp_policy_report_contact(const sp_policy_report *r);
const char *sp_policy_report_dpo(const sp_policy_report *r);
const char *sp_policy_report_org_name(const sp_policy_report *r, const char *org);
const char *sp_policy_report_category_name(const sp_policy_report *r, const char *category);

#endif
