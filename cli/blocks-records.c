/* Decoding the records of one block, each checked as it is read. */

#include <stdlib.h>
#include <string.h>

#include "blocks-internal.h"

static void add_obj(struct obj_entry **arr, size_t *n, size_t *cap,
		    const uint8_t *prefix, size_t len, uint64_t block)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 1024;
		*arr = xrealloc(*arr, *cap * sizeof(**arr));
	}
	memset((*arr)[*n].prefix, 0, sizeof((*arr)[*n].prefix));
	memcpy((*arr)[*n].prefix, prefix, len);
	(*arr)[*n].block = block;
	(*n)++;
}

/* One record being decoded: its value bytes and where it stands. */
struct rec {
	const uint8_t *v;
	size_t vlen;  /* bytes available for the value */
	uint64_t off; /* file offset of the record (log blocks: of the block) */
	uint8_t extra;
	struct key *key;
	struct tblock *b;
};

/* Bytes the value used, or 0 with a problem reported. */
static size_t ref_value(struct walk *w, struct rec *r)
{
	struct tfile *f = w->f;
	uint64_t delta, tlen;
	size_t n = varint(r->v, r->vlen, &delta), need = 0;
	char kb[160];

	if (!n) {
		problem(w->p, f, r->off, "ref %s: bad update index",
			show_key(r->key, kb, sizeof(kb)));
		return 0;
	}
	if (delta > f->max_ui - f->min_ui || f->min_ui > f->max_ui)
		problem(w->p, f, r->off,
			"ref %s: update index %llu+%llu outside the table's "
			"range %llu-%llu",
			show_key(r->key, kb, sizeof(kb)),
			(unsigned long long)f->min_ui,
			(unsigned long long)delta,
			(unsigned long long)f->min_ui,
			(unsigned long long)f->max_ui);
	switch (r->extra) {
	case 0:
		break;
	case 1:
		need = f->hash_size;
		break;
	case 2:
		need = 2 * f->hash_size;
		break;
	case 3: {
		size_t m = varint(r->v + n, r->vlen - n, &tlen);
		if (!m || tlen > r->vlen - n - m) {
			problem(w->p, f, r->off, "ref %s: bad symref target",
				show_key(r->key, kb, sizeof(kb)));
			return 0;
		}
		if (!tlen)
			problem(w->p, f, r->off, "ref %s: empty symref target",
				show_key(r->key, kb, sizeof(kb)));
		n += m;
		need = (size_t)tlen;
		break;
	}
	default:
		problem(w->p, f, r->off, "ref %s: unknown value type %u",
			show_key(r->key, kb, sizeof(kb)), r->extra);
		return 0;
	}
	if (need > r->vlen - n) {
		problem(w->p, f, r->off, "ref %s: value runs past the records",
			show_key(r->key, kb, sizeof(kb)));
		return 0;
	}
	f->stats.refs[r->extra]++;
	/* Remember which ref block mentions which object ids. */
	if (f->obj_pos && f->obj_id_len && f->obj_id_len <= f->hash_size &&
	    (r->extra == 1 || r->extra == 2)) {
		for (int i = 0; i < r->extra; i++)
			add_obj(&w->from_refs, &w->nrefs, &w->refs_cap,
				r->v + n + i * f->hash_size, f->obj_id_len,
				r->b->start);
	}
	return n + need;
}

static size_t log_value(struct walk *w, struct rec *r)
{
	struct tfile *f = w->f;
	const struct key *k = r->key;
	size_t n = 0;
	uint64_t ui, len, time;
	char kb[160];

	if (k->len < 10 || k->data[k->len - 9] != 0) {
		problem(w->p, f, r->off,
			"log key %s is not a ref name, NUL and update index",
			show_key(r->key, kb, sizeof(kb)));
		return (size_t)-1;
	}
	ui = ~be64(k->data + k->len - 8);
	if (ui > f->max_ui)
		problem(w->p, f, r->off,
			"log of %.*s: update index %llu above the table's %llu",
			(int)(k->len - 9), (const char *)k->data,
			(unsigned long long)ui, (unsigned long long)f->max_ui);
	if (r->extra == 0) {
		f->stats.logs[0]++;
		return 0;
	}
	if (r->extra != 1) {
		problem(w->p, f, r->off, "log of %.*s: unknown type %u",
			(int)(k->len - 9), (const char *)k->data, r->extra);
		return (size_t)-1;
	}
	n = 2 * f->hash_size;
	/* name, email: varint length and bytes */
	for (int i = 0; i < 2 && n <= r->vlen; i++) {
		size_t m = varint(r->v + n, r->vlen - n, &len);
		if (!m || len > r->vlen - n - m)
			goto bad;
		n += m + (size_t)len;
	}
	if (n > r->vlen)
		goto bad;
	{
		size_t m = varint(r->v + n, r->vlen - n, &time);
		if (!m || r->vlen - n - m < 2)
			goto bad;
		n += m + 2; /* time, then the 16-bit zone */
		m = varint(r->v + n, r->vlen - n, &len);
		if (!m || len > r->vlen - n - m)
			goto bad;
		n += m + (size_t)len;
	}
	f->stats.logs[1]++;
	return n;
bad:
	problem(w->p, f, r->off, "log of %.*s: value runs past the records",
		(int)(k->len - 9), (const char *)k->data);
	return (size_t)-1;
}

