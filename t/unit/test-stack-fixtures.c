/*
 * Every stack Git wrote in t/fixtures/git: open a copy, check the merged
 * view against Git's dump, run a transaction (a deletion and a new ref
 * with its reflog entry), auto-compact, compact fully, reopen, and after
 * each step compare the merged view with the expected one derived from
 * Git's dump by hand (the deleted line removed, the new lines added).
 */

#include <check.h>
#include <inttypes.h>

#include "test-stack-helpers.h"

static const char *const fixtures[] = {
	"basic",	"sha256",	  "many-refs",	 "small-blocks",
	"restart1-noobj", "bigblock-restart64", "logs-heavy",
};

#define ADDED "refs/heads/zz-stack-added"

/* --- the records format of t/fixtures/git/README.md --------------------- */

struct lines {
	char **v;
	size_t n, cap;
};

static void lines_add(struct lines *l, char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		ck_assert(l->v != NULL);
	}
	l->v[l->n++] = s;
}

static void lines_free(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void put_hex(FILE *f, const uint8_t *id, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%02x", id[i]);
}

static void put_escaped(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\\')
			fputs("\\\\", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

static char *format_ref(const struct reftable_ref_record *r, size_t hsz)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	fprintf(f, "ref %s %" PRIu64 " ", r->refname, r->update_index);
	switch (r->value_type) {
	case REFTABLE_REF_DELETION:
		fputs("delete", f);
		break;
	case REFTABLE_REF_VAL1:
		fputs("val1 ", f);
		put_hex(f, r->value, hsz);
		break;
	case REFTABLE_REF_VAL2:
		fputs("val2 ", f);
		put_hex(f, r->value, hsz);
		fputc(' ', f);
		put_hex(f, r->peeled, hsz);
		break;
	case REFTABLE_REF_SYMREF:
		fprintf(f, "symref %s", r->target);
		break;
	}
	fclose(f);
	return out;
}

static char *format_log(const struct reftable_log_record *l, size_t hsz)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	fprintf(f, "log %s %" PRIu64 " ", l->refname, l->update_index);
	if (l->value_type == REFTABLE_LOG_DELETION) {
		fputs("delete", f);
	} else {
		fputs("update ", f);
		put_hex(f, l->old_id, hsz);
		fputc(' ', f);
		put_hex(f, l->new_id, hsz);
		fputc(' ', f);
		put_escaped(f, l->name);
		fputs(" <", f);
		put_escaped(f, l->email);
		fprintf(f, "> %" PRIu64 " %d ", l->time, (int)l->tz_offset);
		put_escaped(f, l->message);
	}
	fclose(f);
	return out;
}

/* The merged view of the stack, deletions suppressed, one line a record. */
static void dump_stack(struct reftable_stack *st, struct lines *out)
{
	size_t hsz = reftable_hash_size(reftable_stack_hash(st));
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record ref = { 0 };
	struct reftable_log_record log = { 0 };
	int err;

	CHECK_OK(reftable_stack_init_ref_iterator(st, &it));
	CHECK_OK(reftable_iterator_seek_ref(&it, ""));
	while ((err = reftable_iterator_next_ref(&it, &ref)) == 0)
		lines_add(out, format_ref(&ref, hsz));
	ck_assert_int_eq(err, 1);
	reftable_iterator_destroy(&it);
	CHECK_OK(reftable_stack_init_log_iterator(st, &it));
	CHECK_OK(reftable_iterator_seek_log(&it, ""));
	while ((err = reftable_iterator_next_log(&it, &log)) == 0)
		lines_add(out, format_log(&log, hsz));
	ck_assert_int_eq(err, 1);
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&ref);
	reftable_log_record_release(&log);
}

static void read_lines(const char *path, struct lines *out)
{
	char *data = test_read_file(path, NULL), *p = data, *nl;

	while (*p) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		lines_add(out, strdup(p));
		if (!nl)
			break;
		p = nl + 1;
	}
	free(data);
}

static void assert_same(const struct lines *got, const struct lines *want,
			const char *what)
{
	size_t i;

	for (i = 0; i < got->n && i < want->n; i++)
		ck_assert_msg(!strcmp(got->v[i], want->v[i]),
			      "%s: line %zu:\n got  %s\n want %s", what, i + 1,
			      got->v[i], want->v[i]);
	ck_assert_msg(got->n == want->n, "%s: %zu lines, want %zu", what,
		      got->n, want->n);
}

/* Key order of the format: refs by name, then logs by name and update
 * index, newest first. */
