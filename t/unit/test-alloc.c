/*
 * Reads of a warm stack allocate nothing: a point lookup into a reused
 * record, a seek plus ten reads on a reused iterator, and each step of a
 * full scan. The library's allocator is replaced by counting functions;
 * each test runs its operations once to warm up (records and iterators
 * grow their buffers to what these names need), then runs exactly the
 * same operations again and asserts that the second pass made no
 * malloc or realloc call.
 */

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reftable.h"

/* --- counting allocator ---------------------------------------------- */

static uint64_t alloc_calls; /* malloc and realloc calls */
static uint64_t fail_call;   /* this call fails (0: none) */

static void *counting_malloc(size_t n)
{
	return ++alloc_calls == fail_call ? NULL : malloc(n);
}

static void *counting_realloc(void *p, size_t n)
{
	return ++alloc_calls == fail_call ? NULL : realloc(p, n);
}

static void counting_free(void *p)
{
	free(p);
}

/* --- a warm stack of three tables ------------------------------------ */

#define BASE_REFS 2000

static char *tmp_dir;
static struct reftable_stack *st;

static void ref_name(char *buf, size_t len, int i)
{
	/* Names of different lengths, so buffers must grow to the longest. */
	if (i % 3 == 0)
		snprintf(buf, len, "refs/heads/b%05d", i);
	else if (i % 3 == 1)
		snprintf(buf, len, "refs/pull/%d/head", i);
	else
		snprintf(buf, len, "refs/tags/releases/long/version/v%05d", i);
}

static void fill_oid(uint8_t *oid, int i, int salt)
{
	int j;

	for (j = 0; j < REFTABLE_HASH_SIZE_SHA1; j++)
		oid[j] = (uint8_t)(i * 31 + j * 7 + salt);
}

struct table_arg {
	int which; /* 0: base refs; 1: updates and additions; 2: deletions */
	uint64_t update_index;
};

static int add_ref(struct reftable_writer *w, const char *name, int i,
		   uint64_t ui, enum reftable_ref_value_type type)
{
	struct reftable_ref_record ref;

	memset(&ref, 0, sizeof(ref));
	ref.refname = (char *)name;
	ref.update_index = ui;
	ref.value_type = type;
	if (type == REFTABLE_REF_VAL1 || type == REFTABLE_REF_VAL2)
		fill_oid(ref.value, i, (int)ui);
	if (type == REFTABLE_REF_VAL2)
		fill_oid(ref.peeled, i, 100 + (int)ui);
	return reftable_writer_add_ref(w, &ref);
}

static int compare_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The writer wants refs in name order: sort the chosen numbers by name. */
static int write_sorted(struct reftable_writer *w, const struct table_arg *a,
			const int *nums, int count)
{
	char (*names)[64] = calloc((size_t)count, sizeof(*names));
	char **sorted = calloc((size_t)count, sizeof(*sorted));
	int k, err = 0;

	ck_assert(names && sorted);
	for (k = 0; k < count; k++) {
		ref_name(names[k], sizeof(names[k]), nums[k]);
		sorted[k] = names[k];
	}
	qsort(sorted, (size_t)count, sizeof(*sorted), compare_str);
	for (k = 0; k < count && !err; k++) {
		int i = (int)((sorted[k] - names[0]) / 64);
		enum reftable_ref_value_type type = REFTABLE_REF_VAL1;

		if (a->which == 2)
			type = REFTABLE_REF_DELETION;
		else if (nums[i] % 3 == 2)
			type = REFTABLE_REF_VAL2;
		err = add_ref(w, sorted[k], nums[i], a->update_index, type);
	}
	free(sorted);
	free(names);
	return err;
}

static int write_table(struct reftable_writer *w, void *arg)
{
	const struct table_arg *a = arg;
	int *nums = calloc(BASE_REFS + 200, sizeof(*nums));
	int count = 0, i, err;

	ck_assert(nums);
	if (a->which == 0) {
		for (i = 0; i < BASE_REFS; i++)
			nums[count++] = i;
	} else if (a->which == 1) {
		for (i = 0; i < BASE_REFS; i += 7)
			nums[count++] = i;
		for (i = BASE_REFS; i < BASE_REFS + 100; i++)
			nums[count++] = i;
	} else {
		for (i = 5; i < BASE_REFS; i += 13)
			nums[count++] = i;
	}
	err = write_sorted(w, a, nums, count);
	free(nums);
	return err;
}

