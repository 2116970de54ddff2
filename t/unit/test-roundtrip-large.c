/* Large tables read back: many blocks, deep indexes, random models. */

#include "test-roundtrip-helpers.h"

/* --- a large table ------------------------------------------------------ */

START_TEST(large_table)
{
	struct reftable_write_options o = { 0 };
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct reftable_ref_record ref = { 0 };
	struct reftable_log_record log = { 0 };
	struct reftable_write_stats st;
	struct tl_rng r;
	char name[64], msg[64];
	size_t i;

	tl_rng_init(&r, 100000);
	for (i = 0; i < 100000; i++) {
		/* Sorted by construction: fixed-width numbers. */
		snprintf(name, sizeof(name), "refs/heads/branch-%06zu", i);
		ref.refname = name;
		ref.update_index = 1 + i % 5000;
		ref.value_type = i % 10 == 9 ? REFTABLE_REF_VAL2 : REFTABLE_REF_VAL1;
		tl_rng_bytes(&r, ref.value, 20);
		tl_rng_bytes(&r, ref.peeled, 20);
		tl_refs_add(&refs, &ref);
	}
	for (i = 0; i < 5000; i++) {
		/* 50 reflogs of 100 entries, newest first. */
		snprintf(name, sizeof(name), "refs/heads/branch-%06zu",
			 (i / 100) * 1999);
		snprintf(msg, sizeof(msg), "commit: change %zu\n", i);
		log.refname = name;
		log.update_index = 5000 - i % 100;
		log.value_type = REFTABLE_LOG_UPDATE;
		tl_rng_bytes(&r, log.old_id, 20);
		tl_rng_bytes(&r, log.new_id, 20);
		log.name = "A U Thor";
		log.email = "author@example.com";
		log.time = 1700000000 + i;
		log.tz_offset = 100;
		log.message = msg;
		tl_logs_add(&logs, &log);
	}
	/* Point lookups for every 7th record keep the time reasonable; the
	 * iteration still compares all of them. */
	roundtrip(&o, 1, 5000, &refs, &logs, 7, &st, "100000 refs");
	ck_assert_uint_eq(st.ref.entries, 100000);
	ck_assert_int_ge(st.ref.max_index_level, 1);
	ck_assert_uint_gt(st.log.blocks, 1);
	ck_assert_uint_gt(st.log.index_blocks, 0);
	ck_assert_uint_gt(st.obj.entries, 0);
	tl_refs_free(&refs);
	tl_logs_free(&logs);
}
END_TEST

/* Small blocks and many refs: an index over the index. */
START_TEST(multi_level_index)
{
	struct reftable_write_options o = { 0 };
	struct tl_gen_opts g = { 0 };
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct reftable_write_stats st;
	struct tl_rng r;

	o.block_size = 256;
	o.unpadded = _i;
	g.nrefs = 6000;
	g.nlogs = 3000;
	g.hash_size = 20;
	g.min = 1;
	g.max = 100;
	g.max_name = 40;
	g.max_message = 30;
	g.with_deletions = 1;
	g.oid_pool = 4000;
	tl_rng_init(&r, 256);
	tl_gen_model(&r, &g, &refs, &logs);
	roundtrip(&o, 1, 100, &refs, &logs, 3, &st,
		  _i ? "multi-level index, unpadded" : "multi-level index");
	ck_assert_msg(st.ref.max_index_level >= 2, "ref index levels: %d",
		      st.ref.max_index_level);
	ck_assert_msg(st.obj.max_index_level >= 2, "obj index levels: %d",
		      st.obj.max_index_level);
	ck_assert_msg(st.log.max_index_level >= 1, "log index levels: %d",
		      st.log.max_index_level);
	tl_refs_free(&refs);
	tl_logs_free(&logs);
}
END_TEST

/* Random options and contents from fixed seeds. */
START_TEST(randomized)
{
	struct reftable_write_options o = { 0 };
	struct tl_gen_opts g = { 0 };
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct tl_rng r;
	char ctx[160];

	tl_rng_init(&r, 0xC0FFEE00 + (uint64_t)_i);
	o.block_size = (uint32_t)(256 + tl_rng_below(&r, 20000));
	o.restart_interval = (uint16_t)(1 + tl_rng_below(&r, 100));
	o.unpadded = (int)tl_rng_below(&r, 2);
	o.skip_index_objects = (int)tl_rng_below(&r, 2);
	o.hash_id = tl_rng_below(&r, 2) ? REFTABLE_HASH_SHA256
					: REFTABLE_HASH_SHA1;
	g.nrefs = tl_rng_below(&r, 800);
	g.nlogs = tl_rng_below(&r, 800);
	g.hash_size = tl_hash_size(o.hash_id);
	g.min = tl_rng_below(&r, 1000);
	g.max = g.min + tl_rng_below(&r, 100000);
	g.max_name = o.block_size < 512 ? 40 : 120;
	g.max_message = o.block_size < 512 ? 30 : 300;
	g.with_deletions = (int)tl_rng_below(&r, 2);
	g.oid_pool = 1 + tl_rng_below(&r, 500);
	tl_gen_model(&r, &g, &refs, &logs);
	snprintf(ctx, sizeof(ctx), "seed %d: block %u restart %u %s %s %s, "
		 "%zu refs %zu logs", _i, (unsigned)o.block_size,
		 (unsigned)o.restart_interval, o.unpadded ? "unpadded" : "padded",
		 o.skip_index_objects ? "no-obj" : "obj",
		 g.hash_size == 32 ? "sha256" : "sha1", refs.n, logs.n);
	roundtrip(&o, g.min, g.max, &refs, &logs, 1, NULL, ctx);
	tl_refs_free(&refs);
	tl_logs_free(&logs);
}
END_TEST

static Suite *large_suite(void)
{
	Suite *s = suite_create("roundtrip-large");
	TCase *tc = tcase_create("large");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, large_table);
	tcase_add_loop_test(tc, multi_level_index, 0, 2);
	tcase_add_loop_test(tc, randomized, 0, 24);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tl_run_suite(large_suite());
}
