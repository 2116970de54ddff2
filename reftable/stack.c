/*
 * The stack: opening, reloading and the up-to-date check, lookups,
 * additions, clean and lock breaking. Compaction is in stack-compact.c.
 * Documentation/protocol.md explains why each step is safe.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "closer.h"
#include "reftable-merged.h"
#include "reftable-writer.h"
#include "stack-internal.h"

#if defined(_WIN32)
/* No inode numbers to compare: always compare contents. */
#define PLATFORM_HAS_INODES 0
#else
#define PLATFORM_HAS_INODES 1
#endif

void reftable_stack_options_init(struct reftable_stack_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->lock_timeout_ms = 100;
	opts->auto_compaction_factor = 2;
	opts->file_mode = 0666;
}

static int check_options(struct reftable_stack_options *o)
{
	if (o->auto_compaction_factor == 0)
		o->auto_compaction_factor = 2;
	if (o->auto_compaction_factor < 2 || o->auto_compaction_factor > 256)
		return reftable_fail(REFTABLE_RANGE_ERROR,
				     "auto_compaction_factor %u: must be 2 to 256",
				     o->auto_compaction_factor);
	if (o->write.hash_id && o->write.hash_id != REFTABLE_HASH_SHA1 &&
	    o->write.hash_id != REFTABLE_HASH_SHA256)
		return reftable_fail(REFTABLE_RANGE_ERROR, "unknown hash id %d",
				     (int)o->write.hash_id);
	if (!o->file_mode)
		o->file_mode = 0666;
	if (!PLATFORM_HAS_INODES)
		o->force_content_reload = 1;
	return 0;
}

static void stack_seed(struct reftable_stack *st)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	st->rand_state = ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)ts.tv_nsec ^
			 ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)st;
	if (!st->rand_state)
		st->rand_state = 1;
	/* Let the seed's bits spread before the first name is drawn. */
	stack_random(st);
	stack_random(st);
}

static int make_path(char **out, const char *dir, const char *name)
{
	struct buf b = BUF_INIT;

	if (buf_addstr(&b, dir) < 0 || buf_addch(&b, '/') < 0 ||
	    buf_addstr(&b, name) < 0) {
		buf_release(&b);
		return REFTABLE_NOMEM_ERROR;
	}
	*out = buf_detach(&b);
	return 0;
}

/* Create dir (one level) and an empty tables.list if they are missing. */
static int stack_create_files(struct reftable_stack *st)
{
	const struct reftable_fs *fs = st->fs;
	int fd;

	if (fs->mkdir(fs->ctx, st->dir, 0777) < 0 && errno != EEXIST)
		return reftable_io_fail("create directory", st->dir);
	/*
	 * O_EXCL: if another process got there first, its tables.list
	 * (maybe already naming tables) must not be truncated.
	 */
	fd = fs->open(fs->ctx, st->list_path, O_WRONLY | O_CREAT | O_EXCL,
		      st->opts.file_mode);
	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		return reftable_io_fail("create", st->list_path);
	}
	fs->close(fs->ctx, fd);
	return stack_fsync_dir(st);
}

int reftable_stack_new(struct reftable_stack **out, const char *dir,
		       const struct reftable_stack_options *opts)
{
	struct reftable_stack *st;
	struct stat sb;
	int err;

	*out = NULL;
	st = reftable_calloc(1, sizeof(*st));
	if (!st)
		return REFTABLE_NOMEM_ERROR;
	st->list_fd = -1;
	st->published.fd = -1;
	if (opts)
		st->opts = *opts;
	else
		reftable_stack_options_init(&st->opts);
	err = check_options(&st->opts);
	if (err)
		goto fail;
	st->fs = st->opts.fs ? st->opts.fs : reftable_fs_posix();
	st->dir = reftable_strdup(dir);
	if (!st->dir) {
		err = REFTABLE_NOMEM_ERROR;
		goto fail;
	}
	err = make_path(&st->list_path, dir, TABLES_LIST);
	if (!err)
		err = make_path(&st->lock_path, dir, TABLES_LIST_LOCK);
	if (err)
		goto fail;
	stack_seed(st);
	st->hash = st->opts.write.hash_id ? st->opts.write.hash_id :
					    REFTABLE_HASH_SHA1;

	if (st->opts.create) {
		err = stack_create_files(st);
	} else if (st->fs->stat(st->fs->ctx, dir, &sb) < 0) {
		err = reftable_io_fail("stack directory", dir);
	} else if (!S_ISDIR(sb.st_mode)) {
		err = reftable_fail(REFTABLE_NOT_EXIST_ERROR,
				    "%s: not a directory", dir);
	}
	if (err)
		goto fail;
	err = stack_reload_now(st);
	if (err)
		goto fail;
	*out = st;
	return 0;
fail:
	reftable_stack_destroy(st);
	return err;
}

