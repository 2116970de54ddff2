/*
 * Bad input never crashes: a small valid table truncated at every length,
 * every byte flipped, and targeted corruptions of the header, footer,
 * blocks and records, each with the error code it must give.
 *
 * Every mutated table lives in an exactly-sized heap buffer, so the
 * sanitizer build catches any read past its end.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "testlib.h"

/* --- layout facts of the format (reftable.adoc) --------------------------- */

struct layout {
	int version;
	size_t hlen, flen, foot; /* header and footer sizes, footer offset */
	uint64_t ref_index, obj_pos, obj_index, log_pos, log_index;
	int obj_id_len;
};

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	while (n--)
		v = v << 8 | *p++;
	return v;
}

static void put(uint8_t *p, uint64_t v, int n)
{
	while (n--) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

static void parse_layout(const uint8_t *d, size_t len, struct layout *l)
{
	const uint8_t *f;

	l->version = d[4];
	l->hlen = l->version == 1 ? 24 : 28;
	l->flen = l->version == 1 ? 68 : 72;
	ck_assert(len >= l->hlen + l->flen);
	l->foot = len - l->flen;
	f = d + l->foot + l->hlen;
	l->ref_index = be(f, 8);
	l->obj_pos = be(f + 8, 8) >> 5;
	l->obj_id_len = (int)(be(f + 8, 8) & 31);
	l->obj_index = be(f + 16, 8);
	l->log_pos = be(f + 24, 8);
	l->log_index = be(f + 32, 8);
}

/* Recompute the footer's CRC-32 after changing the footer on purpose. */
static void fix_crc(uint8_t *d, size_t len)
{
	struct layout l;
	parse_layout(d, len, &l);
	put(d + len - 4, crc32(0, d + l.foot, (uInt)(l.flen - 4)), 4);
}

/* --- the victim tables -------------------------------------------------------- */

/*
 * About 20 refs of every kind and a dozen logs in 256-byte blocks: several
 * ref blocks, a ref index, an object index and log blocks.
 */
static void small_table(struct tl_sink *out, enum reftable_hash hash,
			int unpadded, struct tl_refs *refs, struct tl_logs *logs)
{
	struct reftable_write_options o = { 0 };
	struct tl_gen_opts g = { 0 };
	struct reftable_write_stats st;
	struct tl_rng r;

	o.block_size = 256;
	o.hash_id = hash;
	o.unpadded = unpadded;
	g.nrefs = 22;
	g.nlogs = 12;
	g.hash_size = tl_hash_size(hash);
	g.min = 1;
	g.max = 9;
	g.max_name = 30;
	g.max_message = 20;
	g.with_deletions = 1;
	g.oid_pool = 12;
	tl_rng_init(&r, 256 + (uint64_t)hash);
	tl_gen_model(&r, &g, refs, logs);
	ck_assert_int_eq(tl_write_table(out, &o, 1, 9, refs, logs, &st), 0);
	/* The shape the corruptions below rely on. */
	ck_assert_uint_ge(st.ref.blocks, 4);
	ck_assert_uint_gt(st.ref.index_blocks, 0);
	ck_assert_uint_gt(st.obj.entries, 0);
	ck_assert_uint_gt(st.log.blocks, 0);
}

/* A table whose logs are one log block right before the footer. */
static void one_log_block_table(struct tl_sink *out, struct tl_refs *refs,
				struct tl_logs *logs)
{
	struct reftable_write_options o = { 0 };
	struct tl_gen_opts g = { 0 };
	struct reftable_write_stats st;
	struct tl_rng r;

	g.nrefs = 5;
	g.nlogs = 6;
	g.hash_size = 20;
	g.min = 1;
	g.max = 9;
	g.max_name = 30;
	g.max_message = 20;
	tl_rng_init(&r, 4096);
	tl_gen_model(&r, &g, refs, logs);
	ck_assert_int_eq(tl_write_table(out, &o, 1, 9, refs, logs, &st), 0);
	ck_assert_uint_eq(st.log.blocks, 1);
	ck_assert_uint_eq(st.log.index_blocks, 0);
}

/* --- exercising a (possibly corrupt) table ------------------------------ */

static int is_corruption_code(int err)
{
	return err == REFTABLE_FORMAT_ERROR || err == REFTABLE_ZLIB_ERROR ||
	       err == REFTABLE_CHECKSUM_ERROR ||
	       err == REFTABLE_UNSUPPORTED_ERROR;
}

/* Keep the first error; check every code is one a reader may give. */
static void note(int *first, int err, const char *what, const char *ctx)
{
	TL_CHECK(err <= 1, "%s: %s returned %d", ctx, what, err);
	TL_CHECK(err >= 0 || is_corruption_code(err),
		 "%s: %s gave %d (%s), not a corruption code", ctx, what, err,
		 reftable_error_str(err));
	if (err < 0 && !*first)
		*first = err;
}

/* A corrupt table might loop; no valid small table has this many. */
#define MAX_RECORDS 100000

static void iterate_refs(struct reftable_iterator *it, int *first,
			 const char *ctx)
{
	struct reftable_ref_record rec = { 0 };
	int err, n = 0;

	while ((err = reftable_iterator_next_ref(it, &rec)) == 0)
		TL_CHECK(++n < MAX_RECORDS, "%s: ref iteration never ends", ctx);
	note(first, err, "next_ref", ctx);
	reftable_ref_record_release(&rec);
}

static void iterate_logs(struct reftable_iterator *it, int *first,
			 const char *ctx)
{
	struct reftable_log_record rec = { 0 };
	int err, n = 0;

	while ((err = reftable_iterator_next_log(it, &rec)) == 0)
		TL_CHECK(++n < MAX_RECORDS, "%s: log iteration never ends", ctx);
	note(first, err, "next_log", ctx);
	reftable_log_record_release(&rec);
}

/*
 * Open the bytes (copied into an exactly-sized buffer) and use every
 * reading call on them. Returns the open error, or else the first error of
 * any later call (0 if everything read cleanly).
 */
static int exercise(const uint8_t *data, size_t len, const struct tl_refs *refs,
		    const struct tl_logs *logs, const char *ctx)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct reftable_table *t = NULL;
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record rec = { 0 };
	int first = 0, err;
	size_t i;

	TL_CHECK(copy != NULL, "%s", "out of memory");
	if (len)
		memcpy(copy, data, len);
	err = reftable_table_from_buffer(&t, copy, len, "corrupt.ref");
	note(&first, err, "open", ctx);
	if (err < 0) {
		free(copy);
		return err;
	}
	TL_CHECK(err == 0 && t != NULL, "%s: open gave %d", ctx, err);

	err = reftable_table_init_ref_iterator(t, &it);
	note(&first, err, "init_ref_iterator", ctx);
	if (!err) {
		err = reftable_iterator_seek_ref(&it, "");
		note(&first, err, "seek_ref", ctx);
		if (!err)
			iterate_refs(&it, &first, ctx);
		for (i = 0; i < refs->n; i += 3) {
			err = reftable_iterator_seek_ref(&it, refs->v[i].refname);
			note(&first, err, "seek_ref", ctx);
			if (!err)
				iterate_refs(&it, &first, ctx);
		}
	}
	reftable_iterator_destroy(&it);

	err = reftable_table_init_log_iterator(t, &it);
	note(&first, err, "init_log_iterator", ctx);
	if (!err) {
		err = reftable_iterator_seek_log(&it, "");
		note(&first, err, "seek_log", ctx);
		if (!err)
			iterate_logs(&it, &first, ctx);
		for (i = 0; i < logs->n; i += 2) {
			err = reftable_iterator_seek_log_at(
				&it, logs->v[i].refname, logs->v[i].update_index);
			note(&first, err, "seek_log_at", ctx);
			if (!err)
				iterate_logs(&it, &first, ctx);
		}
	}
	reftable_iterator_destroy(&it);

	for (i = 0; i < refs->n; i++) {
		err = reftable_table_read_ref(t, refs->v[i].refname, &rec);
		note(&first, err, "read_ref", ctx);
		if (refs->v[i].value_type != REFTABLE_REF_VAL1 &&
		    refs->v[i].value_type != REFTABLE_REF_VAL2)
			continue;
		err = reftable_table_refs_for(t, refs->v[i].value, &it);
		note(&first, err, "refs_for", ctx);
		if (!err)
			iterate_refs(&it, &first, ctx);
		reftable_iterator_destroy(&it);
	}
	reftable_ref_record_release(&rec);
	reftable_table_decref(t);
	free(copy);
	return first;
}

