/* fuzz_policy.c — the policy file parser must never crash or leak on any bytes.
 * The parser reads files, so the input goes through a temp file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_file.h"

#include "sp_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	if (fuzz_file_write("policy", data, size, path, sizeof path) != 0)
		return 0;
	{
		sp_policy *p = NULL;
		if (sp_policy_load(path, &p, err, sizeof err) == SP_OK) {
			/* Exercise the queries on whatever loaded. */
			FILE *devnull = fopen("/dev/null", "w");
			sp_entitlement e;
			for (size_t i = 0; i < sp_policy_category_count(p); i++)
				for (int w = 0; w <= 4; w++)
					sp_policy_entitlement(p, (int)(size % 4), sp_policy_category_at(p, i)->id, w,
					                      "school", &e);
			if (devnull) {
				sp_policy_print(p, devnull);
				fclose(devnull);
			}
		} else if (!strchr(err, ':')) {
			abort(); /* every error names FILE:LINE */
		}
		sp_policy_free(&p);
	}
	unlink(path);
	return 0;
}
