#ifndef REFTABLE_ITERATOR_H
#define REFTABLE_ITERATOR_H

#include "reftable-export.h"

#include "reftable-record.h"

/*
 * An iterator over the ref or log records of a table or of merged tables.
 * Initialize it with one of the *_init_*_iterator functions, seek, then
 * call next until it returns 1. It can be seeked again any number of
 * times; a warm iterator does not allocate per record.
 *
 * An iterator holds a reference on the tables it reads, so it stays valid
 * when its stack reloads; it sees the tables of the moment it was made.
 */
struct reftable_iterator_ops;
struct reftable_iterator {
	const struct reftable_iterator_ops *ops;
	void *impl;
};

/* Position at the first ref whose name is >= name ("" for the start). */
REFTABLE_API
int reftable_iterator_seek_ref(struct reftable_iterator *it, const char *name);

/*
 * Position at the newest log entry of name with an update index <=
 * update_index (UINT64_MAX for the newest of all); then the entries of
 * later names follow.
 */
REFTABLE_API
int reftable_iterator_seek_log_at(struct reftable_iterator *it,
				  const char *name, uint64_t update_index);
REFTABLE_API
int reftable_iterator_seek_log(struct reftable_iterator *it, const char *name);

/* 0: a record was read; 1: the end; < 0: an error. */
REFTABLE_API
int reftable_iterator_next_ref(struct reftable_iterator *it,
			       struct reftable_ref_record *ref);
REFTABLE_API
int reftable_iterator_next_log(struct reftable_iterator *it,
			       struct reftable_log_record *log);

/* Release the iterator; safe on a zeroed or destroyed one. */
REFTABLE_API
void reftable_iterator_destroy(struct reftable_iterator *it);

#endif
