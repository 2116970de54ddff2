#ifndef REFTABLE_FS_H
#define REFTABLE_FS_H

#include "reftable-export.h"

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * Every filesystem call the library makes goes through this table, so a
 * test (or an embedding program) can replace any of them, for instance to
 * inject failures, short writes or a crash at a chosen step. Each function
 * behaves like the POSIX call of the same name: -1 (or NULL) and errno on
 * failure. ctx is passed back unchanged.
 *
 * The table grows at its end from one release to the next (the optional
 * members after munmap came later). size says how much of it the caller's
 * program knows: the library reads no member at or beyond size, and takes
 * the members it cannot read as NULL, so a program built against an older
 * header keeps working with a newer library. Start a replacement with
 * REFTABLE_FS_INIT(&fs), which fills the members this header knows with
 * the real calls and sets size to sizeof(fs), then override a few,
 * calling through to reftable_fs_posix(). Do not copy *reftable_fs_posix()
 * by assignment: its size is the library's, which may exceed the
 * caller's struct. A table whose size does not reach munmap is refused
 * with REFTABLE_API_ERROR.
 */
struct reftable_fs {
	size_t size; /* sizeof(struct reftable_fs) as the caller compiled it */
	void *ctx;
	int (*open)(void *ctx, const char *path, int flags, mode_t mode);
	int (*close)(void *ctx, int fd);
	ssize_t (*read)(void *ctx, int fd, void *buf, size_t len);
	ssize_t (*write)(void *ctx, int fd, const void *buf, size_t len);
	int (*fsync)(void *ctx, int fd);
	int (*fstat)(void *ctx, int fd, struct stat *st);
	int (*stat)(void *ctx, const char *path, struct stat *st);
	int (*rename)(void *ctx, const char *from, const char *to);
	int (*unlink)(void *ctx, const char *path);
	int (*mkdir)(void *ctx, const char *path, mode_t mode);
	/* Calls fn for each entry name of dir except "." and ".."; stops and
	 * returns fn's value when it is non-zero. */
	int (*list_dir)(void *ctx, const char *dir,
			int (*fn)(void *arg, const char *name), void *arg);
	/* Read-only private mapping of the first len bytes of fd. */
	void *(*mmap)(void *ctx, int fd, size_t len);
	int (*munmap)(void *ctx, void *addr, size_t len);
	/* Optional (NULL: never called): start writing fd's dirty data out
	 * without waiting, before the fsyncs of several files, so that the
	 * filesystem can write them together. A failure fails the publish
	 * as a failed fsync would (the data may be lost, and the fsync that
	 * follows need not say so); where the file cannot do it, return 0. */
	int (*start_writeback)(void *ctx, int fd);
	/* Optional (NULL: the library does without): link(2). Putting back a
	 * lock that was found not to be the one meant for removal must not
	 * replace a lock created meanwhile, and only link refuses to. */
	int (*link)(void *ctx, const char *from, const char *to);
	/* Optional (NULL, or -1 with errno ENOSYS, EINVAL or ENOTSUP: the
	 * library renames instead): swap the two names atomically, as
	 * Linux's renameat2(RENAME_EXCHANGE). Publishing a list this way
	 * hands back the list it replaced, so a publish that raced with
	 * another (possible only once a lock was removed from outside) is
	 * seen, and undone, instead of silently dropping tables. */
	int (*exchange)(void *ctx, const char *a, const char *b);
};

/* The real filesystem. */
REFTABLE_API
const struct reftable_fs *reftable_fs_posix(void);

/*
 * Fill the first size bytes of *fs (size is sizeof(*fs) in the caller's
 * program) with the real filesystem's members and set fs->size. Members
 * beyond size are left alone. REFTABLE_FS_INIT(&fs) passes the size.
 */
REFTABLE_API
void reftable_fs_init(struct reftable_fs *fs, size_t size);
#define REFTABLE_FS_INIT(fs) reftable_fs_init((fs), sizeof(*(fs)))

#endif
