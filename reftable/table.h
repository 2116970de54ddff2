#ifndef TABLE_H
#define TABLE_H

/* Internal: an open table, its sections, and cursors over them. */

#include <pthread.h>
#include <stdatomic.h>

#include "block.h"
#include "reftable-fs.h"
#include "reftable-table.h"

/* A data block of a section and the last key it holds. */
struct dir_entry {
	uint64_t offset;
	size_t key_off, key_len; /* in section.keys */
};

/*
 * One kind of blocks (refs, objects or logs): where its blocks lie, where
 * its top-level index lies, and, built on first use, the list of its data
 * blocks with their last keys, so a seek is a binary search in memory.
 */
struct section {
	uint8_t type;
	int present;
	uint64_t start, end;             /* the data blocks */
	uint64_t index_start, index_end; /* top-level index, 0 if none */
	atomic_int built;
	int build_err;
	struct dir_entry *dir;
	size_t dir_len, dir_cap;
	struct buf keys;
	/* All last keys share their first head_at bytes; head[i] holds the
	 * next 16 bytes of dir[i]'s key, big-endian and zero-padded, so most
	 * steps of a search compare integers in one small array. Names often
	 * share more than 8 bytes past "refs/" ("heads/topic/..."). */
	size_t head_at;
	struct dir_head {
		uint64_t hi, lo;
	} *head;
	/* Log blocks inflated once and kept for the table's life, one slot
	 * per dir entry, filled with a compare-and-swap so readers need no
	 * lock; capped by LOG_CACHE_MAX_BYTES per table. */
	_Atomic(struct block *) *inflated;
	atomic_size_t inflated_bytes;
};

#define LOG_CACHE_MAX_BYTES (64u << 20)

struct reftable_table {
	atomic_int refcount;
	char *name;
	const uint8_t *data;
	size_t size;
	const struct reftable_fs *fs; /* non-NULL if data is mapped */
	int owns_data;                /* data was read into our memory */
	int version;
	enum reftable_hash hash;
	size_t hash_size;
	uint32_t block_size;
	uint64_t min_ui, max_ui;
	uint32_t header_size;
	uint64_t footer_start;
	int obj_id_len;
	struct section refs, objs, logs;
	pthread_mutex_t build_lock;
	/* Ref lookups go through a hash index (name_index.h) once this
	 * table has served index_after of them; 0: never. */
	size_t index_after;
	atomic_size_t ref_lookups;
	_Atomic(struct name_index *) name_index;
};

/*
 * Small tables are read into memory: a mapping costs a page fault to use
 * and, when dropped, a TLB shootdown across CPUs, which dominate a reload
 * that opens a few freshly written tables. Large ones are mapped, so that
 * opening a big stack reads nothing it does not touch.
 */
#define TABLE_READ_MAX (32u << 10)

/* A table of the bytes in data, which it takes (data is left empty,
 * also on failure). */
int table_from_owned(struct reftable_table **out, struct buf *data,
		     const char *name);

/* REFTABLE_FORMAT_ERROR, with "<table name>: what" as its detail. */
int table_corrupt(const struct reftable_table *t, const char *what);

/* Load the data block at offset of a section. */
int table_load_block(struct reftable_table *t, const struct section *s,
		     uint64_t offset, struct block *b, struct inflater *z);
/* The section's block list, built on first use (thread-safe). */
int section_dir(struct reftable_table *t, struct section *s);

/*
 * A cursor over the records of one section of one table. The current
 * record's key is in bi.key; its value is decoded only on demand.
 */
struct table_cursor {
	struct reftable_table *t;
	struct section *s;
	size_t block; /* index into s->dir */
	struct block_iter bi;
	struct inflater z;
};

void table_cursor_init(struct table_cursor *c, struct reftable_table *t,
		       struct section *s);
/* Position on the first key >= want. */
int table_cursor_seek(struct table_cursor *c, const uint8_t *want,
		      size_t want_len);
/* Past the end of the current block: the first record of the next one
 * that has records (valid = 0 at the end of the section). */
int table_cursor_next_block(struct table_cursor *c);

