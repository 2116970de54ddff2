#ifndef TEST_STACK_HELPERS_H
#define TEST_STACK_HELPERS_H

/*
 * Helpers shared by the stack tests (each test file is its own program,
 * so everything here is static inline).
 */

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reftable.h"
#include "testlib.h"

/* --- directories ------------------------------------------------------ */

static inline char *test_path(const char *dir, const char *name)
{
	static char buf[4][4096];
	static int next;
	char *p = buf[next++ % 4];
	int n = snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);

	ck_assert(n > 0 && (size_t)n < sizeof(buf[0]));
	return p;
}

static inline int test_exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

static inline void test_write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(data, f);
	fclose(f);
}

/* The whole file, NUL-terminated; *len without the NUL. */
static inline char *test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t n = 0, cap = 0;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	for (;;) {
		size_t got;
		if (n + 4096 + 1 > cap) {
			cap = (n + 4096 + 1) * 2;
			data = realloc(data, cap);
			ck_assert(data != NULL);
		}
		got = fread(data + n, 1, cap - n - 1, f);
		if (!got)
			break;
		n += got;
	}
	fclose(f);
	if (!data)
		data = calloc(1, 1);
	data[n] = '\0';
	if (len)
		*len = n;
	return data;
}

/* Copy every regular file of src into dst (made writable). */
static inline void test_copy_dir(const char *src, const char *dst)
{
	DIR *d = opendir(src);
	struct dirent *e;

	ck_assert_msg(d != NULL, "%s: %s", src, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		char from[4096], to[4096];
		size_t len;
		char *data;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(from, sizeof(from), "%s/%s", src, e->d_name);
		snprintf(to, sizeof(to), "%s/%s", dst, e->d_name);
		data = test_read_file(from, &len);
		f = fopen(to, "wb");
		ck_assert_msg(f != NULL, "%s: %s", to, strerror(errno));
		ck_assert_uint_eq(fwrite(data, 1, len, f), len);
		fclose(f);
		free(data);
	}
	closedir(d);
}

/* Number of directory entries whose name ends in suffix. */
static inline int test_count_suffix(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t m = strlen(suffix);
	int n = 0;

	ck_assert(d != NULL);
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l >= m && !strcmp(e->d_name + l - m, suffix))
			n++;
	}
	closedir(d);
	return n;
}

/* Lines of tables.list. */
static inline int test_list_lines(const char *dir)
{
	char *data = test_read_file(test_path(dir, "tables.list"), NULL);
	int n = 0;
	char *p;

	for (p = data; *p; p++)
		n += *p == '\n';
	free(data);
	return n;
}

/* --- writing records ---------------------------------------------------- */

/* What one table of a test addition holds. */
struct test_write {
	struct reftable_stack *st;     /* gives the update index ... */
	struct reftable_addition *add; /* ... or this, if set */
	const char *const *refs;       /* sorted names */
	size_t n;
	uint8_t fill;   /* object id bytes */
	int deletion;   /* write deletions instead of values */
	int logs;       /* also a reflog entry per ref */
	uint64_t time;  /* of the log entries */
};

static inline uint64_t test_write_index(const struct test_write *tw)
{
	return tw->add ? reftable_addition_update_index(tw->add) :
			 reftable_stack_next_update_index(tw->st);
}

static inline int test_write_fn(struct reftable_writer *w, void *arg)
{
	const struct test_write *tw = arg;
	uint64_t idx = test_write_index(tw);
	size_t i;
	int err;

	for (i = 0; i < tw->n; i++) {
		struct reftable_ref_record ref = { 0 };

		ref.refname = (char *)tw->refs[i];
		ref.update_index = idx;
		ref.value_type = tw->deletion ? REFTABLE_REF_DELETION :
						REFTABLE_REF_VAL1;
		if (!tw->deletion)
			memset(ref.value, tw->fill, sizeof(ref.value));
		err = reftable_writer_add_ref(w, &ref);
		if (err)
			return err;
	}
	for (i = 0; tw->logs && i < tw->n; i++) {
		struct reftable_log_record log = { 0 };

		log.refname = (char *)tw->refs[i];
		log.update_index = idx;
		log.value_type = REFTABLE_LOG_UPDATE;
		memset(log.new_id, tw->fill, sizeof(log.new_id));
		log.name = (char *)"Stack Tester";
		log.email = (char *)"stack@example.com";
		log.time = tw->time ? tw->time : 1700000000 + idx;
		log.tz_offset = 100;
		log.message = (char *)"test\n";
		err = reftable_writer_add_log(w, &log);
		if (err)
			return err;
	}
	return 0;
}

