/*
 * The ref database over stacks written by Git (t/fixtures/git): copies are
 * opened, read back through the refdb API exactly as the expected files
 * say, then changed by transactions and reflog operations; the results are
 * compared with what Git would have written, derived by hand for "basic".
 */

#include "test-refdb-helpers.h"

#include <stdarg.h>

/* --- the fixture text format (t/fixtures/git/README.md) -------------- */

struct text {
	char *data;
	size_t len, cap;
};

static void text_add(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->data = realloc(t->data, t->cap);
		ck_assert_ptr_nonnull(t->data);
	}
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len] = '\0';
}

static void text_addf(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void text_addf(struct text *t, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ck_assert(n >= 0 && (size_t)n < sizeof(buf));
	text_add(t, buf, (size_t)n);
}

static void text_add_escaped(struct text *t, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\\')
			text_add(t, "\\\\", 2);
		else if (c == '\n')
			text_add(t, "\\n", 2);
		else if (c == '\t')
			text_add(t, "\\t", 2);
		else if (c < 0x20 || c == 0x7f)
			text_addf(t, "\\x%02x", c);
		else
			text_add(t, s, 1);
	}
}

static void format_ref(struct text *t, const struct reftable_ref_record *r,
		       size_t hs)
{
	text_addf(t, "ref %s %llu ", r->refname,
		  (unsigned long long)r->update_index);
	switch (r->value_type) {
	case REFTABLE_REF_DELETION:
		text_addf(t, "delete\n");
		break;
	case REFTABLE_REF_VAL1:
		text_addf(t, "val1 %s\n", rt_hex(r->value, hs));
		break;
	case REFTABLE_REF_VAL2:
		text_addf(t, "val2 %s %s\n", rt_hex(r->value, hs),
			  rt_hex(r->peeled, hs));
		break;
	case REFTABLE_REF_SYMREF:
		text_addf(t, "symref %s\n", r->target);
		break;
	}
}

static void format_log(struct text *t, const struct reftable_log_record *l,
		       size_t hs)
{
	text_addf(t, "log %s %llu ", l->refname,
		  (unsigned long long)l->update_index);
	if (l->value_type == REFTABLE_LOG_DELETION) {
		text_addf(t, "delete\n");
		return;
	}
	text_addf(t, "update %s ", rt_hex(l->old_id, hs));
	text_addf(t, "%s ", rt_hex(l->new_id, hs));
	text_add_escaped(t, l->name);
	text_add(t, " <", 2);
	text_add_escaped(t, l->email);
	text_addf(t, "> %llu %d ", (unsigned long long)l->time,
		  (int)l->tz_offset);
	text_add_escaped(t, l->message);
	text_add(t, "\n", 1);
}

/* --- fixtures ------------------------------------------------------------ */

struct fixture {
	const char *name;
	char *dir;
	struct reftable_refdb *db;
	size_t hs;
	char *expected; /* expected-stack.txt */
};

static void fixture_open(struct fixture *f, const char *name)
{
	struct reftable_refdb_options o;
	char src[4096];
	int err;

	memset(f, 0, sizeof(*f));
	f->name = name;
	f->dir = tl_tmpdir();
	rt_fixture_path(src, sizeof(src), name, "reftable");
	rt_copy_dir(src, f->dir);
	rt_fixture_path(src, sizeof(src), name, "expected-stack.txt");
	f->expected = rt_read_file(src, NULL);

	rt_options(&o);
	o.stack.create = 0;
	if (!strcmp(name, "sha256"))
		o.stack.write.hash_id = REFTABLE_HASH_SHA256;
	err = reftable_refdb_open(&f->db, f->dir, &o);
	ck_assert_msg(err == 0, "%s: %s", name, reftable_error_detail());
	f->hs = reftable_refdb_hash_size(f->db);
}

