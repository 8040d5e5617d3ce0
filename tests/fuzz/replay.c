/*
 * replay.c — runs a fuzz harness over committed corpora without libFuzzer,
 * so `make check` exercises every parser with every seed under plain cc.
 *
 * Usage: fuzz_<name> PATH...   (files, or directories of files)
 * Each input is fed whole, truncated at a few lengths and with one flipped
 * byte: cheap extra coverage of the error paths. Exit 1 only when an input
 * cannot be read; a crash is the harness's own failure.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long replayed;

static void run_variants(const uint8_t *data, size_t len)
{
	size_t cuts[] = { 0, 1, len / 4, len / 2, len ? len - 1 : 0 };
	uint8_t *copy;

	(void)LLVMFuzzerTestOneInput(data, len);
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		if (cuts[i] >= len)
			continue;
		/* a fresh allocation of exactly cuts[i] bytes lets ASan see
		 * any read past the truncated end */
		copy = malloc(cuts[i] ? cuts[i] : 1);
		if (!copy)
			continue;
		memcpy(copy, data, cuts[i]);
		(void)LLVMFuzzerTestOneInput(copy, cuts[i]);
		free(copy);
	}
	if (len > 0 && (copy = malloc(len)) != NULL) {
		for (size_t pos = 0; pos < len; pos += len / 3 + 1) {
			memcpy(copy, data, len);
			copy[pos] ^= 0x5a;
			(void)LLVMFuzzerTestOneInput(copy, len);
		}
		free(copy);
	}
}

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;
	int rc = -1;

	if (!f)
		goto out;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		goto out;
	run_variants(buf, (size_t)n);
	replayed++;
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "replay: cannot read %s\n", path);
	free(buf);
	if (f)
		fclose(f);
	return rc;
}

static int replay_path(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char child[4096];
	int rc = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	if (!(d = opendir(path))) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(child, sizeof child, "%s/%s", path, e->d_name) >= (int)sizeof child) {
			rc = -1;
			continue;
		}
		if (replay_path(child) != 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (replay_path(argv[i]) != 0)
			rc = 1;
	printf("replayed %lu inputs\n", replayed);
	return rc;
}