static int line_cmp(const void *pa, const void *pb)
{
	const char *a = *(char *const *)pa, *b = *(char *const *)pb;
	const char *an = strchr(a, ' ') + 1, *bn = strchr(b, ' ') + 1;
	const char *ae = strchr(an, ' '), *be = strchr(bn, ' ');
	size_t al = (size_t)(ae - an), bl = (size_t)(be - bn);
	int ka = a[0] == 'l', kb = b[0] == 'l', c;
	unsigned long long ia, ib;

	if (ka != kb)
		return ka - kb;
	c = memcmp(an, bn, al < bl ? al : bl);
	if (c)
		return c;
	if (al != bl)
		return al < bl ? -1 : 1;
	ia = strtoull(ae + 1, NULL, 10);
	ib = strtoull(be + 1, NULL, 10);
	return ia < ib ? 1 : ia > ib ? -1 : 0;
}

/* --- the transaction ---------------------------------------------------- */

struct txn {
	struct reftable_stack *st;
	const char *victim; /* deleted */
	uint64_t idx;
};

static int write_txn(struct reftable_writer *w, void *arg)
{
	struct txn *t = arg;
	struct reftable_ref_record del = { 0 }, add = { 0 };
	struct reftable_log_record log = { 0 };
	int err;

	del.refname = (char *)t->victim;
	del.update_index = t->idx;
	del.value_type = REFTABLE_REF_DELETION;
	add.refname = (char *)ADDED;
	add.update_index = t->idx;
	add.value_type = REFTABLE_REF_VAL1;
	memset(add.value, 0xab, sizeof(add.value));
	/* Refs go in name order. */
	if (strcmp(t->victim, ADDED) < 0) {
		err = reftable_writer_add_ref(w, &del);
		if (!err)
			err = reftable_writer_add_ref(w, &add);
	} else {
		err = reftable_writer_add_ref(w, &add);
		if (!err)
			err = reftable_writer_add_ref(w, &del);
	}
	if (err)
		return err;
	log.refname = (char *)ADDED;
	log.update_index = t->idx;
	log.value_type = REFTABLE_LOG_UPDATE;
	memset(log.new_id, 0xab, sizeof(log.new_id));
	log.name = (char *)"Stack Tester";
	log.email = (char *)"stack@example.com";
	log.time = 1700002000;
	log.tz_offset = -530;
	log.message = (char *)"stack test: add\n";
	return reftable_writer_add_log(w, &log);
}

/* Git's dump with the transaction applied, by hand. */
static void expected_after(const struct lines *git, const char *victim,
			   uint64_t idx, size_t hsz, struct lines *out)
{
	char prefix[512], *line = NULL, zeros[2 * 32 + 1], ab[2 * 32 + 1];
	size_t i;

	snprintf(prefix, sizeof(prefix), "ref %s ", victim);
	for (i = 0; i < git->n; i++)
		if (strncmp(git->v[i], prefix, strlen(prefix)))
			lines_add(out, strdup(git->v[i]));
	memset(zeros, '0', 2 * hsz);
	zeros[2 * hsz] = '\0';
	for (i = 0; i < 2 * hsz; i++)
		ab[i] = "ab"[i % 2];
	ab[2 * hsz] = '\0';
	ck_assert(asprintf(&line, "ref %s %" PRIu64 " val1 %s", ADDED, idx,
			   ab) > 0);
	lines_add(out, line);
	ck_assert(asprintf(&line,
			   "log %s %" PRIu64 " update %s %s Stack Tester "
			   "<stack@example.com> 1700002000 -530 stack test: add\\n",
			   ADDED, idx, zeros, ab) > 0);
	lines_add(out, line);
	qsort(out->v, out->n, sizeof(*out->v), line_cmp);
}

/* The name of some ref that has a value: the last such line. */
static char *pick_victim(const struct lines *git)
{
	size_t i;

	for (i = git->n; i-- > 0;) {
		const char *l = git->v[i];
		if (!strncmp(l, "ref refs/", 9) && strstr(l, " val")) {
			const char *name = l + 4, *end = strchr(name, ' ');
			return strndup(name, (size_t)(end - name));
		}
	}
	ck_abort_msg("no ref to delete");
	return NULL;
}

static void check_view(struct reftable_stack *st, const struct lines *want,
		       const char *what)
{
	struct lines got = { 0 };

	dump_stack(st, &got);
	assert_same(&got, want, what);
	lines_free(&got);
}

