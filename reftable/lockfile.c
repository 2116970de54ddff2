/* Exclusive-create lock files that carry their owner's evidence and are
 * only ever removed by identity. */

#include "lockfile.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basics.h"
#include "fs.h"
#include "owner.h"

int64_t reftable_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void reftable_sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * Jitter for the backoff, so that waiters started together do not retry
 * in lockstep. Not a secret, so a per-thread xorshift is enough.
 */
static uint32_t backoff_jitter(uint32_t bound)
{
	static _Thread_local uint64_t state;

	if (!state) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		state = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^
			(uint64_t)(uintptr_t)&state;
		state |= 1;
	}
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return bound ? (uint32_t)(state % bound) : 0;
}

static int let_go(const struct reftable_fs *fs, int fd, const char *path,
		  dev_t dev, ino_t ino);

/* Best effort: should the write fail, a lock put back later names us
 * until we exit, as every lock put back did before the mark. */
static void mark_released(const struct reftable_fs *fs, int fd)
{
	if (reftable_write_all(fs, fd, OWNER_RELEASED_MARK,
			       strlen(OWNER_RELEASED_MARK)) == 0)
		fs->fsync(fs->ctx, fd); /* other hosts see it (NFS) */
}

/* The new lock's identity, and our evidence into it. On failure the
 * file is removed again by identity, or, when its identity cannot be
 * had, left marked released for a breaker. */
static int lock_stamp(struct lockfile *lk, const char *path)
{
	const struct reftable_fs *fs = lk->fs;
	const char *evidence = owner_evidence();
	struct stat sb;
	int err;

	if (fs->fstat(fs->ctx, lk->fd, &sb) < 0) {
		/* Without its identity it cannot be removed safely (the
		 * path may name another lock by now): leave it released,
		 * for a breaker. */
		err = reftable_io_fail("fstat", path);
		if (reftable_write_all(fs, lk->fd, evidence,
				       strlen(evidence)) == 0)
			mark_released(fs, lk->fd);
		goto fail;
	}
	if (reftable_write_all(fs, lk->fd, evidence, strlen(evidence)) < 0) {
		err = reftable_io_fail("write lock", path);
		let_go(fs, lk->fd, path, sb.st_dev, sb.st_ino);
		goto fail;
	}
	lk->dev = sb.st_dev;
	lk->ino = sb.st_ino;
	lk->owner = getpid();
	return 0;
fail:
	fs->close(fs->ctx, lk->fd);
	lk->fd = -1;
	return err;
}

void backoff_start(struct backoff *b)
{
	b->start = reftable_now_ms();
	b->delay = 1;
}

int backoff_wait(struct backoff *b, int64_t timeout_ms, int64_t *waited)
{
	int64_t nap;

	*waited = reftable_now_ms() - b->start;
	if (timeout_ms >= 0 && *waited >= timeout_ms)
		return -1;
	/* Between delay and 2*delay, never past the deadline. */
	nap = b->delay + backoff_jitter((uint32_t)b->delay + 1);
	if (timeout_ms >= 0 && nap > timeout_ms - *waited)
		nap = timeout_ms - *waited;
	reftable_sleep_ms(nap);
	if (b->delay < 64)
		b->delay *= 2;
	return 0;
}

int lockfile_acquire(struct lockfile *lk, const struct reftable_fs *fs,
		     const char *path, mode_t mode, int64_t timeout_ms)
{
	struct backoff b;
	int64_t waited;
	int fd, err;

	lk->fs = fs;
	lk->fd = -1;
	lk->path = NULL;
	backoff_start(&b);
	for (;;) {
		fd = fs->open(fs->ctx, path, O_WRONLY | O_CREAT | O_EXCL, mode);
		if (fd >= 0)
			break;
		if (errno != EEXIST)
			return reftable_io_fail("create lock", path);
		if (backoff_wait(&b, timeout_ms, &waited) < 0)
			return reftable_fail(REFTABLE_LOCK_ERROR,
					     "%s: held by another process "
					     "(waited %lld ms); `reftable "
					     "unlock` says whose it is and "
					     "removes it if its owner is gone",
					     path, (long long)waited);
	}
	lk->fd = fd;
	err = lock_stamp(lk, path);
	if (err)
		return err;
	lk->path = reftable_strdup(path);
	if (!lk->path) {
		let_go(fs, lk->fd, path, lk->dev, lk->ino);
		fs->close(fs->ctx, lk->fd);
		lk->fd = -1;
		return REFTABLE_NOMEM_ERROR;
	}
	return 0;
}

int lockfile_is_ours(struct lockfile *lk)
{
	const struct reftable_fs *fs = lk->fs;
	struct stat there;

	if (!lockfile_held(lk) || lk->owner != getpid())
		return 0;
	if (fs->stat(fs->ctx, lk->path, &there) < 0)
		return errno == ENOENT ? 0 : reftable_io_fail("stat", lk->path);
	return there.st_dev == lk->dev && there.st_ino == lk->ino;
}

/*
 * Remove our lock (open as fd) by identity: 1 removed, 0 it was not at
 * its path (maybe removed there by our second look), < 0 an error.
 *
 * Not at its path, it may be held aside by a remover whose pre-stat saw
 * an older lock (removed from outside since, and ours taken), which will
 * put it back; after we let go, it would name us, alive, and nobody would
 * release it. So mark the file itself released, through our descriptor
 * (wherever it is named now): a remover reads the mark after its
 * put-back and removes the lock again (lock_put_back()), and a breaker
 * takes a marked lock for stale, as when that remover died in between.
 * Then look at the path again: a lock put back before the mark is
 * removed there.
 */
