/* Special tables read back: empty, one-sided, full blocks, big records. */

#include "test-roundtrip-helpers.h"

/* --- special tables ---------------------------------------------------------- */

START_TEST(empty_table)
{
	struct reftable_write_options o = { 0 };
	int v = _i;
	struct tl_sink s = TL_SINK_INIT;
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct reftable_table *t;
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record rec = { 0 };
	struct reftable_log_record log = { 0 };
	struct tl_source src;
	uint8_t oid[32] = { 1, 2, 3 };
	size_t hs;
	char ctx[64];

	o.hash_id = v & 1 ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1;
	o.unpadded = !!(v & 2);
	o.block_size = v & 4 ? 256 : 0;
	hs = tl_hash_size(o.hash_id);
	snprintf(ctx, sizeof(ctx), "empty table %d", v);
	ck_assert_int_eq(tl_write_table(&s, &o, 4, 9, NULL, NULL, NULL), 0);
	/* Just a header and a footer. */
	ck_assert_uint_eq(s.len, hs == 20 ? 24 + 68 : 28 + 72);
	t = tl_open_buffer(s.data, s.len, "empty.ref");
	ck_assert(reftable_table_min_update_index(t) == 4);
	ck_assert(reftable_table_max_update_index(t) == 9);

	ck_assert_int_eq(reftable_table_init_ref_iterator(t, &it), 0);
	ck_assert_int_eq(reftable_iterator_seek_ref(&it, ""), 0);
	ck_assert_int_eq(reftable_iterator_next_ref(&it, &rec), 1);
	ck_assert_int_eq(reftable_iterator_seek_ref(&it, "refs/heads/x"), 0);
	ck_assert_int_eq(reftable_iterator_next_ref(&it, &rec), 1);
	reftable_iterator_destroy(&it);
	ck_assert_int_eq(reftable_table_init_log_iterator(t, &it), 0);
	ck_assert_int_eq(reftable_iterator_seek_log(&it, ""), 0);
	ck_assert_int_eq(reftable_iterator_next_log(&it, &log), 1);
	reftable_iterator_destroy(&it);
	ck_assert_int_eq(reftable_table_read_ref(t, "HEAD", &rec), 1);
	ck_assert_int_eq(reftable_table_refs_for(t, oid, &it), 0);
	ck_assert_int_eq(reftable_iterator_next_ref(&it, &rec), 1);
	reftable_iterator_destroy(&it);

	tl_source_table(&src, t);
	tl_verify(&src, &refs, &logs, hs, 1, ctx);
	reftable_table_decref(t);
	tl_sink_release(&s);
}
END_TEST

static void one_sided(int with_refs, int with_logs, int v)
{
	struct reftable_write_options o = { 0 };
	struct tl_gen_opts g = { 0 };
	struct tl_refs refs = { 0 }, none = { 0 };
	struct tl_logs logs = { 0 }, nologs = { 0 };
	struct reftable_write_stats st;
	struct tl_rng r;
	char ctx[96];

	o.hash_id = v & 1 ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1;
	o.block_size = v & 2 ? 256 : 4096;
	o.unpadded = !!(v & 4);
	g.nrefs = with_refs ? 400 : 0;
	g.nlogs = with_logs ? 600 : 0;
	g.hash_size = tl_hash_size(o.hash_id);
	g.min = 1;
	g.max = 500;
	g.max_name = 40;
	g.max_message = 40;
	g.with_deletions = 1;
	g.oid_pool = 100;
	tl_rng_init(&r, 77 + (uint64_t)v);
	tl_gen_model(&r, &g, with_refs ? &refs : &none, &logs);
	if (!with_logs)
		tl_logs_free(&logs);
	snprintf(ctx, sizeof(ctx), "%s-only table, variant %d",
		 with_refs ? "ref" : "log", v);
	roundtrip(&o, g.min, g.max, &refs, with_logs ? &logs : &nologs, 1,
		  &st, ctx);
	if (!with_refs) {
		ck_assert_uint_eq(st.ref.blocks, 0);
		ck_assert_uint_eq(st.obj.blocks, 0);
	}
	if (!with_logs)
		ck_assert_uint_eq(st.log.blocks, 0);
	tl_refs_free(&refs);
	tl_refs_free(&none);
	tl_logs_free(&logs);
}

