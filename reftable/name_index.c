/* A hash index from ref name to record: see name_index.h. */

#include "name_index.h"

#include <string.h>
#include <sys/mman.h>

#include "constants.h"
#include "record.h"
#include "table.h"

/*
 * A slot is 8 bytes: where a record lies and a fingerprint of its name.
 *
 * A record's key is its prefix taken from the key before it, then its
 * suffix; the record at start (the last one at or before it whose key
 * is stored whole: the restart) begins a run that decoding reads up to
 * it, delta bytes on. Few of the records between give it bytes: only
 * those whose prefix is shorter than that of every record after them up
 * to it. Most records (94% of a million names of the benchmark) have at
 * most one such "link" between start and themselves: its offset from
 * start is kept too, as mid, and a lookup reads those three records and
 * no others. mid is 0 when there is none, and equal to delta when there
 * are more (the lookup then decodes the whole run).
 *
 * Packed as start << (mid_bits + delta_bits) | mid << delta_bits | delta,
 * the fingerprint (low bits of the name's hash) above. A table whose
 * offsets leave too few bits for that has no mid (mid_bits 0): every
 * lookup decodes its run. 0 is an empty slot: no record starts at offset
 * 0, the file header does.
 */
struct name_index {
	size_t size;           /* slots, a quarter more than the records */
	unsigned delta_bits;   /* enough for the longest run from a start */
	unsigned mid_bits;     /* delta_bits, or 0: no links kept */
	unsigned pos_bits;     /* start, mid and delta */
	uint64_t *slots;
	void *alloc;           /* what holds the slots */
	size_t mapped;         /* its length if mapped, 0 if allocated */
};

/* A slot's fingerprint needs this many bits to spare verifications. */
#define MIN_FINGERPRINT_BITS 16

uint64_t name_index_hash_mask = UINT64_MAX;

/* The 128-bit product of a and b, its halves folded together. */
static inline uint64_t fold_mul(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
	unsigned __int128 p = (unsigned __int128)a * b;

	return (uint64_t)p ^ (uint64_t)(p >> 64);
#else
	uint64_t a_lo = a & 0xffffffff, a_hi = a >> 32;
	uint64_t b_lo = b & 0xffffffff, b_hi = b >> 32;
	uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo;
	uint64_t mid = (ll >> 32) + (lh & 0xffffffff) + (hl & 0xffffffff);

	return ((ll & 0xffffffff) | mid << 32) ^
	       (a_hi * b_hi + (lh >> 32) + (hl >> 32) + (mid >> 32));
#endif
}

