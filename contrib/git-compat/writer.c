/*
 * Git's writer calls on a writer of ours, inside an addition. Git checks
 * what ours does not: update indexes against the limits (logs only
 * against the upper one), and, unless exact_log_message is set, log
 * messages of one line, stored with exactly one trailing newline.
 */

#include "compat.h" /* first: Git's headers set the feature macros */
#include <stdlib.h>
#include <string.h>


struct reftable_writer {
	struct lrt_reftable_writer *w;
	size_t hash_size;
	int exact_log_message;
	uint64_t min, max;
};

int compat_write_table(struct lrt_reftable_writer *w, void *arg)
{
	struct compat_write_arg *a = arg;
	struct reftable_writer gw = {
		.w = w,
		.hash_size = a->hash_size,
		.exact_log_message = a->exact_log_message,
		.min = 0,
		.max = UINT64_MAX,
	};

	return a->write_table(&gw, a->arg);
}

int reftable_writer_set_limits(struct reftable_writer *w, uint64_t min,
			       uint64_t max)
{
	int err = lrt_reftable_writer_set_limits(w->w, min, max);

	if (!err) {
		w->min = min;
		w->max = max;
	}
	return compat_error(err);
}

int reftable_writer_add_ref(struct reftable_writer *w,
			    struct reftable_ref_record *ref)
{
	struct lrt_reftable_ref_record ours;

	if (!ref->refname || ref->update_index < w->min ||
	    ref->update_index > w->max)
		return REFTABLE_API_ERROR;
	compat_ref_from_git(&ours, ref, w->hash_size);
	return compat_error(lrt_reftable_writer_add_ref(w->w, &ours));
}

static int by_refname(const void *a, const void *b)
{
	const struct reftable_ref_record *x = a, *y = b;

	return strcmp(x->refname, y->refname);
}

int reftable_writer_add_refs(struct reftable_writer *w,
			     struct reftable_ref_record *refs, size_t n)
{
	size_t i;
	int err = 0;

	if (n)
		qsort(refs, n, sizeof(*refs), by_refname);
	for (i = 0; !err && i < n; i++)
		err = reftable_writer_add_ref(w, &refs[i]);
	return err;
}

/* The message as Git stores it: one line and one '\n' (malloced). */
static int clean_message(const char *msg, char **out)
{
	size_t len = strlen(msg);
	char *p;

	while (len && msg[len - 1] == '\n')
		len--;
	if (memchr(msg, '\n', len))
		return REFTABLE_API_ERROR;
	p = compat_malloc(len + 2);
	if (!p)
		return REFTABLE_OUT_OF_MEMORY_ERROR;
	memcpy(p, msg, len);
	p[len] = '\n';
	p[len + 1] = '\0';
	*out = p;
	return 0;
}

int reftable_writer_add_log(struct reftable_writer *w,
			    struct reftable_log_record *log)
{
	struct lrt_reftable_log_record ours;
	char *msg = NULL, *cleaned = NULL;
	int err;

	if (log->value_type == REFTABLE_LOG_UPDATE) {
		if (!log->refname || log->update_index > w->max)
			return REFTABLE_API_ERROR;
		msg = log->value.update.message;
		if (msg && !w->exact_log_message) {
			err = clean_message(msg, &cleaned);
			if (err)
				return err;
			msg = cleaned;
		}
	} else if (!log->refname) {
		return REFTABLE_API_ERROR;
	}
	compat_log_from_git(&ours, log, w->hash_size, msg);
	err = compat_error(lrt_reftable_writer_add_log(w->w, &ours));
	compat_free(cleaned);
	return err;
}

/* Log keys: refname ascending, then update index descending. */
static int by_log_key(const void *a, const void *b)
{
	const struct reftable_log_record *x = a, *y = b;
	int c = strcmp(x->refname, y->refname);

	if (c)
		return c;
	if (x->update_index == y->update_index)
		return 0;
	return x->update_index > y->update_index ? -1 : 1;
}

int reftable_writer_add_logs(struct reftable_writer *w,
			     struct reftable_log_record *logs, size_t n)
{
	size_t i;
	int err = 0;

	if (n)
		qsort(logs, n, sizeof(*logs), by_log_key);
	for (i = 0; !err && i < n; i++)
		err = reftable_writer_add_log(w, &logs[i]);
	return err;
}
