/*
 * A struct reftable_fs over the real one that counts the calls of an
 * operation and fails the chosen one (or every one from it on), and
 * tells an observer what each call did.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"

static const char *const kind_names[CALL_KINDS] = {
	"open", "close", "read", "write", "fsync", "fstat", "stat", "rename",
	"unlink", "mkdir", "list_dir", "mmap", "munmap", "writeback", "link",
};

const char *call_kind_name(enum call_kind kind)
{
	return kind_names[kind];
}

const char *fault_err_name(int err)
{
	switch (err) {
	case FAULT_SHORT_WRITE: return "short-write";
	case ENOSPC: return "ENOSPC";
	case EIO: return "EIO";
	case EACCES: return "EACCES";
	case EINTR: return "EINTR";
	case ENOMEM: return "ENOMEM";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	default: return "errno";
	}
}

/*
 * What each call returns in the field. The real layer retries EINTR for
 * open, read, write and fsync, so only close, which releases the
 * descriptor whatever it returns, passes it on.
 */
const int *fault_errnos(enum call_kind kind, size_t *n)
{
	static const int open_e[] = { ENOSPC, EACCES, EIO };
	static const int close_e[] = { EIO, EINTR };
	static const int write_e[] = { ENOSPC, EIO, FAULT_SHORT_WRITE };
	static const int fsync_e[] = { EIO, ENOSPC };
	static const int stat_e[] = { EIO, EACCES };
	static const int rename_e[] = { EIO, ENOSPC, EACCES };
	static const int unlink_e[] = { EIO, EACCES };
	static const int mmap_e[] = { ENOMEM };
	static const int munmap_e[] = { EINVAL };
	static const int link_e[] = { EPERM, EIO };
	static const int eio[] = { EIO };
	const int *v = eio;
	size_t len = 1;

#define PICK(a) (v = (a), len = sizeof(a) / sizeof((a)[0]))
	switch (kind) {
	case CALL_OPEN: case CALL_MKDIR: PICK(open_e); break;
	case CALL_CLOSE: PICK(close_e); break;
	case CALL_WRITE: PICK(write_e); break;
	case CALL_FSYNC: PICK(fsync_e); break;
	case CALL_STAT: case CALL_LIST_DIR: PICK(stat_e); break;
	case CALL_RENAME: PICK(rename_e); break;
	case CALL_UNLINK: PICK(unlink_e); break;
	case CALL_MMAP: PICK(mmap_e); break;
	case CALL_MUNMAP: PICK(munmap_e); break;
	case CALL_LINK: PICK(link_e); break;
	default: break;
	}
#undef PICK
	*n = len;
	return v;
}

static struct faultfs *ff_of(void *ctx)
{
	return ctx;
}

/* Count the call; 1 if it is to fail (errno set, unless a short write). */
static int inject(struct faultfs *f, enum call_kind kind)
{
	if (!f->armed)
		return 0;
	f->calls++;
	if (f->obs && f->obs->before)
		f->obs->before(f, kind);
	if (!f->fail_at || f->calls < f->fail_at ||
	    (!f->from_k && f->calls != f->fail_at))
		return 0;
	if (f->err == FAULT_SHORT_WRITE && kind != CALL_WRITE)
		return 0;
	if (!f->failed) {
		f->failed = 1;
		f->failed_kind = kind;
	}
	if (f->err != FAULT_SHORT_WRITE)
		errno = f->err;
	return 1;
}

#define OBS(f, m, ...)                                  \
	do {                                            \
		if ((f)->obs && (f)->obs->m)            \
			(f)->obs->m((f), __VA_ARGS__);  \
	} while (0)

static int ff_open(void *ctx, const char *path, int flags, mode_t mode)
{
	struct faultfs *f = ff_of(ctx);
	int fd;

	if (inject(f, CALL_OPEN))
		return -1;
	fd = f->real->open(f->real->ctx, path, flags, mode);
	if (fd >= 0)
		OBS(f, opened, path, flags, fd);
	return fd;
}

static int ff_close(void *ctx, int fd)
{
	struct faultfs *f = ff_of(ctx);
	int fail = inject(f, CALL_CLOSE), e = errno;

	/* Like Linux: the descriptor is gone whatever close says. */
	f->real->close(f->real->ctx, fd);
	OBS(f, closed, fd);
	if (fail) {
		errno = e;
		return -1;
	}
	return 0;
}

static ssize_t ff_read(void *ctx, int fd, void *buf, size_t len)
{
	struct faultfs *f = ff_of(ctx);

	if (inject(f, CALL_READ))
		return -1;
	return f->real->read(f->real->ctx, fd, buf, len);
}

