/*
 * Lookups through the name index (reftable/name_index.c) against lookups
 * through the block directory, on tables crafted here byte by byte: the
 * writer of this library always shares the longest prefix it can and
 * stores a key whole only at a restart, but the format lets a writer share
 * fewer bytes, store a key whole anywhere, restart every record or almost
 * never. The index keeps, per record, the one earlier record of its run
 * that gives its key bytes (a link); tables whose prefixes are chosen at
 * random give links of every shape.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "basics.h"
#include "constants.h"
#include "name_index.h"
#include "table.h"
#include "testlib.h"

#define MAX_NAME 300

struct rec {
	uint8_t name[MAX_NAME];
	size_t len;
	uint8_t type;
	uint64_t ui_delta;
	uint8_t ids[2][32];
	char target[24];
};

struct crafted {
	struct rec *v;
	size_t n;
	int version;
	size_t hash_size;
	uint8_t *data;
	size_t len;
	struct reftable_table *t;
};

/* How a table's records are laid out. */
struct layout {
	int prefixes;   /* 0 longest shared, 1 any shorter, 2 repeat the last */
	uint32_t restart;  /* records per restart run */
	int whole_per_mille; /* keys stored whole off the restarts */
	size_t block_bytes; /* a block ends past this many bytes */
};

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->name, y->name, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Bytes of names: few letters, so names share long prefixes, and bytes
 * above 0x7f, so order is unsigned. */
static uint8_t name_byte(struct tl_rng *r)
{
	static const uint8_t alphabet[] = { 'a', 'b', '/', 0x01, 0x7f, 0x80,
					    0xff };
	uint64_t k = tl_rng_below(r, 20);

	return k < 7 ? alphabet[k] : (k < 14 ? 'a' : 'b');
}

/* Names grown from prefixes of earlier ones: many are prefixes of others,
 * some run past NAME_INDEX_NAME_MAX. */
static void make_names(struct crafted *c, struct tl_rng *r, size_t n)
{
	size_t i, j, out;

	c->v = calloc(n, sizeof(*c->v));
	ck_assert_ptr_nonnull(c->v);
	for (i = 0; i < n; i++) {
		struct rec *e = &c->v[i];
		size_t keep = 0, add;

		if (i && tl_rng_below(r, 8)) {
			const struct rec *from = &c->v[tl_rng_below(r, i)];

			keep = tl_rng_below(r, from->len + 1);
			memcpy(e->name, from->name, keep);
		}
		add = 1 + tl_rng_below(r, tl_rng_below(r, 6) ? 4 : 40);
		if (!i || !tl_rng_below(r, 30))
			add += 240; /* around the longest indexed name */
		if (keep + add > MAX_NAME)
			add = MAX_NAME - keep;
		if (!add) {
			keep--;
			add = 1;
		}
		for (j = 0; j < add; j++)
			e->name[keep + j] = name_byte(r);
		e->len = keep + add;
		e->type = (uint8_t)tl_rng_below(r, 4);
		e->ui_delta = tl_rng_below(r, 4) ? tl_rng_below(r, 3) : 200;
		tl_rng_bytes(r, e->ids[0], sizeof(e->ids[0]));
		tl_rng_bytes(r, e->ids[1], sizeof(e->ids[1]));
		snprintf(e->target, sizeof(e->target), "refs/t/%u",
			 (unsigned)tl_rng_below(r, 100000));
	}
	qsort(c->v, n, sizeof(*c->v), rec_cmp);
	for (i = out = 0; i < n; i++)
		if (!out || rec_cmp(&c->v[out - 1], &c->v[i]))
			c->v[out++] = c->v[i];
	c->n = out;
}

static void out_bytes(struct buf *o, const void *p, size_t n)
{
	ck_assert_int_eq(buf_add(o, p, n), 0);
}

static void out_varint(struct buf *o, uint64_t v)
{
	uint8_t b[VARINT_MAX_LEN];
	int n = put_varint(b, sizeof(b), v);

	ck_assert_int_gt(n, 0);
	out_bytes(o, b, (size_t)n);
}

/* The low bytes of v, big-endian. */
static void out_be(struct buf *o, uint64_t v, int bytes)
{
	uint8_t b[8];

	put_be64(b, v);
	out_bytes(o, b + 8 - bytes, (size_t)bytes);
}

static size_t shared(const struct rec *a, const struct rec *b)
{
	size_t n = 0;

	while (n < a->len && n < b->len && a->name[n] == b->name[n])
		n++;
	return n;
}

