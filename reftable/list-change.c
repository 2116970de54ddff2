/*
 * One change of tables.list, from taking tables.list.lock to releasing
 * it: the only place that publishes a list. The new list is written to
 * a file of its own and swapped with (or renamed over) tables.list; the
 * lock itself is never renamed, so no owner can publish a lock that is
 * not its own.
 * Documentation/protocol.md ("Adding a table", steps 1, 2, 6 and 7;
 * "Locks removed from outside") says why each step is safe.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "fs.h"
#include "stack-internal.h"

/* tables.list.XXXXXXXX<suffix>: a list file aside, named at random. */
static int list_aside_path(struct reftable_stack *st, const char *suffix,
			   struct buf *out)
{
	buf_reset(out);
	if (buf_addf(out, "%s.%08x%s", st->list_path, stack_random(st),
		     suffix) < 0)
		return REFTABLE_NOMEM_ERROR;
	return 0;
}

/* The highest update index the names say (0 if a name has another
 * form: then no cross-check is possible). */
static uint64_t newest_by_name(char *const *names, size_t len)
{
	uint64_t min, max, newest = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (table_name_parse(names[i], &min, &max) < 0)
			return 0;
		newest = max > newest ? max : newest;
	}
	return newest;
}

struct newer_table {
	const struct list_change *ch;
	uint64_t newest;
	int found;
};

static int find_newer_table(void *arg, const char *name)
{
	struct newer_table *nt = arg;
	uint64_t min, max;

	if (str_ends_with(name, ".ref") &&
	    table_name_parse(name, &min, &max) == 0 && min > nt->newest &&
	    !names_contain(nt->ch->base.names, nt->ch->base.len, name))
		nt->found = 1;
	return nt->found;
}

/*
 * tables.list as the server has it now, through a name never used
 * before: a hard link made by the server from the name it resolves,
 * where a cached name would lead to the replaced file. 1: read into
 * *fresh; 0: no hard links here, cannot tell; < 0: error.
 */
static int read_list_afresh(struct list_change *ch, struct list_snapshot *fresh)
{
	struct reftable_stack *st = ch->st;
	const struct reftable_fs *fs = st->fs;
	struct buf tmp = BUF_INIT;
	int err = 0;

	if (!FS_HAS(fs, link))
		return 0;
	if (list_aside_path(st, ".tmp", &tmp) < 0)
		return REFTABLE_NOMEM_ERROR;
	if (fs->link(fs->ctx, st->list_path, (const char *)tmp.data) < 0) {
		if (errno == ENOENT && !ch->base.ident.exists)
			err = 0; /* still no list, as read */
		else if (errno == ENOENT || errno == ESTALE)
			err = reftable_fail(REFTABLE_OUTDATED_ERROR,
					    "%s: the name leads to a list "
					    "that was replaced (a cache of "
					    "this host); nothing published",
					    st->list_path);
		buf_release(&tmp);
		return err;
	}
	err = list_read_path(st, (const char *)tmp.data, fresh);
	fs->unlink(fs->ctx, (const char *)tmp.data);
	buf_release(&tmp);
	return err < 0 ? err : 1;
}

/*
 * Under the lock, an unlisted table newer than the base's newest is the
 * unfinished addition of a writer that died, or a sign that the list we
 * read is not the current one: a filesystem that lets an open follow a
 * cached name to the replaced file (NFS without close-to-open, some FUSE
 * caches). Only a fresh read tells the two apart; a stale base would
 * publish a list that drops the tables added meanwhile.
 */
