#ifndef OWNER_H
#define OWNER_H

/*
 * Internal: who holds a lock. Our locks carry one line of evidence about
 * the process that created them (pid, its start time, the machine's boot
 * id, host name and pid namespace), so that a breaker can prove the owner
 * dead instead of guessing from the lock's age. Git writes nothing into
 * its locks before the rename, so a lock without our evidence is never
 * judged stale (Documentation/protocol.md, "Stale locks").
 */

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "basics.h"

/* How every evidence line starts. */
#define OWNER_EVIDENCE_TAG "reftable-lock v1 "

/*
 * What a lock's owner appends to its lock, through its descriptor, when
 * at release the lock was not at its path: a remover had moved it aside
 * and may put it back. Wherever the file is then, it says that its owner
 * let go: a remover deletes it instead of putting it back, and a breaker
 * takes it for stale although its owner still runs.
 */
#define OWNER_RELEASED_MARK "released\n"

/* Whether a lock's contents (data, len) are our evidence line followed
 * by the released mark. */
int owner_released(const char *data, size_t len);

/* The evidence line of the calling process (NUL-terminated, ends in a
 * newline). Cached; recomputed after fork. */
const char *owner_evidence(void);

enum owner_verdict {
	OWNER_DEAD,    /* provably gone: the lock may be broken */
	OWNER_ALIVE,   /* the process that wrote it still runs */
	OWNER_UNKNOWN, /* cannot be proven either way: keep the lock */
};

/*
 * Judge a lock from its contents (data, len) and its fstat (sb, for the
 * creation time of a lock without evidence). why receives one sentence
 * for the user.
 */
enum owner_verdict owner_judge(const char *data, size_t len,
			       const struct stat *sb, int fd, struct buf *why);
/* The same, with the boot time given (seconds since the epoch, as in
 * /proc/stat's btime), so that tests can stage a lock older than it. */
enum owner_verdict owner_judge_booted(const char *data, size_t len,
				      const struct stat *sb, int fd,
				      struct buf *why, time_t booted);

#endif
