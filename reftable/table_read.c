/* Reading a table's sections: their block lists, cursors and ref lookups. */

#include <string.h>

#include "name_index.h"
#include "table.h"

/* Open any block at offset whose bytes lie before limit. */
static int load_block_at(struct reftable_table *t, uint64_t offset,
			 uint64_t limit, struct block *b, struct inflater *z)
{
	uint32_t header_off = offset ? 0 : t->header_size;
	int err;

	if (offset >= limit || limit > t->footer_start)
		return table_corrupt(t, "block position outside its section");
	err = block_open(b, t->data + offset, limit - offset, header_off,
			 t->block_size, t->hash_size, z);
	if (err == REFTABLE_FORMAT_ERROR)
		return table_corrupt(t, "bad block");
	if (err == REFTABLE_ZLIB_ERROR)
		return reftable_fail(err, "%s: bad log block", t->name);
	return err;
}

int table_load_block(struct reftable_table *t, const struct section *s,
		     uint64_t offset, struct block *b, struct inflater *z)
{
	int err;

	if (offset < s->start)
		return table_corrupt(t, "block before its section");
	err = load_block_at(t, offset, s->end, b, z);
	if (!err && b->type != s->type)
		return table_corrupt(t, "block of the wrong type");
	return err;
}

static int dir_add(struct section *s, uint64_t offset, const uint8_t *key,
		   size_t key_len)
{
	struct dir_entry *e;

	if (s->dir_len && key_cmp(s->keys.data + s->dir[s->dir_len - 1].key_off,
				  s->dir[s->dir_len - 1].key_len, key,
				  key_len) >= 0)
		return REFTABLE_FORMAT_ERROR;
	if (REFTABLE_GROW(s->dir, s->dir_cap, s->dir_len + 1) < 0)
		return REFTABLE_NOMEM_ERROR;
	e = &s->dir[s->dir_len++];
	e->offset = offset;
	e->key_off = s->keys.len;
	e->key_len = key_len;
	return buf_add(&s->keys, key, key_len);
}

/* List the data blocks below an index block, depth-first. */
static int dir_from_index(struct reftable_table *t, struct section *s,
			  const struct block *ib, uint64_t ib_off, int depth)
{
	struct block_iter it = { 0 };
	int err;

	if (depth > 16)
		return table_corrupt(t, "index too deep");
	for (err = block_iter_start(&it, ib); !err && it.valid;
	     err = block_iter_advance(&it)) {
		uint64_t child;
		struct block cb;

		err = index_value_decode(&child, block_iter_value(&it),
					 it.val_len);
		if (err < 0)
			break;
		if (child >= t->footer_start) {
			err = table_corrupt(t, "index points outside the file");
			break;
		}
		if (t->data[child ? child : t->header_size] == BLOCK_TYPE_INDEX) {
			/* Lower levels are written first: pointing only
			 * backwards, the walk cannot loop. */
			if (child >= ib_off || child < s->start) {
				err = table_corrupt(t, "index points forward");
				break;
			}
			err = load_block_at(t, child, s->index_end, &cb, NULL);
			if (!err)
				err = dir_from_index(t, s, &cb, child,
						     depth + 1);
		} else if (child < s->start || child >= s->end ||
			   t->data[child ? child : t->header_size] != s->type) {
			err = table_corrupt(t, "index points to a wrong block");
		} else {
			err = dir_add(s, child, it.key.data, it.key.len);
		}
		if (err < 0) /* the loop's advance must not overwrite it */
			break;
	}
	block_iter_release(&it);
	return err;
}

/* Without an index: walk the blocks, reading each one's last key. */
static int dir_from_walk(struct reftable_table *t, struct section *s)
{
	struct block_iter it = { 0 };
	struct inflater z = { 0 };
	uint64_t off = s->start;
	int err = 0;

	while (!err && off < s->end) {
		struct block b;

		err = table_load_block(t, s, off, &b, &z);
		if (err < 0)
			break;
		for (err = block_iter_start(&it, &b); !err && it.valid;)
			if (it.next_off >= b.records_end)
				break;
			else
				err = block_iter_advance(&it);
		if (!err)
			err = dir_add(s, off, it.key.data, it.key.len);
		off += b.full_size;
	}
	block_iter_release(&it);
	inflater_release(&z);
	return err;
}

