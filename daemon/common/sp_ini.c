/* sp_ini.c — strict, line-counting reader for libinih (config and policy). */
#include "sp_ini.h"

#include <stdio.h>
#include <string.h>

void sp_ini_vfail(sp_ini_reader *r, int line, const char *fmt, va_list ap)
{
	if (r->err_line)
		return; /* the first error is the one worth reading */
	r->err_line = line > 0 ? line : 1;
	vsnprintf(r->err, sizeof r->err, fmt, ap);
}

void sp_ini_fail(sp_ini_reader *r, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sp_ini_vfail(r, line, fmt, ap);
	va_end(ap);
}

/* Echo user text in messages only as short printable ASCII: file content
 * is not trusted to be harmless on a terminal or in the journal. */
const char *sp_ini_printable(const char *s, char *buf, size_t len)
{
	size_t i = 0;
	for (; s && *s && i + 4 < len; s++)
		buf[i++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	if (s && *s)
		buf[i++] = '.', buf[i++] = '.', buf[i++] = '.';
	buf[i] = '\0';
	return buf;
}

char *sp_ini_read_line(char *str, int num, void *stream)
{
	sp_ini_reader *r = stream;
	const uint8_t *s, *nl;
	size_t n, content, i;

	if (r->err_line || r->pos >= r->len || num < 4)
		return NULL;
	s = r->buf + r->pos;
	nl = memchr(s, '\n', r->len - r->pos);
	n = nl ? (size_t)(nl - s) + 1 : r->len - r->pos;
	r->line++;
	if (memchr(s, '\0', n)) {
		sp_ini_fail(r, r->line, "NUL byte in file");
		return NULL;
	}
	content = n;
	if (content && s[content - 1] == '\n')
		content--;
	if (content && s[content - 1] == '\r')
		content--;
	/* inih needs room for "\r\n\0"; a longer line would be split. */
	if (content > (size_t)num - 3) {
		sp_ini_fail(r, r->line, "line longer than %d characters%s", num - 3,
		            r->allow_continuation ? "; continue a long value on an indented next line" : "");
		return NULL;
	}
	for (i = 0; i < content && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	r->indented = i > 0 && i < content && s[i] != ';' && s[i] != '#';
	if (r->indented && !r->allow_continuation) {
		/* it would silently merge into the previous value */
		sp_ini_fail(r, r->line, "indented line: continuation lines are not allowed");
		return NULL;
	}
	if (i < content && s[i] == '[') {
		/* inih would keep the previous section and carry on; say so here. */
		if (!memchr(s, ']', content)) {
			sp_ini_fail(r, r->line, "section header without ']'");
			return NULL;
		}
		if (i > 0) {
			sp_ini_fail(r, r->line, "section header must start at the beginning of the line");
			return NULL;
		}
		if (r->header_seq && r->cur_seq != r->header_seq) {
			sp_ini_fail(r, r->header_line, "empty section");
			return NULL;
		}
		if (r->on_section)
			r->on_section(r->user);
		if (r->err_line)
			return NULL;
		r->header_seq++;
		r->header_line = r->line;
	}
	memcpy(str, s, n);
	str[n] = '\0';
	r->pos += n;
	return str;
}
