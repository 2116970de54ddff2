/*
 * The fault sweep: every filesystem call of every operation fails in
 * turn, once (with each errno a user meets there) and from then on (a
 * full disk or a lost mount); and, separately, another process removes
 * our lock at that call and commits. After each attempt a fresh handle
 * on the real filesystem checks the outcome (Documentation/faults.md).
 *
 *   fault-sweep [--op NAME] [--verbose]
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"

#define INTRUDER "refs/heads/intruder"

enum mode { ONCE, FROM_K, STOLEN };
static const char *const mode_names[] = { "once", "from-k", "stolen-lock" };

struct attempt_desc {
	enum mode mode;
	unsigned long k;
	enum call_kind kind;
	int err;
};

static int verbose;
static unsigned long violations, shown;

static void violation(const struct baseline *b, const struct attempt_desc *a,
		      int res, const char *what, const char *detail)
{
	violations++;
	if (shown++ >= 40)
		return;
	printf("VIOLATION %s: %s at call %lu (%s", b->op->name,
	       mode_names[a->mode], a->k, call_kind_name(a->kind));
	if (a->mode != STOLEN)
		printf(", %s", fault_err_name(a->err));
	printf("): result %d %s: %s%s%s\n", res, reftable_error_str(res), what,
	       detail ? ": " : "", detail ? detail : "");
}

/* --- the intruder of the stolen-lock mode ---------------------------------- */

struct intruder {
	const struct baseline *b;
	unsigned long at;
	int acked; /* its commit returned 0 */
};

static int write_intruder(struct reftable_writer *w, void *arg)
{
	struct reftable_ref_record ref = { 0 };

	ref.refname = (char *)INTRUDER;
	ref.update_index = reftable_stack_next_update_index(arg);
	ref.value_type = REFTABLE_REF_VAL1;
	memset(ref.value, 0x99, sizeof(ref.value));
	return reftable_writer_add_ref(w, &ref);
}

/* Right before call `at`: remove every lock, as `reftable unlock
 * --force` would, and commit an update of our own. */
static void intrude(struct faultfs *f, enum call_kind kind)
{
	struct intruder *in = f->obs->arg;
	struct reftable_stack_options o = op_stack_options(NULL);
	struct reftable_break_options bo = { REFTABLE_BREAK_FORCE, 0, NULL, NULL };
	struct reftable_stack *st;

	(void)kind;
	if (f->calls != in->at)
		return;
	o.disable_auto_compact = 1;
	o.disable_fsync = 1;
	if (reftable_stack_new(&st, in->b->rundir, &o))
		return;
	reftable_stack_break_stale_locks(st, &bo);
	in->acked = reftable_stack_add(st, write_intruder, st,
				       REFTABLE_ADDITION_RELOAD) == 0;
	reftable_stack_destroy(st);
}

/* --- checks ------------------------------------------------------------------ */

/* Remove every lock (all are ours or dead now) and clean. */
static void housekeep(const char *dir)
{
	struct reftable_stack_options o = op_stack_options(NULL);
	struct reftable_break_options bo = { REFTABLE_BREAK_FORCE, 0, NULL, NULL };
	struct reftable_stack *st;
	int err;

	o.disable_fsync = 1;
	o.disable_auto_compact = 1;
	err = reftable_stack_new(&st, dir, &o);
	if (!err && (err = reftable_stack_break_stale_locks(st, &bo)) > 0)
		err = 0;
	if (!err)
		err = reftable_stack_clean(st);
	reftable_stack_destroy(st);
	if (err)
		fault_die("housekeeping %s: %s (%s)", dir,
			  reftable_error_str(err), reftable_error_detail());
}

/* Calls through which a lock is removed: failing one may leave it. */
static int removes_locks(enum call_kind k)
{
	return k == CALL_RENAME || k == CALL_UNLINK || k == CALL_STAT ||
	       k == CALL_LINK;
}

struct verdict {
	int is_old, is_new;
};

/* old, new, or neither, comparing without the intruder in STOLEN mode. */
static struct verdict judge(const struct baseline *b, const char *state,
			    enum mode mode)
{
	struct verdict v;

	if (mode != STOLEN) {
		v.is_old = !strcmp(state, b->old);
		v.is_new = !strcmp(state, b->new);
	} else {
		char *s = state_without(state, INTRUDER);
		char *o = state_without(b->old, INTRUDER);
		char *n = state_without(b->new, INTRUDER);

		v.is_old = !strcmp(s, o);
		v.is_new = !strcmp(s, n);
		free(s);
		free(o);
		free(n);
	}
	if (b->op->housekeeping) /* refs never change; the files may */
		v.is_new = v.is_old;
	return v;
}

static void check_result(const struct baseline *b, const struct attempt_desc *a,
			 int res, const char *state)
{
	struct verdict v = judge(b, state, a->mode);

	if (!v.is_old && !v.is_new)
		violation(b, a, res, "the state is neither old nor new", NULL);
	else if (res == 0 && !v.is_new)
		violation(b, a, res, "success but the old state", NULL);
	else if (res == REFTABLE_COMMITTED_ERROR && !v.is_new)
		violation(b, a, res, "said committed but the old state", NULL);
	else if (res < 0 && res != REFTABLE_COMMITTED_ERROR && !v.is_old)
		violation(b, a, res, "said not committed but the new state",
			  NULL);
	if (res == 0 && b->op->housekeeping) {
		char *left = fault_leftovers(b->rundir);
		if (*left)
			violation(b, a, res, "success but work left", left);
		free(left);
	}
}

