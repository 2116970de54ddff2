/*
 * twohost CASE TRUTH A B: one stack seen by two hosts, A and B being the
 * stack's directory through two lyingfs mounts of one backing directory
 * and TRUTH the same directory in the backing filesystem itself, where
 * the final checks read without any cache in between.
 *
 * Cases (issue 20):
 *   lost-update     a long-lived handle on B adds after an addition
 *                   through A; A's ref must survive
 *   compacted-reader  a reader on B whose big (mapped) table A's
 *                   compaction removes; it must not crash, and a reload
 *                   must bring the refs back
 *   reload-estale-list, reload-estale-table
 *                   B's reload opens tables.list (a table) and A
 *                   replaces (removes) it before B reads it: ESTALE,
 *                   which the reload must get over
 *
 * TWOHOST_MODE=nocto: the mounts do not revalidate on open.
 *
 * Exit: 0 the outcome held, 1 it did not (the line says how), 2 setup.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reftable-error.h"
#include "reftable-fs.h"
#include "reftable-iterator.h"
#include "reftable-record.h"
#include "reftable-stack.h"
#include "reftable-writer.h"

static const char *truth_dir, *dir_a, *dir_b;
/* Reloads compare the list's names instead of trusting stat. */
static int content_reload = 1;
/* nocto (TWOHOST_MODE): an open may lead to the replaced list, so a
 * reload may only report a clear error instead of recovering. */
static int nocto;

static void setup_fail(const char *what, int err)
{
	printf("setup: %s: %s: %s\n", what, reftable_error_str(err),
	       reftable_error_detail());
	exit(2);
}

/* Open dir's stack, or fail with the error in *err (if err) or exit. */
static struct reftable_stack *try_open(const char *dir, int create,
				       const struct reftable_fs *fs, int *err)
{
	struct reftable_stack_options o;
	struct reftable_stack *st = NULL;
	int e;

	reftable_stack_options_init(&o);
	o.create = create;
	o.disable_fsync = 1;
	o.disable_auto_compact = 1;
	o.force_content_reload = content_reload;
	o.fs = fs;
	e = reftable_stack_new(&st, dir, &o);
	if (e && !err)
		setup_fail(dir, e);
	if (err)
		*err = e;
	return e ? NULL : st;
}

static struct reftable_stack *open_stack(const char *dir, int create,
					 const struct reftable_fs *fs)
{
	return try_open(dir, create, fs, NULL);
}

struct refs {
	struct reftable_stack *st;
	const char *prefix;
	int n;
	uint8_t fill;
};

static int write_refs(struct reftable_writer *w, void *arg)
{
	const struct refs *r = arg;
	struct reftable_ref_record ref = { 0 };
	char name[128];
	int i, err = 0;

	for (i = 0; !err && i < r->n; i++) {
		snprintf(name, sizeof(name), r->n == 1 ? "%s" : "%s-%07d",
			 r->prefix, i);
		ref.refname = name;
		ref.update_index = reftable_stack_next_update_index(r->st);
		ref.value_type = REFTABLE_REF_VAL1;
		memset(ref.value, r->fill, sizeof(ref.value));
		err = reftable_writer_add_ref(w, &ref);
	}
	return err;
}

static int add_refs(struct reftable_stack *st, const char *prefix, int n,
		    unsigned flags)
{
	struct refs r = { st, prefix, n, 0x11 };
	return reftable_stack_add(st, write_refs, &r, flags);
}

/* 1 if dir (read afresh) has ref name, 0 if not. */
static int has_ref(const char *dir, const char *name)
{
	struct reftable_stack *st = open_stack(dir, 0, NULL);
	struct reftable_ref_record ref = { 0 };
	int r = reftable_stack_read_ref(st, name, &ref);

	reftable_ref_record_release(&ref);
	reftable_stack_destroy(st);
	if (r < 0)
		setup_fail(name, r);
	return r == 0;
}

