/* The writer's refusals and failures, and its output the same every time. */

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"

/* --- the writer's refusals ---------------------------------------------------- */

static struct reftable_writer *new_writer(struct tl_sink *s, uint32_t bs)
{
	struct reftable_write_options o = { 0 };
	struct reftable_writer *w = NULL;

	o.block_size = bs;
	ck_assert_int_eq(reftable_writer_new(&w, tl_sink_write, s, &o), 0);
	ck_assert_int_eq(reftable_writer_set_limits(w, 10, 20), 0);
	return w;
}

static struct reftable_ref_record mkref(const char *name, uint64_t ui)
{
	struct reftable_ref_record r = { 0 };
	r.refname = (char *)name;
	r.update_index = ui;
	r.value_type = REFTABLE_REF_VAL1;
	memset(r.value, 1, sizeof(r.value));
	return r;
}

static struct reftable_log_record mklog(const char *name, uint64_t ui)
{
	struct reftable_log_record l = { 0 };
	l.refname = (char *)name;
	l.update_index = ui;
	l.value_type = REFTABLE_LOG_UPDATE;
	l.name = "n";
	l.email = "e";
	l.message = "m";
	return l;
}

START_TEST(refuse_out_of_order)
{
	struct tl_sink s = TL_SINK_INIT;
	struct reftable_writer *w = new_writer(&s, 0);
	struct reftable_ref_record a = mkref("refs/a", 10), b = mkref("refs/b", 10);
	struct reftable_log_record la = mklog("refs/a", 15), lb = mklog("refs/b", 15);
	struct reftable_log_record la_newer = mklog("refs/a", 16);

	ck_assert_int_eq(reftable_writer_add_ref(w, &b), 0);
	ck_assert_int_eq(reftable_writer_add_ref(w, &a),
			 REFTABLE_OUT_OF_ORDER_ERROR);
	reftable_writer_free(w);
	tl_sink_release(&s);

	/* Logs: names ascending, then update indexes descending. */
	w = new_writer(&s, 0);
	ck_assert_int_eq(reftable_writer_add_log(w, &lb), 0);
	ck_assert_int_eq(reftable_writer_add_log(w, &la),
			 REFTABLE_OUT_OF_ORDER_ERROR);
	reftable_writer_free(w);
	tl_sink_release(&s);

	w = new_writer(&s, 0);
	ck_assert_int_eq(reftable_writer_add_log(w, &la), 0);
	ck_assert_int_eq(reftable_writer_add_log(w, &la_newer),
			 REFTABLE_OUT_OF_ORDER_ERROR);
	reftable_writer_free(w);
	tl_sink_release(&s);

	/* A ref after a log is out of order too (refs come first). */
	w = new_writer(&s, 0);
	ck_assert_int_eq(reftable_writer_add_log(w, &la), 0);
	ck_assert_int_lt(reftable_writer_add_ref(w, &b), 0);
	reftable_writer_free(w);
	tl_sink_release(&s);
}
END_TEST

START_TEST(refuse_duplicate)
{
	struct tl_sink s = TL_SINK_INIT;
	struct reftable_writer *w = new_writer(&s, 0);
	struct reftable_ref_record a = mkref("refs/a", 10), a2 = mkref("refs/a", 12);
	struct reftable_log_record la = mklog("refs/a", 15);

	ck_assert_int_eq(reftable_writer_add_ref(w, &a), 0);
	ck_assert_int_eq(reftable_writer_add_ref(w, &a2),
			 REFTABLE_DUPLICATE_KEY_ERROR);
	reftable_writer_free(w);
	tl_sink_release(&s);

	w = new_writer(&s, 0);
	ck_assert_int_eq(reftable_writer_add_log(w, &la), 0);
	ck_assert_int_eq(reftable_writer_add_log(w, &la),
			 REFTABLE_DUPLICATE_KEY_ERROR);
	reftable_writer_free(w);
	tl_sink_release(&s);
}
END_TEST

