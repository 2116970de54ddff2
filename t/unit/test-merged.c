/*
 * Merged views over several tables: the newest table wins for equal keys,
 * deletions are suppressed or shown, logs merge by (name, update index
 * newest first), and lookups, seeks and refs_for over the merged view all
 * agree with a brute-force model built here from the tables' records.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define MAX_TABLES 8

/* Tables of a test: their bytes must outlive them. */
struct stackish {
	size_t n;
	struct tl_sink sink[MAX_TABLES];
	struct reftable_table *t[MAX_TABLES];
	struct tl_refs refs[MAX_TABLES]; /* what each table holds */
	struct tl_logs logs[MAX_TABLES];
	enum reftable_hash hash;
};

static void add_table(struct stackish *st,
		      const struct reftable_write_options *o, uint64_t min,
		      uint64_t max, struct tl_refs *refs, struct tl_logs *logs)
{
	size_t i = st->n++;
	char name[64];
	int err;

	ck_assert_uint_lt(i, MAX_TABLES);
	err = tl_write_table(&st->sink[i], o, min, max, refs, logs, NULL);
	ck_assert_msg(err == 0, "table %zu: %s (%s)", i, reftable_error_str(err),
		      reftable_error_detail());
	snprintf(name, sizeof(name), "table-%zu.ref", i);
	st->t[i] = tl_open_buffer(st->sink[i].data, st->sink[i].len, name);
	/* Take over the model records. */
	st->refs[i] = *refs;
	st->logs[i] = *logs;
	memset(refs, 0, sizeof(*refs));
	memset(logs, 0, sizeof(*logs));
}

static void stackish_free(struct stackish *st)
{
	size_t i;
	for (i = 0; i < st->n; i++) {
		if (st->t[i])
			reftable_table_decref(st->t[i]);
		tl_sink_release(&st->sink[i]);
		tl_refs_free(&st->refs[i]);
		tl_logs_free(&st->logs[i]);
	}
	memset(st, 0, sizeof(*st));
}

static struct reftable_merged *merge(struct stackish *st, int suppress)
{
	struct reftable_merged *m = NULL;
	int err = reftable_merged_new(&m, st->t, st->n,
				      st->hash ? st->hash : REFTABLE_HASH_SHA1);

	ck_assert_msg(err == 0, "merged_new: %d (%s)", err,
		      reftable_error_detail());
	reftable_merged_suppress_deletions(m, suppress);
	return m;
}

/* --- the brute-force model ---------------------------------------------- */

/*
 * Concatenate the tables' records newest table first, sort stably by key,
 * keep the first of each key (the newest table's), then drop deletions
 * when suppressing.
 */
struct tagged_ref {
	const struct reftable_ref_record *r;
	size_t age; /* 0: newest table */
};

struct tagged_log {
	const struct reftable_log_record *l;
	size_t age;
};

static int tagged_ref_cmp(const void *a, const void *b)
{
	const struct tagged_ref *x = a, *y = b;
	int c = tl_ref_key_cmp(x->r->refname, y->r->refname);
	if (c)
		return c;
	return (x->age > y->age) - (x->age < y->age);
}

static int tagged_log_cmp(const void *a, const void *b)
{
	const struct tagged_log *x = a, *y = b;
	int c = tl_log_key_cmp(x->l->refname, x->l->update_index, y->l->refname,
			       y->l->update_index);
	if (c)
		return c;
	return (x->age > y->age) - (x->age < y->age);
}

static void model_refs(const struct stackish *st, int suppress,
		       struct tl_refs *out)
{
	size_t total = 0, k = 0, i, j;
	struct tagged_ref *all;

	for (i = 0; i < st->n; i++)
		total += st->refs[i].n;
	all = malloc((total + 1) * sizeof(*all));
	ck_assert_ptr_nonnull(all);
	for (i = 0; i < st->n; i++)
		for (j = 0; j < st->refs[i].n; j++)
			all[k++] = (struct tagged_ref){ &st->refs[i].v[j],
							st->n - 1 - i };
	qsort(all, total, sizeof(*all), tagged_ref_cmp);
	for (i = 0; i < total; i++) {
		if (i && !strcmp(all[i].r->refname, all[i - 1].r->refname))
			continue;
		if (suppress && all[i].r->value_type == REFTABLE_REF_DELETION)
			continue;
		tl_refs_add(out, all[i].r);
	}
	free(all);
}