/* --- (a) truncation --------------------------------------------------------- */

START_TEST(truncated_everywhere)
{
	struct tl_sink s = TL_SINK_INIT;
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	enum reftable_hash h = _i ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1;
	char ctx[64];
	size_t len;

	small_table(&s, h, _i, &refs, &logs);
	/* The whole table is fine. */
	ck_assert_int_eq(exercise(s.data, s.len, &refs, &logs, "intact"), 0);
	for (len = 0; len < s.len; len++) {
		int err;

		snprintf(ctx, sizeof(ctx), "truncated to %zu of %zu", len, s.len);
		err = exercise(s.data, len, &refs, &logs, ctx);
		TL_CHECK(err == REFTABLE_FORMAT_ERROR, "%s: %d (%s), want "
			 "REFTABLE_FORMAT_ERROR", ctx, err,
			 reftable_error_detail());
	}
	tl_sink_release(&s);
	tl_refs_free(&refs);
	tl_logs_free(&logs);
}
END_TEST

/* --- (b) every byte flipped ----------------------------------------------- */

static void flip_all(int variant, int how)
{
	struct tl_sink s = TL_SINK_INIT;
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	enum reftable_hash h = variant ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1;
	struct layout l;
	uint8_t *d;
	char ctx[96];
	size_t i;
	int errors = 0;

	small_table(&s, h, variant, &refs, &logs);
	parse_layout(s.data, s.len, &l);
	d = malloc(s.len);
	ck_assert_ptr_nonnull(d);
	for (i = 0; i < s.len; i++) {
		int err;

		memcpy(d, s.data, s.len);
		d[i] = how ? (uint8_t)(d[i] + 1) : (uint8_t)(d[i] ^ 0xff);
		snprintf(ctx, sizeof(ctx), "byte %zu of %zu %s", i, s.len,
			 how ? "plus one" : "inverted");
		err = exercise(d, s.len, &refs, &logs, ctx);
		if (err < 0)
			errors++;
		/* The footer is covered by its CRC. */
		if (i >= s.len - 4)
			TL_CHECK(err == REFTABLE_CHECKSUM_ERROR, "%s (the CRC): "
				 "%d", ctx, err);
		else if (i >= l.foot)
			TL_CHECK(err < 0, "%s (in the footer): accepted", ctx);
		/* The magic and the version are checked on open. */
		if (i < 4)
			TL_CHECK(err == REFTABLE_FORMAT_ERROR, "%s (the magic): "
				 "%d", ctx, err);
		if (i == 4)
			TL_CHECK(err < 0, "%s (the version): accepted", ctx);
	}
	/* Sanity: most flips are noticed at all. */
	ck_assert_int_gt(errors, (int)(s.len / 4));
	free(d);
	tl_sink_release(&s);
	tl_refs_free(&refs);
	tl_logs_free(&logs);
}

