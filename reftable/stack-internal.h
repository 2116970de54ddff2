#ifndef STACK_INTERNAL_H
#define STACK_INTERNAL_H

/* Internal: the stack handle, shared by stack.c, stack-compact.c and
 * stack-files.c. */

#include <stdint.h>
#include <sys/types.h>

#include "basics.h"
#include "merged.h"
#include "lockfile.h"
#include "reftable-stack.h"
#include "reftable-table.h"

#define TABLES_LIST "tables.list"
#define TABLES_LIST_LOCK "tables.list.lock"
/* A list kept for the user after a race past a removed lock: tables.list.
 * XXXXXXXX.kept. clean and unlock leave it, and the tables it names. */
#define LIST_KEPT_SUFFIX ".kept"

/* How long a reader keeps retrying when a listed table vanished. */
#define RELOAD_DEADLINE_MS 3000

/*
 * Whether a tables.list that was read stays open (struct list_snapshot's
 * fd). Here it pins the inode, so that no newer list can be given the
 * same inode number while we compare against it. On Windows an open
 * file cannot be renamed over, so a reader holding the list would block
 * every writer's publish: the list is closed once read, and the reload
 * compares contents, which needs no pin (Documentation/windows.md).
 */
#ifdef _WIN32
#define LIST_FD_KEPT 0
#else
#define LIST_FD_KEPT 1
#endif

/* Identity of the tables.list that was read, from fstat on its fd. */
struct list_identity {
	int exists;
	dev_t dev;
	ino_t ino;
	off_t size;
};

/* A tables.list as read: its names and, if kept, its descriptor. */
struct list_snapshot {
	int fd; /* -1 if tables.list did not exist */
	struct list_identity ident;
	char **names;
	size_t len;
};

struct reftable_stack {
	char *dir;
	char *list_path;
	char *lock_path;
	struct reftable_stack_options opts;
	const struct reftable_fs *fs;
	enum reftable_hash hash;

	/*
	 * The descriptor of the tables.list that was loaded, kept open so
	 * its inode cannot be freed and handed to a newer tables.list of
	 * the same size while we still compare against it.
	 */
	int list_fd;
	struct list_identity ident;

	/* The loaded tables, oldest first; names[i] is tables[i]'s name. */
	char **names;
	struct reftable_table **tables;
	size_t len;
	struct reftable_merged *merged;
	/* Cursors reused by reflog lookups (a handle is single-threaded). */
	struct merged_scratch log_scratch;

	/* What our own last publish wrote, with its descriptor, kept until
	 * the reload that follows it, which then need not read it back. */
	struct list_snapshot published;
	/* The same for a small table that publish named, written by this
	 * handle: its bytes, until that reload opens it from them. */
	char *fresh_name;
	struct buf fresh;
	int loaded; /* a first load happened (on_reload is for later ones) */
	/* A rename in the directory awaits its directory fsync. A table's
	 * rename gets it before the list naming the table is renamed in; a
	 * commit about to auto-compact leaves the list's to the end, where
	 * one fsync covers its rename and the compaction's. */
	int dir_sync_pending;
	struct reftable_compaction_stats stats;
	/* Locks of ours that could not be removed (stack_release_lock), and
	 * why the last one could not: they block every writer until this
	 * process exits, so even housekeeping must report them. */
	unsigned locks_left;
	char lock_left_why[REFTABLE_DETAIL_SIZE];
	uint64_t rand_state;
};

/* stack-files.c: names, paths, tables.list I/O. */
void names_free(char **names, size_t len);
int names_equal(char *const *a, size_t alen, char *const *b, size_t blen);
int names_contain(char *const *names, size_t len, const char *name);
/* Split the contents of tables.list into names; rejects names that are
 * not plain file names. */
int names_parse(char ***out, size_t *outlen, const char *data, size_t len,
		const char *path);
/* "name\n" for each name. */
int names_format(struct buf *out, char *const *names, size_t len);

/* dir/name into out. */
int stack_path(struct buf *out, const struct reftable_stack *st,
	       const char *name);

/* Open, fstat and read tables.list, keeping the descriptor. A missing
 * tables.list is an empty stack. */
/* The same, of the list at path (another name of tables.list). */
int list_read_path(struct reftable_stack *st, const char *path,
		   struct list_snapshot *snap);
int list_read(struct reftable_stack *st, struct list_snapshot *snap);
void list_snapshot_release(struct reftable_stack *st,
			   struct list_snapshot *snap);
/* Only the names of the current tables.list (descriptor closed). */
int list_read_names(struct reftable_stack *st, char ***names, size_t *len);

/* fsync the stack's directory, so renames in it are durable. */
int stack_fsync_dir(struct reftable_stack *st);
int stack_fsync_fd(struct reftable_stack *st, int fd, const char *path);

uint32_t stack_random(struct reftable_stack *st);
/* "0x{min:012x}-0x{max:012x}-{rnd:08x}.ref" into buf (>= 64 bytes). */
void table_name_format(char *buf, size_t cap, uint64_t min, uint64_t max,
		       uint32_t rnd);
/* Parses the update indexes out of a table name of that form (the random
 * part optional). 0 on success, -1 if the name has another form. */
int table_name_parse(const char *name, uint64_t *min, uint64_t *max);

/*
 * Pick an unused final name for a table of [min, max] and rename tmp to
 * it. The caller holds tables.list.lock, and every creator of *.ref files
 * does too, so checking for an existing file first is race-free.
 */
