#ifndef MERGED_H
#define MERGED_H

/* Internal: the merged view's fields and reusable lookup state. */

#include "basics.h"
#include "reftable-merged.h"

struct table_cursor;

/* Cursors reused across log lookups, so warm lookups do not allocate. */
struct merged_scratch {
	struct table_cursor *cur;
	size_t cap;
	struct buf key;
};
void merged_scratch_release(struct merged_scratch *s);

struct reftable_merged {
	struct reftable_table **tables; /* oldest first */
	size_t n;
	enum reftable_hash hash;
	int suppress_deletions;
};

/* reftable_merged_read_log with the caller's scratch. */
int merged_read_log_with(struct reftable_merged *m, const char *name,
			 struct reftable_log_record *log,
			 struct merged_scratch *s);

#endif
