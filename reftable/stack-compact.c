/*
 * Compaction: merging a run of adjacent tables into one, following the
 * steps of the format document (see Documentation/protocol.md), and the
 * geometric rule that picks the run after each addition.
 */

#include <errno.h>
#include <string.h>

#include "constants.h"
#include "reftable-merged.h"
#include "reftable-writer.h"
#include "stack-internal.h"
#include "table.h"

/* older < newer * factor, without overflowing. */
static int breaks_sequence(uint64_t older, uint64_t newer, unsigned factor)
{
	if (newer > UINT64_MAX / factor)
		return 1;
	return older < newer * factor;
}

struct segment suggest_compaction_segment(const uint64_t *sizes, size_t n,
					  unsigned factor)
{
	struct segment seg = { 0, 0, 0 };
	uint64_t acc = 0;
	size_t i;

	if (n < 2)
		return seg;
	/*
	 * Walk from the newest table towards the oldest, looking for the
	 * first table whose older neighbour is not factor times larger.
	 * That table ends the run; the tables newer than it already form
	 * a valid geometric tail and are left alone.
	 */
	for (i = n - 1; i > 0; i--)
		if (breaks_sequence(sizes[i - 1], sizes[i], factor))
			break;
	if (i == 0)
		return seg;
	seg.end = i + 1;
	acc = sizes[i];
	/*
	 * Grow the run downwards: an older table joins if it is not factor
	 * times larger than everything merged above it. Keep looking past
	 * a table that does not join, since an even older one may still
	 * be too small for the merged result.
	 */
	for (; i > 0; i--) {
		uint64_t above = acc;

		acc += sizes[i - 1];
		if (breaks_sequence(sizes[i - 1], above, factor)) {
			seg.start = i - 1;
			seg.bytes = acc;
		}
	}
	return seg;
}

/*
 * The segment of the loaded tables, followed by a table of *extra bytes
 * if extra is not NULL (an addition's, not yet listed). Sizes are
 * measured as Git measures them: the file less its footer and less its
 * header but one byte. With the footer counted, small tables looked alike
 * (68 bytes each of the same overhead) and an addition of one ref next to
 * a table of a few refs was compacted where Git keeps two tables (Git's
 * t0610 worktree tests and t0614 count them).
 */
static struct segment stack_segment(struct reftable_stack *st,
				    const uint64_t *extra)
{
	struct segment seg = { 0, 0, 0 };
	size_t i, n = st->len + (extra != NULL);
	uint64_t *sizes;
	uint64_t overhead;
	int version;

	if (n < 2)
		return seg;
	sizes = reftable_calloc(n, sizeof(*sizes));
	if (!sizes)
		return seg; /* no compaction is always a safe answer */
	version = st->hash == REFTABLE_HASH_SHA256 ? 2 : 1;
	overhead = (uint64_t)footer_size(version) + header_size(version) - 1;
	for (i = 0; i < n; i++) {
		uint64_t sz = i < st->len ? reftable_table_size(st->tables[i])
					  : *extra;
		sizes[i] = sz > overhead ? sz - overhead : 0;
	}
	seg = suggest_compaction_segment(sizes, n,
					 st->opts.auto_compaction_factor);
	reftable_free(sizes);
	return seg;
}

enum compact_mode { COMPACT_AUTO, COMPACT_ALL };

struct compaction {
	struct reftable_stack *st;
	enum compact_mode mode;
	const struct reftable_log_expiry *expiry;
	struct list_change change; /* tables.list.lock, while held */

	/* The inputs, oldest first, each with its NAME.lock. */
	char **names;
	struct reftable_table **tables;
	struct lockfile *locks;
	size_t len;
	/* Tables to be appended after locking: 1 in a fold, which holds the
	 * list lock throughout and so syncs the merged table with the list,
	 * not right after writing it. */
	size_t unlisted;
	int bottom; /* the inputs start at the bottom of the stack */

	struct buf tmp;
	int tmp_fd;
	/* The merged table's bytes while it is small (TABLE_READ_MAX), for
	 * the reload after the publish (stack_keep_fresh). */
	struct buf kept;
	int kept_all;
	uint64_t min, max;
	uint64_t bytes, entries;
	char *new_name;
};

static void compaction_init(struct compaction *c, struct reftable_stack *st,
			    enum compact_mode mode)
{
	memset(c, 0, sizeof(*c));
	c->st = st;
	c->mode = mode;
	c->tmp_fd = -1;
	c->change.lock.fd = -1;
}

