/*
 * Tables written by reftable_writer read back exactly: every record through
 * iterators and through point lookups (t/lib/verify.c), over a matrix of
 * layouts; the header's bytes.
 */

#include "test-roundtrip-helpers.h"

/* --- the option matrix --------------------------------------------------- */

static const uint32_t block_sizes[] = { 256, 300, 1000, 4096, 4097, 65536 };
static const uint16_t restarts[] = { 1, 16, 64, 65535 };
#define N_BLOCK (sizeof(block_sizes) / sizeof(block_sizes[0]))
#define N_RESTART (sizeof(restarts) / sizeof(restarts[0]))
/* block size x restart x padded x object index x hash */
#define N_MATRIX (N_BLOCK * N_RESTART * 2 * 2 * 2)

static void matrix_opts(int i, struct reftable_write_options *o, char *desc,
			size_t desclen)
{
	memset(o, 0, sizeof(*o));
	o->block_size = block_sizes[i % N_BLOCK];
	i /= N_BLOCK;
	o->restart_interval = restarts[i % N_RESTART];
	i /= N_RESTART;
	o->unpadded = i % 2;
	i /= 2;
	o->skip_index_objects = i % 2;
	i /= 2;
	o->hash_id = i % 2 ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1;
	snprintf(desc, desclen, "block %u restart %u %s %s %s",
		 (unsigned)o->block_size, (unsigned)o->restart_interval,
		 o->unpadded ? "unpadded" : "padded",
		 o->skip_index_objects ? "no-obj" : "obj",
		 o->hash_id == REFTABLE_HASH_SHA256 ? "sha256" : "sha1");
}

START_TEST(matrix)
{
	struct reftable_write_options o;
	struct tl_gen_opts g = { 0 };
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct reftable_write_stats st;
	struct tl_rng r;
	char desc[128];

	matrix_opts(_i, &o, desc, sizeof(desc));
	g.nrefs = 250;
	g.nlogs = 150;
	g.hash_size = tl_hash_size(o.hash_id);
	g.min = 5;
	g.max = 1000;
	/* Records of the smallest blocks must fit with the header. */
	g.max_name = o.block_size < 512 ? 40 : 100;
	g.max_message = o.block_size < 512 ? 30 : 200;
	g.with_deletions = 1;
	g.oid_pool = 120;
	tl_rng_init(&r, 1000 + (uint64_t)_i % (N_BLOCK * N_RESTART));
	tl_gen_model(&r, &g, &refs, &logs);

	roundtrip(&o, g.min, g.max, &refs, &logs, 1, &st, desc);

	/* The layout options took effect. */
	/* Like Git, an object index only comes with a ref index. */
	if (o.skip_index_objects || !st.ref.index_blocks)
		ck_assert_msg(st.obj.blocks == 0, "%s: object blocks", desc);
	else
		ck_assert_msg(st.obj.entries > 0, "%s: no object index", desc);
	ck_assert_msg(st.ref.blocks > 0 && st.log.blocks > 0, "%s", desc);
	if (o.block_size == 256)
		ck_assert_msg(st.ref.index_blocks > 0 && st.ref.max_index_level >= 1,
			      "%s: small blocks but no ref index", desc);
	if (o.restart_interval == 1)
		ck_assert_msg(st.ref.restarts == st.ref.entries,
			      "%s: %llu restarts for %llu refs", desc,
			      (unsigned long long)st.ref.restarts,
			      (unsigned long long)st.ref.entries);
	tl_refs_free(&refs);
	tl_logs_free(&logs);
}
END_TEST

/* Padding: a padded table has ref blocks of exactly block_size bytes. */
START_TEST(padding)
{
	struct reftable_write_options o = { 0 };
	struct tl_gen_opts g = { 0 };
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct tl_sink padded = TL_SINK_INIT, unpadded = TL_SINK_INIT;
	struct reftable_write_stats sp, su;
	struct tl_rng r;

	g.nrefs = 300;
	g.nlogs = 0;
	g.hash_size = 20;
	g.min = 1;
	g.max = 1;
	g.max_name = 60;
	tl_rng_init(&r, 5);
	tl_gen_model(&r, &g, &refs, &logs);
	o.block_size = 1000;
	o.skip_index_objects = 1;
	ck_assert_int_eq(tl_write_table(&padded, &o, 1, 1, &refs, &logs, &sp), 0);
	o.unpadded = 1;
	ck_assert_int_eq(tl_write_table(&unpadded, &o, 1, 1, &refs, &logs, &su), 0);
	ck_assert_uint_eq(sp.ref.blocks, su.ref.blocks);
	ck_assert_uint_gt(sp.ref.blocks, 3);
	ck_assert_uint_lt(unpadded.len, padded.len);
	/* The ref index (if any) follows the last padded ref block. */
	if (sp.ref.index_offset)
		ck_assert_uint_eq(sp.ref.index_offset, sp.ref.blocks * 1000);
	tl_sink_release(&padded);
	tl_sink_release(&unpadded);
	tl_refs_free(&refs);
	tl_logs_free(&logs);
}
END_TEST

