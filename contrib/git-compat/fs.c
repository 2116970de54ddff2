/*
 * The filesystem our stack uses under Git: the real one, with two of
 * Git's policies.
 *
 * - fsync goes through Git's fsync_component() for references, so
 *   core.fsync, core.fsyncMethod and the test suite's GIT_TEST_FSYNC
 *   decide, as they do for Git's own library.
 * - default_permissions: a file the library creates gets exactly that
 *   mode (fchmod, so the umask does not narrow it), as Git's library
 *   chmods its tables and tables.list for core.sharedRepository.
 * - A stack directory that does not exist (yet) is an empty stack, as in
 *   Git's library: Git opens the stack of a new repository before it
 *   creates the directory (`git init` with init.defaultRefFormat or
 *   GIT_DEFAULT_REF_FORMAT set to reftable), and writes only after.
 *   Ours refuses to open a missing directory, so its stat reads as an
 *   empty directory; reading tables.list in it then finds no list (an
 *   empty stack), and taking its lock fails until it exists.
 */

#include "compat.h" /* first: Git's headers set the feature macros */
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "write-or-die.h"

static int compat_open(void *ctx, const char *path, int flags, mode_t mode)
{
	struct reftable_stack *st = ctx;
	const struct lrt_reftable_fs *posix = lrt_reftable_fs_posix();
	int fd = posix->open(posix->ctx, path, flags, mode);

	if (fd >= 0 && (flags & O_CREAT) && st->default_permissions &&
	    fchmod(fd, st->default_permissions) < 0) {
		posix->close(posix->ctx, fd);
		posix->unlink(posix->ctx, path);
		return -1;
	}
	return fd;
}

static int compat_stat(void *ctx, const char *path, struct stat *sb)
{
	struct reftable_stack *st = ctx;
	const struct lrt_reftable_fs *posix = lrt_reftable_fs_posix();
	int ret = posix->stat(posix->ctx, path, sb);

	if (ret < 0 && errno == ENOENT && !strcmp(path, st->dir)) {
		memset(sb, 0, sizeof(*sb));
		sb->st_mode = S_IFDIR | 0777;
		return 0;
	}
	return ret;
}

static int compat_fsync(void *ctx, int fd)
{
	return fsync_component(FSYNC_COMPONENT_REFERENCE, fd);
}

void compat_fs_init(struct reftable_stack *st)
{
	const struct lrt_reftable_fs *posix = lrt_reftable_fs_posix();

	/* The real calls ignore their context (NULL): ours is the stack. */
	st->fs = *posix;
	st->fs.ctx = st;
	st->fs.open = compat_open;
	st->fs.fsync = compat_fsync;
	st->fs.stat = compat_stat;
	/* Early writeback only pays where every fsync is real. */
	st->fs.start_writeback = NULL;
}