START_TEST(refuse_too_big)
{
	struct tl_sink s = TL_SINK_INIT;
	struct reftable_writer *w = new_writer(&s, 256);
	char name[400], msg[400];
	struct reftable_ref_record big, small = mkref("refs/a", 10);
	struct reftable_log_record lbig;

	memset(name, 'x', sizeof(name));
	memcpy(name, "refs/b", 6);
	name[sizeof(name) - 1] = '\0';
	big = mkref(name, 10);
	ck_assert_int_eq(reftable_writer_add_ref(w, &small), 0);
	ck_assert_int_eq(reftable_writer_add_ref(w, &big),
			 REFTABLE_ENTRY_TOO_BIG_ERROR);
	reftable_writer_free(w);
	tl_sink_release(&s);

	/* A log entry that cannot fit an (uncompressed) log block. */
	w = new_writer(&s, 256);
	memset(msg, 'm', sizeof(msg));
	msg[sizeof(msg) - 1] = '\0';
	lbig = mklog("refs/a", 12);
	lbig.message = msg;
	ck_assert_int_eq(reftable_writer_add_log(w, &lbig),
			 REFTABLE_ENTRY_TOO_BIG_ERROR);
	reftable_writer_free(w);
	tl_sink_release(&s);
}
END_TEST

/*
 * Block sizes below 128 as Git takes them (its t0613 writes 100-byte
 * blocks): several refs spread over several ref blocks and read back; at
 * the smallest size a block can be framed in, a record that cannot fit
 * is refused with REFTABLE_ENTRY_TOO_BIG_ERROR, as in Git, never written
 * past the block.
 */
START_TEST(small_blocks_as_git_takes_them)
{
	static const char *const names[] = { "HEAD", "refs/heads/main",
					     "refs/tags/A", "refs/tags/B" };
	struct tl_sink s = TL_SINK_INIT;
	struct reftable_writer *w = new_writer(&s, 100);
	struct reftable_table *t;
	struct tl_refs back = { 0 };
	struct reftable_ref_record r;
	size_t i;

	for (i = 0; i < 4; i++) {
		r = mkref(names[i], 10);
		ck_assert_int_eq(reftable_writer_add_ref(w, &r), 0);
	}
	ck_assert_int_eq(reftable_writer_close(w), 0);
	ck_assert_uint_ge(reftable_writer_stats(w)->ref.blocks, 2);
	reftable_writer_free(w);
	t = tl_open_buffer(s.data, s.len, "small.ref");
	ck_assert_int_eq(tl_table_refs(t, &back), 1); /* read to the end */
	ck_assert_uint_eq(back.n, 4);
	for (i = 0; i < 4; i++)
		ck_assert_str_eq(back.v[i].refname, names[i]);
	tl_refs_free(&back);
	reftable_table_decref(t);
	tl_sink_release(&s);

	w = new_writer(&s, REFTABLE_MIN_BLOCK_SIZE);
	r = mkref("refs/heads/main", 10);
	ck_assert_int_eq(reftable_writer_add_ref(w, &r),
			 REFTABLE_ENTRY_TOO_BIG_ERROR);
	reftable_writer_free(w);
	tl_sink_release(&s);
}
END_TEST

START_TEST(refuse_update_index)
{
	struct tl_sink s = TL_SINK_INIT;
	struct reftable_writer *w = new_writer(&s, 0); /* limits 10..20 */
	struct reftable_ref_record lo = mkref("refs/a", 9), hi = mkref("refs/a", 21);
	struct reftable_ref_record ok = mkref("refs/a", 10), ok2 = mkref("refs/b", 20);
	struct reftable_log_record lhi = mklog("refs/a", 21);
	struct reftable_log_record lmax = mklog("refs/a", 20), llow = mklog("refs/a", 2);

	ck_assert_int_eq(reftable_writer_add_ref(w, &lo),
			 REFTABLE_UPDATE_INDEX_ERROR);
	ck_assert_int_eq(reftable_writer_add_ref(w, &hi),
			 REFTABLE_UPDATE_INDEX_ERROR);
	/* The limits themselves are allowed. */
	ck_assert_int_eq(reftable_writer_add_ref(w, &ok), 0);
	ck_assert_int_eq(reftable_writer_add_ref(w, &ok2), 0);
	ck_assert_int_eq(reftable_writer_add_log(w, &lhi),
			 REFTABLE_UPDATE_INDEX_ERROR);
	/* Logs at most max, and below min is allowed (expired history). */
	ck_assert_int_eq(reftable_writer_add_log(w, &lmax), 0);
	ck_assert_int_eq(reftable_writer_add_log(w, &llow), 0);
	ck_assert_int_eq(reftable_writer_close(w), 0);
	reftable_writer_free(w);
	tl_sink_release(&s);
}
END_TEST

