/*
 * A reader: reload, then check the loaded snapshot, over and over.
 *
 * Within one snapshot: values well formed, pairs not split, the reflog
 * of one counter (chosen at random) consistent with its value. Across
 * this reader's successive snapshots: no counter goes backwards or
 * vanishes, update indexes only grow. Against the writers: a reload that
 * began after a writer acknowledged a value sees at least that value
 * (freshness: a stale "up to date" answer is caught here). Every read
 * must succeed.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reftable-error.h"
#include "reftable-merged.h"
#include "stress.h"

struct reader {
	const struct stress_opts *o;
	struct layout l;
	struct shm *shm;
	struct slot *me;
	struct reftable_refdb *db;
	uint64_t rng;
	struct seen *prev, *cur;
	uint64_t *acked_before; /* acked_n[] as read before the reload */
	uint64_t prev_max_ui;
	int have_prev;
	struct violation_sink vs;
};

static void counter_name(const struct reader *r, int c, char *buf, size_t cap)
{
	counter_refname(&r->l, c, -1, buf, cap);
}

/*
 * A snapshot that misses acknowledged update indexes lags them by the
 * time from the oldest such acknowledgement to the reload's start. On
 * mounts that cache attributes (--mounts) a lag up to --stale-bound is
 * what the filesystem promises, not a violation: it is counted and its
 * maximum kept. 1 if the lag is excused.
 */
static int stale_excused(struct reader *r, uint64_t acked_ui, uint64_t max_ui,
			 uint64_t start_us)
{
	uint64_t oldest, lag;

	if (max_ui >= acked_ui || r->o->stale_bound <= 0)
		return 0;
	oldest = ack_time_oldest(r->shm, max_ui, acked_ui);
	lag = oldest && start_us > oldest ? start_us - oldest : 0;
	shm_max(&r->me->max_stale_us, lag);
	if ((double)lag > r->o->stale_bound * 1e6) {
		violation(&r->vs, "reload lagged an acknowledgement by %.3f s, "
				  "beyond --stale-bound %.3f s",
			  (double)lag / 1e6, r->o->stale_bound);
		return 0;
	}
	shm_add(&r->me->stale_reloads, 1);
	return 1;
}

/* This snapshot against the previous one and the acknowledged values. */
static void compare_snapshots(struct reader *r, uint64_t acked_ui,
			      uint64_t max_ui, int excused)
{
	char name[256];
	int c;

	if (max_ui < r->prev_max_ui)
		violation(&r->vs, "stack update index went back from %llu to "
				  "%llu",
			  (unsigned long long)r->prev_max_ui,
			  (unsigned long long)max_ui);
	if (max_ui < acked_ui && !excused)
		violation(&r->vs, "reload missed acknowledged update index "
				  "%llu (stack at %llu): stale snapshot",
			  (unsigned long long)acked_ui,
			  (unsigned long long)max_ui);
	for (c = 0; c < r->l.n; c++) {
		const struct seen *p = &r->prev[c], *s = &r->cur[c];
		uint64_t n = s->present ? s->v.n : 0;

		if (n < r->acked_before[c] && !excused) {
			counter_name(r, c, name, sizeof(name));
			violation(&r->vs, "%s: at n=%llu after a reload, but "
					  "n=%llu was acknowledged before it",
				  name, (unsigned long long)n,
				  (unsigned long long)r->acked_before[c]);
		}
		if (!r->have_prev || !p->present)
			continue;
		counter_name(r, c, name, sizeof(name));
		if (!s->present) {
			violation(&r->vs, "%s: vanished (was n=%llu)", name,
				  (unsigned long long)p->v.n);
		} else if (s->v.n < p->v.n) {
			violation(&r->vs, "%s: went back from n=%llu to n=%llu",
				  name, (unsigned long long)p->v.n,
				  (unsigned long long)s->v.n);
		} else if (s->v.n == p->v.n &&
			   (memcmp(s->oid, p->oid, STRESS_OID_LEN) ||
			    s->update_index != p->update_index)) {
			violation(&r->vs, "%s: n=%llu changed its value or "
					  "update index",
				  name, (unsigned long long)s->v.n);
		} else if (s->v.n > p->v.n &&
			   s->update_index <= p->update_index) {
			violation(&r->vs, "%s: moved up but its update index "
					  "did not (%llu after %llu)",
				  name, (unsigned long long)s->update_index,
				  (unsigned long long)p->update_index);
		}
	}
}

