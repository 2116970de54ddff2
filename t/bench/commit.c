/* Writing the workload's refs through one addition of the public stack API. */

#include <string.h>

#include "bench.h"

void open_stack(struct bench *b, struct reftable_stack **st)
{
	int err = reftable_stack_new(st, b->dir, &b->opts);

	if (err)
		die("open stack", err);
}

/* The ref record of workload ref r, pointing into the workload. */
static void fill_ref(const struct bench *b, const struct bench_ref *r,
		     uint64_t update_index, struct reftable_ref_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->refname = (char *)r->name;
	rec->update_index = update_index;
	memcpy(rec->value, r->id, BENCH_OID_LEN);
	if (r->peeled) {
		rec->value_type = REFTABLE_REF_VAL2;
		memcpy(rec->peeled, b->w.peeled[r->peeled - 1], BENCH_OID_LEN);
	} else {
		rec->value_type = REFTABLE_REF_VAL1;
	}
}

static int write_txn(struct reftable_writer *w, void *arg)
{
	struct txn_arg *a = arg;
	struct bench *b = a->b;
	struct reftable_ref_record ref;
	struct reftable_log_record log;
	size_t i;
	int err;

	if (a->all) {
		for (i = 0; i < b->w.n; i++) {
			fill_ref(b, &b->w.refs[i], a->update_index, &ref);
			err = reftable_writer_add_ref(w, &ref);
			if (err)
				return err;
		}
		return 0;
	}
	fill_ref(b, &b->w.refs[a->k], a->update_index, &ref);
	err = reftable_writer_add_ref(w, &ref);
	if (err)
		return err;
	memset(&log, 0, sizeof(log));
	log.refname = (char *)b->w.refs[a->k].name;
	log.update_index = a->update_index;
	log.value_type = REFTABLE_LOG_UPDATE;
	memcpy(log.old_id, a->old_id, BENCH_OID_LEN);
	memcpy(log.new_id, b->w.refs[a->k].id, BENCH_OID_LEN);
	log.name = "Bench";
	log.email = "bench@example.com";
	log.time = a->time;
	log.tz_offset = 0;
	log.message = "update\n";
	return reftable_writer_add_log(w, &log);
}

void commit(struct reftable_stack *st, struct txn_arg *a)
{
	struct reftable_addition *add = NULL;
	int err;

	err = reftable_stack_new_addition(&add, st, REFTABLE_ADDITION_RELOAD);
	if (err)
		die("new addition", err);
	a->update_index = reftable_addition_update_index(add);
	err = reftable_addition_add(add, write_txn, a);
	if (!err)
		err = reftable_addition_commit(add);
	reftable_addition_destroy(add);
	if (err)
		die("commit", err);
}

/*
 * Draw k and a new id as the SPEC's phases 6 and 8 do, update the
 * workload (a tag becomes a plain ref) and commit it through st.
 */
size_t update_one(struct bench *b, struct reftable_stack *st,
			 uint64_t time)
{
	struct txn_arg a;
	struct bench_ref *r;

	memset(&a, 0, sizeof(a));
	a.b = b;
	a.k = (size_t)(splitmix64_next(&b->rng) % b->w.n);
	a.time = time;
	r = &b->w.refs[a.k];
	memcpy(a.old_id, r->id, BENCH_OID_LEN);
	workload_draw_oid(&b->rng, r->id);
	r->peeled = 0;
	commit(st, &a);
	return a.k;
}
