/* The durability model: what of an operation's calls a crash keeps. */

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash.h"

#define BLOCK 4096
#define MAX_FDS 1024
#define FD_DIR (-2)

/* Files only ever grow by appending (tables, lists and locks are written
 * once, front to back), so what is durable is a prefix. */
struct inode {
	char *data;
	size_t len, cap;
	size_t synced;
};

struct entry {
	char *name;
	size_t ino;
};

struct dirmap {
	struct entry *v;
	size_t n, cap;
};

enum dirop_kind { OP_CREATE, OP_RENAME, OP_UNLINK, OP_LINK };

struct dirop {
	enum dirop_kind kind;
	char *a, *b; /* name; from, to */
	size_t ino;  /* of a create */
};

struct crash_model {
	const char *dir;
	struct inode *inodes;
	size_t ninodes, icap;
	struct dirmap now, synced;
	struct dirop *ops; /* unsynced, oldest first */
	size_t nops, opcap;
	struct { long ino; size_t off; } fds[MAX_FDS]; /* ino -1: not ours */
	unsigned long generation;
};

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	*cap = need * 2;
	p = realloc(p, *cap * size);
	if (!p)
		fault_die("out of memory");
	return p;
}

static char *dup_str(const char *s)
{
	char *d = strdup(s);

	if (!d)
		fault_die("out of memory");
	return d;
}

/* The name inside the stack directory, NULL for other paths. */
static const char *base_of(const struct crash_model *m, const char *path)
{
	size_t n = strlen(m->dir);

	if (strncmp(path, m->dir, n) || path[n] != '/')
		return NULL;
	return path + n + 1;
}

static long map_find(const struct dirmap *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].name, name))
			return (long)i;
	return -1;
}

static void map_set(struct dirmap *d, const char *name, size_t ino)
{
	long i = map_find(d, name);

	if (i >= 0) {
		d->v[i].ino = ino;
		return;
	}
	d->v = grow(d->v, &d->cap, d->n + 1, sizeof(*d->v));
	d->v[d->n].name = dup_str(name);
	d->v[d->n++].ino = ino;
}

static void map_del(struct dirmap *d, const char *name)
{
	long i = map_find(d, name);

	if (i < 0)
		return;
	free(d->v[i].name);
	d->v[i] = d->v[--d->n];
}

static void map_copy(struct dirmap *dst, const struct dirmap *src)
{
	size_t i;

	for (i = 0; i < dst->n; i++)
		free(dst->v[i].name);
	dst->n = 0;
	for (i = 0; i < src->n; i++)
		map_set(dst, src->v[i].name, src->v[i].ino);
}

static void map_free(struct dirmap *d)
{
	map_copy(d, &(struct dirmap){ NULL, 0, 0 });
	free(d->v);
}

static size_t new_inode(struct crash_model *m)
{
	m->inodes = grow(m->inodes, &m->icap, m->ninodes + 1, sizeof(*m->inodes));
	memset(&m->inodes[m->ninodes], 0, sizeof(*m->inodes));
	return m->ninodes++;
}

static void add_op(struct crash_model *m, enum dirop_kind kind, const char *a,
		   const char *b, size_t ino)
{
	m->ops = grow(m->ops, &m->opcap, m->nops + 1, sizeof(*m->ops));
	m->ops[m->nops].kind = kind;
	m->ops[m->nops].a = dup_str(a);
	m->ops[m->nops].b = b ? dup_str(b) : NULL;
	m->ops[m->nops].ino = ino;
	m->nops++;
	m->generation++;
}

static void clear_ops(struct crash_model *m)
{
	size_t i;

	for (i = 0; i < m->nops; i++) {
		free(m->ops[i].a);
		free(m->ops[i].b);
	}
	m->nops = 0;
}

/* --- observing the calls -------------------------------------------------- */

static struct crash_model *model_of(struct faultfs *f)
{
	return f->obs->arg;
}

