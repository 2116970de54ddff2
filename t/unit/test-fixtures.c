/*
 * Tables written by Git (t/fixtures/git/NAME/reftable, see the README
 * there) read back exactly as Git's own dumps say: every record of every
 * table, and the merged view of each stack. Point lookups and refs_for are
 * then checked against those records, and writing the records again with
 * Git's options must give Git's bytes.
 *
 * The fixtures are found under $REFTABLE_TEST_DATA/fixtures/git.
 */

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testlib.h"

#define MAX_FIXTURES 64

static char *fixtures[MAX_FIXTURES]; /* directory names, sorted */
static int n_fixtures;

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every folder of fixtures/git that holds reftable/tables.list. */
static void find_fixtures(void)
{
	char root[4096], list[4096 + 300];
	struct dirent *e;
	struct stat st;
	DIR *d;

	snprintf(root, sizeof(root), "%s/fixtures/git", tl_test_data());
	d = opendir(root);
	if (!d)
		return;
	while ((e = readdir(d)) != NULL && n_fixtures < MAX_FIXTURES) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(list, sizeof(list), "%s/%s/reftable/tables.list", root,
			 e->d_name);
		if (stat(list, &st) == 0)
			fixtures[n_fixtures++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(fixtures, (size_t)n_fixtures, sizeof(*fixtures), name_cmp);
}

static char *fixture_path(const char *fixture, const char *rest)
{
	struct tl_str s = TL_STR_INIT;
	tl_str_addf(&s, "%s/fixtures/git/%s/%s", tl_test_data(), fixture, rest);
	return s.s;
}

/* The tables of a fixture's stack, oldest first. */
struct fixture {
	const char *name;
	char **tables; /* names from tables.list */
	size_t n;
	struct reftable_table **t;
};

static void fixture_open(struct fixture *f, const char *name)
{
	char *list = fixture_path(name, "reftable/tables.list");
	size_t i;

	memset(f, 0, sizeof(*f));
	f->name = name;
	f->tables = tl_read_lines(list, &f->n);
	free(list);
	ck_assert_uint_gt(f->n, 0);
	f->t = calloc(f->n, sizeof(*f->t));
	ck_assert_ptr_nonnull(f->t);
	for (i = 0; i < f->n; i++) {
		struct tl_str rel = TL_STR_INIT;
		char *path;
		int err;

		tl_str_addf(&rel, "reftable/%s", f->tables[i]);
		path = fixture_path(name, tl_str_get(&rel));
		err = reftable_table_open(&f->t[i], path);
		ck_assert_msg(err == 0, "%s: open: %s (%s)", path,
			      reftable_error_str(err), reftable_error_detail());
		ck_assert_str_eq(reftable_table_name(f->t[i]), f->tables[i]);
		free(path);
		tl_str_release(&rel);
	}
}

static void fixture_close(struct fixture *f)
{
	size_t i;
	for (i = 0; i < f->n; i++)
		reftable_table_decref(f->t[i]);
	free(f->t);
	tl_free_lines(f->tables, f->n);
}

/* Compare printed records with an expected file's lines (from first). */
static void compare_lines(const struct tl_refs *refs, const struct tl_logs *logs,
			  size_t hs, char **lines, size_t nlines, size_t first,
			  const char *ctx)
{
	struct tl_str got = TL_STR_INIT;
	size_t i, at = first;

	for (i = 0; i < refs->n + logs->n; i++, at++) {
		tl_str_reset(&got);
		if (i < refs->n)
			tl_format_ref(&got, &refs->v[i], hs);
		else
			tl_format_log(&got, &logs->v[i - refs->n], hs);
		if (at >= nlines) {
			fprintf(stderr, "%s: extra record: %s\n", ctx,
				tl_str_get(&got));
			break;
		}
		if (strcmp(tl_str_get(&got), lines[at])) {
			fprintf(stderr, "%s, line %zu:\n  want %s\n  got  %s\n",
				ctx, at + 1, lines[at], tl_str_get(&got));
			break;
		}
	}
	tl_str_release(&got);
	ck_assert_msg(i == refs->n + logs->n && at == nlines,
		      "%s: records differ from the expected file at line %zu "
		      "(%zu records read, %zu lines expected; see stderr)",
		      ctx, at + 1, refs->n + logs->n, nlines - first);
}

/*
 * refs_for finds a block through the object index and then scans it: in
 * 64 KiB blocks that is thousands of records per call, so there every
 * tenth object id is enough.
 */
static size_t refs_for_stride(struct reftable_table *t)
{
	return reftable_table_block_size(t) > 8192 ? 10 : 1;
}

/* --- every table ------------------------------------------------------------ */

START_TEST(tables_match)
{
	struct fixture f;
	size_t i;

	fixture_open(&f, fixtures[_i]);
	for (i = 0; i < f.n; i++) {
		struct reftable_table *t = f.t[i];
		size_t hs = tl_hash_size(reftable_table_hash(t)), nlines;
		struct tl_refs refs = { 0 };
		struct tl_logs logs = { 0 };
		struct tl_str rel = TL_STR_INIT, head = TL_STR_INIT;
		struct tl_source src;
		char **lines, *path, ctx[512];

		snprintf(ctx, sizeof(ctx), "%s/%s", f.name, f.tables[i]);
		tl_str_addf(&rel, "expected-tables/%s.txt", f.tables[i]);
		path = fixture_path(f.name, tl_str_get(&rel));
		lines = tl_read_lines(path, &nlines);
		ck_assert_uint_gt(nlines, 0);

		tl_str_addf(&head, "table %s %llu %llu", reftable_table_name(t),
			    (unsigned long long)reftable_table_min_update_index(t),
			    (unsigned long long)reftable_table_max_update_index(t));
		ck_assert_str_eq(tl_str_get(&head), lines[0]);
		/* Object ids of the expected dump have the table's width. */
		ck_assert_int_eq(reftable_table_version(t), hs == 32 ? 2 : 1);

		ck_assert_int_eq(tl_table_refs(t, &refs), 1);
		ck_assert_int_eq(tl_table_logs(t, &logs), 1);
		compare_lines(&refs, &logs, hs, lines, nlines, 1, ctx);

		/* The records are Git's: now every lookup must agree. */
		tl_source_table(&src, t);
		tl_verify_sampled(&src, &refs, &logs, hs, 1,
				  refs_for_stride(t), ctx);

		tl_free_lines(lines, nlines);
		free(path);
		tl_str_release(&rel);
		tl_str_release(&head);
		tl_refs_free(&refs);
		tl_logs_free(&logs);
	}
	fixture_close(&f);
}
END_TEST

/* --- the merged view ----------------------------------------------------- */

static int has_ref(const struct tl_refs *refs, const char *name)
{
	size_t lo = 0, hi = refs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(refs->v[mid].refname, name);
		if (!c)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

START_TEST(stack_matches)
{
	struct fixture f;
	struct reftable_merged *m = NULL;
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record rec = { 0 };
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct tl_source src;
	char **lines, *path, ctx[256];
	size_t nlines, hs, i, j;
	enum reftable_hash hash;
	int err;

	fixture_open(&f, fixtures[_i]);
	hash = reftable_table_hash(f.t[0]);
	hs = tl_hash_size(hash);
	ck_assert_int_eq(reftable_merged_new(&m, f.t, f.n, hash), 0);
	reftable_merged_suppress_deletions(m, 1);
	ck_assert(reftable_merged_min_update_index(m) ==
		  reftable_table_min_update_index(f.t[0]));
	ck_assert(reftable_merged_max_update_index(m) ==
		  reftable_table_max_update_index(f.t[f.n - 1]));

	ck_assert_int_eq(reftable_merged_init_ref_iterator(m, &it), 0);
	ck_assert_int_eq(reftable_iterator_seek_ref(&it, ""), 0);
	ck_assert_int_eq(tl_read_all_refs(&it, &refs), 1);
	reftable_iterator_destroy(&it);
	ck_assert_int_eq(reftable_merged_init_log_iterator(m, &it), 0);
	ck_assert_int_eq(reftable_iterator_seek_log(&it, ""), 0);
	ck_assert_int_eq(tl_read_all_logs(&it, &logs), 1);
	reftable_iterator_destroy(&it);

	snprintf(ctx, sizeof(ctx), "%s (merged stack)", f.name);
	path = fixture_path(f.name, "expected-stack.txt");
	lines = tl_read_lines(path, &nlines);
	compare_lines(&refs, &logs, hs, lines, nlines, 0, ctx);

	/* Lookups over the merged view agree with its records. */
	tl_source_merged(&src, m);
	tl_verify_sampled(&src, &refs, &logs, hs, 1, refs_for_stride(f.t[0]),
			  ctx);

	/* A ref any table ever named but the stack does not show (deleted)
	 * is absent for reftable_merged_read_ref. */
	for (i = 0; i < f.n; i++) {
		struct tl_refs trefs = { 0 };

		ck_assert_int_eq(tl_table_refs(f.t[i], &trefs), 1);
		for (j = 0; j < trefs.n; j++) {
			if (has_ref(&refs, trefs.v[j].refname))
				continue;
			err = reftable_merged_read_ref(m, trefs.v[j].refname, &rec);
			TL_CHECK(err == 1, "%s: read_ref(%s) of a deleted ref = %d",
				 ctx, trefs.v[j].refname, err);
		}
		tl_refs_free(&trefs);
	}

	reftable_ref_record_release(&rec);
	tl_free_lines(lines, nlines);
	free(path);
	tl_refs_free(&refs);
	tl_logs_free(&logs);
	reftable_merged_free(m);
	fixture_close(&f);
}
END_TEST

/* --- writing Git's tables again ------------------------------------------ */

/* Git's write options per fixture (fixtures/git/README.md). */
static int git_options(const char *fixture, struct reftable_write_options *o)
{
	memset(o, 0, sizeof(*o));
	if (!strcmp(fixture, "small-blocks"))
		o->block_size = 512;
	else if (!strcmp(fixture, "restart1-noobj")) {
		o->restart_interval = 1;
		o->skip_index_objects = 1;
	} else if (!strcmp(fixture, "bigblock-restart64")) {
		o->block_size = 65536;
		o->restart_interval = 64;
	} else if (strcmp(fixture, "basic") && strcmp(fixture, "sha256") &&
		   strcmp(fixture, "many-refs") && strcmp(fixture, "logs-heavy"))
		return -1; /* a fixture this test does not know */
	return 0;
}

START_TEST(byte_identity)
{
	struct reftable_write_options o;
	struct fixture f;
	size_t i;

	if (git_options(fixtures[_i], &o) < 0)
		return;
	fixture_open(&f, fixtures[_i]);
	for (i = 0; i < f.n; i++) {
		struct reftable_table *t = f.t[i];
		struct tl_refs refs = { 0 };
		struct tl_logs logs = { 0 };
		struct tl_sink s = TL_SINK_INIT;
		struct tl_str rel = TL_STR_INIT;
		uint8_t *git;
		size_t len, at = 0;
		char *path;
		int err;

		o.hash_id = reftable_table_hash(t);
		ck_assert_int_eq(tl_table_refs(t, &refs), 1);
		ck_assert_int_eq(tl_table_logs(t, &logs), 1);
		err = tl_write_table(&s, &o, reftable_table_min_update_index(t),
				     reftable_table_max_update_index(t), &refs,
				     &logs, NULL);
		ck_assert_msg(err == 0, "%s/%s: write: %d (%s)", f.name,
			      f.tables[i], err, reftable_error_detail());
		tl_str_addf(&rel, "reftable/%s", f.tables[i]);
		path = fixture_path(f.name, tl_str_get(&rel));
		git = tl_read_file(path, &len);
		ck_assert_ptr_nonnull(git);
		while (at < len && at < s.len && git[at] == s.data[at])
			at++;
		ck_assert_msg(at == len && at == s.len,
			      "%s/%s: written %zu bytes, Git's %zu; first "
			      "difference at offset %zu", f.name, f.tables[i],
			      s.len, len, at);
		free(git);
		free(path);
		tl_str_release(&rel);
		tl_sink_release(&s);
		tl_refs_free(&refs);
		tl_logs_free(&logs);
	}
	fixture_close(&f);
}
END_TEST

/* The fixtures are there (a missing folder must not pass silently). */
START_TEST(fixtures_present)
{
	static const char *const want[] = { "basic", "sha256", "many-refs",
					    "small-blocks", "restart1-noobj",
					    "bigblock-restart64", "logs-heavy" };
	size_t i;
	int k, found;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		for (found = 0, k = 0; k < n_fixtures; k++)
			found |= !strcmp(fixtures[k], want[i]);
		ck_assert_msg(found, "fixture %s not found under %s/fixtures/git",
			      want[i], tl_test_data());
	}
}
END_TEST

static Suite *fixtures_suite(void)
{
	Suite *s = suite_create("fixtures");
	TCase *tc = tcase_create("git");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, fixtures_present);
	tcase_add_loop_test(tc, tables_match, 0, n_fixtures);
	tcase_add_loop_test(tc, stack_matches, 0, n_fixtures);
	tcase_add_loop_test(tc, byte_identity, 0, n_fixtures);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed, i;

	find_fixtures();
	sr = srunner_create(fixtures_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (i = 0; i < n_fixtures; i++)
		free(fixtures[i]);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
