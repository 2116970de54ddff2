#ifndef REFTABLE_MERGED_H
#define REFTABLE_MERGED_H

#include "reftable-export.h"

#include <stddef.h>

#include "reftable-iterator.h"
#include "reftable-table.h"

/*
 * The union of an ordered list of tables, oldest first: for equal keys the
 * record of the newest table wins. Deletion records are returned unless
 * suppression is turned on, which is what a reader of a stack wants.
 */
struct reftable_merged;

/* Takes a reference on each table; all must use hash. */
REFTABLE_API
int reftable_merged_new(struct reftable_merged **out,
			struct reftable_table *const *tables, size_t n,
			enum reftable_hash hash);
REFTABLE_API
void reftable_merged_free(struct reftable_merged *m);

REFTABLE_API
void reftable_merged_suppress_deletions(struct reftable_merged *m, int on);

REFTABLE_API
size_t reftable_merged_table_count(const struct reftable_merged *m);
REFTABLE_API
struct reftable_table *reftable_merged_table(const struct reftable_merged *m,
					     size_t i);
REFTABLE_API
enum reftable_hash reftable_merged_hash(const struct reftable_merged *m);
REFTABLE_API
uint64_t reftable_merged_min_update_index(const struct reftable_merged *m);
REFTABLE_API
uint64_t reftable_merged_max_update_index(const struct reftable_merged *m);

REFTABLE_API
int reftable_merged_init_ref_iterator(struct reftable_merged *m,
				      struct reftable_iterator *it);
REFTABLE_API
int reftable_merged_init_log_iterator(struct reftable_merged *m,
				      struct reftable_iterator *it);

/*
 * Point lookups that ask each table directly, newest first. 0: found;
 * 1: absent (or deleted, when deletions are suppressed); < 0: error.
 * read_log gives the newest log entry of name.
 */
REFTABLE_API
int reftable_merged_read_ref(struct reftable_merged *m, const char *name,
			     struct reftable_ref_record *ref);
REFTABLE_API
int reftable_merged_read_log(struct reftable_merged *m, const char *name,
			     struct reftable_log_record *log);

/* Refs of the merged view whose value or peeled value is oid. */
REFTABLE_API
int reftable_merged_refs_for(struct reftable_merged *m, const uint8_t *oid,
			     struct reftable_iterator *it);

#endif
