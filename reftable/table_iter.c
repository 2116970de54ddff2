/* Public iterators over one table: refs, logs, and refs by object id. */

#include "iter.h"
#include "table.h"

struct table_iter {
	struct table_cursor c;
	struct buf key;
};

static int ti_seek_ref(void *impl, const char *name)
{
	struct table_iter *ti = impl;
	if (ti->c.s->type != BLOCK_TYPE_REF)
		return reftable_fail(REFTABLE_API_ERROR, "not a ref iterator");
	return table_cursor_seek(&ti->c, (const uint8_t *)name, strlen(name));
}

static int ti_seek_log(void *impl, const char *name, uint64_t update_index)
{
	struct table_iter *ti = impl;
	int err;

	if (ti->c.s->type != BLOCK_TYPE_LOG)
		return reftable_fail(REFTABLE_API_ERROR, "not a log iterator");
	if ((err = log_key(&ti->key, name, update_index)) < 0)
		return err;
	return table_cursor_seek(&ti->c, ti->key.data, ti->key.len);
}

static int ti_next_ref(void *impl, struct reftable_ref_record *ref)
{
	struct table_iter *ti = impl;

	if (ti->c.s->type != BLOCK_TYPE_REF)
		return reftable_fail(REFTABLE_API_ERROR, "not a ref iterator");
	if (!table_cursor_valid(&ti->c))
		return 1;
	return table_cursor_next_ref(&ti->c, ref);
}

static int ti_next_log(void *impl, struct reftable_log_record *log)
{
	struct table_iter *ti = impl;
	int err;

	if (ti->c.s->type != BLOCK_TYPE_LOG)
		return reftable_fail(REFTABLE_API_ERROR, "not a log iterator");
	if (!table_cursor_valid(&ti->c))
		return 1;
	if ((err = table_cursor_log(&ti->c, log)) < 0)
		return err;
	return table_cursor_advance(&ti->c);
}

static void ti_destroy(void *impl)
{
	struct table_iter *ti = impl;
	struct reftable_table *t = ti->c.t;

	table_cursor_release(&ti->c);
	buf_release(&ti->key);
	reftable_free(ti);
	reftable_table_decref(t);
}

static const struct reftable_iterator_ops table_iter_ops = {
	.seek_ref = ti_seek_ref,
	.seek_log = ti_seek_log,
	.next_ref = ti_next_ref,
	.next_log = ti_next_log,
	.destroy = ti_destroy,
};

static int table_iter_new(struct reftable_table *t, struct section *s,
			  struct reftable_iterator *it)
{
	struct table_iter *ti = reftable_calloc(1, sizeof(*ti));

	if (!ti)
		return REFTABLE_NOMEM_ERROR;
	table_cursor_init(&ti->c, t, s);
	reftable_table_incref(t);
	iterator_set(it, &table_iter_ops, ti);
	return 0;
}

int reftable_table_init_ref_iterator(struct reftable_table *t,
				     struct reftable_iterator *it)
{
	return table_iter_new(t, &t->refs, it);
}

int reftable_table_init_log_iterator(struct reftable_table *t,
				     struct reftable_iterator *it)
{
	return table_iter_new(t, &t->logs, it);
}

/*
 * Refs pointing at an object id: the object index names the ref blocks
 * to read; without one (or for an id listed with no blocks) every ref
 * block is read.
 */
struct refs_for_iter {
	struct reftable_table *t;
	uint8_t oid[REFTABLE_HASH_SIZE_MAX];
	struct obj_value blocks; /* block offsets; all blocks when scanning */
	size_t next_block;
	struct block_iter bi;
};

static int rf_matches(const struct refs_for_iter *rf,
		      const struct reftable_ref_record *ref)
{
	size_t hs = rf->t->hash_size;
	const uint8_t *v1 = reftable_ref_record_val1(ref);
	const uint8_t *v2 = reftable_ref_record_val2(ref);
	return (v1 && !memcmp(v1, rf->oid, hs)) ||
	       (v2 && !memcmp(v2, rf->oid, hs));
}

