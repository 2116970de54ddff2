/*
 * Git's stack and addition calls on our stack.
 *
 * Git passes write options with each change (addition, compaction); ours
 * takes them when the stack is opened. compat_stack_configure() opens a
 * new handle of ours when the options Git passes differ from the ones the
 * handle has (once per Git ref store in practice: its options do not
 * change after they are read from the config).
 */

#include "compat.h" /* first: Git's headers set the feature macros */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


struct reftable_addition {
	struct lrt_reftable_addition *add;
	struct reftable_stack *st;
	int exact_log_message;
};

static int compat_on_reload(void *arg)
{
	struct reftable_stack *st = arg;

	if (st->git_opts.on_reload)
		st->git_opts.on_reload(st->git_opts.on_reload_payload);
	return 0;
}

static size_t stack_hash_size(struct reftable_stack *st)
{
	return compat_hash_size(lrt_reftable_stack_hash(st->st));
}

int reftable_new_stack(struct reftable_stack **dest, const char *dir,
		       const struct reftable_stack_options *opts)
{
	struct reftable_stack *st = compat_malloc(sizeof(*st));
	int err;

	*dest = NULL;
	if (!st)
		return REFTABLE_OUT_OF_MEMORY_ERROR;
	memset(st, 0, sizeof(*st));
	if (opts)
		st->git_opts = *opts;
	st->dir = compat_malloc(strlen(dir) + 1);
	if (!st->dir) {
		compat_free(st);
		return REFTABLE_OUT_OF_MEMORY_ERROR;
	}
	strcpy(st->dir, dir);
	lrt_reftable_stack_options_init(&st->opts);
	st->opts.write.hash_id = compat_hash_to_ours(st->git_opts.hash_id);
	st->opts.on_reload = compat_on_reload;
	st->opts.on_reload_arg = st;
	compat_fs_init(st);
	st->opts.fs = &st->fs;
	err = lrt_reftable_stack_new(&st->st, dir, &st->opts);
	if (err) {
		reftable_stack_destroy(st);
		return compat_error(err);
	}
	*dest = st;
	return 0;
}

/* Our stack options for Git's write options, on top of the current. */
static struct lrt_reftable_stack_options
options_for(const struct reftable_stack *st,
	    const struct reftable_write_options *w)
{
	struct lrt_reftable_stack_options o = st->opts;

	o.write.block_size = w->block_size;
	o.write.restart_interval = w->restart_interval;
	o.write.unpadded = w->unpadded;
	o.write.skip_index_objects = w->skip_index_objects;
	o.disable_auto_compact = w->disable_auto_compact;
	o.auto_compaction_factor = w->auto_compaction_factor ?
					   w->auto_compaction_factor : 2;
	o.lock_timeout_ms = w->lock_timeout_ms;
	return o;
}

/* Our writer's defaults (reftable-writer.h): 0 means these. */
static uint32_t block_size_of(const struct lrt_reftable_stack_options *o)
{
	return o->write.block_size ? o->write.block_size : 4096;
}

static uint16_t restart_interval_of(const struct lrt_reftable_stack_options *o)
{
	return o->write.restart_interval ? o->write.restart_interval : 16;
}

/* Equal in effect: Git's defaults spelled out do not reopen the stack. */
static int same_options(const struct lrt_reftable_stack_options *a,
			const struct lrt_reftable_stack_options *b)
{
	return block_size_of(a) == block_size_of(b) &&
	       restart_interval_of(a) == restart_interval_of(b) &&
	       a->write.unpadded == b->write.unpadded &&
	       a->write.skip_index_objects == b->write.skip_index_objects &&
	       a->disable_auto_compact == b->disable_auto_compact &&
	       a->auto_compaction_factor == b->auto_compaction_factor &&
	       a->lock_timeout_ms == b->lock_timeout_ms;
}