START_TEST(every_byte_inverted)
{
	flip_all(_i, 0);
}
END_TEST

START_TEST(every_byte_plus_one)
{
	flip_all(_i, 1);
}
END_TEST

/* Random multi-byte damage in the blocks (not the footer). */
START_TEST(random_damage)
{
	struct tl_sink s = TL_SINK_INIT;
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct layout l;
	struct tl_rng r;
	uint8_t *d;
	char ctx[64];
	int n;

	small_table(&s, REFTABLE_HASH_SHA1, 0, &refs, &logs);
	parse_layout(s.data, s.len, &l);
	d = malloc(s.len);
	ck_assert_ptr_nonnull(d);
	tl_rng_init(&r, 31337);
	for (n = 0; n < 2000; n++) {
		int k, nbytes = 1 + (int)tl_rng_below(&r, 8);

		memcpy(d, s.data, s.len);
		for (k = 0; k < nbytes; k++)
			d[l.hlen + tl_rng_below(&r, l.foot - l.hlen)] =
				(uint8_t)tl_rng_next(&r);
		snprintf(ctx, sizeof(ctx), "random damage #%d", n);
		exercise(d, s.len, &refs, &logs, ctx);
	}
	free(d);
	tl_sink_release(&s);
	tl_refs_free(&refs);
	tl_logs_free(&logs);
}
END_TEST

