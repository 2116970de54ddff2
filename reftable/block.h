#ifndef BLOCK_H
#define BLOCK_H

/*
 * Internal: one block of a table. A block is a type byte, a 24-bit length,
 * prefix-compressed records, a table of 24-bit restart offsets and a 16-bit
 * restart count. The first block of a file also holds the file header, so
 * its length and restart offsets count from the start of the file. Log
 * blocks are deflated after their 4-byte header; their length field gives
 * the inflated size.
 */

#include <zlib.h>

#include "basics.h"
#include "record.h"

#define MAX_RESTARTS 65535

struct block_writer {
	uint8_t *buf; /* block_size bytes, owned by the table writer */
	uint32_t block_size;
	uint32_t header_off;
	uint32_t next;
	uint8_t type;
	uint16_t restart_interval;
	uint32_t *restarts;
	size_t restart_len, restart_cap;
	struct buf last_key;
	uint64_t entries;
	/* log blocks: the deflate stream (NULL until the first) and its
	 * output */
	z_stream *zs;
	struct buf zout;
};

void block_writer_init(struct block_writer *bw, uint8_t type, uint8_t *buf,
		       uint32_t block_size, uint32_t header_off,
		       uint16_t restart_interval);
/* 0: added; 1: the block is full (nothing added). */
int block_writer_add(struct block_writer *bw, const uint8_t *key,
		     size_t key_len, uint8_t extra, const uint8_t *val,
		     size_t val_len);
/* Write the restart table and the length; deflate log blocks. Sets *out
 * to the finished bytes (the block buffer, or the deflated copy). */
int block_writer_finish(struct block_writer *bw, const uint8_t **out,
			size_t *out_len);
void block_writer_release(struct block_writer *bw);

/* A block ready to read. For log blocks data points to an inflated copy. */
struct block {
	const uint8_t *data;   /* the block; for the first block, the file */
	uint32_t header_off;   /* bytes of file header before the block */
	uint8_t type;
	uint32_t len;          /* block_len: end of the restart count */
	uint32_t records_end;  /* where the restart table starts */
	uint16_t restart_count;
	uint32_t full_size;    /* bytes the block takes in the file */
	size_t hash_size;
};

/* Reusable inflate state for reading log blocks. */
struct inflater {
	z_stream zs;
	int ready;
	struct buf out;
};
void inflater_release(struct inflater *z);

/*
 * Check and open the block at src (avail bytes up to the end of its
 * section). block_size is the table's, used to find where padding ends.
 * Log blocks are inflated into z->out. REFTABLE_FORMAT_ERROR,
 * REFTABLE_ZLIB_ERROR on bad data.
 */
int block_open(struct block *b, const uint8_t *src, size_t avail,
	       uint32_t header_off, uint32_t block_size, size_t hash_size,
	       struct inflater *z);

/* A cursor on a record of a block. */
struct block_iter {
	struct block blk;
	uint32_t off;       /* the current record */
	uint32_t next_off;  /* the record after it */
	int valid;          /* 0: past the end */
	struct buf key;     /* the current record's key */
	uint8_t extra;
	uint32_t prefix;    /* bytes of the key shared with the previous one;
			     * the rest is stored just before the value */
	uint32_t val_off, val_len;
};

/* Position on the first record. 0, or < 0 on bad data. */
int block_iter_start(struct block_iter *it, const struct block *b);

/* Decode the record at it->off: its key (against the current one) and the
 * extent of its value. Inline, as block_iter_advance: a scan runs them
 * once per record. */
static inline int block_iter_decode(struct block_iter *it)
{
	const struct block *b = &it->blk;
	size_t avail = b->records_end - it->off;
	uint64_t prefix;
	int n, v;

	n = decode_key(&it->key, b->type, &prefix, &it->extra, b->data + it->off,
		       avail);
	if (n < 0)
		return n;
	v = value_len(b->type, it->extra, b->data + it->off + n, avail - n,
		      b->hash_size);
	if (v < 0)
		return REFTABLE_FORMAT_ERROR;
	it->prefix = (uint32_t)prefix;
	it->val_off = it->off + n;
	it->val_len = v;
	it->next_off = it->val_off + v;
	it->valid = 1;
	return 0;
}

/* Move to the next record (valid = 0 past the end). */
static inline int block_iter_advance(struct block_iter *it)
{
	it->off = it->next_off;
	if (it->off >= it->blk.records_end) {
		it->valid = 0;
		return 0;
	}
	return block_iter_decode(it);
}
/* How many object ids a ref record of value type extra holds after its
 * update index: 1 or 2, 0 for the other types. */
static inline size_t ref_ids(uint8_t extra)
{
	return extra == REFTABLE_REF_VAL1 ? 1 :
	       extra == REFTABLE_REF_VAL2 ? 2 :
					    0;
}

