/* Helpers of the fuzz targets: see fuzz.h. */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

const char *fuzz_input_name;

void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: property broken: %s\n", file, line, what);
	if (fuzz_input_name)
		fprintf(stderr, "input: %s\n", fuzz_input_name);
	fflush(stderr);
	abort();
}

int fuzz_known_error(int err)
{
	return err <= REFTABLE_IO_ERROR && err >= REFTABLE_COMMITTED_ERROR;
}

static void grow(struct fuzz_records *r, size_t elem, void **arr)
{
	if (r->n < r->cap)
		return;
	r->cap = r->cap ? 2 * r->cap : 16;
	*arr = realloc(*arr, r->cap * elem);
	if (!*arr)
		abort();
	memset((char *)*arr + r->n * elem, 0, (r->cap - r->n) * elem);
}

void fuzz_read_refs(struct reftable_iterator *it, size_t max,
		    struct fuzz_records *out)
{
	struct reftable_ref_record ref = { 0 };
	int err = reftable_iterator_seek_ref(it, "");

	memset(out, 0, sizeof(*out));
	out->sorted = 1;
	while (!err && !(err = reftable_iterator_next_ref(it, &ref))) {
		if (out->n == max) {
			out->truncated = 1;
			break;
		}
		grow(out, sizeof(*out->refs), (void **)&out->refs);
		FUZZ_CHECK(!reftable_ref_record_copy(&out->refs[out->n], &ref));
		if (out->n && reftable_ref_record_compare(&out->refs[out->n - 1],
							  &ref) >= 0)
			out->sorted = 0;
		out->n++;
	}
	FUZZ_CHECK(err >= 0 || fuzz_known_error(err));
	out->err = err < 0 ? err : 0;
	reftable_ref_record_release(&ref);
}

void fuzz_read_logs(struct reftable_iterator *it, size_t max,
		    struct fuzz_records *out)
{
	struct reftable_log_record log = { 0 };
	int err = reftable_iterator_seek_log(it, "");

	memset(out, 0, sizeof(*out));
	out->sorted = 1;
	while (!err && !(err = reftable_iterator_next_log(it, &log))) {
		if (out->n == max) {
			out->truncated = 1;
			break;
		}
		grow(out, sizeof(*out->logs), (void **)&out->logs);
		FUZZ_CHECK(!reftable_log_record_copy(&out->logs[out->n], &log));
		if (out->n && reftable_log_record_compare(&out->logs[out->n - 1],
							  &log) >= 0)
			out->sorted = 0;
		out->n++;
	}
	FUZZ_CHECK(err >= 0 || fuzz_known_error(err));
	out->err = err < 0 ? err : 0;
	reftable_log_record_release(&log);
}

void fuzz_records_release(struct fuzz_records *r)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->refs)
			reftable_ref_record_release(&r->refs[i]);
		if (r->logs)
			reftable_log_record_release(&r->logs[i]);
	}
	free(r->refs);
	free(r->logs);
	memset(r, 0, sizeof(*r));
}

int fuzz_records_equal(const struct fuzz_records *a,
		       const struct fuzz_records *b, size_t hash_size)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		if (a->refs && !reftable_ref_record_equal(&a->refs[i],
							  &b->refs[i], hash_size))
			return 0;
		if (a->logs && !reftable_log_record_equal(&a->logs[i],
							  &b->logs[i], hash_size))
			return 0;
	}
	return 1;
}

ssize_t fuzz_buf_write(void *arg, const void *buf, size_t len)
{
	struct fuzz_buf *b = arg;

	if (b->len + len > b->cap) {
		b->cap = 2 * (b->len + len);
		b->data = realloc(b->data, b->cap);
		if (!b->data)
			abort();
	}
	memcpy(b->data + b->len, buf, len);
	b->len += len;
	return (ssize_t)len;
}

static char dir_path[256];

static void remove_dir(void)
{
	fuzz_dir_clear();
	rmdir(dir_path);
}

const char *fuzz_dir(void)
{
	const char *base = getenv("TMPDIR");

	if (dir_path[0])
		return dir_path;
	if (!access("/dev/shm", W_OK))
		base = "/dev/shm"; /* fast: many files per second */
	snprintf(dir_path, sizeof(dir_path), "%s/reftable-fuzz.XXXXXX",
		 base ? base : "/tmp");
	if (!mkdtemp(dir_path))
		abort();
	atexit(remove_dir);
	return dir_path;
}

void fuzz_dir_clear(void)
{
	DIR *d = opendir(dir_path);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", dir_path,
				 e->d_name);
			unlink(path);
		}
	closedir(d);
}
