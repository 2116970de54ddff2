/*
 * The last of the final checks: a broken lock, staged on purpose.
 *
 * The library never breaks a live owner's lock, so two rules of the
 * protocol that only matter when a lock is removed from outside (a
 * user's `unlock --force`) never come into play while the workers run: clean must spare an unlisted table beyond the
 * stack's newest update index (an addition in flight whose lock was
 * broken), and an addition whose lock was broken must not publish. The
 * probe stages exactly that on the quiet stack: an addition renames its
 * tables into place, its lock is broken, another handle cleans, the
 * addition tries to commit. It adds two tables: an addition's only
 * small table stays in memory until the commit (it may be folded), and
 * a second one sends the first to its file.
 */

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "reftable-error.h"
#include "reftable-writer.h"
#include "stress.h"

struct probe_arg {
	uint64_t ui;
};

static int write_probe(struct reftable_writer *w, void *arg)
{
	const struct probe_arg *pa = arg;
	struct reftable_ref_record ref = { 0 };

	ref.refname = (char *)"refs/stress-probe";
	ref.update_index = pa->ui;
	ref.value_type = REFTABLE_REF_VAL1;
	memset(ref.value, 0xa5, STRESS_OID_LEN);
	return reftable_writer_add_ref(w, &ref);
}

/* Tables in dir whose name says they cover exactly update index ui. */
static int tables_at(const char *dir, uint64_t ui)
{
	char prefix[64];
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	snprintf(prefix, sizeof(prefix), "0x%012" PRIx64 "-0x%012" PRIx64 "-",
		 ui, ui);
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			n++;
	closedir(d);
	return n;
}

static void fail(struct violation_sink *vs, const char *what, int err)
{
	violation(vs, "probe: %s: %s: %s", what, reftable_error_str(err),
		  reftable_error_detail());
}

void probe_broken_lock(struct reftable_stack *st, struct reftable_stack *other,
		       struct violation_sink *vs)
{
	struct reftable_addition *add = NULL, *taker = NULL;
	struct probe_arg pa, second;
	uint64_t newest;
	const char *dir = reftable_stack_dir(st);
	int err;

	err = reftable_stack_new_addition(&add, st, REFTABLE_ADDITION_RELOAD);
	if (err) {
		fail(vs, "starting an addition", err);
		return;
	}
	pa.ui = reftable_addition_update_index(add);
	err = reftable_addition_add(add, write_probe, &pa);
	second.ui = reftable_addition_update_index(add);
	if (!err)
		err = reftable_addition_add(add, write_probe, &second);
	if (err) {
		fail(vs, "adding a table", err);
		goto done;
	}
	if (tables_at(dir, pa.ui) != 1) {
		violation(vs, "probe: the addition's table at update index "
			      "%" PRIu64 " is not in place", pa.ui);
		goto done;
	}
	/* Its lock is removed from outside (a user's --force), then clean
	 * runs. The library itself never breaks a live owner's lock. */
	{
		struct reftable_break_options bo = { 0 };
		bo.flags = REFTABLE_BREAK_FORCE;
		err = reftable_stack_break_stale_locks(other, &bo);
	}
	if (err != 1)
		violation(vs, "probe: breaking the addition's lock removed %d "
			      "files, expected 1", err);
	err = reftable_stack_clean(other);
	if (err < 0)
		fail(vs, "clean", err);
	else if (tables_at(dir, pa.ui) != 1)
		violation(vs, "probe: clean removed the unlisted table at "
			      "update index %" PRIu64 ", beyond the newest: an "
			      "addition in flight whose lock was broken",
			  pa.ui);
	/*
	 * Someone else takes the lock; the owner of the broken one must
	 * neither publish nor take the new owner's (still empty) lock
	 * file for its list.
	 */
	err = reftable_stack_new_addition(&taker, other,
					  REFTABLE_ADDITION_RELOAD);
	if (err)
		fail(vs, "taking the lock in another handle", err);
	newest = reftable_stack_next_update_index(other);
	err = reftable_addition_commit(add);
	if (err != REFTABLE_LOCK_ERROR)
		violation(vs, "probe: an addition whose lock was broken "
			      "committed with %s, expected a lock error",
			  err ? reftable_error_str(err) : "success");
	reftable_addition_destroy(taker);
	err = reftable_stack_reload(other);
	if (err < 0)
		fail(vs, "reload after the broken addition", err);
	else if (reftable_stack_next_update_index(other) != newest)
		violation(vs, "probe: the stack went from update index %" PRIu64
			      " to %" PRIu64 " after an addition whose lock "
			      "was broken",
			  newest - 1, reftable_stack_next_update_index(other) - 1);
done:
	reftable_addition_destroy(add);
	if (tables_at(dir, pa.ui) > 0 || tables_at(dir, pa.ui + 1) > 0)
		violation(vs, "probe: the failed addition's tables are left");
}