/* The block and record decoders return bare codes: name the table. */
static int rf_corrupt(const struct reftable_table *t, int err)
{
	return err == REFTABLE_FORMAT_ERROR ? table_corrupt(t, "bad ref record")
					    : err;
}

static int rf_next_ref(void *impl, struct reftable_ref_record *ref)
{
	struct refs_for_iter *rf = impl;
	struct reftable_table *t = rf->t;
	int err;

	for (;;) {
		while (!rf->bi.valid) {
			struct block b;
			if (rf->next_block >= rf->blocks.len)
				return 1;
			err = table_load_block(t, &t->refs,
					       rf->blocks.offsets[rf->next_block++],
					       &b, NULL);
			if (err < 0)
				return err;
			if ((err = block_iter_start(&rf->bi, &b)) < 0)
				return rf_corrupt(t, err);
		}
		err = ref_value_decode(ref, rf->bi.key.data, rf->bi.key.len,
				       rf->bi.extra, block_iter_value(&rf->bi),
				       rf->bi.val_len, t->min_ui, t->hash_size);
		if (err < 0)
			return rf_corrupt(t, err);
		if ((err = block_iter_advance(&rf->bi)) < 0)
			return rf_corrupt(t, err);
		if (rf_matches(rf, ref))
			return 0;
	}
}

static void rf_destroy(void *impl)
{
	struct refs_for_iter *rf = impl;
	struct reftable_table *t = rf->t;

	block_iter_release(&rf->bi);
	reftable_free(rf->blocks.offsets);
	reftable_free(rf);
	reftable_table_decref(t);
}

static const struct reftable_iterator_ops refs_for_ops = {
	.next_ref = rf_next_ref,
	.destroy = rf_destroy,
};

/* Every ref block, for a scan. */
static int rf_all_blocks(struct refs_for_iter *rf)
{
	struct section *s = &rf->t->refs;
	size_t i;
	int err = section_dir(rf->t, s);

	if (err < 0)
		return err;
	if (REFTABLE_GROW(rf->blocks.offsets, rf->blocks.cap, s->dir_len) < 0)
		return REFTABLE_NOMEM_ERROR;
	for (i = 0; i < s->dir_len; i++)
		rf->blocks.offsets[i] = s->dir[i].offset;
	rf->blocks.len = s->dir_len;
	return 0;
}

/* Look the id up in the object index: 1 if listed, 0 if absent. */
static int rf_from_obj_index(struct refs_for_iter *rf)
{
	struct reftable_table *t = rf->t;
	struct table_cursor c;
	int err;

	table_cursor_init(&c, t, &t->objs);
	err = table_cursor_seek(&c, rf->oid, t->obj_id_len);
	if (!err && table_cursor_valid(&c) &&
	    c.bi.key.len == (size_t)t->obj_id_len &&
	    !memcmp(c.bi.key.data, rf->oid, t->obj_id_len)) {
		err = obj_value_decode(&rf->blocks, c.bi.extra,
				       block_iter_value(&c.bi), c.bi.val_len);
		err = err < 0 ? rf_corrupt(t, err) : 1;
	}
	table_cursor_release(&c);
	return err;
}

int reftable_table_refs_for(struct reftable_table *t, const uint8_t *oid,
			    struct reftable_iterator *it)
{
	struct refs_for_iter *rf = reftable_calloc(1, sizeof(*rf));
	int err = 0;

	if (!rf)
		return REFTABLE_NOMEM_ERROR;
	rf->t = t;
	reftable_table_incref(t);
	memcpy(rf->oid, oid, t->hash_size);
	if (t->refs.present) {
		if (t->objs.present) {
			err = rf_from_obj_index(rf);
			/* Listed with no blocks: too many to list, scan. */
			if (err == 1 && !rf->blocks.len)
				err = rf_all_blocks(rf);
		} else {
			err = rf_all_blocks(rf);
		}
	}
	if (err < 0) {
		rf_destroy(rf);
		return err;
	}
	iterator_set(it, &refs_for_ops, rf);
	return 0;
}
