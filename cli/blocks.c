/*
 * Walking a table's blocks and records with our own decoder; see blocks.h
 * for the layout facts this relies on.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "blocks.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAGIC "REFT"
#define HASH_ID_SHA1 0x73686131u   /* "sha1" */
#define HASH_ID_SHA256 0x73323536u /* "s256" */

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/*
 * The format's varint: 7 bits a byte, most significant group first; each
 * byte but the last has its high bit set and its group stored minus one.
 * Bytes read, or 0 if truncated or too large for 64 bits.
 */
static size_t varint(const uint8_t *p, size_t len, uint64_t *out)
{
	uint64_t v;
	size_t i = 0;

	if (!len)
		return 0;
	v = p[0] & 0x7f;
	while (p[i] & 0x80) {
		if (++i >= len || v > (UINT64_MAX >> 7) - 1)
			return 0;
		v = ((v + 1) << 7) | (p[i] & 0x7f);
	}
	*out = v;
	return i + 1;
}

const char *block_type_name(uint8_t type)
{
	switch (type) {
	case 'r':
		return "ref";
	case 'o':
		return "obj";
	case 'g':
		return "log";
	case 'i':
		return "index";
	}
	return "?";
}

const char *hash_name(size_t hash_size)
{
	return hash_size == REFTABLE_HASH_SIZE_SHA256 ? "sha256" : "sha1";
}

void problem(struct problems *p, const struct tfile *f, uint64_t off,
	     const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->count++;
	if (p->report)
		p->report(p->arg, f->path, off, msg);
}

static void key_set(struct key *k, const uint8_t *data, size_t len)
{
	k->data = xrealloc(k->data, len ? len : 1);
	if (len)
		memcpy(k->data, data, len);
	k->len = len;
}

static int key_cmp(const struct key *a, const struct key *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->data, b->data, n) : 0;
	if (c)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

/* A printable, shortened form of a key for messages. */
static const char *show_key(const struct key *k, char *buf, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < k->len && o + 5 < cap; i++) {
		uint8_t c = k->data[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
	}
	buf[o < cap ? o : cap - 1] = '\0';
	return buf;
}

/* ---- header and footer ---- */

static int read_header(struct tfile *f, struct problems *p)
{
	const uint8_t *h = f->map;

	if (f->size < 24 || memcmp(h, MAGIC, 4)) {
		problem(p, f, 0, "not a reftable: no \"REFT\" magic");
		return -1;
	}
	f->version = h[4];
	if (f->version != 1 && f->version != 2) {
		problem(p, f, 4, "unknown format version %d", f->version);
		return -1;
	}
	f->header_len = f->version == 1 ? 24 : 28;
	f->footer_len = f->version == 1 ? 68 : 72;
	if (f->size < f->header_len + f->footer_len) {
		problem(p, f, 0, "truncated: %zu bytes, a table has at least %zu",
			f->size, f->header_len + f->footer_len);
		return -1;
	}
	f->block_size = be24(h + 5);
	f->min_ui = be64(h + 8);
	f->max_ui = be64(h + 16);
	f->hash_id = f->version == 1 ? HASH_ID_SHA1 : be32(h + 24);
	if (f->hash_id == HASH_ID_SHA1)
		f->hash_size = REFTABLE_HASH_SIZE_SHA1;
	else if (f->hash_id == HASH_ID_SHA256)
		f->hash_size = REFTABLE_HASH_SIZE_SHA256;
	else {
		problem(p, f, 24, "unknown hash id 0x%08x", f->hash_id);
		return -1;
	}
	if (f->min_ui > f->max_ui)
		problem(p, f, 8, "update index range %llu-%llu is reversed",
			(unsigned long long)f->min_ui,
			(unsigned long long)f->max_ui);
	return 0;
}

static int read_footer(struct tfile *f, struct problems *p)
{
	const uint8_t *ft;
	uint64_t obj_field;

	f->footer_start = f->size - f->footer_len;
	ft = f->map + f->footer_start;
	if (memcmp(ft, f->map, f->header_len)) {
		problem(p, f, f->footer_start,
			"footer does not repeat the header (truncated or "
			"corrupt file)");
		return -1;
	}
	ft += f->header_len;
	f->ref_index_pos = be64(ft);
	obj_field = be64(ft + 8);
	f->obj_pos = obj_field >> 5;
	f->obj_id_len = obj_field & 0x1f;
	f->obj_index_pos = be64(ft + 16);
	f->log_pos = be64(ft + 24);
	f->log_index_pos = be64(ft + 32);
	f->crc_stored = be32(ft + 40);
	f->crc_actual = (uint32_t)crc32(0, f->map + f->footer_start,
					(uInt)(f->footer_len - 4));
	if (f->crc_stored != f->crc_actual)
		problem(p, f, f->size - 4,
			"footer CRC-32 is %08x, the bytes give %08x",
			f->crc_stored, f->crc_actual);
	return 0;
}

