/*
 * Housekeeping of a stack directory: clean (tables no list names) and
 * breaking the locks of owners proven dead. Documentation/protocol.md,
 * "Clean" and "Stale locks", says why each removal is safe.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "owner.h"
#include "stack-internal.h"

/* A new list being written (list-change.c), left by a dead writer. */
static int is_list_leftover(const char *name)
{
	return !strncmp(name, TABLES_LIST ".", strlen(TABLES_LIST ".")) &&
	       str_ends_with(name, ".tmp");
}

/*
 * A list aside from tables.list: kept for the user after a race
 * (list-change.c), or a new list whose writer died or, its lock removed
 * from outside, is still at work (it may yet publish it, or put it back
 * after a race). Clean holds the lock, so it cannot tell those apart:
 * it leaves them, and the tables they name, to the user and to breaking
 * stale locks.
 */
static int is_list_aside(const struct reftable_stack *st, const char *name)
{
	return is_list_leftover(name) ||
	       (!strncmp(name, TABLES_LIST ".", strlen(TABLES_LIST ".")) &&
		str_ends_with(name, LIST_KEPT_SUFFIX));
}

/* Directory entries that pass a filter, as owned strings. */
struct name_list {
	int (*keep)(const struct reftable_stack *st, const char *name);
	const struct reftable_stack *st;
	char **names;
	size_t len, cap;
	int err;
};

static int collect(void *arg, const char *name)
{
	struct name_list *nl = arg;
	char *copy;

	if (!nl->keep(nl->st, name))
		return 0;
	if (REFTABLE_GROW(nl->names, nl->cap, nl->len + 1) < 0 ||
	    !(copy = reftable_strdup(name))) {
		nl->err = REFTABLE_NOMEM_ERROR;
		return 1;
	}
	nl->names[nl->len++] = copy;
	return 0;
}

static int list_matching(struct reftable_stack *st, struct name_list *nl,
			 int (*keep)(const struct reftable_stack *, const char *))
{
	memset(nl, 0, sizeof(*nl));
	nl->keep = keep;
	nl->st = st;
	if (st->fs->list_dir(st->fs->ctx, st->dir, collect, nl) < 0 && !nl->err)
		return reftable_io_fail("list", st->dir);
	return nl->err;
}

/* Remove dir/name; a file already gone is no failure. */
static int remove_file(struct reftable_stack *st, const char *name)
{
	struct buf path = BUF_INIT;
	int err = stack_path(&path, st, name);

	if (!err && st->fs->unlink(st->fs->ctx, (const char *)path.data) < 0 &&
	    errno != ENOENT)
		err = reftable_io_fail("remove", (const char *)path.data);
	buf_release(&path);
	return err;
}

/* --- clean ------------------------------------------------------------ */

static int unlisted(const struct reftable_stack *st, const char *name)
{
	return str_ends_with(name, ".ref") &&
	       !names_contain(st->names, st->len, name);
}

/* The update indexes a table file holds, by name or by header. */
static int table_range(struct reftable_stack *st, const char *name,
		       uint64_t *min, uint64_t *max)
{
	struct reftable_table *t;
	int err;

	if (!table_name_parse(name, min, max))
		return 0;
	err = stack_open_table(st, name, &t);
	if (err)
		return err;
	*min = reftable_table_min_update_index(t);
	*max = reftable_table_max_update_index(t);
	reftable_table_decref(t);
	return 0;
}

/* What clean makes of a file, and the sentence its report gives. */
enum clean_verdict {
	CLEAN_COVERED,
	CLEAN_BEYOND_NEWEST,
	CLEAN_UNREADABLE,
	CLEAN_NAMED_BY_ASIDE,
};

static const char *const clean_why[] = {
	[CLEAN_COVERED] = "unlisted, within the update indexes the listed "
			  "tables cover: it can never be listed again",
	[CLEAN_BEYOND_NEWEST] = "unlisted, newer than the newest listed "
				"table: kept (perhaps an addition in flight)",
	[CLEAN_UNREADABLE] = "unlisted and unreadable: kept, not guessed at",
	[CLEAN_NAMED_BY_ASIDE] = "named by a list aside (tables.list.*.tmp "
				 "or *" LIST_KEPT_SUFFIX "): kept",
};

