/*
 * Replays inputs through a fuzz target without libFuzzer: every file
 * named, and every file in each directory named, in name order. Used by
 * `make test` on the corpora and the saved crashes, in both builds.
 *
 * Usage: replay-TARGET [-v] FILE|DIR...
 */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int verbose;
static size_t replayed;

/* Read path into an exactly sized buffer, so that the sanitizer build
 * catches a read one byte past the input. */
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long len;

	if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		perror(path);
		return -1;
	}
	data = malloc(len ? (size_t)len : 1);
	if (!data || fread(data, 1, (size_t)len, f) != (size_t)len) {
		perror(path);
		return -1;
	}
	fclose(f);
	if (verbose)
		printf("%s\n", path);
	fuzz_input_name = path;
	LLVMFuzzerTestOneInput(data, (size_t)len);
	free(data);
	replayed++;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int err = 0;

	if (!d) {
		perror(dir);
		return -1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap && !(names = realloc(names, (cap = 2 * cap + 16) *
							     sizeof(*names))))
			abort();
		names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
		sprintf(names[n++], "%s/%s", dir, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		if (!err)
			err = replay_file(names[i]);
		free(names[i]);
	}
	free(names);
	return err;
}

int main(int argc, char **argv)
{
	int err = 0;

	for (int i = 1; i < argc && !err; i++) {
		struct stat st;

		if (!strcmp(argv[i], "-v")) {
			verbose = 1;
			continue;
		}
		if (stat(argv[i], &st))
			continue; /* no crashes saved for this target */
		err = S_ISDIR(st.st_mode) ? replay_dir(argv[i])
					  : replay_file(argv[i]);
	}
	if (err)
		return 1;
	printf("%s: %zu inputs replayed, all properties held\n", argv[0],
	       replayed);
	return 0;
}
