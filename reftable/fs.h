#ifndef FS_H
#define FS_H

/* Internal helpers over struct reftable_fs. */

#include <stddef.h>

#include "basics.h"
#include "reftable-fs.h"

/* Whether the optional member m of fs is there and set. A caller built
 * against an older header gave a shorter table: never read past its size
 * (reftable-fs.h). */
#define FS_HAS(fs, m) \
	((fs)->size >= offsetof(struct reftable_fs, m) + sizeof((fs)->m) && \
	 (fs)->m)

#ifdef _WIN32
/* The real filesystem of this platform (fs-win32.c). */
extern const struct reftable_fs fs_platform;
#endif

/* 0 if fs holds at least the members every table has (through munmap),
 * else REFTABLE_API_ERROR with a detail. */
int fs_check_size(const struct reftable_fs *fs);

/* Write all of buf to fd; 0, or -1 with errno set. */
int reftable_write_all(const struct reftable_fs *fs, int fd, const void *buf,
		       size_t len);

/* A failed system call on path, as REFTABLE_IO_ERROR (or NOT_EXIST for
 * ENOENT and ESTALE) with "what path: strerror" as the detail. Reads
 * errno. */
int reftable_io_fail(const char *what, const char *path);

/* Read fd into out (NUL-terminated): size bytes if size >= 0 (what
 * fstat said), else to its end. The error names path. */
int fs_read_all(const struct reftable_fs *fs, int fd, struct buf *out,
		const char *path, off_t size);

#endif