static void out_record(struct buf *o, const struct crafted *c,
		       const struct rec *e, size_t prefix)
{
	size_t k;

	out_varint(o, prefix);
	out_varint(o, (e->len - prefix) << 3 | e->type);
	out_bytes(o, e->name + prefix, e->len - prefix);
	out_varint(o, e->ui_delta);
	for (k = 0; k < ref_ids(e->type); k++)
		out_bytes(o, e->ids[k], c->hash_size);
	if (e->type == REFTABLE_REF_SYMREF) {
		out_varint(o, strlen(e->target));
		out_bytes(o, e->target, strlen(e->target));
	}
}

static void out_header(struct buf *o, const struct crafted *c)
{
	out_bytes(o, "REFT", 4);
	out_be(o, (uint64_t)c->version, 1);
	out_be(o, 0xffffff, 3); /* no block is padded */
	out_be(o, 1, 8);
	out_be(o, 1000, 8);
	if (c->version == 2)
		out_be(o, HASH_ID_SHA256, 4);
}

/* The records in unpadded ref blocks, with prefixes and restarts as the
 * layout says, then a footer that names no other section. */
static void write_table(struct crafted *c, const struct layout *lo,
			struct tl_rng *r)
{
	struct buf o = BUF_INIT;
	uint32_t *restarts = calloc(c->n + 1, sizeof(*restarts));
	size_t i = 0, hsize, footer;

	ck_assert_ptr_nonnull(restarts);
	out_header(&o, c);
	hsize = o.len;
	while (i < c->n) {
		size_t block = i == 0 ? 0 : o.len, nr = 0, k, prev_prefix = 0;
		uint32_t run = 0;

		out_bytes(&o, "r\0\0\0", 4);
		do {
			size_t lcp = nr ? shared(&c->v[i - 1], &c->v[i]) : 0;
			size_t prefix = lcp;
			int whole = !nr || ++run >= lo->restart;

			if (lo->prefixes == 1 && lcp)
				prefix = tl_rng_below(r, lcp + 1);
			else if (lo->prefixes == 2 && prev_prefix <= lcp &&
				 tl_rng_below(r, 2))
				prefix = prev_prefix;
			if ((int)tl_rng_below(r, 1000) < lo->whole_per_mille)
				prefix = 0;
			if (whole) {
				prefix = 0;
				run = 0;
				restarts[nr++] = (uint32_t)(o.len - block);
			}
			out_record(&o, c, &c->v[i], prefix);
			prev_prefix = prefix;
			i++;
		} while (i < c->n && o.len - block < lo->block_bytes &&
			 nr < 65535);
		for (k = 0; k < nr; k++)
			out_be(&o, restarts[k], 3);
		out_be(&o, nr, 2);
		put_be24(o.data + block + (block ? 1 : hsize + 1),
			 (uint32_t)(o.len - block));
	}
	footer = o.len;
	out_header(&o, c);
	for (i = 0; i < 5; i++)
		out_be(&o, 0, 8);
	out_be(&o, crc32(0, o.data + footer, (uInt)(o.len - footer)), 4);
	/* Exactly the table's bytes: a read past them is caught by ASan. */
	c->data = malloc(o.len);
	ck_assert_ptr_nonnull(c->data);
	memcpy(c->data, o.data, o.len);
	c->len = o.len;
	buf_release(&o);
	free(restarts);
	c->t = tl_open_buffer(c->data, c->len, "crafted.ref");
}

static void crafted_free(struct crafted *c)
{
	reftable_table_decref(c->t);
	free(c->data);
	free(c->v);
}