static size_t obj_value(struct walk *w, struct rec *r)
{
	struct tfile *f = w->f;
	uint64_t count = r->extra, off, delta;
	size_t n = 0, m;

	if (r->key->len != f->obj_id_len)
		problem(w->p, f, r->off,
			"obj record key of %zu bytes, the footer says %u",
			r->key->len, f->obj_id_len);
	if (!count) {
		if (!(n = varint(r->v, r->vlen, &count)))
			goto bad;
	}
	w->f->stats.obj_records++;
	if (!count) {
		/* No positions: "look in every ref block". */
		add_obj(&w->from_objs, &w->nobjs, &w->objs_cap, r->key->data,
			r->key->len < f->hash_size ? r->key->len : f->hash_size,
			UINT64_MAX);
		return n;
	}
	if (!(m = varint(r->v + n, r->vlen - n, &off)))
		goto bad;
	n += m;
	for (uint64_t i = 0; i < count; i++) {
		if (i) {
			if (!(m = varint(r->v + n, r->vlen - n, &delta)))
				goto bad;
			n += m;
			off += delta;
		}
		add_obj(&w->from_objs, &w->nobjs, &w->objs_cap, r->key->data,
			r->key->len < f->hash_size ? r->key->len : f->hash_size,
			off);
	}
	return n;
bad:
	problem(w->p, f, r->off, "obj record: bad block positions");
	return (size_t)-1;
}