static void on_open(struct faultfs *f, const char *path, int flags, int fd)
{
	struct crash_model *m = model_of(f);
	const char *name = base_of(m, path);
	long at;

	if (fd < 0 || fd >= MAX_FDS)
		return;
	m->fds[fd].ino = -1;
	m->fds[fd].off = 0;
	if (!strcmp(path, m->dir)) {
		m->fds[fd].ino = FD_DIR;
		return;
	}
	if (!name)
		return;
	at = map_find(&m->now, name);
	if (at >= 0 && !(flags & O_EXCL)) {
		m->fds[fd].ino = (long)m->now.v[at].ino;
		return;
	}
	if (flags & O_CREAT) {
		size_t ino = new_inode(m);

		map_set(&m->now, name, ino);
		add_op(m, OP_CREATE, name, NULL, ino);
		m->fds[fd].ino = (long)ino;
	}
}

static void on_write(struct faultfs *f, int fd, const void *buf, size_t n)
{
	struct crash_model *m = model_of(f);
	struct inode *in;

	if (fd < 0 || fd >= MAX_FDS || m->fds[fd].ino < 0)
		return;
	in = &m->inodes[m->fds[fd].ino];
	if (m->fds[fd].off != in->len)
		fault_die("crash model: a write not at the end of the file");
	in->data = grow(in->data, &in->cap, in->len + n, 1);
	memcpy(in->data + in->len, buf, n);
	in->len += n;
	m->fds[fd].off += n;
	m->generation++;
}

static void on_sync(struct faultfs *f, int fd)
{
	struct crash_model *m = model_of(f);

	if (fd < 0 || fd >= MAX_FDS)
		return;
	if (m->fds[fd].ino == FD_DIR) {
		map_copy(&m->synced, &m->now);
		clear_ops(m);
		m->generation++;
	} else if (m->fds[fd].ino >= 0) {
		struct inode *in = &m->inodes[m->fds[fd].ino];

		m->generation += in->synced != in->len;
		in->synced = in->len;
	}
}

static void on_rename(struct faultfs *f, const char *from, const char *to)
{
	struct crash_model *m = model_of(f);
	const char *a = base_of(m, from), *b = base_of(m, to);
	long at = a ? map_find(&m->now, a) : -1;

	if (at < 0 || !b)
		return;
	map_set(&m->now, b, m->now.v[at].ino);
	map_del(&m->now, a);
	add_op(m, OP_RENAME, a, b, 0);
}

static void on_unlink(struct faultfs *f, const char *path)
{
	struct crash_model *m = model_of(f);
	const char *a = base_of(m, path);

	if (!a || map_find(&m->now, a) < 0)
		return;
	map_del(&m->now, a);
	add_op(m, OP_UNLINK, a, NULL, 0);
}

static void on_link(struct faultfs *f, const char *from, const char *to)
{
	struct crash_model *m = model_of(f);
	const char *a = base_of(m, from), *b = base_of(m, to);
	long at = a ? map_find(&m->now, a) : -1;

	if (at < 0 || !b)
		return;
	map_set(&m->now, b, m->now.v[at].ino);
	add_op(m, OP_LINK, a, b, 0);
}

static void on_close(struct faultfs *f, int fd)
{
	struct crash_model *m = model_of(f);

	if (fd >= 0 && fd < MAX_FDS)
		m->fds[fd].ino = -1;
}

/* --- the model -------------------------------------------------------------- */

static int add_existing(struct crash_model *m, const char *name)
{
	char path[4096];
	size_t ino, len;
	char *data;

	snprintf(path, sizeof(path), "%s/%s", m->dir, name);
	data = fault_read_file(path, &len);
	if (!data)
		return 0; /* a directory, or gone */
	ino = new_inode(m);
	m->inodes[ino].data = data;
	m->inodes[ino].len = m->inodes[ino].cap = m->inodes[ino].synced = len;
	map_set(&m->now, name, ino);
	map_set(&m->synced, name, ino);
	return 0;
}

