/*
 * sp_whosaw.h — who-saw on the privacy officer's node, answered from its
 * verified copy of the broker's log (sp_monitor.h) and compared with the
 * broker's own (audited) answer. Every discrepancy or alarm is a warning on
 * the report (sp_report_warn), which makes the command exit 1.
 */
#ifndef SP_WHOSAW_H
#define SP_WHOSAW_H

#include <stddef.h>
#include <stdint.h>
#include "sp_config.h"
#include "sp_error.h"
#include "sp_report.h"

/* pseudos[0..np-1]: the subject (its current pseudonym first, then, after
 * key rotations, its earlier ones, already proven: sp_translate.h);
 * heads[i]: size of the head the broker's answer about pseudos[i] came with;
 * bseqs[nb]: the records they listed; broker_proven: all of them passed
 * their inclusion proof. Fills rep from the copy, every entry proven against
 * the same verified head. */
int sp_whosaw_complete(const sp_config *cfg, const uint8_t (*pseudos)[32], const uint64_t *heads, size_t np,
                       const uint64_t *bseqs, size_t nb, int broker_proven, sp_report *rep);

#endif