int compat_stack_configure(struct reftable_stack *st,
			   const struct reftable_write_options *w)
{
	struct lrt_reftable_stack_options o;
	struct lrt_reftable_stack *fresh, **retired;
	int err;

	if (!w)
		return 0;
	st->default_permissions = w->default_permissions;
	o = options_for(st, w);
	if (same_options(&o, &st->opts))
		return 0;
	retired = compat_realloc(st->retired,
				 (st->retired_len + 1) * sizeof(*retired));
	if (!retired)
		return REFTABLE_OUT_OF_MEMORY_ERROR;
	st->retired = retired;
	err = lrt_reftable_stack_new(&fresh, st->dir, &o);
	if (err)
		return compat_error(err);
	st->retired[st->retired_len++] = st->st;
	st->st = fresh;
	st->opts = o;
	/* The new handle may see a newer stack than Git's caches. */
	compat_on_reload(st);
	return 0;
}

void reftable_stack_destroy(struct reftable_stack *st)
{
	size_t i;

	if (!st)
		return;
	lrt_reftable_stack_destroy(st->st);
	for (i = 0; i < st->retired_len; i++)
		lrt_reftable_stack_destroy(st->retired[i]);
	compat_free(st->retired);
	compat_free(st->dir);
	compat_free(st);
}

int reftable_stack_reload(struct reftable_stack *st)
{
	return compat_error(lrt_reftable_stack_reload(st->st));
}

uint64_t reftable_stack_next_update_index(struct reftable_stack *st)
{
	return lrt_reftable_stack_next_update_index(st->st);
}

enum reftable_hash reftable_stack_hash_id(struct reftable_stack *st)
{
	return compat_hash_to_git(lrt_reftable_stack_hash(st->st));
}

int reftable_stack_read_ref(struct reftable_stack *st, const char *refname,
			    struct reftable_ref_record *ref)
{
	struct lrt_reftable_ref_record ours = { 0 };
	int err = lrt_reftable_stack_read_ref(st->st, refname, &ours);

	if (!err)
		err = compat_ref_to_git(ref, &ours, stack_hash_size(st));
	else
		err = compat_error(err);
	lrt_reftable_ref_record_release(&ours);
	return err;
}

int reftable_stack_read_log(struct reftable_stack *st, const char *refname,
			    struct reftable_log_record *log)
{
	struct lrt_reftable_log_record ours = { 0 };
	int err = lrt_reftable_stack_read_log(st->st, refname, &ours);

	if (!err)
		err = compat_log_to_git(log, &ours, stack_hash_size(st));
	else
		err = compat_error(err);
	lrt_reftable_log_record_release(&ours);
	return err;
}

int reftable_stack_init_ref_iterator(struct reftable_stack *st,
				     struct reftable_iterator *it)
{
	struct lrt_reftable_iterator ours = { 0 };
	int err = lrt_reftable_stack_init_ref_iterator(st->st, &ours);

	if (err)
		return compat_error(err);
	return compat_iterator_wrap(it, &ours, stack_hash_size(st));
}

int reftable_stack_init_log_iterator(struct reftable_stack *st,
				     struct reftable_iterator *it)
{
	struct lrt_reftable_iterator ours = { 0 };
	int err = lrt_reftable_stack_init_log_iterator(st->st, &ours);

	if (err)
		return compat_error(err);
	return compat_iterator_wrap(it, &ours, stack_hash_size(st));
}

int reftable_stack_new_addition(struct reftable_addition **dest,
				struct reftable_stack *st,
				const struct reftable_write_options *opts,
				unsigned int flags)
{
	struct reftable_addition *add;
	unsigned ours = 0;
	int err;

	*dest = NULL;
	err = compat_stack_configure(st, opts);
	if (err)
		return err;
	add = compat_malloc(sizeof(*add));
	if (!add)
		return REFTABLE_OUT_OF_MEMORY_ERROR;
	memset(add, 0, sizeof(*add));
	add->st = st;
	add->exact_log_message = opts && opts->exact_log_message;
	if (flags & REFTABLE_STACK_NEW_ADDITION_RELOAD)
		ours |= lrt_REFTABLE_ADDITION_RELOAD;
	err = lrt_reftable_stack_new_addition(&add->add, st->st, ours);
	if (err) {
		compat_free(add);
		return compat_error(err);
	}
	*dest = add;
	return 0;
}

