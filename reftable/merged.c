/* The merged view of several tables: newest table wins for equal keys. */

#include <stdlib.h>

#include "iter.h"
#include "merged.h"
#include "table.h"

int reftable_merged_new(struct reftable_merged **out,
			struct reftable_table *const *tables, size_t n,
			enum reftable_hash hash)
{
	struct reftable_merged *m;
	size_t i;

	if (!hash)
		hash = REFTABLE_HASH_SHA1;
	for (i = 0; i < n; i++)
		if (reftable_table_hash(tables[i]) != hash)
			return reftable_fail(REFTABLE_FORMAT_ERROR,
					     "%s: hash differs from the stack's",
					     reftable_table_name(tables[i]));
	m = reftable_calloc(1, sizeof(*m));
	if (!m)
		return REFTABLE_NOMEM_ERROR;
	m->tables = reftable_calloc(n ? n : 1, sizeof(*m->tables));
	if (!m->tables) {
		reftable_free(m);
		return REFTABLE_NOMEM_ERROR;
	}
	for (i = 0; i < n; i++) {
		m->tables[i] = tables[i];
		reftable_table_incref(tables[i]);
	}
	m->n = n;
	m->hash = hash;
	*out = m;
	return 0;
}

void reftable_merged_free(struct reftable_merged *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		reftable_table_decref(m->tables[i]);
	reftable_free(m->tables);
	reftable_free(m);
}

void reftable_merged_suppress_deletions(struct reftable_merged *m, int on)
{
	m->suppress_deletions = on;
}

size_t reftable_merged_table_count(const struct reftable_merged *m)
{
	return m->n;
}

struct reftable_table *reftable_merged_table(const struct reftable_merged *m,
					     size_t i)
{
	return i < m->n ? m->tables[i] : NULL;
}

enum reftable_hash reftable_merged_hash(const struct reftable_merged *m)
{
	return m->hash;
}

uint64_t reftable_merged_min_update_index(const struct reftable_merged *m)
{
	return m->n ? reftable_table_min_update_index(m->tables[0]) : 0;
}

uint64_t reftable_merged_max_update_index(const struct reftable_merged *m)
{
	return m->n ? reftable_table_max_update_index(m->tables[m->n - 1]) : 0;
}

/*
 * The merged iterator keeps one cursor per table and, at each step, takes
 * the smallest key (the newest table's record on ties) and steps every
 * cursor past that key. Stacks hold few tables, so a linear scan for the
 * minimum beats a heap. Most steps of a scan take the next record of the
 * cursor that won the last step (the big table of a stack): while its key
 * stays below the smallest key of the others (the rival's), which only
 * moves when a step goes the long way, one comparison decides the step.
 */
struct merged_iter {
	struct reftable_table **tables;
	struct table_cursor *cur;
	size_t n;
	uint8_t type;
	int suppress;
	ssize_t last;  /* the last winner, -1 after a seek */
	ssize_t rival; /* the others' smallest key then, -1 if none left */
	struct buf key;
};

static int mi_seek(struct merged_iter *mi, const uint8_t *key, size_t len)
{
	size_t i;
	int err;

	mi->last = -1;
	for (i = 0; i < mi->n; i++)
		if ((err = table_cursor_seek(&mi->cur[i], key, len)) < 0)
			return err;
	return 0;
}

static int mi_seek_ref(void *impl, const char *name)
{
	struct merged_iter *mi = impl;
	if (mi->type != BLOCK_TYPE_REF)
		return reftable_fail(REFTABLE_API_ERROR, "not a ref iterator");
	return mi_seek(mi, (const uint8_t *)name, strlen(name));
}

static int mi_seek_log(void *impl, const char *name, uint64_t update_index)
{
	struct merged_iter *mi = impl;
	int err;

	if (mi->type != BLOCK_TYPE_LOG)
		return reftable_fail(REFTABLE_API_ERROR, "not a log iterator");
	if ((err = log_key(&mi->key, name, update_index)) < 0)
		return err;
	return mi_seek(mi, mi->key.data, mi->key.len);
}

