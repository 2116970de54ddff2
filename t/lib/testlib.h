#ifndef TESTLIB_H
#define TESTLIB_H

/*
 * Helpers shared by the table-format unit tests (t/unit/test-basics.c,
 * test-roundtrip*.c, test-writer.c, test-corrupt*.c, test-merged.c,
 * test-fixtures.c).
 *
 * Everything is prefixed tl_ so it never collides with the helpers of other
 * test programs that get linked with these objects. Helpers that cannot
 * fail in a way a test wants to inspect assert with Check themselves.
 *
 * Records built here (the test's "model") own their strings through
 * malloc() and leave the _cap fields 0, so the library never frees them;
 * they are freed with tl_ref_clear()/tl_log_clear().
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <check.h>

#include "reftable.h"

/*
 * Check's ck_assert* write a checkpoint to the parent process on every
 * call, which dominates loops over many records; TL_CHECK only calls into
 * Check when the condition fails. Needs a format string.
 */
#define TL_CHECK(cond, ...)                          \
	do {                                         \
		if (!(cond))                         \
			ck_abort_msg(__VA_ARGS__);   \
	} while (0)

/* --- a deterministic PRNG (splitmix64), so every run sees the same data */

struct tl_rng {
	uint64_t state;
};

void tl_rng_init(struct tl_rng *r, uint64_t seed);
uint64_t tl_rng_next(struct tl_rng *r);
/* Uniform in [0, n); n > 0. */
uint64_t tl_rng_below(struct tl_rng *r, uint64_t n);
void tl_rng_bytes(struct tl_rng *r, uint8_t *dst, size_t n);

/* --- a growable C string ------------------------------------------- */

struct tl_str {
	char *s;   /* always NUL-terminated once anything was added */
	size_t len, cap;
};
#define TL_STR_INIT { NULL, 0, 0 }

