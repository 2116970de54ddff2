#ifndef ITER_H
#define ITER_H

/* Internal: the operations behind struct reftable_iterator. */

#include "reftable-iterator.h"

struct reftable_iterator_ops {
	int (*seek_ref)(void *impl, const char *name);
	int (*seek_log)(void *impl, const char *name, uint64_t update_index);
	int (*next_ref)(void *impl, struct reftable_ref_record *ref);
	int (*next_log)(void *impl, struct reftable_log_record *log);
	void (*destroy)(void *impl);
};

static inline void iterator_set(struct reftable_iterator *it,
				const struct reftable_iterator_ops *ops,
				void *impl)
{
	it->ops = ops;
	it->impl = impl;
}

/* An iterator over records held in memory, already in order; takes
 * ownership of the array (released with reftable_ref_record_release). */
int list_ref_iterator(struct reftable_iterator *it,
		      struct reftable_ref_record *refs, size_t n);

#endif