static size_t index_value(struct walk *w, struct rec *r, size_t bi)
{
	uint64_t child;
	size_t n = varint(r->v, r->vlen, &child);
	struct index_entry *e;

	if (!n) {
		problem(w->p, w->f, r->off, "index record: bad block position");
		return (size_t)-1;
	}
	if (w->nidx == w->idx_cap) {
		w->idx_cap = w->idx_cap ? 2 * w->idx_cap : 256;
		w->idx = xrealloc(w->idx, w->idx_cap * sizeof(*w->idx));
	}
	e = &w->idx[w->nidx++];
	e->block = bi;
	e->key.data = NULL;
	key_set(&e->key, r->key->data, r->key->len);
	e->child = child;
	w->f->stats.index_records++;
	return n;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/*
 * Decode the records of one block. data holds the block from its start
 * (inflated, for a log block), len bytes; hdr is where its type byte is.
 * base is the file offset of data[0] for messages (log blocks: records
 * are reported at the block's offset, since they have no file offset).
 */
void walk_records(struct walk *w, size_t bi, const uint8_t *data,
			 size_t len, size_t hdr)
{
	struct tfile *f = w->f;
	struct tblock *b = &f->blocks[bi];
	int is_log = b->type == 'g';
	size_t pos = hdr + 4, rstart;
	uint32_t *starts = NULL, *restarts = NULL;
	size_t nstarts = 0, starts_cap = 0;
	struct key key = { 0 }, prev = { 0 };
	int slot = data_slot(b->type);
	char kb1[160], kb2[160];

#define AT(x) (is_log ? b->start : b->start + (x))
	if (len < hdr + 4 + 2) {
		problem(w->p, f, b->start, "%s block too short for a header",
			block_type_name(b->type));
		return;
	}
	b->restarts = (uint16_t)be16(data + len - 2);
	f->stats.restarts += b->restarts;
	if ((size_t)b->restarts * 3 + 2 > len - hdr - 4) {
		problem(w->p, f, AT(len - 2),
			"%s block: %u restarts do not fit in %zu bytes",
			block_type_name(b->type), b->restarts, len);
		return;
	}
	rstart = len - 2 - 3 * (size_t)b->restarts;
	if (!b->restarts && rstart > pos)
		problem(w->p, f, AT(len - 2),
			"%s block has records but no restart point",
			block_type_name(b->type));

	while (pos < rstart) {
		uint64_t prefix, suffix_type, suffix;
		size_t n1, n2, used;
		struct rec r;

		if (nstarts == starts_cap) {
			starts_cap = starts_cap ? 2 * starts_cap : 64;
			starts = xrealloc(starts, starts_cap * sizeof(*starts));
		}
		starts[nstarts++] = (uint32_t)pos;
		n1 = varint(data + pos, rstart - pos, &prefix);
		n2 = n1 ? varint(data + pos + n1, rstart - pos - n1,
				 &suffix_type) : 0;
		suffix = n2 ? suffix_type >> 3 : 0;
		if (!n2 || prefix > key.len ||
		    suffix > rstart - pos - n1 - n2) {
			problem(w->p, f, AT(pos),
				"%s block: record %u has a broken key",
				block_type_name(b->type), b->records);
			break;
		}
		/* The key is a prefix of the previous one plus new bytes. */
		key.len = (size_t)prefix;
		key.data = xrealloc(key.data, key.len + (size_t)suffix + 1);
		memcpy(key.data + key.len, data + pos + n1 + n2,
		       (size_t)suffix);
		key.len += (size_t)suffix;
		if (b->records && key_cmp(&prev, &key) >= 0)
			problem(w->p, f, AT(pos),
				"%s block: key %s is not after %s",
				block_type_name(b->type),
				show_key(&key, kb1, sizeof(kb1)),
				show_key(&prev, kb2, sizeof(kb2)));
		if (!b->records && slot >= 0 && w->seen_data[slot] &&
		    key_cmp(&w->last_data_key[slot], &key) >= 0)
			problem(w->p, f, AT(pos),
				"%s block starts with %s, not after the "
				"previous block's last key %s",
				block_type_name(b->type),
				show_key(&key, kb1, sizeof(kb1)),
				show_key(&w->last_data_key[slot], kb2,
					 sizeof(kb2)));
		if (!b->records)
			key_set(&b->first, key.data, key.len);
		r.off = AT(pos);
		pos += n1 + n2 + (size_t)suffix;
		r.v = data + pos;
		r.vlen = rstart - pos;
		r.extra = suffix_type & 7;
		r.key = &key;
		r.b = b;
		switch (b->type) {
		case 'r':
			used = ref_value(w, &r);
			if (!used) /* a valid value takes at least a byte */
				used = (size_t)-1;
			break;
		case 'g':
			used = log_value(w, &r);
			break;
		case 'o':
			used = obj_value(w, &r);
			break;
		default:
			used = index_value(w, &r, bi);
		}
		b->records++;
		key_set(&prev, key.data, key.len);
		if (used == (size_t)-1)
			break;
		pos += used;
	}
	if (b->records) {
		key_set(&b->last, prev.data, prev.len);
		if (slot >= 0) {
			key_set(&w->last_data_key[slot], prev.data, prev.len);
			w->seen_data[slot] = 1;
		}
	}

	/* Each restart must point at a record, in order. */
	restarts = xmalloc((b->restarts ? b->restarts : 1) * sizeof(*restarts));
	for (size_t i = 0; i < b->restarts; i++) {
		uint32_t r = be24(data + rstart + 3 * i);
		uint64_t pfx;
		restarts[i] = r;
		if (i && r <= restarts[i - 1])
			problem(w->p, f, AT(rstart + 3 * i),
				"%s block: restart %zu (%u) is not after the one "
				"before",
				block_type_name(b->type), i, r);
		else if (!bsearch(&r, starts, nstarts, sizeof(*starts),
				  cmp_u32))
			problem(w->p, f, AT(rstart + 3 * i),
				"%s block: restart %zu points at %u, which is not "
				"a record",
				block_type_name(b->type), i, r);
		else if (!varint(data + r, rstart - r, &pfx) || pfx)
			problem(w->p, f, AT(r),
				"%s block: restart record %zu shares a prefix",
				block_type_name(b->type), i);
	}
	if (nstarts && b->restarts && restarts[0] != hdr + 4)
		problem(w->p, f, AT(hdr + 4),
			"%s block: first record is not a restart point",
			block_type_name(b->type));
#undef AT
	free(restarts);
	free(starts);
	free(key.data);
	free(prev.data);
}
