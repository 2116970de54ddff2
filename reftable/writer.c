/*
 * The table writer: records go into blocks; full blocks are written out,
 * each remembered in the index of its section; at the end of a section
 * the index is written (in several levels when it spans many blocks), then
 * the object-id index, and at close the footer.
 *
 * Layout decisions (when to pad, when to index, how long object-id
 * abbreviations are) follow Git's writer, so that the same records with
 * the same options give the same bytes.
 */

#include <stdlib.h>
#include <zlib.h>

#include "block.h"
#include "constants.h"
#include "reftable-writer.h"

struct index_entry {
	uint64_t offset;
	size_t key_off, key_len; /* in index_keys */
};

struct reftable_writer {
	reftable_write_fn write;
	void *arg;
	struct reftable_write_options opts;
	size_t hash_size;
	int version;
	uint64_t min_ui, max_ui;

	uint8_t *block;  /* the block being filled */
	uint8_t *value;  /* scratch for encoding one value */
	struct block_writer bw;
	int bw_active;
	uint8_t section; /* BLOCK_TYPE_REF, then BLOCK_TYPE_LOG */
	int added;       /* records added: limits are frozen */

	uint64_t next;            /* file offset of the next block */
	uint64_t pending_padding; /* zeros owed before the next block */
	struct buf last_key;      /* of the section, for order checks */
	struct buf key;           /* scratch */
	struct buf out;           /* bytes not yet handed to write() */

	struct index_entry *index;
	size_t index_len, index_cap;
	struct buf index_keys;

	/* object ids of ref values, with the block each landed in */
	uint8_t *oids;
	uint64_t *oid_offsets;
	size_t oid_len, oid_cap, oid_offsets_cap;

	struct reftable_write_stats stats;
	int closed;
	int failed; /* a write failed: the table is lost, later calls fail */
};

static int writer_version(const struct reftable_write_options *o)
{
	return o->hash_id == REFTABLE_HASH_SHA256 ? 2 : 1;
}

int reftable_writer_new(struct reftable_writer **out, reftable_write_fn write,
			void *arg, const struct reftable_write_options *opts)
{
	struct reftable_write_options o = { 0 };
	struct reftable_writer *w;

	if (opts)
		o = *opts;
	if (!o.block_size)
		o.block_size = DEFAULT_BLOCK_SIZE;
	if (!o.restart_interval)
		o.restart_interval = DEFAULT_RESTART_INTERVAL;
	if (!o.hash_id)
		o.hash_id = REFTABLE_HASH_SHA1;
	if (o.block_size > REFTABLE_MAX_BLOCK_SIZE ||
	    o.block_size < REFTABLE_MIN_BLOCK_SIZE)
		return reftable_fail(REFTABLE_RANGE_ERROR,
				     "block size %u outside %u..%u",
				     (unsigned)o.block_size,
				     REFTABLE_MIN_BLOCK_SIZE,
				     REFTABLE_MAX_BLOCK_SIZE);
	if (!reftable_hash_size(o.hash_id))
		return reftable_fail(REFTABLE_RANGE_ERROR, "unknown hash id %d",
				     (int)o.hash_id);

	w = reftable_calloc(1, sizeof(*w));
	if (!w)
		return REFTABLE_NOMEM_ERROR;
	w->block = reftable_calloc(1, o.block_size);
	w->value = reftable_malloc(o.block_size);
	if (!w->block || !w->value) {
		reftable_writer_free(w);
		return REFTABLE_NOMEM_ERROR;
	}
	w->write = write;
	w->arg = arg;
	w->opts = o;
	w->hash_size = reftable_hash_size(o.hash_id);
	w->version = writer_version(&o);
	w->section = BLOCK_TYPE_REF;
	*out = w;
	return 0;
}