/* --- (c) targeted corruptions ----------------------------------------------- */

struct victim {
	struct tl_sink s;
	struct tl_refs refs;
	struct tl_logs logs;
	struct layout l;
	uint8_t *d; /* a fresh copy to damage */
};

static void victim_init(struct victim *v, enum reftable_hash h, int unpadded)
{
	memset(v, 0, sizeof(*v));
	small_table(&v->s, h, unpadded, &v->refs, &v->logs);
	parse_layout(v->s.data, v->s.len, &v->l);
	v->d = malloc(v->s.len);
	ck_assert_ptr_nonnull(v->d);
	memcpy(v->d, v->s.data, v->s.len);
}

static void victim_reset(struct victim *v)
{
	memcpy(v->d, v->s.data, v->s.len);
}

static int victim_try(struct victim *v, const char *ctx)
{
	return exercise(v->d, v->s.len, &v->refs, &v->logs, ctx);
}

static void victim_free(struct victim *v)
{
	free(v->d);
	tl_sink_release(&v->s);
	tl_refs_free(&v->refs);
	tl_logs_free(&v->logs);
}

#define EXPECT(v, want, what)                                               \
	do {                                                                \
		int got_ = victim_try(v, what);                             \
		ck_assert_msg(got_ == (want), "%s: %d (%s), want %s", what, \
			      got_, reftable_error_detail(), #want);        \
	} while (0)

START_TEST(bad_crc)
{
	struct victim v;
	victim_init(&v, _i ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1, 0);

	v.d[v.s.len - 1] ^= 1;
	EXPECT(&v, REFTABLE_CHECKSUM_ERROR, "CRC off by one bit");
	victim_reset(&v);
	/* A position changed without updating the CRC. */
	v.d[v.l.foot + v.l.hlen + 7] ^= 0x10;
	EXPECT(&v, REFTABLE_CHECKSUM_ERROR, "ref index position, old CRC");
	victim_reset(&v);
	v.d[v.l.foot + 10] ^= 0x01; /* min update index in the footer copy */
	{
		/* Both checks see it: either code is right. */
		int err = victim_try(&v, "footer header copy, old CRC");
		ck_assert_msg(err == REFTABLE_CHECKSUM_ERROR ||
				      err == REFTABLE_FORMAT_ERROR,
			      "footer's header copy changed: %d", err);
	}
	victim_free(&v);
}
END_TEST

START_TEST(bad_magic)
{
	struct victim v;
	victim_init(&v, _i ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1, 0);

	v.d[3] = 'X';
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "header magic REFX");
	victim_reset(&v);
	v.d[v.l.foot + 0] = 'r';
	fix_crc(v.d, v.s.len);
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "footer magic rEFT, CRC fixed");
	victim_reset(&v);
	memcpy(v.d, "GIT!", 4);
	memcpy(v.d + v.l.foot, "GIT!", 4);
	fix_crc(v.d, v.s.len);
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "both magics GIT!, CRC fixed");
	victim_free(&v);
}
END_TEST

START_TEST(unknown_version)
{
	static const uint8_t versions[] = { 0, 3, 4, 255 };
	struct victim v;
	size_t i;

	victim_init(&v, _i ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1, 0);
	for (i = 0; i < sizeof(versions); i++) {
		char what[64];

		victim_reset(&v);
		v.d[4] = versions[i];
		v.d[v.l.foot + 4] = versions[i];
		fix_crc(v.d, v.s.len);
		snprintf(what, sizeof(what), "version %d in both, CRC fixed",
			 versions[i]);
		EXPECT(&v, REFTABLE_UNSUPPORTED_ERROR, what);
	}
	victim_free(&v);
}
END_TEST

START_TEST(unknown_hash_id)
{
	struct victim v;

	victim_init(&v, REFTABLE_HASH_SHA256, 0);
	ck_assert(!memcmp(v.d + 24, "s256", 4));
	memcpy(v.d + 24, "xxxx", 4);
	memcpy(v.d + v.l.foot + 24, "xxxx", 4);
	fix_crc(v.d, v.s.len);
	EXPECT(&v, REFTABLE_UNSUPPORTED_ERROR, "hash id xxxx, CRC fixed");
	victim_reset(&v);
	memset(v.d + 24, 0, 4);
	memset(v.d + v.l.foot + 24, 0, 4);
	fix_crc(v.d, v.s.len);
	EXPECT(&v, REFTABLE_UNSUPPORTED_ERROR, "hash id 0, CRC fixed");
	victim_free(&v);
}
END_TEST

