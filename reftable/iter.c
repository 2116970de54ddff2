/* The public iterator calls, and an iterator over records in memory. */

#include "basics.h"
#include "iter.h"

static int api_error(void)
{
	return reftable_fail(REFTABLE_API_ERROR,
			     "iterator not initialized or wrong kind");
}

int reftable_iterator_seek_ref(struct reftable_iterator *it, const char *name)
{
	if (!it->ops || !it->ops->seek_ref)
		return api_error();
	return it->ops->seek_ref(it->impl, name);
}

int reftable_iterator_seek_log_at(struct reftable_iterator *it,
				  const char *name, uint64_t update_index)
{
	if (!it->ops || !it->ops->seek_log)
		return api_error();
	return it->ops->seek_log(it->impl, name, update_index);
}

int reftable_iterator_seek_log(struct reftable_iterator *it, const char *name)
{
	return reftable_iterator_seek_log_at(it, name, UINT64_MAX);
}

int reftable_iterator_next_ref(struct reftable_iterator *it,
			       struct reftable_ref_record *ref)
{
	if (!it->ops || !it->ops->next_ref)
		return api_error();
	return it->ops->next_ref(it->impl, ref);
}

int reftable_iterator_next_log(struct reftable_iterator *it,
			       struct reftable_log_record *log)
{
	if (!it->ops || !it->ops->next_log)
		return api_error();
	return it->ops->next_log(it->impl, log);
}

void reftable_iterator_destroy(struct reftable_iterator *it)
{
	if (it->ops && it->ops->destroy)
		it->ops->destroy(it->impl);
	it->ops = NULL;
	it->impl = NULL;
}

struct list_iter {
	struct reftable_ref_record *refs;
	size_t n, pos;
};

static int list_seek_ref(void *impl, const char *name)
{
	struct list_iter *li = impl;
	for (li->pos = 0; li->pos < li->n; li->pos++)
		if (strcmp(li->refs[li->pos].refname, name) >= 0)
			break;
	return 0;
}

static int list_next_ref(void *impl, struct reftable_ref_record *ref)
{
	struct list_iter *li = impl;
	if (li->pos >= li->n)
		return 1;
	return reftable_ref_record_copy(ref, &li->refs[li->pos++]);
}

static void list_destroy(void *impl)
{
	struct list_iter *li = impl;
	size_t i;
	for (i = 0; i < li->n; i++)
		reftable_ref_record_release(&li->refs[i]);
	reftable_free(li->refs);
	reftable_free(li);
}

static const struct reftable_iterator_ops list_ops = {
	.seek_ref = list_seek_ref,
	.next_ref = list_next_ref,
	.destroy = list_destroy,
};

int list_ref_iterator(struct reftable_iterator *it,
		      struct reftable_ref_record *refs, size_t n)
{
	struct list_iter *li = reftable_calloc(1, sizeof(*li));
	if (!li) {
		size_t i;
		for (i = 0; i < n; i++)
			reftable_ref_record_release(&refs[i]);
		reftable_free(refs);
		return REFTABLE_NOMEM_ERROR;
	}
	li->refs = refs;
	li->n = n;
	iterator_set(it, &list_ops, li);
	return 0;
}