static void model_logs(const struct stackish *st, int suppress,
		       struct tl_logs *out)
{
	size_t total = 0, k = 0, i, j;
	struct tagged_log *all;

	for (i = 0; i < st->n; i++)
		total += st->logs[i].n;
	all = malloc((total + 1) * sizeof(*all));
	ck_assert_ptr_nonnull(all);
	for (i = 0; i < st->n; i++)
		for (j = 0; j < st->logs[i].n; j++)
			all[k++] = (struct tagged_log){ &st->logs[i].v[j],
							st->n - 1 - i };
	qsort(all, total, sizeof(*all), tagged_log_cmp);
	for (i = 0; i < total; i++) {
		if (i && !strcmp(all[i].l->refname, all[i - 1].l->refname) &&
		    all[i].l->update_index == all[i - 1].l->update_index)
			continue;
		if (suppress && all[i].l->value_type == REFTABLE_LOG_DELETION)
			continue;
		tl_logs_add(out, all[i].l);
	}
	free(all);
}

/* reftable_merged_read_log for every logged name and some absent ones. */
static void check_read_log(struct reftable_merged *m,
			   const struct tl_logs *logs, size_t hs,
			   const char *ctx)
{
	static const char *const absent[] = { "", "HEAD~", "refs/zzz/none" };
	struct reftable_log_record rec = { 0 };
	char msg[512];
	size_t i;
	int err;

	for (i = 0; i < logs->n; i++) {
		if (i && !strcmp(logs->v[i].refname, logs->v[i - 1].refname))
			continue;
		/* The first entry of a name in the model is its newest. */
		snprintf(msg, sizeof(msg), "%s: read_log(%s)", ctx,
			 logs->v[i].refname);
		err = reftable_merged_read_log(m, logs->v[i].refname, &rec);
		TL_CHECK(err == 0, "%s = %d (%s)", msg, err,
			 reftable_error_detail());
		tl_assert_log_eq(&logs->v[i], &rec, hs, msg);
	}
	for (i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		size_t k;
		int present = 0;

		for (k = 0; k < logs->n; k++)
			present |= !strcmp(logs->v[k].refname, absent[i]);
		if (present)
			continue;
		err = reftable_merged_read_log(m, absent[i], &rec);
		TL_CHECK(err == 1, "%s: read_log(\"%s\") = %d, want 1", ctx,
			 absent[i], err);
	}
	reftable_log_record_release(&rec);
}

/* Verify the merged view both ways against the model. */
static void check_merged(struct stackish *st, const char *ctx)
{
	size_t hs = tl_hash_size(st->hash);
	int suppress;

	for (suppress = 0; suppress < 2; suppress++) {
		struct reftable_merged *m = merge(st, suppress);
		struct tl_refs refs = { 0 };
		struct tl_logs logs = { 0 };
		struct tl_source src;
		char msg[256];

		snprintf(msg, sizeof(msg), "%s, deletions %s", ctx,
			 suppress ? "suppressed" : "shown");
		model_refs(st, suppress, &refs);
		model_logs(st, suppress, &logs);
		tl_source_merged(&src, m);
		tl_verify(&src, &refs, &logs, hs, 1, msg);
		check_read_log(m, &logs, hs, msg);
		reftable_merged_free(m);
		tl_refs_free(&refs);
		tl_logs_free(&logs);
	}
}

/* --- a hand-made stack ----------------------------------------------------- */

static struct reftable_ref_record val1(const char *name, uint64_t ui, int id)
{
	struct reftable_ref_record r = { 0 };
	r.refname = (char *)name;
	r.update_index = ui;
	r.value_type = REFTABLE_REF_VAL1;
	memset(r.value, id, sizeof(r.value));
	return r;
}

static struct reftable_ref_record deletion(const char *name, uint64_t ui)
{
	struct reftable_ref_record r = { 0 };
	r.refname = (char *)name;
	r.update_index = ui;
	r.value_type = REFTABLE_REF_DELETION;
	return r;
}

