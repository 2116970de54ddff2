/*
 * A compactor: automatic compaction, full compaction and clean, in a
 * random order with short random pauses. A lock held by someone else is
 * the normal way for these to give up; any other error is a violation.
 */

#include <stdio.h>
#include <string.h>

#include "reftable-error.h"
#include "stress.h"

struct compactor {
	const struct stress_opts *o;
	struct shm *shm;
	struct slot *me;
	struct reftable_stack *st;
	uint64_t rng;
	uint64_t done_seen; /* compactions already added to the slot */
	struct violation_sink vs;
};

/* Compactions that merged something, from the stack's own statistics
 * (a call with nothing to merge does not count). */
static void count_compactions(struct compactor *c)
{
	const struct reftable_compaction_stats *cs =
		reftable_stack_compaction_stats(c->st);
	uint64_t done = cs->attempts - cs->failures;

	if (done > c->done_seen) {
		shm_add(&c->me->compactions, done - c->done_seen);
		c->done_seen = done;
	}
}

static void one_step(struct compactor *c)
{
	uint64_t r = rng_below(&c->rng, 100);
	uint64_t breaks = shm_load(&c->shm->lock_breaks);
	const char *what;
	int phase, err;

	if (!c->o->compaction)
		r = 99; /* clean only */
	if (r < 45) {
		what = "auto compaction";
		phase = PHASE_COMPACT;
	} else if (r < 75) {
		what = "full compaction";
		phase = PHASE_COMPACT;
	} else {
		what = "clean";
		phase = PHASE_CLEAN;
	}
	/* Automatic compaction decides on the loaded stack. */
	err = reftable_stack_reload(c->st);
	if (!err) {
		shm_store_int(&c->me->phase, phase);
		if (r < 45)
			err = reftable_stack_auto_compact(c->st);
		else if (r < 75)
			err = reftable_stack_compact_all(c->st, NULL);
		else
			err = reftable_stack_clean(c->st);
		shm_store_int(&c->me->phase, PHASE_IDLE);
	}
	if (err == REFTABLE_LOCK_ERROR) {
		shm_add(&c->me->lock_retries, 1);
	} else if (err < 0 && lock_was_broken(c->shm, breaks, err)) {
		shm_add(&c->me->lock_lost, 1);
	} else if (err < 0) {
		violation(&c->vs, "%s failed: %s: %s", what,
			  reftable_error_str(err), reftable_error_detail());
	} else if (phase == PHASE_CLEAN) {
		shm_add(&c->me->cleans, 1);
	}
	count_compactions(c);
}

int run_compactor(const struct stress_opts *o)
{
	struct reftable_refdb_options ro;
	struct compactor c;
	char dir[4096];
	int err, rc = 0;

	memset(&c, 0, sizeof(c));
	c.o = o;
	c.rng = rng_mix(o->seed, (uint64_t)o->index << 32 | (uint32_t)o->instance);
	c.shm = shm_map(o->run_dir, 0);
	if (!c.shm)
		return 2;
	c.me = &c.shm->slots[o->index];
	c.vs.count = &c.me->violations;
	c.vs.max_print = 20;
	refdb_opts_from(&ro, o, "compactor");
	stack_dir(dir, sizeof(dir), o, o->run_dir);
	err = reftable_stack_new(&c.st, dir, &ro.stack);
	if (err) {
		violation(&c.vs, "open %s: %s: %s", dir,
			  reftable_error_str(err), reftable_error_detail());
		rc = 2;
	}
	while (!err && !shm_load_int(&c.shm->stop)) {
		worker_park_if_asked(c.shm, c.me);
		one_step(&c);
		sleep_us((long)rng_below(&c.rng, 20000));
	}
	reftable_stack_destroy(c.st);
	if (!rc && c.vs.printed)
		rc = 1;
	shm_unmap(c.shm);
	return rc;
}
