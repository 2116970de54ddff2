#ifndef TEST_CORRUPT_HELPERS_H
#define TEST_CORRUPT_HELPERS_H

/*
 * Helpers of the corruption tests: the format's layout, the victim tables
 * and exercise(), which uses every reading call on a (damaged) table.
 * Each test file is its own program, so everything here is static inline.
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

static inline uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	while (n--)
		v = v << 8 | *p++;
	return v;
}

static inline void put(uint8_t *p, uint64_t v, int n)
{
	while (n--) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

static inline void parse_layout(const uint8_t *d, size_t len, struct layout *l)
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
static inline void fix_crc(uint8_t *d, size_t len)
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
static inline void small_table(struct tl_sink *out, enum reftable_hash hash,
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


/* --- exercising a (possibly corrupt) table ------------------------------ */

static inline int is_corruption_code(int err)
{
	return err == REFTABLE_FORMAT_ERROR || err == REFTABLE_ZLIB_ERROR ||
	       err == REFTABLE_CHECKSUM_ERROR ||
	       err == REFTABLE_UNSUPPORTED_ERROR;
}

/* Keep the first error; check every code is one a reader may give. */
static inline void note(int *first, int err, const char *what, const char *ctx)
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

static inline void iterate_refs(struct reftable_iterator *it, int *first,
				const char *ctx)
{
	struct reftable_ref_record rec = { 0 };
	int err, n = 0;

	while ((err = reftable_iterator_next_ref(it, &rec)) == 0)
		TL_CHECK(++n < MAX_RECORDS, "%s: ref iteration never ends", ctx);
	note(first, err, "next_ref", ctx);
	reftable_ref_record_release(&rec);
}

static inline void iterate_logs(struct reftable_iterator *it, int *first,
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
static inline int exercise(const uint8_t *data, size_t len,
			   const struct tl_refs *refs,
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

struct victim {
	struct tl_sink s;
	struct tl_refs refs;
	struct tl_logs logs;
	struct layout l;
	uint8_t *d; /* a fresh copy to damage */
};

static inline void victim_init(struct victim *v, enum reftable_hash h,
			       int unpadded)
{
	memset(v, 0, sizeof(*v));
	small_table(&v->s, h, unpadded, &v->refs, &v->logs);
	parse_layout(v->s.data, v->s.len, &v->l);
	v->d = malloc(v->s.len);
	ck_assert_ptr_nonnull(v->d);
	memcpy(v->d, v->s.data, v->s.len);
}

static inline void victim_reset(struct victim *v)
{
	memcpy(v->d, v->s.data, v->s.len);
}

static inline int victim_try(struct victim *v, const char *ctx)
{
	return exercise(v->d, v->s.len, &v->refs, &v->logs, ctx);
}

static inline void victim_free(struct victim *v)
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

#endif
