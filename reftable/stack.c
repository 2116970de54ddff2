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
#include "fs.h"
#include "fsinfo.h"
#include "reftable-merged.h"
#include "reftable-writer.h"
#include "stack-internal.h"
#include "table.h"

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
	return o->fs ? fs_check_size(o->fs) : 0;
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
	stack_drop_fresh(st);
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

void stack_drop_fresh(struct reftable_stack *st)
{
	reftable_free(st->fresh_name);
	st->fresh_name = NULL;
	buf_release(&st->fresh);
}

void stack_keep_fresh(struct reftable_stack *st, const char *name,
		      struct buf *data)
{
	stack_drop_fresh(st);
	if (data->len <= TABLE_READ_MAX)
		st->fresh_name = reftable_strdup(name);
	if (st->fresh_name) {
		st->fresh = *data;
		memset(data, 0, sizeof(*data));
	} else {
		buf_release(data);
	}
}

/*
 * A table is never changed once it has its name, and the fresh bytes are
 * what this handle wrote under that name: reading them back from the file
 * would cost an open, an fstat, a read and a close for the same bytes.
 */
int stack_open_table(struct reftable_stack *st, const char *name,
		     struct reftable_table **out)
{
	struct buf path = BUF_INIT;
	int err;

	if (st->fresh_name && !strcmp(st->fresh_name, name)) {
		err = table_from_owned(out, &st->fresh, name);
		stack_drop_fresh(st);
	} else {
		err = stack_path(&path, st, name);
		if (!err)
			err = reftable_table_open_fs(out, st->fs,
						     (const char *)path.data);
	}
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

static int reload_published(struct reftable_stack *st)
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

int stack_reload_published(struct reftable_stack *st)
{
	int err = reload_published(st);

	stack_drop_fresh(st); /* not named after all: not to be kept */
	return err;
}

/*
 * A list that named tables is only ever replaced, never removed; yet a
 * filesystem may move an open target aside before renaming over it
 * (libfuse's hidden files, NFS's silly rename), and between the two
 * renames there is no tables.list. Reading that as an empty stack would
 * make every ref vanish: it is a list to read again.
 */
static int list_vanished(struct reftable_stack *st, struct list_snapshot *snap)
{
	list_snapshot_release(st, snap);
	return reftable_fail(REFTABLE_NOT_EXIST_ERROR,
			     "%s is missing, though it named %zu tables",
			     st->list_path, st->len);
}

static void reload_backoff(struct reftable_stack *st, int64_t *delay)
{
	*delay = *delay + (int64_t)(stack_random(st) % (uint32_t)(*delay + 1)) + 1;
	if (*delay > 100)
		*delay = 100;
	reftable_sleep_ms(*delay);
}

/*
 * Read tables.list and open its tables. A missing table means either
 * that a compaction replaced it after we read the list (the list then
 * differs: retry) or that the stack is damaged (the list is the same:
 * fail). A list that vanishes while we read it (ESTALE: another host
 * replaced it) has changed, and one that is missing after naming tables
 * is being replaced: read it again. Retries back off until
 * RELOAD_DEADLINE_MS.
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
		if (!err && !snap.ident.exists && st->len)
			err = list_vanished(st, &snap);
		if (err == REFTABLE_NOT_EXIST_ERROR &&
		    reftable_now_ms() <= deadline) {
			reload_backoff(st, &delay);
			continue;
		}
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
		if (err && err != REFTABLE_NOT_EXIST_ERROR) {
			list_snapshot_release(st, &snap);
			return err;
		}
		/* A list gone stale while read again changed too. */
		same = !err && names_equal(snap.names, snap.len, again,
					   again_len);
		names_free(again, again_len);
		if (same || reftable_now_ms() > deadline) {
			err = reftable_fail(
				REFTABLE_NOT_EXIST_ERROR,
				"%s names %s, which does not exist%s",
				st->list_path, failed,
				!same ? " (the list kept changing until the "
					"deadline)" :
				snap.fd >= 0 && !fs_is_local(snap.fd) ?
					" (and the list read here did not "
					"change: the stack is damaged, or a "
					"cache of this host still serves a "
					"list another host replaced)" :
					" (and the list did not change: the "
					"stack is damaged)");
			list_snapshot_release(st, &snap);
			return err;
		}
		list_snapshot_release(st, &snap);
		reload_backoff(st, &delay);
	}
}

static int content_up_to_date(struct reftable_stack *st)
{
	char **names = NULL;
	size_t len = 0;
	int err, same;

	err = list_read_names(st, &names, &len);
	if (err == REFTABLE_NOT_EXIST_ERROR)
		return 0; /* replaced while we read it (ESTALE): changed */
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
		if (errno == ESTALE)
			return 0; /* replaced by another host as we asked */
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
