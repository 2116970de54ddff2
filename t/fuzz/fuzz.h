#ifndef FUZZ_H
#define FUZZ_H

/*
 * Shared by the fuzz targets (fuzz-*.c) and their replay driver. Each
 * target defines LLVMFuzzerTestOneInput and checks properties of what it
 * reads, not only that nothing crashes; a broken property aborts, so
 * libFuzzer keeps the input and the replay in `make test` fails.
 */

#include <stddef.h>
#include <stdint.h>

#include "reftable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                     \
	do {                                                                 \
		if (!(cond))                                                 \
			fuzz_fail(__FILE__, __LINE__, #cond);                \
	} while (0)

/* Print the broken property (and the input the driver replays), abort. */
void fuzz_fail(const char *file, int line, const char *what)
	__attribute__((noreturn));

/* The input being replayed, for fuzz_fail's message; NULL in libFuzzer. */
extern const char *fuzz_input_name;

/* An error code the library documents: a broken one is a defect too. */
int fuzz_known_error(int err);

/* Records read from one iterator, copied. */
struct fuzz_records {
	struct reftable_ref_record *refs;
	struct reftable_log_record *logs;
	size_t n, cap;
	int err;       /* < 0: the iteration stopped on this error */
	int truncated; /* stopped at the limit */
	int sorted;    /* keys strictly increasing, as a good table has */
};

/* Read up to max refs (logs) from it after seeking to the start. */
void fuzz_read_refs(struct reftable_iterator *it, size_t max,
		    struct fuzz_records *out);
void fuzz_read_logs(struct reftable_iterator *it, size_t max,
		    struct fuzz_records *out);
void fuzz_records_release(struct fuzz_records *r);

/* Both sets hold the same records in the same order. */
int fuzz_records_equal(const struct fuzz_records *a,
		       const struct fuzz_records *b, size_t hash_size);

/* A reftable_write_fn appending to a struct fuzz_buf. */
struct fuzz_buf {
	uint8_t *data;
	size_t len, cap;
};
ssize_t fuzz_buf_write(void *arg, const void *buf, size_t len);

/* A private directory for files, made once per process and emptied by
 * fuzz_dir_clear(); removed at exit. */
const char *fuzz_dir(void);
void fuzz_dir_clear(void);

#endif
