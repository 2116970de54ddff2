/* Opening tables: header, footer, sections, and the metadata of a table. */

#include <fcntl.h>
#include <zlib.h>

#include "constants.h"
#include "fs.h"
#include "fsinfo.h"
#include "name_index.h"
#include "table.h"

int table_corrupt(const struct reftable_table *t, const char *what)
{
	return reftable_fail(REFTABLE_FORMAT_ERROR, "%s: %s",
			     t->name ? t->name : "table", what);
}

/* The smallest non-zero position among the candidates, or fallback. */
static uint64_t first_nonzero(const uint64_t *pos, size_t n, uint64_t fallback)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (pos[i])
			return pos[i];
	return fallback;
}

static int parse_header(struct reftable_table *t, const uint8_t *h)
{
	uint32_t hash_id;

	if (memcmp(h, REFTABLE_MAGIC, 4))
		return table_corrupt(t, "bad magic");
	t->version = h[4];
	if (t->version != 1 && t->version != 2)
		return reftable_fail(REFTABLE_UNSUPPORTED_ERROR,
				     "%s: unknown version %d", t->name,
				     t->version);
	t->header_size = header_size(t->version);
	if (t->size < t->header_size + (size_t)footer_size(t->version))
		return table_corrupt(t, "too short");
	t->block_size = get_be24(h + 5);
	t->min_ui = get_be64(h + 8);
	t->max_ui = get_be64(h + 16);
	t->hash = REFTABLE_HASH_SHA1;
	if (t->version == 2) {
		hash_id = get_be32(h + 24);
		if (hash_id == HASH_ID_SHA256)
			t->hash = REFTABLE_HASH_SHA256;
		else if (hash_id != HASH_ID_SHA1)
			return reftable_fail(REFTABLE_UNSUPPORTED_ERROR,
					     "%s: unknown hash id %08x",
					     t->name, (unsigned)hash_id);
	}
	t->hash_size = reftable_hash_size(t->hash);
	return 0;
}

static void set_section(struct section *s, uint8_t type, int present,
			uint64_t start, uint64_t end, uint64_t index_start,
			uint64_t index_end)
{
	s->type = type;
	s->present = present;
	s->start = start;
	s->end = end;
	s->index_start = index_start;
	s->index_end = index_start ? index_end : 0;
}

static int parse_footer(struct reftable_table *t)
{
	const uint8_t *f, *h = t->data;
	uint64_t pos[5], obj_field, footer;
	uint8_t first_type = 0;
	size_t i, fsize = footer_size(t->version);

	footer = t->size - fsize;
	f = t->data + footer;
	if (memcmp(f, h, t->header_size))
		return table_corrupt(t, "footer does not repeat the header");
	if (crc32(0, f, fsize - 4) != get_be32(f + fsize - 4))
		return reftable_fail(REFTABLE_CHECKSUM_ERROR,
				     "%s: footer CRC-32 mismatch", t->name);
	f += t->header_size;
	pos[0] = get_be64(f);          /* ref index */
	obj_field = get_be64(f + 8);
	pos[1] = obj_field >> 5;       /* obj blocks */
	t->obj_id_len = obj_field & 0x1f;
	pos[2] = get_be64(f + 16);     /* obj index */
	pos[3] = get_be64(f + 24);     /* log blocks */
	pos[4] = get_be64(f + 32);     /* log index */

	/* Sections come in this order; each position inside the file. */
	for (i = 0; i < 5; i++) {
		if (pos[i] && (pos[i] < t->header_size || pos[i] >= footer))
			return table_corrupt(t, "section position outside file");
		if (i && pos[i] && pos[i - 1] && pos[i] <= pos[i - 1])
			return table_corrupt(t, "section positions out of order");
	}
	if (pos[1] && (!t->obj_id_len || (size_t)t->obj_id_len > t->hash_size))
		return table_corrupt(t, "bad object id length");
	t->footer_start = footer;

	if (footer > t->header_size) {
		first_type = t->data[t->header_size];
		if (first_type != BLOCK_TYPE_REF && first_type != BLOCK_TYPE_LOG)
			return table_corrupt(t, "bad first block type");
	}
	set_section(&t->refs, BLOCK_TYPE_REF, first_type == BLOCK_TYPE_REF, 0,
		    first_nonzero(pos, 5, footer), pos[0],
		    first_nonzero(pos + 1, 4, footer));
	set_section(&t->objs, BLOCK_TYPE_OBJ, pos[1] != 0, pos[1],
		    first_nonzero(pos + 2, 3, footer), pos[2],
		    first_nonzero(pos + 3, 2, footer));
	set_section(&t->logs, BLOCK_TYPE_LOG,
		    pos[3] != 0 || first_type == BLOCK_TYPE_LOG, pos[3],
		    first_nonzero(pos + 4, 1, footer), pos[4], footer);
	if (first_type == BLOCK_TYPE_LOG && (pos[0] || pos[1] || pos[2] ||
					     pos[3]))
		return table_corrupt(t, "log-only table with other sections");
	return 0;
}

