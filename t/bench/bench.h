#ifndef BENCH_H
#define BENCH_H

/*
 * What the parts of the benchmark driver share: bench.c (options, main),
 * dir.c (the stack directory), commit.c (writing), phases.c (the SPEC's
 * phases) and baselines.c (this machine's floors).
 */

#include <stddef.h>
#include <stdint.h>

#include "reftable.h"
#include "workload.h"

#define LOOKUP_HITS 1000000
#define LOOKUP_MISSES 200000
#define PREFIX_SEEKS 100000
#define PREFIX_READS 10
#define TXNS 10000
#define NOOP_RELOADS 1000000
#define CHANGED_RELOADS 1000
#define STAT_BASELINE_OPS 200000
#define FSYNC_BASELINE_OPS 200
#define MEMREAD_ROUNDS 5

/* --- reporting and timing (bench.c) ---------------------------------- */

/* A wrong answer: on stderr, and the exit status is 1 at the end. */
void fail_check(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* A failed library call or system call: exit 2. */
void die(const char *what, int err);
void die_errno(const char *what, const char *path);
uint64_t now_ns(void);

/* The fsyncs through the library's filesystem and the time inside them. */
extern uint64_t fsync_count, fsync_ns;

/* --- the stack directory (dir.c) --------------------------------------- */

char *make_bench_dir(void);
char *path_in(const char *dir, const char *name);
/* errno says a listed table was removed before it could be opened. */
int vanished(void);
/* Calls fn(path, arg) for each *.ref file of dir. */
void for_each_table_file(const char *dir,
			 void (*fn)(const char *path, void *arg), void *arg);

struct file_totals {
	uint64_t files, bytes;
};

struct file_totals table_files(const char *dir);
/* The files of st's tables, once the replaced ones are removed. */
struct file_totals stack_files(struct reftable_stack *st, const char *dir);
void remove_dir(const char *dir);

/* --- the benchmark state and writing (commit.c) ------------------------ */

struct bench {
	struct workload w;
	char *dir;
	struct reftable_stack_options opts;
	struct reftable_stack *st;  /* the first handle */
	struct reftable_stack *st2; /* the writer of phase 8 */
	uint64_t rng;               /* the SPEC's state after generation */
	uint32_t *txn_keys;         /* the refs phase 6 updated, in order */
};

/* One addition through the public API; the callback gets its index. */
struct txn_arg {
	struct bench *b;
	uint64_t update_index;
	/* Phase 1: all refs. Phases 6 and 8: ref k, new id, log time. */
	int all;
	size_t k;
	uint8_t old_id[BENCH_OID_LEN];
	uint64_t time;
};

void open_stack(struct bench *b, struct reftable_stack **st);
void commit(struct reftable_stack *st, struct txn_arg *a);
/* Update a random ref as phases 6 and 8 do, through st; returns its index. */
size_t update_one(struct bench *b, struct reftable_stack *st, uint64_t time);

/* --- the phases (phases.c) --------------------------------------------- */

void phase_write(struct bench *b);
void phase_lookup(struct bench *b);
void phase_scan(struct bench *b);
void phase_prefix_seek(struct bench *b);
void phase_txn(struct bench *b);
void phase_reload_noop(struct bench *b);
void phase_reload_changed(struct bench *b);
void phase_log_latest(struct bench *b);
void phase_peak_rss(void);
/* The scan again, over the stack as the transactions left it. */
void extra_scan_stack(struct bench *b);
long max_rss_kib(void);

/* The fsyncs of phase 6 and the time spent inside them. */
extern uint64_t txn_fsyncs, txn_fsync_ns;
/* Phase 8 without close_in_background, printed with the extras. */
extern double reload_changed_inline;

/* --- physical baselines (baselines.c) ---------------------------------- */

void baseline_stat(const struct bench *b);
void baseline_fsync(const struct bench *b);
void baseline_memread(const struct bench *b);
void baseline_lookup(const struct bench *b);

#endif
