/* sp_cli_out.c — what every command shares when it writes: --json output
 * (docs/json.md) and the exit status for a node that does not answer. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "seinpost.pb-c.h"
#include "sp_audit.h"
#include "sp_cli.h"
#include "sp_error.h"
#include "sp_render.h"
#include "sp_util.h"

int sp_cli_print_json(json_t *v)
{
	char *s = v ? json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY) : NULL;
	json_decref(v);
	if (!s) {
		fprintf(stderr, "seinpost: out of memory\n");
		return SP_EXIT_BAD;
	}
	puts(s);
	free(s);
	return fflush(stdout) == 0 ? SP_EXIT_OK : SP_EXIT_BAD;
}

int sp_cli_json_time(json_t *o, const char *key, uint64_t ms)
{
	char when[32];
	return json_object_set_new(o, key, json_string(sp_iso_time(ms, when, sizeof when)));
}

int sp_cli_call_exit(int rc)
{
	return rc == SP_EIO || rc == SP_ETIMEOUT ? SP_EXIT_UNREACHABLE : SP_EXIT_BAD;
}

json_t *sp_cli_tree_head_json(uint64_t size, const uint8_t root[32], uint64_t signed_ms)
{
	char hex[65];
	json_t *o = json_pack("{s:I,s:s}", "tree_size", (json_int_t)size, "root_hash", sp_hex(root, 32, hex));
	if (o)
		sp_cli_json_time(o, "signed_at", signed_ms);
	return o;
}

/* One shape for an audit record, wherever it is listed (audit log, local or
 * the broker's through the privacy officer's node). */
json_t *sp_cli_audit_record_json(const Seinpost__AuditRecord *r)
{
	char sid[SP_ID_HEX] = "", pseudo[17] = "";
	json_t *o;
	if (r->signal_id.len >= 16)
		sp_hex(r->signal_id.data, 16, sid);
	if (r->pseudonym.len >= 8)
		sp_hex(r->pseudonym.data, 8, pseudo);
	o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:o,s:s,s:s,s:s,s:i}", "seq", (json_int_t)r->seq,
	              "event", sp_audit_event_name(r->event), "actor", r->actor, "user", r->user, "recipient",
	              r->recipient, "signal", sid, "subject", pseudo, "category", r->category, "weight",
	              (int)r->weight, "tiers", sp_render_tiers_json(r->tiers), "rule", r->rule_id, "basis",
	              r->legal_basis, "reason", r->reason, "code", (int)r->code);
	if (o && r->count) /* the pseudonymisation service: elements in one request */
		json_object_set_new(o, "oprf_elements", json_integer(r->count));
	if (o)
		sp_cli_json_time(o, "recorded_at", r->time);
	return o;
}