static int cursor_cmp(const struct merged_iter *mi, size_t a, size_t b)
{
	const struct buf *ka = &mi->cur[a].bi.key, *kb = &mi->cur[b].bi.key;

	return key_cmp(ka->data, ka->len, kb->data, kb->len);
}

/* The cursor holding the smallest key, the newest on ties, leaving out
 * cursor skip (-1: none); -1 if no cursor is left. */
static ssize_t mi_min(const struct merged_iter *mi, ssize_t skip)
{
	ssize_t best = -1;
	size_t i;

	for (i = 0; i < mi->n; i++) {
		if ((ssize_t)i == skip || !table_cursor_valid(&mi->cur[i]))
			continue;
		if (best >= 0 && cursor_cmp(mi, i, (size_t)best) > 0)
			continue;
		best = (ssize_t)i;
	}
	return best;
}

/* Whether the last winner wins again, with no other cursor at its key. */
static int mi_wins_again(const struct merged_iter *mi)
{
	return mi->last >= 0 && table_cursor_valid(&mi->cur[mi->last]) &&
	       (mi->rival < 0 ||
		cursor_cmp(mi, (size_t)mi->last, (size_t)mi->rival) < 0);
}

/* Step every cursor past the key of cursor best (best itself last). */
static int mi_skip(struct merged_iter *mi, size_t best)
{
	const struct buf *bk = &mi->cur[best].bi.key;
	size_t i;
	int err;

	for (i = 0; i < mi->n; i++) {
		struct table_cursor *c = &mi->cur[i];
		if (i == best || !table_cursor_valid(c) ||
		    key_cmp(c->bi.key.data, c->bi.key.len, bk->data, bk->len))
			continue;
		if ((err = table_cursor_advance(c)) < 0)
			return err;
	}
	return table_cursor_advance(&mi->cur[best]);
}

/*
 * The next record of the merged view into rec (a ref or a log record, as
 * the iterator's type says).
 */
static int mi_next(struct merged_iter *mi, uint8_t type, void *rec)
{
	int err, deleted;

	if (mi->type != type)
		return reftable_fail(REFTABLE_API_ERROR,
				     "wrong record type for this iterator");
	for (;;) {
		int again = mi_wins_again(mi);
		ssize_t best = again ? mi->last : mi_min(mi, -1);

		if (best < 0)
			return 1;
		if (type == BLOCK_TYPE_REF) {
			struct reftable_ref_record *ref = rec;
			err = table_cursor_ref(&mi->cur[best], ref);
			deleted = ref->value_type == REFTABLE_REF_DELETION;
		} else {
			struct reftable_log_record *log = rec;
			err = table_cursor_log(&mi->cur[best], log);
			deleted = log->value_type == REFTABLE_LOG_DELETION;
		}
		if (err < 0)
			return err;
		if (again) {
			/* Every other key is larger: nothing to skip. */
			if ((err = table_cursor_advance(&mi->cur[best])) < 0)
				return err;
		} else {
			if ((err = mi_skip(mi, best)) < 0)
				return err;
			mi->last = best;
			mi->rival = mi_min(mi, best);
		}
		if (!mi->suppress || !deleted)
			return 0;
	}
}

static int mi_next_ref(void *impl, struct reftable_ref_record *ref)
{
	return mi_next(impl, BLOCK_TYPE_REF, ref);
}

/* The refs of one table, nothing to merge: a scan of a compacted stack. */
static int one_table_next_ref(void *impl, struct reftable_ref_record *ref)
{
	struct merged_iter *mi = impl;
	struct table_cursor *c = &mi->cur[0];
	int err;

	do {
		if (!table_cursor_valid(c))
			return 1;
		if ((err = table_cursor_next_ref(c, ref)) < 0)
			return err;
	} while (mi->suppress && ref->value_type == REFTABLE_REF_DELETION);
	return 0;
}

static int mi_next_log(void *impl, struct reftable_log_record *log)
{
	return mi_next(impl, BLOCK_TYPE_LOG, log);
}

