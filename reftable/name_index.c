/* A hash index from ref name to record: see name_index.h. */

#include "name_index.h"

#include <string.h>
#include <sys/mman.h>

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
	void *alloc;           /* what holds the slots */
};

/* A slot's fingerprint needs this many bits to spare verifications. */
#define MIN_FINGERPRINT_BITS 16

uint64_t name_index_hash_mask = UINT64_MAX;

/* Multiply-xorshift over 8-byte words; names are short, so no setup.
 * A name of 8 bytes or more ends with its last 8, overlapping. */
static uint64_t name_hash(const uint8_t *key, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len, w = 0;
	size_t i;

	if (len >= 8) {
		for (i = 0; i + 8 < len; i += 8) {
			memcpy(&w, key + i, 8);
			h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
			h ^= h >> 31;
		}
		memcpy(&w, key + len - 8, 8);
	} else {
		for (i = 0; i < len; i++)
			w |= (uint64_t)key[i] << (8 * i);
	}
	h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
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
 * Building takes two passes over the ref blocks. The first only counts
 * the records and finds the largest start and delta, skipping over keys,
 * so the slots can be sized and their fields given just the bits they
 * need (a table with huge blocks but short restart runs still fits); the
 * second decodes each name as a scan does, hashes it and places it.
 * Placing is a random write into memory the size of the index: the ring
 * keeps PLACE_AHEAD records in flight, their slots asked for before they
 * are written.
 */
#define PLACE_AHEAD 16

struct builder {
	struct name_index *ix;
	size_t records;
	uint64_t max_start, max_delta;
	struct pending {
		uint64_t hash, start, delta;
	} ring[PLACE_AHEAD];
	size_t ring_len; /* records placed or in the ring */
};

/* Linear probing from the home slot; the table is under half full. */
static void place(struct name_index *ix, const struct pending *p)
{
	size_t i = home_slot(p->hash, ix->size);

	while (ix->slots[i])
		if (++i == ix->size)
			i = 0;
	ix->slots[i] = fingerprint(ix, p->hash) | p->start << ix->delta_bits |
		       p->delta;
}

static void place_record(struct builder *bd, const struct buf *key,
			 uint64_t start, uint64_t delta)
{
	struct pending *p = &bd->ring[bd->ring_len++ % PLACE_AHEAD];

	if (bd->ring_len > PLACE_AHEAD)
		place(bd->ix, p); /* the record PLACE_AHEAD back */
	p->hash = name_hash(key->data, key->len);
	p->start = start;
	p->delta = delta;
	__builtin_prefetch(&bd->ix->slots[home_slot(p->hash, bd->ix->size)],
			   1);
}

/* record_head for the records ref_head_common does not take. */
static int record_head_any(const uint8_t *rec, size_t avail,
			   size_t hash_size, struct ref_head *h)
{
	uint64_t prefix, suffix;
	int n = decode_key_header(rec, avail, &prefix, &suffix, &h->extra), v;

	if (n < 0)
		return REFTABLE_FORMAT_ERROR;
	v = value_len(BLOCK_TYPE_REF, h->extra, rec + n + suffix,
		      avail - n - suffix, hash_size);
	if (v < 0)
		return REFTABLE_FORMAT_ERROR;
	h->n = (size_t)n;
	h->prefix = (size_t)prefix;
	h->suffix = (size_t)suffix;
	h->len = (size_t)n + (size_t)suffix + (size_t)v;
	return 0;
}

/* The head of the ref record at rec, avail bytes readable: the common
 * kind in straight-line code. 0, or REFTABLE_FORMAT_ERROR. */
static inline int record_head(const uint8_t *rec, size_t avail,
			      size_t hash_size, struct ref_head *h)
{
	if (ref_head_common(rec, avail, hash_size, h))
		return 0;
	return record_head_any(rec, avail, hash_size, h);
}

/* First pass over one ref block: its records' starts and deltas. Keys
 * are skipped, not decoded; the second pass checks them. */
static int count_block(struct builder *bd, const struct block *b,
		       uint64_t base)
{
	uint32_t off = b->header_off + 4, start = off;
	size_t key_len = 0;

	while (off < b->records_end) {
		struct ref_head h;

		if (record_head(b->data + off, b->records_end - off,
				b->hash_size, &h) < 0 ||
		    h.prefix > key_len)
			return REFTABLE_FORMAT_ERROR;
		if (!h.prefix) /* the first record of a block is always whole */
			start = off;
		key_len = h.prefix + h.suffix;
		bd->records++;
		if (base + start > bd->max_start)
			bd->max_start = base + start;
		if (off - start > bd->max_delta)
			bd->max_delta = off - start;
		off += (uint32_t)h.len;
	}
	return 0;
}

/* Second pass over one ref block: each record's name into the index. */
static int place_block(struct builder *bd, const struct block *b,
		       uint64_t base, struct block_iter *it)
{
	uint32_t start = 0;
	int err;

	for (err = block_iter_start(it, b); !err && it->valid;
	     err = block_iter_next_ref(it)) {
		if (!it->prefix)
			start = it->off;
		place_record(bd, &it->key, base + start, it->off - start);
	}
	return err;
}

static int build_pass(struct builder *bd, struct reftable_table *t,
		      int placing)
{
	struct block_iter it = { 0 };
	struct block b;
	size_t i;
	int err = 0;

	/* Room for the names a scan step decodes in place. */
	if (placing && buf_grow(&it.key, NAME_INDEX_NAME_MAX) < 0)
		return REFTABLE_NOMEM_ERROR;
	for (i = 0; !err && i < t->refs.dir_len; i++) {
		uint64_t base;

		err = table_load_block(t, &t->refs, t->refs.dir[i].offset, &b,
				       NULL);
		if (err)
			break;
		base = (uint64_t)(b.data - t->data);
		err = placing ? place_block(bd, &b, base, &it) :
				count_block(bd, &b, base);
	}
	block_iter_release(&it);
	return err;
}

/*
 * Zeroed slots, on huge pages where the kernel allows: zeroing memory
 * faults it in page by page, and with 4 KiB pages an index of millions
 * of refs takes thousands of faults (measured in this project's VM:
 * 59 ms to zero 16 MB, 1.3 ms on huge pages), and a lookup's probe then
 * seldom misses the TLB. An index of a huge page or more starts on a huge
 * page boundary; the unused head of the allocation is never touched.
 */
#define HUGE_PAGE ((uintptr_t)2 << 20)

static int alloc_slots(struct name_index *ix)
{
	size_t bytes = ix->size * sizeof(*ix->slots), pad = 0;
	uint8_t *p;

	if (bytes >= HUGE_PAGE)
		pad = HUGE_PAGE;
	if (!(p = reftable_malloc(bytes + pad)))
		return REFTABLE_NOMEM_ERROR;
	ix->alloc = p;
	if (pad) {
		p = (uint8_t *)(((uintptr_t)p + HUGE_PAGE - 1) &
				~(HUGE_PAGE - 1));
#ifdef MADV_HUGEPAGE
		/* A hint; where it fails, the memory is simply small pages. */
		(void)madvise(p, bytes & ~(size_t)(HUGE_PAGE - 1),
			      MADV_HUGEPAGE);
#endif
	}
	memset(p, 0, bytes);
	ix->slots = (uint64_t *)p;
	return 0;
}

/* Size the slots and their fields to what the first pass found. */
static int plan_slots(struct builder *bd)
{
	struct name_index *ix = bd->ix;

	ix->delta_bits = bit_width(bd->max_delta);
	ix->pos_bits = ix->delta_bits + bit_width(bd->max_start);
	/* Fingerprints need their bits; home_slot needs size < 2^32. */
	if (ix->pos_bits + MIN_FINGERPRINT_BITS > 64 ||
	    bd->records >= UINT32_MAX / 2)
		return REFTABLE_UNSUPPORTED_ERROR;
	ix->size = 2 * bd->records + 1;
	return alloc_slots(ix);
}

int name_index_build(struct reftable_table *t, struct name_index **out)
{
	struct builder bd = { 0 };
	size_t i;
	int err;

	bd.ix = reftable_calloc(1, sizeof(*bd.ix));
	err = bd.ix ? section_dir(t, &t->refs) : REFTABLE_NOMEM_ERROR;
	if (!err)
		err = build_pass(&bd, t, 0);
	if (!err)
		err = plan_slots(&bd);
	if (!err)
		err = build_pass(&bd, t, 1);
	if (err < 0) {
		name_index_free(bd.ix);
		return err;
	}
	/* The last records still in the ring. */
	for (i = bd.ring_len > PLACE_AHEAD ? bd.ring_len - PLACE_AHEAD : 0;
	     i < bd.ring_len; i++)
		place(bd.ix, &bd.ring[i % PLACE_AHEAD]);
	*out = bd.ix;
	return 0;
}

void name_index_free(struct name_index *ix)
{
	if (!ix)
		return;
	reftable_free(ix->alloc);
	reftable_free(ix);
}

/*
 * Write a record's suffix (readable bytes from src on) at prefix, the
 * part of it before want_len. Most suffixes are short: then 16 bytes are
 * copied whatever their length, as the key has room for them. A byte
 * past the key is rewritten by a later record if a later key reaches it,
 * and one past want_len is never compared.
 */
#define KEY_SLACK 16

static inline void key_put(uint8_t *key, size_t prefix, const uint8_t *src,
			   size_t suffix, size_t readable, size_t want_len)
{
	if (suffix <= KEY_SLACK && readable >= KEY_SLACK)
		memcpy(key + prefix, src, KEY_SLACK);
	else
		copy_short(key + prefix, src,
			   suffix < want_len - prefix ? suffix :
							want_len - prefix);
}

/*
 * Is the record at slot called want? Its key is built by decoding from
 * its start, each record's suffix written at its prefix; only the first
 * want_len bytes are kept, as a key of any other length is not want.
 * Position j of the key then holds what the last record with a prefix at
 * or before j wrote there, as decoding would. 0 and *val set to its value
 * if so, 1 if not.
 */
static int record_named(const struct name_index *ix,
			const struct reftable_table *t, uint64_t slot,
			const uint8_t *want, size_t want_len,
			const uint8_t **val, size_t *val_len, uint8_t *extra)
{
	uint64_t pos = slot & (((uint64_t)1 << ix->pos_bits) - 1);
	uint64_t start = pos >> ix->delta_bits;
	uint32_t delta = (uint32_t)(pos & ((1u << ix->delta_bits) - 1));
	const uint8_t *p = t->data + start;
	size_t avail = t->footer_start - start, key_len = 0, off = 0;
	size_t run = (size_t)delta + 65; /* through the record's first line */
	uint8_t key[NAME_INDEX_NAME_MAX + KEY_SLACK];

	/* The records up to this one are read in turn: ask for them all
	 * (the first KiB of them: long restart intervals are rare). */
	if (run > avail)
		run = avail;
	prefetch_bytes(p, run < 1024 ? run : 1024);
	for (;;) {
		const uint8_t *rec = p + off;
		struct ref_head h;

		if (record_head(rec, avail - off, t->hash_size, &h) < 0 ||
		    h.prefix > key_len)
			return REFTABLE_FORMAT_ERROR;
		if (h.prefix < want_len)
			key_put(key, h.prefix, rec + h.n, h.suffix,
				avail - off - h.n, want_len);
		key_len = h.prefix + h.suffix;
		if (off >= delta) {
			*val = rec + h.n + h.suffix;
			*val_len = h.len - h.n - h.suffix;
			*extra = h.extra;
			break;
		}
		off += h.len;
	}
	if (off != delta)
		return REFTABLE_FORMAT_ERROR;
	return key_len == want_len && !memcmp(key, want, want_len) ? 0 : 1;
}

int name_index_lookup(const struct name_index *ix,
		      const struct reftable_table *t, const uint8_t *want,
		      size_t want_len, struct reftable_ref_record *ref)
{
	uint64_t hash = name_hash(want, want_len);
	uint64_t fp = fingerprint(ix, hash), fp_mask = fingerprint(ix, ~0ull);
	size_t i = home_slot(hash, ix->size), val_len;
	const uint8_t *val;
	uint64_t slot;
	uint8_t extra;
	int err;

	for (; (slot = ix->slots[i]) != 0; i = i + 1 == ix->size ? 0 : i + 1) {
		if ((slot & fp_mask) != fp)
			continue;
		err = record_named(ix, t, slot, want, want_len, &val, &val_len,
				   &extra);
		if (err < 0)
			return err;
		if (err)
			continue;
		err = ref_value_decode(ref, want, want_len, extra, val,
				       val_len, t->min_ui, t->hash_size);
		return err < 0 ? err : 0;
	}
	return 1;
}