static void fixture_close(struct fixture *f)
{
	reftable_refdb_close(f->db);
	tl_rmtree(f->dir);
	free(f->expected);
	memset(f, 0, sizeof(*f));
}

/* Names of the log lines of a records text, each once, in order. */
static size_t log_names(const char *text, char ***names)
{
	size_t n = 0, cap = 0;
	const char *p;

	*names = NULL;
	for (p = text; (p = strstr(p, "log ")) != NULL; p++) {
		const char *start, *end;

		if (p != text && p[-1] != '\n')
			continue;
		start = p + 4;
		end = strchr(start, ' ');
		ck_assert_ptr_nonnull(end);
		if (n && strlen((*names)[n - 1]) == (size_t)(end - start) &&
		    !strncmp((*names)[n - 1], start, (size_t)(end - start)))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			*names = realloc(*names, cap * sizeof(**names));
			ck_assert_ptr_nonnull(*names);
		}
		(*names)[n++] = strndup(start, (size_t)(end - start));
	}
	return n;
}

static void free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * The merged view in the fixture format, read through the refdb API: all
 * refs from its iterator, then the reflog of each name in log_from (the
 * names whose reflogs should exist) from its reflog reader.
 */
static char *dump_view(struct fixture *f, const char *log_from)
{
	struct reftable_ref_record ref = { 0 };
	struct reftable_iterator it = { 0 };
	struct text t = { 0 };
	char **names;
	size_t n, i, j;
	int err;

	text_add(&t, "", 0);
	rt_ok(reftable_refdb_init_ref_iterator(f->db, &it, NULL));
	while ((err = reftable_iterator_next_ref(&it, &ref)) == 0)
		format_ref(&t, &ref, f->hs);
	ck_assert_int_eq(err, 1);
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&ref);

	n = log_names(log_from, &names);
	for (i = 0; i < n; i++) {
		struct reftable_log_record *logs = NULL;
		size_t m = 0;

		ck_assert_int_eq(reftable_refdb_reflog_exists(f->db, names[i]), 1);
		rt_ok(reftable_refdb_read_reflog(f->db, names[i], &logs, &m));
		for (j = 0; j < m; j++)
			format_log(&t, &logs[j], f->hs);
		reftable_refdb_reflog_free(logs, m);
	}
	free_names(names, n);
	return t.data;
}

/* The same view read from the stack's own iterators: every log record,
 * to prove that no other reflog exists. */
static char *dump_stack(struct fixture *f)
{
	struct reftable_stack *st = reftable_refdb_stack(f->db);
	struct reftable_ref_record ref = { 0 };
	struct reftable_log_record log = { 0 };
	struct reftable_iterator it = { 0 };
	struct text t = { 0 };
	int err;

	text_add(&t, "", 0);
	rt_ok(reftable_stack_init_ref_iterator(st, &it));
	rt_ok(reftable_iterator_seek_ref(&it, ""));
	while ((err = reftable_iterator_next_ref(&it, &ref)) == 0)
		format_ref(&t, &ref, f->hs);
	ck_assert_int_eq(err, 1);
	reftable_iterator_destroy(&it);
	rt_ok(reftable_stack_init_log_iterator(st, &it));
	rt_ok(reftable_iterator_seek_log(&it, ""));
	while ((err = reftable_iterator_next_log(&it, &log)) == 0)
		format_log(&t, &log, f->hs);
	ck_assert_int_eq(err, 1);
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&ref);
	reftable_log_record_release(&log);
	return t.data;
}

/* Report the first differing line, not two huge strings. */
static void assert_same_text(const char *what, const char *got,
			     const char *want)
{
	size_t line = 1;
	const char *g = got, *w = want;

	while (*g && *g == *w) {
		if (*g == '\n')
			line++;
		g++;
		w++;
	}
	if (*g || *w) {
		const char *ge = strchr(g, '\n'), *we = strchr(w, '\n');
		ck_abort_msg("%s differs at line %zu:\n got: %.*s\nwant: %.*s",
			     what, line, ge ? (int)(ge - g) : (int)strlen(g), g,
			     we ? (int)(we - w) : (int)strlen(w), w);
	}
}