/*
 * Whether the unlisted table [min, max] may go. At or below the newest
 * listed update index, and within what the listed tables cover, it can
 * never be listed again: it is a compaction's input or a failed
 * addition's. Beyond the newest it may be an addition in flight (or a
 * dead writer's, or tables.list lost it): kept. A table that reaches
 * below what the listed tables cover cannot come from our protocol:
 * tables.list lost tables (outside damage), and removing it would lose
 * their refs.
 */
static int judge_unlisted(struct reftable_stack *st, const char *name,
			  uint64_t min, uint64_t max, enum clean_verdict *v)
{
	uint64_t newest = reftable_stack_next_update_index(st) - 1;
	uint64_t oldest = st->len ?
		reftable_table_min_update_index(st->tables[0]) : 1;

	*v = CLEAN_BEYOND_NEWEST;
	if (max > newest)
		return 0;
	if (min >= oldest && min <= max) {
		*v = CLEAN_COVERED;
		return 0;
	}
	return reftable_fail(REFTABLE_FORMAT_ERROR,
			     "%s may be damaged: %s holds update indexes "
			     "%llu..%llu, which the listed tables (%llu..%llu) "
			     "do not cover; nothing removed. Put the table "
			     "back into %s before cleaning (reftable_stack_"
			     "relist(), `reftable relist`)",
			     st->list_path, name, (unsigned long long)min,
			     (unsigned long long)max,
			     (unsigned long long)oldest,
			     (unsigned long long)newest, TABLES_LIST);
}

/* The names in every list aside, which clean must not remove. 1 if one
 * that was listed had gone when it was read, else 0 or < 0. */
static int read_lists_aside_once(struct reftable_stack *st,
				 struct name_list *kept)
{
	struct name_list lists = { 0 };
	struct buf path = BUF_INIT;
	size_t i, j;
	int gone = 0, err = list_matching(st, &lists, is_list_aside);

	memset(kept, 0, sizeof(*kept));
	for (i = 0; !err && i < lists.len; i++) {
		struct list_snapshot snap = { .fd = -1 };

		err = stack_path(&path, st, lists.names[i]);
		/* One that does not read as a list (cut short, say) names
		 * nothing clean could remove by mistake. */
		if (!err &&
		    list_read_path(st, (const char *)path.data, &snap) < 0)
			continue;
		gone |= !err && !snap.ident.exists;
		for (j = 0; !err && j < snap.len; j++) {
			if (REFTABLE_GROW(kept->names, kept->cap,
					  kept->len + 1) < 0)
				err = REFTABLE_NOMEM_ERROR;
			else
				kept->names[kept->len++] = snap.names[j];
			if (!err)
				snap.names[j] = NULL;
		}
		list_snapshot_release(st, &snap);
	}
	names_free(lists.names, lists.len);
	buf_release(&path);
	return err ? err : gone;
}

/*
 * A list aside that went between the listing and the read may have been
 * renamed or rewritten under another name (a new list kept after a race
 * is written before the one it replaces is removed): list again, until a
 * listing reads whole.
 */
static int read_lists_aside(struct reftable_stack *st, struct name_list *kept)
{
	int tries = 0, r;

	while ((r = read_lists_aside_once(st, kept)) == 1 && ++tries < 10)
		names_free(kept->names, kept->len);
	return r < 0 ? r : 0;
}

static enum clean_verdict judge_file(struct reftable_stack *st,
				     const struct name_list *kept,
				     const char *name, int *err)
{
	enum clean_verdict v = CLEAN_COVERED;
	uint64_t min, max;

	if (names_contain(kept->names, kept->len, name))
		return CLEAN_NAMED_BY_ASIDE;
	if (table_range(st, name, &min, &max) < 0)
		return CLEAN_UNREADABLE;
	*err = judge_unlisted(st, name, min, max, &v);
	return v;
}

static int removable(enum clean_verdict v)
{
	return v == CLEAN_COVERED;
}

static void clean_report(const struct reftable_clean_options *opts,
			 const char *name, enum clean_verdict v)
{
	struct reftable_clean_report r;

	if (!opts->report)
		return;
	r.name = name;
	r.removed = removable(v);
	r.why = clean_why[v];
	opts->report(opts->report_arg, &r);
}

