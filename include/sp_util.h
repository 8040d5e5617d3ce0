/*
 * sp_util.h — small helpers shared by every module: hex, time, files, paths.
 */
#ifndef SP_UTIL_H
#define SP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "sp_error.h"

#define SP_ID_BYTES 16           /* signal id */
#define SP_ID_HEX (SP_ID_BYTES * 2 + 1)

/* Lower-case hex of len bytes into out (2*len+1 bytes). Returns out. */
char *sp_hex(const void *bin, size_t len, char *out);
/* ISO 8601 UTC ("2026-11-23T18:44:48Z") of unix milliseconds; returns buf
 * (SP_ISO_TIME bytes suffice). */
#define SP_ISO_TIME 32
const char *sp_iso_time(uint64_t ms, char *buf, size_t len);
/* Decode exactly outlen bytes from hex; SP_EINVAL on bad length/characters. */
int sp_unhex(const char *hex, void *out, size_t outlen) SP_MUST_CHECK;

uint64_t sp_now_ms(void);      /* wall clock, unix milliseconds */
uint64_t sp_now_s(void);       /* wall clock, unix seconds */
uint64_t sp_mono_ms(void);     /* monotonic milliseconds */
/* 1 when the test-only clock offset (SEINPOST_TEST_CLOCK_FILE) is set: the
 * wall clock above is shifted by the file's seconds. Never in production. */
int sp_test_clock_active(void);

/* Read a whole file (at most max bytes, else SP_ESIZE). *out is malloc'd,
 * NUL-terminated for convenience (not counted in *len). Caller frees. */
int sp_file_read(const char *path, size_t max, uint8_t **out, size_t *len) SP_MUST_CHECK;
/* Write atomically: temp file with mode, fsync, rename, fsync dir. The temp
 * file is created with O_EXCL|O_NOFOLLOW: a link planted under its name by
 * another account that can write the directory is removed, never followed. */
int sp_file_write(const char *path, const void *data, size_t len, mode_t mode) SP_MUST_CHECK;
/* The same inside an open directory dfd, through the temp name tmp (a name
 * in dfd, e.g. a dot file a directory watcher ignores). */
int sp_file_write_at(int dfd, const char *tmp, const char *name, const void *data, size_t len,
                     mode_t mode) SP_MUST_CHECK;
/* Open a directory for *_at calls; a symbolic link is refused (SP_EPERM).
 * Returns the descriptor or a negative SP_E*. */
int sp_dir_open(const char *path) SP_MUST_CHECK;
/* SP_EPERM if the file is readable or writable by group or others. */
int sp_file_check_private(const char *path) SP_MUST_CHECK;
/* mkdir -p with mode for created components. */
int sp_mkdir_p(const char *path, mode_t mode) SP_MUST_CHECK;
/* out = base_dir/rel unless rel is absolute. SP_ESIZE if it does not fit. */
int sp_path_resolve(const char *base_dir, const char *rel, char *out, size_t outlen) SP_MUST_CHECK;
/* Directory part of path into out. */
int sp_path_dirname(const char *path, char *out, size_t outlen) SP_MUST_CHECK;
/* Join a/b into out. */
int sp_path_join(const char *a, const char *b, char *out, size_t outlen) SP_MUST_CHECK;

/* Big-endian 64-bit encode/decode (LMDB keys sort in numeric order). */
void sp_be64_put(uint8_t out[8], uint64_t v);
uint64_t sp_be64_get(const uint8_t in[8]);

/* The one definition of acceptable text, for every field a person or a
 * partner system writes, at every entry point (CLI, local socket, spool,
 * wire) and again where a recipient opens it: strict UTF-8 (no overlong
 * forms, surrogates or code points above U+10FFFF), no C0 or C1 control
 * characters or DEL except newline and tab when allow_newline, at most max
 * bytes. sp_text_problem returns NULL when s is acceptable (NULL counts as
 * absent), otherwise a static phrase naming the problem ("invalid UTF-8",
 * "a control character", "too long"), never a byte of the text. */
const char *sp_text_problem(const char *s, size_t max, int allow_newline);
int sp_text_ok(const char *s, size_t max, int allow_newline);
/* Organisation/category/rule identifiers: [a-z0-9][a-z0-9.-]{0,62}. */
int sp_ident_ok(const char *s);
/* A user name for the audit log: 1..SP_USER_MAX printable UTF-8 characters,
 * no run of 8 or more digits (a BSN has 9). */
#define SP_USER_MAX 64
int sp_user_ok(const char *s);

/* size bytes of guarded, zeroed sodium_malloc memory for secrets (NULL when
 * libsodium cannot start or memory is short); free with sodium_free. */
void *sp_secret_alloc(size_t size);

#endif