/* --- reading every fixture as Git wrote it ------------------------------ */

static const char *const all_fixtures[] = {
	"basic", "sha256", "many-refs", "small-blocks", "restart1-noobj",
	"bigblock-restart64", "logs-heavy",
};

/* The text without log lines whose two ids are null. */
static char *without_markers(const char *text, size_t hs)
{
	struct text t = { 0 };
	char marker[2 * (2 * REFTABLE_HASH_SIZE_MAX + 1) + 16];
	const char *p = text;

	snprintf(marker, sizeof(marker), " update %s ", rt_hex(rt_oid(0), hs));
	strcat(marker, rt_hex(rt_oid(0), hs));
	text_add(&t, "", 0);
	while (*p) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p + 1) : strlen(p);
		char *line = strndup(p, len);

		if (strncmp(line, "log ", 4) || !strstr(line, marker))
			text_add(&t, p, len);
		free(line);
		p += len;
	}
	return t.data;
}

START_TEST(read_as_expected)
{
	struct fixture f;
	char *got, *want;

	fixture_open(&f, all_fixtures[_i]);
	/* The refdb hides Git's "reflog exists" markers (logs-heavy has one,
	 * left by reflog expiry), but the reflog still exists. */
	want = without_markers(f.expected, f.hs);
	got = dump_view(&f, f.expected);
	assert_same_text(f.name, got, want);
	free(got);
	free(want);
	got = dump_stack(&f);
	assert_same_text(f.name, got, f.expected);
	free(got);
	fixture_close(&f);
}
END_TEST

/* --- transactions on every fixture -------------------------------------- */

static size_t reflog_len(struct fixture *f, const char *name)
{
	struct reftable_log_record *logs = NULL;
	size_t n = 0;

	rt_ok(reftable_refdb_read_reflog(f->db, name, &logs, &n));
	reftable_refdb_reflog_free(logs, n);
	return n;
}

/* The value of the first ref under prefix, if any. */
static int first_ref(struct fixture *f, const char *prefix, char *name,
		     size_t cap, uint8_t *value)
{
	struct reftable_ref_record ref = { 0 };
	struct reftable_iterator it = { 0 };
	int err, found = 0;

	rt_ok(reftable_refdb_init_ref_iterator(f->db, &it, prefix));
	while ((err = reftable_iterator_next_ref(&it, &ref)) == 0) {
		if (ref.value_type == REFTABLE_REF_VAL1) {
			snprintf(name, cap, "%s", ref.refname);
			memcpy(value, ref.value, f->hs);
			found = 1;
			break;
		}
	}
	ck_assert_int_ge(err, 0);
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&ref);
	return found;
}

