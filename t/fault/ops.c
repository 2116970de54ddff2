/*
 * The operations the sweep and the crash images explore: each builds its
 * old state once (setup), opens its handles (prepare), and runs one call
 * of the library's API (run) through the filesystem under test.
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault.h"

/* --- writing tables ----------------------------------------------------- */

struct batch {
	struct reftable_stack *st;
	struct reftable_addition *add; /* the update index comes from it */
	const char *prefix;
	int n;
	uint8_t fill;
	uint64_t time;
};

static int write_batch(struct reftable_writer *w, void *arg)
{
	const struct batch *b = arg;
	uint64_t idx = b->add ? reftable_addition_update_index(b->add) :
				reftable_stack_next_update_index(b->st);
	char name[128];
	int i, err = 0;

	for (i = 0; !err && i < b->n; i++) {
		struct reftable_ref_record ref = { 0 };

		snprintf(name, sizeof(name), "refs/heads/%s-%03d", b->prefix, i);
		ref.refname = name;
		ref.update_index = idx;
		ref.value_type = REFTABLE_REF_VAL1;
		memset(ref.value, b->fill, sizeof(ref.value));
		err = reftable_writer_add_ref(w, &ref);
	}
	for (i = 0; !err && i < b->n; i++) {
		struct reftable_log_record log = { 0 };

		snprintf(name, sizeof(name), "refs/heads/%s-%03d", b->prefix, i);
		log.refname = name;
		log.update_index = idx;
		log.value_type = REFTABLE_LOG_UPDATE;
		memset(log.new_id, b->fill, sizeof(log.new_id));
		log.name = (char *)"Fault Sweep";
		log.email = (char *)"fault@example.com";
		log.time = b->time;
		log.message = (char *)"sweep\n";
		err = reftable_writer_add_log(w, &log);
	}
	return err;
}

static int add_batch(struct reftable_stack *st, const char *prefix, int n,
		     uint8_t fill, uint64_t time)
{
	struct batch b = { st, NULL, prefix, n, fill, time };

	return reftable_stack_add(st, write_batch, &b, 0);
}

static void must(int err, const char *what)
{
	if (err < 0)
		fault_die("%s: %s (%s)", what, reftable_error_str(err),
			  reftable_error_detail());
}

struct reftable_stack_options op_stack_options(struct faultfs *ff)
{
	struct reftable_stack_options o;

	reftable_stack_options_init(&o);
	o.create = 1;
	o.lock_timeout_ms = 0;
	o.write.unpadded = 1; /* table sizes follow their records */
	o.fs = ff ? &ff->fs : NULL;
	return o;
}

/* A stack in dir of tables of the given ref counts (real filesystem). */
static struct reftable_stack *setup_stack(const char *dir, const int *sizes,
					  size_t n)
{
	struct reftable_stack_options o = op_stack_options(NULL);
	struct reftable_stack *st;
	char prefix[32];
	size_t i;

	o.disable_auto_compact = 1;
	o.disable_fsync = 1;
	must(reftable_stack_new(&st, dir, &o), "setup: open");
	for (i = 0; i < n; i++) {
		snprintf(prefix, sizeof(prefix), "t%zu", i);
		must(add_batch(st, prefix, sizes[i], (uint8_t)(0x10 + i),
			       1000 * (i + 1)),
		     "setup: add");
	}
	return st;
}

static void setup_tables(const char *dir, const int *sizes, size_t n)
{
	reftable_stack_destroy(setup_stack(dir, sizes, n));
}

static int open_stack(struct op_run *r, int auto_compact)
{
	struct reftable_stack_options o = op_stack_options(r->ff);

	o.disable_auto_compact = !auto_compact;
	return reftable_stack_new(&r->st, r->dir, &o);
}

static int prepare_auto(struct op_run *r)
{
	return open_stack(r, 1);
}

static int prepare_noauto(struct op_run *r)
{
	return open_stack(r, 0);
}

void op_end(struct op_run *r)
{
	reftable_refdb_close(r->db);
	reftable_stack_destroy(r->st);
	reftable_stack_destroy(r->other);
	r->db = NULL;
	r->st = r->other = NULL;
}

/* --- additions ---------------------------------------------------------- */

static void setup_three(const char *dir)
{
	static const int sizes[] = { 40, 10, 3 };
	setup_tables(dir, sizes, 3);
}

static int run_add(struct op_run *r)
{
	return add_batch(r->st, "new", 3, 0x77, 5000);
}

