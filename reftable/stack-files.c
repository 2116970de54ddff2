/* The stack's files: table names, tables.list reading, fsync, renames. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "closer.h"
#include "fs.h"
#include "owner.h"
#include "stack-internal.h"

void names_free(char **names, size_t len)
{
	size_t i;

	if (!names)
		return;
	for (i = 0; i < len; i++)
		reftable_free(names[i]);
	reftable_free(names);
}

int names_equal(char *const *a, size_t alen, char *const *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return 0;
	for (i = 0; i < alen; i++)
		if (strcmp(a[i], b[i]))
			return 0;
	return 1;
}

int names_contain(char *const *names, size_t len, const char *name)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!strcmp(names[i], name))
			return 1;
	return 0;
}

/* A listed name must stay inside the directory: no paths, no dot files. */
static int name_is_plain(const char *s, size_t len)
{
	if (!len || s[0] == '.')
		return 0;
	return !memchr(s, '/', len) && !memchr(s, '\\', len) &&
	       !memchr(s, '\0', len);
}

/* One of our locks renamed over tables.list: only a writer that renames
 * its lock by path (Git does) after its lock was removed and ours taken
 * can do that. Say so, rather than "not a table name". */
static int is_lock_evidence(const char *s, size_t len)
{
	size_t n = strlen(OWNER_EVIDENCE_TAG);

	return len >= n && !memcmp(s, OWNER_EVIDENCE_TAG, n);
}

/*
 * Lines end at '\n' only, as Git splits them. A name ending in '\r' is
 * refused rather than trimmed: trimmed, it would name another file, and
 * the next rewrite of the list would rename the table; kept, a list with
 * CRLF line endings would name files that are not there.
 */
int names_parse(char ***out, size_t *outlen, const char *data, size_t len,
		const char *path)
{
	char **names = NULL;
	size_t n = 0, cap = 0, pos = 0, lineno = 0;

	while (pos < len) {
		const char *line = data + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - line) : len - pos;

		pos += llen + (nl ? 1 : 0);
		lineno++;
		if (!llen)
			continue;
		if (line[llen - 1] == '\r') {
			names_free(names, n);
			return reftable_fail(REFTABLE_FORMAT_ERROR,
					     "%s: line %zu ends in a carriage "
					     "return (CRLF line endings?)",
					     path, lineno);
		}
		if (is_lock_evidence(line, llen)) {
			names_free(names, n);
			return reftable_fail(REFTABLE_FORMAT_ERROR,
					     "%s: line %zu is the owner line of "
					     "a lock, not a table name: a lock "
					     "was renamed over the list (was a "
					     "lock Git held removed by force?); "
					     "the tables are still there",
					     path, lineno);
		}
		if (!name_is_plain(line, llen)) {
			names_free(names, n);
			return reftable_fail(REFTABLE_FORMAT_ERROR,
					     "%s: line %zu is not a table name",
					     path, lineno);
		}
		if (REFTABLE_GROW(names, cap, n + 1) < 0)
			goto nomem;
		names[n] = reftable_malloc(llen + 1);
		if (!names[n])
			goto nomem;
		memcpy(names[n], line, llen);
		names[n][llen] = '\0';
		n++;
	}
	*out = names;
	*outlen = n;
	return 0;
nomem:
	names_free(names, n);
	return REFTABLE_NOMEM_ERROR;
}

int reftable_tables_list_parse(const char *data, size_t len, const char *path,
			       char ***names, size_t *n)
{
	return names_parse(names, n, data, len, path);
}

void reftable_tables_list_free(char **names, size_t n)
{
	names_free(names, n);
}

int names_format(struct buf *out, char *const *names, size_t len)
{
	size_t i;

	buf_reset(out);
	for (i = 0; i < len; i++)
		if (buf_addstr(out, names[i]) < 0 || buf_addch(out, '\n') < 0)
			return REFTABLE_NOMEM_ERROR;
	return 0;
}

int stack_path(struct buf *out, const struct reftable_stack *st,
	       const char *name)
{
	buf_reset(out);
	if (buf_addstr(out, st->dir) < 0 || buf_addch(out, '/') < 0 ||
	    buf_addstr(out, name) < 0)
		return REFTABLE_NOMEM_ERROR;
	return 0;
}