static int cross_check_base(struct list_change *ch)
{
	struct reftable_stack *st = ch->st;
	struct newer_table nt = { ch, 0, 0 };
	struct list_snapshot fresh;
	int r, same;

	nt.newest = newest_by_name(ch->base.names, ch->base.len);
	if (ch->base.len && !nt.newest)
		return 0;
	if (st->fs->list_dir(st->fs->ctx, st->dir, find_newer_table, &nt) < 0 &&
	    !nt.found)
		return reftable_io_fail("list", st->dir);
	if (!nt.found)
		return 0;
	r = read_list_afresh(ch, &fresh);
	if (r <= 0)
		return r;
	same = names_equal(fresh.names, fresh.len, ch->base.names,
			   ch->base.len);
	list_snapshot_release(st, &fresh);
	if (!same)
		return reftable_fail(REFTABLE_OUTDATED_ERROR,
				     "%s as read here is not the current "
				     "list (a cache of this host served the "
				     "replaced one); nothing published, retry",
				     st->list_path);
	return 0;
}

int list_change_begin(struct list_change *ch, struct reftable_stack *st)
{
	return list_change_begin_within(ch, st, st->opts.lock_timeout_ms);
}

int list_change_begin_within(struct list_change *ch,
			     struct reftable_stack *st, int64_t timeout_ms)
{
	int err;

	memset(ch, 0, sizeof(*ch));
	ch->st = st;
	ch->lock.fd = -1;
	ch->base.fd = -1;
	err = lockfile_acquire(&ch->lock, st->fs, st->lock_path,
			       (mode_t)st->opts.file_mode, timeout_ms);
	/* By content, not by stat: an attribute cache (NFS, FUSE) may
	 * still describe the old list, and under the lock that would lose
	 * the tables added meanwhile. */
	if (!err)
		err = list_read(st, &ch->base);
	if (!err)
		err = cross_check_base(ch);
	if (err)
		list_change_end(ch);
	return err;
}

int list_change_is_current(const struct list_change *ch)
{
	const struct reftable_stack *st = ch->st;

	return names_equal(ch->base.names, ch->base.len, st->names, st->len);
}

/* Keep what was published (fd, its identity, the names) for the reload
 * after it; without a descriptor there is nothing to keep. Where lists
 * are not kept open (Windows), ours would block the next writer. */
static void keep_published(struct reftable_stack *st, int fd,
			   const struct buf *data)
{
	struct list_snapshot *snap = &st->published;
	struct stat sb;

	list_snapshot_release(st, snap);
	if (!LIST_FD_KEPT || st->fs->fstat(st->fs->ctx, fd, &sb) < 0) {
		st->fs->close(st->fs->ctx, fd);
		return; /* then the reload reads the list */
	}
	snap->fd = fd;
	snap->ident.exists = 1;
	snap->ident.dev = sb.st_dev;
	snap->ident.ino = sb.st_ino;
	snap->ident.size = sb.st_size;
	if (names_parse(&snap->names, &snap->len, (const char *)data->data,
			data->len, st->list_path) < 0)
		list_snapshot_release(st, snap);
}

static int start_writeback(struct reftable_stack *st, int fd, const char *path)
{
	const struct reftable_fs *fs = st->fs;

	if (!FS_HAS(fs, start_writeback) ||
	    fs->start_writeback(fs->ctx, fd) == 0)
		return 0;
	return reftable_io_fail("start writeback", path);
}

/*
 * The tables, then the list that names them, each through its own
 * fsync. The list is written first and the writeback of all of them
 * started at once, so the filesystem can commit their blocks together.
 * Then the directory, once, when tables were renamed into it (or are
 * unsynced, so perhaps their names too): POSIX does not keep renames in
 * one directory in order, and a crash must not keep the list's rename
 * while dropping that of a table it names.
 */