START_TEST(transactions_on_git_stacks)
{
	struct reftable_ref_record head = { 0 }, ref = { 0 };
	struct reftable_refdb_txn *txn = NULL;
	struct reftable_log_record *logs = NULL;
	uint8_t old[REFTABLE_HASH_SIZE_MAX], other_val[REFTABLE_HASH_SIZE_MAX];
	char branch[1024], sub[1100], other[1024];
	size_t head_logs, branch_logs, n = 0;
	uint64_t idx;
	struct fixture f;
	int r, has_other;

	fixture_open(&f, all_fixtures[_i]);
	memset(old, 0, sizeof(old));

	/* Every fixture has HEAD -> refs/heads/main, born or not. */
	r = reftable_refdb_resolve(f.db, "HEAD", &head);
	ck_assert_int_ge(r, 0);
	snprintf(branch, sizeof(branch), "%s", head.refname);
	ck_assert_str_eq(branch, "refs/heads/main");
	if (r == 0)
		memcpy(old, head.value, f.hs);
	head_logs = reflog_len(&f, "HEAD");
	branch_logs = reflog_len(&f, branch);
	has_other = first_ref(&f, "refs/tags/", other, sizeof(other), other_val) ||
		    first_ref(&f, "refs/pull/", other, sizeof(other), other_val) ||
		    first_ref(&f, "refs/changes/", other, sizeof(other),
			      other_val) ||
		    first_ref(&f, "refs/heads/feature/", other, sizeof(other),
			      other_val) ||
		    first_ref(&f, "refs/heads/other", other, sizeof(other),
			      other_val);
	ck_assert(has_other);

	/* A commit through HEAD, compare-and-swap on the branch. */
	idx = rt_next_index(f.db);
	rt_ok(reftable_refdb_txn_begin(&txn, f.db, NULL));
	rt_ok(reftable_refdb_txn_update(txn, "HEAD", rt_oid(0x5a), old, 0,
					"commit: from the refdb"));
	rt_ok(reftable_refdb_txn_commit(txn));
	ck_assert_uint_eq(reftable_refdb_txn_update_index(txn), idx);
	reftable_refdb_txn_free(txn);
	rt_assert_ref(f.db, branch, 0x5a);
	ck_assert_uint_eq(reflog_len(&f, "HEAD"), head_logs + 1);
	ck_assert_uint_eq(reflog_len(&f, branch), branch_logs + 1);
	rt_ok(reftable_refdb_read_reflog(f.db, "HEAD", &logs, &n));
	ck_assert_uint_eq(logs[0].update_index, idx);
	ck_assert(!memcmp(logs[0].old_id, old, f.hs));
	ck_assert(!memcmp(logs[0].new_id, rt_oid(0x5a), f.hs));
	ck_assert_str_eq(logs[0].message, "commit: from the refdb\n");
	ck_assert_int_eq(logs[0].tz_offset, -530);
	reftable_refdb_reflog_free(logs, n);

	/* The old value is stale now: nothing written. */
	rt_fails(rt_update(f.db, branch, rt_oid(0x5b), old, NULL),
		 REFTABLE_CAS_ERROR);
	ck_assert_uint_eq(rt_next_index(f.db), idx + 1);

	/* D/F against Git's refs. */
	snprintf(sub, sizeof(sub), "%s/sub", branch);
	rt_fails(rt_update(f.db, sub, rt_oid(1), NULL, NULL),
		 REFTABLE_NAME_CONFLICT_ERROR);
	snprintf(sub, sizeof(sub), "%s/sub", other);
	rt_fails(rt_update(f.db, sub, rt_oid(1), NULL, NULL),
		 REFTABLE_NAME_CONFLICT_ERROR);

	/* Delete another of Git's refs with its expected value. */
	rt_fails(rt_delete(f.db, other, rt_oid(0x77)), REFTABLE_CAS_ERROR);
	rt_ok(rt_delete(f.db, other, other_val));
	rt_assert_absent(f.db, other);
	ck_assert_int_eq(reftable_refdb_reflog_exists(f.db, other), 0);

	/* Compaction keeps the view. */
	rt_ok(reftable_stack_compact_all(reftable_refdb_stack(f.db), NULL));
	ck_assert_int_eq(rt_table_count(f.dir), 1);
	rt_assert_ref(f.db, branch, 0x5a);
	rt_assert_absent(f.db, other);
	ck_assert_uint_eq(reflog_len(&f, "HEAD"), head_logs + 1);
	ck_assert_uint_eq(reflog_len(&f, branch), branch_logs + 1);

	/* And the database goes on from the compacted stack. */
	rt_ok(rt_update(f.db, branch, rt_oid(0x5c), rt_oid(0x5a), "after"));
	ck_assert_uint_eq(reflog_len(&f, "HEAD"), head_logs + 2);
	rt_ok(reftable_refdb_read_ref(f.db, "HEAD", &ref));
	ck_assert_int_eq(ref.value_type, REFTABLE_REF_SYMREF);

	reftable_ref_record_release(&ref);
	reftable_ref_record_release(&head);
	fixture_close(&f);
}
END_TEST

