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
 * the caller closes inline. A child after fork starts its own thread.
 * Close errors are ignored either way: the descriptors handed over are
 * read-only.
 */

#include "reftable-fs.h"

/* Closes that can wait at once; past it, callers close inline. */
#define CLOSER_SLOTS 64

/* Close fd through fs, on the closer thread if it can take it. */
void closer_submit(const struct reftable_fs *fs, int fd);

/* Wait until every descriptor submitted so far has been closed. */
void closer_drain(void);

#endif