static int sync_files(struct reftable_stack *st, int list_fd,
		      const char *list_tmp, const struct unsynced_tables *t)
{
	struct buf path = BUF_INIT;
	size_t i, n = t ? t->len : 0;
	int err = 0;

	if (st->opts.disable_fsync)
		return 0;
	for (i = 0; !err && i < n; i++) {
		err = stack_path(&path, st, t->names[i]);
		if (!err)
			err = start_writeback(st, t->fds[i],
					      (const char *)path.data);
	}
	if (!err)
		err = start_writeback(st, list_fd, list_tmp);
	for (i = 0; !err && i < n; i++) {
		err = stack_path(&path, st, t->names[i]);
		if (!err)
			err = stack_fsync_fd(st, t->fds[i],
					     (const char *)path.data);
	}
	if (!err)
		err = stack_fsync_fd(st, list_fd, list_tmp);
	if (!err && (n || st->dir_sync_pending))
		err = stack_fsync_dir(st);
	buf_release(&path);
	return err;
}

/* Create tables.list.XXXXXXXX<suffix>, ours alone, holding data; *fd
 * stays open (the caller closes it, failure or not). */
static int write_list_file(struct reftable_stack *st, const struct buf *data,
			   const char *suffix, struct buf *path, int *fd)
{
	const struct reftable_fs *fs = st->fs;

	for (;;) {
		if (list_aside_path(st, suffix, path) < 0)
			return REFTABLE_NOMEM_ERROR;
		*fd = fs->open(fs->ctx, (const char *)path->data,
			       O_WRONLY | O_CREAT | O_EXCL,
			       (mode_t)st->opts.file_mode);
		if (*fd >= 0)
			break;
		if (errno != EEXIST)
			return reftable_io_fail("create",
						(const char *)path->data);
	}
	if (reftable_write_all(fs, *fd, data->data, data->len) < 0)
		return reftable_io_fail("write", (const char *)path->data);
	return 0;
}

/*
 * Right before the rename: the lock must still be ours and tables.list
 * what the change is based on. Either failing means someone removed our
 * lock (nobody following the protocol does) and perhaps published
 * meanwhile: then publishing would drop their tables.
 */
int list_change_check(struct list_change *ch)
{
	struct reftable_stack *st = ch->st;
	char **now = NULL;
	size_t len = 0;
	int r, same;

	r = lockfile_is_ours(&ch->lock);
	if (r < 0)
		return r;
	if (!r)
		return reftable_fail(REFTABLE_LOCK_ERROR,
				     "%s: our lock was removed by someone "
				     "else; nothing published",
				     st->lock_path);
	r = list_read_names(st, &now, &len);
	if (r < 0)
		return r;
	same = names_equal(now, len, ch->base.names, ch->base.len);
	names_free(now, len);
	if (!same)
		return reftable_fail(REFTABLE_LOCK_ERROR,
				     "%s changed while we held its lock "
				     "(someone removed the lock); nothing "
				     "published",
				     st->list_path);
	return 0;
}

/* Whether path names the file of this identity: 1, 0, or -1 if stat
 * cannot tell (a race is then not assumed: it needs a lock removed from
 * outside, a failing stat does not). */
static int path_is(struct reftable_stack *st, const char *path,
		   const struct list_identity *id)
{
	struct stat sb;

	if (st->fs->stat(st->fs->ctx, path, &sb) < 0)
		return errno == ENOENT ? 0 : -1;
	return sb.st_dev == id->dev && sb.st_ino == id->ino;
}

/* Whether every table named is there. */
static int tables_exist(struct reftable_stack *st, char *const *names,
			size_t len)
{
	struct buf path = BUF_INIT;
	struct stat sb;
	size_t i;
	int all = 1;

	for (i = 0; all && i < len; i++)
		all = !stack_path(&path, st, names[i]) &&
		      st->fs->stat(st->fs->ctx, (const char *)path.data, &sb) == 0;
	buf_release(&path);
	return all;
}

/* Write the tables another writer added, whose list ours replaced, as
 * tables.list.XXXXXXXX.kept, which clean and unlock leave alone with the
 * tables it names; the error names it. */