static struct reftable_log_record logrec(const char *name, uint64_t ui,
					 int id, const char *msg)
{
	struct reftable_log_record l = { 0 };
	l.refname = (char *)name;
	l.update_index = ui;
	l.value_type = msg ? REFTABLE_LOG_UPDATE : REFTABLE_LOG_DELETION;
	if (msg) {
		memset(l.new_id, id, sizeof(l.new_id));
		l.name = "N";
		l.email = "e@x";
		l.time = 1000 + ui;
		l.message = (char *)msg;
	}
	return l;
}

/*
 * t0: a=1 b=1 c=1, logs a@1 b@1
 * t1: a=2, b deleted, logs a@2
 * t2: b=3 (again), c deleted, d=3, logs a@1 deleted (expired), b@3
 */
static void hand_stack(struct stackish *st)
{
	struct reftable_write_options o = { 0 };
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct reftable_ref_record r;
	struct reftable_log_record l;

	st->hash = REFTABLE_HASH_SHA1;
	r = val1("refs/heads/a", 1, 1), tl_refs_add(&refs, &r);
	r = val1("refs/heads/b", 1, 1), tl_refs_add(&refs, &r);
	r = val1("refs/heads/c", 1, 1), tl_refs_add(&refs, &r);
	l = logrec("refs/heads/a", 1, 1, "create a"), tl_logs_add(&logs, &l);
	l = logrec("refs/heads/b", 1, 1, "create b"), tl_logs_add(&logs, &l);
	add_table(st, &o, 1, 1, &refs, &logs);

	r = val1("refs/heads/a", 2, 2), tl_refs_add(&refs, &r);
	r = deletion("refs/heads/b", 2), tl_refs_add(&refs, &r);
	l = logrec("refs/heads/a", 2, 2, "move a"), tl_logs_add(&logs, &l);
	add_table(st, &o, 2, 2, &refs, &logs);

	r = val1("refs/heads/b", 3, 3), tl_refs_add(&refs, &r);
	r = deletion("refs/heads/c", 3), tl_refs_add(&refs, &r);
	r = val1("refs/heads/d", 3, 3), tl_refs_add(&refs, &r);
	l = logrec("refs/heads/a", 1, 0, NULL), tl_logs_add(&logs, &l);
	l = logrec("refs/heads/b", 3, 3, "recreate b"), tl_logs_add(&logs, &l);
	add_table(st, &o, 3, 3, &refs, &logs);
}

