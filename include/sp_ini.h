/*
 * sp_ini.h — the strict line reader shared by the INI parsers (configuration
 * and sharing policy) on top of libinih.
 *
 * libinih does the parsing; this reader feeds it line by line through
 * ini_parse_stream so every message can name FILE:LINE, and refuses what inih
 * would silently accept: NUL bytes, lines it would split, a section header
 * without ']', empty sections, indented lines where continuation is not
 * allowed. The first error wins: later ones are usually consequences.
 */
#ifndef SP_INI_H
#define SP_INI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sp_ini_reader {
	const uint8_t *buf;     /* the file's bytes (borrowed) */
	size_t len, pos;
	int line;               /* number of the line last handed to inih */
	int indented;           /* that line is indented (a continuation) */
	int header_seq;         /* bumped by every [section] line */
	int header_line;        /* line of the latest [section] */
	int cur_seq;            /* header_seq of the section the parser is filling */
	int allow_continuation; /* indented lines continue the previous value */
	/* Called just before a new [section] line is handed on (to close the
	 * previous section); may call sp_ini_fail. */
	void (*on_section)(void *user);
	void *user;
	int err_line;           /* 0 = no error */
	char err[256];
} sp_ini_reader;

void sp_ini_vfail(sp_ini_reader *r, int line, const char *fmt, va_list ap);
void sp_ini_fail(sp_ini_reader *r, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The fgets-style reader to pass to ini_parse_stream with the reader as
 * its stream. */
char *sp_ini_read_line(char *str, int num, void *stream);

/* Short printable-ASCII copy of untrusted file text, for messages. */
const char *sp_ini_printable(const char *s, char *buf, size_t len);

#endif