static void add_table(int which)
{
	struct reftable_addition *add = NULL;
	struct table_arg a = { which, 0 };

	ck_assert_int_eq(reftable_stack_new_addition(&add, st, 0), 0);
	a.update_index = reftable_addition_update_index(add);
	ck_assert_int_eq(reftable_addition_add(add, write_table, &a), 0);
	ck_assert_int_eq(reftable_addition_commit(add), 0);
	reftable_addition_destroy(add);
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void setup(void)
{
	const char *base = getenv("TMPDIR");
	struct reftable_stack_options opts;
	char tmpl[4096];

	snprintf(tmpl, sizeof(tmpl), "%s/reftable-alloc-XXXXXX",
		 base && *base ? base : "/tmp");
	ck_assert_msg(mkdtemp(tmpl) != NULL, "mkdtemp: %s", strerror(errno));
	tmp_dir = strdup(tmpl);

	reftable_stack_options_init(&opts);
	opts.create = 1;
	opts.disable_fsync = 1;        /* durability is not under test */
	opts.disable_auto_compact = 1; /* keep three tables to merge */
	ck_assert_int_eq(reftable_stack_new(&st, tmp_dir, &opts), 0);
	add_table(0);
	add_table(1);
	add_table(2);
	ck_assert_uint_eq(
		reftable_merged_table_count(reftable_stack_merged(st)), 3);
}

static void teardown(void)
{
	reftable_stack_destroy(st);
	st = NULL;
	remove_dir(tmp_dir);
	free(tmp_dir);
	tmp_dir = NULL;
}

/* --- the tests -------------------------------------------------------- */

/* Hits in every table, deleted refs and misses, into one record. */
static void lookups(struct reftable_ref_record *rec, int *found)
{
	char name[80];
	int i, err;

	*found = 0;
	for (i = 0; i < BASE_REFS + 100; i += 3) {
		ref_name(name, sizeof(name) - 1, i);
		err = reftable_stack_read_ref(st, name, rec);
		ck_assert_int_ge(err, 0);
		*found += err == 0;
		strcat(name, "x");
		ck_assert_int_eq(reftable_stack_read_ref(st, name, rec), 1);
	}
}

START_TEST(lookup_allocates_nothing)
{
	struct reftable_ref_record rec = { 0 };
	uint64_t before;
	int warm, found;

	lookups(&rec, &warm);
	before = alloc_calls;
	lookups(&rec, &found);
	ck_assert_msg(alloc_calls == before,
		      "%llu allocations in %d warm lookups",
		      (unsigned long long)(alloc_calls - before),
		      2 * ((BASE_REFS + 100 + 2) / 3));
	/* The lookups did real work: most names exist, deleted ones not. */
	ck_assert_int_eq(found, warm);
	ck_assert_int_gt(found, (BASE_REFS + 100) / 3 - 60);
	reftable_ref_record_release(&rec);
}
END_TEST

/* Seek to many names and read ten refs after each. */
static int seeks(struct reftable_iterator *it, struct reftable_ref_record *rec)
{
	char name[80];
	int i, j, read = 0;

	for (i = 0; i < BASE_REFS; i += 17) {
		ref_name(name, sizeof(name), i);
		ck_assert_int_eq(reftable_iterator_seek_ref(it, name), 0);
		for (j = 0; j < 10; j++) {
			int err = reftable_iterator_next_ref(it, rec);

			ck_assert_int_ge(err, 0);
			if (err)
				break;
			read++;
		}
	}
	return read;
}

START_TEST(seek_and_read10_allocates_nothing)
{
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record rec = { 0 };
	uint64_t before;
	int warm, read;

	ck_assert_int_eq(reftable_stack_init_ref_iterator(st, &it), 0);
	warm = seeks(&it, &rec);
	before = alloc_calls;
	read = seeks(&it, &rec);
	ck_assert_msg(alloc_calls == before,
		      "%llu allocations in warm seeks reading %d refs",
		      (unsigned long long)(alloc_calls - before), read);
	ck_assert_int_eq(read, warm);
	ck_assert_int_gt(read, 1000);
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&rec);
}
END_TEST

/* A full scan; returns the refs read and adds the allocations made by
 * the next() calls (not the seek) to *step_allocs. */
static int scan(struct reftable_iterator *it, struct reftable_ref_record *rec,
		uint64_t *step_allocs)
{
	int count = 0, err;

	ck_assert_int_eq(reftable_iterator_seek_ref(it, ""), 0);
	for (;;) {
		uint64_t before = alloc_calls;

		err = reftable_iterator_next_ref(it, rec);
		*step_allocs += alloc_calls - before;
		ck_assert_int_ge(err, 0);
		if (err)
			break;
		count++;
	}
	return count;
}