static void compaction_release(struct compaction *c)
{
	const struct reftable_fs *fs = c->st->fs;
	size_t i;

	if (c->tmp_fd >= 0)
		fs->close(fs->ctx, c->tmp_fd);
	if (c->tmp.len)
		fs->unlink(fs->ctx, (const char *)c->tmp.data);
	buf_release(&c->tmp);
	buf_release(&c->kept);
	for (i = 0; i < c->len; i++) {
		if (c->locks)
			stack_release_lock(c->st, &c->locks[i]);
		if (c->tables && c->tables[i])
			reftable_table_decref(c->tables[i]);
	}
	names_free(c->names, c->len);
	reftable_free(c->tables);
	reftable_free(c->locks);
	reftable_free(c->new_name);
	list_change_end(&c->change);
}

/* Which tables to merge, under the list lock. first > last: nothing. */
static void choose_range(struct compaction *c, size_t *first, size_t *last)
{
	struct reftable_stack *st = c->st;
	int expire = c->expiry &&
		     (c->expiry->time || c->expiry->min_update_index);

	*first = 1;
	*last = 0;
	if (c->mode == COMPACT_ALL) {
		if (st->len >= 2 || (st->len == 1 && expire)) {
			*first = 0;
			*last = st->len - 1;
		}
		return;
	}
	{
		struct segment seg = stack_segment(st, NULL);
		if (seg.end >= seg.start + 2) {
			*first = seg.start;
			*last = seg.end - 1;
		}
	}
}

/*
 * A fold's claim on a table: that nobody else has one. Claims are only
 * ever taken under tables.list.lock (compaction step 2, here as in Git),
 * and the fold holds that lock until it has published, so a table
 * unclaimed now stays so; taking a claim of our own would only add a
 * file to create and remove to every transaction.
 */
static int check_unclaimed(struct reftable_stack *st, const char *lock_path)
{
	struct stat sb;

	if (st->fs->stat(st->fs->ctx, lock_path, &sb) < 0 && errno == ENOENT)
		return 0;
	/* Claimed, or unknown: either way not ours to merge. */
	return reftable_fail(REFTABLE_LOCK_ERROR, "%s: table claimed",
			     lock_path);
}

/*
 * Step 2: lock the chosen tables, newest first, without waiting (a fold
 * only checks that they are unlocked). In automatic mode a table locked
 * by another compactor ends the run: the newer tables above it are
 * merged alone. An explicit full compaction fails instead.
 */
static int lock_inputs(struct compaction *c, size_t first, size_t last)
{
	struct reftable_stack *st = c->st;
	size_t n = last - first + 1, i, got = 0;
	struct buf path = BUF_INIT;
	int err = 0;

	/* Room for the unlisted tables a fold appends. */
	c->locks = reftable_calloc(n + c->unlisted, sizeof(*c->locks));
	c->names = reftable_calloc(n + c->unlisted, sizeof(*c->names));
	c->tables = reftable_calloc(n + c->unlisted, sizeof(*c->tables));
	if (!c->locks || !c->names || !c->tables)
		return REFTABLE_NOMEM_ERROR;
	for (i = 0; i < n + c->unlisted; i++)
		c->locks[i].fd = -1;

	/* Fill from the end of the arrays, so they stay oldest first. */
	for (i = n; i-- > 0;) {
		err = stack_path(&path, st, st->names[first + i]);
		if (!err && buf_addstr(&path, ".lock") < 0)
			err = REFTABLE_NOMEM_ERROR;
		if (!err && c->unlisted)
			err = check_unclaimed(st, (const char *)path.data);
		else if (!err)
			err = lockfile_acquire(&c->locks[i], st->fs,
					       (const char *)path.data,
					       (mode_t)st->opts.file_mode, 0);
		if (err)
			break;
		got++;
	}
	buf_release(&path);
	if (err && !(err == REFTABLE_LOCK_ERROR && c->mode == COMPACT_AUTO))
		goto unwind;
	err = 0;
	/* Nothing left worth merging (a full compaction may rewrite a
	 * single table, to expire its logs). */
	if (got + c->unlisted < 2 && !(c->mode == COMPACT_ALL && got == n))
		goto unwind;
	/* Keep only the locked tail [n - got, n). */
	if (got < n) {
		memmove(c->locks, c->locks + (n - got), got * sizeof(*c->locks));
		for (i = got; i < n; i++)
			c->locks[i].path = NULL, c->locks[i].fd = -1;
	}
	c->len = got;
	first = first + (n - got);
	for (i = 0; i < got; i++) {
		c->names[i] = reftable_strdup(st->names[first + i]);
		if (!c->names[i]) {
			c->len = got;
			return REFTABLE_NOMEM_ERROR;
		}
		c->tables[i] = st->tables[first + i];
		reftable_table_incref(c->tables[i]);
	}
	c->bottom = first == 0;
	c->min = reftable_table_min_update_index(c->tables[0]);
	c->max = reftable_table_max_update_index(c->tables[got - 1]);
	for (i = 0; i < got; i++) {
		uint64_t lo = reftable_table_min_update_index(c->tables[i]);
		uint64_t hi = reftable_table_max_update_index(c->tables[i]);
		if (lo < c->min)
			c->min = lo;
		if (hi > c->max)
			c->max = hi;
	}
	return 0;
unwind:
	for (i = 0; i < n; i++)
		stack_release_lock(c->st, &c->locks[i]);
	return err;
}