START_TEST(refuse_bad_options)
{
	struct reftable_write_options o = { 0 };
	struct reftable_writer *w = NULL;
	struct tl_sink s = TL_SINK_INIT;

	o.block_size = REFTABLE_MAX_BLOCK_SIZE + 1;
	ck_assert_int_eq(reftable_writer_new(&w, tl_sink_write, &s, &o),
			 REFTABLE_RANGE_ERROR);
	o.block_size = UINT32_MAX;
	ck_assert_int_eq(reftable_writer_new(&w, tl_sink_write, &s, &o),
			 REFTABLE_RANGE_ERROR);
	o.block_size = REFTABLE_MIN_BLOCK_SIZE - 1;
	ck_assert_int_eq(reftable_writer_new(&w, tl_sink_write, &s, &o),
			 REFTABLE_RANGE_ERROR);
	o.block_size = 1;
	ck_assert_int_eq(reftable_writer_new(&w, tl_sink_write, &s, &o),
			 REFTABLE_RANGE_ERROR);
	o.block_size = 0;
	o.hash_id = (enum reftable_hash)9;
	ck_assert_int_lt(reftable_writer_new(&w, tl_sink_write, &s, &o), 0);

	/* The extremes themselves are accepted. */
	o.hash_id = 0;
	o.block_size = REFTABLE_MIN_BLOCK_SIZE;
	ck_assert_int_eq(reftable_writer_new(&w, tl_sink_write, &s, &o), 0);
	reftable_writer_free(w);
	o.block_size = REFTABLE_MAX_BLOCK_SIZE;
	ck_assert_int_eq(reftable_writer_new(&w, tl_sink_write, &s, &o), 0);
	reftable_writer_free(w);
	tl_sink_release(&s);
}
END_TEST

/* A failing sink: every write failure becomes REFTABLE_IO_ERROR. */
START_TEST(write_failure)
{
	struct reftable_write_options o = { 0 };
	struct tl_gen_opts g = { 0 };
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct tl_sink full = TL_SINK_INIT;
	struct tl_rng r;
	size_t at;

	o.block_size = 512;
	g.nrefs = 100;
	g.nlogs = 100;
	g.hash_size = 20;
	g.min = 1;
	g.max = 10;
	g.max_name = 40;
	g.max_message = 30;
	tl_rng_init(&r, 3);
	tl_gen_model(&r, &g, &refs, &logs);
	ck_assert_int_eq(tl_write_table(&full, &o, 1, 10, &refs, &logs, NULL), 0);
	for (at = 1; at < full.len; at += full.len / 37 + 1) {
		struct tl_sink s = TL_SINK_INIT;
		int err;

		s.fail_at = at;
		err = tl_write_table(&s, &o, 1, 10, &refs, &logs, NULL);
		ck_assert_msg(err == REFTABLE_IO_ERROR,
			      "failing after %zu bytes: %d", at, err);
		tl_sink_release(&s);
	}
	tl_sink_release(&full);
	tl_refs_free(&refs);
	tl_logs_free(&logs);
}
END_TEST

/* Writing the same records twice gives the same bytes. */
START_TEST(deterministic)
{
	struct reftable_write_options o = { 0 };
	struct tl_gen_opts g = { 0 };
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct tl_sink a = TL_SINK_INIT, b = TL_SINK_INIT;
	struct tl_rng r;

	g.nrefs = 500;
	g.nlogs = 500;
	g.hash_size = 20;
	g.min = 1;
	g.max = 10;
	g.max_name = 60;
	g.max_message = 100;
	g.with_deletions = 1;
	tl_rng_init(&r, 9);
	tl_gen_model(&r, &g, &refs, &logs);
	ck_assert_int_eq(tl_write_table(&a, &o, 1, 10, &refs, &logs, NULL), 0);
	ck_assert_int_eq(tl_write_table(&b, &o, 1, 10, &refs, &logs, NULL), 0);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert(!memcmp(a.data, b.data, a.len));
	tl_sink_release(&a);
	tl_sink_release(&b);
	tl_refs_free(&refs);
	tl_logs_free(&logs);
}
END_TEST