/* One addition of one table setting (or deleting) one ref. */
static inline int test_add_ref(struct reftable_stack *st, const char *name,
			       uint8_t fill, unsigned flags)
{
	const char *refs[] = { name };
	struct test_write tw = { 0 };

	tw.st = st;
	tw.refs = refs;
	tw.n = 1;
	tw.fill = fill;
	tw.logs = 1;
	return reftable_stack_add(st, test_write_fn, &tw, flags);
}

static inline int test_del_ref(struct reftable_stack *st, const char *name)
{
	const char *refs[] = { name };
	struct test_write tw = { 0 };

	tw.st = st;
	tw.refs = refs;
	tw.n = 1;
	tw.deletion = 1;
	return reftable_stack_add(st, test_write_fn, &tw, 0);
}

/* The first value byte of ref name, or -1 if absent. */
static inline int test_ref_fill(struct reftable_stack *st, const char *name)
{
	struct reftable_ref_record ref = { 0 };
	int r = reftable_stack_read_ref(st, name, &ref), fill = -1;

	ck_assert_msg(r >= 0, "read %s: %s (%s)", name, reftable_error_str(r),
		      reftable_error_detail());
	if (r == 0) {
		ck_assert_int_eq(ref.value_type, REFTABLE_REF_VAL1);
		fill = ref.value[0];
	}
	reftable_ref_record_release(&ref);
	return fill;
}

static inline size_t test_table_count(struct reftable_stack *st)
{
	return reftable_merged_table_count(reftable_stack_merged(st));
}

static inline struct reftable_stack_options test_options(void)
{
	struct reftable_stack_options o;

	reftable_stack_options_init(&o);
	o.create = 1;
	o.disable_fsync = 1;
	return o;
}

#define CHECK_OK(expr)                                                      \
	do {                                                                \
		int check_ok_err_ = (expr);                                 \
		ck_assert_msg(check_ok_err_ == 0, "%s: %d %s (%s)", #expr,  \
			      check_ok_err_,                                \
			      reftable_error_str(check_ok_err_),            \
			      reftable_error_detail());                     \
	} while (0)

/* Nothing half-done left in dir: no temporary table, no lock. */
#define CHECK_NO_LEFTOVERS(dir)                                          \
	do {                                                             \
		ck_assert_int_eq(test_count_suffix(dir, ".tmp"), 0);     \
		ck_assert_int_eq(test_count_suffix(dir, ".lock"), 0);    \
		ck_assert_int_eq(test_count_suffix(dir, ".gone"), 0);    \
	} while (0)

/* --- a big bottom table ------------------------------------------------ */

/*
 * Onto an empty stack: refs/heads/gone (fill 1), then 40 tags with their
 * reflog entries (fill 4), compacted into one table big enough that
 * auto-compaction leaves it alone under a few small additions.
 */
static inline void test_add_big_bottom(struct reftable_stack *st)
{
	const char *many[40];
	char names[40][32];
	struct test_write tw = { 0 };
	int i;

	CHECK_OK(test_add_ref(st, "refs/heads/gone", 1, 0));
	for (i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "refs/tags/t%02d", i);
		many[i] = names[i];
	}
	tw.st = st;
	tw.refs = many;
	tw.n = 40;
	tw.fill = 4;
	tw.logs = 1;
	CHECK_OK(reftable_stack_add(st, test_write_fn, &tw, 0));
	CHECK_OK(reftable_stack_compact_all(st, NULL));
}

/* --- deletions ----------------------------------------------------------- */