static int table_init(struct reftable_table *t, const char *name)
{
	int err;

	t->refcount = 1;
	pthread_mutex_init(&t->build_lock, NULL);
	t->name = reftable_strdup(name);
	if (!t->name)
		return REFTABLE_NOMEM_ERROR;
	if (t->size < HEADER_SIZE_V1)
		return table_corrupt(t, "too short");
	err = parse_header(t, t->data);
	if (!err)
		err = parse_footer(t);
	if (!err)
		reftable_table_set_lookup_index(t, 1);
	return err;
}

/*
 * A table smaller than this is a few blocks that stay in the cache; the
 * block directory finds its refs as fast as a hash would.
 */
#define INDEX_MIN_REF_BYTES (64u << 10)

void reftable_table_set_lookup_index(struct reftable_table *t, int enable)
{
	uint64_t bytes = t->refs.present ? t->refs.end - t->refs.start : 0;

	/*
	 * Build once the lookups made cost about what building would (the
	 * rule of renting skis). Measured on a 45-byte-per-ref table of a
	 * million refs: building takes 35 ms in memory the process already
	 * holds, 52-62 ms in a fresh one (the index's pages faulted in),
	 * about 1 ns per byte; a lookup without the index 0.5 us while the
	 * table stays in the cache (200,000 refs), 0.9-1.3 us once it does
	 * not (a million). So: one lookup per KiB of refs.
	 */
	if (!enable || bytes < INDEX_MIN_REF_BYTES)
		t->index_after = 0;
	else
		t->index_after = (size_t)(bytes / 1024) + 1;
	atomic_store(&t->ref_lookups, 0); /* count afresh from here */
}

int reftable_table_from_buffer(struct reftable_table **out, const void *data,
			       size_t len, const char *name)
{
	struct reftable_table *t = reftable_calloc(1, sizeof(*t));
	int err;

	if (!t)
		return REFTABLE_NOMEM_ERROR;
	t->data = data;
	t->size = len;
	err = table_init(t, name ? name : "(memory)");
	if (err < 0) {
		reftable_table_decref(t);
		return err;
	}
	*out = t;
	return 0;
}

int table_from_owned(struct reftable_table **out, struct buf *data,
		     const char *name)
{
	size_t len = data->len;
	uint8_t *bytes = (uint8_t *)buf_detach(data);
	int err;

	if (!bytes)
		return REFTABLE_NOMEM_ERROR;
	err = reftable_table_from_buffer(out, bytes, len, name);
	if (err < 0) {
		reftable_free(bytes);
		return err;
	}
	(*out)->owns_data = 1;
	return 0;
}

/*
 * A mapping is only safe where a removed file stays readable: on NFS,
 * SMB or FUSE a page first touched after another host's compaction
 * removed the table faults with SIGBUS, which would kill the embedding
 * program. There every table is read whole at open, where a failure is
 * an error (protocol.md, "Filesystems that share files").
 */
