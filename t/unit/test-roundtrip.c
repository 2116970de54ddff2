/*
 * Tables written by reftable_writer read back exactly: every record through
 * iterators and through point lookups (t/lib/verify.c), over a matrix of
 * layouts, plus the edge cases of the format and the writer's refusals.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

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

/* Check a table's metadata against what was written. */
static void check_meta(struct reftable_table *t,
		       const struct reftable_write_options *o, uint64_t min,
		       uint64_t max, size_t len, const char *ctx)
{
	int sha256 = o->hash_id == REFTABLE_HASH_SHA256;

	ck_assert_msg(reftable_table_min_update_index(t) == min, "%s", ctx);
	ck_assert_msg(reftable_table_max_update_index(t) == max, "%s", ctx);
	ck_assert_msg(reftable_table_hash(t) ==
			      (sha256 ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1),
		      "%s: hash", ctx);
	ck_assert_msg(reftable_table_version(t) == (sha256 ? 2 : 1),
		      "%s: version", ctx);
	ck_assert_msg(reftable_table_block_size(t) ==
			      (o->block_size ? o->block_size : 4096),
		      "%s: block size %u", ctx,
		      (unsigned)reftable_table_block_size(t));
	ck_assert_msg(reftable_table_size(t) == len, "%s: size", ctx);
}

/* Write the model, read it back from memory and from a file, verify. */
static void roundtrip(const struct reftable_write_options *o, uint64_t min,
		      uint64_t max, const struct tl_refs *refs,
		      const struct tl_logs *logs, size_t stride,
		      struct reftable_write_stats *stats_out, const char *ctx)
{
	struct tl_sink sink = TL_SINK_INIT;
	struct reftable_write_stats stats;
	struct reftable_table *t;
	struct tl_source src;
	size_t hs = tl_hash_size(o->hash_id);
	char *dir, *path;
	char msg[256];
	uint8_t *copy;
	int err;

	err = tl_write_table(&sink, o, min, max, refs, logs, &stats);
	ck_assert_msg(err == 0, "%s: write: %s (%s)", ctx,
		      reftable_error_str(err), reftable_error_detail());
	ck_assert_msg(stats.ref.entries == refs->n, "%s: ref entries", ctx);
	ck_assert_msg(stats.log.entries == logs->n, "%s: log entries", ctx);
	if (stats_out)
		*stats_out = stats;

	/* An exactly-sized copy, so overreads hit the sanitizer. */
	copy = malloc(sink.len ? sink.len : 1);
	ck_assert(copy != NULL);
	memcpy(copy, sink.data, sink.len);
	t = tl_open_buffer(copy, sink.len, "mem.ref");
	check_meta(t, o, min, max, sink.len, ctx);
	snprintf(msg, sizeof(msg), "%s (buffer)", ctx);
	tl_source_table(&src, t);
	tl_verify(&src, refs, logs, hs, stride, msg);
	reftable_table_decref(t);
	free(copy);

	/* The same bytes through a file. */
	dir = tl_tmpdir();
	path = tl_path(dir, "0x000000000001-0x000000000002-00000000.ref");
	tl_write_file(path, sink.data, sink.len);
	t = NULL;
	err = reftable_table_open(&t, path);
	ck_assert_msg(err == 0, "%s: open %s: %s (%s)", ctx, path,
		      reftable_error_str(err), reftable_error_detail());
	ck_assert_str_eq(reftable_table_name(t),
			 "0x000000000001-0x000000000002-00000000.ref");
	check_meta(t, o, min, max, sink.len, ctx);
	snprintf(msg, sizeof(msg), "%s (file)", ctx);
	tl_source_table(&src, t);
	tl_verify(&src, refs, logs, hs, stride * 4, msg);
	reftable_table_decref(t);
	free(path);
	tl_rmtree(dir);
	tl_sink_release(&sink);
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

	tc = tcase_create("special");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, empty_table, 0, 8);
	tcase_add_loop_test(tc, log_only_table, 0, 8);
	tcase_add_loop_test(tc, ref_only_table, 0, 8);
	tcase_add_test(tc, value_types);
	tcase_add_loop_test(tc, nearly_full_block, 0, 4);
	tcase_add_test(tc, big_records_many_blocks);
	tcase_add_test(tc, large_table);
	tcase_add_loop_test(tc, multi_level_index, 0, 2);
	tcase_add_loop_test(tc, randomized, 0, 24);
	tcase_add_test(tc, max_block_size);
	tcase_add_test(tc, deterministic);
	tcase_add_test(tc, deflate_streams_shared);
	tcase_add_test(tc, writer_fails_after_failed_write);
	suite_add_tcase(s, tc);

	tc = tcase_create("refusals");
	tcase_add_test(tc, refuse_out_of_order);
	tcase_add_test(tc, refuse_duplicate);
	tcase_add_test(tc, refuse_too_big);
	tcase_add_test(tc, refuse_update_index);
	tcase_add_test(tc, refuse_bad_options);
	tcase_add_test(tc, write_failure);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(roundtrip_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
