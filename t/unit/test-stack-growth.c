/*
 * The growth law of auto-compaction: after n single-ref transactions
 * (each a ref and its reflog entry), the stack holds O(log n) tables and
 * the bytes rewritten per transaction stay bounded by O(log n) times the
 * size of one transaction's records. Prints the figures it measures.
 *
 * REFTABLE_GROWTH_N overrides n (default 10000).
 */

#include <check.h>
#include <inttypes.h>

#include "test-stack-helpers.h"

static double log2_of(double x)
{
	double l = 0;

	while (x >= 2) {
		x /= 2;
		l += 1;
	}
	return l + (x - 1); /* close enough between powers of two */
}

START_TEST(growth_law)
{
	const char *env = getenv("REFTABLE_GROWTH_N");
	long n = env ? atol(env) : 10000, i;
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	const struct reftable_compaction_stats *cs;
	uint64_t added_bytes, final_bytes = 0, max_step = 0, before;
	struct hook_fs h;
	size_t max_tables = 0, tables;
	struct reftable_merged *m;
	char name[64];
	double lg, per_txn, per_txn_bound, record_bytes;

	ck_assert_int_gt(n, 1);
	hook_fs_init(&h);
	o.fs = &h.fs; /* only to count the bytes of new tables */
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	cs = reftable_stack_compaction_stats(st);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "refs/heads/branch-%06ld", i);
		before = cs->bytes;
		CHECK_OK(test_add_ref(st, name, (uint8_t)(i + 1), 0));
		if (cs->bytes - before > max_step)
			max_step = cs->bytes - before;
		m = reftable_stack_merged(st);
		tables = reftable_merged_table_count(m);
		if (tables > max_tables)
			max_tables = tables;
		/* At every point, not just at the end. */
		ck_assert_msg(tables <= 2 * log2_of((double)(i + 1)) + 2,
			      "%zu tables after %ld transactions", tables,
			      i + 1);
	}
	m = reftable_stack_merged(st);
	tables = reftable_merged_table_count(m);
	for (i = 0; i < (long)tables; i++)
		final_bytes += reftable_table_size(reftable_merged_table(m, i));
	added_bytes = h.tmp_bytes - cs->bytes;

	lg = log2_of((double)n);
	record_bytes = (double)final_bytes / (double)n;
	per_txn = (double)cs->bytes / (double)n;
	/*
	 * Each record is rewritten about once per doubling of the table it
	 * lives in: about log2(n) times. Allow four times that, plus the
	 * fixed header and footer of the many small merges.
	 */
	per_txn_bound = 4 * lg * record_bytes + 4 * lg * 100;
	printf("growth: n=%ld tables=%zu (max %zu, 2*log2(n)+2=%.1f)\n", n,
	       tables, max_tables, 2 * lg + 2);
	printf("growth: final stack %" PRIu64 " bytes (%.1f per ref)\n",
	       final_bytes, record_bytes);
	printf("growth: compaction wrote %" PRIu64 " bytes in %" PRIu64
	       " compactions (%" PRIu64 " records); %.0f bytes (%.2f final "
	       "record sizes) per transaction; bound %.0f\n",
	       cs->bytes, cs->attempts, cs->entries_written, per_txn,
	       per_txn / record_bytes, per_txn_bound);
	printf("growth: the transactions themselves wrote %" PRIu64
	       " bytes (%.0f per transaction)\n", added_bytes,
	       (double)added_bytes / (double)n);
	printf("growth: the most one transaction's compaction rewrote: %"
	       PRIu64 " bytes (a full merge; amortized it is the figure "
	       "above)\n", max_step);
	printf("growth: records rewritten per transaction %.2f (log2(n)=%.2f)\n",
	       (double)cs->entries_written / (double)n, lg);
	fflush(stdout);

	ck_assert_uint_le(tables, 2 * lg + 2);
	ck_assert(per_txn <= per_txn_bound);
	ck_assert((double)cs->entries_written / (double)n <= 2 * 2 * lg);
	ck_assert_uint_eq(cs->failures, 0);

	/* Nothing was lost on the way. */
	{
		struct reftable_iterator it = { 0 };
		struct reftable_ref_record ref = { 0 };
		long count = 0;
		int err;

		CHECK_OK(reftable_stack_init_ref_iterator(st, &it));
		CHECK_OK(reftable_iterator_seek_ref(&it, ""));
		while ((err = reftable_iterator_next_ref(&it, &ref)) == 0) {
			snprintf(name, sizeof(name), "refs/heads/branch-%06ld",
				 count);
			ck_assert_str_eq(ref.refname, name);
			ck_assert_uint_eq(ref.value[0], (uint8_t)(count + 1));
			count++;
		}
		ck_assert_int_eq(err, 1);
		ck_assert_int_eq(count, n);
		reftable_iterator_destroy(&it);
		reftable_ref_record_release(&ref);
	}
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), (int)tables);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stack-growth");
	TCase *tc = tcase_create("growth");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 1200);
	tcase_add_test(tc, growth_law);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