START_TEST(hand_made)
{
	struct stackish st = { 0 };
	struct reftable_merged *m;
	struct reftable_ref_record rec = { 0 };
	struct reftable_log_record log = { 0 };
	struct reftable_iterator it = { 0 };
	uint8_t oid[20];
	struct tl_refs got = { 0 };
	struct tl_logs gotl = { 0 };

	hand_stack(&st);
	m = merge(&st, 1);
	ck_assert_uint_eq(reftable_merged_table_count(m), 3);
	ck_assert_ptr_eq(reftable_merged_table(m, 0), st.t[0]);
	ck_assert_ptr_eq(reftable_merged_table(m, 2), st.t[2]);
	ck_assert(reftable_merged_min_update_index(m) == 1);
	ck_assert(reftable_merged_max_update_index(m) == 3);
	ck_assert_int_eq(reftable_merged_hash(m), REFTABLE_HASH_SHA1);

	/* Newest wins, deletions hide. */
	ck_assert_int_eq(reftable_merged_read_ref(m, "refs/heads/a", &rec), 0);
	ck_assert_int_eq(rec.value[0], 2);
	ck_assert(rec.update_index == 2);
	ck_assert_int_eq(reftable_merged_read_ref(m, "refs/heads/b", &rec), 0);
	ck_assert_int_eq(rec.value[0], 3);
	ck_assert_int_eq(reftable_merged_read_ref(m, "refs/heads/c", &rec), 1);
	ck_assert_int_eq(reftable_merged_read_ref(m, "refs/heads/d", &rec), 0);

	ck_assert_int_eq(reftable_merged_init_ref_iterator(m, &it), 0);
	ck_assert_int_eq(reftable_iterator_seek_ref(&it, ""), 0);
	ck_assert_int_eq(tl_read_all_refs(&it, &got), 1);
	reftable_iterator_destroy(&it);
	ck_assert_uint_eq(got.n, 3);
	ck_assert_str_eq(got.v[0].refname, "refs/heads/a");
	ck_assert_str_eq(got.v[1].refname, "refs/heads/b");
	ck_assert_str_eq(got.v[2].refname, "refs/heads/d");
	tl_refs_free(&got);

	/* The old value of a is gone from refs_for; the new one is found. */
	memset(oid, 1, sizeof(oid));
	ck_assert_int_eq(reftable_merged_refs_for(m, oid, &it), 0);
	ck_assert_int_eq(tl_read_all_refs(&it, &got), 1);
	reftable_iterator_destroy(&it);
	ck_assert_uint_eq(got.n, 0);
	memset(oid, 3, sizeof(oid));
	ck_assert_int_eq(reftable_merged_refs_for(m, oid, &it), 0);
	ck_assert_int_eq(tl_read_all_refs(&it, &got), 1);
	reftable_iterator_destroy(&it);
	ck_assert_uint_eq(got.n, 2);
	ck_assert_str_eq(got.v[0].refname, "refs/heads/b");
	ck_assert_str_eq(got.v[1].refname, "refs/heads/d");
	tl_refs_free(&got);

	/* Logs: a@2, (a@1 deleted), b@3, b@1. */
	ck_assert_int_eq(reftable_merged_init_log_iterator(m, &it), 0);
	ck_assert_int_eq(reftable_iterator_seek_log(&it, ""), 0);
	ck_assert_int_eq(tl_read_all_logs(&it, &gotl), 1);
	reftable_iterator_destroy(&it);
	ck_assert_uint_eq(gotl.n, 3);
	ck_assert_str_eq(gotl.v[0].message, "move a");
	ck_assert_str_eq(gotl.v[1].message, "recreate b");
	ck_assert_str_eq(gotl.v[2].message, "create b");
	tl_logs_free(&gotl);
	ck_assert_int_eq(reftable_merged_read_log(m, "refs/heads/b", &log), 0);
	ck_assert_str_eq(log.message, "recreate b");
	reftable_merged_free(m);

	/* Deletions shown: c and a@1 appear as deletion records. */
	m = merge(&st, 0);
	ck_assert_int_eq(reftable_merged_read_ref(m, "refs/heads/c", &rec), 0);
	ck_assert_int_eq(rec.value_type, REFTABLE_REF_DELETION);
	ck_assert(rec.update_index == 3);
	ck_assert_int_eq(reftable_merged_init_log_iterator(m, &it), 0);
	ck_assert_int_eq(reftable_iterator_seek_log_at(&it, "refs/heads/a", 1), 0);
	ck_assert_int_eq(reftable_iterator_next_log(&it, &log), 0);
	ck_assert_int_eq(log.value_type, REFTABLE_LOG_DELETION);
	ck_assert(log.update_index == 1);
	reftable_iterator_destroy(&it);
	reftable_merged_free(m);

	check_merged(&st, "hand-made stack");
	reftable_ref_record_release(&rec);
	reftable_log_record_release(&log);
	stackish_free(&st);
}
END_TEST