static void check_positions(struct tfile *f, struct problems *p)
{
	const struct {
		const char *what;
		uint64_t pos;
	} pos[] = {
		{ "ref index", f->ref_index_pos },
		{ "obj blocks", f->obj_pos },
		{ "obj index", f->obj_index_pos },
		{ "log blocks", f->log_pos },
		{ "log index", f->log_index_pos },
	};
	uint64_t last = 0;

	/* Sections come in this order, each one after the one before. */
	for (size_t i = 0; i < ARRAY_SIZE(pos); i++) {
		if (!pos[i].pos)
			continue;
		if (pos[i].pos < f->header_len || pos[i].pos >= f->footer_start)
			problem(p, f, f->footer_start,
				"%s position %llu lies outside the blocks",
				pos[i].what, (unsigned long long)pos[i].pos);
		else if (pos[i].pos <= last)
			problem(p, f, f->footer_start,
				"%s position %llu is not after the section "
				"before it",
				pos[i].what, (unsigned long long)pos[i].pos);
		last = pos[i].pos;
	}
	if (f->obj_pos && (f->obj_id_len < 1 || f->obj_id_len > f->hash_size))
		problem(p, f, f->footer_start,
			"object id abbreviation length %u is not 1 to %zu",
			f->obj_id_len, f->hash_size);
}

int tfile_open(struct tfile *f, const struct cli *cli, const char *path,
	       struct problems *p)
{
	struct stat st;
	const char *slash = strrchr(path, '/');
	int fd;

	memset(f, 0, sizeof(*f));
	f->path = xstrdup(path);
	f->name = slash ? f->path + (slash - path) + 1 : f->path;
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return cli_error(cli, EXIT_DATA, "%s: %s", path, strerror(e));
	}
	f->size = (size_t)st.st_size;
	if (f->size) {
		f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (f->map == MAP_FAILED) {
			int e = errno;
			f->map = NULL;
			close(fd);
			return cli_error(cli, EXIT_DATA, "mmap %s: %s", path,
					 strerror(e));
		}
	}
	close(fd);
	if (read_header(f, p) || read_footer(f, p))
		return 0;
	f->header_ok = 1;
	check_positions(f, p);
	return 0;
}

void tfile_release(struct tfile *f)
{
	for (size_t i = 0; i < f->nblocks; i++) {
		free(f->blocks[i].first.data);
		free(f->blocks[i].last.data);
	}
	free(f->blocks);
	if (f->map)
		munmap(f->map, f->size);
	free(f->path);
	memset(f, 0, sizeof(*f));
}

/* ---- what the walk collects for the cross-block checks ---- */

struct index_entry {
	size_t block; /* the index block holding it */
	struct key key;
	uint64_t child;
};

struct obj_entry {
	uint8_t prefix[REFTABLE_HASH_SIZE_MAX];
	uint64_t block; /* a ref block start; UINT64_MAX: "all blocks" */
};

struct walk {
	struct tfile *f;
	struct problems *p;
	struct index_entry *idx;
	size_t nidx, idx_cap;
	struct obj_entry *from_refs, *from_objs;
	size_t nrefs, refs_cap, nobjs, objs_cap;
	struct key last_data_key[3]; /* ref, obj, log: across blocks */
	int seen_data[3];
};

static int data_slot(uint8_t type)
{
	return type == 'r' ? 0 : type == 'o' ? 1 : type == 'g' ? 2 : -1;
}

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

/* ---- records ---- */

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

/* ---- blocks ---- */

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
static void walk_records(struct walk *w, size_t bi, const uint8_t *data,
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

static struct tblock *new_block(struct tfile *f)
{
	struct tblock *b;
	if (f->nblocks == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 64;
		f->blocks = xrealloc(f->blocks, f->cap * sizeof(*f->blocks));
	}
	b = &f->blocks[f->nblocks++];
	memset(b, 0, sizeof(*b));
	return b;
}

/*
 * Inflate a log block into a buffer holding the whole block. Sets
 * *consumed to the compressed bytes; NULL with a problem on failure.
 */
static uint8_t *inflate_log(struct walk *w, struct tblock *b, size_t hdr,
			    size_t *consumed)
{
	struct tfile *f = w->f;
	uint8_t *out;
	z_stream zs;
	int ret;

	if (b->len < hdr + 4) {
		problem(w->p, f, b->type_off, "log block length %u too short",
			b->len);
		return NULL;
	}
	out = xmalloc(b->len);
	memcpy(out, f->map + b->start, hdr + 4);
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK) {
		free(out);
		problem(w->p, f, b->type_off, "zlib init failed");
		return NULL;
	}
	zs.next_in = f->map + b->type_off + 4;
	zs.avail_in = (uInt)(f->footer_start - b->type_off - 4);
	zs.next_out = out + hdr + 4;
	zs.avail_out = (uInt)(b->len - hdr - 4);
	ret = inflate(&zs, Z_FINISH);
	*consumed = zs.total_in;
	inflateEnd(&zs);
	if (ret != Z_STREAM_END || zs.avail_out) {
		problem(w->p, f, b->type_off + 4,
			"log block does not inflate to its %u bytes (%s)",
			b->len, ret == Z_STREAM_END ? "too short" :
			zs.msg ? zs.msg : "truncated or corrupt data");
		free(out);
		return NULL;
	}
	return out;
}

