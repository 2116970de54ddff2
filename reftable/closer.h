#ifndef CLOSER_H
#define CLOSER_H

/*
 * Closing descriptors and removing files on a library thread.
 *
 * When a reader drops the tables.list a writer has renamed over, its
 * close is the inode's last reference, and the filesystem frees the inode
 * inside that close: 100-500 us on ext4, most of a changed reload. The
 * same goes for removing the tables a compaction replaced: freeing a
 * file's blocks waits on the disk (about 250 us on our test machine's
 * ext4, 20 us of it CPU). With the stack option close_in_background both
 * are handed to one thread per process instead, started on first use.
 *
 * The queue is bounded: when it is full, or the thread cannot be started,
 * the caller closes or removes inline. A child after fork closes its
 * copies of the descriptors queued with close(2) itself, so the
 * filesystem's descriptors must be the process's own (as
 * reftable_fs_posix()'s are), leaves the queued removals to the parent,
 * and starts its own thread when it needs one. Errors are ignored, as the
 * inline calls always ignored them: each descriptor was read, or written
 * (and synced, unless fsync is off), before it was handed over, and a
 * file left behind is one no list names, which reftable_stack_clean()
 * removes.
 */

#include "reftable-fs.h"

/* Closes and removals that can wait at once; past it, callers do them
 * inline. */
#define CLOSER_SLOTS 64
/* Longer paths are removed inline. */
#define CLOSER_PATH_MAX 256

/* Close fd through fs, on the closer thread if it can take it. */
void closer_submit(const struct reftable_fs *fs, int fd);

/* Remove path through fs, on the closer thread if it can take it. */
void closer_submit_unlink(const struct reftable_fs *fs, const char *path);

/* Wait until everything submitted so far, by any thread, is done: the
 * caller does what is still queued itself. */
void closer_drain(void);

#endif