/* A sink whose second write call fails, and only that one. */
static int flaky_writes;

static ssize_t flaky_write(void *arg, const void *buf, size_t len)
{
	(void)arg;
	(void)buf;
	return ++flaky_writes == 2 ? -1 : (ssize_t)len;
}

/*
 * A caller that ignores a failed write and goes on must not get a table
 * with a hole in it: every later call fails, close included.
 */
START_TEST(writer_fails_after_failed_write)
{
	struct reftable_write_options o = { 0 };
	struct reftable_writer *w;
	char name[32];
	int i, failed = 0;

	o.block_size = 1024;
	flaky_writes = 0;
	ck_assert_int_eq(reftable_writer_new(&w, flaky_write, NULL, &o), 0);
	ck_assert_int_eq(reftable_writer_set_limits(w, 1, 1), 0);
	for (i = 0; i < 30000; i++) { /* output goes out in 256 KiB */
		struct reftable_ref_record r = mkref(name, 1);

		snprintf(name, sizeof(name), "refs/heads/b%05d", i);
		if (reftable_writer_add_ref(w, &r) == REFTABLE_IO_ERROR)
			failed++;
	}
	ck_assert_int_ge(flaky_writes, 2);
	ck_assert_int_gt(failed, 0);
	ck_assert_int_eq(reftable_writer_close(w), REFTABLE_IO_ERROR);
	reftable_writer_free(w);
}
END_TEST

/* Logs of many blocks, for two writers at once. */
static void add_logs(struct reftable_writer *w, int from, int to)
{
	char name[32];
	int i;

	for (i = from; i < to; i++) {
		struct reftable_log_record l;

		snprintf(name, sizeof(name), "refs/heads/b%05d", i);
		l = mklog(name, 15);
		ck_assert_int_eq(reftable_writer_add_log(w, &l), 0);
	}
}

/*
 * Writers share a spare deflate stream (block.c). Two writers deflating
 * at the same time, one taking the spare and one making its own, then
 * each handing theirs back, still write what one writer alone writes.
 */
START_TEST(deflate_streams_shared)
{
	struct tl_sink a = TL_SINK_INIT, b = TL_SINK_INIT, alone = TL_SINK_INIT;
	struct reftable_writer *wa = new_writer(&a, 1024);
	struct reftable_writer *wb = new_writer(&b, 1024);
	struct reftable_writer *w1 = new_writer(&alone, 1024);

	add_logs(wa, 0, 300); /* several blocks deflated */
	add_logs(wb, 0, 300);
	add_logs(wa, 300, 600);
	add_logs(wb, 300, 600);
	ck_assert_int_eq(reftable_writer_close(wa), 0);
	reftable_writer_free(wa);
	ck_assert_int_eq(reftable_writer_close(wb), 0);
	reftable_writer_free(wb);
	add_logs(w1, 0, 600);
	ck_assert_int_eq(reftable_writer_close(w1), 0);
	reftable_writer_free(w1);

	ck_assert_uint_gt(alone.len, 4 * 1024);
	ck_assert_uint_eq(a.len, alone.len);
	ck_assert_uint_eq(b.len, alone.len);
	ck_assert(!memcmp(a.data, alone.data, alone.len));
	ck_assert(!memcmp(b.data, alone.data, alone.len));
	tl_sink_release(&a);
	tl_sink_release(&b);
	tl_sink_release(&alone);
}
END_TEST

static Suite *writer_suite(void)
{
	Suite *s = suite_create("writer");
	TCase *tc = tcase_create("writer");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, deterministic);
	tcase_add_test(tc, deflate_streams_shared);
	tcase_add_test(tc, writer_fails_after_failed_write);
	suite_add_tcase(s, tc);

	tc = tcase_create("refusals");
	tcase_add_test(tc, refuse_out_of_order);
	tcase_add_test(tc, refuse_duplicate);
	tcase_add_test(tc, refuse_too_big);
	tcase_add_test(tc, small_blocks_as_git_takes_them);
	tcase_add_test(tc, refuse_update_index);
	tcase_add_test(tc, refuse_bad_options);
	tcase_add_test(tc, write_failure);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tl_run_suite(writer_suite());
}