/* Refs seen by iterating st, or a negative error. */
static long count_refs(struct reftable_stack *st)
{
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record ref = { 0 };
	long n = 0;
	int err = reftable_stack_init_ref_iterator(st, &it);

	if (!err)
		err = reftable_iterator_seek_ref(&it, "");
	while (!err && (err = reftable_iterator_next_ref(&it, &ref)) == 0)
		n++;
	reftable_ref_record_release(&ref);
	reftable_iterator_destroy(&it);
	return err < 0 ? err : n;
}

/* Run fn in a child, as another process of host A would; 0 if it
 * exited 0. */
static int in_child(void (*fn)(void))
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		fn();
		_exit(0);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

static void compact_through_a(void)
{
	struct reftable_stack *st = open_stack(dir_a, 0, NULL);
	int err = reftable_stack_compact_all(st, NULL);

	reftable_stack_destroy(st);
	if (err)
		setup_fail("compaction through A", err);
}

static void add_through_a(void)
{
	struct reftable_stack *st = open_stack(dir_a, 0, NULL);
	int err = add_refs(st, "refs/heads/from-a", 1, 0);

	reftable_stack_destroy(st);
	if (err)
		setup_fail("addition through A", err);
}

static int case_lost_update(void)
{
	struct reftable_stack *a = open_stack(dir_a, 1, NULL), *b;
	int err, up;

	if ((err = add_refs(a, "refs/heads/base", 1, 0)))
		setup_fail("first addition", err);
	content_reload = 0; /* B trusts stat, as by default */
	b = open_stack(dir_b, 0, NULL);
	content_reload = 1;
	if ((err = add_refs(a, "refs/heads/from-a", 1, 0)))
		setup_fail("addition through A", err);
	up = reftable_stack_up_to_date(b);
	printf("B's handle after A's addition: up_to_date=%d\n", up);
	err = add_refs(b, "refs/heads/from-b", 1, REFTABLE_ADDITION_RELOAD);
	if (err)
		printf("B's addition refused: %s: %s\n",
		       reftable_error_str(err), reftable_error_detail());
	reftable_stack_destroy(a);
	reftable_stack_destroy(b);
	if (!has_ref(truth_dir, "refs/heads/from-a")) {
		printf("FAIL: lost update: B's addition published a list "
		       "without A's table (refs/heads/from-a is gone)\n");
		return 1;
	}
	if (!err && !has_ref(truth_dir, "refs/heads/from-b")) {
		printf("FAIL: B's addition succeeded but its ref is absent\n");
		return 1;
	}
	printf("ok: A's ref kept%s\n", err ? ", B's addition refused" :
					     ", B's ref added");
	return 0;
}

#define BIG_N 40000

/* B's side of compacted-reader: load, let A compact, read, reload. */
static int reader_on_b(int ready_fd, int go_fd)
{
	struct reftable_stack *b = open_stack(dir_b, 0, NULL);
	long before, after;
	char c = 0;
	int err;

	if (write(ready_fd, &c, 1) != 1 || read(go_fd, &c, 1) != 1)
		return 2;
	before = count_refs(b);
	if (before < 0)
		printf("B's read of its loaded tables: %s: %s\n",
		       reftable_error_str((int)before), reftable_error_detail());
	else
		printf("B's read of its loaded tables: %ld refs\n", before);
	err = reftable_stack_reload(b);
	after = err ? err : count_refs(b);
	reftable_stack_destroy(b);
	if (after != BIG_N + 2) {
		printf("FAIL: after a reload B sees %ld refs (%s), want %d\n",
		       after, err ? reftable_error_detail() : "no error",
		       BIG_N + 2);
		return 1;
	}
	if (before >= 0 && before != BIG_N + 2) {
		printf("FAIL: B's loaded tables gave %ld refs, want %d\n",
		       before, BIG_N + 2);
		return 1;
	}
	printf("ok: B reloaded and sees all %ld refs\n", after);
	return 0;
}