/* The header and the footer's copy of it disagree. */
START_TEST(header_footer_mismatch)
{
	struct victim v;
	victim_init(&v, REFTABLE_HASH_SHA1, 0);

	v.d[15] ^= 0x01; /* min update index */
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "min update indexes differ");
	victim_reset(&v);
	v.d[20] ^= 0x80; /* max update index */
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "max update indexes differ");
	victim_reset(&v);
	v.d[4] = 2; /* header says version 2, footer says 1 */
	{
		/* Read as version 2, block bytes are taken for a hash id. */
		int err = victim_try(&v, "header version 2, footer 1");
		ck_assert_msg(err == REFTABLE_FORMAT_ERROR ||
				      err == REFTABLE_UNSUPPORTED_ERROR,
			      "header version 2, footer 1: %d", err);
	}
	victim_reset(&v);
	v.d[7] ^= 0x40; /* block size */
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "block sizes differ");
	victim_free(&v);
}
END_TEST

START_TEST(positions_past_end)
{
	static const int fields[] = { 0, 8, 16, 24, 32 };
	static const char *const names[] = { "ref index", "obj", "obj index",
					     "log", "log index" };
	struct victim v;
	size_t i;

	victim_init(&v, _i ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1, _i);
	for (i = 0; i < 5; i++) {
		uint8_t *p;
		char what[96];
		int k;

		/* Past the end, and inside the footer. */
		for (k = 0; k < 2; k++) {
			uint64_t pos = k ? v.l.foot + 2 : v.s.len + 1000;

			victim_reset(&v);
			p = v.d + v.l.foot + v.l.hlen + fields[i];
			put(p, fields[i] == 8 ? pos << 5 | (be(p, 8) & 31) : pos, 8);
			fix_crc(v.d, v.s.len);
			snprintf(what, sizeof(what), "%s position %llu of a %zu-byte "
				 "table, CRC fixed", names[i],
				 (unsigned long long)pos, v.s.len);
			EXPECT(&v, REFTABLE_FORMAT_ERROR, what);
		}
	}
	/* Abbreviation lengths no object index can have: 0, and longer
	 * than the hash. */
	victim_reset(&v);
	{
		uint8_t *p = v.d + v.l.foot + v.l.hlen + 8;
		put(p, be(p, 8) & ~(uint64_t)31, 8);
		fix_crc(v.d, v.s.len);
		EXPECT(&v, REFTABLE_FORMAT_ERROR, "object id length 0");
		if (!_i) {
			victim_reset(&v);
			put(p, (be(p, 8) & ~(uint64_t)31) | 25, 8);
			fix_crc(v.d, v.s.len);
			EXPECT(&v, REFTABLE_FORMAT_ERROR,
			       "object id length 25 for SHA-1");
		}
	}
	victim_free(&v);
}
END_TEST

START_TEST(block_len_past_end)
{
	struct victim v;
	size_t second;

	victim_init(&v, _i ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1, 0);
	/* The first block: type at hlen, length in the next 3 bytes. */
	ck_assert_int_eq(v.d[v.l.hlen], 'r');
	put(v.d + v.l.hlen + 1, 0xffffff, 3);
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "first block_len 0xffffff");
	victim_reset(&v);
	put(v.d + v.l.hlen + 1, v.s.len + 1, 3);
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "first block_len past the end");
	victim_reset(&v);
	/* Shorter than its own header and restart count. */
	put(v.d + v.l.hlen + 1, v.l.hlen + 2, 3);
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "first block_len too small");
	victim_reset(&v);
	put(v.d + v.l.hlen + 1, 0, 3);
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "first block_len 0");

	/* The second ref block of a padded table starts at block_size. */
	second = 256;
	victim_reset(&v);
	ck_assert_int_eq(v.d[second], 'r');
	put(v.d + second + 1, 0xffffff, 3);
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "second block_len 0xffffff");
	victim_reset(&v);
	v.d[second] = 'q';
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "second block of unknown type");
	victim_free(&v);
}
END_TEST