/* Iterators and the merged view keep their tables alive. */
START_TEST(lifetimes)
{
	struct stackish st = { 0 };
	struct reftable_merged *m;
	struct reftable_iterator it = { 0 }, lit = { 0 };
	struct tl_refs got = { 0 };
	struct tl_logs gotl = { 0 };
	size_t i;

	hand_stack(&st);
	m = merge(&st, 1);
	ck_assert_int_eq(reftable_merged_init_ref_iterator(m, &it), 0);
	ck_assert_int_eq(reftable_merged_init_log_iterator(m, &lit), 0);
	/* Drop our table references and the merged view: the iterators
	 * must still work (the sanitizer build checks the memory). */
	for (i = 0; i < st.n; i++) {
		reftable_table_decref(st.t[i]);
		st.t[i] = NULL;
	}
	reftable_merged_free(m);
	ck_assert_int_eq(reftable_iterator_seek_ref(&it, "refs/heads/b"), 0);
	ck_assert_int_eq(tl_read_all_refs(&it, &got), 1);
	ck_assert_uint_eq(got.n, 2);
	ck_assert_int_eq(reftable_iterator_seek_log(&lit, ""), 0);
	ck_assert_int_eq(tl_read_all_logs(&lit, &gotl), 1);
	ck_assert_uint_eq(gotl.n, 3);
	reftable_iterator_destroy(&it);
	reftable_iterator_destroy(&lit);
	reftable_iterator_destroy(&it); /* twice is harmless */
	tl_refs_free(&got);
	tl_logs_free(&gotl);
	stackish_free(&st);
}
END_TEST

START_TEST(no_tables)
{
	struct reftable_merged *m = NULL;
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record rec = { 0 };
	struct reftable_log_record log = { 0 };
	uint8_t oid[20] = { 0 };

	ck_assert_int_eq(reftable_merged_new(&m, NULL, 0, REFTABLE_HASH_SHA1), 0);
	ck_assert_uint_eq(reftable_merged_table_count(m), 0);
	ck_assert_int_eq(reftable_merged_init_ref_iterator(m, &it), 0);
	ck_assert_int_eq(reftable_iterator_seek_ref(&it, ""), 0);
	ck_assert_int_eq(reftable_iterator_next_ref(&it, &rec), 1);
	reftable_iterator_destroy(&it);
	ck_assert_int_eq(reftable_merged_init_log_iterator(m, &it), 0);
	ck_assert_int_eq(reftable_iterator_seek_log(&it, ""), 0);
	ck_assert_int_eq(reftable_iterator_next_log(&it, &log), 1);
	reftable_iterator_destroy(&it);
	ck_assert_int_eq(reftable_merged_read_ref(m, "HEAD", &rec), 1);
	ck_assert_int_eq(reftable_merged_read_log(m, "HEAD", &log), 1);
	ck_assert_int_eq(reftable_merged_refs_for(m, oid, &it), 0);
	ck_assert_int_eq(reftable_iterator_next_ref(&it, &rec), 1);
	reftable_iterator_destroy(&it);
	reftable_merged_free(m);
	reftable_merged_free(NULL);
}
END_TEST

START_TEST(hash_mismatch)
{
	struct stackish st = { 0 };
	struct reftable_write_options o = { 0 };
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct reftable_ref_record r = val1("refs/heads/x", 1, 7);
	struct reftable_merged *m = NULL;

	tl_refs_add(&refs, &r);
	add_table(&st, &o, 1, 1, &refs, &logs);
	o.hash_id = REFTABLE_HASH_SHA256;
	tl_refs_add(&refs, &r);
	add_table(&st, &o, 1, 1, &refs, &logs);
	ck_assert_int_lt(reftable_merged_new(&m, st.t, 2, REFTABLE_HASH_SHA1), 0);
	ck_assert_int_lt(reftable_merged_new(&m, st.t + 1, 1, REFTABLE_HASH_SHA1),
			 0);
	ck_assert_int_eq(reftable_merged_new(&m, st.t + 1, 1,
					     REFTABLE_HASH_SHA256), 0);
	reftable_merged_free(m);
	stackish_free(&st);
}
END_TEST

/* --- random stacks ---------------------------------------------------------- */

/*
 * Random tables over one pool of names, oldest first, each with its own
 * layout. Newer tables update, delete and recreate refs of older ones and
 * rewrite or delete older log entries (as reflog expiry does).
 */
