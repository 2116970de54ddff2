#ifndef REFTABLE_STACK_H
#define REFTABLE_STACK_H

#include "reftable-export.h"

#include <stdint.h>

#include "reftable-fs.h"
#include "reftable-iterator.h"
#include "reftable-merged.h"
#include "reftable-writer.h"

/*
 * A stack: the directory of tables named, oldest first, in tables.list.
 * Many processes may read and change one stack at once; see
 * Documentation/protocol.md for the rules and why they are safe.
 *
 * Thread safety: a stack handle is not thread-safe; use one handle per
 * thread, or serialize calls on a shared handle. Tables and merged views
 * obtained from a handle are immutable and may be read from any thread
 * while they are referenced.
 */
struct reftable_stack;

struct reftable_stack_options {
	struct reftable_write_options write;
	/* Create the directory (and an empty tables.list) if missing. */
	int create;
	/* Skip every fsync. For tests and benchmarks only: a crash may then
	 * lose or corrupt committed data. */
	int disable_fsync;
	/* How long to wait for tables.list.lock, in milliseconds:
	 * 0 fails at once, negative waits forever. Default 100. */
	int64_t lock_timeout_ms;
	/* Do not compact after each addition. */
	int disable_auto_compact;
	/* Geometric factor of auto-compaction: 2 (default) to 256. */
	unsigned auto_compaction_factor;
	/* Decide whether tables.list changed by comparing its contents with
	 * the tables loaded, instead of by its inode identity. Always on
	 * where the platform has no inode numbers. */
	int force_content_reload;
	/* Called after a reload changed the loaded tables, so an embedding
	 * program can drop caches. A non-zero return is passed on. */
	int (*on_reload)(void *arg);
	void *on_reload_arg;
	/* Never build the hash index of frequent lookups (10 bytes per
	 * ref; see reftable_table_set_lookup_index). */
	int disable_lookup_index;
	/* Close a replaced tables.list, and remove the tables a compaction
	 * replaced, on a library thread (one per process, started on first
	 * use), off the reload's and the commit's path. On ext4 both free
	 * an inode and its blocks, most of a changed reload's time and a
	 * tenth of a transaction's; see Documentation/protocol.md. The
	 * filesystem's close and unlink are then called from that thread,
	 * and its descriptors must be real ones (a forked child closes its
	 * copies with close(2)). reftable_stack_destroy() waits for them; a
	 * process that exits without it leaves the queued tables, unlisted,
	 * to reftable_stack_clean(). */
	int close_in_background;
	/* The filesystem; NULL is reftable_fs_posix(). */
	const struct reftable_fs *fs;
	/* Permission bits of new files (masked by the umask); 0 is 0666. */
	unsigned file_mode;
};

/* Fill opts with the defaults. Call this before setting fields. */
REFTABLE_API
void reftable_stack_options_init(struct reftable_stack_options *opts);

/* Open the stack in dir. opts may be NULL for the defaults. */
REFTABLE_API
int reftable_stack_new(struct reftable_stack **out, const char *dir,
		       const struct reftable_stack_options *opts);
REFTABLE_API
void reftable_stack_destroy(struct reftable_stack *st);

/* Re-read tables.list if it changed; reuses the tables already open. */
REFTABLE_API
int reftable_stack_reload(struct reftable_stack *st);

/* 1 if tables.list is what the handle loaded, 0 if it changed, < 0 on
 * error. */
REFTABLE_API
int reftable_stack_up_to_date(struct reftable_stack *st);

/* The merged view of the loaded tables; owned by the stack and replaced
 * by a reload, so take references on its tables to keep them. */
REFTABLE_API
struct reftable_merged *reftable_stack_merged(struct reftable_stack *st);
REFTABLE_API
enum reftable_hash reftable_stack_hash(const struct reftable_stack *st);
REFTABLE_API
const char *reftable_stack_dir(const struct reftable_stack *st);

/* The update index the next addition will use. */
REFTABLE_API
uint64_t reftable_stack_next_update_index(struct reftable_stack *st);

/* Lookups in the loaded view, deletions suppressed: 0 found, 1 absent. */
REFTABLE_API
int reftable_stack_read_ref(struct reftable_stack *st, const char *name,
			    struct reftable_ref_record *ref);
REFTABLE_API
int reftable_stack_read_log(struct reftable_stack *st, const char *name,
			    struct reftable_log_record *log);
REFTABLE_API
int reftable_stack_init_ref_iterator(struct reftable_stack *st,
				     struct reftable_iterator *it);
REFTABLE_API
int reftable_stack_init_log_iterator(struct reftable_stack *st,
				     struct reftable_iterator *it);

/*
 * Additions. An addition holds tables.list.lock from creation until
 * commit or destroy. The write_table callback is given a writer whose
 * limits are already set to the addition's update index; it adds records.
 */