/*
 * A ref block whose type byte says log block (or object or index block):
 * the reader must notice the section holds a block of the wrong type.
 * Registered last: a crash here (no fork in the sanitizer build) must not
 * hide the other results.
 */
START_TEST(ref_block_retyped)
{
	static const uint8_t types[] = { 'g', 'o', 'i' };
	struct victim v;
	char what[64];
	int err;

	victim_init(&v, REFTABLE_HASH_SHA1, 0);
	ck_assert_int_eq(v.d[256], 'r');
	v.d[256] = types[_i];
	snprintf(what, sizeof(what), "second ref block typed '%c'", types[_i]);
	err = victim_try(&v, what);
	ck_assert_msg(err == REFTABLE_FORMAT_ERROR || err == REFTABLE_ZLIB_ERROR,
		      "%s: %d (%s)", what, err, reftable_error_detail());
	victim_free(&v);
}
END_TEST

START_TEST(restart_count)
{
	struct victim v;
	uint32_t blen;

	victim_init(&v, _i ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1, 0);
	/* The first block's block_len counts from the start of the file, so
	 * its restart count sits at file offset block_len - 2. */
	blen = (uint32_t)be(v.d + v.l.hlen + 1, 3);
	ck_assert_uint_gt(blen, v.l.hlen + 4);
	ck_assert_uint_gt(be(v.d + blen - 2, 2), 0);
	put(v.d + blen - 2, 0, 2);
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "restart count 0");
	victim_reset(&v);
	put(v.d + blen - 2, 0xffff, 2);
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "restart count 65535");
	victim_reset(&v);
	/* The first restart offset pointing past the records. */
	put(v.d + blen - 2 - 3 * be(v.d + blen - 2, 2), 0xfffff0, 3);
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "restart offset past the block");
	victim_free(&v);
}
END_TEST

START_TEST(overflowing_varint_in_ref)
{
	struct victim v;
	size_t first;

	victim_init(&v, _i ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1, 0);
	/* The first record follows the header and the 4-byte block header;
	 * its prefix length becomes 11 continuation bytes. */
	first = v.l.hlen + 4;
	memset(v.d + first, 0xff, 11);
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "prefix length varint overflows");
	victim_reset(&v);
	/* A prefix longer than the previous key (there is none). */
	v.d[first] = 0x7f;
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "prefix length 127 on a first key");
	victim_reset(&v);
	/* A suffix length running past the block. */
	v.d[first + 1] = 0xff;
	v.d[first + 2] = 0x7f;
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "suffix length past the block");
	victim_reset(&v);
	/* Value type 4..7 does not exist. */
	v.d[first + 1] |= 4;
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "unknown ref value type");
	victim_free(&v);
}
END_TEST

/* --- log blocks: rebuild the deflate stream around a damaged record ------- */

/* Inflate the only log block, let damage() change it, deflate it back. */
static size_t rebuild_log_block(const struct tl_sink *s, uint8_t **out,
				void (*damage)(uint8_t *raw, size_t len))
{
	struct layout l;
	uint8_t *raw, *z, *d;
	uLongf rawlen, zlen;
	size_t head, newlen;
	uint32_t blen;
	int zerr;

	parse_layout(s->data, s->len, &l);
	ck_assert_uint_gt(l.log_pos, 0);
	ck_assert_int_eq(s->data[l.log_pos], 'g');
	blen = (uint32_t)be(s->data + l.log_pos + 1, 3);
	head = l.log_pos + 4;
	rawlen = blen - 4;
	raw = malloc(rawlen);
	ck_assert_ptr_nonnull(raw);
	zerr = uncompress(raw, &rawlen, s->data + head, (uLong)(l.foot - head));
	ck_assert_int_eq(zerr, Z_OK);
	ck_assert_uint_eq(rawlen, blen - 4);
	damage(raw, rawlen);
	zlen = compressBound(rawlen);
	z = malloc(zlen);
	ck_assert_ptr_nonnull(z);
	ck_assert_int_eq(compress(z, &zlen, raw, rawlen), Z_OK);
	newlen = head + zlen + l.flen;
	d = malloc(newlen);
	ck_assert_ptr_nonnull(d);
	memcpy(d, s->data, head);
	memcpy(d + head, z, zlen);
	/* The footer is unchanged: no position after the log block moves. */
	memcpy(d + head + zlen, s->data + l.foot, l.flen);
	free(raw);
	free(z);
	*out = d;
	return newlen;
}