static int keep_replaced(struct list_change *ch, char *const *names,
			 size_t len)
{
	struct reftable_stack *st = ch->st;
	const struct reftable_fs *fs = st->fs;
	struct buf kept = BUF_INIT, data = BUF_INIT;
	int fd = -1, err;

	st->dir_sync_pending = 1;
	/* No names: the replaced list could not even be read back. */
	err = names ? names_format(&data, names, len) : REFTABLE_IO_ERROR;
	if (!err)
		err = write_list_file(st, &data, LIST_KEPT_SUFFIX, &kept, &fd);
	if (!err)
		err = stack_fsync_fd(st, fd, (const char *)kept.data);
	if (fd >= 0)
		fs->close(fs->ctx, fd);
	err = reftable_fail(REFTABLE_COMMITTED_ERROR,
			    "%s: our lock was removed from outside and another "
			    "writer published meanwhile: our list hid their "
			    "change. %s%s%s", st->list_path,
			    err ? "Their list is lost" :
			    "The tables it added are kept, named in ",
			    err ? "" : (const char *)kept.data,
			    err ? "" : " (clean and unlock keep them; Git's "
				       "gc does not). Their update indexes "
				       "overlap ours: recovery is by hand");
	buf_release(&kept);
	buf_release(&data);
	return err;
}

/* keep_replaced() of the tables of r neither in ours nor in our base:
 * what the other writer added. The rest is listed, or ours to remove. */
static int keep_added(struct list_change *ch, const struct list_snapshot *r,
		      char *const *ours, size_t ours_len)
{
	char **added = reftable_calloc(r->len + 1, sizeof(*added));
	size_t i, n = 0;
	int err;

	if (!added)
		return keep_replaced(ch, NULL, 0);
	for (i = 0; i < r->len; i++)
		if (!names_contain(ours, ours_len, r->names[i]) &&
		    !names_contain(ch->base.names, ch->base.len, r->names[i]))
			added[n++] = r->names[i];
	err = keep_replaced(ch, added, n);
	reftable_free(added); /* the strings are r's */
	return err;
}

/*
 * Someone published between our check and our swap, which handed back
 * their list R (at tmp): ours, without their tables, is in place. Put R
 * back only as a change of our own, under the lock, and only while
 * tables.list is still ours and R's tables are all there: a list must
 * never go back to one whose tables a clean in between removed, nor
 * drop a change someone built on ours. Otherwise R is kept.
 */
static int restore_replaced(struct list_change *ch, const char *tmp,
			    char *const *ours, size_t ours_len)
{
	struct reftable_stack *st = ch->st;
	struct list_snapshot r;
	struct list_change undo;
	char also[1024] = "";
	int err, back;

	ch->published = 1; /* until R is back, ours is the list */
	if (list_read_path(st, tmp, &r) < 0 || !r.ident.exists)
		return keep_replaced(ch, NULL, 0);
	err = list_change_begin_within(&undo, st, 0);
	if (!err && (!names_equal(undo.base.names, undo.base.len, ours,
				  ours_len) ||
		     !tables_exist(st, r.names, r.len)))
		err = REFTABLE_LOCK_ERROR;
	if (!err && list_change_publish(&undo, r.names, r.len, NULL) &&
	    undo.published) /* R is back, but hid yet another list */
		snprintf(also, sizeof(also), "; then: %s",
			 reftable_error_detail());
	/* R is back once the undo is published, even if its lock was then
	 * lost too (a second removal): which list is in place decides. */
	back = undo.published;
	list_change_end(&undo);
	if (!back) {
		err = keep_added(ch, &r, ours, ours_len);
		list_snapshot_release(st, &r);
		return err;
	}
	list_snapshot_release(st, &r);
	ch->published = 0;
	list_snapshot_release(st, &st->published);
	stack_fsync_dir(st); /* best effort: the error says what matters */
	return reftable_fail(REFTABLE_LOCK_ERROR,
			     "%s: someone removed our lock and published "
			     "meanwhile; their list is back in place and ours "
			     "is not published%s",
			     st->lock_path, also);
}