static void stack_drop_tables(struct reftable_stack *st)
{
	size_t i;

	if (st->merged)
		reftable_merged_free(st->merged);
	st->merged = NULL;
	/* Its cursors point into the tables being dropped. */
	merged_scratch_release(&st->log_scratch);
	for (i = 0; i < st->len; i++)
		if (st->tables && st->tables[i])
			reftable_table_decref(st->tables[i]);
	reftable_free(st->tables);
	st->tables = NULL;
	names_free(st->names, st->len);
	st->names = NULL;
	st->len = 0;
}

void reftable_stack_destroy(struct reftable_stack *st)
{
	if (!st)
		return;
	stack_drop_tables(st);
	if (st->list_fd >= 0)
		st->fs->close(st->fs->ctx, st->list_fd);
	/* Whatever this handle opened is closed when it is gone. */
	if (st->opts.close_in_background)
		closer_drain();
	list_snapshot_release(st, &st->published);
	reftable_free(st->dir);
	reftable_free(st->list_path);
	reftable_free(st->lock_path);
	reftable_free(st);
}

/* --- loading ------------------------------------------------------- */

static void tables_decref(struct reftable_table **tables, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tables[i])
			reftable_table_decref(tables[i]);
	reftable_free(tables);
}

static struct reftable_table *loaded_table(struct reftable_stack *st,
					   const char *name)
{
	size_t i;

	for (i = 0; i < st->len; i++)
		if (!strcmp(st->names[i], name))
			return st->tables[i];
	return NULL;
}

/* Open table name of the stack's directory. */
static int stack_open_table(struct reftable_stack *st, const char *name,
			    struct reftable_table **out)
{
	struct buf path = BUF_INIT;
	int err = stack_path(&path, st, name);

	if (!err)
		err = reftable_table_open_fs(out, st->fs,
					     (const char *)path.data);
	buf_release(&path);
	if (!err && st->opts.disable_lookup_index)
		reftable_table_set_lookup_index(*out, 0);
	return err;
}

/*
 * Open the tables named, reusing the ones already loaded (a table never
 * changes once it has its name). On failure *failed names the table that
 * could not be opened.
 */
static int open_tables(struct reftable_stack *st, char *const *names,
		       size_t n, struct reftable_table ***out,
		       const char **failed)
{
	struct reftable_table **tables;
	size_t i;
	int err = 0;

	tables = reftable_calloc(n ? n : 1, sizeof(*tables));
	if (!tables)
		return REFTABLE_NOMEM_ERROR;
	for (i = 0; i < n; i++) {
		struct reftable_table *t = loaded_table(st, names[i]);

		if (t) {
			reftable_table_incref(t);
			tables[i] = t;
			continue;
		}
		err = stack_open_table(st, names[i], &tables[i]);
		if (err) {
			tables[i] = NULL;
			*failed = names[i];
			break;
		}
	}
	if (err) {
		tables_decref(tables, n);
		return err;
	}
	*out = tables;
	return 0;
}

/* The hash of the stack: the option if set, else that of its tables. */
static int check_hash(struct reftable_stack *st,
		      struct reftable_table *const *tables, size_t n,
		      enum reftable_hash *hash)
{
	size_t i;

	*hash = st->opts.write.hash_id ? st->opts.write.hash_id :
		n ? reftable_table_hash(tables[0]) : REFTABLE_HASH_SHA1;
	for (i = 0; i < n; i++)
		if (reftable_table_hash(tables[i]) != *hash)
			return reftable_fail(
				REFTABLE_FORMAT_ERROR,
				"%s/%s: hash %s, but the stack uses %s", st->dir,
				reftable_table_name(tables[i]),
				reftable_table_hash(tables[i]) ==
						REFTABLE_HASH_SHA256 ?
					"SHA-256" : "SHA-1",
				*hash == REFTABLE_HASH_SHA256 ? "SHA-256" :
								"SHA-1");
	return 0;
}

/* Make snap and tables the loaded state; takes ownership of both. */
static int install(struct reftable_stack *st, struct list_snapshot *snap,
		   struct reftable_table **tables, int *changed)
{
	struct reftable_merged *merged = NULL;
	enum reftable_hash hash;
	int err;

	err = check_hash(st, tables, snap->len, &hash);
	if (!err)
		err = reftable_merged_new(&merged, tables, snap->len, hash);
	if (err) {
		tables_decref(tables, snap->len);
		list_snapshot_release(st, snap);
		return err;
	}
	reftable_merged_suppress_deletions(merged, 1);
	*changed = !names_equal(st->names, st->len, snap->names, snap->len);

