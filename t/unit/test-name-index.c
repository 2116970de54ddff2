/*
 * The hash index of frequent lookups (reftable/name_index.c): a table
 * builds it only when it is large and looked up often, and lookups through
 * it answer exactly what the block directory answers, for names present
 * and absent, under forced hash collisions, with several threads racing
 * to build it, and on a table whose blocks are damaged.
 */

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "name_index.h"
#include "table.h"
#include "testlib.h"

/* A table in memory with its model. */
struct fixture {
	struct tl_sink sink;
	struct tl_refs refs;
	struct reftable_table *t;
	size_t hash_size;
};

/* f's refs and logs as one table of update indexes 1 to max_ui, opened
 * from memory. */
static void fixture_write(struct fixture *f,
			  const struct reftable_write_options *wo,
			  uint64_t max_ui, struct tl_logs *logs,
			  const char *file)
{
	int err = tl_write_table(&f->sink, wo, 1, max_ui, &f->refs, logs,
				 NULL);

	ck_assert_msg(err == 0, "write: %s", reftable_error_str(err));
	f->t = tl_open_buffer(f->sink.data, f->sink.len, file);
}

static void fixture_make(struct fixture *f, size_t nrefs, size_t max_name,
			 const struct reftable_write_options *wo, uint64_t seed)
{
	struct tl_gen_opts o = { 0 };
	struct tl_logs logs = { 0 };
	struct tl_rng r;

	memset(f, 0, sizeof(*f));
	f->hash_size = wo->hash_id == REFTABLE_HASH_SHA256 ? 32 : 20;
	o.nrefs = nrefs;
	o.hash_size = f->hash_size;
	o.min = 1;
	o.max = 9;
	o.max_name = max_name;
	o.with_deletions = 1;
	tl_rng_init(&r, seed);
	tl_gen_model(&r, &o, &f->refs, &logs);
	fixture_write(f, wo, 9, &logs, "indexed.ref");
	tl_logs_free(&logs);
}

/* A table of refs with these names (sorted here), each an id of its own:
 * its position in names, plus one. */
static void fixture_of_names(struct fixture *f, char *const *names,
			     size_t n, const char *file)
{
	struct reftable_write_options wo = { 0 };
	struct tl_logs logs = { 0 };
	size_t i;

	memset(f, 0, sizeof(*f));
	f->hash_size = 20;
	for (i = 0; i < n; i++) {
		struct reftable_ref_record r = { 0 };
		size_t id = i + 1;

		r.refname = names[i];
		r.update_index = 1;
		r.value_type = REFTABLE_REF_VAL1;
		memcpy(r.value, &id, sizeof(id));
		tl_refs_add(&f->refs, &r);
	}
	tl_refs_sort(&f->refs);
	fixture_write(f, &wo, 1, &logs, file);
}

static void fixture_free(struct fixture *f)
{
	reftable_table_decref(f->t);
	tl_sink_release(&f->sink);
	tl_refs_free(&f->refs);
}

static int indexed(struct reftable_table *t)
{
	return atomic_load(&t->name_index) != NULL;
}

/* Look every name up once: enough to pass the build threshold. */
static void read_every_name(struct fixture *f)
{
	struct reftable_ref_record got = { 0 };
	size_t i;

	for (i = 0; i < f->refs.n; i++) {
		int err = reftable_table_read_ref(f->t, f->refs.v[i].refname,
						  &got);
		TL_CHECK(err == 0, "read %s: %d", f->refs.v[i].refname, err);
	}
	reftable_ref_record_release(&got);
}