static void mi_destroy(void *impl)
{
	struct merged_iter *mi = impl;
	size_t i;

	for (i = 0; i < mi->n; i++) {
		table_cursor_release(&mi->cur[i]);
		reftable_table_decref(mi->tables[i]);
	}
	buf_release(&mi->key);
	reftable_free(mi);
}

static const struct reftable_iterator_ops merged_iter_ops = {
	.seek_ref = mi_seek_ref,
	.seek_log = mi_seek_log,
	.next_ref = mi_next_ref,
	.next_log = mi_next_log,
	.destroy = mi_destroy,
};

/* Chosen when the iterator is made, so a step checks nothing more. */
static const struct reftable_iterator_ops one_table_ref_ops = {
	.seek_ref = mi_seek_ref,
	.seek_log = mi_seek_log,
	.next_ref = one_table_next_ref,
	.next_log = mi_next_log,
	.destroy = mi_destroy,
};

static int merged_iter_new(struct reftable_merged *m, uint8_t type,
			   struct reftable_iterator *it)
{
	/* One allocation for the iterator, its cursors and its tables:
	 * callers that seek once and read a few records create many. */
	size_t n = m->n ? m->n : 1, i;
	struct merged_iter *mi = reftable_calloc(
		1, sizeof(*mi) + n * (sizeof(*mi->cur) + sizeof(*mi->tables)));

	if (!mi)
		return REFTABLE_NOMEM_ERROR;
	mi->cur = (struct table_cursor *)(mi + 1);
	mi->tables = (struct reftable_table **)(mi->cur + n);
	for (i = 0; i < m->n; i++) {
		struct reftable_table *t = m->tables[i];
		mi->tables[i] = t;
		reftable_table_incref(t);
		table_cursor_init(&mi->cur[i], t,
				  type == BLOCK_TYPE_REF ? &t->refs : &t->logs);
	}
	mi->n = m->n;
	mi->type = type;
	mi->suppress = m->suppress_deletions;
	mi->last = -1;
	iterator_set(it, m->n == 1 && type == BLOCK_TYPE_REF ?
				 &one_table_ref_ops : &merged_iter_ops, mi);
	return 0;
}

int reftable_merged_init_ref_iterator(struct reftable_merged *m,
				      struct reftable_iterator *it)
{
	return merged_iter_new(m, BLOCK_TYPE_REF, it);
}

int reftable_merged_init_log_iterator(struct reftable_merged *m,
				      struct reftable_iterator *it)
{
	return merged_iter_new(m, BLOCK_TYPE_LOG, it);
}

int reftable_merged_read_ref(struct reftable_merged *m, const char *name,
			     struct reftable_ref_record *ref)
{
	size_t len = strlen(name), i = m->n;
	int err;

	while (i-- > 0) {
		err = table_lookup_ref(m->tables[i], name, len, ref);
		if (err == 1)
			continue;
		if (err < 0)
			return err;
		if (m->suppress_deletions &&
		    ref->value_type == REFTABLE_REF_DELETION)
			return 1;
		return 0;
	}
	return 1;
}

void merged_scratch_release(struct merged_scratch *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		table_cursor_release(&s->cur[i]);
	reftable_free(s->cur);
	buf_release(&s->key);
	memset(s, 0, sizeof(*s));
}

/*
 * The newest visible log entry of name. Each table's first entry at or
 * after (name, newest) is its newest for name; the highest update index
 * wins, the newer table on ties. A deletion there hides that entry, so
 * then the search goes on below it. Tables are asked newest first, and
 * one whose entries all lie at or below the best so far (its maximum
 * update index bounds them) is not asked at all.
 */
int merged_read_log_with(struct reftable_merged *m, const char *name,
			 struct reftable_log_record *log,
			 struct merged_scratch *s)
{
	uint64_t below = UINT64_MAX;
	size_t i;
	int err;

