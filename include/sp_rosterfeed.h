/*
 * sp_rosterfeed.h — the broker's roster reader (docs/privsep.md, "The
 * broker"). The broker closes keys/ after start with Landlock, which
 * allows files by the inode they had at start; a roster replaced by rename
 * (`roster add`, `roster remove`) next to keys/ would be out of reach on
 * SIGHUP. A small child, forked before any key is read, reads the roster
 * file for the broker on request: it holds no secret, parses nothing
 * (one request byte in, the file's bytes out) and dies with the broker.
 */
#ifndef SP_ROSTERFEED_H
#define SP_ROSTERFEED_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"

/* Fork the reader for path (kept; must outlive the broker run). */
int sp_rosterfeed_start(const char *path) SP_MUST_CHECK;
/* The roster file's bytes (malloc'd) from the reader; without one (not
 * started), read directly. At most max bytes. */
int sp_rosterfeed_read(const char *path, size_t max, uint8_t **out, size_t *len) SP_MUST_CHECK;
void sp_rosterfeed_stop(void);

#endif