int stack_rename_table(struct reftable_stack *st, const char *tmp,
		       uint64_t min, uint64_t max, char **name_out);

/*
 * Remove a table no list names any more. Where the stack closes in the
 * background, the closer thread does it: freeing a file's blocks waits
 * on the disk. (Table names carry a random part, so a new table taking
 * the name while the removal waits is a one in 2^32 event.)
 */
void stack_remove_unlisted(struct reftable_stack *st, const char *path);

/* Create NAME.tmp (NAME as for a final table) exclusively, for writing a
 * table that is renamed into place once complete. */
int stack_create_temp(struct reftable_stack *st, uint64_t min, uint64_t max,
		      struct buf *path, int *fd);

/* stack.c */
/* Open table name of the stack's directory (from the fresh bytes if they
 * are its). */
int stack_open_table(struct reftable_stack *st, const char *name,
		     struct reftable_table **out);
/* Keep the bytes of table name, which this handle just wrote, for the
 * reload after the publish naming it (only small tables: the rest are
 * mapped). Takes data's bytes. */
void stack_keep_fresh(struct reftable_stack *st, const char *name,
		      struct buf *data);
void stack_drop_fresh(struct reftable_stack *st);
int stack_reload_now(struct reftable_stack *st);
/* The reload after a publish: from what it wrote if it could keep it. */
int stack_reload_published(struct reftable_stack *st);
/* Tables a publish makes durable before its list: the descriptors that
 * wrote them, still open, and their names. */
struct unsynced_tables {
	const int *fds;
	char *const *names;
	size_t len;
};

/* list-change.c: one change of tables.list, the only way to publish. */
struct list_change {
	struct reftable_stack *st;
	struct lockfile lock;
	/* tables.list as read under the lock: what the change is based on.
	 * Its descriptor stays open, so its inode cannot be recycled while
	 * a publish compares the list it replaced against it. */
	struct list_snapshot base;
	int published; /* the new list was renamed into place */
};
/* Take tables.list.lock and read tables.list under it. */
int list_change_begin(struct list_change *ch, struct reftable_stack *st);
/* The same, waiting for the lock at most timeout_ms (the stack's
 * lock_timeout_ms for list_change_begin). */
int list_change_begin_within(struct list_change *ch,
			     struct reftable_stack *st, int64_t timeout_ms);
/* Whether the handle's loaded tables are the base. */
int list_change_is_current(const struct list_change *ch);
/*
 * Whether the lock is still ours and tables.list still the base (by
 * content): REFTABLE_LOCK_ERROR if not, which only a lock removed from
 * outside can cause. Run right before acting on what the base says.
 */
int list_change_check(struct list_change *ch);
/*
 * Publish names as the new tables.list: write them to a file of our
 * own, fsync the unsynced tables (may be NULL), that file and, if
 * tables were renamed into it, the directory, check that
 * the lock is still ours and tables.list still the base, and rename the
 * file over tables.list. The descriptor is kept for the reload after
 * (st->published); the directory fsync is owed (st->dir_sync_pending).
 * On failure nothing was published.
 */
int list_change_publish(struct list_change *ch, char *const *names,
			size_t len, const struct unsynced_tables *unsynced);
/* lockfile_release(), counting a lock that stays (an I/O error, not a
 * lock that someone else removed) in st->locks_left. */
int stack_release_lock(struct reftable_stack *st, struct lockfile *lk);
/*
 * Release the lock (only if it is still ours) and the base; safe to
 * call twice. After a publish, a lock found not ours is a
 * REFTABLE_COMMITTED_ERROR: someone removed it while we held it.
 */
int list_change_end(struct list_change *ch);

/*
 * A writer whose bytes go to a file descriptor through the stack's fs.
 * It keeps the header to learn the update indexes the table declares.
 */
struct fd_sink {
	const struct reftable_fs *fs;
	int fd;
	int failed_errno;
	uint8_t head[24];
	size_t head_len;
	uint64_t bytes;
};
ssize_t fd_sink_write(void *arg, const void *buf, size_t len);
/* The update indexes of the header the sink saw; -1 if none. */
int fd_sink_limits(const struct fd_sink *s, uint64_t *min, uint64_t *max);
/* REFTABLE_IO_ERROR for the sink's failed write to path, with its errno. */
int fd_sink_fail(const struct fd_sink *s, const char *path);
/* The same from a table's first len bytes. */
int header_limits(const uint8_t *head, size_t len, uint64_t *min,
		  uint64_t *max);

/* stack-compact.c */
struct segment {
	size_t start, end; /* [start, end) */
	uint64_t bytes;
};
/*
 * The tables to merge so that, read from the newest, each table is at
 * least factor times as large as the next newer one (Git's rule). An
 * empty segment (start == end) when the sizes already form such a
 * sequence.
 */
struct segment suggest_compaction_segment(const uint64_t *sizes, size_t n,
					  unsigned factor);
/*
 * A fold merges only small runs: the list stays locked while they merge,
 * and other writers wait that long (about a millisecond per 100 KiB).
 * An addition's first table of at most this size is held in memory.
 */
#define FOLD_MAX_BYTES ((uint64_t)1 << 20)
/*
 * Under the addition's list lock: if the auto-compaction that would
 * follow the addition of the table held in memory would merge it with
 * the tables below it, merge them now and publish the result once
 * instead. *folded tells whether it did; when it did not, the caller
 * publishes the addition itself.
 */
int compact_with_addition(struct reftable_stack *st, struct list_change *ch,
			  const struct buf *held, int *folded);

#endif