/* Inline, as the decoders they call: a scan runs them once per record. */
static inline int table_cursor_advance(struct table_cursor *c)
{
	int err = block_iter_advance(&c->bi);

	if (err < 0)
		return table_corrupt(c->t, "bad record");
	return c->bi.valid ? 0 : table_cursor_next_block(c);
}
static inline int table_cursor_valid(const struct table_cursor *c)
{
	return c->bi.valid;
}
static inline int table_cursor_ref(struct table_cursor *c,
				   struct reftable_ref_record *ref)
{
	int n = ref_value_decode(ref, c->bi.key.data, c->bi.key.len,
				 c->bi.extra, block_iter_value(&c->bi),
				 c->bi.val_len, c->t->min_ui, c->t->hash_size);

	if (n == REFTABLE_FORMAT_ERROR)
		return table_corrupt(c->t, "bad ref record");
	return n < 0 ? n : 0;
}
/* table_cursor_ref, then table_cursor_advance: one step of a scan. */
static inline int table_cursor_step_ref(struct table_cursor *c,
					struct reftable_ref_record *ref)
{
	int err = table_cursor_ref(c, ref);

	return err < 0 ? err : table_cursor_advance(c);
}

/*
 * The current record into ref if it is what nearly every record of a
 * scan is: one or two ids after a one-byte update index delta. 1 if it
 * is not (nothing written). The name's shared part comes from the key,
 * the rest from the block, 16 bytes at a time whatever the lengths: the
 * name keeps NAME_SLACK bytes of room past its end, the key's room
 * covers the shared part rounded up, and the value, at least 21 bytes,
 * follows the suffix. (A scan: 209 -> 193 instructions per ref under
 * callgrind, with block_iter_advance_ref's copy_16.)
 */
#define NAME_SLACK 16

static inline int cursor_ref_out(const struct table_cursor *c,
				 struct reftable_ref_record *ref)
{
	const struct block_iter *bi = &c->bi;
	const uint8_t *v = block_iter_value(bi), *key = bi->key.data;
	size_t ids = ref_ids(bi->extra), len = bi->key.len, shared = bi->prefix;
	size_t hash_size = c->t->hash_size, suffix = len - shared, i;
	uint8_t *dst;

	if (!ids || v[0] & 0x80 || c->t->min_ui > UINT64_MAX - 0x7f ||
	    (shared | 15) + 1 > bi->key.cap)
		return 1;
	if (len + NAME_SLACK >= ref->refname_cap &&
	    owned_str_reserve(&ref->refname, &ref->refname_cap,
			      len + NAME_SLACK + 1) < 0)
		return 1; /* the general step reports it */
	dst = (uint8_t *)ref->refname;
	memcpy(dst, key, 16);
	for (i = 16; i < shared; i += 16)
		memcpy(dst + i, key + i, 16);
	if (suffix <= 16)
		memcpy(dst + shared, v - suffix, 16);
	else
		copy_short(dst + shared, v - suffix, suffix);
	dst[len] = 0;
	ref->update_index = c->t->min_ui + v[0];
	ref->value_type = bi->extra;
	copy_id(ref->value, v + 1, hash_size);
	if (ids == 2)
		copy_id(ref->peeled, v + 1 + hash_size, hash_size);
	return 0;
}

/* One step of a scan: the current record into ref, then on to the next
 * record, in straight-line code for the common records. */
static inline int table_cursor_next_ref(struct table_cursor *c,
					struct reftable_ref_record *ref)
{
	int err;

	if (cursor_ref_out(c, ref))
		return table_cursor_step_ref(c, ref);
	err = block_iter_advance_ref(&c->bi);
	if (err < 0)
		return table_corrupt(c->t, "bad record");
	return err ? table_cursor_advance(c) : 0;
}
int table_cursor_log(struct table_cursor *c, struct reftable_log_record *log);
void table_cursor_release(struct table_cursor *c);

/* The ref record named name, without allocating: 0 found, 1 absent. */
int table_lookup_ref(struct reftable_table *t, const char *name,
		     size_t name_len, struct reftable_ref_record *ref);

#endif