int reftable_stack_clean_with(struct reftable_stack *st,
			      const struct reftable_clean_options *opts)
{
	static const struct reftable_clean_options defaults = { 0 };
	struct list_change ch = { 0 };
	struct name_list nl = { 0 }, kept = { 0 };
	unsigned char *verdict;
	size_t i;
	int err, end_err, remove_err = 0;

	if (!opts)
		opts = &defaults;
	err = list_change_begin(&ch, st);
	if (!err && !list_change_is_current(&ch))
		err = stack_reload_now(st);
	if (!err)
		err = read_lists_aside(st, &kept);
	if (!err)
		err = list_matching(st, &nl, unlisted);
	verdict = reftable_calloc(nl.len ? nl.len : 1, 1);
	if (!err && !verdict)
		err = REFTABLE_NOMEM_ERROR;
	/* Judge every file first: on damage, remove nothing at all. */
	for (i = 0; !err && i < nl.len; i++)
		verdict[i] = (unsigned char)judge_file(st, &kept, nl.names[i],
						       &err);
	/* Judging took a while; act only on a list that is still ours. */
	if (!err)
		err = list_change_check(&ch);
	/* A file that cannot be removed (on Windows: held open by a
	 * reader that does not share deletion) stops nothing: the others
	 * go, and the first failure is returned. */
	for (i = 0; !err && i < nl.len; i++) {
		int r = 0;

		if (removable(verdict[i]) &&
		    !(opts->flags & REFTABLE_CLEAN_DRY_RUN))
			r = remove_file(st, nl.names[i]);
		if (!r)
			clean_report(opts, nl.names[i], verdict[i]);
		else if (!remove_err)
			remove_err = r;
	}
	if (!err)
		err = remove_err;
	reftable_free(verdict);
	names_free(nl.names, nl.len);
	names_free(kept.names, kept.len);
	/* A lock left behind would block every writer: report it. */
	end_err = list_change_end(&ch);
	return err ? err : end_err;
}

int reftable_stack_clean(struct reftable_stack *st)
{
	return reftable_stack_clean_with(st, NULL);
}

/* --- stale locks ------------------------------------------------------ */

/*
 * A lock moved aside by a remover (LOCK.PID-X-N.gone) is judged as a
 * lock: it may be a live owner's, moved by a remover whose stat was
 * stale and about to be put back (Git's, empty, among them), so it goes
 * only if its owner is dead or let go (the mark), as any lock.
 */
static int is_lock(const struct reftable_stack *st, const char *name)
{
	return !strcmp(name, TABLES_LIST_LOCK) ||
	       str_ends_with(name, ".ref.lock") ||
	       lock_is_removal_leftover(name);
}

/* What dead writers leave. */
static int is_temporary(const struct reftable_stack *st, const char *name)
{
	return str_ends_with(name, ".ref.tmp") || is_list_leftover(name);
}

struct breaker {
	struct reftable_stack *st;
	const struct reftable_break_options *opts;
	struct buf why;
	int removed;
};

static void report(struct breaker *b, const char *name, int stale,
		   int removed)
{
	struct reftable_lock_report r;

	if (!b->opts->report)
		return;
	r.name = name;
	r.stale = stale;
	r.removed = removed;
	r.why = (const char *)b->why.data;
	b->opts->report(b->opts->report_arg, &r);
}

/* Whether the lock at path (open as fd) may be broken; b->why says why.
 * -1 (errno set) if it cannot be read. */
static int judge_lock(struct breaker *b, int fd, const struct stat *sb)
{
	const struct reftable_fs *fs = b->st->fs;
	char data[512];
	ssize_t n = fs->read(fs->ctx, fd, data, sizeof(data) - 1);
	struct timespec now;
	enum owner_verdict v;

	if (n < 0)
		return -1; /* unread is not "no evidence": the caller fails */
	clock_gettime(CLOCK_REALTIME, &now);
	v = owner_judge(data, n > 0 ? (size_t)n : 0, sb, fd, &b->why);
	if (b->opts->min_age_seconds &&
	    (uint64_t)(now.tv_sec - sb->st_mtime) < b->opts->min_age_seconds) {
		buf_reset(&b->why);
		buf_addf(&b->why, "changed %lld s ago, less than %llu",
			 (long long)(now.tv_sec - sb->st_mtime),
			 (unsigned long long)b->opts->min_age_seconds);
		return 0;
	}
	if (v != OWNER_DEAD && (b->opts->flags & REFTABLE_BREAK_FORCE)) {
		buf_addstr(&b->why, "; removed by force");
		return 1;
	}
	return v == OWNER_DEAD;
}