/* Native order: the hash lives only in this process's memory. */
static inline uint64_t load64(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

static inline uint64_t load32(const uint8_t *p)
{
	uint32_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/*
 * 16 bytes per multiply, each step keyed by the one before, so equal
 * chunks in other places hash apart. The last 16 bytes (or all of a
 * shorter name, read as two overlapping words) finish it. Names are
 * short: a 40-byte name is three multiplies in a row.
 */
static uint64_t name_hash(const uint8_t *key, size_t len)
{
	const uint64_t k1 = 0xa0761d6478bd642full, k2 = 0xe7037ed1a0b428dbull;
	uint64_t h = 0x8ebc6af09c88c6e3ull ^ len, a, b;
	size_t i;

	if (len > 16) {
		for (i = 0; i + 16 < len; i += 16)
			h = fold_mul(load64(key + i) ^ k1,
				     load64(key + i + 8) ^ h);
		a = load64(key + len - 16);
		b = load64(key + len - 8);
	} else if (len >= 8) {
		a = load64(key);
		b = load64(key + len - 8);
	} else if (len >= 4) {
		a = load32(key);
		b = load32(key + len - 4);
	} else {
		a = len ? (uint64_t)key[0] << 16 | key[len / 2] << 8 |
				  key[len - 1] :
			  0;
		b = 0;
	}
	h = fold_mul(a ^ k1, b ^ h);
	return fold_mul(h ^ k2, h ^ k1) & name_index_hash_mask;
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

/* A slot's position fields (see struct name_index). */
struct slot_pos {
	uint64_t start;
	uint32_t mid, delta;
};

static uint64_t pack_pos(const struct name_index *ix, uint64_t start,
			 uint32_t mid, uint32_t delta)
{
	return (start << ix->mid_bits | mid) << ix->delta_bits | delta;
}

static struct slot_pos unpack_pos(const struct name_index *ix, uint64_t slot)
{
	uint64_t pos = slot & (((uint64_t)1 << ix->pos_bits) - 1);
	struct slot_pos sp;

	sp.start = pos >> (ix->delta_bits + ix->mid_bits);
	sp.delta = (uint32_t)(pos & ((1u << ix->delta_bits) - 1));
	sp.mid = (uint32_t)(pos >> ix->delta_bits) &
		 ((1u << ix->mid_bits) - 1);
	return sp;
}

/* Whether a lookup of this record decodes its whole run: the table keeps
 * no links, or the record has more than one. */
static int reads_run(const struct name_index *ix, const struct slot_pos *sp)
{
	return !ix->mid_bits || (sp->mid == sp->delta && sp->delta);
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
 * second rebuilds each name from the records' heads and suffixes, hashes
 * it and places it.
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
		uint64_t hash, pos;
	} ring[PLACE_AHEAD];
	size_t ring_len; /* records placed or in the ring */
};

/* Linear probing from the home slot; the table is at most 4/5 full. */
static void place(struct name_index *ix, const struct pending *p)
{
	size_t i = home_slot(p->hash, ix->size);

	while (ix->slots[i])
		if (++i == ix->size)
			i = 0;
	ix->slots[i] = fingerprint(ix, p->hash) | p->pos;
}

static void place_record(struct builder *bd, const uint8_t *key,
			 size_t key_len, uint64_t pos)
{
	struct pending *p = &bd->ring[bd->ring_len++ % PLACE_AHEAD];

	if (bd->ring_len > PLACE_AHEAD)
		place(bd->ix, p); /* the record PLACE_AHEAD back */
	p->hash = name_hash(key, key_len);
	p->pos = pos;
	__builtin_prefetch(&bd->ix->slots[home_slot(p->hash, bd->ix->size)],
			   1);
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
 * One record of a run, whose key so far is *key_len bytes long: its head
 * into h and its suffix into key at its prefix (the first keep bytes of
 * the key only; keep 0: none), and *key_len its key's length. 0,
 * or REFTABLE_FORMAT_ERROR if it is bad or claims more of the key before
 * it than there is (the first record of a block is always whole).
 */
static inline int run_record(const uint8_t *rec, size_t avail,
			     size_t hash_size, uint8_t *key, size_t keep,
			     size_t *key_len, struct ref_head *h)
{
	if (ref_head(rec, avail, hash_size, h) < 0 || h->prefix > *key_len)
		return REFTABLE_FORMAT_ERROR;
	if (h->prefix < keep)
		key_put(key, h->prefix, rec + h->n, h->suffix, avail - h->n,
			keep);
	*key_len = h->prefix + h->suffix;
	return 0;
}

/*
 * The links of the records of a run, as the second pass meets them: the
 * links of the last record and that record itself form a chain whose
 * prefixes grow, and a new record keeps those of them with a shorter
 * prefix than its own. Only the prefixes of the first two after start
 * are kept, and the offset of the first: a slot names one link at most,
 * and the chain is cut from its end, so a record keeping the second
 * keeps the first.
 */
struct links {
	uint32_t start, first;
	size_t prefix[2];
	unsigned n; /* links kept, up to 2 */
};

/* The mid of the record at off with this prefix (see struct name_index),
 * which then joins the chain. */
static uint32_t link_record(struct links *l, uint32_t off, size_t prefix)
{
	uint32_t mid;

	if (!prefix) {
		l->start = off;
		l->n = 0;
		return 0;
	}
	if (l->n > 0 && l->prefix[0] >= prefix)
		l->n = 0;
	else if (l->n > 1 && l->prefix[1] >= prefix)
		l->n = 1;
	mid = l->n == 0 ? 0 : l->n == 1 ? l->first - l->start : off - l->start;
	if (l->n == 0)
		l->first = off;
	if (l->n < 2)
		l->prefix[l->n++] = prefix;
	return mid;
}

/*
 * One pass over a ref block. The first (placing 0) counts its records
 * and finds the largest start and delta, skipping over keys; the second
 * rebuilds each name and places it. Names longer than a lookup through
 * the index takes are left out, and only as much of each key is kept as
 * the others need.
 */
static int pass_block(struct builder *bd, const struct block *b,
		      uint64_t base, int placing)
{
	const struct name_index *ix = bd->ix;
	uint32_t off = b->header_off + 4;
	size_t key_len = 0;
	struct links l = { 0 };
	uint8_t key[NAME_INDEX_NAME_MAX + KEY_SLACK];

	while (off < b->records_end) {
		uint32_t mid, delta;
		struct ref_head h;

		if (run_record(b->data + off, b->records_end - off,
			       b->hash_size, key,
			       placing ? NAME_INDEX_NAME_MAX : 0, &key_len,
			       &h) < 0)
			return REFTABLE_FORMAT_ERROR;
		/* Counting needs only where runs start: tracking links
		 * there too cost it a third of its time. */
		if (placing)
			mid = link_record(&l, off, h.prefix);
		else if (!h.prefix)
			l.start = off;
		delta = off - l.start;
		off += (uint32_t)h.len;
		if (!placing) {
			bd->records++;
			if (base + l.start > bd->max_start)
				bd->max_start = base + l.start;
			if (delta > bd->max_delta)
				bd->max_delta = delta;
			continue;
		}
		if (!ix->mid_bits)
			mid = 0;
		if (key_len <= NAME_INDEX_NAME_MAX)
			place_record(bd, key, key_len,
				     pack_pos(ix, base + l.start, mid, delta));
	}
	return 0;
}

static int build_pass(struct builder *bd, struct reftable_table *t,
		      int placing)
{
	struct block b;
	size_t i;
	int err = 0;

	for (i = 0; !err && i < t->refs.dir_len; i++) {
		uint64_t base;

		err = table_load_block(t, &t->refs, t->refs.dir[i].offset, &b,
				       NULL);
		if (err)
			break;
		base = (uint64_t)(b.data - t->data);
		err = pass_block(bd, &b, base, placing);
	}
	return err;
}

/*
 * Zeroed slots, on huge pages where the kernel allows: on small pages a
 * lookup's probe misses the TLB as well as the cache.
 *
 * An index of a huge page or more is mapped afresh, from a huge page
 * boundary, not taken from malloc: the heap hands back memory it already
 * holds on small pages. In the benchmark, after the write phase freed its
 * buffers, none of an allocated index lay on huge pages, and a second
 * million lookups took 1.75-1.79 times baseline_lookup_reads, against
 * 1.63-1.67 mapped (three runs each). Where mapping is not possible, the
 * slots are allocated after all.
 */
#define HUGE_PAGE ((size_t)2 << 20)

static uint8_t *align_huge(uint8_t *p)
{
	return (uint8_t *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
}

static void advise_huge(uint8_t *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
	/* A hint; where it fails, the memory is simply small pages. */
	(void)madvise(p, bytes & ~(HUGE_PAGE - 1), MADV_HUGEPAGE);
#else
	(void)p;
	(void)bytes;
#endif
}

static int alloc_slots(struct name_index *ix)
{
	size_t bytes = ix->size * sizeof(*ix->slots);
	uint8_t *p;

#ifdef MAP_ANONYMOUS
	if (bytes >= HUGE_PAGE) {
		/* Whole huge pages, and room to start on a boundary. */
		size_t whole = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
		size_t len = whole + HUGE_PAGE;

		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED) {
			ix->alloc = p;
			ix->mapped = len;
			ix->slots = (uint64_t *)align_huge(p);
			advise_huge((uint8_t *)ix->slots, whole);
			return 0; /* fresh mappings read as zeros */
		}
	}
#endif
	if (!(p = reftable_malloc(bytes + (bytes >= HUGE_PAGE ? HUGE_PAGE : 0))))
		return REFTABLE_NOMEM_ERROR;
	ix->alloc = p;
	if (bytes >= HUGE_PAGE) {
		p = align_huge(p);
		advise_huge(p, bytes);
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
	ix->mid_bits = ix->delta_bits;
	ix->pos_bits = 2 * ix->delta_bits + bit_width(bd->max_start);
	if (ix->pos_bits + MIN_FINGERPRINT_BITS > 64) {
		ix->mid_bits = 0;
		ix->pos_bits -= ix->delta_bits;
	}
	/* Fingerprints need their bits; home_slot needs size < 2^32. */
	if (ix->pos_bits + MIN_FINGERPRINT_BITS > 64 ||
	    bd->records >= UINT32_MAX / 2)
		return REFTABLE_UNSUPPORTED_ERROR;
	/* Probes stay short at four fifths full, and the slots fewer: a
	 * lookup's probe misses the cache less in a smaller index. */
	ix->size = bd->records + bd->records / 4 + 1;
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
#ifdef MAP_ANONYMOUS
	if (ix->mapped)
		munmap(ix->alloc, ix->mapped);
	else
#endif
		reftable_free(ix->alloc);
	reftable_free(ix);
}

/* A candidate record and what a lookup takes from it. */
struct candidate {
	const uint8_t *run; /* its start */
	size_t avail;       /* bytes readable from there */
	uint32_t mid, delta;
	size_t hash_size;
	const uint8_t *val;
	size_t val_len;
	uint8_t extra;
};

/*
 * Is the run's record at delta called want? Its key is built by decoding
 * from the start, each record's suffix written at its prefix; only the
 * first want_len bytes are kept, as a key of any other length is not
 * want. Position j of the key then holds what the last record with a
 * prefix at or before j wrote there, as decoding would. 0 and its value
 * in c if so, 1 if not.
 */
static int run_named(struct candidate *c, const uint8_t *want,
		     size_t want_len)
{
	const uint8_t *p = c->run;
	size_t avail = c->avail, key_len = 0, off = 0;
	size_t run = (size_t)c->delta + 65; /* through the record's first line */
	uint32_t delta = c->delta;
	uint8_t key[NAME_INDEX_NAME_MAX + KEY_SLACK];

	/* The records up to this one are read in turn: ask for them all
	 * (the first KiB of them: long restart intervals are rare). */
	if (run > avail)
		run = avail;
	prefetch_bytes(p, run < 1024 ? run : 1024);
	for (;;) {
		const uint8_t *rec = p + off;
		struct ref_head h;

		if (run_record(rec, avail - off, c->hash_size, key, want_len,
			       &key_len, &h) < 0)
			return REFTABLE_FORMAT_ERROR;
		if (off >= delta) {
			c->val = rec + h.n + h.suffix;
			c->val_len = h.len - h.n - h.suffix;
			c->extra = h.extra;
			break;
		}
		off += h.len;
	}
	if (off != delta)
		return REFTABLE_FORMAT_ERROR;
	return key_len == want_len && !memcmp(key, want, want_len) ? 0 : 1;
}

/* Whether the n bytes at a and b are equal: names' parts are short, and
 * a call to memcmp costs more than the compare. Reads only those bytes. */
static inline int same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (n >= 8 && n <= 16)
		return !((load64(a) ^ load64(b)) |
			 (load64(a + n - 8) ^ load64(b + n - 8)));
	if (n >= 4 && n < 8)
		return !((load32(a) ^ load32(b)) |
			 (load32(a + n - 4) ^ load32(b + n - 4)));
	return !memcmp(a, b, n);
}

/*
 * The link at off gives the key's bytes from its prefix up to *upto (the
 * prefix of the record after it in the chain): 0 if they are want's, and
 * *upto lowered to its prefix; 1 if not. Only its key is read.
 */
static int link_named(const struct candidate *c, uint32_t off,
		      const uint8_t *want, size_t *upto)
{
	const uint8_t *rec = c->run + off;
	size_t avail = c->avail - off;
	struct ref_head h;

	if (!ref_key_head_common(rec, avail, &h)) {
		uint64_t prefix, suffix;
		int n = decode_key_header(rec, avail, &prefix, &suffix,
					  &h.extra);

		if (n < 0)
			return REFTABLE_FORMAT_ERROR;
		h.n = (size_t)n;
		h.prefix = (size_t)prefix;
		h.suffix = (size_t)suffix;
	}
	if (h.suffix > avail - h.n || h.prefix >= *upto ||
	    *upto - h.prefix > h.suffix)
		return REFTABLE_FORMAT_ERROR;
	if (!same_bytes(rec + h.n, want + h.prefix, *upto - h.prefix))
		return 1;
	*upto = h.prefix;
	return 0;
}

/*
 * Is the record at delta called want, reading only it, its link at mid
 * (if any) and the record at the start (if it is not that one)? 0 and
 * its value in c if so, 1 if not.
 */
static int links_named(struct candidate *c, const uint8_t *want,
		       size_t want_len)
{
	const uint8_t *rec = c->run + c->delta;
	struct ref_head h;
	size_t upto;
	int err;

	__builtin_prefetch(c->run);
	__builtin_prefetch(c->run + c->mid);
	if (c->mid >= c->delta && c->mid)
		return REFTABLE_FORMAT_ERROR;
	if (ref_head(rec, c->avail - c->delta, c->hash_size, &h) < 0)
		return REFTABLE_FORMAT_ERROR;
	if (h.prefix + h.suffix != want_len ||
	    !same_bytes(rec + h.n, want + h.prefix, h.suffix))
		return 1;
	upto = h.prefix;
	if (c->mid && (err = link_named(c, c->mid, want, &upto)) != 0)
		return err;
	if (c->delta && (err = link_named(c, 0, want, &upto)) != 0)
		return err;
	if (upto) /* the start's key is not whole */
		return REFTABLE_FORMAT_ERROR;
	c->val = rec + h.n + h.suffix;
	c->val_len = h.len - h.n - h.suffix;
	c->extra = h.extra;
	return 0;
}

/* Is the record at slot called want? As run_named and links_named. */
static int record_named(const struct name_index *ix,
			const struct reftable_table *t, uint64_t slot,
			const uint8_t *want, size_t want_len,
			struct candidate *c)
{
	struct slot_pos sp = unpack_pos(ix, slot);

	c->delta = sp.delta;
	c->mid = sp.mid;
	c->run = t->data + sp.start;
	c->avail = t->footer_start - sp.start;
	c->hash_size = t->hash_size;
	if (c->delta >= c->avail)
		return REFTABLE_FORMAT_ERROR;
	if (!reads_run(ix, &sp))
		return links_named(c, want, want_len);
	return run_named(c, want, want_len);
}

void name_index_get_stats(const struct name_index *ix,
			  struct name_index_stats *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	st->slots = ix->size;
	st->mapped = ix->mapped != 0;
	for (i = 0; i < ix->size; i++) {
		struct slot_pos sp;

		if (!ix->slots[i])
			continue;
		sp = unpack_pos(ix, ix->slots[i]);
		st->records++;
		if (reads_run(ix, &sp))
			st->run++;
		else if (sp.mid)
			st->one_link++;
		else
			st->no_link++;
	}
}

int name_index_lookup(const struct name_index *ix,
		      const struct reftable_table *t, const uint8_t *want,
		      size_t want_len, struct reftable_ref_record *ref)
{
	uint64_t hash = name_hash(want, want_len);
	uint64_t fp = fingerprint(ix, hash), fp_mask = fingerprint(ix, ~0ull);
	size_t i = home_slot(hash, ix->size);
	struct candidate c;
	uint64_t slot;
	int err;

	for (; (slot = ix->slots[i]) != 0; i = i + 1 == ix->size ? 0 : i + 1) {
		if ((slot & fp_mask) != fp)
			continue;
		err = record_named(ix, t, slot, want, want_len, &c);
		if (err < 0)
			return err;
		if (err)
			continue;
		err = ref_value_decode(ref, want, want_len, c.extra, c.val,
				       c.val_len, t->min_ui, t->hash_size);
		return err < 0 ? err : 0;
	}
	return 1;
}