	stack_drop_tables(st);
	st->merged = merged;
	st->tables = tables;
	st->names = snap->names;
	st->len = snap->len;
	st->hash = hash;
	/* Close the old descriptor only now: the new one pins its inode. */
	if (st->list_fd >= 0 && st->opts.close_in_background)
		closer_submit(st->fs, st->list_fd);
	else if (st->list_fd >= 0)
		st->fs->close(st->fs->ctx, st->list_fd);
	st->list_fd = snap->fd;
	st->ident = snap->ident;
	snap->fd = -1;
	/*
	 * Comparing contents needs no pinned inode, and where that mode is
	 * forced (Windows) an open tables.list would block the writers'
	 * rename over it.
	 */
	if (st->opts.force_content_reload && st->list_fd >= 0) {
		st->fs->close(st->fs->ctx, st->list_fd);
		st->list_fd = -1;
	}
	snap->names = NULL;
	snap->len = 0;
	return 0;
}

/* Install snap and its opened tables; tell on_reload if they changed. */
static int adopt(struct reftable_stack *st, struct list_snapshot *snap,
		 struct reftable_table **tables)
{
	int first = !st->loaded, changed = 0;
	int err = install(st, snap, tables, &changed);

	if (!err)
		st->loaded = 1;
	if (!err && changed && !first && st->opts.on_reload)
		err = st->opts.on_reload(st->opts.on_reload_arg);
	return err;
}

int stack_reload_published(struct reftable_stack *st)
{
	struct list_snapshot snap = st->published;
	struct reftable_table **tables = NULL;
	const char *failed = NULL;
	int err;

	st->published.fd = -1;
	st->published.names = NULL;
	st->published.len = 0;
	if (snap.fd < 0)
		return stack_reload_now(st);
	err = open_tables(st, snap.names, snap.len, &tables, &failed);
	if (!err)
		return adopt(st, &snap, tables);
	list_snapshot_release(st, &snap);
	/* A compaction since our publish removed a table: read it anew. */
	return err == REFTABLE_NOT_EXIST_ERROR ? stack_reload_now(st) : err;
}

/*
 * Read tables.list and open its tables. A missing table means either
 * that a compaction replaced it after we read the list (the list then
 * differs: retry) or that the stack is damaged (the list is the same:
 * fail). Retries back off until RELOAD_DEADLINE_MS.
 */
int stack_reload_now(struct reftable_stack *st)
{
	int64_t deadline = reftable_now_ms() + RELOAD_DEADLINE_MS;
	int64_t delay = 0;

	for (;;) {
		struct list_snapshot snap;
		struct reftable_table **tables = NULL;
		const char *failed = NULL;
		char **again = NULL;
		size_t again_len = 0;
		int err, same;

		err = list_read(st, &snap);
		if (err)
			return err;
		err = open_tables(st, snap.names, snap.len, &tables, &failed);
		if (!err)
			return adopt(st, &snap, tables);
		if (err != REFTABLE_NOT_EXIST_ERROR) {
			list_snapshot_release(st, &snap);
			return err;
		}

		err = list_read_names(st, &again, &again_len);
		if (err) {
			list_snapshot_release(st, &snap);
			return err;
		}
		same = names_equal(snap.names, snap.len, again, again_len);
		names_free(again, again_len);
		if (same || reftable_now_ms() > deadline) {
			err = reftable_fail(
				REFTABLE_NOT_EXIST_ERROR,
				"%s names %s, which does not exist%s",
				st->list_path, failed,
				same ? " (and the list did not change: the "
				       "stack is damaged)" :
				       " (the list kept changing until the "
				       "deadline)");
			list_snapshot_release(st, &snap);
			return err;
		}
		list_snapshot_release(st, &snap);
		delay = delay + (int64_t)(stack_random(st) % (uint32_t)(delay + 1)) + 1;
		if (delay > 100)
			delay = 100;
		reftable_sleep_ms(delay);
	}
}

static int content_up_to_date(struct reftable_stack *st)
{
	char **names = NULL;
	size_t len = 0;
	int err, same;

	err = list_read_names(st, &names, &len);
	if (err)
		return err;
	same = names_equal(names, len, st->names, st->len);
	names_free(names, len);
	return same;
}

int reftable_stack_up_to_date(struct reftable_stack *st)
{
	struct stat sb;

	if (st->opts.force_content_reload)
		return content_up_to_date(st);
	if (st->fs->stat(st->fs->ctx, st->list_path, &sb) < 0) {
		if (errno == ENOENT)
			return !st->ident.exists;
		return reftable_io_fail("stat", st->list_path);
	}
	/*
	 * ident came from fstat on the descriptor we still hold, so no
	 * newer tables.list can have been given the same inode number.
	 */
	return st->ident.exists && sb.st_dev == st->ident.dev &&
	       sb.st_ino == st->ident.ino && sb.st_size == st->ident.size;
}