/* Sizes that break the geometric sequence below the new table: the
 * compaction after the publish merges the two under the top one, so
 * the addition is not folded. */
static void setup_unbalanced(const char *dir)
{
	static const int sizes[] = { 120, 2, 40 };
	setup_tables(dir, sizes, 3);
}

static int run_add_one(struct op_run *r)
{
	return add_batch(r->st, "new", 1, 0x77, 5000);
}

/* One table as small as the new one: the addition is folded into it. */
static void setup_one(const char *dir)
{
	static const int sizes[] = { 2 };
	setup_tables(dir, sizes, 1);
}

static int run_add_two(struct op_run *r)
{
	struct reftable_addition *add = NULL;
	struct batch a = { r->st, NULL, "two-a", 2, 0x55, 6000 };
	struct batch b = { r->st, NULL, "two-b", 2, 0x66, 6001 };
	int err;

	err = reftable_stack_new_addition(&add, r->st, 0);
	a.add = b.add = add;
	if (!err)
		err = reftable_addition_add(add, write_batch, &a);
	if (!err)
		err = reftable_addition_add(add, write_batch, &b);
	if (!err)
		err = reftable_addition_commit(add);
	reftable_addition_destroy(add);
	return err;
}

/* --- compactions -------------------------------------------------------- */

static int run_compact_all(struct op_run *r)
{
	/* Drops the logs of the first two tables (times 1000 and 2000). */
	struct reftable_log_expiry e = { 2500, 0 };

	return reftable_stack_compact_all(r->st, &e);
}

static void setup_equal(const char *dir)
{
	static const int sizes[] = { 3, 3, 3 };
	setup_tables(dir, sizes, 3);
}

static int run_auto_compact(struct op_run *r)
{
	return reftable_stack_auto_compact(r->st);
}

/* --- housekeeping ------------------------------------------------------- */

static char *first_table(const char *dir)
{
	char path[4096], *list, *nl;

	snprintf(path, sizeof(path), "%s/tables.list", dir);
	list = fault_read_file(path, NULL);
	if (!list || !(nl = strchr(list, '\n')))
		fault_die("setup: no table in %s", path);
	*nl = '\0';
	return list;
}

static void copy_file(const char *dir, const char *from, const char *to)
{
	char a[4096], b[4096], *data;
	size_t len;

	snprintf(a, sizeof(a), "%s/%s", dir, from);
	snprintf(b, sizeof(b), "%s/%s", dir, to);
	data = fault_read_file(a, &len);
	if (!data)
		fault_die("setup: read %s", a);
	fault_write_file(b, data, len);
	free(data);
}

/* What a compaction that could not remove its inputs leaves. (A dead
 * writer's new list is for breaking stale locks: under the lock, clean
 * cannot tell it from the list of a writer whose lock was removed.) */
static void setup_garbage(const char *dir)
{
	char *t0;

	setup_three(dir);
	t0 = first_table(dir);
	copy_file(dir, t0, "0x000000000001-0x000000000001-0badf00d.ref");
	free(t0);
}

static int run_clean(struct op_run *r)
{
	return reftable_stack_clean(r->st);
}

/* A writer that died holding tables.list.lock, a claim of the same dead
 * process and the temporary table it was writing. */