int reftable_writer_set_limits(struct reftable_writer *w, uint64_t min,
			       uint64_t max)
{
	if (w->added || w->closed)
		return reftable_fail(REFTABLE_API_ERROR,
				     "limits set after records were added");
	if (min > max)
		return reftable_fail(REFTABLE_UPDATE_INDEX_ERROR,
				     "update index limits %llu > %llu",
				     (unsigned long long)min,
				     (unsigned long long)max);
	w->min_ui = min;
	w->max_ui = max;
	return 0;
}

static int write_header(const struct reftable_writer *w, uint8_t *dst)
{
	memcpy(dst, REFTABLE_MAGIC, 4);
	dst[4] = (uint8_t)w->version;
	put_be24(dst + 5, w->opts.block_size);
	put_be64(dst + 8, w->min_ui);
	put_be64(dst + 16, w->max_ui);
	if (w->version == 2)
		put_be32(dst + 24, w->opts.hash_id == REFTABLE_HASH_SHA256 ?
					   HASH_ID_SHA256 :
					   HASH_ID_SHA1);
	return header_size(w->version);
}

/*
 * Output goes to the caller's write function in chunks of up to
 * WRITER_OUT_MAX bytes rather than a call per block: for a file sink each
 * call is a system call.
 */
#define WRITER_OUT_MAX (256u << 10)

static int hand_out(struct reftable_writer *w, const void *data, size_t len)
{
	ssize_t n = w->write(w->arg, data, len);

	if (n < 0 || (size_t)n != len) {
		w->failed = 1;
		return reftable_fail(REFTABLE_IO_ERROR, "writing table failed");
	}
	return 0;
}

/* A caller that goes on after a failed write must not get a table that
 * lacks what was lost, nor a success from close. */
static int check_not_failed(const struct reftable_writer *w)
{
	return w->failed ? reftable_fail(REFTABLE_IO_ERROR,
					 "an earlier write of the table failed") :
			   0;
}

static int flush_out(struct reftable_writer *w)
{
	int err = w->out.len ? hand_out(w, w->out.data, w->out.len) : 0;

	buf_reset(&w->out);
	return err;
}

static int emit(struct reftable_writer *w, const void *data, size_t len)
{
	int err;

	if (w->out.len + len > WRITER_OUT_MAX && (err = flush_out(w)) < 0)
		return err;
	if (len >= WRITER_OUT_MAX)
		return hand_out(w, data, len);
	return buf_add(&w->out, data, len);
}

/* Write data, after the padding the previous block still owes. */
static int padded_write(struct reftable_writer *w, const uint8_t *data,
			size_t len, size_t padding)
{
	static const uint8_t zeros[4096];
	int err;

	while (w->pending_padding) {
		size_t n = w->pending_padding < sizeof(zeros) ?
				   w->pending_padding :
				   sizeof(zeros);
		if ((err = emit(w, zeros, n)) < 0)
			return err;
		w->pending_padding -= n;
	}
	w->pending_padding = padding;
	return emit(w, data, len);
}

static void start_block(struct reftable_writer *w, uint8_t type)
{
	uint32_t header_off = 0;

	if (w->next == 0)
		header_off = write_header(w, w->block);
	block_writer_init(&w->bw, type, w->block, w->opts.block_size,
			  header_off, w->opts.restart_interval);
	w->bw_active = 1;
}

static struct reftable_block_stats *stats_of(struct reftable_writer *w,
					     uint8_t type)
{
	switch (type) {
	case BLOCK_TYPE_REF:
		return &w->stats.ref;
	case BLOCK_TYPE_OBJ:
		return &w->stats.obj;
	case BLOCK_TYPE_INDEX:
		return &w->stats.idx;
	default:
		return &w->stats.log;
	}
}

static int add_index_entry(struct reftable_writer *w, uint64_t offset,
			   const struct buf *key)
{
	struct index_entry *e;

	if (REFTABLE_GROW(w->index, w->index_cap, w->index_len + 1) < 0)
		return REFTABLE_NOMEM_ERROR;
	e = &w->index[w->index_len++];
	e->offset = offset;
	e->key_off = w->index_keys.len;
	e->key_len = key->len;
	return buf_add(&w->index_keys, key->data, key->len);
}