int reftable_stack_reload(struct reftable_stack *st)
{
	int r = reftable_stack_up_to_date(st);

	if (r < 0)
		return r;
	if (r == 1)
		return 0;
	return stack_reload_now(st);
}

/* --- accessors and lookups ------------------------------------------ */

struct reftable_merged *reftable_stack_merged(struct reftable_stack *st)
{
	return st->merged;
}

enum reftable_hash reftable_stack_hash(const struct reftable_stack *st)
{
	return st->hash;
}

const char *reftable_stack_dir(const struct reftable_stack *st)
{
	return st->dir;
}

uint64_t reftable_stack_next_update_index(struct reftable_stack *st)
{
	if (!st->len)
		return 1;
	return reftable_table_max_update_index(st->tables[st->len - 1]) + 1;
}

int reftable_stack_read_ref(struct reftable_stack *st, const char *name,
			    struct reftable_ref_record *ref)
{
	return reftable_merged_read_ref(st->merged, name, ref);
}

int reftable_stack_read_log(struct reftable_stack *st, const char *name,
			    struct reftable_log_record *log)
{
	return merged_read_log_with(st->merged, name, log, &st->log_scratch);
}

int reftable_stack_init_ref_iterator(struct reftable_stack *st,
				     struct reftable_iterator *it)
{
	return reftable_merged_init_ref_iterator(st->merged, it);
}

int reftable_stack_init_log_iterator(struct reftable_stack *st,
				     struct reftable_iterator *it)
{
	return reftable_merged_init_log_iterator(st->merged, it);
}

const struct reftable_compaction_stats *
reftable_stack_compaction_stats(const struct reftable_stack *st)
{
	return &st->stats;
}

/* --- the list lock ---------------------------------------------------- */

int stack_lock_list(struct reftable_stack *st, struct lockfile *lk)
{
	return lockfile_acquire(lk, st->fs, st->lock_path,
				(mode_t)st->opts.file_mode,
				st->opts.lock_timeout_ms);
}

int stack_refresh_locked(struct reftable_stack *st)
{
	int r = reftable_stack_up_to_date(st);

	if (r < 0)
		return r;
	return r ? 0 : stack_reload_now(st);
}

/* Keep what a publish wrote (fd, its identity, the names) for the reload
 * after it; without a descriptor there is nothing to keep. */
static void keep_published(struct reftable_stack *st, int fd,
			   const struct stat *sb, const struct buf *data)
{
	struct list_snapshot *snap = &st->published;

	list_snapshot_release(st, snap);
	if (fd < 0)
		return;
	snap->fd = fd;
	snap->ident.exists = 1;
	snap->ident.dev = sb->st_dev;
	snap->ident.ino = sb->st_ino;
	snap->ident.size = sb->st_size;
	if (names_parse(&snap->names, &snap->len, (const char *)data->data,
			data->len, st->list_path) < 0)
		list_snapshot_release(st, snap); /* then reload reads it */
}

/*
 * The tables before the list that names them, each through its own
 * fsync. The list is written first and the writeback of all of them
 * started at once, so the filesystem can commit their blocks together:
 * on ext4 the list's fsync then finds little left to do (163-177 us
 * instead of 304-313 in a scratch loop on our test machine).
 */
static int start_writeback(struct reftable_stack *st, int fd,
			   const char *path)
{
	const struct reftable_fs *fs = st->fs;

	if (!fs->start_writeback || fs->start_writeback(fs->ctx, fd) == 0)
		return 0;
	return reftable_io_fail("start writeback", path);
}

static int sync_before_publish(struct reftable_stack *st, struct lockfile *lk,
			       const struct unsynced_tables *t)
{
	struct buf path = BUF_INIT;
	size_t i;
	int err = 0;

	if (st->opts.disable_fsync || !t || !t->len)
		return 0;
	for (i = 0; !err && i < t->len; i++) {
		err = stack_path(&path, st, t->names[i]);
		if (!err)
			err = start_writeback(st, t->fds[i],
					      (const char *)path.data);
	}
	if (!err)
		err = start_writeback(st, lk->fd, lk->path);
	for (i = 0; !err && i < t->len; i++) {
		err = stack_path(&path, st, t->names[i]);
		if (!err)
			err = stack_fsync_fd(st, t->fds[i],
					     (const char *)path.data);
	}
	buf_release(&path);
	return err;
}

