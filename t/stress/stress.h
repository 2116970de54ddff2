#ifndef STRESS_H
#define STRESS_H

/*
 * The multi-process stress harness (Documentation/stress.md): one binary
 * that is both the supervisor (driver.c) and, re-executed with
 * --worker-role, each worker (writer.c, reader.c, compactor.c). They
 * share nothing but the stack directory, one journal file per writer and
 * a small memory-mapped file of counters (struct shm).
 */

#include <stddef.h>
#include <stdint.h>

#include "reftable-refdb.h"

#define STRESS_MAX_WORKERS 64
#define STRESS_MAX_COUNTERS 4096
#define ACK_RING 4096
#define STRESS_PREFIX "refs/stress/"
#define STRESS_OID_LEN 20 /* the stack uses SHA-1 */

/* Every knob; the supervisor passes them all on to its workers. */
struct stress_opts {
	double duration;     /* seconds */
	int writers, readers, compactors;
	double kill_rate;    /* kills per second; 0: no killer */
	double freeze_rate;  /* SIGSTOPs per second (age policy only) */
	uint64_t seed;
	const char *dir;     /* parent of the run directory */
	int content_reload;  /* force_content_reload of the stack */
	int background_close; /* close_in_background of the stack */
	int fsync;           /* 0: disable_fsync */
	int compaction;      /* 0: no auto-compaction, compactors only clean */
	int lock_timeout_ms; /* writers' and compactors' lock wait */
	int private_counters; /* per writer */
	int shared_counters;
	int pairs;
	uint32_t block_size; /* 0: the library's default */
	int lock_age;        /* -1: barrier policy; else break_stale_locks age */
	int reader_sleep_us; /* pause between a reader's snapshots */
	int keep;            /* keep the run directory even on success */
	const char *cli;     /* the reftable tool, for verify; NULL: skip */
	int quiet;
	int fail_fast;       /* end the run at the first violation */
	/* Two paths of one directory (two mounts of a shared export, as
	 * two hosts see it): the stack lives in the first; workers of even
	 * slots use the first, odd slots the second. NULL: --dir. */
	const char *mounts[2];
	int readers_apart;   /* readers on B, everyone else on A */
	double stale_bound;  /* seconds a reload may lag acks (0: none) */
	/* Git in the run (git.c, mixed.h): the Git binary (NULL: none; the
	 * run directory is then no Git repository), its processes, the
	 * mixed counters both Git and our writers move, and
	 * git-reftable-records for the final comparison (NULL: skip). */
	const char *git;
	const char *git_records;
	int git_writers, git_compactors;
	int mixed_counters, mixed_values;

	/* Set for a worker process only. */
	const char *role;    /* "writer", "reader", "compactor" */
	int index;           /* slot in struct shm */
	int instance;        /* restart generation of that slot */
	const char *run_dir; /* the run directory the supervisor made */
};

/* What a worker is doing, read by the killer and the lock policy. */
enum stress_phase {
	PHASE_IDLE = 0,   /* outside the library's locking calls */
	PHASE_COMMIT,     /* in reftable_refdb_txn_commit */
	PHASE_COMPACT,    /* in a compaction */
	PHASE_CLEAN,      /* in reftable_stack_clean */
};

/* One worker slot; a restarted worker continues its slot's counters. */
struct slot {
	int pid;
	int phase;
	int parked;           /* the barrier generation it is parked for */
	int pad;
	uint64_t commits;     /* commits that returned success */
	uint64_t acked;       /* transactions journaled after success */
	uint64_t conflicts;   /* CAS failures retried */
	uint64_t lock_retries;/* lock timeouts retried */
	uint64_t reloads;
	uint64_t snapshots;   /* snapshots checked by a reader */
	uint64_t compactions; /* explicit compactions that succeeded */
	uint64_t auto_compactions; /* writers' automatic ones */
	uint64_t cleans;
	uint64_t violations;
	uint64_t max_tables;  /* most tables a reader saw loaded */
	uint64_t lock_lost;   /* failures excused: our lock was broken */
	uint64_t stale_reloads; /* reloads that lagged acks, within bound */
	uint64_t max_stale_us;  /* the most a reload lagged an ack */
	uint64_t mixed_acked;   /* steps of mixed counters acknowledged */
	uint64_t mixed_refused; /* and refused (CAS, lock) */
	uint64_t outdated;      /* Git: "data concurrently modified" */
};

/*
 * The shared page. acked_n[c] is the highest counter value of counter c
 * that a writer has acknowledged; a reload that starts after it was
 * published must see at least that value.
 */
struct shm {
	uint64_t magic;
	int barrier; /* non-zero: generation of a barrier; writers and
		      * compactors park until it is lifted */
	int stop;    /* workers exit at their next idle point */
	uint64_t acked_max_ui; /* highest acknowledged update index */
	uint64_t lock_breaks;  /* rounds of the age policy that removed
				* something; see lock_was_broken() */
	struct slot slots[STRESS_MAX_WORKERS];
	uint64_t acked_n[STRESS_MAX_COUNTERS];
	/* When update index ui was acknowledged (microseconds of
	 * CLOCK_MONOTONIC), at [ui % ACK_RING], for readers' staleness. */
	uint64_t ack_ui[ACK_RING], ack_us[ACK_RING];
};

#define SHM_MAGIC 0x7374726573733031ull

/* --- counters and their refs (names.c) -------------------------------- */

enum counter_kind { COUNTER_PRIVATE, COUNTER_SHARED, COUNTER_PAIR };

/* The refs under test: counter ids 0..n-1, in a fixed layout. */
struct layout {
	int writers, private_counters, shared_counters, pairs;
	int n; /* counters; a pair is one counter stored in two refs */
};