/* Forget the padding the last block owes: nothing will follow it. */
static void drop_padding(struct reftable_writer *w)
{
	w->next -= w->pending_padding;
	w->pending_padding = 0;
}

static int flush_block(struct reftable_writer *w)
{
	struct block_writer *bw = &w->bw;
	struct reftable_block_stats *bs;
	const uint8_t *data;
	size_t len, padding = 0;
	int err;

	if (!w->bw_active || !bw->entries)
		return 0;
	if (bw->type == BLOCK_TYPE_LOG)
		w->stats.log_bytes_uncompressed += bw->next;
	err = block_writer_finish(bw, &data, &len);
	if (err < 0)
		return err;
	/* Log blocks are never padded. */
	if (!w->opts.unpadded && bw->type != BLOCK_TYPE_LOG)
		padding = w->opts.block_size - len;

	bs = stats_of(w, bw->type);
	if (!bs->blocks && w->next)
		bs->offset = w->next;
	bs->entries += bw->entries;
	bs->restarts += bw->restart_len;
	bs->blocks++;
	w->stats.blocks++;

	err = padded_write(w, data, len, padding);
	if (!err)
		err = add_index_entry(w, w->next, &bw->last_key);
	w->next += len + padding;
	w->bw_active = 0;
	return err;
}

/* Add one encoded record, starting a new block when the current is full. */
static int add_record(struct reftable_writer *w, uint8_t type,
		      const struct buf *key, uint8_t extra, size_t val_len)
{
	int err;

	if (!w->bw_active)
		start_block(w, type);
	err = block_writer_add(&w->bw, key->data, key->len, extra, w->value,
			       val_len);
	if (err != 1)
		return err;
	if (!w->bw.entries)
		goto too_big;
	if ((err = flush_block(w)) < 0)
		return err;
	start_block(w, type);
	err = block_writer_add(&w->bw, key->data, key->len, extra, w->value,
			       val_len);
	if (err != 1)
		return err;
too_big:
	return reftable_fail(REFTABLE_ENTRY_TOO_BIG_ERROR,
			     "record for '%.*s' does not fit in a %u-byte block",
			     (int)(key->len > 200 ? 200 : key->len),
			     (const char *)key->data,
			     (unsigned)w->opts.block_size);
}

/* Keys must strictly increase within a section. */
static int check_order(struct reftable_writer *w, const struct buf *key,
		       const char *name)
{
	int c;

	if (!w->last_key.len)
		return 0;
	c = key_cmp(w->last_key.data, w->last_key.len, key->data, key->len);
	if (c == 0)
		return reftable_fail(REFTABLE_DUPLICATE_KEY_ERROR,
				     "duplicate record for '%s'", name);
	if (c > 0)
		return reftable_fail(REFTABLE_OUT_OF_ORDER_ERROR,
				     "record for '%s' added out of order",
				     name);
	return 0;
}

static int remember_oid(struct reftable_writer *w, const uint8_t *oid)
{
	if (w->oid_len == w->oid_offsets_cap &&
	    REFTABLE_GROW(w->oid_offsets, w->oid_offsets_cap,
			  w->oid_len + 1) < 0)
		return REFTABLE_NOMEM_ERROR;
	if ((w->oid_len + 1) * w->hash_size > w->oid_cap &&
	    reftable_grow((void **)&w->oids, &w->oid_cap,
			  (w->oid_len + 1) * w->hash_size, 1) < 0)
		return REFTABLE_NOMEM_ERROR;
	memcpy(w->oids + w->oid_len * w->hash_size, oid, w->hash_size);
	/* After add_record, the record's block starts at w->next. */
	w->oid_offsets[w->oid_len++] = w->next;
	return 0;
}