static void random_stack(struct stackish *st, uint64_t seed)
{
	struct tl_rng r;
	size_t npool = 120, i, k, ntables;
	char **pool;
	uint8_t oids[40][REFTABLE_HASH_SIZE_MAX];
	size_t hs;
	char target[64];

	tl_rng_init(&r, seed);
	st->hash = tl_rng_below(&r, 3) ? REFTABLE_HASH_SHA1 : REFTABLE_HASH_SHA256;
	hs = tl_hash_size(st->hash);
	ntables = 1 + tl_rng_below(&r, 6);
	pool = calloc(npool, sizeof(*pool));
	ck_assert_ptr_nonnull(pool);
	for (i = 0; i < npool; i++) {
		pool[i] = malloc(48);
		ck_assert_ptr_nonnull(pool[i]);
		tl_random_refname(&r, pool[i], 40);
	}
	for (i = 0; i < 40; i++)
		tl_rng_bytes(&r, oids[i], sizeof(oids[i]));

	for (k = 0; k < ntables; k++) {
		struct reftable_write_options o = { 0 };
		struct tl_refs refs = { 0 };
		struct tl_logs logs = { 0 };
		uint64_t min = k * 100 + 1, max = k * 100 + 100;
		size_t nrefs = tl_rng_below(&r, 80), nlogs = tl_rng_below(&r, 60);

		o.hash_id = st->hash;
		o.block_size = tl_rng_below(&r, 2) ? 256 : 4096;
		o.restart_interval = (uint16_t)(1 + tl_rng_below(&r, 20));
		o.unpadded = (int)tl_rng_below(&r, 2);
		o.skip_index_objects = (int)tl_rng_below(&r, 2);
		for (i = 0; i < nrefs; i++) {
			struct reftable_ref_record ref = { 0 };
			uint64_t kind = tl_rng_below(&r, 8);

			ref.refname = pool[tl_rng_below(&r, npool)];
			ref.update_index = min + tl_rng_below(&r, 100);
			if (kind < 2) {
				ref.value_type = REFTABLE_REF_DELETION;
			} else if (kind < 6) {
				ref.value_type = REFTABLE_REF_VAL1;
				memcpy(ref.value, oids[tl_rng_below(&r, 40)], hs);
			} else if (kind < 7) {
				ref.value_type = REFTABLE_REF_VAL2;
				memcpy(ref.value, oids[tl_rng_below(&r, 40)], hs);
				memcpy(ref.peeled, oids[tl_rng_below(&r, 40)], hs);
			} else {
				ref.value_type = REFTABLE_REF_SYMREF;
				snprintf(target, sizeof(target), "%s",
					 pool[tl_rng_below(&r, npool)]);
				ref.target = target;
			}
			tl_refs_add(&refs, &ref);
		}
		for (i = 0; i < nlogs; i++) {
			struct reftable_log_record log = { 0 };
			char msg[64];

			log.refname = pool[tl_rng_below(&r, npool / 4)];
			/* Mostly this table's range; sometimes an older
			 * entry rewritten or deleted. */
			if (k > 0 && tl_rng_below(&r, 4) == 0)
				log.update_index = 1 + tl_rng_below(&r, min - 1);
			else
				log.update_index = min + tl_rng_below(&r, 100);
			if (tl_rng_below(&r, 5) == 0) {
				log.value_type = REFTABLE_LOG_DELETION;
			} else {
				log.value_type = REFTABLE_LOG_UPDATE;
				memcpy(log.old_id, oids[tl_rng_below(&r, 40)], hs);
				memcpy(log.new_id, oids[tl_rng_below(&r, 40)], hs);
				log.name = "A U Thor";
				log.email = "a@example.com";
				log.time = 1700000000 + log.update_index;
				log.tz_offset = (int16_t)(tl_rng_below(&r, 2400) - 1200);
				snprintf(msg, sizeof(msg), "table %zu entry %zu", k, i);
				log.message = msg;
			}
			tl_logs_add(&logs, &log);
		}
		/* Sorted, one record per key within a table. */
		tl_refs_sort(&refs);
		tl_logs_sort(&logs);
		for (i = 1; i < refs.n; i++)
			if (!strcmp(refs.v[i].refname, refs.v[i - 1].refname)) {
				tl_ref_clear(&refs.v[i]);
				memmove(refs.v + i, refs.v + i + 1,
					(refs.n - i - 1) * sizeof(*refs.v));
				refs.n--, i--;
			}
		for (i = 1; i < logs.n; i++)
			if (!strcmp(logs.v[i].refname, logs.v[i - 1].refname) &&
			    logs.v[i].update_index == logs.v[i - 1].update_index) {
				tl_log_clear(&logs.v[i]);
				memmove(logs.v + i, logs.v + i + 1,
					(logs.n - i - 1) * sizeof(*logs.v));
				logs.n--, i--;
			}
		add_table(st, &o, min, max, &refs, &logs);
	}
	for (i = 0; i < npool; i++)
		free(pool[i]);
	free(pool);
}