static void no_damage(uint8_t *raw, size_t len)
{
}

static void overflow_first_log_varint(uint8_t *raw, size_t len)
{
	ck_assert_uint_gt(len, 12);
	memset(raw, 0xff, 11);
}

static void zero_log_restart_count(uint8_t *raw, size_t len)
{
	raw[len - 1] = raw[len - 2] = 0;
}

START_TEST(log_block_damage)
{
	struct tl_sink s = TL_SINK_INIT;
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct layout l;
	uint8_t *d;
	size_t len;
	int err;

	one_log_block_table(&s, &refs, &logs);
	parse_layout(s.data, s.len, &l);

	/* Rebuilding without damage gives a table that reads cleanly: the
	 * rebuilding itself is sound. */
	len = rebuild_log_block(&s, &d, no_damage);
	err = exercise(d, len, &refs, &logs, "log block recompressed");
	ck_assert_int_eq(err, 0);
	free(d);

	len = rebuild_log_block(&s, &d, overflow_first_log_varint);
	err = exercise(d, len, &refs, &logs, "log varint overflow");
	ck_assert_msg(err == REFTABLE_FORMAT_ERROR,
		      "overflowing varint in a log record: %d", err);
	free(d);

	len = rebuild_log_block(&s, &d, zero_log_restart_count);
	err = exercise(d, len, &refs, &logs, "log restart count 0");
	ck_assert_msg(err == REFTABLE_FORMAT_ERROR,
		      "log block restart count 0: %d", err);
	free(d);

	/* A broken deflate stream: the zlib header destroyed. */
	d = malloc(s.len);
	ck_assert_ptr_nonnull(d);
	memcpy(d, s.data, s.len);
	d[l.log_pos + 4] = 0;
	d[l.log_pos + 5] = 0;
	err = exercise(d, s.len, &refs, &logs, "zlib header destroyed");
	ck_assert_msg(err == REFTABLE_ZLIB_ERROR, "bad zlib header: %d", err);
	/* An inflated size that disagrees with the stream. */
	memcpy(d, s.data, s.len);
	put(d + l.log_pos + 1, be(d + l.log_pos + 1, 3) + 100, 3);
	err = exercise(d, s.len, &refs, &logs, "inflated size too large");
	ck_assert_msg(err == REFTABLE_FORMAT_ERROR || err == REFTABLE_ZLIB_ERROR,
		      "log block_len larger than its stream: %d", err);
	memcpy(d, s.data, s.len);
	put(d + l.log_pos + 1, be(d + l.log_pos + 1, 3) - 10, 3);
	err = exercise(d, s.len, &refs, &logs, "inflated size too small");
	ck_assert_msg(err == REFTABLE_FORMAT_ERROR || err == REFTABLE_ZLIB_ERROR,
		      "log block_len smaller than its stream: %d", err);
	free(d);
	tl_sink_release(&s);
	tl_refs_free(&refs);
	tl_logs_free(&logs);
}
END_TEST

/* --- files ------------------------------------------------------------------ */

/* A one-ref table named name, with an id of 7s. */
static void one_ref_table(struct tl_sink *s, const char *name)
{
	struct reftable_write_options o = { 0 };
	struct reftable_ref_record ref = { 0 };
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };

	ref.refname = (char *)name;
	ref.update_index = 1;
	ref.value_type = REFTABLE_REF_VAL1;
	memset(ref.value, 7, 20);
	tl_refs_add(&refs, &ref);
	ck_assert_int_eq(tl_write_table(s, &o, 1, 1, &refs, &logs, NULL), 0);
	tl_refs_free(&refs);
}

/* The first ref of the table in data, read into got. */
static int first_ref(const uint8_t *data, size_t len,
		     struct reftable_ref_record *got)
{
	struct reftable_table *t = tl_open_buffer(data, len, "one.ref");
	struct reftable_iterator it = { 0 };
	int err = reftable_table_init_ref_iterator(t, &it);