int stack_publish_list(struct reftable_stack *st, struct lockfile *lk,
		       char *const *names, size_t len,
		       const struct unsynced_tables *unsynced,
		       int defer_dir_sync, int *published)
{
	struct buf data = BUF_INIT;
	struct stat sb;
	int err, fd;

	*published = 0;
	err = names_format(&data, names, len);
	if (!err)
		err = lockfile_write(lk, data.data, data.len);
	if (!err)
		err = sync_before_publish(st, lk, unsynced);
	if (err) {
		buf_release(&data);
		lockfile_release(lk);
		return err;
	}
	err = lockfile_commit(lk, st->list_path, !st->opts.disable_fsync,
			      &fd, &sb);
	if (err) {
		buf_release(&data);
		return err;
	}
	*published = 1;
	keep_published(st, fd, &sb, &data);
	buf_release(&data);
	/* The rename must survive a crash before we report success. */
	st->dir_sync_pending = 1;
	return defer_dir_sync ? 0 : stack_fsync_dir(st);
}

/* --- additions ------------------------------------------------------- */

struct reftable_addition {
	struct reftable_stack *st;
	struct lockfile lock;
	/*
	 * The first table, while the commit may still fold it into a
	 * compaction (at most FOLD_MAX_BYTES, auto-compaction on): held in
	 * memory, so that a fold never writes it to a file of its own. Only
	 * ever the sole table: a second one sends it to its file first.
	 */
	struct buf held;
	uint64_t held_min, held_max;
	/* Renamed into place, not yet listed, not yet made durable. */
	char **new_names;
	size_t new_len, new_cap;
	int *new_fds; /* the descriptors that wrote them, until commit */
	size_t fds_cap;
	uint64_t next_update_index;
};

int reftable_stack_new_addition(struct reftable_addition **out,
				struct reftable_stack *st, unsigned flags)
{
	struct reftable_addition *add;
	int err, r;

	*out = NULL;
	add = reftable_calloc(1, sizeof(*add));
	if (!add)
		return REFTABLE_NOMEM_ERROR;
	add->st = st;
	add->lock.fd = -1;
	err = stack_lock_list(st, &add->lock);
	if (err)
		goto fail;
	r = reftable_stack_up_to_date(st);
	if (r < 0) {
		err = r;
		goto fail;
	}
	if (!r) {
		if (!(flags & REFTABLE_ADDITION_RELOAD)) {
			err = reftable_fail(REFTABLE_OUTDATED_ERROR,
					    "%s changed since the stack was "
					    "loaded; reload and retry",
					    st->list_path);
			goto fail;
		}
		err = stack_reload_now(st);
		if (err)
			goto fail;
	}
	add->next_update_index = reftable_stack_next_update_index(st);
	*out = add;
	return 0;
fail:
	reftable_addition_destroy(add);
	return err;
}

uint64_t reftable_addition_update_index(const struct reftable_addition *add)
{
	return add->next_update_index;
}

/*
 * Where a table of an addition goes while it is written: into add->held
 * while it fits in hold_max bytes, then into a temporary file named for
 * [min, max], what was held written there first.
 */
struct table_sink {
	struct reftable_addition *add;
	size_t hold_max;
	uint64_t min, max;
	struct fd_sink file; /* file.fd < 0 while the table is held */
	struct buf tmp;      /* the temporary file, once made */
	/* A failure, and its detail: the writer reports a failed write in
	 * its own words, and the addition restores these. */
	int err;
	struct buf why;
};

static ssize_t table_sink_failed(struct table_sink *s, int err)
{
	s->err = err;
	buf_reset(&s->why);
	(void)buf_addstr(&s->why, reftable_error_detail());
	return -1;
}

static void table_sink_init(struct table_sink *s, struct reftable_addition *add,
			    size_t hold_max, uint64_t min, uint64_t max)
{
	memset(s, 0, sizeof(*s));
	s->add = add;
	s->hold_max = hold_max;
	s->min = min;
	s->max = max;
	s->file.fs = add->st->fs;
	s->file.fd = -1;
}

/* Copy what is held into the sink's new temporary file. The caller
 * drops the held copy once the file is sure to keep it. */
static int table_sink_to_file(struct table_sink *s)
{
	struct buf *held = &s->add->held;
	int err;

	err = stack_create_temp(s->add->st, s->min, s->max, &s->tmp,
				&s->file.fd);
	if (err) {
		s->file.fd = -1;
		table_sink_failed(s, err);
		return err;
	}
	if (held->len && fd_sink_write(&s->file, held->data, held->len) < 0) {
		err = fd_sink_fail(&s->file, (const char *)s->tmp.data);
		table_sink_failed(s, err);
		return err;
	}
	return 0;
}