int reftable_writer_add_ref(struct reftable_writer *w,
			    const struct reftable_ref_record *ref)
{
	struct buf key = BUF_INIT;
	int n, err;

	if ((err = check_not_failed(w)) < 0)
		return err;
	if (w->closed || !ref->refname ||
	    (ref->value_type == REFTABLE_REF_SYMREF && !ref->target) ||
	    (unsigned)ref->value_type > REFTABLE_REF_SYMREF)
		return reftable_fail(REFTABLE_API_ERROR, "invalid ref record");
	if (w->section != BLOCK_TYPE_REF)
		return reftable_fail(REFTABLE_OUT_OF_ORDER_ERROR,
				     "ref '%s' added after log records",
				     ref->refname);
	if (ref->update_index < w->min_ui || ref->update_index > w->max_ui)
		return reftable_fail(REFTABLE_UPDATE_INDEX_ERROR,
				     "ref '%s' has update index %llu outside "
				     "%llu..%llu",
				     ref->refname,
				     (unsigned long long)ref->update_index,
				     (unsigned long long)w->min_ui,
				     (unsigned long long)w->max_ui);
	/* A ref's key is its name: no copy needed. */
	key.data = (uint8_t *)ref->refname;
	key.len = strlen(ref->refname);
	if ((err = check_order(w, &key, ref->refname)) < 0)
		return err;
	n = ref_value_encode(w->value, w->opts.block_size, ref, w->min_ui,
			     w->hash_size);
	if (n < 0)
		return reftable_fail(REFTABLE_ENTRY_TOO_BIG_ERROR,
				     "ref '%s' larger than a block",
				     ref->refname);
	w->added = 1;
	if ((err = add_record(w, BLOCK_TYPE_REF, &key, ref->value_type,
			      n)) < 0)
		return err;
	if (buf_set(&w->last_key, key.data, key.len) < 0)
		return REFTABLE_NOMEM_ERROR;
	if (w->opts.skip_index_objects)
		return 0;
	if (reftable_ref_record_val1(ref) &&
	    (err = remember_oid(w, ref->value)) < 0)
		return err;
	if (reftable_ref_record_val2(ref) &&
	    (err = remember_oid(w, ref->peeled)) < 0)
		return err;
	return 0;
}

static int write_index_levels(struct reftable_writer *w, uint8_t type)
{
	/* Git's rule: index a section of more than 3 blocks (padded) or
	 * of more than 1 (unpadded). */
	size_t threshold = w->opts.unpadded ? 1 : 3;
	struct reftable_block_stats *bs = stats_of(w, type);
	uint64_t before = w->stats.idx.blocks, index_start = 0;
	int level = 0, err = 0;

	while (w->index_len > threshold) {
		struct index_entry *entries = w->index;
		size_t n = w->index_len, i;
		struct buf keys = w->index_keys;
		struct buf key = BUF_INIT;

		level++;
		index_start = w->next;
		w->index = NULL;
		w->index_len = w->index_cap = 0;
		memset(&w->index_keys, 0, sizeof(w->index_keys));
		start_block(w, BLOCK_TYPE_INDEX);
		for (i = 0; i < n && !err; i++) {
			int m = index_value_encode(w->value, w->opts.block_size,
						   entries[i].offset);
			err = buf_set(&key, keys.data + entries[i].key_off,
				      entries[i].key_len);
			if (!err)
				err = add_record(w, BLOCK_TYPE_INDEX, &key, 0, m);
		}
		if (!err)
			err = flush_block(w);
		buf_release(&key);
		buf_release(&keys);
		reftable_free(entries);
		if (err < 0)
			return err;
		/* Keys so long that a block holds one entry would loop
		 * forever; readers walk a top level of many blocks. */
		if (w->index_len >= n)
			break;
	}
	w->index_len = 0;
	buf_reset(&w->index_keys);
	bs->index_blocks = w->stats.idx.blocks - before;
	bs->index_offset = index_start;
	bs->max_index_level = level;
	return 0;
}

static int finish_section(struct reftable_writer *w, uint8_t type)
{
	int err = flush_block(w);
	if (err < 0)
		return err;
	buf_reset(&w->last_key);
	return write_index_levels(w, type);
}