/*
 * The head of a ref record of the kind nearly every one is: a one-byte
 * prefix length, a suffix length and type of one or two bytes (two from
 * 16 bytes of suffix), and after the suffix one or two ids behind a
 * one-byte update index delta.
 */
struct ref_head {
	size_t prefix, suffix;
	size_t n;   /* bytes of the head: the suffix starts there */
	size_t len; /* bytes of the whole record */
	uint8_t extra;
};

/* The key half of that: 1 if the record at p (avail bytes readable, at
 * least 3) starts so, h's prefix, suffix, extra and n set; 0 if not. The
 * suffix is not checked against avail. */
static inline int ref_key_head_common(const uint8_t *p, size_t avail,
				      struct ref_head *h)
{
	size_t sv;

	if (avail < 3 || p[0] & 0x80)
		return 0;
	if (!(p[1] & 0x80)) {
		sv = p[1];
		h->n = 2;
	} else if (!(p[2] & 0x80)) {
		sv = ((size_t)(p[1] & 0x7f) + 1) << 7 | p[2];
		h->n = 3;
	} else {
		return 0;
	}
	h->prefix = p[0];
	h->extra = sv & 7;
	h->suffix = sv >> 3;
	return 1;
}

/* 1 if the record at p (avail bytes before the restart table) is of that
 * kind, its head in h; 0 if it is to be decoded the general way. */
static inline int ref_head_common(const uint8_t *p, size_t avail,
				  size_t hash_size, struct ref_head *h)
{
	size_t ids;

	if (!ref_key_head_common(p, avail, h))
		return 0;
	ids = ref_ids(h->extra);
	if (!ids || avail - h->n < h->suffix + 1 + ids * hash_size ||
	    p[h->n + h->suffix] & 0x80)
		return 0;
	h->len = h->n + h->suffix + 1 + ids * hash_size;
	return 1;
}

/* ref_head for the records ref_head_common does not take. */
static inline int ref_head_any(const uint8_t *rec, size_t avail,
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

/* The head of the ref record at rec, avail bytes before the restart
 * table, whatever its kind: the common one in straight-line code. 0, or
 * REFTABLE_FORMAT_ERROR. */
static inline int ref_head(const uint8_t *rec, size_t avail,
			   size_t hash_size, struct ref_head *h)
{
	if (ref_head_common(rec, avail, hash_size, h))
		return 0;
	return ref_head_any(rec, avail, hash_size, h);
}

/*
 * block_iter_advance in a ref block, for a next record of the common kind
 * (ref_head_common) whose key fits the key buffer. 0 done, 1 if it is not
 * (nothing changed), or REFTABLE_FORMAT_ERROR on a NUL byte in its name.
 */
static inline int block_iter_advance_ref(struct block_iter *it)
{
	const struct block *b = &it->blk;
	struct buf *key = &it->key;
	const uint8_t *src;
	struct ref_head h;

	if (it->next_off >= b->records_end ||
	    !ref_head_common(b->data + it->next_off,
			     b->records_end - it->next_off, b->hash_size, &h) ||
	    h.prefix > key->len || h.prefix + h.suffix >= key->cap)
		return 1;
	src = b->data + it->next_off + h.n;
	/* The value follows the suffix: 16 bytes can be read. */
	if (h.suffix <= 16 && h.prefix + 16 < key->cap ?
		    copy_16(key->data + h.prefix, src, h.suffix) :
		    copy_short(key->data + h.prefix, src, h.suffix))
		return REFTABLE_FORMAT_ERROR;
	key->len = h.prefix + h.suffix;
	key->data[key->len] = 0;
	it->off = it->next_off;
	it->extra = h.extra;
	it->prefix = (uint32_t)h.prefix;
	it->val_off = it->off + (uint32_t)(h.n + h.suffix);
	it->val_len = (uint32_t)(h.len - h.n - h.suffix);
	it->next_off = it->off + (uint32_t)h.len;
	return 0;
}

/* block_iter_advance, in straight-line code for the common ref record. */
static inline int block_iter_next_ref(struct block_iter *it)
{
	int err = block_iter_advance_ref(it);

	return err == 1 ? block_iter_advance(it) : err;
}

/* Where a key search ended: the record's offset (records_end if every key
 * is smaller), whether its key equals want, and how many leading bytes of
 * want its key shares via its prefix (the key is want[0:prefix] + suffix).
 */
struct block_pos {
	uint32_t off;
	size_t prefix;
	int exact;
};
int block_find(const struct block *b, const uint8_t *want, size_t want_len,
	       struct block_pos *pos);

/* Position on the first record with key >= want (valid = 0 if none). */
int block_iter_seek(struct block_iter *it, const struct block *b,
		    const uint8_t *want, size_t want_len);
void block_iter_release(struct block_iter *it);

static inline const uint8_t *block_iter_value(const struct block_iter *it)
{
	return it->blk.data + it->val_off;
}

#endif