/* Deletions (ref and log) in table t. */
static inline int count_deletions(struct reftable_table *t, int *refs, int *logs)
{
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record ref = { 0 };
	struct reftable_log_record log = { 0 };
	int err;

	*refs = *logs = 0;
	CHECK_OK(reftable_table_init_ref_iterator(t, &it));
	CHECK_OK(reftable_iterator_seek_ref(&it, ""));
	while ((err = reftable_iterator_next_ref(&it, &ref)) == 0)
		*refs += ref.value_type == REFTABLE_REF_DELETION;
	ck_assert_int_eq(err, 1);
	reftable_iterator_destroy(&it);
	CHECK_OK(reftable_table_init_log_iterator(t, &it));
	CHECK_OK(reftable_iterator_seek_log(&it, ""));
	while ((err = reftable_iterator_next_log(&it, &log)) == 0)
		*logs += log.value_type == REFTABLE_LOG_DELETION;
	ck_assert_int_eq(err, 1);
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&ref);
	reftable_log_record_release(&log);
	return 0;
}

/* A table deleting ref "refs/heads/gone" and its reflog entry at 1. */
static inline int write_tombstones(struct reftable_writer *w, void *arg)
{
	struct reftable_stack *st = arg;
	uint64_t idx = reftable_stack_next_update_index(st);
	struct reftable_ref_record ref = { 0 };
	struct reftable_log_record log = { 0 };
	int err;

	ref.refname = (char *)"refs/heads/gone";
	ref.update_index = idx;
	ref.value_type = REFTABLE_REF_DELETION;
	err = reftable_writer_add_ref(w, &ref);
	if (err)
		return err;
	log.refname = (char *)"refs/heads/gone";
	log.update_index = 1;
	log.value_type = REFTABLE_LOG_DELETION;
	return reftable_writer_add_log(w, &log);
}

/* --- a filesystem with hooks -------------------------------------------- */

/*
 * Calls through to the real filesystem, counting calls and letting a test
 * run code right before an open or a rename, or make writes fail.
 */
struct hook_fs {
	struct reftable_fs fs; /* what the stack is given; ctx = this */
	const struct reftable_fs *real;
	void (*before_open)(struct hook_fs *h, const char *path, int flags);
	void (*before_rename)(struct hook_fs *h, const char *from,
			      const char *to);
	/* Run after a successful open, before the caller sees the fd. */
	void (*after_open)(struct hook_fs *h, const char *path, int fd);
	void (*before_unlink)(struct hook_fs *h, const char *path);
	void (*before_list_dir)(struct hook_fs *h, const char *dir);
	void (*before_stat)(struct hook_fs *h, const char *path);
	/* Run before a read or a write of a file opened as path. */
	void (*before_read)(struct hook_fs *h, const char *path);
	void (*before_write)(struct hook_fs *h, const char *path);
	/* Fail unlinks of paths containing this with EIO. */
	const char *fail_unlink_substr;
	/* Run after a successful fsync of a file opened as path. */
	void (*after_fsync)(struct hook_fs *h, const char *path);
	/* Run before start_writeback of a file opened as path. */
	void (*before_writeback)(struct hook_fs *h, const char *path);
	/* Fail start_writeback with EIO. */
	int fail_writeback;
	/* Have no atomic swap, as NFS or other systems: publish by rename. */
	int no_exchange;
	/* Serve this file to every open of tables.list, as a cache that
	 * still leads the name to a replaced list (NFS nocto). */
	const char *stale_list;
	/* Fail fsyncs of directories with EIO: those before tables.list is
	 * replaced (the one that makes the tables' renames durable), or
	 * those after (the commit's last). */
	int fail_dir_fsync_before_publish, fail_dir_fsync_after_publish;
	int list_replaced; /* a rename, link or swap onto tables.list */
	/* Fail writes to paths ending in this suffix with ENOSPC. */
	const char *fail_write_suffix;
	int fail_write_errno;
	void *data;
	int fsyncs, opens, lock_busy;
	int table_lock_opens; /* NAME.ref.lock: a compactor's claims */
	int writebacks;       /* start_writeback calls */
	int dir_fsyncs, last_fsync_dir;
	uint64_t tmp_bytes; /* written to *.ref.tmp files (new tables) */
	/* After this many EEXIST on tables.list.lock, remove it (0: never). */
	int unlock_after_busy;
	struct { int fd; char path[512]; } fds[64];
};

static inline struct hook_fs *hook_of(void *ctx)
{
	return ctx;
}