/*
 * Git's callback speaks Git's error codes; ours must not read them as
 * its own (Git's -5 is ours -5, a different error), so the code is kept
 * aside and ours is told only that the callback failed.
 */
struct write_call {
	struct compat_write_arg arg;
	int git_err;
};

/*
 * Ours refuses, when a table is written, block sizes below
 * REFTABLE_MIN_BLOCK_SIZE, where not even a block's framing fits. Git's
 * writer takes them and then finds that the first record does not fit:
 * "entry too large", which is what Git reports for them.
 */
static int write_error(const struct reftable_stack *st, int err)
{
	if (err == lrt_REFTABLE_RANGE_ERROR &&
	    block_size_of(&st->opts) < REFTABLE_MIN_BLOCK_SIZE)
		return REFTABLE_ENTRY_TOO_BIG_ERROR;
	return compat_error(err);
}

static int write_trampoline(struct lrt_reftable_writer *w, void *arg)
{
	struct write_call *call = arg;
	int err = compat_write_table(w, &call->arg);

	if (err >= 0)
		return 0; /* Git ignores positive results of the callback */
	call->git_err = err;
	return lrt_REFTABLE_API_ERROR;
}

static int add_table(struct lrt_reftable_addition *add,
		     struct reftable_stack *st, int exact_log_message,
		     int (*write_table)(struct reftable_writer *, void *),
		     void *arg)
{
	struct write_call call = {
		.arg = { write_table, arg, stack_hash_size(st),
			 exact_log_message },
	};
	int err = lrt_reftable_addition_add(add, write_trampoline, &call);

	if (call.git_err)
		return call.git_err;
	return write_error(st, err);
}

int reftable_addition_add(struct reftable_addition *add,
			  int (*write_table)(struct reftable_writer *wr,
					     void *arg),
			  void *arg)
{
	return add_table(add->add, add->st, add->exact_log_message,
			 write_table, arg);
}

int reftable_addition_commit(struct reftable_addition *add)
{
	return compat_error(lrt_reftable_addition_commit(add->add));
}

void reftable_addition_destroy(struct reftable_addition *add)
{
	if (!add)
		return;
	lrt_reftable_addition_destroy(add->add);
	compat_free(add);
}

int reftable_stack_add(struct reftable_stack *st,
		       int (*write_table)(struct reftable_writer *wr,
					  void *write_arg),
		       void *write_arg,
		       const struct reftable_write_options *opts,
		       unsigned flags)
{
	struct reftable_addition *add = NULL;
	int err = reftable_stack_new_addition(&add, st, opts, flags);

	if (!err)
		err = reftable_addition_add(add, write_table, write_arg);
	if (!err)
		err = reftable_addition_commit(add);
	reftable_addition_destroy(add);
	return err;
}

static int count_compaction(struct reftable_stack *st, int err)
{
	st->stats.attempts++;
	if (err)
		st->stats.failures++;
	return write_error(st, err);
}

int reftable_stack_compact_all(struct reftable_stack *st,
			       const struct reftable_write_options *opts,
			       struct reftable_log_expiry_config *config)
{
	struct lrt_reftable_log_expiry expiry = { 0, 0 };
	int err = compat_stack_configure(st, opts);

	if (err)
		return err;
	if (config) {
		expiry.time = config->time;
		expiry.min_update_index = config->min_update_index;
	}
	return count_compaction(st, lrt_reftable_stack_compact_all(
					    st->st, config ? &expiry : NULL));
}

int reftable_stack_auto_compact(struct reftable_stack *st,
				const struct reftable_write_options *opts)
{
	int err = compat_stack_configure(st, opts);

	if (err)
		return err;
	return count_compaction(st, lrt_reftable_stack_auto_compact(st->st));
}

int reftable_stack_clean(struct reftable_stack *st)
{
	return compat_error(lrt_reftable_stack_clean(st->st));
}

struct reftable_compaction_stats *
reftable_stack_compaction_stats(struct reftable_stack *st)
{
	const struct lrt_reftable_compaction_stats *ours =
		lrt_reftable_stack_compaction_stats(st->st);

	st->stats.bytes = ours->bytes;
	st->stats.entries_written = ours->entries_written;
	return &st->stats;
}
