/* sp_cli_out.c — what every command shares when it writes: --json output
 * (docs/json.md) and the exit status for a node that does not answer. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "sp_cli.h"
#include "sp_error.h"
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