/*
 * Sort the positions of w->oids by object id, then by position (which is
 * the order they were added, so offsets come out ascending). A stable LSD
 * radix sort on the first 4 bytes, a byte a pass (256 buckets stay in
 * cache), does the bulk; ids sharing those bytes are rare (or the same
 * id, already in position order) and are finished by insertion sort on
 * the whole id.
 */
struct oid_pos {
	uint64_t key;    /* the first 8 bytes, big-endian */
	uint64_t offset; /* of the ref block that named the id */
	size_t pos;      /* in w->oids */
};

#define OID_RADIX_BITS 8

static int oid_pos_less(const struct reftable_writer *w,
			const struct oid_pos *a, const struct oid_pos *b)
{
	int c;

	if (a->key != b->key)
		return a->key < b->key;
	c = memcmp(w->oids + a->pos * w->hash_size,
		   w->oids + b->pos * w->hash_size, w->hash_size);
	return c < 0 || (c == 0 && a->pos < b->pos);
}

static void radix_pass(struct oid_pos *dst, const struct oid_pos *src,
		       size_t n, unsigned shift, size_t *count)
{
	const size_t buckets = (size_t)1 << OID_RADIX_BITS;
	size_t i, sum = 0;

	memset(count, 0, buckets * sizeof(*count));
	for (i = 0; i < n; i++)
		count[(src[i].key >> shift) & (buckets - 1)]++;
	for (i = 0; i < buckets; i++) {
		size_t c = count[i];
		count[i] = sum;
		sum += c;
	}
	for (i = 0; i < n; i++)
		dst[count[(src[i].key >> shift) & (buckets - 1)]++] = src[i];
}

static int sort_oids(const struct reftable_writer *w, struct oid_pos **out)
{
	size_t n = w->oid_len, i, j;
	struct oid_pos *a = reftable_malloc(sizeof(*a) * (n ? n : 1));
	struct oid_pos *tmp = reftable_malloc(sizeof(*tmp) * (n ? n : 1));
	size_t *count = reftable_malloc(sizeof(*count) << OID_RADIX_BITS);
	unsigned shift;

	if (!a || !tmp || !count) {
		reftable_free(a);
		reftable_free(tmp);
		reftable_free(count);
		return REFTABLE_NOMEM_ERROR;
	}
	for (i = 0; i < n; i++) {
		a[i].key = get_be64(w->oids + i * w->hash_size);
		a[i].offset = w->oid_offsets[i];
		a[i].pos = i;
	}
	for (shift = 32; shift < 64; shift += OID_RADIX_BITS) {
		struct oid_pos *swap;

		radix_pass(tmp, a, n, shift, count);
		swap = a;
		a = tmp;
		tmp = swap;
	}
	for (i = 1; i < n; i++) {
		struct oid_pos x = a[i];

		for (j = i; j > 0 && a[j - 1].key >> 32 == x.key >> 32 &&
			    oid_pos_less(w, &x, &a[j - 1]);
		     j--)
			a[j] = a[j - 1];
		a[j] = x;
	}
	reftable_free(count);
	reftable_free(tmp);
	*out = a;
	return 0;
}