static void check_one_reflog(struct reader *r)
{
	int c = (int)rng_below(&r->rng, (uint64_t)r->l.n);

	reflog_check(reftable_refdb_stack(r->db), &r->l, c, &r->cur[c],
		     &r->vs, NULL, NULL);
}

static void one_round(struct reader *r)
{
	struct reftable_stack *st;
	uint64_t acked_ui, max_ui, tables, start_us;
	struct seen *tmp;
	int c, err, excused;

	/* What the writers had acknowledged before the reload began. */
	start_us = now_us();
	for (c = 0; c < r->l.n; c++)
		r->acked_before[c] = shm_load(&r->shm->acked_n[c]);
	acked_ui = shm_load(&r->shm->acked_max_ui);

	err = reftable_refdb_reload(r->db);
	shm_add(&r->me->reloads, 1);
	if (err < 0) {
		violation(&r->vs, "reload failed: %s: %s",
			  reftable_error_str(err), reftable_error_detail());
		return;
	}
	st = reftable_refdb_stack(r->db);
	tables = reftable_merged_table_count(reftable_stack_merged(st));
	shm_max(&r->me->max_tables, tables);
	max_ui = reftable_stack_next_update_index(st) - 1;
	if (snapshot_read(st, &r->l, r->cur, &r->vs) < 0)
		return;
	excused = stale_excused(r, acked_ui, max_ui, start_us);
	compare_snapshots(r, acked_ui, max_ui, excused);
	check_one_reflog(r);
	shm_add(&r->me->snapshots, 1);

	tmp = r->prev;
	r->prev = r->cur;
	r->cur = tmp;
	r->prev_max_ui = max_ui;
	r->have_prev = 1;
}

int run_reader(const struct stress_opts *o)
{
	struct reftable_refdb_options ro;
	struct reader r;
	char dir[4096], who[64];
	int err, rc = 0;

	memset(&r, 0, sizeof(r));
	r.o = o;
	layout_init(&r.l, o);
	r.rng = rng_mix(o->seed, (uint64_t)o->index << 32 | (uint32_t)o->instance);
	r.shm = shm_map(o->run_dir, 0);
	if (!r.shm)
		return 2;
	r.me = &r.shm->slots[o->index];
	r.vs.count = &r.me->violations;
	r.vs.max_print = 20;
	r.prev = calloc((size_t)r.l.n, sizeof(*r.prev));
	r.cur = calloc((size_t)r.l.n, sizeof(*r.cur));
	r.acked_before = calloc((size_t)r.l.n, sizeof(*r.acked_before));
	snprintf(who, sizeof(who), "r%d", o->index);
	refdb_opts_from(&ro, o, who);
	stack_dir(dir, sizeof(dir), o, o->run_dir);
	err = reftable_refdb_open(&r.db, dir, &ro);
	if (err) {
		violation(&r.vs, "open %s: %s: %s", dir,
			  reftable_error_str(err), reftable_error_detail());
		rc = 2;
	}
	while (!err && r.prev && r.cur && r.acked_before &&
	       !shm_load_int(&r.shm->stop)) {
		one_round(&r);
		sleep_us(o->reader_sleep_us);
	}
	reftable_refdb_close(r.db);
	free(r.prev);
	free(r.cur);
	free(r.acked_before);
	if (!rc && r.vs.printed)
		rc = 1;
	shm_unmap(r.shm);
	return rc;
}