static inline int has_end(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

static inline int hook_open(void *ctx, const char *path, int flags,
			    mode_t mode)
{
	struct hook_fs *h = hook_of(ctx);
	int fd, i;

	h->opens++;
	if (has_end(path, ".ref.lock"))
		h->table_lock_opens++;
	if (h->before_open)
		h->before_open(h, path, flags);
	if (h->stale_list && has_end(path, "/tables.list"))
		path = h->stale_list;
	fd = h->real->open(h->real->ctx, path, flags, mode);
	if (fd < 0 && errno == EEXIST && has_end(path, "tables.list.lock")) {
		h->lock_busy++;
		if (h->unlock_after_busy && h->lock_busy >= h->unlock_after_busy)
			unlink(path); /* the other "process" finishes */
		errno = EEXIST;
	}
	if (fd >= 0 && h->after_open)
		h->after_open(h, path, fd);
	if (fd >= 0)
		for (i = 0; i < 64; i++)
			if (h->fds[i].fd < 0 || !h->fds[i].path[0]) {
				h->fds[i].fd = fd;
				snprintf(h->fds[i].path, sizeof(h->fds[i].path),
					 "%s", path);
				break;
			}
	return fd;
}

static inline int hook_close(void *ctx, int fd)
{
	struct hook_fs *h = hook_of(ctx);
	int i;

	for (i = 0; i < 64; i++)
		if (h->fds[i].path[0] && h->fds[i].fd == fd)
			h->fds[i].path[0] = '\0';
	return h->real->close(h->real->ctx, fd);
}

static inline ssize_t hook_read(void *ctx, int fd, void *buf, size_t len)
{
	struct hook_fs *h = hook_of(ctx);
	int i;

	for (i = 0; h->before_read && i < 64; i++)
		if (h->fds[i].path[0] && h->fds[i].fd == fd)
			h->before_read(h, h->fds[i].path);
	return h->real->read(h->real->ctx, fd, buf, len);
}

static inline ssize_t hook_write(void *ctx, int fd, const void *buf,
				 size_t len)
{
	struct hook_fs *h = hook_of(ctx);
	ssize_t n;
	int i;

	for (i = 0; h->before_write && i < 64; i++)
		if (h->fds[i].path[0] && h->fds[i].fd == fd)
			h->before_write(h, h->fds[i].path);
	if (h->fail_write_suffix)
		for (i = 0; i < 64; i++)
			if (h->fds[i].path[0] && h->fds[i].fd == fd &&
			    has_end(h->fds[i].path, h->fail_write_suffix)) {
				errno = h->fail_write_errno ?
						h->fail_write_errno : ENOSPC;
				return -1;
			}
	n = h->real->write(h->real->ctx, fd, buf, len);
	for (i = 0; n > 0 && i < 64; i++)
		if (h->fds[i].path[0] && h->fds[i].fd == fd &&
		    has_end(h->fds[i].path, ".ref.tmp"))
			h->tmp_bytes += (uint64_t)n;
	return n;
}

static inline int hook_fsync(void *ctx, int fd)
{
	struct hook_fs *h = hook_of(ctx);
	struct stat sb;

	int i, r;

	h->fsyncs++;
	h->last_fsync_dir = !fstat(fd, &sb) && S_ISDIR(sb.st_mode);
	h->dir_fsyncs += h->last_fsync_dir;
	if (h->last_fsync_dir && (h->list_replaced ?
					  h->fail_dir_fsync_after_publish :
					  h->fail_dir_fsync_before_publish)) {
		errno = EIO;
		return -1;
	}
	r = h->real->fsync(h->real->ctx, fd);
	for (i = 0; !r && h->after_fsync && i < 64; i++)
		if (h->fds[i].path[0] && h->fds[i].fd == fd) {
			h->after_fsync(h, h->fds[i].path);
			break;
		}
	return r;
}

static inline int hook_fstat(void *ctx, int fd, struct stat *sb)
{
	struct hook_fs *h = hook_of(ctx);
	return h->real->fstat(h->real->ctx, fd, sb);
}

static inline int hook_stat(void *ctx, const char *path, struct stat *sb)
{
	struct hook_fs *h = hook_of(ctx);
	if (h->before_stat)
		h->before_stat(h, path);
	return h->real->stat(h->real->ctx, path, sb);
}

static inline void hook_note_rename(struct hook_fs *h, const char *from,
				    const char *to)
{
	size_t n = strlen(to);

	if (n >= 12 && !strcmp(to + n - 12, "/tables.list"))
		h->list_replaced = 1;
	if (h->before_rename)
		h->before_rename(h, from, to);
}

static inline int hook_rename(void *ctx, const char *from, const char *to)
{
	struct hook_fs *h = hook_of(ctx);
	hook_note_rename(h, from, to);
	return h->real->rename(h->real->ctx, from, to);
}

static inline int hook_unlink(void *ctx, const char *path)
{
	struct hook_fs *h = hook_of(ctx);
	if (h->before_unlink)
		h->before_unlink(h, path);
	if (h->fail_unlink_substr && strstr(path, h->fail_unlink_substr)) {
		errno = EIO;
		return -1;
	}
	return h->real->unlink(h->real->ctx, path);
}

/* A link or a swap can publish a list, as a rename does: the same hook. */
static inline int hook_link(void *ctx, const char *from, const char *to)
{
	struct hook_fs *h = hook_of(ctx);
	hook_note_rename(h, from, to);
	return h->real->link(h->real->ctx, from, to);
}

static inline int hook_exchange(void *ctx, const char *a, const char *b)
{
	struct hook_fs *h = hook_of(ctx);
	hook_note_rename(h, a, b);
	if (h->no_exchange || !h->real->exchange) {
		errno = ENOSYS;
		return -1;
	}
	return h->real->exchange(h->real->ctx, a, b);
}

static inline int hook_mkdir(void *ctx, const char *path, mode_t mode)
{
	struct hook_fs *h = hook_of(ctx);
	return h->real->mkdir(h->real->ctx, path, mode);
}

static inline int hook_list_dir(void *ctx, const char *dir,
				int (*fn)(void *arg, const char *name),
				void *arg)
{
	struct hook_fs *h = hook_of(ctx);
	if (h->before_list_dir)
		h->before_list_dir(h, dir);
	return h->real->list_dir(h->real->ctx, dir, fn, arg);
}

static inline void *hook_mmap(void *ctx, int fd, size_t len)
{
	struct hook_fs *h = hook_of(ctx);
	return h->real->mmap(h->real->ctx, fd, len);
}

static inline int hook_munmap(void *ctx, void *addr, size_t len)
{
	struct hook_fs *h = hook_of(ctx);
	return h->real->munmap(h->real->ctx, addr, len);
}

static inline int hook_start_writeback(void *ctx, int fd)
{
	struct hook_fs *h = hook_of(ctx);
	int i;

	h->writebacks++;
	for (i = 0; h->before_writeback && i < 64; i++)
		if (h->fds[i].path[0] && h->fds[i].fd == fd) {
			h->before_writeback(h, h->fds[i].path);
			break;
		}
	if (h->fail_writeback) {
		errno = EIO;
		return -1;
	}
	return h->real->start_writeback ?
		       h->real->start_writeback(h->real->ctx, fd) :
		       0;
}

static inline void hook_fs_init(struct hook_fs *h)
{
	int i;

	memset(h, 0, sizeof(*h));
	h->real = reftable_fs_posix();
	REFTABLE_FS_INIT(&h->fs);
	h->fs.ctx = h;
	h->fs.open = hook_open;
	h->fs.close = hook_close;
	h->fs.read = hook_read;
	h->fs.write = hook_write;
	h->fs.fsync = hook_fsync;
	h->fs.fstat = hook_fstat;
	h->fs.stat = hook_stat;
	h->fs.rename = hook_rename;
	h->fs.unlink = hook_unlink;
	h->fs.mkdir = hook_mkdir;
	h->fs.list_dir = hook_list_dir;
	h->fs.mmap = hook_mmap;
	h->fs.munmap = hook_munmap;
	h->fs.start_writeback = hook_start_writeback;
	h->fs.link = hook_link;
	h->fs.exchange = hook_exchange;
	for (i = 0; i < 64; i++)
		h->fds[i].fd = -1;
}

#endif