START_TEST(log_only_table)
{
	one_sided(0, 1, _i);
}
END_TEST

START_TEST(ref_only_table)
{
	one_sided(1, 0, _i);
}
END_TEST

/* All four value types, and log updates and deletions, by hand. */
START_TEST(value_types)
{
	struct reftable_write_options o = { 0 };
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct reftable_ref_record ref = { 0 };
	struct reftable_log_record log = { 0 };
	int h;

	for (h = 0; h < 2; h++) {
		o.hash_id = h ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1;
		ref.refname = "HEAD";
		ref.update_index = 1;
		ref.value_type = REFTABLE_REF_SYMREF;
		ref.target = "refs/heads/main";
		tl_refs_add(&refs, &ref);
		ref.target = NULL;
		ref.refname = "refs/heads/gone";
		ref.update_index = 2;
		ref.value_type = REFTABLE_REF_DELETION;
		tl_refs_add(&refs, &ref);
		ref.refname = "refs/heads/main";
		ref.value_type = REFTABLE_REF_VAL1;
		memset(ref.value, 0x11, sizeof(ref.value));
		tl_refs_add(&refs, &ref);
		ref.refname = "refs/tags/v1";
		ref.update_index = 3;
		ref.value_type = REFTABLE_REF_VAL2;
		memset(ref.value, 0x22, sizeof(ref.value));
		memset(ref.peeled, 0x11, sizeof(ref.peeled));
		tl_refs_add(&refs, &ref);
		/* A symref may point anywhere, even at nothing. */
		ref.refname = "refs/x";
		ref.value_type = REFTABLE_REF_SYMREF;
		ref.target = "";
		tl_refs_add(&refs, &ref);

		log.refname = "refs/heads/main";
		log.update_index = 3;
		log.value_type = REFTABLE_LOG_UPDATE;
		memset(log.old_id, 0x11, sizeof(log.old_id));
		memset(log.new_id, 0x33, sizeof(log.new_id));
		log.name = "N\\a\tme";
		log.email = "e@x";
		log.time = 1700001000;
		log.tz_offset = -530;
		log.message = "line1\nline2\x01\n";
		tl_logs_add(&logs, &log);
		log.update_index = 2;
		log.message = "";
		log.tz_offset = 32767;
		log.time = UINT64_MAX;
		tl_logs_add(&logs, &log);
		memset(&log, 0, sizeof(log));
		log.refname = "refs/heads/main";
		log.update_index = 1;
		log.value_type = REFTABLE_LOG_DELETION;
		tl_logs_add(&logs, &log);
		log.refname = "refs/heads/zzz";
		log.update_index = 0;
		tl_logs_add(&logs, &log);

		roundtrip(&o, 1, 3, &refs, &logs, 1, NULL,
			  h ? "value types sha256" : "value types sha1");
		tl_refs_free(&refs);
		tl_logs_free(&logs);
	}
}
END_TEST

/* Write a table holding one ref named by len bytes; the writer's code. */
static int write_one_ref(uint32_t block_size, size_t len, int unpadded,
			 struct tl_sink *out)
{
	struct reftable_write_options o = { 0 };
	struct reftable_ref_record ref = { 0 };
	struct tl_refs refs = { 0 };
	char *name = malloc(len + 1);
	int err;

	ck_assert(name != NULL);
	memcpy(name, "refs/", 5);
	memset(name + 5, 'n', len - 5);
	name[len] = '\0';
	ref.refname = name;
	ref.update_index = 1;
	ref.value_type = REFTABLE_REF_VAL1;
	memset(ref.value, 0x42, sizeof(ref.value));
	tl_refs_add(&refs, &ref);
	o.block_size = block_size;
	o.unpadded = unpadded;
	err = tl_write_table(out, &o, 1, 1, &refs, NULL, NULL);
	free(name);
	tl_refs_free(&refs);
	return err;
}