START_TEST(random_stacks)
{
	struct stackish st = { 0 };
	struct reftable_merged *m;
	char ctx[64];

	random_stack(&st, 0x5eed0000 + (uint64_t)_i);
	snprintf(ctx, sizeof(ctx), "random stack %d (%zu tables)", _i, st.n);
	m = merge(&st, 0);
	ck_assert(reftable_merged_min_update_index(m) == 1);
	ck_assert(reftable_merged_max_update_index(m) == st.n * 100);
	reftable_merged_free(m);
	check_merged(&st, ctx);
	stackish_free(&st);
}
END_TEST

/* One table merged is the table itself (deletions shown). */
START_TEST(single_table)
{
	struct stackish st = { 0 };
	struct reftable_write_options o = { 0 };
	struct tl_gen_opts g = { 0 };
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct tl_rng r;

	g.nrefs = 500;
	g.nlogs = 300;
	g.hash_size = 20;
	g.min = 1;
	g.max = 50;
	g.max_name = 50;
	g.max_message = 60;
	g.with_deletions = 1;
	g.oid_pool = 100;
	tl_rng_init(&r, 1);
	tl_gen_model(&r, &g, &refs, &logs);
	st.hash = REFTABLE_HASH_SHA1;
	add_table(&st, &o, 1, 50, &refs, &logs);
	check_merged(&st, "single table");
	stackish_free(&st);
}
END_TEST

/* A ref iterator hands out no logs and a log iterator no refs, whether
 * the view merges several tables or has one (which steps another way). */
static void check_wrong_type(struct reftable_merged *m, const char *ctx)
{
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record rec = { 0 };
	struct reftable_log_record log = { 0 };

	ck_assert_int_eq(reftable_merged_init_ref_iterator(m, &it), 0);
	ck_assert_int_eq(reftable_iterator_seek_ref(&it, ""), 0);
	ck_assert_msg(reftable_iterator_next_log(&it, &log) ==
			      REFTABLE_API_ERROR, "%s: log from refs", ctx);
	ck_assert_msg(reftable_iterator_next_ref(&it, &rec) == 0,
		      "%s: refs after the refused call", ctx);
	reftable_iterator_destroy(&it);

	ck_assert_int_eq(reftable_merged_init_log_iterator(m, &it), 0);
	ck_assert_int_eq(reftable_iterator_seek_log(&it, ""), 0);
	ck_assert_msg(reftable_iterator_next_ref(&it, &rec) ==
			      REFTABLE_API_ERROR, "%s: ref from logs", ctx);
	ck_assert_msg(reftable_iterator_next_log(&it, &log) == 0,
		      "%s: logs after the refused call", ctx);
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&rec);
	reftable_log_record_release(&log);
}

START_TEST(wrong_record_type)
{
	struct stackish st = { 0 };
	struct reftable_merged *m;

	hand_stack(&st);
	m = merge(&st, 1);
	check_wrong_type(m, "three tables");
	reftable_merged_free(m);
	st.n = 1; /* the first table alone */
	m = merge(&st, 1);
	check_wrong_type(m, "one table");
	reftable_merged_free(m);
	st.n = 3;
	stackish_free(&st);
}
END_TEST

static Suite *merged_suite(void)
{
	Suite *s = suite_create("merged");
	TCase *tc = tcase_create("merged");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, hand_made);
	tcase_add_test(tc, lifetimes);
	tcase_add_test(tc, no_tables);
	tcase_add_test(tc, hash_mismatch);
	tcase_add_test(tc, single_table);
	tcase_add_test(tc, wrong_record_type);
	tcase_add_loop_test(tc, random_stacks, 0, 40);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(merged_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