struct crash_model *crash_model_new(const char *dir, struct fault_observer *obs)
{
	struct crash_model *m = calloc(1, sizeof(*m));
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t i;

	if (!m || !d)
		fault_die("crash model: %s", dir);
	m->dir = dir;
	for (i = 0; i < MAX_FDS; i++)
		m->fds[i].ino = -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			add_existing(m, e->d_name);
	closedir(d);
	memset(obs, 0, sizeof(*obs));
	obs->opened = on_open;
	obs->wrote = on_write;
	obs->synced = on_sync;
	obs->renamed = on_rename;
	obs->unlinked = on_unlink;
	obs->linked = on_link;
	obs->closed = on_close;
	obs->arg = m;
	return m;
}

void crash_model_free(struct crash_model *m)
{
	size_t i;

	for (i = 0; i < m->ninodes; i++)
		free(m->inodes[i].data);
	free(m->inodes);
	map_free(&m->now);
	map_free(&m->synced);
	clear_ops(m);
	free(m->ops);
	free(m);
}

unsigned long crash_model_generation(const struct crash_model *m)
{
	return m->generation;
}

size_t crash_model_choices(const struct crash_model *m)
{
	size_t i, n = 0;

	for (i = 0; i < m->nops; i++)
		n += m->ops[i].kind != OP_CREATE;
	return n;
}

/* The directory after a crash: the synced entries, then the unsynced
 * changes the image keeps, in their order. */
static void image_map(const struct crash_model *m, const struct crash_image *img,
		      struct dirmap *out)
{
	size_t i, bit, choice = 0;

	map_copy(out, &m->synced);
	for (i = 0; i < m->nops; i++) {
		const struct dirop *op = &m->ops[i];
		long at;

		if (op->kind == OP_CREATE) {
			if (img->keep_creates)
				map_set(out, op->a, op->ino);
			continue;
		}
		bit = choice++;
		if (bit < 64 && !(img->keep_mask >> bit & 1))
			continue;
		at = map_find(out, op->a);
		if (at < 0)
			continue; /* its source never became durable */
		if (op->kind == OP_UNLINK) {
			map_del(out, op->a);
			continue;
		}
		map_set(out, op->b, out->v[at].ino);
		if (op->kind == OP_RENAME)
			map_del(out, op->a);
	}
}

static size_t image_len(const struct inode *in, enum crash_data data)
{
	size_t first = (in->synced / BLOCK + 1) * BLOCK;
	size_t last = in->len / BLOCK * BLOCK;

	switch (data) {
	case DATA_SYNCED: return in->synced;
	case DATA_ALL: return in->len;
	case DATA_CUT_FIRST: return first < in->len ? first : in->synced;
	case DATA_CUT_LAST: return last > in->synced ? last : in->synced;
	}
	return in->len;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n--)
		h = (h ^ *s++) * 0x100000001b3ull;
	return h;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name,
		      ((const struct entry *)b)->name);
}

uint64_t crash_model_write(const struct crash_model *m,
			   const struct crash_image *img, const char *dir)
{
	struct dirmap map = { NULL, 0, 0 };
	uint64_t h = 0xcbf29ce484222325ull;
	char path[4096];
	size_t i;

	image_map(m, img, &map);
	qsort(map.v, map.n, sizeof(*map.v), entry_cmp);
	fault_empty_dir(dir);
	for (i = 0; i < map.n; i++) {
		const struct inode *in = &m->inodes[map.v[i].ino];
		size_t len = image_len(in, img->data);

		snprintf(path, sizeof(path), "%s/%s", dir, map.v[i].name);
		fault_write_file(path, in->data ? in->data : "", len);
		h = fnv(h, map.v[i].name, strlen(map.v[i].name) + 1);
		h = fnv(h, &len, sizeof(len));
		h = fnv(h, in->data ? in->data : "", len);
	}
	map_free(&map);
	return h;
}