static const struct rec *find(const struct crafted *c, const uint8_t *name,
			      size_t len)
{
	struct rec key;
	size_t lo = 0, hi = c->n;

	memcpy(key.name, name, len);
	key.len = len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = rec_cmp(&c->v[mid], &key);

		if (!cmp)
			return &c->v[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* One name through both paths, and the answer the model gives. */
static void check_name(struct crafted *c, const struct name_index *ix,
		       const uint8_t *name, size_t len, const char *ctx)
{
	struct reftable_ref_record dir = { 0 }, got = { 0 };
	const struct rec *e = find(c, name, len);
	int d, x;

	if (memchr(name, 0, len))
		return; /* not a name */
	d = table_lookup_ref(c->t, (const char *)name, len, &dir);
	TL_CHECK(d == (e ? 0 : 1), "%s: directory says %d for %.*s (len %zu)",
		 ctx, d, (int)len, (const char *)name, len);
	if (e) {
		TL_CHECK(dir.value_type == e->type &&
				 dir.update_index == 1 + e->ui_delta,
			 "%s: directory record of %.*s", ctx, (int)len,
			 (const char *)name);
	}
	if (len <= NAME_INDEX_NAME_MAX) {
		x = name_index_lookup(ix, c->t, name, len, &got);
		TL_CHECK(x == d, "%s: index says %d, directory %d for %.*s "
			 "(len %zu)", ctx, x, d, (int)len, (const char *)name,
			 len);
		if (!x)
			tl_assert_ref_eq(&dir, &got, c->hash_size, ctx);
	}
	reftable_ref_record_release(&dir);
	reftable_ref_record_release(&got);
}

/* Every name, every name with a byte changed, cut short or lengthened. */
static void check_all(struct crafted *c, const struct name_index *ix,
		      size_t every, const char *ctx)
{
	uint8_t name[MAX_NAME + 2];
	size_t i, j;

	for (i = 0; i < c->n; i++) {
		const struct rec *e = &c->v[i];

		check_name(c, ix, e->name, e->len, ctx);
		if (i % every)
			continue;
		for (j = 0; j < e->len; j++) {
			memcpy(name, e->name, e->len);
			name[j] ^= 1;
			check_name(c, ix, name, e->len, ctx);
			name[j] ^= 1;
			check_name(c, ix, name, j, ctx);
		}
		memcpy(name, e->name, e->len);
		name[e->len] = 'a';
		check_name(c, ix, name, e->len + 1, ctx);
		name[e->len] = 0xff;
		check_name(c, ix, name, e->len + 1, ctx);
	}
}

static void run_layout(const struct layout *lo, int version, uint64_t seed,
		       size_t nrecs)
{
	static const uint64_t masks[] = { UINT64_MAX, 0, 3 };
	struct crafted c = { 0 };
	struct tl_rng r;
	size_t m;
	char ctx[128];

	tl_rng_init(&r, seed);
	c.version = version;
	c.hash_size = version == 2 ? 32 : 20;
	make_names(&c, &r, nrecs);
	write_table(&c, lo, &r);
	reftable_table_set_lookup_index(c.t, 0);
	for (m = 0; m < sizeof(masks) / sizeof(masks[0]); m++) {
		struct name_index *ix = NULL;
		int err;

		snprintf(ctx, sizeof(ctx),
			 "seed %llu v%d prefixes %d restart %u whole %d "
			 "block %zu mask %llx",
			 (unsigned long long)seed, version, lo->prefixes,
			 (unsigned)lo->restart, lo->whole_per_mille,
			 lo->block_bytes, (unsigned long long)masks[m]);
		name_index_hash_mask = masks[m];
		err = name_index_build(c.t, &ix);
		TL_CHECK(err == 0, "%s: build %d", ctx, err);
		if (getenv("CRAFTED_STATS") && !m) {
			struct name_index_stats st;

			name_index_get_stats(ix, &st);
			fprintf(stderr, "%s: %zu records %zu none %zu one %zu run\n",
				ctx, st.records, st.no_link, st.one_link, st.run);
		}
		check_all(&c, ix, masks[m] == UINT64_MAX ? 1 : 5, ctx);
		name_index_free(ix);
	}
	name_index_hash_mask = UINT64_MAX;
	crafted_free(&c);
}

START_TEST(crafted_tables_agree_with_directory)
{
	static const struct layout layouts[] = {
		{ 0, 16, 0, 4000 },    { 1, 16, 0, 4000 },
		{ 2, 16, 0, 4000 },    { 1, 65535, 0, 1 << 20 },
		{ 1, 65535, 100, 1 << 20 }, { 2, 65535, 30, 300 },
		{ 0, 1, 0, 256 },      { 1, 3, 200, 256 },
		{ 1, 2, 0, 100 },      { 0, 65535, 0, 16000000 },
	};
	size_t i, s;

	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		for (s = 0; s < 2; s++)
			run_layout(&layouts[i], 1 + (int)(s & 1),
				   100 * i + s, 250);
}
END_TEST

/* A failed check leaves the mask as it was: with every hash equal, the
 * tests after it (in one process, CK_FORK=no) would crawl. */
static void reset_mask(void)
{
	name_index_hash_mask = UINT64_MAX;
}

int main(void)
{
	Suite *s = suite_create("name-index-crafted");
	TCase *tc = tcase_create("crafted");

	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, NULL, reset_mask);
	tcase_add_test(tc, crafted_tables_agree_with_directory);
	suite_add_tcase(s, tc);
	return tl_run_suite(s);
}