/*
 * The longest name that fits: found by bisection, it must nearly fill the
 * block; one byte more is refused with ENTRY_TOO_BIG, and the largest
 * table reads back.
 */
START_TEST(nearly_full_block)
{
	static const uint32_t sizes[] = { 256, 300, 1000, 4096 };
	uint32_t bs = sizes[_i];
	size_t lo = 6, hi = bs + 16, mid;
	struct tl_sink s = TL_SINK_INIT;
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct reftable_table *t;
	struct tl_source src;
	char ctx[64];
	int err;

	/* lo fits, hi does not. */
	ck_assert_int_eq(write_one_ref(bs, lo, 0, &s), 0);
	tl_sink_release(&s);
	err = write_one_ref(bs, hi, 0, &s);
	ck_assert_msg(err == REFTABLE_ENTRY_TOO_BIG_ERROR,
		      "block %u, a %zu-byte name: %d", (unsigned)bs, hi, err);
	tl_sink_release(&s);
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		err = write_one_ref(bs, mid, 0, &s);
		tl_sink_release(&s);
		if (err == 0) {
			lo = mid;
		} else {
			ck_assert_int_eq(err, REFTABLE_ENTRY_TOO_BIG_ERROR);
			hi = mid;
		}
	}
	/*
	 * Overhead of a lone ref in the first block: header 24, block header
	 * 4, one restart 3, restart count 2, and in the record 1 + 2 + 1
	 * bytes of varints and a 20-byte id: 57 bytes. Allow some slack for
	 * a writer that reserves room differently, but not much.
	 */
	ck_assert_msg(lo + 57 <= bs && lo + 57 + 16 >= bs,
		      "block %u: longest name %zu bytes", (unsigned)bs, lo);

	ck_assert_int_eq(write_one_ref(bs, lo, 0, &s), 0);
	t = tl_open_buffer(s.data, s.len, "full.ref");
	ck_assert_int_eq(tl_table_refs(t, &refs), 1);
	ck_assert_uint_eq(refs.n, 1);
	ck_assert_uint_eq(strlen(refs.v[0].refname), lo);
	snprintf(ctx, sizeof(ctx), "nearly full block %u", (unsigned)bs);
	tl_source_table(&src, t);
	tl_verify(&src, &refs, &logs, 20, 1, ctx);
	reftable_table_decref(t);
	tl_sink_release(&s);
	tl_refs_free(&refs);

	/* The same limits for an unpadded table. */
	ck_assert_int_eq(write_one_ref(bs, lo, 1, &s), 0);
	tl_sink_release(&s);
	ck_assert_int_eq(write_one_ref(bs, lo + 1, 1, &s),
			 REFTABLE_ENTRY_TOO_BIG_ERROR);
	tl_sink_release(&s);
}
END_TEST

/* Many refs in a second, full block after a first: big records everywhere. */
START_TEST(big_records_many_blocks)
{
	struct reftable_write_options o = { 0 };
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct reftable_ref_record ref = { 0 };
	struct tl_sink sink = TL_SINK_INIT;
	char name[200];
	int i, err;

	o.block_size = 256;
	for (i = 0; i < 40; i++) {
		/* 150-byte names: one ref per block. */
		snprintf(name, sizeof(name), "refs/heads/%03d-", i);
		memset(name + 15, 'a' + i % 26, 135);
		name[150] = '\0';
		ref.refname = name;
		ref.update_index = 1;
		ref.value_type = REFTABLE_REF_VAL2;
		memset(ref.value, i, 20);
		memset(ref.peeled, 255 - i, 20);
		tl_refs_add(&refs, &ref);
	}
	/*
	 * An index entry of such a name also fills an index block, so index
	 * levels cannot shrink: the writer must stop (write the table some
	 * way that reads back, or refuse with ENTRY_TOO_BIG), never loop.
	 * The sink gives up after 16 MiB to turn a loop into a failure.
	 */
	sink.fail_at = 16 << 20;
	err = tl_write_table(&sink, &o, 1, 1, &refs, &logs, NULL);
	ck_assert_msg(err != REFTABLE_IO_ERROR,
		      "40 refs of 150-byte names in 256-byte blocks: the writer "
		      "wrote %zu bytes (in %d calls) without finishing",
		      sink.len, sink.writes);
	ck_assert_msg(err == 0 || err == REFTABLE_ENTRY_TOO_BIG_ERROR,
		      "writer: %d (%s)", err, reftable_error_detail());
	tl_sink_release(&sink);
	if (err == 0)
		roundtrip(&o, 1, 1, &refs, &logs, 1, NULL, "one ref per block");
	tl_refs_free(&refs);
}
END_TEST