static int expired(const struct compaction *c,
		   const struct reftable_log_record *log)
{
	const struct reftable_log_expiry *e = c->expiry;

	if (!e)
		return 0;
	if (e->time && log->value_type == REFTABLE_LOG_UPDATE &&
	    log->time < e->time)
		return 1;
	return e->min_update_index && log->update_index < e->min_update_index;
}

/*
 * Copy the merged records. Deletions must survive a merge above the
 * bottom, where they still hide records of older tables; at the bottom
 * there is nothing left to hide, so they go.
 */
static int copy_records(struct compaction *c, struct reftable_merged *m,
			struct reftable_writer *w)
{
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record ref = { 0 };
	struct reftable_log_record log = { 0 };
	int err;

	err = reftable_merged_init_ref_iterator(m, &it);
	if (!err)
		err = reftable_iterator_seek_ref(&it, "");
	while (!err && (err = reftable_iterator_next_ref(&it, &ref)) == 0) {
		if (c->bottom && ref.value_type == REFTABLE_REF_DELETION)
			continue;
		err = reftable_writer_add_ref(w, &ref);
		c->entries++;
	}
	reftable_iterator_destroy(&it);
	if (err < 0)
		goto done;

	err = reftable_merged_init_log_iterator(m, &it);
	if (!err)
		err = reftable_iterator_seek_log(&it, "");
	while (!err && (err = reftable_iterator_next_log(&it, &log)) == 0) {
		if (c->bottom && log.value_type == REFTABLE_LOG_DELETION)
			continue;
		if (expired(c, &log))
			continue;
		err = reftable_writer_add_log(w, &log);
		c->entries++;
	}
	reftable_iterator_destroy(&it);
done:
	reftable_ref_record_release(&ref);
	reftable_log_record_release(&log);
	return err < 0 ? err : 0;
}

/* The merged table goes to its file, and is kept while it is small. */
struct merged_sink {
	struct fd_sink file;
	struct compaction *c;
};

static ssize_t merged_sink_write(void *arg, const void *data, size_t len)
{
	struct merged_sink *s = arg;
	struct buf *kept = &s->c->kept;

	if (s->c->kept_all && (kept->len + len > TABLE_READ_MAX ||
			       buf_add(kept, data, len) < 0)) {
		s->c->kept_all = 0;
		buf_release(kept);
	}
	return fd_sink_write(&s->file, data, len);
}

/* Step 4: merge the inputs into a temporary file, made durable (in a
 * fold its descriptor stays open instead, for the publish to sync). */
static int write_merged(struct compaction *c)
{
	struct reftable_stack *st = c->st;
	struct reftable_write_options wopts = st->opts.write;
	struct reftable_merged *m = NULL;
	struct reftable_writer *w = NULL;
	struct merged_sink ms = { { 0 }, c };
	struct fd_sink *sink = &ms.file;
	int err;

	err = stack_create_temp(st, c->min, c->max, &c->tmp, &c->tmp_fd);
	if (err)
		return err;
	sink->fs = st->fs;
	sink->fd = c->tmp_fd;
	c->kept_all = 1;
	wopts.hash_id = st->hash;
	err = reftable_merged_new(&m, c->tables, c->len, st->hash);
	if (!err) {
		reftable_merged_suppress_deletions(m, c->bottom);
		err = reftable_writer_new(&w, merged_sink_write, &ms, &wopts);
	}
	if (!err)
		err = reftable_writer_set_limits(w, c->min, c->max);
	if (!err)
		err = copy_records(c, m, w);
	if (!err)
		err = reftable_writer_close(w);
	if (err && sink->failed_errno)
		err = fd_sink_fail(sink, (const char *)c->tmp.data);
	if (!err)
		c->bytes = reftable_writer_stats(w)->bytes;
	if (!err && !c->unlisted)
		err = stack_fsync_fd(st, c->tmp_fd, (const char *)c->tmp.data);
	if (!err && !c->unlisted) {
		int fd = c->tmp_fd;
		c->tmp_fd = -1;
		if (st->fs->close(st->fs->ctx, fd) < 0)
			err = reftable_io_fail("close",
					       (const char *)c->tmp.data);
	}
	reftable_writer_free(w);
	if (m)
		reftable_merged_free(m);
	return err;
}

