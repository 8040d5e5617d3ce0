/* fuzz_config.c — the config file parser must never crash or leak on any bytes.
 * The parser reads files, so the input goes through a temp file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_file.h"

#include "sp_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	if (fuzz_file_write("config", data, size, path, sizeof path) != 0)
		return 0;
	{
		sp_config c;
		if (sp_config_load(path, &c, err, sizeof err) != SP_OK && !strchr(err, ':'))
			abort(); /* every error names FILE:LINE */
	}
	unlink(path);
	return 0;
}