static int add_obj_record(struct reftable_writer *w, const uint8_t *oid,
			  const uint64_t *offsets, size_t n)
{
	struct buf key = { (uint8_t *)oid, (size_t)w->stats.object_id_len, 0 };
	int len = obj_value_encode(w->value, w->opts.block_size, offsets, n);
	int err;

	if (len >= 0) {
		if (!w->bw_active)
			start_block(w, BLOCK_TYPE_OBJ);
		err = block_writer_add(&w->bw, key.data, key.len,
				       obj_extra(n), w->value, len);
		if (err != 1)
			return err;
		if (w->bw.entries) {
			if ((err = flush_block(w)) < 0)
				return err;
			start_block(w, BLOCK_TYPE_OBJ);
			err = block_writer_add(&w->bw, key.data, key.len,
					       obj_extra(n), w->value, len);
			if (err != 1)
				return err;
		}
	}
	/* Too many blocks to list: readers scan the table for this id. */
	len = obj_value_encode(w->value, w->opts.block_size, NULL, 0);
	if (!w->bw_active)
		start_block(w, BLOCK_TYPE_OBJ);
	err = block_writer_add(&w->bw, key.data, key.len, 0, w->value, len);
	if (err == 1 && w->bw.entries) {
		if ((err = flush_block(w)) < 0)
			return err;
		start_block(w, BLOCK_TYPE_OBJ);
		err = block_writer_add(&w->bw, key.data, key.len, 0, w->value,
				       len);
	}
	return err == 1 ? REFTABLE_ENTRY_TOO_BIG_ERROR : err;
}

/*
 * The ids in sorted order are read through their 8-byte keys: the ids
 * themselves lie in w->oids in the order they were added, and reading them
 * in sorted order would be a cache miss each. The rest of an id is read
 * only when two keys are equal.
 */
static int same_oid(const struct reftable_writer *w, const struct oid_pos *a,
		    const struct oid_pos *b)
{
	size_t hs = w->hash_size;

	return a->key == b->key &&
	       !memcmp(w->oids + a->pos * hs + 8, w->oids + b->pos * hs + 8,
		       hs - 8);
}

static size_t shared_bytes(const struct reftable_writer *w,
			   const struct oid_pos *a, const struct oid_pos *b)
{
	size_t hs = w->hash_size;

	if (a->key != b->key)
		return common_prefix_be64(a->key, b->key);
	return 8 + common_prefix(w->oids + a->pos * hs + 8, hs - 8,
				 w->oids + b->pos * hs + 8, hs - 8);
}

static int write_object_index(struct reftable_writer *w)
{
	size_t hs = w->hash_size, n = w->oid_len, i, j, max_common = 1;
	struct oid_pos *order = NULL;
	uint64_t *offsets = NULL;
	size_t offsets_cap = 0;
	int err = sort_oids(w, &order);

	if (err < 0)
		return err;

	/* The abbreviation: one byte more than the longest prefix two
	 * distinct ids share, and at least 2. */
	for (i = 1; i < n; i++) {
		size_t c = shared_bytes(w, &order[i - 1], &order[i]);
		if (c < hs && c > max_common)
			max_common = c;
	}
	/* The footer keeps the length in 5 bits: SHA-256 ids sharing 31
	 * bytes get no object index, and readers scan instead. */
	if (max_common + 1 > 31) {
		reftable_free(order);
		return 0;
	}
	w->stats.object_id_len = (int)max_common + 1;

	for (i = 0; i < n && !err; i = j) {
		uint8_t head[8];
		const uint8_t *abbrev = head;
		size_t k = 0;

		put_be64(head, order[i].key);
		if (w->stats.object_id_len > 8)
			abbrev = w->oids + order[i].pos * hs;
		for (j = i; j < n && (j == i || same_oid(w, &order[i], &order[j]));
		     j++) {
			uint64_t off = order[j].offset;
			if (k && offsets[k - 1] == off)
				continue;
			if (REFTABLE_GROW(offsets, offsets_cap, k + 1) < 0) {
				err = REFTABLE_NOMEM_ERROR;
				break;
			}
			offsets[k++] = off;
		}
		if (!err)
			err = add_obj_record(w, abbrev, offsets, k);
	}
	reftable_free(order);
	reftable_free(offsets);
	if (err < 0)
		return err;
	return finish_section(w, BLOCK_TYPE_OBJ);
}

