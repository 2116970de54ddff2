/* The real filesystem behind struct reftable_fs. */

#include "fs.h"

#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#ifdef _WIN32
/* The Win32 calls (reftable/fs-win32.c) stand in for the POSIX ones. */
#define posix_fs fs_platform
#else
#include <dirent.h>
#include <sys/mman.h>
#include <unistd.h>

static int posix_open(void *ctx, const char *path, int flags, mode_t mode)
{
	int fd;
	do
		fd = open(path, flags | O_CLOEXEC, mode);
	while (fd < 0 && errno == EINTR);
	return fd;
}

static int posix_close(void *ctx, int fd)
{
	return close(fd);
}

static ssize_t posix_read(void *ctx, int fd, void *buf, size_t len)
{
	ssize_t n;
	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

static ssize_t posix_write(void *ctx, int fd, const void *buf, size_t len)
{
	ssize_t n;
	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

static int posix_fsync(void *ctx, int fd)
{
	int r;
	do
		r = fsync(fd);
	while (r < 0 && errno == EINTR);
	return r;
}

#ifdef SYNC_FILE_RANGE_WRITE
static int posix_start_writeback(void *ctx, int fd)
{
	if (sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) == 0)
		return 0;
	/* Not for this kind of file or kernel: only the fsync is left. */
	if (errno == ENOSYS || errno == EINVAL || errno == ESPIPE ||
	    errno == EOPNOTSUPP)
		return 0;
	return -1;
}
#else
#define posix_start_writeback NULL
#endif

static int posix_fstat(void *ctx, int fd, struct stat *st)
{
	return fstat(fd, st);
}

static int posix_stat(void *ctx, const char *path, struct stat *st)
{
	return stat(path, st);
}

static int posix_rename(void *ctx, const char *from, const char *to)
{
	return rename(from, to);
}

static int posix_unlink(void *ctx, const char *path)
{
	return unlink(path);
}

static int posix_link(void *ctx, const char *from, const char *to)
{
	return link(from, to);
}

static int posix_exchange(void *ctx, const char *a, const char *b)
{
#ifdef RENAME_EXCHANGE
	return renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
#else
	errno = ENOSYS;
	return -1;
#endif
}

static int posix_mkdir(void *ctx, const char *path, mode_t mode)
{
	return mkdir(path, mode);
}

static int posix_list_dir(void *ctx, const char *dir,
			  int (*fn)(void *arg, const char *name), void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int ret = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		ret = fn(arg, e->d_name);
		if (ret)
			break;
	}
	closedir(d);
	return ret;
}

static void *posix_mmap(void *ctx, int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

static int posix_munmap(void *ctx, void *addr, size_t len)
{
	return munmap(addr, len);
}

static const struct reftable_fs posix_fs = {
	.size = sizeof(struct reftable_fs),
	.ctx = NULL,
	.open = posix_open,
	.close = posix_close,
	.read = posix_read,
	.write = posix_write,
	.fsync = posix_fsync,
	.fstat = posix_fstat,
	.stat = posix_stat,
	.rename = posix_rename,
	.unlink = posix_unlink,
	.mkdir = posix_mkdir,
	.list_dir = posix_list_dir,
	.mmap = posix_mmap,
	.munmap = posix_munmap,
	.start_writeback = posix_start_writeback,
	.link = posix_link,
	.exchange = posix_exchange,
};
#endif /* !_WIN32 */

const struct reftable_fs *reftable_fs_posix(void)
{
	return &posix_fs;
}

void reftable_fs_init(struct reftable_fs *fs, size_t size)
{
	/* A newer caller's members beyond ours stay as it left them. */
	size_t known = size < sizeof(posix_fs) ? size : sizeof(posix_fs);

	memcpy(fs, &posix_fs, known);
	if (size >= offsetof(struct reftable_fs, size) + sizeof(fs->size))
		fs->size = size;
}

int fs_check_size(const struct reftable_fs *fs)
{
	size_t need = offsetof(struct reftable_fs, munmap) +
		      sizeof(fs->munmap);

	if (fs->size < need)
		return reftable_fail(REFTABLE_API_ERROR,
				     "struct reftable_fs: size %zu, at least "
				     "%zu needed (set it with REFTABLE_FS_INIT)",
				     fs->size, need);
	return 0;
}

int fs_read_all(const struct reftable_fs *fs, int fd, struct buf *out,
		const char *path, off_t size)
{
	buf_reset(out);
	if (size >= 0 && buf_grow(out, (size_t)size) < 0)
		return REFTABLE_NOMEM_ERROR;
	/* Our files never change once renamed into place: the size fstat
	 * gave is the end, with no read left to find it. */
	while (size < 0 || out->len < (size_t)size) {
		ssize_t n;

		if (buf_grow(out, 4096) < 0)
			return REFTABLE_NOMEM_ERROR;
		n = fs->read(fs->ctx, fd, out->data + out->len,
			     out->cap - out->len - 1);
		if (n < 0)
			return reftable_io_fail("read", path);
		if (n == 0)
			break;
		out->len += (size_t)n;
	}
	out->data[out->len] = '\0';
	return 0;
}

int reftable_write_all(const struct reftable_fs *fs, int fd, const void *buf,
		       size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = fs->write(fs->ctx, fd, p, len);
		if (n < 0)
			return -1;
		if (n == 0) {
			/* No progress and no error: treat as a full disk. */
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * ESTALE is NFS's (and FUSE's) word for a file another host removed or
 * replaced after we opened it: it no longer exists, so callers treat it
 * as ENOENT (a reload reads the list again), and the detail says which.
 */
int reftable_io_fail(const char *what, const char *path)
{
	int e = errno;

	if (e == ESTALE)
		return reftable_fail(REFTABLE_NOT_EXIST_ERROR,
				     "%s %s: %s (removed or replaced by "
				     "another host; reload)", what, path,
				     strerror(e));
	return reftable_fail(e == ENOENT ? REFTABLE_NOT_EXIST_ERROR :
					   REFTABLE_IO_ERROR,
			     "%s %s: %s", what, path, strerror(e));
}
