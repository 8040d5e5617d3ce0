/* fuzz_file.h — the file parsers read files, so fuzz input goes through a
 * temp file. fuzz_file_write returns 0 with path filled, -1 to skip the
 * input; the caller unlinks path when done. */
#ifndef FUZZ_FILE_H
#define FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

static inline int fuzz_file_write(const char *tag, const uint8_t *data, size_t size, char *path, size_t len)
{
	int fd;
	snprintf(path, len, "/tmp/sp-fuzz-%s-XXXXXX", tag);
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

#endif