static ssize_t table_sink_write(void *arg, const void *data, size_t len)
{
	struct table_sink *s = arg;
	struct buf *held = &s->add->held;

	if (s->file.fd < 0 && held->len + len <= s->hold_max) {
		if (buf_add(held, data, len) < 0)
			return table_sink_failed(s, REFTABLE_NOMEM_ERROR);
		return (ssize_t)len;
	}
	if (s->file.fd < 0) {
		/* Outgrown: the table being written goes to its file. */
		if (table_sink_to_file(s) < 0)
			return -1;
		buf_release(held);
	}
	if (fd_sink_write(&s->file, data, len) < 0)
		return table_sink_failed(
			s, fd_sink_fail(&s->file, (const char *)s->tmp.data));
	return (ssize_t)len;
}

/* Free the sink, removing its temporary file if it made one (what is
 * held is the addition's). */
static void table_sink_release(struct table_sink *s)
{
	const struct reftable_fs *fs = s->add->st->fs;

	if (s->file.fd >= 0)
		fs->close(fs->ctx, s->file.fd);
	s->file.fd = -1;
	if (s->tmp.len)
		fs->unlink(fs->ctx, (const char *)s->tmp.data);
	buf_release(&s->tmp);
	buf_release(&s->why);
}

/* Rename the sink's file into place as a new table of the addition; its
 * descriptor is kept, the commit syncs through it. */
static int table_sink_keep(struct table_sink *s)
{
	struct reftable_addition *add = s->add;
	char *name = NULL;
	int err;

	if (REFTABLE_GROW(add->new_names, add->new_cap, add->new_len + 1) < 0 ||
	    REFTABLE_GROW(add->new_fds, add->fds_cap, add->new_len + 1) < 0)
		return REFTABLE_NOMEM_ERROR;
	err = stack_rename_table(add->st, (const char *)s->tmp.data, s->min,
				 s->max, &name);
	if (err)
		return err;
	add->new_fds[add->new_len] = s->file.fd;
	add->new_names[add->new_len++] = name;
	s->file.fd = -1;
	buf_release(&s->tmp);
	return 0;
}

/*
 * The held table, to its file after all: no fold, or a second table. On
 * failure it stays held, so that a retried commit still publishes it.
 */
static int unhold(struct reftable_addition *add)
{
	struct table_sink s;
	int err;

	table_sink_init(&s, add, 0, add->held_min, add->held_max);
	err = table_sink_to_file(&s);
	if (!err)
		err = table_sink_keep(&s);
	if (err) {
		table_sink_release(&s);
		return err;
	}
	buf_release(&add->held);
	return 0;
}

int reftable_addition_add(struct reftable_addition *add,
			  reftable_write_table_fn write_table, void *arg)
{
	struct reftable_stack *st = add->st;
	struct reftable_write_options wopts = st->opts.write;
	struct reftable_writer *w = NULL;
	struct table_sink sink;
	const struct reftable_write_stats *ws;
	size_t hold_max = 0;
	uint64_t min, max;
	int err;

	if (!lockfile_held(&add->lock))
		return reftable_fail(REFTABLE_API_ERROR,
				     "addition already committed");
	if (add->held.len && (err = unhold(add)) < 0)
		return err;
	if (!add->new_len && !st->opts.disable_auto_compact)
		hold_max = FOLD_MAX_BYTES;
	table_sink_init(&sink, add, hold_max, add->next_update_index,
			add->next_update_index);
	wopts.hash_id = st->hash;
	err = reftable_writer_new(&w, table_sink_write, &sink, &wopts);
	if (!err)
		err = reftable_writer_set_limits(w, add->next_update_index,
						 add->next_update_index);
	if (!err)
		err = write_table(w, arg);
	if (!err)
		err = reftable_writer_close(w);
	if (sink.err) /* even where write_table went on regardless */
		err = reftable_fail(sink.err, "%s",
				    sink.why.len ? (const char *)sink.why.data :
						   "writing the table failed");
	if (err)
		goto fail;
	ws = reftable_writer_stats(w);
	if (!ws->ref.entries && !ws->log.entries) {
		/* Nothing to add: no table, no update index used. */
		err = 0;
		goto fail;
	}
	if (sink.file.fd < 0 ?
		    header_limits(add->held.data, add->held.len, &min, &max) :
		    fd_sink_limits(&sink.file, &min, &max)) {
		err = reftable_fail(REFTABLE_FORMAT_ERROR,
				    "the written table has no valid header");
		goto fail;
	}
	if (min > max || min < add->next_update_index) {
		err = reftable_fail(REFTABLE_API_ERROR,
				    "written table covers update indexes "
				    "%llu..%llu, not from the stack's next, "
				    "%llu",
				    (unsigned long long)min,
				    (unsigned long long)max,
				    (unsigned long long)add->next_update_index);
		goto fail;
	}
	if (sink.file.fd < 0) {
		add->held_min = min;
		add->held_max = max;
	} else {
		sink.min = min;
		sink.max = max;
		if ((err = table_sink_keep(&sink)) < 0)
			goto fail;
	}
	add->next_update_index = max + 1;
	reftable_writer_free(w);
	return 0;
fail:
	reftable_writer_free(w);
	buf_release(&add->held); /* this table's, if any: add unheld before */
	table_sink_release(&sink);
	return err;
}

