/* Running an op: once to learn its calls and states, then attempt by
 * attempt with faults, crashes or intruders chosen by the caller. */

#include <stdlib.h>
#include <string.h>

#include "fault.h"

struct kinds {
	enum call_kind *v;
	size_t cap;
};

static void note_kind(struct faultfs *f, enum call_kind kind)
{
	struct kinds *k = f->obs->arg;

	if (f->calls >= k->cap) {
		k->cap = (f->calls + 1) * 2;
		k->v = realloc(k->v, k->cap * sizeof(*k->v));
		if (!k->v)
			fault_die("out of memory");
	}
	k->v[f->calls] = kind;
}

void attempt_begin(const struct baseline *b, struct op_run *r,
		   struct faultfs *ff)
{
	int err;

	fault_empty_dir(b->rundir);
	fault_copy_dir(b->template, b->rundir);
	faultfs_init(ff);
	memset(r, 0, sizeof(*r));
	r->dir = b->rundir;
	r->ff = ff;
	err = b->op->prepare(r);
	if (err < 0)
		fault_die("%s: prepare: %s (%s)", b->op->name,
			  reftable_error_str(err), reftable_error_detail());
}

int attempt_run(const struct baseline *b, struct op_run *r)
{
	int res;

	r->ff->armed = 1;
	res = b->op->run(r);
	r->ff->armed = 0;
	return res;
}

char *attempt_state(const struct baseline *b, struct op_run *r, char **why)
{
	char *s;

	if (b->op->view_is_handle) {
		s = state_of_stack(r->st, b->op->structural);
		if (!s && why)
			*why = strdup(reftable_error_detail());
		return s;
	}
	op_end(r);
	return state_of_dir(b->rundir, b->op->structural, why);
}

void baseline_init(struct baseline *b, const struct op *op)
{
	struct fault_observer obs = { 0 };
	struct kinds kinds = { NULL, 0 };
	struct faultfs ff;
	struct op_run r;
	char *why = NULL;
	int res;

	memset(b, 0, sizeof(*b));
	b->op = op;
	b->template = fault_tmpdir("template");
	b->rundir = fault_tmpdir("run");
	op->setup(b->template);

	attempt_begin(b, &r, &ff);
	b->old = op->view_is_handle ? state_of_stack(r.st, op->structural) :
				      state_of_dir(b->rundir, op->structural, &why);
	obs.before = note_kind;
	obs.arg = &kinds;
	ff.obs = &obs;
	res = attempt_run(b, &r);
	ff.obs = NULL;
	if (res < 0)
		fault_die("%s: the run without faults failed: %s (%s)", op->name,
			  reftable_error_str(res), reftable_error_detail());
	b->new = attempt_state(b, &r, &why);
	op_end(&r);
	if (!b->old || !b->new)
		fault_die("%s: unreadable state: %s", op->name, why ? why : "");
	if (!strcmp(b->old, b->new) && !op->housekeeping)
		fault_die("%s: the op changes nothing", op->name);
	b->ncalls = ff.calls;
	b->kinds = kinds.v;
}

void baseline_release(struct baseline *b)
{
	fault_rmtree(b->template);
	fault_rmtree(b->rundir);
	free(b->template);
	free(b->rundir);
	free(b->old);
	free(b->new);
	free(b->kinds);
}