/* Skip zero padding after a block; returns where the next block starts. */
static uint64_t skip_padding(struct walk *w, struct tblock *b, uint64_t end)
{
	struct tfile *f = w->f;
	uint64_t next = end;

	while (next < f->footer_start && f->map[next] == 0)
		next++;
	if (next != end) {
		f->stats.padding += next - end;
		if (b->type == 'g')
			problem(w->p, f, end, "padding after a log block");
		else if (next != b->start + f->block_size)
			problem(w->p, f, end,
				"padding of the %s block at %llu ends at %llu, "
				"not at the block size boundary %llu",
				block_type_name(b->type),
				(unsigned long long)b->start,
				(unsigned long long)next,
				(unsigned long long)(b->start + f->block_size));
	}
	return next;
}

/* Read the block at start; returns the next block's start, or 0 to stop. */
static uint64_t walk_block(struct walk *w, uint64_t start)
{
	struct tfile *f = w->f;
	size_t hdr = start ? 0 : f->header_len, consumed = 0;
	struct tblock *b;
	uint64_t end;
	uint8_t *inflated = NULL;

	if (f->footer_start - start < hdr + 4) {
		problem(w->p, f, start, "truncated block header");
		return 0;
	}
	b = new_block(f);
	b->start = start;
	b->type_off = start + hdr;
	b->type = f->map[b->type_off];
	b->len = be24(f->map + b->type_off + 1);
	if (data_slot(b->type) < 0 && b->type != 'i') {
		problem(w->p, f, b->type_off, "unknown block type 0x%02x",
			b->type);
		f->nblocks--;
		return 0;
	}
	if (b->type != 'g' && f->block_size && b->len > f->block_size)
		problem(w->p, f, b->type_off,
			"%s block length %u exceeds the block size %u",
			block_type_name(b->type), b->len, f->block_size);
	if (b->type == 'g') {
		inflated = inflate_log(w, b, hdr, &consumed);
		if (!inflated) {
			f->nblocks--;
			return 0;
		}
		end = b->type_off + 4 + consumed;
		f->stats.log_inflated += b->len;
	} else {
		end = start + b->len;
		if (end > f->footer_start || b->len < hdr + 4) {
			problem(w->p, f, b->type_off,
				"%s block length %u runs past the footer at "
				"%llu",
				block_type_name(b->type), b->len,
				(unsigned long long)f->footer_start);
			f->nblocks--;
			return 0;
		}
	}
	b->stored = end - start;
	walk_records(w, (size_t)(b - f->blocks),
		     inflated ? inflated : f->map + start, b->len, hdr);
	free(inflated);
	/* walk_records may have grown f->blocks: find b again. */
	b = &f->blocks[f->nblocks - 1];
	end = skip_padding(w, b, end);
	b->span = end - start;
	return end;
}

/* ---- checks across blocks ---- */

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

static void count_blocks(struct tfile *f)
{
	for (size_t i = 0; i < f->nblocks; i++) {
		struct tblock *b = &f->blocks[i];
		int k = b->type == 'r' ? 0 : b->type == 'o' ? 1 :
			b->type == 'g' ? 2 : 3;
		f->stats.blocks[k]++;
		f->stats.bytes[k] += b->span;
	}
}

void tfile_walk(struct tfile *f, struct problems *p)
{
	struct walk w = { 0 };
	uint64_t start = 0;

	if (!f->header_ok)
		return;
	w.f = f;
	w.p = p;
	/* An empty table is a header and a footer. */
	if (f->footer_start > f->header_len) {
		do
			start = walk_block(&w, start);
		while (start && start < f->footer_start);
	}
	/*
	 * A walk that stopped early saw only part of the blocks: checks
	 * across blocks would only repeat that damage in other words.
	 */
	if (!start && f->footer_start > f->header_len) {
		problem(p, f, f->nblocks ? f->blocks[f->nblocks - 1].start : 0,
			"cannot find the blocks after this one; the rest of "
			"the table was not checked");
	} else {
		check_block_order(&w);
		check_index(&w);
		check_top_index(&w, f->ref_index_pos, 'r');
		check_top_index(&w, f->obj_index_pos, 'o');
		check_top_index(&w, f->log_index_pos, 'g');
		check_section_start(&w, f->obj_pos, 'o');
		check_section_start(&w, f->log_pos, 'g');
		check_obj_index(&w);
	}
	count_blocks(f);

	for (size_t i = 0; i < w.nidx; i++)
		free(w.idx[i].key.data);
	for (int i = 0; i < 3; i++)
		free(w.last_data_key[i].data);
	free(w.idx);
	free(w.from_refs);
	free(w.from_objs);
}
