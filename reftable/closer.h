#ifndef CLOSER_H
#define CLOSER_H

/*
 * Closing descriptors on a library thread.
 *
 * When a reader drops the tables.list a writer has renamed over, its
 * close is the inode's last reference, and the filesystem frees the inode
 * inside that close: 100-500 us on ext4, most of a changed reload. With
 * the stack option close_in_background the close is handed to one thread
 * per process instead, started on first use.
 *
 * The queue is bounded: when it is full, or the thread cannot be started,
 * the caller closes inline. A child after fork closes its copies of what
 * was queued with close(2) itself, so the filesystem's descriptors must
 * be the process's own (as reftable_fs_posix()'s are), and starts its own
 * thread when it needs one. Close errors are ignored, as the inline close
 * of these descriptors always ignored them: each was read, or written
 * (and synced, unless fsync is off), before it was handed over.
 */

#include "reftable-fs.h"

/* Closes that can wait at once; past it, callers close inline. */
#define CLOSER_SLOTS 64

/* Close fd through fs, on the closer thread if it can take it. */
void closer_submit(const struct reftable_fs *fs, int fd);

/* Wait until every descriptor submitted so far, by any thread, has been
 * closed: the caller closes what is still queued itself. */
void closer_drain(void);

#endif