/*
 * A lock of ours left behind must be one whose removal the fault hit,
 * and the caller must have been told, even where the failure was in an
 * addition's auto-compaction (housekeeping, whose other failures only
 * go into its stats).
 */
static void check_locks(const struct baseline *b, const struct attempt_desc *a,
			int res, const struct faultfs *ff)
{
	char *ours = fault_our_locks(b->rundir);
	/* From k on, every removal after the first failure fails too. */
	int hit = ff->failed &&
		  (a->mode == FROM_K || removes_locks(ff->failed_kind));

	if (*ours && (res == 0 || !hit))
		violation(b, a, res, "a lock of ours is left", ours);
	free(ours);
}

/* After a failure that committed nothing: the same op again succeeds. */
static void check_retry(const struct baseline *b, const struct attempt_desc *a,
			struct op_run *r, int res)
{
	struct faultfs *ff = r->ff;
	char *state, *why = NULL;
	int again;

	ff->fail_at = 0;
	ff->obs = NULL;
	if (!b->op->view_is_handle) {
		b->op->prepare(r);
		if (!r->st && !r->db)
			fault_die("%s: retry: cannot open", b->op->name);
	}
	again = attempt_run(b, r);
	state = attempt_state(b, r, &why);
	if (again < 0)
		violation(b, a, res, "a second attempt fails",
			  reftable_error_detail());
	else if (!state || !judge(b, state, a->mode).is_new)
		violation(b, a, res, "a second attempt leaves another state",
			  why);
	free(state);
	free(why);
}

static void one_attempt(const struct baseline *b, const struct attempt_desc *a)
{
	struct fault_observer obs = { 0 };
	struct intruder in = { b, a->k, 0 };
	struct faultfs ff;
	struct op_run r;
	char *state, *why = NULL, *left;
	int res;

	attempt_begin(b, &r, &ff);
	if (a->mode == STOLEN) {
		obs.before = intrude;
		obs.arg = &in;
		ff.obs = &obs;
	} else {
		ff.fail_at = a->k;
		ff.from_k = a->mode == FROM_K;
		ff.err = a->err;
	}
	res = attempt_run(b, &r);
	state = attempt_state(b, &r, &why);
	if (verbose)
		printf("%s %s k=%lu %s %s: %d %s\n", b->op->name,
		       mode_names[a->mode], a->k, call_kind_name(a->kind),
		       fault_err_name(a->err), res, reftable_error_detail());
	if (!state) {
		violation(b, a, res, "unreadable", why);
		goto done;
	}
	check_result(b, a, res, state);
	if (a->mode == STOLEN && in.acked && !strstr(state, " " INTRUDER " "))
		violation(b, a, res, "the intruder's acknowledged update is lost",
			  NULL);
	check_locks(b, a, res, &ff);
	if (!b->op->view_is_handle) {
		char *after;

		housekeep(b->rundir);
		after = state_of_dir(b->rundir, b->op->structural, NULL);
		if (!after || strcmp(after, state))
			violation(b, a, res, "housekeeping changes the refs",
				  NULL);
		free(after);
	}
	if (res < 0 && res != REFTABLE_COMMITTED_ERROR)
		check_retry(b, a, &r, res);
	if (!b->op->view_is_handle)
		housekeep(b->rundir);
	left = fault_leftovers(b->rundir);
	if (*left)
		violation(b, a, res, "housekeeping leaves files", left);
	free(left);
done:
	op_end(&r);
	free(state);
	free(why);
}

/* Whether an intruder can take the op's lock from it. */
static int takes_list_lock(const struct op *op)
{
	return !op->view_is_handle && strcmp(op->name, "break-locks");
}

static unsigned long sweep_op(const struct op *op)
{
	struct baseline b;
	unsigned long k, attempts = 0, before = violations;

	baseline_init(&b, op);
	for (k = 1; k <= b.ncalls; k++) {
		struct attempt_desc a = { ONCE, k, b.kinds[k], 0 };
		size_t i, n;
		const int *errs = fault_errnos(a.kind, &n);

		for (i = 0; i < n; i++, attempts++) {
			a.err = errs[i];
			one_attempt(&b, &a);
		}
		a.mode = FROM_K;
		a.err = EIO; /* a lost mount */
		one_attempt(&b, &a);
		attempts++;
		if (takes_list_lock(op)) {
			a.mode = STOLEN;
			one_attempt(&b, &a);
			attempts++;
		}
	}
	printf("%-13s %3lu fault points, %4lu attempts, %lu violations\n",
	       op->name, b.ncalls, attempts, violations - before);
	baseline_release(&b);
	return b.ncalls;
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	unsigned long points = 0;
	size_t i;

	for (i = 1; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "--verbose"))
			verbose = 1;
		else if (!strcmp(argv[i], "--op") && i + 1 < (size_t)argc)
			only = argv[++i];
		else
			fault_die("usage: fault-sweep [--op NAME] [--verbose]");
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < fault_nops; i++)
		if (!only || !strcmp(only, fault_ops[i].name))
			points += sweep_op(&fault_ops[i]);
	printf("fault sweep: %lu fault points, %lu violations\n", points,
	       violations);
	return violations ? 1 : 0;
}
