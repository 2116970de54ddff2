/* Damaged blocks and records give a corruption code, never a wrong record. */

#include "test-corrupt-helpers.h"

/* --- (c) targeted corruptions: blocks and records ------------------------ */

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

/* --- ref names ---------------------------------------------------------- */

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

/*
 * A NUL byte in the stored name of a record inside a restart run, where a
 * scan takes its straight-line path (the name comes in part from earlier
 * records and in part from this one), at a restart, and in the last
 * record. Read by a scan of the table, of a merged view of two tables
 * (the general path), and from a seek: a reader hands out only intact
 * names, in order, and a scan from the start ends in a format error at
 * the damaged record (or at the step before, which decodes it).
 */
#define LATER_NAMES 120

static void later_name(char *out, size_t cap, int k)
{
	static const char *const words[] = { "alpha", "bravo", "charlie",
					     "delta", "echo" };

	snprintf(out, cap, "refs/heads/topic/%03d-%s-%d", k, words[k % 5], k);
}

static void later_names_table(struct tl_sink *s, const char *only)
{
	/* Small blocks: the table has an index, so opening it reads no
	 * record, and the damaged one is met only where it lies. */
	struct reftable_write_options o = { .block_size = 512 };
	struct tl_refs refs = { 0 };
	char name[64];
	int k;

	for (k = 0; k < LATER_NAMES; k++) {
		struct reftable_ref_record ref = { 0 };

		later_name(name, sizeof(name), k);
		ref.refname = only ? (char *)only : name;
		ref.update_index = 1;
		ref.value_type = k % 3 ? REFTABLE_REF_VAL1 : REFTABLE_REF_VAL2;
		memset(ref.value, k + 1, 20);
		memset(ref.peeled, k + 2, 20);
		tl_refs_add(&refs, &ref);
		if (only)
			break;
	}
	ck_assert_int_eq(tl_write_table(s, &o, 1, 1, &refs, NULL, NULL), 0);
	tl_refs_free(&refs);
}

/* Read it all from seek; every name intact and in order. The result of
 * the last next_ref; *n the names read. */
static int read_intact(struct reftable_iterator *it, const char *seek,
		       const char *damaged, const char *ctx, size_t *n)
{
	struct reftable_ref_record got = { 0 };
	char prev[64] = "", name[64];
	int err = reftable_iterator_seek_ref(it, seek), k;

	*n = 0;

	while (!err && (err = reftable_iterator_next_ref(it, &got)) == 0) {
		int known = !strcmp(got.refname, "refs/zzz");

		for (k = 0; !known && k < LATER_NAMES; k++) {
			later_name(name, sizeof(name), k);
			known = !strcmp(got.refname, name);
		}
		TL_CHECK(known && strcmp(got.refname, damaged) &&
				 strcmp(got.refname, prev) > 0,
			 "%s: read \"%s\" after \"%s\"", ctx, got.refname,
			 prev);
		snprintf(prev, sizeof(prev), "%s", got.refname);
		(*n)++;
	}
	reftable_ref_record_release(&got);
	return err;
}

START_TEST(nul_in_later_ref_name)
{
	static const int victims[] = { 16, 20, 21, 53, 97, LATER_NAMES - 1 };
	struct tl_sink other = TL_SINK_INIT;
	size_t i, at, pos, n;

	later_names_table(&other, "refs/zzz");
	for (i = 0; i < sizeof(victims) / sizeof(victims[0]); i++) {
		char name[64], ctx[96];
		const char *word;

		later_name(name, sizeof(name), victims[i]);
		word = strrchr(name, '-') - 5; /* its word: in its suffix */
		/* At each of the word's first five bytes, and at the name's
		 * last (where a check of too few bytes would miss it). */
		for (at = 0; at < 6; at++) {
			struct tl_sink s = TL_SINK_INIT;
			struct reftable_table *tables[2];
			struct reftable_iterator it = { 0 };
			struct reftable_merged *m;
			uint8_t *stored;
			int err;

			later_names_table(&s, NULL);
			stored = memmem(s.data, s.len, word, strlen(word));
			ck_assert_ptr_nonnull(stored);
			pos = at < 5 ? at : strlen(word) - 1;
			stored[pos] = 0;
			tables[0] = tl_open_buffer(s.data, s.len, "a.ref");
			tables[1] = tl_open_buffer(other.data, other.len,
						   "b.ref");

			snprintf(ctx, sizeof(ctx), "%s, NUL at %zu, scan",
				 name, pos);
			ck_assert_int_eq(
				reftable_table_init_ref_iterator(tables[0], &it),
				0);
			err = read_intact(&it, "", name, ctx, &n);
			TL_CHECK(err == REFTABLE_FORMAT_ERROR &&
					 n + 1 >= (size_t)victims[i] &&
					 n <= (size_t)victims[i],
				 "%s: %d after %zu names", ctx, err, n);
			reftable_iterator_destroy(&it);

			snprintf(ctx, sizeof(ctx), "%s, NUL at %zu, merged",
				 name, pos);
			ck_assert_int_eq(reftable_merged_new(&m, tables, 2,
							     REFTABLE_HASH_SHA1),
					 0);
			ck_assert_int_eq(
				reftable_merged_init_ref_iterator(m, &it), 0);
			err = read_intact(&it, "", name, ctx, &n);
			TL_CHECK(err == REFTABLE_FORMAT_ERROR &&
					 n + 1 >= (size_t)victims[i] &&
					 n <= (size_t)victims[i],
				 "%s: %d after %zu names", ctx, err, n);
			reftable_iterator_destroy(&it);
			reftable_merged_free(m);

			snprintf(ctx, sizeof(ctx), "%s, NUL at %zu, seek",
				 name, pos);
			ck_assert_int_eq(
				reftable_table_init_ref_iterator(tables[0], &it),
				0);
			err = read_intact(&it, name, name, ctx, &n);
			TL_CHECK(err == 1 || err == REFTABLE_FORMAT_ERROR,
				 "%s: %d", ctx, err);
			reftable_iterator_destroy(&it);

			reftable_table_decref(tables[0]);
			reftable_table_decref(tables[1]);
			tl_sink_release(&s);
		}
	}
	tl_sink_release(&other);
}
END_TEST

static Suite *blocks_suite(void)
{
	Suite *s = suite_create("corrupt-blocks");
	TCase *tc = tcase_create("targeted");

	tcase_add_loop_test(tc, block_len_past_end, 0, 2);
	tcase_add_loop_test(tc, restart_count, 0, 2);
	tcase_add_loop_test(tc, overflowing_varint_in_ref, 0, 2);
	tcase_add_test(tc, log_block_damage);
	tcase_add_test(tc, nul_in_ref_name);
	tcase_add_test(tc, nul_in_later_ref_name);
	tcase_add_loop_test(tc, ref_block_retyped, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tl_run_suite(blocks_suite());
}