enum reftable_addition_flags {
	/* If the stack changed since the handle loaded it, reload under the
	 * lock instead of failing with REFTABLE_OUTDATED_ERROR. */
	REFTABLE_ADDITION_RELOAD = 1 << 0,
	/* Publish a table even if it holds no records (otherwise it is
	 * dropped): how a stack with no refs yet records which hash it
	 * uses, in the table's header. */
	REFTABLE_ADDITION_KEEP_EMPTY = 1 << 1,
};

struct reftable_addition;
typedef int (*reftable_write_table_fn)(struct reftable_writer *w, void *arg);

REFTABLE_API
int reftable_stack_new_addition(struct reftable_addition **out,
				struct reftable_stack *st, unsigned flags);
/* The update index tables of this addition should use. */
REFTABLE_API
uint64_t reftable_addition_update_index(const struct reftable_addition *add);
REFTABLE_API
int reftable_addition_add(struct reftable_addition *add,
			  reftable_write_table_fn write_table, void *arg);
/*
 * Publish the tables; an addition with no records writes nothing. Then
 * auto-compacts unless disabled. Whatever it returns, the addition must
 * still be freed with reftable_addition_destroy().
 *
 * Any error other than REFTABLE_COMMITTED_ERROR means nothing was
 * published: the stack is as it was. After a transient failure (out of
 * memory, a full disk, an I/O error) the same addition may be committed
 * again, or given up with destroy; after REFTABLE_LOCK_ERROR (our lock
 * was removed from outside) or REFTABLE_OUTDATED_ERROR, destroy it,
 * reload, and start a new addition.
 *
 * REFTABLE_COMMITTED_ERROR means the tables were published (readers see
 * them) and a later step failed: the directory fsync (the change may not
 * survive a power loss), the reload of this handle, the removal of our
 * lock by someone else while we held it, or an auto-compaction that left
 * a lock behind. The detail says which. Never commit it again: the change
 * would be applied twice. Failures of the auto-compaction itself (others
 * hold the tables) are not reported; they are counted in
 * reftable_stack_compaction_stats().
 */
REFTABLE_API
int reftable_addition_commit(struct reftable_addition *add);
/* Abort (if not committed), release the lock, free. */
REFTABLE_API
void reftable_addition_destroy(struct reftable_addition *add);

/* new_addition + add + commit + destroy. */
REFTABLE_API
int reftable_stack_add(struct reftable_stack *st,
		       reftable_write_table_fn write_table, void *arg,
		       unsigned flags);

/* Log expiry for a full compaction: drop log entries older than time
 * (seconds) or with an update index below min_update_index; 0 = no limit. */
struct reftable_log_expiry {
	uint64_t time;
	uint64_t min_update_index;
};

/*
 * Compaction merges adjacent tables into one. It takes tables.list.lock
 * (waiting up to lock_timeout_ms) to choose the tables, and the lock of
 * each chosen table (NAME.ref.lock) without waiting; it releases the list
 * lock while it merges and takes it again, with the same timeout, to
 * publish. Writers are held up only for those two short moments.
 *
 * reftable_stack_compact_all merges every table, applying expiry (NULL:
 * none) to the logs. When another process holds a table's lock (another
 * compaction), it fails with REFTABLE_LOCK_ERROR and changes nothing; so
 * it does when the list lock is not free in time, before or after the
 * merge (the merged table is then dropped).
 *
 * reftable_stack_auto_compact merges what the geometric rule of
 * auto_compaction_factor asks for, and returns 0 without taking any lock
 * when it asks for nothing. A table locked by another compaction ends the
 * run (only the tables newer than it are merged); if nothing is left to
 * merge it returns 0 and counts a failure in the compaction stats. It
 * returns REFTABLE_LOCK_ERROR only when the list lock is not free in time.
 *
 * Both return REFTABLE_COMMITTED_ERROR, as reftable_addition_commit does,
 * when the merged table was published and a later step failed.
 */
REFTABLE_API
int reftable_stack_compact_all(struct reftable_stack *st,
			       const struct reftable_log_expiry *expiry);
REFTABLE_API
int reftable_stack_auto_compact(struct reftable_stack *st);

/*
 * Remove *.ref files that tables.list does not name and can never name
 * again (their update indexes lie within what the listed tables cover),
 * and the new lists that dead writers left. Tables beyond the newest
 * listed update index are kept: additions in flight. Holds the list
 * lock. Fails, removing nothing, with REFTABLE_FORMAT_ERROR when an
 * unlisted table reaches below what the listed tables cover: tables.list
 * then lost tables (outside damage), and removing it would lose refs. A
 * list lock that could not be released is reported too. A file that
 * cannot be removed (on Windows, one another process holds without
 * sharing deletion) does not stop the others: the first such failure is
 * returned after the rest were removed.
 */
REFTABLE_API
int reftable_stack_clean(struct reftable_stack *st);

/* What clean found: one call per unlisted table or leftover list. */
struct reftable_clean_report {
	const char *name; /* the file's name in the stack directory */
	int removed;      /* removed (with REFTABLE_CLEAN_DRY_RUN: would be) */
	const char *why;  /* one sentence: why it goes or stays */
};