void tl_str_addn(struct tl_str *b, const char *s, size_t n);
void tl_str_add(struct tl_str *b, const char *s);
void tl_str_addf(struct tl_str *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tl_str_reset(struct tl_str *b);
void tl_str_release(struct tl_str *b);
/* The string, "" when nothing was added. */
const char *tl_str_get(const struct tl_str *b);

/* --- an in-memory sink for reftable_writer_new --------------------- */

struct tl_sink {
	uint8_t *data;
	size_t len, cap;
	/* When > 0: fail (return -1) once this many bytes were accepted. */
	size_t fail_at;
	int writes; /* calls of the write callback */
};
#define TL_SINK_INIT { NULL, 0, 0, 0, 0 }

ssize_t tl_sink_write(void *arg, const void *buf, size_t len);
void tl_sink_release(struct tl_sink *s);

/* --- model records ---------------------------------------------------- */

size_t tl_hash_size(enum reftable_hash hash);

/* Deep copies owned by the test (malloc). */
void tl_ref_copy(struct reftable_ref_record *dst,
		 const struct reftable_ref_record *src);
void tl_log_copy(struct reftable_log_record *dst,
		 const struct reftable_log_record *src);
void tl_ref_clear(struct reftable_ref_record *r);
void tl_log_clear(struct reftable_log_record *l);

struct tl_refs {
	struct reftable_ref_record *v;
	size_t n, cap;
};
struct tl_logs {
	struct reftable_log_record *v;
	size_t n, cap;
};

/* Append a deep copy. */
void tl_refs_add(struct tl_refs *a, const struct reftable_ref_record *r);
void tl_logs_add(struct tl_logs *a, const struct reftable_log_record *l);
/* Sort into table key order (name; logs then update index, newest first). */
void tl_refs_sort(struct tl_refs *a);
void tl_logs_sort(struct tl_logs *a);
void tl_refs_free(struct tl_refs *a);
void tl_logs_free(struct tl_logs *a);

/* Key comparisons of the format, independent of the library's. */
int tl_ref_key_cmp(const char *a, const char *b);
int tl_log_key_cmp(const char *an, uint64_t aui, const char *bn,
		   uint64_t bui);

/* Whether a ref's value or peeled value is oid. */
int tl_ref_points_at(const struct reftable_ref_record *r, const uint8_t *oid,
		     size_t hash_size);

/* --- the records text format (t/fixtures/git/README.md) ----------------- */

void tl_hex(struct tl_str *out, const uint8_t *p, size_t n);
/* One line without the trailing newline. */
void tl_format_ref(struct tl_str *out, const struct reftable_ref_record *r,
		   size_t hash_size);
void tl_format_log(struct tl_str *out, const struct reftable_log_record *l,
		   size_t hash_size);
/* malloc'd single lines, for assertions and messages. */
char *tl_ref_line(const struct reftable_ref_record *r, size_t hash_size);
char *tl_log_line(const struct reftable_log_record *l, size_t hash_size);

/* Assert that two records print the same (which is full equality). */
void tl_assert_ref_eq(const struct reftable_ref_record *want,
		      const struct reftable_ref_record *got, size_t hash_size,
		      const char *ctx);
void tl_assert_log_eq(const struct reftable_log_record *want,
		      const struct reftable_log_record *got, size_t hash_size,
		      const char *ctx);

/* --- writing and opening tables --------------------------------------- */

/*
 * Write refs then logs (already in key order) into out with opts and the
 * given limits. Returns 0 or the first error of the writer, so tests of
 * refusals can look at the code; stats (optional) receives the writer's
 * statistics after a successful close.
 */
int tl_write_table(struct tl_sink *out, const struct reftable_write_options *opts,
		   uint64_t min, uint64_t max, const struct tl_refs *refs,
		   const struct tl_logs *logs, struct reftable_write_stats *stats);

/* Open a table held in memory; asserts success. */
struct reftable_table *tl_open_buffer(const void *data, size_t len,
				      const char *name);

/* --- reading a whole table back ------------------------------------- */

/* Every record from a full iteration; returns the iterator's last code
 * (1 at a clean end, < 0 on error; records read so far are kept). */
int tl_read_all_refs(struct reftable_iterator *it, struct tl_refs *out);
int tl_read_all_logs(struct reftable_iterator *it, struct tl_logs *out);
int tl_table_refs(struct reftable_table *t, struct tl_refs *out);
int tl_table_logs(struct reftable_table *t, struct tl_logs *out);

/* --- files and directories ------------------------------------------ */

/* A fresh directory under $TMPDIR (or /tmp); free with tl_rmtree(). */
char *tl_tmpdir(void);
/* Remove dir and everything below it, then free(dir). */
void tl_rmtree(char *dir);
/* dir/name in a malloc'd string. */
char *tl_path(const char *dir, const char *name);
void tl_write_file(const char *path, const void *data, size_t len);
/* The whole file, malloc'd (exactly len bytes, plus a NUL not counted).
 * NULL if it cannot be read. */
uint8_t *tl_read_file(const char *path, size_t *len);
/* Lines of a text file (without newlines), malloc'd array of malloc'd
 * strings; *n receives the count. Asserts the file can be read. */
char **tl_read_lines(const char *path, size_t *n);
void tl_free_lines(char **lines, size_t n);

/* $REFTABLE_TEST_DATA, or "t" when unset. */
const char *tl_test_data(void);

/* --- running ------------------------------------------------------------ */

/* Run suite s; EXIT_SUCCESS if every test passed: what main returns. */
int tl_run_suite(Suite *s);

#endif

/* --- random models (t/lib/gen.c) ---------------------------------------- */

struct tl_gen_opts {
	size_t nrefs;        /* ref records (before removing duplicate names) */
	size_t nlogs;        /* log records */
	size_t hash_size;    /* 20 or 32 */
	uint64_t min, max;   /* update index limits of the table */
	size_t max_name;     /* longest generated ref name (>= 16) */
	size_t max_message;  /* longest log message */
	int with_deletions;  /* ref and log deletion records */
	size_t oid_pool;     /* distinct object ids to draw from, 0: nrefs */
};

/*
 * A random ref name "refs/<kind>/<random path>" of at most max_name bytes,
 * into buf (of size at least max_name + 1).
 */
void tl_random_refname(struct tl_rng *r, char *buf, size_t max_name);

/*
 * Random refs (all four value types) and logs (updates, and deletions
 * when asked), sorted and free of duplicate keys, within the limits.
 * Object ids come from a small pool, some sharing long prefixes, so
 * several refs point at one object and abbreviations need many bytes.
 */
void tl_gen_model(struct tl_rng *r, const struct tl_gen_opts *o,
		  struct tl_refs *refs, struct tl_logs *logs);

/* --- checking a readable source against a model (t/lib/verify.c) ------ */

/* A table or a merged view, seen through the same calls. */
struct tl_source {
	void *obj;
	int (*init_ref)(void *obj, struct reftable_iterator *it);
	int (*init_log)(void *obj, struct reftable_iterator *it);
	int (*read_ref)(void *obj, const char *name,
			struct reftable_ref_record *ref);
	int (*refs_for)(void *obj, const uint8_t *oid,
			struct reftable_iterator *it);
};

void tl_source_table(struct tl_source *s, struct reftable_table *t);
void tl_source_merged(struct tl_source *s, struct reftable_merged *m);

/*
 * Assert that src holds exactly refs and logs (sorted, as a model):
 * full iteration of both; read_ref of every name and of absent names;
 * seek_ref to every name, to names between and before; seek_log and
 * seek_log_at to every key and to keys between; refs_for of every object
 * id against a scan of the model, and of absent ids. stride > 1 checks
 * only every stride-th point lookup (for very large tables).
 */
void tl_verify(const struct tl_source *src, const struct tl_refs *refs,
	       const struct tl_logs *logs, size_t hash_size, size_t stride,
	       const char *ctx);

/* The same with a separate stride for refs_for, which must scan whole
 * blocks (or whole tables without an object index). */
void tl_verify_sampled(const struct tl_source *src, const struct tl_refs *refs,
		       const struct tl_logs *logs, size_t hash_size,
		       size_t stride, size_t refs_for_stride, const char *ctx);