/* --- "basic", by hand ---------------------------------------------------- */

#define C4 "cc576b8f34f67463851e372fbc5b4a9d198e7081"
#define C3 "d9c25b39f0ddbea000da23e77fcb40da26db9a25"
#define C1 "e9da511636bb49c7d4f0d81df1af43f197b98361"
#define ID5 "5555555555555555555555555555555555555555"
#define ZERO "0000000000000000000000000000000000000000"
#define WHO "Fixture Committer <committer@example.com> 1700001000 -530 "
#define ME "C O Mitter <committer@example.com> 1700000000 -530 "

/* Replace the first occurrence of from in s (which must be there). */
static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	struct text t = { 0 };

	ck_assert_msg(at != NULL, "\"%s\" not found", from);
	text_add(&t, s, (size_t)(at - s));
	text_add(&t, to, strlen(to));
	text_add(&t, at + strlen(from), strlen(at + strlen(from)));
	return t.data;
}

/* What Git's reftable backend writes for `git commit` on basic: the
 * branch at update index 17, and one entry each for HEAD and main. */
START_TEST(basic_commit_by_hand)
{
	struct fixture f;
	char *want, *tmp, *got;

	fixture_open(&f, "basic");
	rt_ok(rt_update(f.db, "HEAD", rt_oid(0x55), NULL, "commit: c5"));

	tmp = replace(f.expected, "ref refs/heads/main 16 val1 " C4 "\n",
		      "ref refs/heads/main 17 val1 " ID5 "\n");
	want = replace(tmp, "log HEAD 16 ",
		       "log HEAD 17 update " C4 " " ID5 " " ME "commit: c5\\n\n"
		       "log HEAD 16 ");
	free(tmp);
	tmp = want;
	want = replace(tmp, "log refs/heads/main 16 ",
		       "log refs/heads/main 17 update " C4 " " ID5 " " ME
		       "commit: c5\\n\nlog refs/heads/main 16 ");
	free(tmp);
	got = dump_stack(&f);
	assert_same_text("basic after commit", got, want);
	free(got);
	got = dump_view(&f, want);
	assert_same_text("basic after commit (refdb)", got, want);
	free(got);
	/* The new table alone, record by record. */
	ck_assert_str_eq(rt_newest_table_logs(f.db),
			 "HEAD 17 cc 55 [commit: c5]|\n"
			 "refs/heads/main 17 cc 55 [commit: c5]|\n");
	free(want);
	fixture_close(&f);
}
END_TEST