static int case_compacted_reader(void)
{
	struct reftable_stack *a = open_stack(dir_a, 1, NULL);
	int ready[2], go[2], status;
	pid_t pid;
	char c;

	if (add_refs(a, "refs/heads/big", BIG_N, 0) ||
	    add_refs(a, "refs/heads/x", 1, 0) || add_refs(a, "refs/heads/y", 1, 0))
		setup_fail("additions through A", -1);
	reftable_stack_destroy(a);
	if (pipe(ready) || pipe(go))
		return 2;
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(reader_on_b(ready[1], go[0]));
	if (pid < 0 || read(ready[0], &c, 1) != 1)
		return 2;
	if (in_child(compact_through_a) < 0)
		return 2;
	if (write(go[1], &c, 1) != 1 || waitpid(pid, &status, 0) < 0)
		return 2;
	if (WIFSIGNALED(status)) {
		printf("FAIL: the reader on B was killed by signal %d (%s): "
		       "a mapped table vanished under it\n", WTERMSIG(status),
		       strsignal(WTERMSIG(status)));
		return 1;
	}
	return WEXITSTATUS(status);
}

/* B's filesystem: after B opens the armed file, A acts, then B reads. */
static struct reftable_fs hook_fs;
static const char *armed_suffix;
static void (*armed_action)(void);
static int hook_fired;

static int hook_open(void *ctx, const char *path, int flags, mode_t mode)
{
	int fd = reftable_fs_posix()->open(ctx, path, flags, mode);
	size_t n = strlen(path), k = armed_suffix ? strlen(armed_suffix) : 0;

	if (fd >= 0 && armed_suffix && n >= k &&
	    !strcmp(path + n - k, armed_suffix)) {
		armed_suffix = NULL;
		hook_fired = 1;
		if (in_child(armed_action) < 0)
			setup_fail("A's change while B reads", -1);
	}
	return fd;
}

/* B's load failed: a clear error is all nocto can give. */
static int load_failed(int err)
{
	const char *d = reftable_error_detail();
	int clear = strstr(d, "Stale file handle") || strstr(d, "does not exist");

	printf("B's load failed: %s: %s\n", reftable_error_str(err), d);
	if (!nocto || !clear) {
		printf("FAIL: the load %s\n", nocto ? "failed without saying why" :
			"did not get over it (close-to-open should)");
		return 1;
	}
	printf("ok: a clear error (nocto: the cached list may be the old "
	       "one until the cache expires)\n");
	return 0;
}

static int reload_meets_estale(const char *suffix, void (*action)(void))
{
	struct reftable_stack *a = open_stack(dir_a, 1, NULL), *b;
	long n;
	int err;

	if (add_refs(a, "refs/heads/one", 1, 0) ||
	    add_refs(a, "refs/heads/two", 1, 0))
		setup_fail("additions through A", -1);
	reftable_stack_destroy(a);
	REFTABLE_FS_INIT(&hook_fs);
	hook_fs.open = hook_open;
	armed_suffix = suffix;
	armed_action = action;
	b = try_open(dir_b, 0, &hook_fs, &err);
	if (!hook_fired) {
		printf("setup: B never opened a file ending in %s\n", suffix);
		return 2;
	}
	if (err)
		return load_failed(err);
	n = count_refs(b);
	reftable_stack_destroy(b);
	if (n != 2 + (action == add_through_a)) {
		printf("FAIL: B loaded %ld refs, want %d\n", n,
		       2 + (action == add_through_a));
		return 1;
	}
	printf("ok: B's load got over A's change and sees %ld refs\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	const char *c = argc == 5 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 5) {
		fprintf(stderr, "usage: twohost CASE TRUTH A B\n");
		return 2;
	}
	nocto = getenv("TWOHOST_MODE") &&
		!strcmp(getenv("TWOHOST_MODE"), "nocto");
	truth_dir = argv[2];
	dir_a = argv[3];
	dir_b = argv[4];
	if (!strcmp(c, "lost-update"))
		return case_lost_update();
	if (!strcmp(c, "compacted-reader"))
		return case_compacted_reader();
	if (!strcmp(c, "reload-estale-list"))
		return reload_meets_estale("/tables.list", add_through_a);
	if (!strcmp(c, "reload-estale-table"))
		return reload_meets_estale(".ref", compact_through_a);
	fprintf(stderr, "twohost: unknown case %s\n", c);
	return 2;
}