/*
 * Put the new list (tmp, holding names) in place of tables.list. With an
 * atomic swap, the file swapped out must be the base: anything else was
 * published by a writer who took our lock after someone removed it, and
 * a plain rename would have dropped its tables. Without a swap (other
 * systems, NFS), the rename is the best there is: list_change_check()
 * ran a moment before. A stack without tables.list gets it by link,
 * which fails if one appeared.
 */
static int replace_list(struct list_change *ch, const char *tmp,
			char *const *names, size_t len)
{
	struct reftable_stack *st = ch->st;
	const struct reftable_fs *fs = st->fs;
	const struct list_identity *base = &ch->base.ident;

	if (!base->exists && FS_HAS(fs, link)) {
		if (fs->link(fs->ctx, tmp, st->list_path) == 0) {
			fs->unlink(fs->ctx, tmp);
			return 0;
		}
		if (errno == EEXIST)
			return reftable_fail(REFTABLE_LOCK_ERROR,
					     "%s appeared while we held its "
					     "lock (someone removed the lock); "
					     "nothing published",
					     st->list_path);
	} else if (base->exists && FS_HAS(fs, exchange)) {
		if (fs->exchange(fs->ctx, tmp, st->list_path) == 0) {
			if (path_is(st, tmp, base) == 0)
				return restore_replaced(ch, tmp, names, len);
			/* Should this fail, breaking stale locks removes
			 * the leftover once no lock is left. */
			fs->unlink(fs->ctx, tmp);
			return 0;
		}
		if (errno != ENOSYS && errno != EINVAL && errno != ENOTSUP)
			return reftable_io_fail("swap new list with",
						st->list_path);
	}
	if (fs->rename(fs->ctx, tmp, st->list_path) < 0)
		return reftable_io_fail("rename new list over", st->list_path);
	return 0;
}

int list_change_publish(struct list_change *ch, char *const *names,
			size_t len, const struct unsynced_tables *unsynced)
{
	struct reftable_stack *st = ch->st;
	const struct reftable_fs *fs = st->fs;
	struct buf data = BUF_INIT, tmp = BUF_INIT;
	int err, fd = -1;

	if (!lockfile_held(&ch->lock) || ch->published)
		return reftable_fail(REFTABLE_API_ERROR,
				     "publishing without the list lock");
	err = names_format(&data, names, len);
	if (!err)
		err = write_list_file(st, &data, ".tmp", &tmp, &fd);
	if (!err)
		err = sync_files(st, fd, (const char *)tmp.data, unsynced);
	if (!err)
		err = list_change_check(ch);
	if (!err)
		err = replace_list(ch, (const char *)tmp.data, names, len);
	if (err) {
		if (fd >= 0)
			fs->close(fs->ctx, fd);
		/* After a swap that raced, tmp holds the list replaced,
		 * restored or kept elsewhere by now. */
		if (ch->published)
			st->dir_sync_pending = 1;
		if (tmp.len)
			fs->unlink(fs->ctx, (const char *)tmp.data);
	} else {
		ch->published = 1;
		/* The rename must be durable before anyone is told. */
		st->dir_sync_pending = 1;
		keep_published(st, fd, &data);
	}
	buf_release(&data);
	buf_release(&tmp);
	return err;
}

int stack_release_lock(struct reftable_stack *st, struct lockfile *lk)
{
	int err = lockfile_release(lk);

	if (err < 0 && err != REFTABLE_LOCK_ERROR) {
		st->locks_left++;
		snprintf(st->lock_left_why, sizeof(st->lock_left_why), "%s",
			 reftable_error_detail());
	}
	return err;
}

int list_change_end(struct list_change *ch)
{
	int err = ch->st ? stack_release_lock(ch->st, &ch->lock) : 0;

	if (ch->st)
		list_snapshot_release(ch->st, &ch->base);
	if (err && ch->published)
		err = reftable_fail_committed(err);
	return err;
}