void layout_init(struct layout *l, const struct stress_opts *o);
enum counter_kind counter_kind(const struct layout *l, int c);
/* The writer that owns a private counter, else -1. */
int counter_owner(const struct layout *l, int c);
/*
 * The ref name of counter c ("half" 0 or 1 picks a pair's a or b). Half
 * -1 gives the counter's key name, which the checksum of its values
 * covers: the ref name, or for a pair the name both halves share, so
 * the two refs of a pair hold byte-identical ids.
 */
void counter_refname(const struct layout *l, int c, int half, char *buf,
		     size_t cap);
/* Counter id of a ref name and, for a pair, which half; -1 if not ours. */
int counter_parse(const struct layout *l, const char *name, int *half);

/* --- values (names.c) ------------------------------------------------- */

/*
 * An object id carries: bytes 0-7 the counter value (big-endian), 8-11
 * the writer's slot, 12-15 the writer's instance, 16-19 a checksum of
 * those bytes and the counter's key name, so a value found under another
 * counter, or torn, is detected.
 */
struct value {
	uint64_t n;
	uint32_t writer;
	uint32_t instance;
};

void value_encode(uint8_t *oid, const struct value *v, const char *key);
/* 0 if oid is a well-formed value for the counter named key, else -1. */
int value_decode(const uint8_t *oid, const char *key, struct value *v);
void hex_encode(char *out, const uint8_t *oid, size_t len);
int hex_decode(uint8_t *out, const char *hex, size_t len);

/* --- utilities (util.c) ---------------------------------------------- */

/* xorshift64*: every random choice derives from --seed. */
uint64_t rng_next(uint64_t *state);
uint64_t rng_below(uint64_t *state, uint64_t n);
uint64_t rng_mix(uint64_t a, uint64_t b);

double now_seconds(void);
uint64_t now_us(void);
/* Note that update index ui was acknowledged now. */
void ack_time_note(struct shm *s, uint64_t ui);
/* The oldest acknowledgement among update indexes (from, to], in
 * now_us() time, or 0 if none is recorded. */
uint64_t ack_time_oldest(struct shm *s, uint64_t from, uint64_t to);
void sleep_us(long us);

/* Atomics on the shared page. */
uint64_t shm_load(const uint64_t *p);
void shm_add(uint64_t *p, uint64_t v);
void shm_max(uint64_t *p, uint64_t v);
int shm_load_int(const int *p);
void shm_store_int(int *p, int v);

struct shm *shm_map(const char *run_dir, int create);
void shm_unmap(struct shm *s);

void path_fmt(char *buf, size_t cap, const char *dir, const char *name);
/* The stack directory of a run, as this process reaches it (--mounts). */
void stack_dir(char *buf, size_t cap, const struct stress_opts *o,
	       const char *run_dir);

/*
 * reftable_stack_break_stale_locks() with REFTABLE_BREAK_FORCE, repeated
 * (up to 3 s) until no lock or temporary file is left; for when the
 * caller knows that nobody alive holds one (a writer killed between
 * creating its lock and writing its evidence leaves an empty lock that
 * the library cannot prove stale).
 * Returns the locks removed, or a negative reftable error.
 */
int break_all_locks(struct reftable_stack *st);

/* Stack and refdb options from the knobs. */
void refdb_opts_from(struct reftable_refdb_options *ro,
		     const struct stress_opts *o, const char *who);

/* One line on stderr, prefixed with the worker's name. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern char stress_who[64];

/* --- invariants shared by readers and the final check (check.c) ------ */

struct violation_sink {
	uint64_t *count;  /* incremented for each violation */
	int printed, max_print;
};

void violation(struct violation_sink *vs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* What a snapshot holds for one counter. */
struct seen {
	int present;
	struct value v;
	uint8_t oid[STRESS_OID_LEN];
	uint64_t update_index;
};

/*
 * Read every stress ref of the loaded stack into seen[] (l->n entries),
 * checking names, value encodings and that pairs are not split.
 * Returns 0, or a negative reftable error (also reported).
 */
int snapshot_read(struct reftable_stack *st, const struct layout *l,
		  struct seen *seen, struct violation_sink *vs);

/*
 * Check the reflog of counter c (both refs of a pair) in the loaded
 * stack against the snapshot: one entry per value 1..n, each moving the
 * counter up by one from the value the previous entry left, update
 * indexes growing, the newest entry matching the ref. If entries is not
 * NULL, it receives the entries of half 0 (caller frees).
 */
struct log_entry {
	uint64_t update_index;
	uint8_t old_id[STRESS_OID_LEN], new_id[STRESS_OID_LEN];
};
int reflog_check(struct reftable_stack *st, const struct layout *l, int c,
		 const struct seen *s, struct violation_sink *vs,
		 struct log_entry **entries, size_t *n_entries);

/*
 * On the quiet stack after the run: an addition whose lock is broken
 * has its table spared by clean (done through other) and cannot
 * publish (probe.c).
 */
void probe_broken_lock(struct reftable_stack *st, struct reftable_stack *other,
		       struct violation_sink *vs);

/* --- the roles --------------------------------------------------------- */

int run_supervisor(const struct stress_opts *o, int argc, char **argv);
int run_writer(const struct stress_opts *o);
int run_reader(const struct stress_opts *o);
int run_compactor(const struct stress_opts *o);

/* Workers: wait here while the supervisor breaks locks. */
void worker_park_if_asked(struct shm *s, struct slot *me);

/*
 * Under the age policy a live owner's lock may be broken (it was slow or
 * frozen); the library then fails its operation, which is correct. True
 * if err is such a failure and the supervisor broke some lock since
 * shm->lock_breaks was `before`. Never true under the barrier policy,
 * which breaks locks only while every live worker is parked.
 */
int lock_was_broken(const struct shm *s, uint64_t before, int err);

#endif