int list_read_path(struct reftable_stack *st, const char *path,
		   struct list_snapshot *snap)
{
	const struct reftable_fs *fs = st->fs;
	struct buf data = BUF_INIT;
	struct stat sb;
	int err;

	memset(snap, 0, sizeof(*snap));
	snap->fd = fs->open(fs->ctx, path, O_RDONLY, 0);
	if (snap->fd < 0) {
		if (errno == ENOENT)
			return 0; /* no tables.list yet: an empty stack */
		snap->fd = -1;
		return reftable_io_fail("open", path);
	}
	/* Identity of the very file we read, not of whatever the path
	 * names a moment later. */
	if (fs->fstat(fs->ctx, snap->fd, &sb) < 0) {
		err = reftable_io_fail("fstat", path);
		goto fail;
	}
	snap->ident.exists = 1;
	snap->ident.dev = sb.st_dev;
	snap->ident.ino = sb.st_ino;
	snap->ident.size = sb.st_size;
	err = fs_read_all(fs, snap->fd, &data, path, sb.st_size);
	if (err)
		goto fail;
	err = names_parse(&snap->names, &snap->len, (const char *)data.data,
			  data.len, path);
	if (err)
		goto fail;
	buf_release(&data);
	if (!LIST_FD_KEPT) {
		fs->close(fs->ctx, snap->fd);
		snap->fd = -1;
	}
	return 0;
fail:
	buf_release(&data);
	list_snapshot_release(st, snap);
	return err;
}

int list_read(struct reftable_stack *st, struct list_snapshot *snap)
{
	return list_read_path(st, st->list_path, snap);
}

void list_snapshot_release(struct reftable_stack *st,
			   struct list_snapshot *snap)
{
	if (snap->fd >= 0)
		st->fs->close(st->fs->ctx, snap->fd);
	snap->fd = -1;
	names_free(snap->names, snap->len);
	snap->names = NULL;
	snap->len = 0;
}

int list_read_names(struct reftable_stack *st, char ***names, size_t *len)
{
	struct list_snapshot snap;
	int err = list_read(st, &snap);

	if (err)
		return err;
	*names = snap.names;
	*len = snap.len;
	snap.names = NULL;
	snap.len = 0;
	list_snapshot_release(st, &snap);
	return 0;
}

int stack_fsync_fd(struct reftable_stack *st, int fd, const char *path)
{
	if (st->opts.disable_fsync)
		return 0;
	if (st->fs->fsync(st->fs->ctx, fd) < 0)
		return reftable_io_fail("fsync", path);
	return 0;
}