static int table_deletions(struct reftable_table *t)
{
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record ref = { 0 };
	struct reftable_log_record log = { 0 };
	int n = 0;

	CHECK_OK(reftable_table_init_ref_iterator(t, &it));
	CHECK_OK(reftable_iterator_seek_ref(&it, ""));
	while (reftable_iterator_next_ref(&it, &ref) == 0)
		n += ref.value_type == REFTABLE_REF_DELETION;
	reftable_iterator_destroy(&it);
	CHECK_OK(reftable_table_init_log_iterator(t, &it));
	CHECK_OK(reftable_iterator_seek_log(&it, ""));
	while (reftable_iterator_next_log(&it, &log) == 0)
		n += log.value_type == REFTABLE_LOG_DELETION;
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&ref);
	reftable_log_record_release(&log);
	return n;
}

START_TEST(git_fixture_stack)
{
	const char *name = fixtures[_i];
	const char *data = getenv("REFTABLE_TEST_DATA");
	char src[4096], expect_path[4096];
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st, *again;
	struct lines git = { 0 }, want = { 0 };
	struct txn t = { 0 };
	size_t hsz;
	char *victim;

	snprintf(src, sizeof(src), "%s/fixtures/git/%s/reftable",
		 data ? data : "t", name);
	snprintf(expect_path, sizeof(expect_path),
		 "%s/fixtures/git/%s/expected-stack.txt", data ? data : "t",
		 name);
	test_copy_dir(src, dir);
	read_lines(expect_path, &git);

	o.create = 0;
	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	hsz = reftable_hash_size(reftable_stack_hash(st));
	ck_assert_uint_eq(hsz, strcmp(name, "sha256") ? 20 : 32);
	check_view(st, &git, "as Git wrote it");

	/* One transaction: delete a ref, add one with a reflog entry. */
	victim = pick_victim(&git);
	t.st = st;
	t.victim = victim;
	t.idx = reftable_stack_next_update_index(st);
	CHECK_OK(reftable_stack_add(st, write_txn, &t, 0));
	expected_after(&git, victim, t.idx, hsz, &want);
	check_view(st, &want, "after the transaction");

	/* Auto-compaction (whatever it picks), then everything. */
	CHECK_OK(reftable_stack_auto_compact(st));
	check_view(st, &want, "after auto-compaction");
	CHECK_OK(reftable_stack_compact_all(st, NULL));
	ck_assert_uint_eq(test_table_count(st), 1);
	check_view(st, &want, "after full compaction");
	ck_assert_int_eq(
		table_deletions(reftable_merged_table(reftable_stack_merged(st), 0)),
		0);

	/* From disk, by a new handle; and nothing stray left behind. */
	CHECK_OK(reftable_stack_new(&again, dir, &o));
	check_view(again, &want, "reopened");
	CHECK_OK(reftable_stack_clean(again));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);
	ck_assert_int_eq(test_count_suffix(dir, ".lock"), 0);
	ck_assert_uint_eq(reftable_stack_next_update_index(again), t.idx + 1);

	reftable_stack_destroy(again);
	reftable_stack_destroy(st);
	free(victim);
	lines_free(&git);
	lines_free(&want);
	tl_rmtree(dir);
}
END_TEST

/* The basic stack by hand: compacting only the newest tables keeps the
 * tombstones that hide refs of the older tables. */
START_TEST(basic_partial_compaction_keeps_tombstones)
{
	const char *data = getenv("REFTABLE_TEST_DATA");
	char src[4096], expect_path[4096];
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct lines git = { 0 };
	size_t before;

	snprintf(src, sizeof(src), "%s/fixtures/git/basic/reftable",
		 data ? data : "t");
	snprintf(expect_path, sizeof(expect_path),
		 "%s/fixtures/git/basic/expected-stack.txt", data ? data : "t");
	test_copy_dir(src, dir);
	read_lines(expect_path, &git);
	o.create = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	before = test_table_count(st);
	ck_assert_uint_eq(before, 15);
	/* Git's 15 never-compacted tables are not a geometric sequence. */
	CHECK_OK(reftable_stack_auto_compact(st));
	ck_assert_uint_lt(test_table_count(st), before);
	check_view(st, &git, "after auto-compaction of Git's stack");
	reftable_stack_destroy(st);
	lines_free(&git);
	tl_rmtree(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stack-fixtures");
	TCase *tc = tcase_create("git");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, git_fixture_stack, 0,
			    (int)(sizeof(fixtures) / sizeof(fixtures[0])));
	tcase_add_test(tc, basic_partial_compaction_keeps_tombstones);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