static int may_map(const struct reftable_fs *fs, int fd, off_t size)
{
	return size > (off_t)TABLE_READ_MAX && fs_is_local(fd);
}

static int table_load(struct reftable_table *t, const struct reftable_fs *fs,
		      int fd, const char *path)
{
	struct stat st;
	struct buf data = BUF_INIT;
	int err;

	if (fs->fstat(fs->ctx, fd, &st) < 0)
		return reftable_io_fail("fstat", path);
	if (may_map(fs, fd, st.st_size)) {
		t->size = (size_t)st.st_size;
		t->data = fs->mmap(fs->ctx, fd, t->size);
		if (!t->data)
			return reftable_io_fail("mmap", path);
		t->fs = fs;
		return 0;
	}
	err = fs_read_all(fs, fd, &data, path, st.st_size);
	if (err < 0) {
		buf_release(&data);
		return err;
	}
	t->size = data.len;
	t->data = (const uint8_t *)buf_detach(&data);
	t->owns_data = 1;
	return t->data || !t->size ? 0 : REFTABLE_NOMEM_ERROR;
}

int reftable_table_open_fs(struct reftable_table **out,
			   const struct reftable_fs *fs, const char *path)
{
	const char *base = strrchr(path, '/');
	struct reftable_table *t;
	int fd, err;

	if (!fs)
		fs = reftable_fs_posix();
	else if ((err = fs_check_size(fs)))
		return err;
	fd = fs->open(fs->ctx, path, O_RDONLY, 0);
	if (fd < 0)
		return reftable_io_fail("open", path);
	t = reftable_calloc(1, sizeof(*t));
	if (!t) {
		fs->close(fs->ctx, fd);
		return REFTABLE_NOMEM_ERROR;
	}
	err = table_load(t, fs, fd, path);
	fs->close(fs->ctx, fd);
	if (err < 0) {
		reftable_free(t); /* nothing loaded, nothing to release */
		return err;
	}
	err = table_init(t, base ? base + 1 : path);
	if (err < 0) {
		reftable_table_decref(t);
		return err;
	}
	*out = t;
	return 0;
}

int reftable_table_open(struct reftable_table **out, const char *path)
{
	return reftable_table_open_fs(out, NULL, path);
}

void reftable_table_incref(struct reftable_table *t)
{
	atomic_fetch_add(&t->refcount, 1);
}

static void section_release(struct section *s)
{
	size_t i;

	for (i = 0; s->inflated && i < s->dir_len; i++)
		reftable_free(atomic_load(&s->inflated[i]));
	reftable_free(s->inflated);
	reftable_free(s->dir);
	reftable_free(s->head);
	buf_release(&s->keys);
}

void reftable_table_decref(struct reftable_table *t)
{
	if (!t || atomic_fetch_sub(&t->refcount, 1) != 1)
		return;
	if (t->fs)
		t->fs->munmap(t->fs->ctx, (void *)t->data, t->size);
	else if (t->owns_data)
		reftable_free((void *)t->data);
	name_index_free(atomic_load(&t->name_index));
	section_release(&t->refs);
	section_release(&t->objs);
	section_release(&t->logs);
	pthread_mutex_destroy(&t->build_lock);
	reftable_free(t->name);
	reftable_free(t);
}

const char *reftable_table_name(const struct reftable_table *t)
{
	return t->name;
}
uint64_t reftable_table_min_update_index(const struct reftable_table *t)
{
	return t->min_ui;
}
uint64_t reftable_table_max_update_index(const struct reftable_table *t)
{
	return t->max_ui;
}
enum reftable_hash reftable_table_hash(const struct reftable_table *t)
{
	return t->hash;
}
int reftable_table_version(const struct reftable_table *t)
{
	return t->version;
}
uint32_t reftable_table_block_size(const struct reftable_table *t)
{
	return t->block_size;
}
uint64_t reftable_table_size(const struct reftable_table *t)
{
	return t->size;
}
