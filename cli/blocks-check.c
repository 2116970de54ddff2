/* Checks across blocks: their order, the indexes, the footer, the obj index. */

#include <stdlib.h>
#include <string.h>

#include "blocks-internal.h"

static struct tblock *block_at(struct tfile *f, uint64_t start)
{
	size_t lo = 0, hi = f->nblocks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->blocks[mid].start == start)
			return &f->blocks[mid];
		if (f->blocks[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Sections must be contiguous and in order: refs, objs, logs. */
static void check_block_order(struct walk *w)
{
	struct tfile *f = w->f;
	int last_slot = -1;

	for (size_t i = 0; i < f->nblocks; i++) {
		struct tblock *b = &f->blocks[i];
		int s = data_slot(b->type);
		if (s < 0)
			continue;
		if (s < last_slot)
			problem(w->p, f, b->start,
				"%s block after the %s section",
				block_type_name(b->type),
				last_slot == 1 ? "obj" : "log");
		else if (s == last_slot && i && f->blocks[i - 1].type == 'i')
			problem(w->p, f, b->start,
				"%s block after an index block of its section",
				block_type_name(b->type));
		last_slot = s;
	}
}

static void check_index(struct walk *w)
{
	struct tfile *f = w->f;
	unsigned *refs = xmalloc((f->nblocks ? f->nblocks : 1) * sizeof(*refs));
	char kb1[160], kb2[160];

	memset(refs, 0, (f->nblocks ? f->nblocks : 1) * sizeof(*refs));
	for (size_t i = 0; i < w->nidx; i++) {
		struct index_entry *e = &w->idx[i];
		struct tblock *ib = &f->blocks[e->block];
		struct tblock *c = block_at(f, e->child);
		uint8_t ctype;

		if (!c || c == ib || c->start >= ib->start) {
			problem(w->p, f, ib->start,
				"index entry %s points at %llu, not at an "
				"earlier block",
				show_key(&e->key, kb1, sizeof(kb1)),
				(unsigned long long)e->child);
			continue;
		}
		refs[c - f->blocks]++;
		ctype = c->type == 'i' ? c->indexes : c->type;
		if (ib->indexes && ctype != ib->indexes)
			problem(w->p, f, ib->start,
				"index block mixes %s and %s blocks",
				block_type_name(ib->indexes),
				block_type_name(ctype));
		ib->indexes = ctype;
		if (c->level + 1 > ib->level)
			ib->level = c->level + 1;
		if (key_cmp(&e->key, &c->last))
			problem(w->p, f, ib->start,
				"index entry %s for the block at %llu, whose "
				"last key is %s",
				show_key(&e->key, kb1, sizeof(kb1)),
				(unsigned long long)c->start,
				show_key(&c->last, kb2, sizeof(kb2)));
	}
	for (size_t i = 0; i < f->nblocks; i++) {
		struct tblock *b = &f->blocks[i];
		int sl = data_slot(b->indexes);
		if (b->type == 'i' && sl >= 0 && b->level > f->stats.max_level[sl])
			f->stats.max_level[sl] = b->level;
	}
	/*
	 * An indexed section has each block indexed exactly once, except
	 * the top level: a writer stops adding levels once a level has few
	 * enough blocks, so the top may be a short run of index blocks that
	 * a reader scans from the footer's position.
	 */
	for (size_t i = 0; i < f->nblocks; i++) {
		struct tblock *b = &f->blocks[i];
		uint8_t t = b->type == 'i' ? b->indexes : b->type;
		uint64_t top = t == 'r' ? f->ref_index_pos :
			       t == 'o' ? f->obj_index_pos :
			       t == 'g' ? f->log_index_pos : 0;
		int s = data_slot(t);
		if (!top || s < 0 ||
		    (b->type == 'i' && b->level == f->stats.max_level[s]))
			continue;
		if (refs[i] != 1)
			problem(w->p, f, b->start,
				"%s %s block is indexed %u times, not once",
				block_type_name(t),
				b->type == 'i' ? "index" : "data", refs[i]);
	}
	free(refs);
}

static void check_top_index(struct walk *w, uint64_t pos, uint8_t type)
{
	struct tfile *f = w->f;
	struct tblock *b;
	if (!pos)
		return;
	b = block_at(f, pos);
	if (!b || b->type != 'i' || b->indexes != type)
		problem(w->p, f, f->footer_start,
			"the footer's %s index position %llu is not an index "
			"of %s blocks",
			block_type_name(type), (unsigned long long)pos,
			block_type_name(type));
	else if (b->level != f->stats.max_level[data_slot(type)])
		problem(w->p, f, pos,
			"the footer's %s index (level %d) is not the top level "
			"(%d)",
			block_type_name(type), b->level,
			f->stats.max_level[data_slot(type)]);
	else if (b > f->blocks && b[-1].type == 'i' && b[-1].indexes == type &&
		 b[-1].level == b->level)
		problem(w->p, f, pos,
			"the footer's %s index position is not the first block "
			"of the top level",
			block_type_name(type));
}

static void check_section_start(struct walk *w, uint64_t pos, uint8_t type)
{
	struct tfile *f = w->f;
	struct tblock *first = NULL;

	for (size_t i = 0; i < f->nblocks && !first; i++)
		if (f->blocks[i].type == type)
			first = &f->blocks[i];
	/* Position 0 is "none", unless the section is the file's start. */
	if (!pos && first && first->start != 0)
		problem(w->p, f, first->start,
			"%s blocks, but the footer has no %s position",
			block_type_name(type), block_type_name(type));
	else if (pos && (!first || first->start != pos))
		problem(w->p, f, f->footer_start,
			"the footer's %s position %llu is not the first %s "
			"block",
			block_type_name(type), (unsigned long long)pos,
			block_type_name(type));
}

static int cmp_obj(const void *a, const void *b)
{
	const struct obj_entry *x = a, *y = b;
	int c = memcmp(x->prefix, y->prefix, sizeof(x->prefix));
	if (c)
		return c;
	return (x->block > y->block) - (x->block < y->block);
}

static size_t dedupe(struct obj_entry *a, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		if (!o || cmp_obj(&a[o - 1], &a[i]))
			a[o++] = a[i];
	return o;
}

/* The object index must list exactly the ref blocks naming each id. */
static void check_obj_index(struct walk *w)
{
	struct tfile *f = w->f;
	size_t i = 0, j = 0;
	char hex[2 * REFTABLE_HASH_SIZE_MAX + 1];

	if (!f->obj_pos)
		return;
	if (w->nrefs)
		qsort(w->from_refs, w->nrefs, sizeof(*w->from_refs), cmp_obj);
	if (w->nobjs)
		qsort(w->from_objs, w->nobjs, sizeof(*w->from_objs), cmp_obj);
	w->nrefs = dedupe(w->from_refs, w->nrefs);
	w->nobjs = dedupe(w->from_objs, w->nobjs);
	while (i < w->nrefs || j < w->nobjs) {
		int c = i >= w->nrefs ? 1 : j >= w->nobjs ? -1 :
			cmp_obj(&w->from_refs[i], &w->from_objs[j]);
		if (c && j < w->nobjs && w->from_objs[j].block == UINT64_MAX) {
			/* "every block": skip all ref entries of that id */
			while (i < w->nrefs &&
			       !memcmp(w->from_refs[i].prefix,
				       w->from_objs[j].prefix,
				       sizeof(w->from_objs[j].prefix)))
				i++;
			j++;
			continue;
		}
		if (!c) {
			i++;
			j++;
			continue;
		}
		if (c < 0) {
			hex_encode(hex, w->from_refs[i].prefix, f->obj_id_len);
			problem(w->p, f, f->obj_pos,
				"object index lacks %s for the ref block at %llu",
				hex, (unsigned long long)w->from_refs[i].block);
			i++;
		} else {
			hex_encode(hex, w->from_objs[j].prefix, f->obj_id_len);
			problem(w->p, f, f->obj_pos,
				"object index lists %s in the block at %llu, "
				"which has no ref with that id",
				hex, (unsigned long long)w->from_objs[j].block);
			j++;
		}
	}
}

/* Every check that needs all the blocks, after a walk that saw them all. */
void check_blocks(struct walk *w)
{
	struct tfile *f = w->f;

	check_block_order(w);
	check_index(w);
	check_top_index(w, f->ref_index_pos, 'r');
	check_top_index(w, f->obj_index_pos, 'o');
	check_top_index(w, f->log_index_pos, 'g');
	check_section_start(w, f->obj_pos, 'o');
	check_section_start(w, f->log_pos, 'g');
	check_obj_index(w);
}