/* The largest block size writes and reads back (padded: 16 MiB file). */
START_TEST(max_block_size)
{
	struct reftable_write_options o = { 0 };
	struct tl_gen_opts g = { 0 };
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct tl_rng r;

	o.block_size = REFTABLE_MAX_BLOCK_SIZE;
	o.unpadded = 1;
	g.nrefs = 300;
	g.nlogs = 100;
	g.hash_size = 20;
	g.min = 1;
	g.max = 10;
	g.max_name = 200;
	g.max_message = 1000;
	tl_rng_init(&r, 16777215);
	tl_gen_model(&r, &g, &refs, &logs);
	roundtrip(&o, 1, 10, &refs, &logs, 1, NULL, "block size 16777215");
	tl_refs_free(&refs);
	tl_logs_free(&logs);
}
END_TEST

/*
 * A record may share fewer bytes with its predecessor than it could:
 * nothing in the format forbids it, and Git's reader decodes it. Lookups
 * and seeks must still find it (block_find once took a short prefix for
 * a key past the one sought; found by t/fuzz, fuzz-table).
 */
START_TEST(short_prefix_found)
{
	struct reftable_write_options o = { .skip_index_objects = 1 };
	struct reftable_ref_record r = { .update_index = 1,
					 .value_type = REFTABLE_REF_VAL1 };
	struct reftable_ref_record got = { 0 };
	struct reftable_iterator it = { 0 };
	struct tl_sink s = TL_SINK_INIT;
	struct tl_refs refs = { 0 };
	struct reftable_table *t;
	uint8_t *key;

	r.refname = "refs/heads/ra";
	tl_refs_add(&refs, &r);
	r.refname = "refs/heads/tb"; /* shares "refs/heads/" */
	tl_refs_add(&refs, &r);
	ck_assert_int_eq(tl_write_table(&s, &o, 1, 1, &refs, NULL, NULL), 0);
	/* "refs/heads/ra" becomes "refs/heads/ta": the next record keeps its
	 * prefix of 11 and suffix "tb", one byte less shared than it could. */
	key = memmem(s.data, s.len, "refs/heads/ra", 13);
	ck_assert_ptr_nonnull(key);
	key[11] = 't';
	t = tl_open_buffer(s.data, s.len, "short-prefix.ref");
	ck_assert_int_eq(reftable_table_read_ref(t, "refs/heads/tb", &got), 0);
	ck_assert_str_eq(got.refname, "refs/heads/tb");
	ck_assert_int_eq(reftable_table_read_ref(t, "refs/heads/ta", &got), 0);
	ck_assert_int_eq(reftable_table_read_ref(t, "refs/heads/t", &got), 1);
	ck_assert_int_eq(reftable_table_init_ref_iterator(t, &it), 0);
	ck_assert_int_eq(reftable_iterator_seek_ref(&it, "refs/heads/tb"), 0);
	ck_assert_int_eq(reftable_iterator_next_ref(&it, &got), 0);
	ck_assert_str_eq(got.refname, "refs/heads/tb");
	ck_assert_int_eq(reftable_iterator_seek_ref(&it, "refs/heads/taa"), 0);
	ck_assert_int_eq(reftable_iterator_next_ref(&it, &got), 0);
	ck_assert_str_eq(got.refname, "refs/heads/tb");
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&got);
	reftable_table_decref(t);
	tl_refs_free(&refs);
	tl_sink_release(&s);
}
END_TEST

