/*
 * Relist: put back into tables.list the tables it lost. tables.list is
 * the only record of which tables make up the stack; damaged from
 * outside (truncated, an old copy restored, lines deleted), it no longer
 * names tables that still hold refs. Those tables are still there, and
 * their headers say which update indexes they hold: that is enough to
 * put them back where they belong. Documentation/protocol.md, "Relist".
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "stack-internal.h"

/* An unlisted table: what its header says, and what relist makes of it. */
struct candidate {
	char *name;
	uint64_t min, max;
	int readable;
	int chosen;
};

struct relist {
	struct reftable_stack *st;
	const struct reftable_relist_options *opts;
	struct candidate *c;
	size_t n, cap;
	int err;
};

static int collect_unlisted(void *arg, const char *name)
{
	struct relist *rl = arg;
	struct candidate *c;

	if (!str_ends_with(name, ".ref") ||
	    names_contain(rl->st->names, rl->st->len, name))
		return 0;
	if (REFTABLE_GROW(rl->c, rl->cap, rl->n + 1) < 0) {
		rl->err = REFTABLE_NOMEM_ERROR;
		return 1;
	}
	c = &rl->c[rl->n];
	memset(c, 0, sizeof(*c));
	if (!(c->name = reftable_strdup(name))) {
		rl->err = REFTABLE_NOMEM_ERROR;
		return 1;
	}
	rl->n++;
	return 0;
}

/* The header decides, not the name: a file that does not open as a
 * table of the stack's hash is never listed. */
static int read_header(struct relist *rl, struct candidate *c)
{
	struct reftable_table *t;
	int err = stack_open_table(rl->st, c->name, &t);

	if (err)
		return err == REFTABLE_NOMEM_ERROR ? err : 0;
	c->min = reftable_table_min_update_index(t);
	c->max = reftable_table_max_update_index(t);
	c->readable = c->min <= c->max &&
		      reftable_table_hash(t) == rl->st->hash;
	reftable_table_decref(t);
	return 0;
}

static int by_range(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	if (x->min != y->min)
		return x->min < y->min ? -1 : 1;
	if (x->max != y->max)
		return x->max > y->max ? -1 : 1; /* the widest first */
	return strcmp(x->name, y->name);
}

/*
 * The unlisted tables that fill [lo, hi], in order: from lo, the widest
 * table starting there (a compaction's output rather than its inputs),
 * then on from its end. Where no table starts at the next index, the
 * next one that starts later (the indexes in between are lost anyway).
 */
static void fill_gap(struct relist *rl, uint64_t lo, uint64_t hi,
		     char **out, size_t *n)
{
	uint64_t next = lo;
	size_t i;

	for (i = 0; i < rl->n; i++) {
		struct candidate *c = &rl->c[i];

		if (!c->readable || c->min < next || c->max > hi)
			continue;
		c->chosen = 1;
		out[(*n)++] = c->name;
		if (c->max == UINT64_MAX)
			break;
		next = c->max + 1;
	}
}

/* The new list: the listed tables as they are, the lost ones in the
 * gaps of update indexes before, between and after them. */
static size_t merge_lists(struct relist *rl, char **out)
{
	struct reftable_stack *st = rl->st;
	uint64_t lo = 0;
	size_t i, n = 0;

	for (i = 0; i < st->len; i++) {
		uint64_t min = reftable_table_min_update_index(st->tables[i]);

		if (min > lo)
			fill_gap(rl, lo, min - 1, out, &n);
		out[n++] = st->names[i];
		lo = reftable_table_max_update_index(st->tables[i]) + 1;
	}
	fill_gap(rl, lo, UINT64_MAX, out, &n);
	return n;
}

static void report(struct relist *rl, const struct candidate *c)
{
	struct reftable_relist_report r;

	if (!rl->opts->report)
		return;
	r.name = c->name;
	r.listed = c->chosen;
	r.min = c->min;
	r.max = c->max;
	r.why = c->chosen ? "fills update indexes no listed table holds" :
		!c->readable ? "not a readable table of this stack's hash" :
			       "its update indexes overlap the list's: a "
			       "leftover, for clean";
	rl->opts->report(rl->opts->report_arg, &r);
}

/* Publish names, syncing the relisted tables first: their writers may
 * have died before making them durable. */
static int publish(struct relist *rl, struct list_change *ch, char **names,
		   size_t n)
{
	struct reftable_stack *st = rl->st;
	struct unsynced_tables sync = { 0 };
	struct buf path = BUF_INIT;
	char **chosen = reftable_calloc(rl->n + 1, sizeof(*chosen));
	int *fds = reftable_calloc(rl->n + 1, sizeof(*fds));
	size_t i, k = 0;
	int err = chosen && fds ? 0 : REFTABLE_NOMEM_ERROR;

	for (i = 0; !err && i < rl->n; i++) {
		if (!rl->c[i].chosen)
			continue;
		err = stack_path(&path, st, rl->c[i].name);
		if (!err && (fds[k] = st->fs->open(st->fs->ctx,
				(const char *)path.data, O_RDONLY, 0)) < 0)
			err = reftable_io_fail("open", (const char *)path.data);
		if (!err)
			chosen[k++] = rl->c[i].name;
	}
	sync.fds = fds;
	sync.names = chosen;
	sync.len = k;
	if (!err)
		err = list_change_publish(ch, names, n, &sync);
	for (i = 0; i < k; i++)
		st->fs->close(st->fs->ctx, fds[i]);
	reftable_free(fds);
	reftable_free(chosen);
	buf_release(&path);
	return err;
}

int reftable_stack_relist(struct reftable_stack *st,
			  const struct reftable_relist_options *opts)
{
	static const struct reftable_relist_options defaults = { 0 };
	struct relist rl = { st, opts ? opts : &defaults, NULL, 0, 0, 0 };
	struct list_change ch = { 0 };
	char **names = NULL;
	size_t i, n = 0, relisted = 0;
	int err, end_err;

	err = list_change_begin(&ch, st);
	if (!err && !list_change_is_current(&ch))
		err = stack_reload_now(st);
	if (!err && st->fs->list_dir(st->fs->ctx, st->dir, collect_unlisted,
				     &rl) < 0 && !rl.err)
		err = reftable_io_fail("list", st->dir);
	if (!err)
		err = rl.err;
	for (i = 0; !err && i < rl.n; i++)
		err = read_header(&rl, &rl.c[i]);
	if (!err) {
		if (rl.n)
			qsort(rl.c, rl.n, sizeof(*rl.c), by_range);
		names = reftable_calloc(st->len + rl.n + 1, sizeof(*names));
		if (!names)
			err = REFTABLE_NOMEM_ERROR;
	}
	if (!err) {
		n = merge_lists(&rl, names);
		relisted = n - st->len;
	}
	if (!err && relisted && !(rl.opts->flags & REFTABLE_RELIST_DRY_RUN))
		err = publish(&rl, &ch, names, n);
	end_err = list_change_end(&ch);
	if (!err)
		err = end_err;
	if (!err && ch.published)
		err = stack_reload_published(st);
	list_snapshot_release(st, &st->published);
	if (!err && st->dir_sync_pending)
		err = stack_fsync_dir(st);
	if (err && ch.published)
		err = reftable_fail_committed(err);
	for (i = 0; !err && i < rl.n; i++)
		report(&rl, &rl.c[i]);
	for (i = 0; i < rl.n; i++)
		reftable_free(rl.c[i].name);
	reftable_free(rl.c);
	reftable_free(names);
	return err ? err : (int)relisted;
}