static int in_model(const struct fixture *f, const char *name)
{
	size_t lo = 0, hi = f->refs.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = tl_ref_key_cmp(f->refs.v[mid].refname, name);

		if (!c)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* A name one step away from name: longer, shorter, or one byte changed. */
static void near_name(char *out, size_t cap, const char *name, int how)
{
	size_t len = strlen(name);

	snprintf(out, cap, "%s", name);
	if (how == 0 && len + 1 < cap) {
		out[len] = 'x';
		out[len + 1] = '\0';
	} else if (how == 1 && len > 1) {
		out[len - 1] = '\0';
	} else if (len) {
		out[len - 1] = (char)(out[len - 1] == 'z' ? 'a' : 'z');
	}
}

/* Every name found with its record; its near names as the model says. */
static void check_lookups(struct fixture *f, const char *ctx)
{
	struct reftable_ref_record got = { 0 };
	char near[2 * NAME_INDEX_NAME_MAX + 2];
	size_t i;
	int how, err;

	for (i = 0; i < f->refs.n; i++) {
		const struct reftable_ref_record *want = &f->refs.v[i];

		err = reftable_table_read_ref(f->t, want->refname, &got);
		TL_CHECK(err == 0, "%s: read %s: %d", ctx, want->refname, err);
		tl_assert_ref_eq(want, &got, f->hash_size, ctx);
		for (how = 0; how < 3; how++) {
			near_name(near, sizeof(near), want->refname, how);
			err = reftable_table_read_ref(f->t, near, &got);
			TL_CHECK(err == (in_model(f, near) ? 0 : 1),
				 "%s: read %s: %d", ctx, near, err);
		}
	}
	err = reftable_table_read_ref(f->t, "", &got);
	TL_CHECK(err == 1, "%s: read \"\": %d", ctx, err);
	err = reftable_table_read_ref(f->t, "\xff\xff", &got);
	TL_CHECK(err == 1, "%s: read \\xff\\xff: %d", ctx, err);
	reftable_ref_record_release(&got);
}

/*
 * Every every-th name with one byte changed, at each place in turn: each
 * byte of a key comes from one record of its run (the record itself, a
 * link, or the start), so a lookup that left any of them unchecked would
 * find a name one byte away. With colliding hashes every record a probe
 * passes is checked against such names.
 */
static void check_changed_bytes(struct fixture *f, size_t every,
				const char *ctx)
{
	struct reftable_ref_record got = { 0 };
	char name[2 * NAME_INDEX_NAME_MAX + 2];
	size_t i, j;

	for (i = 0; i < f->refs.n; i += every) {
		size_t len = strlen(f->refs.v[i].refname);

		if (len >= sizeof(name))
			continue;
		for (j = 0; j < len; j++) {
			int err;

			memcpy(name, f->refs.v[i].refname, len + 1);
			name[j] = (char)(name[j] ^ (name[j] == 1 ? 2 : 1));
			err = reftable_table_read_ref(f->t, name, &got);
			TL_CHECK(err == (in_model(f, name) ? 0 : 1),
				 "%s: read %s (byte %zu of %s changed): %d",
				 ctx, name, j, f->refs.v[i].refname, err);
		}
	}
	reftable_ref_record_release(&got);
}

static void index_stats(struct reftable_table *t, struct name_index_stats *st)
{
	const struct name_index *ix = atomic_load(&t->name_index);

	ck_assert_ptr_nonnull(ix);
	name_index_get_stats(ix, st);
}

START_TEST(large_table_builds_index_after_enough_lookups)
{
	struct reftable_write_options wo = { 0 };
	struct reftable_ref_record got = { 0 };
	struct fixture f;

	fixture_make(&f, 6000, 60, &wo, 1);
	ck_assert(!indexed(f.t));
	/* One lookup is not enough to pay for an index. */
	ck_assert_int_eq(reftable_table_read_ref(f.t, f.refs.v[7].refname,
						 &got), 0);
	ck_assert(!indexed(f.t));
	read_every_name(&f);
	ck_assert(indexed(f.t));
	check_lookups(&f, "sha1 4096");
	reftable_ref_record_release(&got);
	fixture_free(&f);
}
END_TEST

START_TEST(small_or_disabled_tables_build_none)
{
	struct reftable_write_options wo = { 0 };
	struct fixture f;

	fixture_make(&f, 300, 40, &wo, 2); /* well under 64 KiB of refs */
	read_every_name(&f);
	read_every_name(&f);
	ck_assert(!indexed(f.t));
	fixture_free(&f);

	fixture_make(&f, 6000, 60, &wo, 3);
	reftable_table_set_lookup_index(f.t, 0);
	read_every_name(&f);
	read_every_name(&f);
	ck_assert(!indexed(f.t));
	check_lookups(&f, "disabled");
	fixture_free(&f);
}
END_TEST

/*
 * Turning the index off after it was built keeps lookups to the block
 * directory. Seen through the hash: with a different mask than at build
 * time, lookups through the index would find nothing.
 */
START_TEST(disabling_after_build_stops_using_index)
{
	struct reftable_write_options wo = { 0 };
	struct reftable_ref_record got = { 0 };
	struct fixture f;

	fixture_make(&f, 6000, 60, &wo, 4);
	read_every_name(&f);
	ck_assert(indexed(f.t));
	name_index_hash_mask = 0;
	ck_assert_int_eq(reftable_table_read_ref(f.t, f.refs.v[9].refname,
						 &got), 1);
	reftable_table_set_lookup_index(f.t, 0);
	ck_assert_int_eq(reftable_table_read_ref(f.t, f.refs.v[9].refname,
						 &got), 0);
	check_lookups(&f, "disabled after build");
	/* And back on: the index built before serves again. */
	reftable_table_set_lookup_index(f.t, 1);
	ck_assert_int_eq(reftable_table_read_ref(f.t, f.refs.v[9].refname,
						 &got), 1);
	name_index_hash_mask = UINT64_MAX;
	check_lookups(&f, "enabled again");
	reftable_ref_record_release(&got);
	fixture_free(&f);
}
END_TEST

/* Layouts change the slot's fields: block size, restarts, hash, padding. */
START_TEST(index_matches_model_over_layouts)
{
	static const struct {
		uint32_t block_size;
		uint16_t restart;
		int sha256, unpadded;
	} layouts[] = {
		{ 256, 16, 0, 0 },   { 1000, 1, 0, 1 },    { 4096, 64, 1, 0 },
		{ 65536, 16, 0, 1 }, { 65536, 65535, 1, 0 }, { 4097, 3, 0, 0 },
		{ 16777215, 16, 0, 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		struct reftable_write_options wo = { 0 };
		struct name_index_stats st;
		struct fixture f;
		char ctx[64];

		wo.block_size = layouts[i].block_size;
		wo.restart_interval = layouts[i].restart;
		wo.hash_id = layouts[i].sha256 ? REFTABLE_HASH_SHA256 :
						 REFTABLE_HASH_SHA1;
		wo.unpadded = layouts[i].unpadded;
		snprintf(ctx, sizeof(ctx), "layout %zu", i);
		fixture_make(&f, 5000, 100, &wo, 10 + i);
		read_every_name(&f);
		ck_assert_msg(indexed(f.t), "%s: no index", ctx);
		index_stats(f.t, &st);
		ck_assert_uint_eq(st.records, f.refs.n);
		/* Runs of up to 64 KiB leave no room in a slot for a link,
		 * and runs of one record need none: every lookup decodes its
		 * run. */
		if (layouts[i].restart == 65535 || layouts[i].restart == 1)
			ck_assert_uint_eq(st.run, st.records);
		else
			ck_assert_msg(st.one_link && st.no_link,
				      "%s: %zu one link, %zu none", ctx,
				      st.one_link, st.no_link);
		check_lookups(&f, ctx);
		fixture_free(&f);
	}
}
END_TEST

/*
 * Names on both sides of the longest one a lookup takes through the
 * index (longer ones go through the block directory): lookups stay exact,
 * for names present and absent, whichever way they go.
 */
START_TEST(long_names_stay_exact)
{
	struct reftable_write_options wo = { 0 };
	struct fixture f;
	size_t i, longer = 0, shorter = 0;

	fixture_make(&f, 3000, 2 * NAME_INDEX_NAME_MAX, &wo, 31);
	for (i = 0; i < f.refs.n; i++) {
		size_t len = strlen(f.refs.v[i].refname);

		longer += len > NAME_INDEX_NAME_MAX;
		shorter += len <= NAME_INDEX_NAME_MAX;
	}
	ck_assert_msg(longer > 100 && shorter > 100, "%zu longer, %zu not",
		      longer, shorter);
	read_every_name(&f);
	ck_assert(indexed(f.t));
	check_lookups(&f, "long names");
	fixture_free(&f);
}
END_TEST

/*
 * Real names never share a whole hash; masking it makes them. Lookups
 * must then check every candidate against the table and still be exact.
 */
START_TEST(colliding_hashes_stay_exact)
{
	static const uint64_t masks[] = { 0, 1, 0xf };
	struct reftable_write_options wo = { 0 };
	size_t i;

	for (i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		struct fixture f;
		char ctx[64];

		name_index_hash_mask = masks[i];
		snprintf(ctx, sizeof(ctx), "mask %llx",
			 (unsigned long long)masks[i]);
		fixture_make(&f, 1500, 120, &wo, 20 + i);
		read_every_name(&f);
		ck_assert_msg(indexed(f.t), "%s: no index", ctx);
		check_lookups(&f, ctx);
		check_changed_bytes(&f, 40, ctx);
		fixture_free(&f);
	}
	name_index_hash_mask = UINT64_MAX;
}
END_TEST

/*
 * Names whose runs hold each kind of record: one stored whole or whose
 * bytes come from the start alone ("refs/heads/x-N"), one link between
 * (a name's variants under a shared directory), and chains of names each
 * extending the last, whose lookups decode the run. Lookups of names one
 * byte away from each are checked against every record a probe passes.
 */
#define CHAINED 3000

static void make_chained(struct fixture *f)
{
	static char names[CHAINED][40];
	char *v[CHAINED];
	size_t i;

	for (i = 0; i < CHAINED; i++) {
		size_t k = i / 3;

		if (i % 3 == 0)
			snprintf(names[i], sizeof(names[i]),
				 "refs/heads/x-%05zu", i);
		else if (i % 3 == 1)
			snprintf(names[i], sizeof(names[i]), "refs/pull/%zu/%s",
				 k / 2, k % 2 ? "merge" : "head");
		else
			snprintf(names[i], sizeof(names[i]),
				 "refs/tags/t%zu/%.*s", k / 12,
				 (int)(k % 12) + 1, "abcdefghijkl");
		v[i] = names[i];
	}
	fixture_of_names(f, v, CHAINED, "chained.ref");
}

START_TEST(links_and_runs_stay_exact)
{
	static const uint64_t masks[] = { UINT64_MAX, 0 };
	size_t i;

	for (i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		struct name_index_stats st;
		struct fixture f;

		name_index_hash_mask = masks[i];
		make_chained(&f);
		read_every_name(&f);
		index_stats(f.t, &st);
		ck_assert_uint_eq(st.records, f.refs.n);
		ck_assert_msg(st.no_link > 100 && st.one_link > 100 &&
				      st.run > 100,
			      "%zu none, %zu one link, %zu runs", st.no_link,
			      st.one_link, st.run);
		check_lookups(&f, "chained");
		check_changed_bytes(&f, i ? 7 : 1, "chained");
		fixture_free(&f);
	}
	name_index_hash_mask = UINT64_MAX;
}
END_TEST

/*
 * One run, record by record: what each lookup reads. "refs/abc" takes
 * bytes from "refs/ab" (its link) and the start; "refs/abd" too, as
 * "refs/abc" gives it nothing it keeps; "refs/abda" takes from
 * "refs/abd", "refs/ab" and the start, two links, so its lookup decodes
 * the run; "refs/b" takes from the start alone.
 */
START_TEST(links_of_a_known_run)
{
	static char *names[] = { "refs/a",    "refs/ab",   "refs/abc",
				 "refs/abd",  "refs/abda", "refs/b" };
	struct reftable_ref_record got = { 0 };
	struct name_index_stats st;
	struct name_index *ix = NULL;
	struct fixture f;
	size_t i;
	int err;

	fixture_of_names(&f, names, sizeof(names) / sizeof(names[0]),
			 "run.ref");
	ck_assert_int_eq(name_index_build(f.t, &ix), 0);
	name_index_get_stats(ix, &st);
	ck_assert_uint_eq(st.records, 6);
	ck_assert_uint_eq(st.no_link, 3);
	ck_assert_uint_eq(st.one_link, 2);
	ck_assert_uint_eq(st.run, 1);
	for (i = 0; i < f.refs.n; i++) {
		const char *want = f.refs.v[i].refname;
		char near[16];

		err = name_index_lookup(ix, f.t, (const uint8_t *)want,
					strlen(want), &got);
		ck_assert_int_eq(err, 0);
		tl_assert_ref_eq(&f.refs.v[i], &got, 20, "run");
		snprintf(near, sizeof(near), "%s", want);
		near[strlen(near) - 1] ^= 1;
		err = name_index_lookup(ix, f.t, (const uint8_t *)near,
					strlen(near), &got);
		ck_assert_int_eq(err, in_model(&f, near) ? 0 : 1);
	}
	reftable_ref_record_release(&got);
	name_index_free(ix);
	fixture_free(&f);
}
END_TEST

/*
 * An index of a huge page or more has a mapping of its own (on huge
 * pages where the kernel allows), not memory from the allocator.
 */
START_TEST(large_index_is_mapped)
{
	struct reftable_write_options wo = { 0 };
	struct name_index_stats st;
	struct fixture f;

	fixture_make(&f, 240000, 40, &wo, 50);
	read_every_name(&f);
	index_stats(f.t, &st);
	ck_assert_uint_ge(st.slots * 8, (size_t)2 << 20);
#ifdef MAP_ANONYMOUS
	ck_assert(st.mapped);
#else
	ck_assert(!st.mapped);
#endif
	check_changed_bytes(&f, 4001, "mapped");
	fixture_free(&f);
}
END_TEST

struct racer {
	struct fixture *f;
	size_t start;
	int failures;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct reftable_ref_record got = { 0 };
	size_t i, n = r->f->refs.n;

	for (i = 0; i < 3 * n; i++) {
		const struct reftable_ref_record *want =
			&r->f->refs.v[(r->start + i * 7) % n];

		if (reftable_table_read_ref(r->f->t, want->refname, &got) ||
		    got.value_type != want->value_type)
			r->failures++;
	}
	reftable_ref_record_release(&got);
	return NULL;
}

/* Threads share a table; one of them builds its index mid-flight. */
START_TEST(threads_race_to_the_index)
{
	struct reftable_write_options wo = { 0 };
	struct racer r[4];
	pthread_t th[4];
	struct fixture f;
	size_t i;

	fixture_make(&f, 6000, 60, &wo, 30);
	for (i = 0; i < 4; i++) {
		r[i].f = &f;
		r[i].start = i * 1000;
		r[i].failures = 0;
		ck_assert_int_eq(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(r[i].failures, 0);
	}
	ck_assert(indexed(f.t));
	check_lookups(&f, "after the race");
	fixture_free(&f);
}
END_TEST

/*
 * A damaged ref block makes building fail; lookups then keep to the
 * directory, which answers for intact blocks and reports the damaged one,
 * and nothing crashes.
 */
START_TEST(damaged_block_leaves_no_index)
{
	struct reftable_write_options wo = { 0 };
	struct reftable_ref_record got = { 0 };
	struct fixture f;
	uint8_t *copy;
	size_t i, errors = 0, found = 0;
	struct reftable_table *t;

	fixture_make(&f, 6000, 60, &wo, 40);
	copy = malloc(f.sink.len);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, f.sink.data, f.sink.len);
	/* The first record of the third block claims a prefix it cannot
	 * have: the first key of a block is stored whole. */
	ck_assert_uint_eq(copy[2 * 4096], 'r');
	copy[2 * 4096 + 4] = 0x7f;
	t = tl_open_buffer(copy, f.sink.len, "damaged.ref");
	for (i = 0; i < 2 * f.refs.n; i++) {
		int err = reftable_table_read_ref(t, f.refs.v[i % f.refs.n].refname,
						  &got);
		if (err < 0)
			errors++;
		else if (err == 0)
			found++;
		else
			ck_abort_msg("%s: absent", f.refs.v[i % f.refs.n].refname);
	}
	ck_assert(!indexed(t));
	ck_assert_uint_gt(errors, 0);
	ck_assert_uint_gt(found, f.refs.n);
	reftable_ref_record_release(&got);
	reftable_table_decref(t);
	free(copy);
	fixture_free(&f);
}
END_TEST

/*
 * A name may not hold a NUL byte. The index's build does not decode keys
 * as a scan does (a scan refuses such a name), so it indexes a block
 * holding one; lookups through it must still answer as the directory
 * does, which compares keys without refusing the byte.
 */
START_TEST(nul_in_a_name_answers_as_the_directory)
{
	struct reftable_write_options wo = { 0 };
	struct reftable_ref_record a = { 0 }, b = { 0 };
	struct name_index *ix = NULL;
	struct reftable_table *t;
	struct fixture f;
	uint8_t *copy;
	size_t i, off, differ = 0, missing = 0;
	uint64_t suffix;

	fixture_make(&f, 6000, 60, &wo, 7);
	copy = malloc(f.sink.len);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, f.sink.data, f.sink.len);
	/* A byte in the middle of the first name of the third block, which
	 * is stored whole after the block's 4-byte header. */
	off = 2 * 4096 + 4;
	ck_assert_uint_eq(copy[2 * 4096], 'r');
	ck_assert_uint_eq(copy[off], 0);
	ck_assert_int_gt(get_varint(&suffix, copy + off + 1, 8), 0);
	off += 1 + (size_t)varint_len(suffix) + (suffix >> 3) / 2;
	copy[off] = 0;
	t = tl_open_buffer(copy, f.sink.len, "nul.ref");
	reftable_table_set_lookup_index(t, 0);
	ck_assert_int_eq(name_index_build(t, &ix), 0);
	for (i = 0; i < f.refs.n; i++) {
		const char *name = f.refs.v[i].refname;
		int d = table_lookup_ref(t, name, strlen(name), &a);
		int x = name_index_lookup(ix, t, (const uint8_t *)name,
					  strlen(name), &b);

		missing += d == 1;
		if (d != x && differ++ < 3)
			fprintf(stderr, "byte %zu set to NUL: %s: directory "
				"%d, index %d\n", off, name, d, x);
	}
	ck_assert_uint_eq(differ, 0);
	/* The byte was a name's: that name is gone. */
	ck_assert_uint_gt(missing, 0);
	name_index_free(ix);
	reftable_ref_record_release(&a);
	reftable_ref_record_release(&b);
	reftable_table_decref(t);
	free(copy);
	fixture_free(&f);
}
END_TEST

/* A failed check leaves the mask as it was: with every hash equal, the
 * tests after it (in one process, CK_FORK=no) would crawl. */
static void reset_mask(void)
{
	name_index_hash_mask = UINT64_MAX;
}

static Suite *suite(void)
{
	Suite *s = suite_create("name-index");
	TCase *tc = tcase_create("index");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, NULL, reset_mask);
	tcase_add_test(tc, large_table_builds_index_after_enough_lookups);
	tcase_add_test(tc, small_or_disabled_tables_build_none);
	tcase_add_test(tc, disabling_after_build_stops_using_index);
	tcase_add_test(tc, index_matches_model_over_layouts);
	tcase_add_test(tc, colliding_hashes_stay_exact);
	tcase_add_test(tc, long_names_stay_exact);
	tcase_add_test(tc, threads_race_to_the_index);
	tcase_add_test(tc, damaged_block_leaves_no_index);
	tcase_add_test(tc, links_and_runs_stay_exact);
	tcase_add_test(tc, links_of_a_known_run);
	tcase_add_test(tc, large_index_is_mapped);
	tcase_add_test(tc, nul_in_a_name_answers_as_the_directory);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tl_run_suite(suite());
}
