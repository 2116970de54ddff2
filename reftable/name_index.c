/* A hash index from ref name to record: see name_index.h. */

#include "name_index.h"

#include <string.h>

#include "constants.h"
#include "record.h"
#include "table.h"

/*
 * A slot is 8 bytes: a record's position and a fingerprint of its name.
 * The position is where decoding can start (the last record at or before
 * it whose key is stored whole: the block's restart) and how far on the
 * record lies, packed as start << delta_bits | delta; the fingerprint,
 * low bits of the name's hash, fills the bits above. 0 is an empty slot:
 * no record starts at offset 0, the file header does.
 */
struct name_index {
	size_t size;           /* slots, more than twice the records */
	unsigned delta_bits;   /* enough for the longest run from a start */
	unsigned pos_bits;     /* start and delta */
	uint64_t *slots;
};

/* A slot's fingerprint needs this many bits to spare verifications. */
#define MIN_FINGERPRINT_BITS 16

uint64_t name_index_hash_mask = UINT64_MAX;

/* Multiply-xorshift over 8-byte words; names are short, so no setup. */
static uint64_t name_hash(const uint8_t *key, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len, w;

	for (; len >= 8; key += 8, len -= 8) {
		memcpy(&w, key, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	if (len) {
		w = 0;
		memcpy(&w, key, len);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
	}
	h ^= h >> 29;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 32;
	return h & name_index_hash_mask;
}

/* The home slot of a hash: its high bits scaled to size (< 2^32). */
static size_t home_slot(uint64_t hash, size_t size)
{
	return (size_t)(((hash >> 32) * (uint64_t)size) >> 32);
}

static uint64_t fingerprint(const struct name_index *ix, uint64_t hash)
{
	return hash << ix->pos_bits;
}

static unsigned bit_width(uint64_t v)
{
	unsigned n = 0;

	for (; v; v >>= 1)
		n++;
	return n;
}

/*
 * The records as they are found, then placed in the slots. A record's
 * start and delta are kept apart (delta in the low GATHER_DELTA_BITS)
 * until the largest of each is known: slots then give each just the bits
 * it needs, so a table with huge blocks but short restart runs still
 * fits.
 */
#define GATHER_DELTA_BITS 24

struct gathered {
	struct gathered_rec {
		uint64_t hash, pos;
	} *v;
	size_t len, cap;
	uint64_t max_start, max_delta;
};

static int gather(struct gathered *g, const uint8_t *key, size_t key_len,
		  uint64_t start, uint64_t delta)
{
	struct gathered_rec *r;

	if (delta >> GATHER_DELTA_BITS)
		return REFTABLE_FORMAT_ERROR; /* blocks have 24-bit sizes */
	if (start >> (64 - GATHER_DELTA_BITS))
		return REFTABLE_UNSUPPORTED_ERROR; /* a table of terabytes */
	if (REFTABLE_GROW(g->v, g->cap, g->len + 1) < 0)
		return REFTABLE_NOMEM_ERROR;
	r = &g->v[g->len++];
	r->hash = name_hash(key, key_len);
	r->pos = start << GATHER_DELTA_BITS | delta;
	if (start > g->max_start)
		g->max_start = start;
	if (delta > g->max_delta)
		g->max_delta = delta;
	return 0;
}

/* Gather every record of one ref block, decoding its keys in turn. */
static int gather_block(struct gathered *g, const struct reftable_table *t,
			const struct block *b, struct buf *key)
{
	uint64_t base = (uint64_t)(b->data - t->data), start = 0;
	uint32_t off = b->header_off + 4;

	buf_reset(key);
	while (off < b->records_end) {
		const uint8_t *rec = b->data + off;
		size_t avail = b->records_end - off;
		uint64_t prefix, suffix;
		uint8_t extra;
		int n, v, err;

		n = decode_key_header(rec, avail, &prefix, &suffix, &extra);
		if (n < 0 || prefix > key->len)
			return REFTABLE_FORMAT_ERROR;
		if (buf_setlen(key, prefix + suffix) < 0)
			return REFTABLE_NOMEM_ERROR;
		memcpy(key->data + prefix, rec + n, suffix);
		if (!prefix) /* the first record of a block is always whole */
			start = off;
		v = value_len(BLOCK_TYPE_REF, extra, rec + n + suffix,
			      avail - n - suffix, t->hash_size);
		if (v < 0)
			return REFTABLE_FORMAT_ERROR;
		err = gather(g, key->data, key->len, base + start, off - start);
		if (err < 0)
			return err;
		off += n + (uint32_t)suffix + (uint32_t)v;
	}
	return 0;
}

/* Linear probing from the home slot; the table is under half full. */
static void place(struct name_index *ix, const struct gathered_rec *r)
{
	uint64_t start = r->pos >> GATHER_DELTA_BITS;
	uint64_t delta = r->pos & ((1u << GATHER_DELTA_BITS) - 1);
	size_t i = home_slot(r->hash, ix->size);

	while (ix->slots[i])
		if (++i == ix->size)
			i = 0;
	ix->slots[i] = fingerprint(ix, r->hash) | start << ix->delta_bits |
		       delta;
}

/* Size the slot fields to what was gathered; 0, or -1 if they do not
 * leave the fingerprint enough bits (tables of terabytes). */
static int plan_slots(struct name_index *ix, const struct gathered *g)
{
	ix->delta_bits = bit_width(g->max_delta);
	ix->pos_bits = ix->delta_bits + bit_width(g->max_start);
	return ix->pos_bits + MIN_FINGERPRINT_BITS <= 64 ? 0 : -1;
}

int name_index_build(struct reftable_table *t, struct name_index **out)
{
	struct name_index *ix = reftable_calloc(1, sizeof(*ix));
	struct gathered g = { 0 };
	struct buf key = { 0 };
	struct block b;
	size_t i;
	int err = ix ? section_dir(t, &t->refs) : REFTABLE_NOMEM_ERROR;

	for (i = 0; !err && i < t->refs.dir_len; i++) {
		err = table_load_block(t, &t->refs, t->refs.dir[i].offset, &b,
				       NULL);
		if (!err)
			err = gather_block(&g, t, &b, &key);
	}
	buf_release(&key);
	if (!err && plan_slots(ix, &g) < 0)
		err = REFTABLE_UNSUPPORTED_ERROR;
	if (!err && g.len >= UINT32_MAX / 2)
		err = REFTABLE_UNSUPPORTED_ERROR; /* home_slot's range */
	if (!err) {
		ix->size = 2 * g.len + 1;
		ix->slots = reftable_calloc(ix->size, sizeof(*ix->slots));
		if (!ix->slots)
			err = REFTABLE_NOMEM_ERROR;
	}
	for (i = 0; !err && i < g.len; i++)
		place(ix, &g.v[i]);
	reftable_free(g.v);
	if (err < 0) {
		name_index_free(ix);
		return err;
	}
	*out = ix;
	return 0;
}

void name_index_free(struct name_index *ix)
{
	if (!ix)
		return;
	reftable_free(ix->slots);
	reftable_free(ix);
}

/*
 * Is the record at slot called want? Decode from its start, keeping only
 * how many leading bytes of want the current key shares: a record that
 * shares more with its predecessor than that still differs from want
 * where its predecessor did. 0 and *val set to its value if so, 1 if not.
 */
static int record_named(const struct name_index *ix,
			const struct reftable_table *t, uint64_t slot,
			const uint8_t *want, size_t want_len,
			const uint8_t **val, uint8_t *extra)
{
	uint64_t pos = slot & (((uint64_t)1 << ix->pos_bits) - 1);
	uint64_t start = pos >> ix->delta_bits, prefix, suffix;
	uint32_t off = 0, ahead;
	uint32_t delta = (uint32_t)(pos & ((1u << ix->delta_bits) - 1));
	const uint8_t *p = t->data + start;
	size_t avail = t->footer_start - start, match = 0, prev_len = 0;

	/* The records up to this one are read in turn: ask for them all
	 * (the first KiB of them: long restart intervals are rare). */
	for (ahead = 0; ahead <= delta + 64 && ahead < avail && ahead < 1024;
	     ahead += 64)
		__builtin_prefetch(p + ahead);
	for (;;) {
		int n = decode_key_header(p + off, avail - off, &prefix,
					  &suffix, extra);
		const uint8_t *sfx;
		int v;

		if (n < 0 || prefix > prev_len)
			return REFTABLE_FORMAT_ERROR;
		sfx = p + off + n;
		if (prefix <= match)
			match = prefix + common_prefix(sfx, suffix,
						       want + prefix,
						       want_len - prefix);
		if (off >= delta) {
			*val = sfx + suffix;
			break;
		}
		v = value_len(BLOCK_TYPE_REF, *extra, sfx + suffix,
			      avail - off - n - suffix, t->hash_size);
		if (v < 0)
			return REFTABLE_FORMAT_ERROR;
		prev_len = prefix + suffix;
		off += n + (uint32_t)suffix + (uint32_t)v;
	}
	if (off != delta)
		return REFTABLE_FORMAT_ERROR;
	return match == want_len && prefix + suffix == want_len ? 0 : 1;
}

int name_index_lookup(const struct name_index *ix,
		      const struct reftable_table *t, const uint8_t *want,
		      size_t want_len, struct reftable_ref_record *ref)
{
	uint64_t hash = name_hash(want, want_len);
	uint64_t fp = fingerprint(ix, hash), fp_mask = fingerprint(ix, ~0ull);
	const uint8_t *end = t->data + t->footer_start, *val;
	size_t i = home_slot(hash, ix->size);
	uint64_t slot;
	uint8_t extra;
	int err, v;

	for (; (slot = ix->slots[i]) != 0; i = i + 1 == ix->size ? 0 : i + 1) {
		if ((slot & fp_mask) != fp)
			continue;
		err = record_named(ix, t, slot, want, want_len, &val, &extra);
		if (err < 0)
			return err;
		if (err)
			continue;
		v = value_len(BLOCK_TYPE_REF, extra, val, (size_t)(end - val),
			      t->hash_size);
		if (v < 0)
			return REFTABLE_FORMAT_ERROR;
		err = ref_value_decode(ref, want, want_len, extra, val,
				       (size_t)v, t->min_ui, t->hash_size);
		return err < 0 ? err : 0;
	}
	return 1;
}