	if (!err)
		err = reftable_iterator_seek_ref(&it, "");
	if (!err)
		err = reftable_iterator_next_ref(&it, got);
	reftable_iterator_destroy(&it);
	reftable_table_decref(t);
	return err;
}

/*
 * A NUL byte inside a stored ref name: a scan must refuse the record, not
 * hand out a shortened name, wherever the NUL falls (names are copied
 * eight bytes at a time, the last eight overlapping), however short the
 * name, and whether the record's name buffer is new or already large.
 */
START_TEST(nul_in_ref_name)
{
	static const char *const names[] = {
		"refs/heads/a-rather-long-branch-name-x", /* 38 bytes */
		"refs/heads/eight8", "refs/ab", "HEAD",
	};
	struct tl_sink roomy = TL_SINK_INIT;
	size_t n, at;
	int warm;

	one_ref_table(&roomy, "refs/heads/a-name-longer-than-all-the-others");
	for (n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
		size_t len = strlen(names[n]);

		for (at = 0; at < 2 * len; at++) {
			struct reftable_ref_record got = { 0 };
			struct tl_sink s = TL_SINK_INIT;
			uint8_t *name;
			int err;

			warm = at >= len;
			one_ref_table(&s, names[n]);
			name = memmem(s.data, s.len, names[n], len);
			ck_assert_ptr_nonnull(name);
			name[at % len] = 0;
			if (warm)
				ck_assert_int_eq(first_ref(roomy.data,
							   roomy.len, &got), 0);
			err = first_ref(s.data, s.len, &got);
			TL_CHECK(err == REFTABLE_FORMAT_ERROR,
				 "%s with NUL at %zu (%s buffer): %d",
				 names[n], at % len, warm ? "large" : "new",
				 err);
			reftable_ref_record_release(&got);
			tl_sink_release(&s);
		}
	}
	tl_sink_release(&roomy);
}
END_TEST

START_TEST(bad_files)
{
	char *dir = tl_tmpdir();
	char *missing = tl_path(dir, "missing.ref");
	char *empty = tl_path(dir, "empty.ref");
	char *junk = tl_path(dir, "junk.ref");
	struct reftable_table *t = NULL;
	uint8_t bytes[200];

	ck_assert_int_eq(reftable_table_open(&t, missing),
			 REFTABLE_NOT_EXIST_ERROR);
	tl_write_file(empty, "", 0);
	ck_assert_int_eq(reftable_table_open(&t, empty), REFTABLE_FORMAT_ERROR);
	memset(bytes, 'R', sizeof(bytes));
	tl_write_file(junk, bytes, sizeof(bytes));
	ck_assert_int_eq(reftable_table_open(&t, junk), REFTABLE_FORMAT_ERROR);
	ck_assert_int_lt(reftable_table_open(&t, dir), 0);
	free(missing);
	free(empty);
	free(junk);
	tl_rmtree(dir);
}
END_TEST

static Suite *corrupt_suite(void)
{
	Suite *s = suite_create("corrupt");
	TCase *tc = tcase_create("exhaustive");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, truncated_everywhere, 0, 2);
	tcase_add_loop_test(tc, every_byte_inverted, 0, 2);
	tcase_add_loop_test(tc, every_byte_plus_one, 0, 2);
	tcase_add_test(tc, random_damage);
	suite_add_tcase(s, tc);

	tc = tcase_create("targeted");
	tcase_add_loop_test(tc, bad_crc, 0, 2);
	tcase_add_loop_test(tc, bad_magic, 0, 2);
	tcase_add_loop_test(tc, unknown_version, 0, 2);
	tcase_add_test(tc, unknown_hash_id);
	tcase_add_test(tc, header_footer_mismatch);
	tcase_add_loop_test(tc, positions_past_end, 0, 2);
	tcase_add_loop_test(tc, block_len_past_end, 0, 2);
	tcase_add_loop_test(tc, restart_count, 0, 2);
	tcase_add_loop_test(tc, overflowing_varint_in_ref, 0, 2);
	tcase_add_test(tc, log_block_damage);
	tcase_add_test(tc, nul_in_ref_name);
	tcase_add_test(tc, bad_files);
	tcase_add_loop_test(tc, ref_block_retyped, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(corrupt_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
