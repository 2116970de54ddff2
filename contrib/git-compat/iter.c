/*
 * Git's iterator (a struct the caller holds, with an ops pointer and an
 * argument) over one of ours. Ours already survives reloads of its stack
 * (it holds references on its tables); Git's backend still drops its
 * cached iterator on every reload, which costs a seek, nothing more.
 */

#include "compat.h" /* first: Git's headers set the feature macros */
#include <stdint.h>
#include <string.h>


/* Git's headers declare the type and leave it to the implementation. */
struct reftable_iterator_vtable {
	const char *name;
};

static struct reftable_iterator_vtable compat_ops = { "libreftable" };

struct compat_iter {
	struct lrt_reftable_iterator it;
	struct lrt_reftable_ref_record ref;
	struct lrt_reftable_log_record log;
	size_t hash_size;
};

int compat_iterator_wrap(struct reftable_iterator *it,
			 struct lrt_reftable_iterator *ours, size_t hash_size)
{
	struct compat_iter *ci = compat_malloc(sizeof(*ci));

	if (!ci) {
		lrt_reftable_iterator_destroy(ours);
		return REFTABLE_OUT_OF_MEMORY_ERROR;
	}
	memset(ci, 0, sizeof(*ci));
	ci->it = *ours;
	memset(ours, 0, sizeof(*ours));
	ci->hash_size = hash_size;
	reftable_iterator_destroy(it);
	it->ops = &compat_ops;
	it->iter_arg = ci;
	return 0;
}

static struct compat_iter *compat_iter_of(struct reftable_iterator *it)
{
	return it->ops == &compat_ops ? it->iter_arg : NULL;
}

int reftable_iterator_seek_ref(struct reftable_iterator *it, const char *name)
{
	struct compat_iter *ci = compat_iter_of(it);

	if (!ci)
		return REFTABLE_API_ERROR;
	return compat_error(lrt_reftable_iterator_seek_ref(&ci->it, name));
}

int reftable_iterator_seek_log_at(struct reftable_iterator *it,
				  const char *name, uint64_t update_index)
{
	struct compat_iter *ci = compat_iter_of(it);

	if (!ci)
		return REFTABLE_API_ERROR;
	return compat_error(
		lrt_reftable_iterator_seek_log_at(&ci->it, name, update_index));
}

int reftable_iterator_seek_log(struct reftable_iterator *it, const char *name)
{
	return reftable_iterator_seek_log_at(it, name, UINT64_MAX);
}

int reftable_iterator_next_ref(struct reftable_iterator *it,
			       struct reftable_ref_record *ref)
{
	struct compat_iter *ci = compat_iter_of(it);
	int err;

	if (!ci)
		return REFTABLE_API_ERROR;
	err = lrt_reftable_iterator_next_ref(&ci->it, &ci->ref);
	if (err)
		return compat_error(err);
	return compat_ref_to_git(ref, &ci->ref, ci->hash_size);
}

int reftable_iterator_next_log(struct reftable_iterator *it,
			       struct reftable_log_record *log)
{
	struct compat_iter *ci = compat_iter_of(it);
	int err;

	if (!ci)
		return REFTABLE_API_ERROR;
	err = lrt_reftable_iterator_next_log(&ci->it, &ci->log);
	if (err)
		return compat_error(err);
	return compat_log_to_git(log, &ci->log, ci->hash_size);
}

void reftable_iterator_destroy(struct reftable_iterator *it)
{
	struct compat_iter *ci = compat_iter_of(it);

	if (ci) {
		lrt_reftable_iterator_destroy(&ci->it);
		lrt_reftable_ref_record_release(&ci->ref);
		lrt_reftable_log_record_release(&ci->log);
		compat_free(ci);
	}
	it->ops = NULL;
	it->iter_arg = NULL;
}