int stack_fsync_dir(struct reftable_stack *st)
{
	const struct reftable_fs *fs = st->fs;
	int fd, err;

	if (st->opts.disable_fsync) {
		st->dir_sync_pending = 0;
		return 0;
	}
	fd = fs->open(fs->ctx, st->dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return reftable_io_fail("open directory", st->dir);
	err = stack_fsync_fd(st, fd, st->dir);
	fs->close(fs->ctx, fd);
	if (!err)
		st->dir_sync_pending = 0;
	return err;
}

uint32_t stack_random(struct reftable_stack *st)
{
	/* xorshift64*; the suffix only has to make names unlikely to
	 * collide, and stack_rename_table checks anyway. */
	uint64_t x = st->rand_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	st->rand_state = x;
	return (uint32_t)((x * UINT64_C(2685821657736338717)) >> 32);
}

void table_name_format(char *buf, size_t cap, uint64_t min, uint64_t max,
		       uint32_t rnd)
{
	snprintf(buf, cap, "0x%012" PRIx64 "-0x%012" PRIx64 "-%08" PRIx32 ".ref",
		 min, max, rnd);
}

static int parse_hex(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	int digits = 0;

	if (s[0] != '0' || s[1] != 'x')
		return -1;
	s += 2;
	for (;; s++, digits++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else
			break;
		if (digits == 16)
			return -1;
		x = x << 4 | (uint64_t)d;
	}
	if (!digits)
		return -1;
	*v = x;
	*p = s;
	return 0;
}

int table_name_parse(const char *name, uint64_t *min, uint64_t *max)
{
	const char *p = name;

	if (parse_hex(&p, min) < 0 || *p++ != '-' || parse_hex(&p, max) < 0)
		return -1;
	/* Either ".ref" or "-{random}.ref". */
	if (*p == '-') {
		p++;
		while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
			p++;
	}
	return strcmp(p, ".ref") ? -1 : 0;
}

int stack_rename_table(struct reftable_stack *st, const char *tmp,
		       uint64_t min, uint64_t max, char **name_out)
{
	const struct reftable_fs *fs = st->fs;
	struct buf path = BUF_INIT;
	char name[80];
	struct stat sb;
	int err, tries;

	for (tries = 0; tries < 100; tries++) {
		table_name_format(name, sizeof(name), min, max,
				  stack_random(st));
		err = stack_path(&path, st, name);
		if (err)
			goto done;
		if (fs->stat(fs->ctx, (const char *)path.data, &sb) < 0 &&
		    errno == ENOENT)
			break;
	}
	if (tries == 100) {
		err = reftable_fail(REFTABLE_IO_ERROR,
				    "%s: no free table name", st->dir);
		goto done;
	}
	if (fs->rename(fs->ctx, tmp, (const char *)path.data) < 0) {
		err = reftable_io_fail("rename to final name", tmp);
		goto done;
	}
	st->dir_sync_pending = 1; /* before any list may name it */
	*name_out = reftable_strdup(name);
	if (!*name_out) {
		/* Renamed but unnamed here: remove it, it is not listed. */
		fs->unlink(fs->ctx, (const char *)path.data);
		err = REFTABLE_NOMEM_ERROR;
	}
done:
	buf_release(&path);
	return err;
}

ssize_t fd_sink_write(void *arg, const void *buf, size_t len)
{
	struct fd_sink *s = arg;

	if (s->head_len < sizeof(s->head)) {
		size_t n = sizeof(s->head) - s->head_len;
		if (n > len)
			n = len;
		memcpy(s->head + s->head_len, buf, n);
		s->head_len += n;
	}
	if (reftable_write_all(s->fs, s->fd, buf, len) < 0) {
		s->failed_errno = errno;
		return -1;
	}
	s->bytes += len;
	return (ssize_t)len;
}

int header_limits(const uint8_t *head, size_t len, uint64_t *min,
		  uint64_t *max)
{
	/* "REFT", version, block size (3 bytes), min, max. */
	if (len < 24 || memcmp(head, "REFT", 4))
		return -1;
	*min = get_be64(head + 8);
	*max = get_be64(head + 16);
	return 0;
}

int fd_sink_fail(const struct fd_sink *s, const char *path)
{
	errno = s->failed_errno;
	return reftable_io_fail("write", path);
}

int fd_sink_limits(const struct fd_sink *s, uint64_t *min, uint64_t *max)
{
	return header_limits(s->head, s->head_len, min, max);
}

void stack_remove_unlisted(struct reftable_stack *st, const char *path)
{
	if (st->opts.close_in_background)
		closer_submit_unlink(st->fs, path);
	else
		st->fs->unlink(st->fs->ctx, path);
}

int stack_create_temp(struct reftable_stack *st, uint64_t min, uint64_t max,
		      struct buf *path, int *fd)
{
	const struct reftable_fs *fs = st->fs;
	char name[96];
	int tries, err;

	for (tries = 0; tries < 100; tries++) {
		table_name_format(name, sizeof(name) - 8, min, max,
				  stack_random(st));
		strcat(name, ".tmp");
		err = stack_path(path, st, name);
		if (err)
			return err;
		*fd = fs->open(fs->ctx, (const char *)path->data,
			       O_WRONLY | O_CREAT | O_EXCL, st->opts.file_mode);
		if (*fd >= 0)
			return 0;
		if (errno != EEXIST)
			return reftable_io_fail("create",
						(const char *)path->data);
	}
	*fd = -1;
	return reftable_fail(REFTABLE_IO_ERROR, "%s: no free temporary name",
			     st->dir);
}