/* The writer's statistics agree with what it wrote. */
START_TEST(stats_bytes)
{
	struct reftable_write_options o = { 0 };
	struct tl_gen_opts g = { 0 };
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct reftable_write_stats st;
	struct tl_rng r;
	int v = _i;

	o.block_size = 1000;
	o.unpadded = v & 1;
	g.nrefs = 200;
	g.nlogs = v & 2 ? 100 : 0;
	g.hash_size = 20;
	g.min = 1;
	g.max = 10;
	g.max_name = 60;
	g.max_message = 50;
	g.oid_pool = 50;
	tl_rng_init(&r, 11);
	tl_gen_model(&r, &g, &refs, &logs);
	{
		struct tl_sink s = TL_SINK_INIT;
		ck_assert_int_eq(tl_write_table(&s, &o, 1, 10, &refs, &logs, &st), 0);
		ck_assert_msg(st.bytes == s.len,
			      "%s table %s logs: stats.bytes %llu, %zu bytes "
			      "written", o.unpadded ? "unpadded" : "padded",
			      g.nlogs ? "with" : "without",
			      (unsigned long long)st.bytes, s.len);
		ck_assert_uint_eq(st.ref.entries, refs.n);
		ck_assert_uint_eq(st.log.entries, logs.n);
		ck_assert_uint_eq(st.blocks, st.ref.blocks + st.obj.blocks +
						     st.log.blocks + st.idx.blocks);
		tl_sink_release(&s);
	}
	tl_refs_free(&refs);
	tl_logs_free(&logs);
}
END_TEST

/*
 * SHA-256 ids that share 31 bytes need a 32-byte abbreviation, which the
 * footer's 5-bit length field cannot hold. Whatever the writer does
 * (shorter keys that several ids share, say), the table must read back
 * and refs_for must still tell the two ids apart.
 */
START_TEST(sha256_twins_obj_index)
{
	struct reftable_write_options o = { 0 };
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct reftable_ref_record ref = { 0 };
	char name[64];
	int i;

	o.hash_id = REFTABLE_HASH_SHA256;
	o.block_size = 256;
	for (i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "refs/heads/b%03d", i);
		ref.refname = name;
		ref.update_index = 1;
		ref.value_type = REFTABLE_REF_VAL1;
		memset(ref.value, 0x5c, 32);
		ref.value[31] = (uint8_t)(i % 3); /* three ids, 31 bytes alike */
		tl_refs_add(&refs, &ref);
	}
	roundtrip(&o, 1, 1, &refs, &logs, 1, NULL, "sha256 31-byte twins");
	tl_refs_free(&refs);
}
END_TEST

/* --- the header bytes ----------------------------------------------------- */

START_TEST(header_bytes)
{
	struct reftable_write_options o = { 0 };
	struct tl_sink s = TL_SINK_INIT;
	struct reftable_ref_record ref = { 0 };
	struct tl_refs refs = { 0 };
	int v;

	ref.refname = "refs/heads/main";
	ref.update_index = 7;
	ref.value_type = REFTABLE_REF_VAL1;
	memset(ref.value, 0xab, sizeof(ref.value));
	tl_refs_add(&refs, &ref);
	for (v = 1; v <= 2; v++) {
		size_t hlen = v == 1 ? 24 : 28, flen = v == 1 ? 68 : 72;
		const uint8_t *d;

		o.hash_id = v == 1 ? REFTABLE_HASH_SHA1 : REFTABLE_HASH_SHA256;
		o.block_size = 0x012345;
		tl_sink_release(&s);
		ck_assert_int_eq(tl_write_table(&s, &o, 3, 0x0102030405060708ull,
						&refs, NULL, NULL), 0);
		d = s.data;
		ck_assert(s.len >= hlen + flen);
		ck_assert(!memcmp(d, "REFT", 4));
		ck_assert_int_eq(d[4], v);
		ck_assert(d[5] == 0x01 && d[6] == 0x23 && d[7] == 0x45);
		ck_assert(!memcmp(d + 8, "\0\0\0\0\0\0\0\3", 8));
		ck_assert(!memcmp(d + 16, "\1\2\3\4\5\6\7\x08", 8));
		if (v == 2)
			ck_assert(!memcmp(d + 24, "s256", 4));
		/* The first block follows the header: a ref block. */
		ck_assert_int_eq(d[hlen], 'r');
		/* The footer starts with a copy of the header. */
		ck_assert(!memcmp(d + s.len - flen, d, hlen));
	}
	tl_sink_release(&s);
	tl_refs_free(&refs);
}
END_TEST


static Suite *roundtrip_suite(void)
{
	Suite *s = suite_create("roundtrip");
	TCase *tc = tcase_create("matrix");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, matrix, 0, (int)N_MATRIX);
	tcase_add_test(tc, padding);
	tcase_add_loop_test(tc, stats_bytes, 0, 4);
	tcase_add_test(tc, sha256_twins_obj_index);
	tcase_add_test(tc, header_bytes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tl_run_suite(roundtrip_suite());
}