/*
 * Step 6: where our inputs are in the current tables.list. We hold their
 * locks, so no other compactor can have replaced them; additions only
 * append. Anything else means someone broke the protocol.
 */
static int locate_inputs(struct compaction *c, char *const *names,
			 size_t len, size_t *at)
{
	size_t i;

	for (i = 0; i + c->len <= len; i++) {
		if (names_equal(names + i, c->len, c->names, c->len)) {
			*at = i;
			return 0;
		}
	}
	return reftable_fail(REFTABLE_OUTDATED_ERROR,
			     "%s: the tables being compacted (%s..%s) are no "
			     "longer listed together", c->st->list_path,
			     c->names[0], c->names[c->len - 1]);
}

/*
 * Steps 7 to 9, under ch's lock: rename the merged table into place and
 * publish ch's base with the listed inputs, at base[at], replaced by it.
 * A merged table that ends up unlisted is removed again.
 */
static int publish_at(struct compaction *c, struct list_change *ch, size_t at)
{
	struct reftable_stack *st = c->st;
	size_t listed = c->len - c->unlisted, i, n = 0;
	struct unsynced_tables merged;
	struct buf path = BUF_INIT;
	char **next = NULL;
	int err;

	err = stack_rename_table(st, (const char *)c->tmp.data, c->min,
				 c->max, &c->new_name);
	if (err)
		return err;
	buf_reset(&c->tmp); /* renamed: nothing temporary left to remove */
	next = reftable_calloc(ch->base.len - listed + 1, sizeof(*next));
	if (!next) {
		err = REFTABLE_NOMEM_ERROR;
	} else {
		for (i = 0; i < at; i++)
			next[n++] = ch->base.names[i];
		next[n++] = c->new_name;
		for (i = at + listed; i < ch->base.len; i++)
			next[n++] = ch->base.names[i];
		merged.fds = &c->tmp_fd;
		merged.names = &c->new_name;
		merged.len = c->tmp_fd >= 0;
		err = list_change_publish(ch, next, n, &merged);
		reftable_free(next);
	}
	if (!ch->published && !stack_path(&path, st, c->new_name))
		st->fs->unlink(st->fs->ctx, (const char *)path.data);
	buf_release(&path);
	return err;
}

/* Steps 5 to 9: publish the merged table in place of the inputs, and
 * release the list lock at once. */
static int publish(struct compaction *c)
{
	size_t at = 0;
	int err;

	err = list_change_begin(&c->change, c->st);
	if (!err)
		err = locate_inputs(c, c->change.base.names, c->change.base.len, &at);
	if (!err)
		err = publish_at(c, &c->change, at);
	if (!err)
		err = list_change_end(&c->change);
	return err;
}

/* Step 10: the inputs are unlisted; remove them, then their claims (a
 * fold's addition has neither). A claim left behind blocks every later
 * compaction of the tables after it, so failing to remove one fails. */
static int remove_inputs(struct compaction *c)
{
	struct reftable_stack *st = c->st;
	struct buf path = BUF_INIT;
	size_t i;
	int err = 0, r;

	for (i = 0; i < c->len - c->unlisted; i++) {
		/*
		 * A failure to remove a table is harmless: where open files
		 * cannot be removed (Windows), reftable_stack_clean() gets
		 * them later.
		 */
		if (!stack_path(&path, st, c->names[i]))
			stack_remove_unlisted(st, (const char *)path.data);
		r = stack_release_lock(st, &c->locks[i]);
		if (r < 0 && !err)
			err = r;
	}
	buf_release(&path);
	return err;
}

/*
 * After publishing: only once the new list and its rename are durable
 * may the inputs go. If the directory fsync failed, the list on disk may
 * still name them; they stay for reftable_stack_clean(). Any failure
 * here comes after the commit: REFTABLE_COMMITTED_ERROR.
 */
