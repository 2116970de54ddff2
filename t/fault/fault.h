#ifndef FAULT_H
#define FAULT_H

/*
 * The fault sweep (t/fault) and the crash images (t/crash) share this
 * driver: a filesystem that counts, fails or records the calls of one
 * operation, the operations themselves, and the state a fresh handle
 * reads back. Documentation/faults.md says what each check means.
 */

#include <stddef.h>
#include <stdint.h>

#include "reftable.h"

/* --- the filesystem under test (faultfs.c) ------------------------------ */

enum call_kind {
	CALL_OPEN, CALL_CLOSE, CALL_READ, CALL_WRITE, CALL_FSYNC, CALL_FSTAT,
	CALL_STAT, CALL_RENAME, CALL_UNLINK, CALL_MKDIR, CALL_LIST_DIR,
	CALL_MMAP, CALL_MUNMAP, CALL_WRITEBACK, CALL_LINK, CALL_KINDS
};

/* Not an errno: the write succeeds with half of what was asked. */
#define FAULT_SHORT_WRITE (-1)

struct faultfs;

/* What the crash recorder (or a test) sees: every armed call before it
 * runs, every successful one after. path is NULL for calls on a fd. */
struct fault_observer {
	void (*before)(struct faultfs *f, enum call_kind kind);
	void (*opened)(struct faultfs *f, const char *path, int flags, int fd);
	void (*wrote)(struct faultfs *f, int fd, const void *buf, size_t n);
	void (*synced)(struct faultfs *f, int fd);
	void (*renamed)(struct faultfs *f, const char *from, const char *to);
	void (*unlinked)(struct faultfs *f, const char *path);
	void (*linked)(struct faultfs *f, const char *from, const char *to);
	void (*closed)(struct faultfs *f, int fd);
	void *arg;
};

struct faultfs {
	struct reftable_fs fs; /* what the library is given; ctx = this */
	const struct reftable_fs *real;
	int armed;            /* count and fail only while set */
	unsigned long calls;  /* armed calls so far */
	unsigned long fail_at; /* 0: fail nothing */
	int from_k;           /* fail every call from fail_at on */
	int err;              /* the errno, or FAULT_SHORT_WRITE */
	/* The first call that failed, if any. */
	int failed;
	enum call_kind failed_kind;
	const struct fault_observer *obs;
};

void faultfs_init(struct faultfs *f);
/* The errnos (and FAULT_SHORT_WRITE) a user meets from a call of kind;
 * *n receives how many. */
const int *fault_errnos(enum call_kind kind, size_t *n);
const char *call_kind_name(enum call_kind kind);
const char *fault_err_name(int err);

/* --- the operations (ops.c) -------------------------------------------- */

struct op_run {
	char *dir;
	struct faultfs *ff;   /* the filesystem of the handles under test */
	struct reftable_stack *st;   /* opened by prepare, destroyed by end */
	struct reftable_refdb *db;
	struct reftable_stack *other;
};

struct op {
	const char *name;
	/* Build the old state in dir (real filesystem, once per op). */
	void (*setup)(const char *dir);
	/* Open the handles (faultfs not armed). */
	int (*prepare)(struct op_run *r);
	/* The operation; its result code. Runs armed. */
	int (*run)(struct op_run *r);
	/* Housekeeping (clean, breaking locks): may leave part of its work
	 * undone on failure; what is checked is that the refs stay. */
	int housekeeping;
	/* The handle's own view is the state (a reload); else a fresh
	 * handle's. */
	int view_is_handle;
	/* The number of tables is part of the state (compactions). */
	int structural;
};

extern const struct op fault_ops[];
extern const size_t fault_nops;

/* Stack options of the handles under test: fsync on, no waiting. */
struct reftable_stack_options op_stack_options(struct faultfs *ff);
/* Close whatever prepare opened. */
void op_end(struct op_run *r);

/* --- the driver shared by the sweep and the crash images (driver.c) ----- */

/* What a clean run of an op shows. */
struct baseline {
	const struct op *op;
	char *template;  /* the old state's files, built by setup */
	char *rundir;    /* where each attempt runs */
	char *old, *new; /* states before and after */
	unsigned long ncalls;
	enum call_kind *kinds; /* of each call, 1-based */
};

/* Build the template and run the op once without faults. */
void baseline_init(struct baseline *b, const struct op *op);
void baseline_release(struct baseline *b);

/* One attempt: a copy of the template, the handles prepared, ff not
 * armed yet (the caller sets what to fail, and an observer). */
void attempt_begin(const struct baseline *b, struct op_run *r,
		   struct faultfs *ff);
/* Run the op armed; its result code. */
int attempt_run(const struct baseline *b, struct op_run *r);
/* The state after it (closing the handles unless the state is the
 * handle's own view). NULL (with *why) if unreadable. */
char *attempt_state(const struct baseline *b, struct op_run *r, char **why);

/* --- states (state.c) --------------------------------------------------- */

/* The merged view in the records format (t/fixtures/git/README.md), and
 * for structural ops the table count first. NULL (with *why) if the
 * stack cannot be read. malloc'd. */
char *state_of_dir(const char *dir, int structural, char **why);
char *state_of_stack(struct reftable_stack *st, int structural);
/* The same view with update indexes dropped and the lines of ref
 * skipped, to compare states that another writer changed. */
char *state_without(const char *state, const char *ref);

/* --- files (files.c) ---------------------------------------------------- */

/* A fresh directory below /dev/shm (or $TMPDIR); malloc'd. */
char *fault_tmpdir(const char *tag);
void fault_rmtree(const char *dir);
/* Copy the regular files of src into dst (which exists). */
void fault_copy_dir(const char *src, const char *dst);
/* Remove every entry of dir, keeping dir. */
void fault_empty_dir(const char *dir);
/* Entries of dir that are not tables.list or a listed table, one per
 * line; "" when none. malloc'd. */
char *fault_leftovers(const char *dir);
/* Locks in dir holding our own evidence, one per line. malloc'd. */
char *fault_our_locks(const char *dir);
/* The whole file, malloc'd, NUL-terminated; NULL if unreadable. */
char *fault_read_file(const char *path, size_t *len);
void fault_write_file(const char *path, const void *data, size_t len);

void fault_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