static int break_one(struct breaker *b, const char *name)
{
	const struct reftable_fs *fs = b->st->fs;
	struct buf path = BUF_INIT;
	struct stat sb;
	int fd, stale, removed = 0, err = 0;

	err = stack_path(&path, b->st, name);
	if (err)
		return err;
	fd = fs->open(fs->ctx, (const char *)path.data, O_RDONLY, 0);
	if (fd < 0) {
		err = errno == ENOENT ? 0 :
			reftable_io_fail("open", (const char *)path.data);
		goto done;
	}
	if (fs->fstat(fs->ctx, fd, &sb) < 0) {
		err = reftable_io_fail("fstat", (const char *)path.data);
		goto done;
	}
	stale = judge_lock(b, fd, &sb);
	if (stale < 0) {
		err = reftable_io_fail("read", (const char *)path.data);
		goto done;
	}
	/* Only the very file judged: never a lock created since. */
	if (stale && !(b->opts->flags & REFTABLE_BREAK_DRY_RUN)) {
		err = lock_remove_if_same(fs, (const char *)path.data,
					  sb.st_dev, sb.st_ino);
		removed = err == 1;
		err = err < 0 ? err : 0;
	}
	b->removed += removed;
	report(b, name, stale, removed);
done:
	if (fd >= 0)
		fs->close(fs->ctx, fd);
	buf_release(&path);
	return err;
}

/*
 * Temporary tables and lists are written only by holders of a lock.
 * Listed first, then checked for locks: a temporary file that existed
 * before the check belongs to a holder that either still holds its lock
 * (then we stop) or is done with it. Checking first would let a writer
 * lock and create its file between the check and the listing, and lose
 * it (its commit would fail).
 */
static int remove_temporaries(struct breaker *b)
{
	struct name_list locks = { 0 }, tmps = { 0 };
	size_t i;
	int err;

	err = list_matching(b->st, &tmps, is_temporary);
	if (!err)
		err = list_matching(b->st, &locks, is_lock);
	for (i = 0; !err && !locks.len && i < tmps.len; i++)
		err = remove_file(b->st, tmps.names[i]);
	names_free(tmps.names, tmps.len);
	names_free(locks.names, locks.len);
	return err;
}

/*
 * Two breakers must not act on one observation. The removal by identity
 * already keeps the second from removing a lock created since, but it
 * would move that lock aside for a moment, and a third process could
 * take the lock meanwhile. flock is dropped by the kernel when its
 * holder dies, so it is never stale. Waits as a writer waits for the
 * list lock. *fd: -1 where the filesystem has no flock.
 */
static int serialize_breakers(struct reftable_stack *st, int *fd)
{
	struct backoff b;
	int64_t waited;

	*fd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return reftable_io_fail("open directory", st->dir);
	backoff_start(&b);
	while (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			close(*fd); /* no flock here: identity must do */
			*fd = -1;
			return 0;
		}
		if (backoff_wait(&b, st->opts.lock_timeout_ms, &waited) < 0) {
			close(*fd);
			*fd = -1;
			return reftable_fail(REFTABLE_LOCK_ERROR,
					     "%s: another process is breaking "
					     "locks (waited %lld ms)",
					     st->dir, (long long)waited);
		}
	}
	return 0;
}

int reftable_stack_break_stale_locks(struct reftable_stack *st,
				     const struct reftable_break_options *opts)
{
	static const struct reftable_break_options defaults = { 0 };
	struct breaker b = { st, opts ? opts : &defaults, BUF_INIT, 0 };
	struct name_list locks;
	size_t i;
	int err, dir_fd;

	err = serialize_breakers(st, &dir_fd);
	if (err)
		return err;
	err = list_matching(st, &locks, is_lock);
	for (i = 0; !err && i < locks.len; i++)
		err = break_one(&b, locks.names[i]);
	names_free(locks.names, locks.len);
	if (!err && !(b.opts->flags & REFTABLE_BREAK_DRY_RUN))
		err = remove_temporaries(&b);
	if (dir_fd >= 0)
		close(dir_fd);
	buf_release(&b.why);
	return err ? err : b.removed;
}