static int finish_publish(struct compaction *c, int err)
{
	struct reftable_stack *st = c->st;

	if (!err)
		err = stack_fsync_dir(st);
	if (!err)
		err = remove_inputs(c);
	st->stats.bytes += c->bytes;
	st->stats.entries_written += c->entries;
	return reftable_fail_committed(err);
}

static int compact(struct reftable_stack *st, enum compact_mode mode,
		   const struct reftable_log_expiry *expiry)
{
	struct compaction c;
	size_t first, last;
	int err;

	compaction_init(&c, st, mode);
	c.expiry = expiry;
	st->stats.attempts++;

	/* Steps 1 and 2, then 3: the list lock is not held while merging. */
	err = list_change_begin(&c.change, st);
	if (!err && !list_change_is_current(&c.change))
		err = stack_reload_now(st);
	if (err)
		goto done;
	choose_range(&c, &first, &last);
	if (first > last) {
		st->stats.attempts--; /* nothing to do is not an attempt */
		goto done;
	}
	err = lock_inputs(&c, first, last);
	if (err || !c.len) {
		if (!err)
			st->stats.failures++; /* others hold the tables */
		goto done;
	}
	err = list_change_end(&c.change);
	if (!err)
		err = write_merged(&c);
	if (!err)
		err = publish(&c);
	if (c.change.published)
		err = finish_publish(&c, err);
	if (!err && c.kept_all)
		stack_keep_fresh(st, c.new_name, &c.kept);
	if (!err)
		err = stack_reload_published(st);
	if (err && c.change.published)
		err = reftable_fail_committed(err);
done:
	if (err < 0)
		st->stats.failures++;
	list_snapshot_release(st, &st->published);
	compaction_release(&c);
	return err;
}

/* Take the addition's table, unlisted, as the newest input (and c's
 * reference to it). */
static void append_addition(struct compaction *c, struct reftable_table *table)
{
	uint64_t lo = reftable_table_min_update_index(table);
	uint64_t hi = reftable_table_max_update_index(table);

	/* lock_inputs made room; the table is in memory: no name, no lock. */
	c->tables[c->len++] = table;
	if (lo < c->min)
		c->min = lo;
	if (hi > c->max)
		c->max = hi;
}

int compact_with_addition(struct reftable_stack *st, struct list_change *ch,
			  const struct buf *held, int *folded)
{
	uint64_t size = held->len;
	struct segment seg = stack_segment(st, &size);
	struct reftable_table *table;
	struct compaction c;
	int err;

	*folded = 0;
	if (seg.end != st->len + 1 || seg.end < seg.start + 2 ||
	    seg.bytes > FOLD_MAX_BYTES)
		return 0;
	compaction_init(&c, st, COMPACT_AUTO);
	c.unlisted = 1;
	/* Tables others hold: the auto-compaction after the publish tries
	 * again, and counts the attempt. */
	err = lock_inputs(&c, seg.start, st->len - 1);
	if (err || !c.len)
		goto fall_back;
	st->stats.attempts++;
	err = reftable_table_from_buffer(&table, held->data, held->len,
					 "(addition)");
	if (!err) {
		append_addition(&c, table);
		err = write_merged(&c);
	}
	if (!err)
		err = publish_at(&c, ch, st->len - (c.len - c.unlisted));
	*folded = ch->published;
	if (*folded) {
		/* The lock's work is done; release it before the fsync. */
		if (!err)
			err = list_change_end(ch);
		err = finish_publish(&c, err);
		/* The addition's commit reloads next. */
		if (!err && c.kept_all)
			stack_keep_fresh(st, c.new_name, &c.kept);
	}
	if (err < 0)
		st->stats.failures++;
	if (!err || *folded)
		goto done;
fall_back:
	/* Still holding the list: the addition is published as it is. */
	err = 0;
done:
	compaction_release(&c);
	return err;
}

int reftable_stack_compact_all(struct reftable_stack *st,
			       const struct reftable_log_expiry *expiry)
{
	return compact(st, COMPACT_ALL, expiry);
}

int reftable_stack_auto_compact(struct reftable_stack *st)
{
	struct segment seg = stack_segment(st, NULL);

	/* Decide on the loaded stack first: most additions need nothing,
	 * and then should not touch the list lock again. */
	if (seg.end < seg.start + 2)
		return 0;
	return compact(st, COMPACT_AUTO, NULL);
}