	if (s->cap < m->n) {
		merged_scratch_release(s);
		s->cur = reftable_calloc(m->n, sizeof(*s->cur));
		if (!s->cur)
			return REFTABLE_NOMEM_ERROR;
		s->cap = m->n;
	}
	for (;;) {
		ssize_t best = -1;
		uint64_t best_ui = 0;

		if ((err = log_key(&s->key, name, below)) < 0)
			return err;
		for (i = m->n; i-- > 0;) {
			struct table_cursor *c = &s->cur[i];
			struct reftable_table *t = m->tables[i];
			size_t nlen = s->key.len - LOG_KEY_SUFFIX;
			uint64_t ui;

			if (best >= 0 && t->max_ui <= best_ui)
				continue;
			if (c->t != t) {
				table_cursor_release(c);
				table_cursor_init(c, t, &t->logs);
			}
			if ((err = table_cursor_seek(c, s->key.data,
						     s->key.len)) < 0)
				return err;
			if (!table_cursor_valid(c) ||
			    c->bi.key.len != s->key.len ||
			    memcmp(c->bi.key.data, s->key.data, nlen + 1))
				continue;
			ui = ~get_be64(c->bi.key.data + nlen + 1);
			if (best < 0 || ui > best_ui) {
				best = i;
				best_ui = ui;
			}
		}
		if (best < 0)
			return 1;
		if ((err = table_cursor_log(&s->cur[best], log)) < 0)
			return err;
		if (!m->suppress_deletions ||
		    log->value_type != REFTABLE_LOG_DELETION)
			return 0;
		if (best_ui == 0)
			return 1;
		below = best_ui - 1;
	}
}

int reftable_merged_read_log(struct reftable_merged *m, const char *name,
			     struct reftable_log_record *log)
{
	struct merged_scratch s = { 0 };
	int err = merged_read_log_with(m, name, log, &s);
	merged_scratch_release(&s);
	return err;
}

static int cmp_refname(const void *a, const void *b)
{
	return strcmp(((const struct reftable_ref_record *)a)->refname,
		      ((const struct reftable_ref_record *)b)->refname);
}

/*
 * Each table names candidates; a candidate counts only if the merged
 * view's current value of that ref still points at oid.
 */
int reftable_merged_refs_for(struct reftable_merged *m, const uint8_t *oid,
			     struct reftable_iterator *it)
{
	struct reftable_ref_record *found = NULL, cand = { 0 };
	size_t n = 0, cap = 0, i, j;
	size_t hs = reftable_hash_size(m->hash);
	int err = 0;

	for (i = 0; i < m->n && !err; i++) {
		struct reftable_iterator ti = { 0 };
		err = reftable_table_refs_for(m->tables[i], oid, &ti);
		while (!err && !(err = reftable_iterator_next_ref(&ti, &cand))) {
			struct reftable_ref_record cur = { 0 };
			const uint8_t *v1, *v2;

			err = reftable_merged_read_ref(m, cand.refname, &cur);
			v1 = reftable_ref_record_val1(&cur);
			v2 = reftable_ref_record_val2(&cur);
			if (!err && ((v1 && !memcmp(v1, oid, hs)) ||
				     (v2 && !memcmp(v2, oid, hs)))) {
				if (REFTABLE_GROW(found, cap, n + 1) < 0)
					err = REFTABLE_NOMEM_ERROR;
				else
					found[n++] = cur;
				continue;
			}
			reftable_ref_record_release(&cur);
			if (err == 1)
				err = 0;
		}
		if (err == 1)
			err = 0;
		reftable_iterator_destroy(&ti);
	}
	reftable_ref_record_release(&cand);
	if (err < 0) {
		for (i = 0; i < n; i++)
			reftable_ref_record_release(&found[i]);
		reftable_free(found);
		return err;
	}
	if (n)
		qsort(found, n, sizeof(*found), cmp_refname);
	for (i = j = 0; i < n; i++) {
		if (j && !strcmp(found[j - 1].refname, found[i].refname)) {
			reftable_ref_record_release(&found[i]);
			continue;
		}
		found[j++] = found[i];
	}
	return list_ref_iterator(it, found, j);
}