/* Up to 8 bytes of key from at, as a big-endian integer padded with
 * zeros: integers compare as the bytes would (a zero from the padding
 * ties with a real zero byte, and ties are settled on the whole key). */
static uint64_t key_head(const uint8_t *key, size_t len, size_t at)
{
	uint8_t b[8] = { 0 };

	if (at < len)
		memcpy(b, key + at, len - at < 8 ? len - at : 8);
	return get_be64(b);
}

static int dir_heads(struct section *s)
{
	const uint8_t *first, *last;
	size_t i;

	if (!s->dir_len)
		return 0;
	first = s->keys.data + s->dir[0].key_off;
	last = s->keys.data + s->dir[s->dir_len - 1].key_off;
	/* Keys are sorted: what the first and last share, all share. */
	s->head_at = common_prefix(first, s->dir[0].key_len, last,
				   s->dir[s->dir_len - 1].key_len);
	s->head = reftable_malloc(s->dir_len * sizeof(*s->head));
	if (!s->head)
		return REFTABLE_NOMEM_ERROR;
	for (i = 0; i < s->dir_len; i++) {
		const uint8_t *key = s->keys.data + s->dir[i].key_off;

		s->head[i].hi = key_head(key, s->dir[i].key_len, s->head_at);
		s->head[i].lo = key_head(key, s->dir[i].key_len, s->head_at + 8);
	}
	return 0;
}

/* A failed build of s as found by an earlier call: the detail of that
 * call is gone, so say it again. */
static int section_failed_before(struct reftable_table *t, struct section *s)
{
	if (!s->build_err)
		return 0;
	return reftable_fail(s->build_err, "%s: block list unreadable (%s)",
			     t->name, reftable_error_str(s->build_err));
}

/* Out of memory is no property of the table: forget what was built so
 * far, and let the next call try again. */
static void section_unbuild(struct section *s)
{
	reftable_free(s->dir);
	reftable_free(s->head);
	reftable_free(s->inflated);
	buf_release(&s->keys);
	s->dir = NULL;
	s->head = NULL;
	s->inflated = NULL;
	s->dir_len = s->dir_cap = s->head_at = 0;
}

int section_dir(struct reftable_table *t, struct section *s)
{
	int err;

	if (atomic_load_explicit(&s->built, memory_order_acquire))
		return section_failed_before(t, s);
	pthread_mutex_lock(&t->build_lock);
	if (!atomic_load_explicit(&s->built, memory_order_relaxed)) {
		err = 0;
		if (s->present && s->index_start) {
			uint64_t off = s->index_start;
			while (!err && off < s->index_end) {
				struct block ib;
				err = load_block_at(t, off, s->index_end, &ib,
						    NULL);
				if (!err && ib.type != BLOCK_TYPE_INDEX)
					err = table_corrupt(t, "expected an index");
				if (!err)
					err = dir_from_index(t, s, &ib, off,
							     0);
				if (!err)
					off += ib.full_size;
			}
		} else if (s->present) {
			err = dir_from_walk(t, s);
		}
		if (err == REFTABLE_FORMAT_ERROR &&
		    !strstr(reftable_error_detail(), t->name))
			err = table_corrupt(t, "bad block list");
		if (!err)
			err = dir_heads(s);
		if (!err && s->type == BLOCK_TYPE_LOG && s->dir_len) {
			s->inflated = reftable_calloc(s->dir_len,
						      sizeof(*s->inflated));
			if (!s->inflated)
				err = REFTABLE_NOMEM_ERROR;
		}
		if (err == REFTABLE_NOMEM_ERROR) {
			section_unbuild(s);
			pthread_mutex_unlock(&t->build_lock);
			return err;
		}
		s->build_err = err;
		atomic_store_explicit(&s->built, 1, memory_order_release);
		pthread_mutex_unlock(&t->build_lock);
		return err;
	}
	pthread_mutex_unlock(&t->build_lock);
	return section_failed_before(t, s);
}