static void setup_stale(const char *dir)
{
	char name[4096], *t0;
	pid_t pid;
	int status;

	setup_three(dir);
	pid = fork();
	if (pid < 0)
		fault_die("fork");
	if (pid == 0) {
		struct reftable_stack_options o = op_stack_options(NULL);
		struct reftable_stack *st;
		struct reftable_addition *add;

		o.disable_fsync = 1;
		if (reftable_stack_new(&st, dir, &o) ||
		    reftable_stack_new_addition(&add, st, 0))
			_exit(1);
		_exit(0); /* dies holding the lock */
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fault_die("setup: the dying writer failed");
	t0 = first_table(dir);
	snprintf(name, sizeof(name), "%s.lock", t0);
	copy_file(dir, "tables.list.lock", name);
	snprintf(name, sizeof(name), "%s.tmp", t0);
	name[strlen(t0) - 12] = '9'; /* another random part */
	copy_file(dir, t0, name);
	free(t0);
}

static int run_break(struct op_run *r)
{
	int n = reftable_stack_break_stale_locks(r->st, NULL);

	return n < 0 ? n : 0;
}

/* --- a reload that finds a changed list ---------------------------------- */

static void setup_two(const char *dir)
{
	static const int sizes[] = { 20, 5 };
	setup_tables(dir, sizes, 2);
}

/* Another writer compacts everything and adds a table after our handle
 * loaded the stack: the reload opens two new tables and drops two. */
static int prepare_reload(struct op_run *r)
{
	struct reftable_stack_options o = op_stack_options(NULL);
	int err;

	o.disable_auto_compact = 1;
	o.disable_fsync = 1;
	err = open_stack(r, 0);
	if (!err)
		err = reftable_stack_new(&r->other, r->dir, &o);
	if (!err)
		err = reftable_stack_compact_all(r->other, NULL);
	if (!err)
		err = add_batch(r->other, "other", 4, 0x44, 7000);
	return err;
}

static int run_reload(struct op_run *r)
{
	return reftable_stack_reload(r->st);
}

/* --- a ref-database transaction with reflogs ------------------------------ */

static const uint8_t oid_a[32] = { 0xaa, 0xaa, 0xaa, 0x01 };
static const uint8_t oid_b[32] = { 0xbb, 0xbb, 0xbb, 0x02 };
static const uint8_t oid_c[32] = { 0xcc, 0xcc, 0xcc, 0x03 };

static struct reftable_refdb_options refdb_options(struct faultfs *ff)
{
	struct reftable_refdb_options o;

	reftable_refdb_options_init(&o);
	o.stack = op_stack_options(ff);
	o.log_policy = REFTABLE_REFDB_LOG_ALWAYS;
	o.committer.name = "Fault Sweep";
	o.committer.email = "fault@example.com";
	o.committer.time = 1700000000;
	return o;
}

static void setup_refdb(const char *dir)
{
	struct reftable_refdb_options o = refdb_options(NULL);
	struct reftable_refdb *db;
	struct reftable_refdb_txn *txn;

	o.stack.disable_fsync = 1;
	must(reftable_refdb_open(&db, dir, &o), "setup: refdb");
	must(reftable_refdb_txn_begin(&txn, db, NULL), "setup: begin");
	must(reftable_refdb_txn_create(txn, "refs/heads/main", oid_a, 0,
				       "initial"), "setup: main");
	must(reftable_refdb_txn_create(txn, "refs/heads/old", oid_a, 0,
				       "initial"), "setup: old");
	must(reftable_refdb_txn_symref(txn, "HEAD", "refs/heads/main", NULL, 0,
				       "initial"), "setup: HEAD");
	must(reftable_refdb_txn_commit(txn), "setup: commit");
	reftable_refdb_txn_free(txn);
	reftable_refdb_close(db);
}

static int prepare_refdb(struct op_run *r)
{
	struct reftable_refdb_options o = refdb_options(r->ff);

	return reftable_refdb_open(&r->db, r->dir, &o);
}

/* main moves (and HEAD's reflog with it), topic is created, old goes. */
static int run_refdb(struct op_run *r)
{
	struct reftable_refdb_txn *txn = NULL;
	int err = reftable_refdb_txn_begin(&txn, r->db, NULL);

	if (!err)
		err = reftable_refdb_txn_update(txn, "refs/heads/main", oid_b,
						oid_a, 0, "commit: next");
	if (!err)
		err = reftable_refdb_txn_create(txn, "refs/heads/topic", oid_c,
						0, "branch: created");
	if (!err)
		err = reftable_refdb_txn_delete(txn, "refs/heads/old", oid_a,
						0, "branch: deleted");
	if (!err)
		err = reftable_refdb_txn_commit(txn);
	reftable_refdb_txn_free(txn);
	return err;
}

const struct op fault_ops[] = {
	{ "add", setup_three, prepare_noauto, run_add, 0, 0, 0 },
	{ "add-compact", setup_unbalanced, prepare_auto, run_add_one, 0, 0, 0 },
	{ "add-fold", setup_one, prepare_auto, run_add_one, 0, 0, 0 },
	{ "add-two", setup_three, prepare_auto, run_add_two, 0, 0, 0 },
	{ "compact-all", setup_three, prepare_noauto, run_compact_all, 0, 0, 1 },
	{ "auto-compact", setup_equal, prepare_auto, run_auto_compact, 0, 0, 1 },
	{ "clean", setup_garbage, prepare_noauto, run_clean, 1, 0, 0 },
	{ "break-locks", setup_stale, prepare_noauto, run_break, 1, 0, 0 },
	{ "reload", setup_two, prepare_reload, run_reload, 0, 1, 0 },
	{ "refdb-txn", setup_refdb, prepare_refdb, run_refdb, 0, 0, 0 },
};
const size_t fault_nops = sizeof(fault_ops) / sizeof(fault_ops[0]);
