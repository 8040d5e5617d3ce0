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

/* pseudo: the subject; answer_head: size of the head the broker's answer
 * came with; bseqs[nb]: the records it listed; broker_proven: all of them
 * passed their inclusion proof. Fills rep from the copy. */
int sp_whosaw_complete(const sp_config *cfg, const uint8_t pseudo[32], uint64_t answer_head,
                       const uint64_t *bseqs, size_t nb, int broker_proven, sp_report *rep);

#endif