START_TEST(scan_step_allocates_nothing)
{
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record rec = { 0 };
	uint64_t warm_allocs = 0, allocs = 0, before;
	int warm, count;

	ck_assert_int_eq(reftable_stack_init_ref_iterator(st, &it), 0);
	warm = scan(&it, &rec, &warm_allocs);
	before = alloc_calls;
	count = scan(&it, &rec, &allocs);
	ck_assert_msg(allocs == 0, "%llu allocations in %d warm scan steps",
		      (unsigned long long)allocs, count);
	ck_assert_msg(alloc_calls == before,
		      "%llu allocations in a warm seek to the start",
		      (unsigned long long)(alloc_calls - before));
	/* Base refs, plus 100 added, minus the deleted ones. */
	ck_assert_int_eq(count, warm);
	ck_assert_int_eq(count, BASE_REFS + 100 - (BASE_REFS - 5 + 12) / 13);
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&rec);
}
END_TEST

/* --- allocation failures ---------------------------------------------- */

struct mem_sink {
	uint8_t *data;
	size_t len, cap;
};

static ssize_t mem_write(void *arg, const void *buf, size_t len)
{
	struct mem_sink *m = arg;

	if (m->len + len > m->cap) {
		m->cap = 2 * (m->len + len);
		m->data = realloc(m->data, m->cap);
		ck_assert_ptr_nonnull(m->data);
	}
	memcpy(m->data + m->len, buf, len);
	m->len += len;
	return (ssize_t)len;
}

#define INDEXED_REFS 60000

/*
 * The first seek of a table lists its blocks from the index. Whichever
 * allocation fails on the way, the read reports it; it never ends early
 * as if the table held fewer refs (an error inside the index walk used
 * to be overwritten by the walk's next step).
 */
START_TEST(failed_allocation_on_first_seek_is_reported)
{
	struct reftable_write_options o = { 0 };
	struct reftable_writer *w;
	struct mem_sink m = { 0 };
	uint64_t n;
	char name[64];
	int i, failures = 0;

	ck_assert_int_eq(reftable_writer_new(&w, mem_write, &m, &o), 0);
	ck_assert_int_eq(reftable_writer_set_limits(w, 1, 1), 0);
	for (i = 0; i < INDEXED_REFS; i++) {
		struct reftable_ref_record r = { 0 };

		snprintf(name, sizeof(name), "refs/heads/b%06d", i);
		r.refname = name;
		r.update_index = 1;
		r.value_type = REFTABLE_REF_VAL1;
		ck_assert_int_eq(reftable_writer_add_ref(w, &r), 0);
	}
	ck_assert_int_eq(reftable_writer_close(w), 0);
	reftable_writer_free(w);

	for (n = 1; n <= 60; n++) {
		struct reftable_iterator it = { 0 };
		struct reftable_ref_record r = { 0 };
		struct reftable_table *t;
		int err, got = 0;

		ck_assert_int_eq(reftable_table_from_buffer(&t, m.data, m.len,
							    "mem"),
				 0);
		alloc_calls = 0;
		fail_call = n;
		err = reftable_table_init_ref_iterator(t, &it);
		if (!err)
			err = reftable_iterator_seek_ref(&it, "");
		fail_call = 0;
		while (!err && (err = reftable_iterator_next_ref(&it, &r)) == 0)
			got++;
		reftable_iterator_destroy(&it);
		reftable_ref_record_release(&r);
		reftable_table_decref(t);
		ck_assert_msg(err < 0 || got == INDEXED_REFS,
			      "allocation %llu failed: %d of %d refs, no error",
			      (unsigned long long)n, got, INDEXED_REFS);
		failures += err < 0;
	}
	ck_assert_int_gt(failures, 0); /* the sweep reached the walk */
	free(m.data);
}
END_TEST

static Suite *alloc_suite(void)
{
	Suite *s = suite_create("alloc");
	TCase *tc = tcase_create("warm reads");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, lookup_allocates_nothing);
	tcase_add_test(tc, seek_and_read10_allocates_nothing);
	tcase_add_test(tc, scan_step_allocates_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("allocation failures");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, failed_allocation_on_first_seek_is_reported);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	/* Before any other library call, as reftable-alloc.h asks. */
	reftable_set_alloc(counting_malloc, counting_realloc, counting_free);
	sr = srunner_create(alloc_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
