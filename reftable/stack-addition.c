/*
 * Additions: a new table (or a few) on top of the stack, published in one
 * list change, folded into the compaction it triggers where that applies.
 * Documentation/protocol.md, "Adding a table", says why each step is safe.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "reftable-writer.h"
#include "stack-internal.h"
#include "table.h"

struct reftable_addition {
	struct reftable_stack *st;
	struct list_change change; /* holds tables.list.lock until commit */
	/*
	 * The first table, while the commit may still fold it into a
	 * compaction (at most FOLD_MAX_BYTES, auto-compaction on): held in
	 * memory, so that a fold never writes it to a file of its own. Only
	 * ever the sole table: a second one sends it to its file first.
	 */
	struct buf held;
	uint64_t held_min, held_max;
	/* The bytes of new_names[kept_at], once held (if small), for the
	 * reload after the commit (stack_keep_fresh). */
	struct buf kept;
	size_t kept_at;
	/* Renamed into place, not yet listed, not yet made durable. */
	char **new_names;
	size_t new_len, new_cap;
	int *new_fds; /* the descriptors that wrote them, until commit */
	size_t fds_cap;
	uint64_t next_update_index;
	unsigned flags; /* enum reftable_addition_flags */
};

int reftable_stack_new_addition(struct reftable_addition **out,
				struct reftable_stack *st, unsigned flags)
{
	struct reftable_addition *add;
	int err;

	*out = NULL;
	add = reftable_calloc(1, sizeof(*add));
	if (!add)
		return REFTABLE_NOMEM_ERROR;
	add->st = st;
	add->flags = flags;
	err = list_change_begin(&add->change, st);
	if (err)
		goto fail;
	if (!list_change_is_current(&add->change)) {
		if (!(flags & REFTABLE_ADDITION_RELOAD)) {
			err = reftable_fail(REFTABLE_OUTDATED_ERROR,
					    "%s changed since the stack was "
					    "loaded; reload and retry",
					    st->list_path);
			goto fail;
		}
		err = stack_reload_now(st);
		/* Nobody else can change the list while we hold its lock. */
		if (!err && !list_change_is_current(&add->change))
			err = reftable_fail(REFTABLE_LOCK_ERROR,
					    "%s changed while we held its "
					    "lock; someone removed the lock",
					    st->list_path);
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
	buf_release(&add->kept);
	if (add->held.len <= TABLE_READ_MAX) {
		add->kept = add->held;
		add->kept_at = add->new_len - 1;
		memset(&add->held, 0, sizeof(add->held));
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

	if (!lockfile_held(&add->change.lock))
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
	if (!ws->ref.entries && !ws->log.entries &&
	    !(add->flags & REFTABLE_ADDITION_KEEP_EMPTY)) {
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
static int publish_addition(struct reftable_addition *add)
{
	struct reftable_stack *st = add->st;
	struct unsynced_tables unsynced;
	char **names;
	size_t i, n = 0;
	int err, folded;

	if (add->held.len) {
		err = compact_with_addition(st, &add->change, &add->held,
					    &folded);
		if (err || folded)
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
	err = list_change_publish(&add->change, names, n, &unsynced);
	reftable_free(names); /* the strings belong to st and add */
	if (!err)
		err = list_change_end(&add->change);
	return err;
}

/* A failure after the publish, kept while the steps that must still run
 * run (they may fail too, and overwrite the detail). */
struct first_failure {
	int err;
	char why[256];
};

static void note_failure(struct first_failure *f, int err)
{
	if (!err || f->err)
		return;
	f->err = err;
	snprintf(f->why, sizeof(f->why), "%s", reftable_error_detail());
}

int reftable_addition_commit(struct reftable_addition *add)
{
	struct reftable_stack *st = add->st;
	struct first_failure after = { 0 };
	int err;

	if (!lockfile_held(&add->change.lock) || add->change.published)
		return reftable_fail(REFTABLE_API_ERROR,
				     "addition already committed");
	if (add->change.lock.owner != getpid())
		return reftable_fail(REFTABLE_API_ERROR,
				     "the addition belongs to process %ld; a "
				     "forked child cannot commit it",
				     (long)add->change.lock.owner);
	if (!add->new_len && !add->held.len)
		return list_change_end(&add->change);
	err = publish_addition(add);
	if (!add->change.published)
		return err; /* nothing visible: commit or destroy again */
	/* Listed now: destroy must no longer remove them. */
	close_new_fds(add);
	if (add->kept.len)
		stack_keep_fresh(st, add->new_names[add->kept_at], &add->kept);
	names_free(add->new_names, add->new_len);
	add->new_names = NULL;
	add->new_len = add->new_cap = 0;
	note_failure(&after, err);
	note_failure(&after, stack_reload_published(st));
	if (!after.err && !st->opts.disable_auto_compact) {
		unsigned left = st->locks_left;

		/*
		 * The addition is published; compaction is housekeeping. A
		 * failure here (a lock held by someone else, say) must not
		 * make the caller believe its update was lost. It is counted
		 * in the compaction stats instead, unless it left a lock of
		 * ours behind: that blocks every writer while we live.
		 */
		(void)reftable_stack_auto_compact(st);
		if (st->locks_left != left)
			note_failure(&after, reftable_fail(
				REFTABLE_LOCK_ERROR, "auto-compaction left a "
				"lock behind, which blocks every writer until "
				"this process exits (then `reftable unlock` "
				"removes it): %s", st->lock_left_why));
	}
	list_snapshot_release(st, &st->published);
	/* Unless a compaction's publish did it, make the rename durable. */
	if (st->dir_sync_pending)
		note_failure(&after, stack_fsync_dir(st));
	if (!after.err)
		return 0;
	reftable_fail(after.err, "%s", after.why);
	return reftable_fail_committed(after.err);
}

void reftable_addition_destroy(struct reftable_addition *add)
{
	char detail[REFTABLE_DETAIL_SIZE];
	struct buf path = BUF_INIT;
	size_t i;

	if (!add)
		return;
	error_detail_save(detail);
	close_new_fds(add);
	/* Tables renamed into place but never listed are garbage, unless
	 * the addition is a forked child's copy: they are the parent's. */
	for (i = 0; i < add->new_len; i++)
		if (add->change.lock.owner == getpid() &&
		    !stack_path(&path, add->st, add->new_names[i]))
			add->st->fs->unlink(add->st->fs->ctx,
					    (const char *)path.data);
	buf_release(&path);
	names_free(add->new_names, add->new_len);
	reftable_free(add->new_fds);
	buf_release(&add->held);
	buf_release(&add->kept);
	list_change_end(&add->change);
	reftable_free(add);
	error_detail_restore(detail);
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