enum reftable_clean_flags {
	/* Judge and report under the lock, remove nothing. */
	REFTABLE_CLEAN_DRY_RUN = 1 << 0,
};

struct reftable_clean_options {
	unsigned flags; /* enum reftable_clean_flags */
	/* Called for each file judged, after its removal; after a failure
	 * (a damaged list: nothing is removed) no more calls. */
	void (*report)(void *arg, const struct reftable_clean_report *r);
	void *report_arg;
};

/* reftable_stack_clean() with a dry run and a report; opts may be NULL. */
REFTABLE_API
int reftable_stack_clean_with(struct reftable_stack *st,
			      const struct reftable_clean_options *opts);

/*
 * Put back into tables.list the tables it lost (outside damage: a list
 * truncated or restored from an old copy). Under the list lock, every
 * unlisted table whose header opens, with the stack's hash, goes into a
 * gap of update indexes that no listed table holds: before the oldest,
 * between two, or after the newest, the widest table first (a
 * compaction's output rather than its inputs). Listed tables stay as
 * they are. Tables after the newest may be the unfinished addition of a
 * writer that died before publishing: relisting publishes it, so look
 * with REFTABLE_RELIST_DRY_RUN first. The tables relisted are synced
 * before the list. Returns how many tables were (or would be) relisted,
 * or < 0.
 */
struct reftable_relist_report {
	const char *name; /* the table's file name */
	int listed;       /* relisted (with REFTABLE_RELIST_DRY_RUN: would be) */
	uint64_t min, max; /* its update indexes, from its header */
	const char *why;
};

enum reftable_relist_flags {
	REFTABLE_RELIST_DRY_RUN = 1 << 0,
};

struct reftable_relist_options {
	unsigned flags; /* enum reftable_relist_flags */
	/* Called for each unlisted table, once the list is published. */
	void (*report)(void *arg, const struct reftable_relist_report *r);
	void *report_arg;
};

REFTABLE_API
int reftable_stack_relist(struct reftable_stack *st,
			  const struct reftable_relist_options *opts);

struct reftable_compaction_stats {
	uint64_t bytes;            /* bytes of tables written by compaction */
	uint64_t entries_written;  /* records written by compaction */
	uint64_t attempts;
	uint64_t failures;         /* gave up, e.g. locks held by others */
};
REFTABLE_API
const struct reftable_compaction_stats *
reftable_stack_compaction_stats(const struct reftable_stack *st);

/*
 * Breaking stale locks (Documentation/protocol.md, "Stale locks"). Our
 * locks carry evidence of their owner (pid, its start time, boot id,
 * host, pid namespace); a lock is stale only when that owner is proven
 * gone on this machine, or, for a lock without evidence (Git's, which
 * stay empty until Git commits), when it was created before this
 * machine last booted on a local filesystem. Age alone proves nothing.
 */
struct reftable_lock_report {
	const char *name; /* the lock's file name in the stack directory */
	int stale;        /* its owner is proven gone (or REFTABLE_BREAK_FORCE) */
	int removed;      /* it was removed by this call */
	const char *why;  /* one sentence: whose it is, why kept or stale */
};

enum reftable_break_flags {
	/* Judge and report, remove nothing. */
	REFTABLE_BREAK_DRY_RUN = 1 << 0,
	/* Remove every lock, proven stale or not. Only when you know that
	 * no process, Git included, uses the stack: a live owner whose lock
	 * is removed fails, or may find its commit replaced by another's. */
	REFTABLE_BREAK_FORCE = 1 << 1,
};

struct reftable_break_options {
	unsigned flags;           /* enum reftable_break_flags */
	/* Keep locks changed less than this many seconds ago, stale or not. */
	uint64_t min_age_seconds;
	/* Called for every lock found, after it was judged (and removed). */
	void (*report)(void *arg, const struct reftable_lock_report *r);
	void *report_arg;
};

/*
 * Remove the locks (tables.list.lock, NAME.ref.lock) whose owners are
 * proven gone, each only if it is still the very file judged; then, if
 * no lock is left, the temporary tables and lists their owners were
 * writing. Breakers are serialized (flock on the directory). opts may be
 * NULL. Returns how many locks were removed, or < 0.
 */
REFTABLE_API
int reftable_stack_break_stale_locks(struct reftable_stack *st,
				     const struct reftable_break_options *opts);

/*
 * Parse the contents of a tables.list file as the stack reads it: one
 * table name a line, lines end at '\n' only, empty lines are skipped.
 * A line that cannot name a table of the directory (a slash, a NUL, a
 * leading dot, a carriage return at its end, the owner line of a lock
 * renamed over the list) gives REFTABLE_FORMAT_ERROR with a detail
 * naming path and the line. For tools that read a stack's files without
 * opening the stack (a dump of a broken one). On success, free *names
 * with reftable_tables_list_free().
 */
REFTABLE_API
int reftable_tables_list_parse(const char *data, size_t len, const char *path,
			       char ***names, size_t *n);
REFTABLE_API
void reftable_tables_list_free(char **names, size_t n);

#endif