static int let_go(const struct reftable_fs *fs, int fd, const char *path,
		  dev_t dev, ino_t ino)
{
	int r = lock_remove_if_same(fs, path, dev, ino), again;

	if (r == 1)
		return 1;
	/* Also after an error: the lock may be anywhere now. */
	mark_released(fs, fd);
	again = lock_remove_if_same(fs, path, dev, ino);
	return r < 0 ? r : again < 0 ? again : 0;
}

int lockfile_release(struct lockfile *lk)
{
	int r = 0;

	if (!lockfile_held(lk))
		return 0;
	/* A forked child shares the descriptor, not the ownership. */
	if (lk->owner == getpid()) {
		/* Gone for a while even if the second look removes it: the
		 * caller must hear that its lock was lost. */
		r = let_go(lk->fs, lk->fd, lk->path, lk->dev, lk->ino);
		if (r == 0)
			r = reftable_fail(REFTABLE_LOCK_ERROR,
					  "%s: our lock was removed by someone "
					  "else while we held it",
					  lk->path);
		else if (r == 1)
			r = 0;
	}
	if (lk->fd >= 0)
		lk->fs->close(lk->fs->ctx, lk->fd);
	lk->fd = -1;
	reftable_free(lk->path);
	lk->path = NULL;
	return r;
}

#define LEFTOVER_SUFFIX ".gone"

int lock_is_removal_leftover(const char *name)
{
	return str_ends_with(name, LEFTOVER_SUFFIX) &&
	       strstr(name, ".lock.") != NULL;
}

/* Whether the file open as fd is a lock its owner released (the mark
 * of let_go()). */
static int released_lock(const struct reftable_fs *fs, int fd)
{
	char data[512];
	ssize_t n = fs->read(fs->ctx, fd, data, sizeof(data));

	return n > 0 && owner_released(data, (size_t)n);
}

void lock_put_back(const struct reftable_fs *fs, const char *aside,
		   const char *path, dev_t dev, ino_t ino)
{
	struct stat sb;
	/* Held open until the end: while we hold it, its inode number
	 * cannot go to a new lock that our removal by identity would take
	 * for it, and its mark reaches us whatever becomes of the names. */
	int fd = fs->open(fs->ctx, aside, O_RDONLY, 0);
	int linked = FS_HAS(fs, link) ? fs->link(fs->ctx, aside, path) : -1;
	int back = linked == 0;

	/* No hard links here (some FUSE and network filesystems): a
	 * checked rename is all that is left. EEXIST: a new lock. */
	if (linked < 0 && !(FS_HAS(fs, link) && errno == EEXIST) &&
	    fs->stat(fs->ctx, path, &sb) < 0 && errno == ENOENT)
		back = fs->rename(fs->ctx, aside, path) == 0;
	/* Read after the put-back: an owner that let go before this read
	 * marked the file before looking at its path once more, and may
	 * have missed it; one that lets go after finds it there. */
	if (back && fd >= 0 && released_lock(fs, fd))
		back = -1;
	fs->unlink(fs->ctx, aside);
	if (back < 0)
		lock_remove_if_same(fs, path, dev, ino);
	if (fd >= 0)
		fs->close(fs->ctx, fd);
}

int lock_remove_if_same(const struct reftable_fs *fs, const char *path,
			dev_t dev, ino_t ino)
{
	static atomic_uint counter;
	struct timespec ts;
	/* On the stack: a release that ran out of memory here would leave
	 * the lock behind, and every writer would wait on it. */
	char aside[PATH_MAX + 64];
	struct stat sb;
	int n;

	/* Not even moved for a moment if it is plainly another file: while
	 * it is aside, a third process could take the lock, and a lock's
	 * owner that renames by path (Git) would then publish the wrong
	 * file. The rename and the check below catch the rest. */
	if (fs->stat(fs->ctx, path, &sb) < 0)
		return errno == ENOENT ? 0 : reftable_io_fail("stat", path);
	if (sb.st_dev != dev || sb.st_ino != ino)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(aside, sizeof(aside), "%s.%ld-%lx-%u" LEFTOVER_SUFFIX,
		     path, (long)getpid(), (unsigned long)ts.tv_nsec,
		     atomic_fetch_add(&counter, 1));
	if (n < 0 || (size_t)n >= sizeof(aside))
		return reftable_fail(REFTABLE_IO_ERROR, "%s: path too long",
				     path);
	/* Renaming is atomic: what we judge next is what we took away. */
	if (fs->rename(fs->ctx, path, aside) < 0)
		return errno == ENOENT ? 0 :
					 reftable_io_fail("move aside", path);
	if (fs->stat(fs->ctx, aside, &sb) < 0) {
		/* A breaker removed it (marked released by our let_go(),
		 * or --force): removed, and the pre-stat said it was ours. */
		return errno == ENOENT ? 1 : reftable_io_fail("stat", aside);
	}
	if (sb.st_dev != dev || sb.st_ino != ino) {
		lock_put_back(fs, aside, path, sb.st_dev, sb.st_ino);
		return 0;
	}
	/* Gone already is fine: the name was ours alone. */
	if (fs->unlink(fs->ctx, aside) < 0 && errno != ENOENT)
		return reftable_io_fail("remove lock", aside);
	return 1;
}