/* Their data is synced or no longer needed: the tables were read, or
 * are listed, through other descriptors. */
static void close_new_fds(struct reftable_addition *add)
{
	size_t i;

	for (i = 0; i < add->new_len; i++)
		if (add->new_fds[i] >= 0) {
			add->st->fs->close(add->st->fs->ctx, add->new_fds[i]);
			add->new_fds[i] = -1;
		}
}

/*
 * Publish the new tables: folded into the auto-compaction they would
 * trigger where that applies (one merged table, one publish, no fsync of
 * the tables it replaces), else listed as they are.
 */
static int fold_or_publish(struct reftable_addition *add, int *published)
{
	struct reftable_stack *st = add->st;
	struct unsynced_tables unsynced;
	char **names;
	size_t i, n = 0;
	int err;

	*published = 0;
	if (add->held.len) {
		err = compact_with_addition(st, &add->lock, &add->held,
					    published);
		if (err || *published)
			return err;
		if ((err = unhold(add)) < 0)
			return err;
	}
	names = reftable_calloc(st->len + add->new_len, sizeof(*names));
	if (!names)
		return REFTABLE_NOMEM_ERROR;
	for (i = 0; i < st->len; i++)
		names[n++] = st->names[i];
	for (i = 0; i < add->new_len; i++)
		names[n++] = add->new_names[i];
	unsynced.fds = add->new_fds;
	unsynced.names = add->new_names;
	unsynced.len = add->new_len;
	err = stack_publish_list(st, &add->lock, names, n, &unsynced,
				 !st->opts.disable_auto_compact, published);
	reftable_free(names); /* the strings belong to st and add */
	return err;
}

int reftable_addition_commit(struct reftable_addition *add)
{
	struct reftable_stack *st = add->st;
	int err, published;

	if (!lockfile_held(&add->lock))
		return reftable_fail(REFTABLE_API_ERROR,
				     "addition already committed");
	if (!add->new_len && !add->held.len) {
		lockfile_release(&add->lock);
		return 0;
	}
	err = fold_or_publish(add, &published);
	close_new_fds(add);
	if (published) {
		/* Listed now: destroy must no longer remove them. */
		names_free(add->new_names, add->new_len);
		add->new_names = NULL;
		add->new_len = add->new_cap = 0;
	}
	if (!err)
		err = stack_reload_published(st);
	if (!err && !st->opts.disable_auto_compact) {
		/*
		 * The addition is published; compaction is housekeeping. A
		 * failure here (a lock held by someone else, say) must not
		 * make the caller believe its update was lost. It is counted
		 * in the compaction stats instead.
		 */
		(void)reftable_stack_auto_compact(st);
	}
	list_snapshot_release(st, &st->published);
	/* Unless a compaction's publish did it, make the rename durable. */
	if (st->dir_sync_pending) {
		int sync_err = stack_fsync_dir(st);
		if (!err)
			err = sync_err;
	}
	return err;
}

void reftable_addition_destroy(struct reftable_addition *add)
{
	struct buf path = BUF_INIT;
	size_t i;

	if (!add)
		return;
	close_new_fds(add);
	/* Tables renamed into place but never listed are garbage. */
	for (i = 0; i < add->new_len; i++)
		if (!stack_path(&path, add->st, add->new_names[i]))
			add->st->fs->unlink(add->st->fs->ctx,
					    (const char *)path.data);
	buf_release(&path);
	names_free(add->new_names, add->new_len);
	reftable_free(add->new_fds);
	buf_release(&add->held);
	lockfile_release(&add->lock);
	reftable_free(add);
}

int reftable_stack_add(struct reftable_stack *st,
		       reftable_write_table_fn write_table, void *arg,
		       unsigned flags)
{
	struct reftable_addition *add = NULL;
	int err;

	err = reftable_stack_new_addition(&add, st, flags);
	if (!err)
		err = reftable_addition_add(add, write_table, arg);
	if (!err)
		err = reftable_addition_commit(add);
	reftable_addition_destroy(add);
	return err;
}

/* --- clean ------------------------------------------------------------ */