static ssize_t ff_write(void *ctx, int fd, const void *buf, size_t len)
{
	struct faultfs *f = ff_of(ctx);
	ssize_t n;

	if (inject(f, CALL_WRITE)) {
		if (f->err != FAULT_SHORT_WRITE)
			return -1;
		if (len > 1)
			len /= 2;
	}
	n = f->real->write(f->real->ctx, fd, buf, len);
	if (n > 0)
		OBS(f, wrote, fd, buf, (size_t)n);
	return n;
}

static int ff_fsync(void *ctx, int fd)
{
	struct faultfs *f = ff_of(ctx);
	int r;

	if (inject(f, CALL_FSYNC))
		return -1;
	r = f->real->fsync(f->real->ctx, fd);
	if (!r)
		OBS(f, synced, fd);
	return r;
}

static int ff_fstat(void *ctx, int fd, struct stat *st)
{
	struct faultfs *f = ff_of(ctx);

	if (inject(f, CALL_FSTAT))
		return -1;
	return f->real->fstat(f->real->ctx, fd, st);
}

static int ff_stat(void *ctx, const char *path, struct stat *st)
{
	struct faultfs *f = ff_of(ctx);

	if (inject(f, CALL_STAT))
		return -1;
	return f->real->stat(f->real->ctx, path, st);
}

static int ff_rename(void *ctx, const char *from, const char *to)
{
	struct faultfs *f = ff_of(ctx);
	int r;

	if (inject(f, CALL_RENAME))
		return -1;
	r = f->real->rename(f->real->ctx, from, to);
	if (!r)
		OBS(f, renamed, from, to);
	return r;
}

static int ff_unlink(void *ctx, const char *path)
{
	struct faultfs *f = ff_of(ctx);
	int r;

	if (inject(f, CALL_UNLINK))
		return -1;
	r = f->real->unlink(f->real->ctx, path);
	if (!r)
		OBS(f, unlinked, path);
	return r;
}

static int ff_mkdir(void *ctx, const char *path, mode_t mode)
{
	struct faultfs *f = ff_of(ctx);

	if (inject(f, CALL_MKDIR))
		return -1;
	return f->real->mkdir(f->real->ctx, path, mode);
}

static int ff_list_dir(void *ctx, const char *dir,
		       int (*fn)(void *arg, const char *name), void *arg)
{
	struct faultfs *f = ff_of(ctx);

	if (inject(f, CALL_LIST_DIR))
		return -1;
	return f->real->list_dir(f->real->ctx, dir, fn, arg);
}

static void *ff_mmap(void *ctx, int fd, size_t len)
{
	struct faultfs *f = ff_of(ctx);

	if (inject(f, CALL_MMAP))
		return NULL;
	return f->real->mmap(f->real->ctx, fd, len);
}

static int ff_munmap(void *ctx, void *addr, size_t len)
{
	struct faultfs *f = ff_of(ctx);
	int fail = inject(f, CALL_MUNMAP), e = errno;

	/* Always unmapped: a failure here must not leak the test. */
	f->real->munmap(f->real->ctx, addr, len);
	if (fail) {
		errno = e;
		return -1;
	}
	return 0;
}

static int ff_writeback(void *ctx, int fd)
{
	struct faultfs *f = ff_of(ctx);

	if (inject(f, CALL_WRITEBACK))
		return -1;
	return f->real->start_writeback ?
		       f->real->start_writeback(f->real->ctx, fd) : 0;
}

static int ff_link(void *ctx, const char *from, const char *to)
{
	struct faultfs *f = ff_of(ctx);
	int r;

	if (inject(f, CALL_LINK))
		return -1;
	r = f->real->link(f->real->ctx, from, to);
	if (!r)
		OBS(f, linked, from, to);
	return r;
}

void faultfs_init(struct faultfs *f)
{
	memset(f, 0, sizeof(*f));
	f->real = reftable_fs_posix();
	f->fs.size = sizeof(f->fs); /* exchange stays NULL: renames */
	f->fs.ctx = f;
	f->fs.open = ff_open;
	f->fs.close = ff_close;
	f->fs.read = ff_read;
	f->fs.write = ff_write;
	f->fs.fsync = ff_fsync;
	f->fs.fstat = ff_fstat;
	f->fs.stat = ff_stat;
	f->fs.rename = ff_rename;
	f->fs.unlink = ff_unlink;
	f->fs.mkdir = ff_mkdir;
	f->fs.list_dir = ff_list_dir;
	f->fs.mmap = ff_mmap;
	f->fs.munmap = ff_munmap;
	f->fs.start_writeback = ff_writeback;
	f->fs.link = ff_link;
}