/* The first block whose last key is >= want: the only one that can hold
 * the first record >= want. dir_len if none. */
static size_t dir_search(const struct section *s, const uint8_t *want,
			 size_t want_len)
{
	size_t lo = 0, hi = s->dir_len, at = s->head_at;
	uint64_t want_hi, want_lo;
	int c;

	if (!hi)
		return 0;
	/* Outside the prefix all keys share, want is below or above all. */
	c = at ? memcmp(want, s->keys.data + s->dir[0].key_off,
			want_len < at ? want_len : at) : 0;
	if (c || want_len < at)
		return c > 0 ? hi : 0;
	want_hi = key_head(want, want_len, at);
	want_lo = key_head(want, want_len, at + 8);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct dir_entry *e = &s->dir[mid];
		const struct dir_head *h = &s->head[mid];

		if (h->hi != want_hi)
			c = h->hi < want_hi ? -1 : 1;
		else if (h->lo != want_lo)
			c = h->lo < want_lo ? -1 : 1;
		else
			c = key_cmp(s->keys.data + e->key_off, e->key_len,
				    want, want_len);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void table_cursor_init(struct table_cursor *c, struct reftable_table *t,
		       struct section *s)
{
	memset(c, 0, sizeof(*c));
	c->t = t;
	c->s = s;
}

/*
 * Keep an inflated log block for later readers. The block struct and its
 * bytes share one allocation, published with a compare-and-swap.
 */
static void cache_log_block(struct section *s, size_t i, const struct block *b)
{
	struct block *copy, *expected = NULL;
	size_t bytes = sizeof(*copy) + b->len;

	if (atomic_load(&s->inflated_bytes) + bytes > LOG_CACHE_MAX_BYTES)
		return;
	copy = reftable_malloc(bytes);
	if (!copy)
		return;
	*copy = *b;
	memcpy(copy + 1, b->data, b->len);
	copy->data = (const uint8_t *)(copy + 1);
	if (atomic_compare_exchange_strong(&s->inflated[i], &expected, copy))
		atomic_fetch_add(&s->inflated_bytes, bytes);
	else
		reftable_free(copy);
}

/*
 * A search in a block follows a chain of dependent reads (header, restart
 * table, restart keys, records), each a cache miss in a large table. Ask
 * for the block (its first PREFETCH_MAX bytes) at once, so the misses
 * overlap instead of queueing.
 */
#define PREFETCH_MAX 4096u

static void prefetch_block(const struct reftable_table *t,
			   const struct section *s, size_t i)
{
	uint64_t start = s->dir[i].offset, len;

	if (start >= s->end)
		return;
	len = s->end - start;
	if (len > t->block_size)
		len = t->block_size;
	if (len > PREFETCH_MAX)
		len = PREFETCH_MAX;
	prefetch_bytes(t->data + start, len);
}

/* Load the block at dir entry i of the cursor's section. */
static int cursor_load(struct table_cursor *c, size_t i, struct block *b)
{
	struct section *s = c->s;
	struct block *cached;
	int err;

	if (s->inflated && (cached = atomic_load(&s->inflated[i])) != NULL) {
		*b = *cached;
		return 0;
	}
	err = table_load_block(c->t, s, s->dir[i].offset, b, &c->z);
	if (!err && s->inflated)
		cache_log_block(s, i, b);
	return err;
}

static int cursor_enter_block(struct table_cursor *c)
{
	struct block b;
	int err;

	for (; c->block < c->s->dir_len; c->block++) {
		err = cursor_load(c, c->block, &b);
		if (err < 0)
			return err;
		err = block_iter_start(&c->bi, &b);
		if (err < 0)
			return table_corrupt(c->t, "bad record");
		if (c->bi.valid)
			return 0;
	}
	c->bi.valid = 0;
	return 0;
}

int table_cursor_seek(struct table_cursor *c, const uint8_t *want,
		      size_t want_len)
{
	struct block b;
	int err = section_dir(c->t, c->s);

	c->bi.valid = 0;
	if (err < 0)
		return err;
	c->block = dir_search(c->s, want, want_len);
	if (c->block >= c->s->dir_len)
		return 0;
	if (c->s->type != BLOCK_TYPE_LOG) /* log blocks are inflated */
		prefetch_block(c->t, c->s, c->block);
	err = cursor_load(c, c->block, &b);
	if (err < 0)
		return err;
	err = block_iter_seek(&c->bi, &b, want, want_len);
	if (err < 0)
		return table_corrupt(c->t, "bad record");
	if (!c->bi.valid) {
		c->block++;
		return cursor_enter_block(c);
	}
	return 0;
}

int table_cursor_next_block(struct table_cursor *c)
{
	c->block++;
	/* A scan: ask for the block after this one while this one is read
	 * (the hardware's prefetch stops at the page's end). */
	if (c->s->type != BLOCK_TYPE_LOG && c->block + 1 < c->s->dir_len)
		prefetch_block(c->t, c->s, c->block + 1);
	return cursor_enter_block(c);
}

int table_cursor_log(struct table_cursor *c, struct reftable_log_record *log)
{
	int n = log_value_decode(log, c->bi.key.data, c->bi.key.len,
				 c->bi.extra, block_iter_value(&c->bi),
				 c->bi.val_len, c->t->hash_size);
	if (n == REFTABLE_FORMAT_ERROR)
		return table_corrupt(c->t, "bad log record");
	return n < 0 ? n : 0;
}

void table_cursor_release(struct table_cursor *c)
{
	block_iter_release(&c->bi);
	inflater_release(&c->z);
}

/*
 * The table's name index, built here by the lookup that reaches
 * index_after; NULL before that, or if building failed (lookups then
 * keep to the directory, which reports bad blocks itself).
 */
static struct name_index *lookup_index(struct reftable_table *t)
{
	struct name_index *ix =
		atomic_load_explicit(&t->name_index, memory_order_acquire);

	if (!t->index_after)
		return NULL;
	if (ix ||
	    atomic_fetch_add_explicit(&t->ref_lookups, 1,
				      memory_order_relaxed) + 1 != t->index_after)
		return ix;
	if (name_index_build(t, &ix) < 0)
		return NULL;
	atomic_store_explicit(&t->name_index, ix, memory_order_release);
	return ix;
}

int table_lookup_ref(struct reftable_table *t, const char *name,
		     size_t name_len, struct reftable_ref_record *ref)
{
	struct name_index *ix = lookup_index(t);
	const uint8_t *want = (const uint8_t *)name;
	struct block_pos pos;
	struct block b;
	const uint8_t *rec;
	struct ref_head h;
	size_t i;
	int err;

	if (!t->refs.present)
		return 1;
	if (ix && name_len <= NAME_INDEX_NAME_MAX) {
		err = name_index_lookup(ix, t, want, name_len, ref);
		return err == REFTABLE_FORMAT_ERROR ?
			       table_corrupt(t, "bad ref record") : err;
	}
	if ((err = section_dir(t, &t->refs)) < 0)
		return err;
	i = dir_search(&t->refs, want, name_len);
	if (i >= t->refs.dir_len)
		return 1;
	prefetch_block(t, &t->refs, i);
	err = table_load_block(t, &t->refs, t->refs.dir[i].offset, &b, NULL);
	if (err < 0)
		return err;
	if ((err = block_find(&b, want, name_len, &pos)) < 0)
		return table_corrupt(t, "bad ref block");
	if (!pos.exact)
		return 1;
	rec = b.data + pos.off;
	if (ref_head(rec, b.records_end - pos.off, t->hash_size, &h) < 0)
		return table_corrupt(t, "bad ref record");
	err = ref_value_decode(ref, want, name_len, h.extra,
			       rec + h.n + h.suffix, h.len - h.n - h.suffix,
			       t->min_ui, t->hash_size);
	if (err == REFTABLE_FORMAT_ERROR)
		return table_corrupt(t, "bad ref record");
	return err < 0 ? err : 0;
}

int reftable_table_read_ref(struct reftable_table *t, const char *name,
			    struct reftable_ref_record *ref)
{
	return table_lookup_ref(t, name, strlen(name), ref);
}
