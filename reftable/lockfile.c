/* Exclusive-create lock files, and small I/O helpers of the stack. */

#include "lockfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basics.h"

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

int lockfile_acquire(struct lockfile *lk, const struct reftable_fs *fs,
		     const char *path, mode_t mode, int64_t timeout_ms)
{
	int64_t start = reftable_now_ms(), delay = 1, waited;
	int fd;

	lk->fs = fs;
	lk->fd = -1;
	lk->path = NULL;
	for (;;) {
		fd = fs->open(fs->ctx, path, O_WRONLY | O_CREAT | O_EXCL, mode);
		if (fd >= 0)
			break;
		if (errno != EEXIST)
			return reftable_io_fail("create lock", path);
		waited = reftable_now_ms() - start;
		if (timeout_ms >= 0 && waited >= timeout_ms)
			return reftable_fail(REFTABLE_LOCK_ERROR,
					     "%s: held by another process "
					     "(waited %lld ms); if no process "
					     "is using the stack it is stale, "
					     "see Documentation/protocol.md",
					     path, (long long)waited);
		/* Sleep between delay and 2*delay, never past the deadline. */
		{
			int64_t nap = delay + backoff_jitter((uint32_t)delay + 1);
			if (timeout_ms >= 0 && nap > timeout_ms - waited)
				nap = timeout_ms - waited;
			reftable_sleep_ms(nap);
		}
		if (delay < 64)
			delay *= 2;
	}
	lk->path = reftable_strdup(path);
	if (!lk->path) {
		fs->close(fs->ctx, fd);
		fs->unlink(fs->ctx, path);
		return REFTABLE_NOMEM_ERROR;
	}
	lk->fd = fd;
	return 0;
}

int lockfile_write(struct lockfile *lk, const void *buf, size_t len)
{
	if (!lockfile_held(lk))
		return reftable_fail(REFTABLE_API_ERROR, "lock not held");
	if (reftable_write_all(lk->fs, lk->fd, buf, len) < 0)
		return reftable_io_fail("write", lk->path);
	return 0;
}

/*
 * Whether path is still the file we created. It is not if someone broke
 * our lock as stale and another process took it: then the file at path
 * is theirs, and we must neither publish nor remove it.
 */
static int lock_still_ours(struct lockfile *lk, struct stat *mine)
{
	const struct reftable_fs *fs = lk->fs;
	struct stat there;

	if (fs->fstat(fs->ctx, lk->fd, mine) < 0) {
		mine->st_nlink = 0; /* marks *mine unknown */
		return 1; /* cannot tell; the common case is that it is */
	}
	if (fs->stat(fs->ctx, lk->path, &there) < 0)
		return errno == ENOENT ? 0 : 1;
	return mine->st_dev == there.st_dev && mine->st_ino == there.st_ino;
}

/* Forget a lock that is no longer ours, leaving the file alone. */
static void lock_forget(struct lockfile *lk)
{
	lk->fs->close(lk->fs->ctx, lk->fd);
	lk->fd = -1;
	reftable_free(lk->path);
	lk->path = NULL;
}

static int lock_lost(struct lockfile *lk)
{
	int err = reftable_fail(REFTABLE_LOCK_ERROR,
				"%s: our lock was removed (broken as stale?) "
				"before we could commit; nothing published",
				lk->path);

	lock_forget(lk);
	return err;
}

int lockfile_commit(struct lockfile *lk, const char *target, int do_fsync,
		    int *keep_fd, struct stat *kept)
{
	const struct reftable_fs *fs = lk->fs;
	struct stat mine;
	int err = 0;

	if (keep_fd)
		*keep_fd = -1;
	if (!lockfile_held(lk))
		return reftable_fail(REFTABLE_API_ERROR, "lock not held");
	/* fsync first: it can take long, and a lock broken meanwhile must
	 * be noticed, so the ownership check comes right before the rename. */
	if (do_fsync && fs->fsync(fs->ctx, lk->fd) < 0)
		err = reftable_io_fail("fsync", lk->path);
	if (!lock_still_ours(lk, &mine))
		return lock_lost(lk);
	if (!err && keep_fd && mine.st_nlink) {
		/* The rename keeps the inode: the descriptor will be one of
		 * target, and mine its identity. */
		*keep_fd = lk->fd;
		*kept = mine;
	} else if (fs->close(fs->ctx, lk->fd) < 0 && !err) {
		err = reftable_io_fail("close", lk->path);
	}
	lk->fd = -1;
	if (!err && fs->rename(fs->ctx, lk->path, target) < 0)
		err = reftable_io_fail("rename lock over", target);
	if (err) {
		fs->unlink(fs->ctx, lk->path);
		if (keep_fd && *keep_fd >= 0) {
			fs->close(fs->ctx, *keep_fd);
			*keep_fd = -1;
		}
	}
	reftable_free(lk->path);
	lk->path = NULL;
	return err;
}

void lockfile_release(struct lockfile *lk)
{
	struct stat mine;

	if (!lockfile_held(lk))
		return;
	if (lk->fd >= 0 && !lock_still_ours(lk, &mine)) {
		lock_forget(lk);
		return;
	}
	if (lk->fd >= 0)
		lk->fs->close(lk->fs->ctx, lk->fd);
	lk->fs->unlink(lk->fs->ctx, lk->path);
	reftable_free(lk->path);
	lk->path = NULL;
	lk->fd = -1;
}