/*
 * Names that grow a byte at a time ("a", "aa", ...): in a run, each is a
 * long shared prefix and a one-byte suffix. A scan copies names and keys
 * 16 bytes at a time where the buffers have room past the name's end;
 * here the key and the record's name fill their buffers to every length,
 * so under the sanitizers a copy that misjudged the room fails the test.
 * Read by a table's iterator and by a merged view of the table alone,
 * and into a record whose name is the caller's (capacity 0): the scan
 * must give it a name of its own, never write, grow or free the caller's.
 */
#define GROWING_NAMES 300

START_TEST(growing_names)
{
	struct reftable_write_options o = { 0 };
	struct reftable_ref_record r = { .update_index = 1,
					 .value_type = REFTABLE_REF_VAL1 };
	struct reftable_ref_record got = { 0 };
	struct tl_sink s = TL_SINK_INIT;
	struct tl_refs refs = { 0 };
	struct reftable_table *t;
	struct reftable_merged *m;
	char name[GROWING_NAMES + 1];
	size_t len;
	int pass, err;

	for (len = 1; len <= GROWING_NAMES; len++) {
		memset(name, 'a', len);
		name[len] = 0;
		r.refname = name;
		memset(r.value, (int)len, 20);
		tl_refs_add(&refs, &r);
	}
	ck_assert_int_eq(tl_write_table(&s, &o, 1, 1, &refs, NULL, NULL), 0);
	t = tl_open_buffer(s.data, s.len, "growing.ref");
	ck_assert_int_eq(reftable_merged_new(&m, &t, 1, REFTABLE_HASH_SHA1),
			 0);
	for (pass = 0; pass < 3; pass++) {
		struct reftable_iterator it = { 0 };
		char mine[] = "caller's";

		if (pass == 2) {
			reftable_ref_record_release(&got);
			got.refname = mine;
			got.refname_cap = 0;
		}

		ck_assert_int_eq(pass == 1 ?
					 reftable_merged_init_ref_iterator(m, &it) :
					 reftable_table_init_ref_iterator(t, &it),
				 0);
		ck_assert_int_eq(reftable_iterator_seek_ref(&it, ""), 0);
		for (len = 1; (err = reftable_iterator_next_ref(&it, &got)) == 0;
		     len++) {
			TL_CHECK(len <= GROWING_NAMES &&
					 strlen(got.refname) == len &&
					 strspn(got.refname, "a") == len &&
					 got.value[0] == (uint8_t)len,
				 "%s: record %zu is %.20s... (%zu bytes)",
				 pass == 1 ? "merged" : "table", len,
				 got.refname, strlen(got.refname));
		}
		ck_assert_int_eq(err, 1);
		ck_assert_uint_eq(len, GROWING_NAMES + 1);
		ck_assert_str_eq(mine, "caller's");
		ck_assert_ptr_ne(got.refname, mine);
		reftable_iterator_destroy(&it);
	}
	reftable_ref_record_release(&got);
	reftable_merged_free(m);
	reftable_table_decref(t);
	tl_refs_free(&refs);
	tl_sink_release(&s);
}
END_TEST

static Suite *special_suite(void)
{
	Suite *s = suite_create("roundtrip-special");
	TCase *tc = tcase_create("special");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, empty_table, 0, 8);
	tcase_add_loop_test(tc, log_only_table, 0, 8);
	tcase_add_loop_test(tc, ref_only_table, 0, 8);
	tcase_add_test(tc, value_types);
	tcase_add_loop_test(tc, nearly_full_block, 0, 4);
	tcase_add_test(tc, big_records_many_blocks);
	tcase_add_test(tc, max_block_size);
	tcase_add_test(tc, short_prefix_found);
	tcase_add_test(tc, growing_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tl_run_suite(special_suite());
}