/* git branch -D renamed, git reflog delete main@{1}, refs pointing at c3. */
START_TEST(basic_reflog_and_deletion_by_hand)
{
	struct reftable_ref_record ref = { 0 };
	struct reftable_iterator it = { 0 };
	struct fixture f;
	uint8_t c3[20];
	char *want, *tmp, *got;
	int err;

	fixture_open(&f, "basic");

	/* Refs at c3: a branch, the tag's peeled value, a light tag. */
	rt_unhex(c3, C3, 20);
	rt_ok(reftable_refdb_init_refs_for_iterator(f.db, &it, c3));
	tmp = calloc(1, 1);
	while ((err = reftable_iterator_next_ref(&it, &ref)) == 0) {
		size_t l = strlen(tmp) + strlen(ref.refname) + 2;
		tmp = realloc(tmp, l);
		strcat(tmp, ref.refname);
		strcat(tmp, " ");
	}
	ck_assert_int_eq(err, 1);
	ck_assert_str_eq(tmp, "refs/heads/renamed refs/tags/ann refs/tags/light ");
	free(tmp);
	reftable_iterator_destroy(&it);

	/* Git's own deleted entry: main has 16, 4, 2 (3 was deleted). */
	rt_ok(reftable_refdb_reflog_delete_entry(f.db, "refs/heads/main", 4, 0));
	rt_ok(rt_delete(f.db, "refs/heads/renamed", c3));

	/* Update 17 deletes main's entry 4; 18 deletes renamed and its
	 * three entries. */
	tmp = replace(f.expected, "ref refs/heads/renamed 10 val1 " C3 "\n", "");
	want = replace(tmp, "log refs/heads/main 4 update e38d03cbf2bff8274df397f17aa0d2cfba24c18e " C3 " " WHO "commit: c3\\n\n", "");
	free(tmp);
	tmp = want;
	want = replace(tmp, "log refs/heads/renamed 10 update " ZERO " " C3 " " WHO
		       "Branch: renamed refs/heads/topic to refs/heads/renamed\\n\n"
		       "log refs/heads/renamed 9 update " C3 " " ZERO " " WHO
		       "Branch: renamed refs/heads/topic to refs/heads/renamed\\n\n"
		       "log refs/heads/renamed 5 update " ZERO " " C3 " " WHO
		       "branch: Created from main\\n\n", "");
	free(tmp);
	got = dump_stack(&f);
	assert_same_text("basic after deletions", got, want);
	free(got);
	ck_assert_str_eq(rt_newest_table_logs(f.db),
			 "refs/heads/renamed 10 delete\n"
			 "refs/heads/renamed 9 delete\n"
			 "refs/heads/renamed 5 delete\n");
	ck_assert_uint_eq(rt_next_index(f.db), 19);
	/* HEAD pointed elsewhere: no HEAD entry for the deletion. */
	ck_assert_uint_eq(reflog_len(&f, "HEAD"), 4);
	free(want);
	reftable_ref_record_release(&ref);
	fixture_close(&f);
}
END_TEST

/* Reflog reads on the big log fixture: 400 entries a ref, newest first,
 * and expiry of most of them in one table. */
START_TEST(logs_heavy_expire)
{
	struct reftable_reflog_expiry ex = { 0 };
	struct reftable_log_record *logs = NULL;
	struct fixture f;
	size_t n = 0, i, before, removed = 0;
	uint64_t idx;

	fixture_open(&f, "logs-heavy");
	rt_ok(reftable_refdb_read_reflog(f.db, "refs/heads/main", &logs, &n));
	before = n;
	ck_assert_uint_gt(n, 100);
	for (i = 1; i < n; i++)
		ck_assert_uint_gt(logs[i - 1].update_index, logs[i].update_index);
	reftable_refdb_reflog_free(logs, n);

	idx = rt_next_index(f.db);
	ex.keep_newest = 10;
	rt_ok(reftable_refdb_reflog_expire(f.db, NULL, &ex, &removed));
	ck_assert_uint_eq(rt_next_index(f.db), idx + 1);
	ck_assert_uint_eq(reflog_len(&f, "refs/heads/main"), 10);
	ck_assert_uint_le(reflog_len(&f, "refs/heads/other"), 10);
	ck_assert_uint_le(reflog_len(&f, "HEAD"), 10);
	ck_assert_uint_ge(removed, before - 10);
	rt_ok(reftable_stack_compact_all(reftable_refdb_stack(f.db), NULL));
	ck_assert_uint_eq(reflog_len(&f, "refs/heads/main"), 10);
	fixture_close(&f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("refdb-fixtures");
	TCase *tc = tcase_create("fixtures");
	int n = (int)(sizeof(all_fixtures) / sizeof(all_fixtures[0]));

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, read_as_expected, 0, n);
	tcase_add_loop_test(tc, transactions_on_git_stacks, 0, n);
	tcase_add_test(tc, basic_commit_by_hand);
	tcase_add_test(tc, basic_reflog_and_deletion_by_hand);
	tcase_add_test(tc, logs_heavy_expire);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