/* End the ref section (with its indexes) or the log section. */
static int finish_public_section(struct reftable_writer *w)
{
	uint8_t type = w->section;
	int err;

	if (w->bw_active && w->bw.type != type)
		return reftable_fail(REFTABLE_API_ERROR, "writer state");
	err = finish_section(w, type);
	if (err < 0)
		return err;
	if (type == BLOCK_TYPE_REF && !w->opts.skip_index_objects &&
	    w->stats.ref.index_blocks > 0)
		err = write_object_index(w);
	reftable_free(w->oids);
	reftable_free(w->oid_offsets);
	w->oids = NULL;
	w->oid_offsets = NULL;
	w->oid_len = w->oid_cap = w->oid_offsets_cap = 0;
	return err;
}

int reftable_writer_add_log(struct reftable_writer *w,
			    const struct reftable_log_record *log)
{
	int n, err;

	if ((err = check_not_failed(w)) < 0)
		return err;
	if (w->closed || !log->refname ||
	    (unsigned)log->value_type > REFTABLE_LOG_UPDATE)
		return reftable_fail(REFTABLE_API_ERROR, "invalid log record");
	/* Older entries may be rewritten, so only the maximum is checked. */
	if (log->update_index > w->max_ui)
		return reftable_fail(REFTABLE_UPDATE_INDEX_ERROR,
				     "log of '%s' has update index %llu above "
				     "%llu",
				     log->refname,
				     (unsigned long long)log->update_index,
				     (unsigned long long)w->max_ui);
	if (w->section == BLOCK_TYPE_REF) {
		if ((err = finish_public_section(w)) < 0)
			return err;
		w->section = BLOCK_TYPE_LOG;
		drop_padding(w); /* the log section follows unpadded */
	}
	if ((err = log_key(&w->key, log->refname, log->update_index)) < 0)
		return err;
	if ((err = check_order(w, &w->key, log->refname)) < 0)
		return err;
	n = log_value_encode(w->value, w->opts.block_size, log, w->hash_size);
	if (n < 0)
		return reftable_fail(REFTABLE_ENTRY_TOO_BIG_ERROR,
				     "log of '%s' larger than a block",
				     log->refname);
	w->added = 1;
	if ((err = add_record(w, BLOCK_TYPE_LOG, &w->key, log->value_type,
			      n)) < 0)
		return err;
	return buf_set(&w->last_key, w->key.data, w->key.len);
}

int reftable_writer_close(struct reftable_writer *w)
{
	uint8_t footer[FOOTER_SIZE_V2], *p;
	int err;

	if (w->closed)
		return reftable_fail(REFTABLE_API_ERROR, "writer already closed");
	if ((err = check_not_failed(w)) < 0)
		return err;
	w->closed = 1;
	if ((err = finish_public_section(w)) < 0)
		return err;
	drop_padding(w); /* the last block is not padded */
	if (w->next == 0) {
		uint8_t header[HEADER_SIZE_V2];
		int n = write_header(w, header);
		if ((err = emit(w, header, n)) < 0)
			return err;
		w->next = n;
	}
	p = footer + write_header(w, footer);
	put_be64(p, w->stats.ref.index_offset);
	put_be64(p + 8, w->stats.obj.offset << 5 | w->stats.object_id_len);
	put_be64(p + 16, w->stats.obj.index_offset);
	put_be64(p + 24, w->stats.log.offset);
	put_be64(p + 32, w->stats.log.index_offset);
	p += 40;
	put_be32(p, crc32(0, footer, p - footer));
	p += 4;
	if ((err = emit(w, footer, p - footer)) < 0 || (err = flush_out(w)) < 0)
		return err;
	w->stats.bytes = w->next + (p - footer);
	return 0;
}

const struct reftable_write_stats *
reftable_writer_stats(const struct reftable_writer *w)
{
	return &w->stats;
}

void reftable_writer_free(struct reftable_writer *w)
{
	if (!w)
		return;
	block_writer_release(&w->bw);
	reftable_free(w->block);
	reftable_free(w->value);
	buf_release(&w->last_key);
	buf_release(&w->key);
	buf_release(&w->out);
	reftable_free(w->index);
	buf_release(&w->index_keys);
	reftable_free(w->oids);
	reftable_free(w->oid_offsets);
	reftable_free(w);
}