struct clean_state {
	struct reftable_stack *st;
	char **victims;
	size_t len, cap;
	int err;
};

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static int collect_unlisted(void *arg, const char *name)
{
	struct clean_state *cs = arg;
	char *copy;

	if (!has_suffix(name, ".ref") ||
	    names_contain(cs->st->names, cs->st->len, name))
		return 0;
	if (REFTABLE_GROW(cs->victims, cs->cap, cs->len + 1) < 0 ||
	    !(copy = reftable_strdup(name))) {
		cs->err = REFTABLE_NOMEM_ERROR;
		return 1;
	}
	cs->victims[cs->len++] = copy;
	return 0;
}

/* The newest update index a table file holds, by name or by header. */
static int table_max_index(struct reftable_stack *st, const char *name,
			   uint64_t *max)
{
	struct reftable_table *t;
	struct buf path = BUF_INIT;
	uint64_t min;
	int err;

	if (!table_name_parse(name, &min, max))
		return 0;
	err = stack_path(&path, st, name);
	if (!err)
		err = reftable_table_open_fs(&t, st->fs,
					     (const char *)path.data);
	buf_release(&path);
	if (err)
		return err;
	*max = reftable_table_max_update_index(t);
	reftable_table_decref(t);
	return 0;
}

int reftable_stack_clean(struct reftable_stack *st)
{
	struct lockfile lk = LOCKFILE_INIT;
	struct clean_state cs = { 0 };
	struct buf path = BUF_INIT;
	uint64_t newest;
	size_t i;
	int err;

	err = stack_lock_list(st, &lk);
	if (err)
		return err;
	err = stack_refresh_locked(st);
	if (err)
		goto done;
	newest = reftable_stack_next_update_index(st) - 1;
	cs.st = st;
	if (st->fs->list_dir(st->fs->ctx, st->dir, collect_unlisted, &cs) < 0) {
		err = reftable_io_fail("list", st->dir);
		goto done;
	}
	err = cs.err;
	for (i = 0; !err && i < cs.len; i++) {
		uint64_t max;

		/*
		 * A table beyond the newest listed one is an addition that
		 * was renamed into place and is about to be listed; one we
		 * cannot read is left alone rather than guessed about.
		 */
		if (table_max_index(st, cs.victims[i], &max) < 0 ||
		    max > newest)
			continue;
		err = stack_path(&path, st, cs.victims[i]);
		if (!err && st->fs->unlink(st->fs->ctx,
					   (const char *)path.data) < 0 &&
		    errno != ENOENT)
			err = reftable_io_fail("remove",
					       (const char *)path.data);
	}
done:
	names_free(cs.victims, cs.len);
	buf_release(&path);
	lockfile_release(&lk);
	return err;
}

/* --- stale locks ------------------------------------------------------ */

struct stale_state {
	struct reftable_stack *st;
	time_t cutoff;
	int broken;
	int err;
};

static int break_if_stale(void *arg, const char *name)
{
	struct stale_state *ss = arg;
	const struct reftable_fs *fs = ss->st->fs;
	struct buf path = BUF_INIT;
	struct stat sb;

	/* Locks, and temporary tables a killed writer left half-written. */
	if (strcmp(name, TABLES_LIST_LOCK) && !has_suffix(name, ".ref.lock") &&
	    !has_suffix(name, ".ref.tmp"))
		return 0;
	if (stack_path(&path, ss->st, name) < 0) {
		ss->err = REFTABLE_NOMEM_ERROR;
		return 1;
	}
	/* A lock's mtime is when its owner created or last wrote it. */
	if (!fs->stat(fs->ctx, (const char *)path.data, &sb) &&
	    sb.st_mtime <= ss->cutoff) {
		if (!fs->unlink(fs->ctx, (const char *)path.data))
			ss->broken++;
		else if (errno != ENOENT)
			ss->err = reftable_io_fail("remove stale lock",
						   (const char *)path.data);
	}
	buf_release(&path);
	return ss->err ? 1 : 0;
}

int reftable_stack_break_stale_locks(struct reftable_stack *st,
				     uint64_t min_age_seconds)
{
	struct stale_state ss = { 0 };
	struct timespec now;

	/* Not time(): it can lag a second behind the clock that stamps a
	 * file just created, and then a fresh lock looks a second young. */
	clock_gettime(CLOCK_REALTIME, &now);
	ss.st = st;
	ss.cutoff = now.tv_sec - (time_t)min_age_seconds;
	if (st->fs->list_dir(st->fs->ctx, st->dir, break_if_stale, &ss) < 0)
		return reftable_io_fail("list", st->dir);
	return ss.err ? ss.err : ss.broken;
}
