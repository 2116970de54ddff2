#ifndef RECORD_H
#define RECORD_H

/*
 * Internal: how records are encoded inside blocks.
 *
 * Every record starts with its key, prefix-compressed against the previous
 * key of the block: varint(prefix_len), varint(suffix_len << 3 | extra),
 * suffix. The 3-bit extra is the record's value type. A record whose key
 * shares no prefix is a restart point: its key stands whole in the block.
 */

#include "basics.h"
#include "reftable-record.h"

enum block_type {
	BLOCK_TYPE_REF = 'r',
	BLOCK_TYPE_LOG = 'g',
	BLOCK_TYPE_OBJ = 'o',
	BLOCK_TYPE_INDEX = 'i',
};

static inline int is_block_type(uint8_t t)
{
	return t == BLOCK_TYPE_REF || t == BLOCK_TYPE_LOG ||
	       t == BLOCK_TYPE_OBJ || t == BLOCK_TYPE_INDEX;
}

/* Encode key, sharing its first prefix bytes with the previous key. Bytes
 * written, -1 if cap is too small. */
int encode_key(uint8_t *dst, size_t cap, size_t prefix, const uint8_t *key,
	       size_t key_len, uint8_t extra);

/*
 * Parse a key header: prefix length, suffix length, extra. Bytes consumed
 * (the suffix starts there), -1 if malformed.
 */
static inline int decode_key_header(const uint8_t *src, size_t len,
				    uint64_t *prefix_len, uint64_t *suffix_len,
				    uint8_t *extra)
{
	uint64_t v;
	int n = get_varint(prefix_len, src, len), m;

	if (n < 0)
		return -1;
	m = get_varint(&v, src + n, len - n);
	if (m < 0)
		return -1;
	*suffix_len = v >> 3;
	*extra = v & 7;
	if (*suffix_len > len - n - m)
		return -1;
	return n + m;
}

/*
 * Decode a key into key, which holds the previous key on entry; *prefix
 * is how much of it the record reused (0: the key is stored whole). The
 * keys of ref records are names, C strings: one with a NUL byte is
 * refused here, so a name copied from a decoded key needs no check.
 * Bytes consumed, or REFTABLE_FORMAT_ERROR / REFTABLE_NOMEM_ERROR.
 * Inline: it runs once per record of every scan.
 */
static inline int decode_key(struct buf *key, uint8_t type,
			     uint64_t *prefix_len, uint8_t *extra,
			     const uint8_t *src, size_t len)
{
	uint64_t prefix, suffix;
	int n = decode_key_header(src, len, &prefix, &suffix, extra);

	if (n < 0 || prefix > key->len)
		return REFTABLE_FORMAT_ERROR;
	if (buf_setlen(key, prefix + suffix) < 0)
		return REFTABLE_NOMEM_ERROR;
	if (copy_short(key->data + prefix, src + n, suffix) &&
	    type == BLOCK_TYPE_REF)
		return REFTABLE_FORMAT_ERROR;
	*prefix_len = prefix;
	return n + (int)suffix;
}

/* Length of the value that follows a key, without decoding it; -1 if
 * malformed. */
int value_len_any(uint8_t type, uint8_t extra, const uint8_t *src, size_t len,
		  size_t hash_size);
/* The same, inline for the ids of ref records with a one-byte update
 * index delta: nearly every record a scan or a lookup passes. */
static inline int value_len(uint8_t type, uint8_t extra, const uint8_t *src,
			    size_t len, size_t hash_size)
{
	if (type == BLOCK_TYPE_REF && len && !(src[0] & 0x80)) {
		size_t ids = extra == REFTABLE_REF_VAL1 ? 1 :
			     extra == REFTABLE_REF_VAL2 ? 2 : 0;
		if (ids && len - 1 >= ids * hash_size)
			return 1 + (int)(ids * hash_size);
	}
	return value_len_any(type, extra, src, len, hash_size);
}

/* Ref values. update_index is stored relative to the table's minimum. */
int ref_value_encode(uint8_t *dst, size_t cap,
		     const struct reftable_ref_record *ref, uint64_t min_ui,
		     size_t hash_size);
int ref_value_decode_any(struct reftable_ref_record *ref, const uint8_t *key,
			 size_t key_len, uint8_t extra, const uint8_t *src,
			 size_t len, uint64_t min_ui, size_t hash_size);

/* Object ids have one of two sizes: constant-size copies compile inline. */
static inline void copy_id(uint8_t *dst, const uint8_t *src, size_t hash_size)
{
	if (hash_size == 20)
		memcpy(dst, src, 20);
	else
		memcpy(dst, src, hash_size);
}

/*
 * Copy a key of at least 8 bytes into a name that has room for it, eight
 * bytes at a time, the last eight overlapping: a scan does this for every
 * record, and names are short. The key is a decoded one (decode_key
 * refused NUL bytes) or a caller's C string. 0 copied, 1 if the key is too
 * short or the name too small (nothing copied).
 */
static inline int refname_copy_fast(struct reftable_ref_record *ref,
				    const uint8_t *key, size_t len)
{
	uint64_t w;
	char *dst = ref->refname;
	size_t i;

	if (len < 8 || len >= ref->refname_cap)
		return 1;
	for (i = 0; i + 8 < len; i += 8) {
		memcpy(&w, key + i, 8);
		memcpy(dst + i, &w, 8);
	}
	memcpy(&w, key + len - 8, 8);
	memcpy(dst + len - 8, &w, 8);
	dst[len] = 0;
	return 0;
}

/*
 * Decode a ref value (the key is the name): bytes consumed, or < 0. Inline
 * for what a scan meets at nearly every record, one or two object ids with
 * a one-byte update index delta into a name with room; the rest, and every
 * check that fails here, goes to ref_value_decode_any().
 */
static inline int ref_value_decode(struct reftable_ref_record *ref,
				   const uint8_t *key, size_t key_len,
				   uint8_t extra, const uint8_t *src,
				   size_t len, uint64_t min_ui,
				   size_t hash_size)
{
	size_t ids = extra == REFTABLE_REF_VAL1 ? 1 :
		     extra == REFTABLE_REF_VAL2 ? 2 : 0;
	size_t need = 1 + ids * hash_size;

	if (ids && len >= need && !(src[0] & 0x80) &&
	    min_ui <= UINT64_MAX - 0x7f &&
	    refname_copy_fast(ref, key, key_len) == 0) {
		ref->update_index = min_ui + src[0];
		ref->value_type = extra;
		copy_id(ref->value, src + 1, hash_size);
		if (ids == 2)
			copy_id(ref->peeled, src + 1 + hash_size, hash_size);
		return (int)need;
	}
	return ref_value_decode_any(ref, key, key_len, extra, src, len,
				    min_ui, hash_size);
}

/* Log keys: refname, NUL, then the update index reversed (~ui) big-endian,
 * so that newer entries sort first. */
#define LOG_KEY_SUFFIX 9
int log_key(struct buf *key, const char *refname, uint64_t update_index);
int log_value_encode(uint8_t *dst, size_t cap,
		     const struct reftable_log_record *log, size_t hash_size);
int log_value_decode(struct reftable_log_record *log, const uint8_t *key,
		     size_t key_len, uint8_t extra, const uint8_t *src,
		     size_t len, size_t hash_size);

/* Object index records: an abbreviated object id and the positions of the
 * ref blocks that mention it (none: scan the whole table). */
struct obj_value {
	uint64_t *offsets;
	size_t len, cap;
};
uint8_t obj_extra(size_t n_offsets);
int obj_value_encode(uint8_t *dst, size_t cap, const uint64_t *offsets,
		     size_t n);
int obj_value_decode(struct obj_value *v, uint8_t extra, const uint8_t *src,
		     size_t len);

/* Index records: the last key of a block and the block's position. */
int index_value_encode(uint8_t *dst, size_t cap, uint64_t offset);
int index_value_decode(uint64_t *offset, const uint8_t *src, size_t len);

#endif
