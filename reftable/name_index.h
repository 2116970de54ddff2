#ifndef NAME_INDEX_H
#define NAME_INDEX_H

/*
 * Internal: a hash index from ref name to record, built for a table that
 * is looked up often. A lookup through the block directory follows a
 * chain of dependent cache misses (directory, block header, restart
 * table, restart keys, records); through this index it is one probe,
 * then the record and the one or two records before it that hold the
 * rest of its name, read at once. The index holds no keys: a probe's
 * candidate is checked against the table's own bytes, so it is exact.
 *
 * Cost: 10 bytes per ref, built in two passes over the ref blocks (about
 * 35 ms for a million refs in memory the process already holds).
 * A table builds it only after one lookup per KiB of refs, when the
 * lookups made have cost about as much, so a short-lived reader never
 * pays for it (table.c).
 */

#include <stddef.h>
#include <stdint.h>

#include "reftable-record.h"

struct reftable_table;
struct name_index;

/* Build the index of t's ref records. REFTABLE_FORMAT_ERROR on bad
 * blocks, REFTABLE_NOMEM_ERROR; *out is untouched on error. */
int name_index_build(struct reftable_table *t, struct name_index **out);
void name_index_free(struct name_index *ix);

/* The longest name a lookup through the index takes; a longer one goes
 * through the block directory. Real names are far shorter. */
#define NAME_INDEX_NAME_MAX 256

/* The ref record named want (at most NAME_INDEX_NAME_MAX bytes): 0 found
 * (ref filled), 1 absent, < 0 error. */
int name_index_lookup(const struct name_index *ix,
		      const struct reftable_table *t, const uint8_t *want,
		      size_t want_len, struct reftable_ref_record *ref);

/* Tests AND the hash with this (default all ones) to force collisions
 * of whole hashes, which real names never produce. */
extern uint64_t name_index_hash_mask;

/* For tests: how the index holds its records (name_index.c says what a
 * link is). */
struct name_index_stats {
	size_t slots, records;
	size_t no_link, one_link, run; /* records by what a lookup reads */
	int mapped; /* the slots are a mapping of their own */
};
void name_index_get_stats(const struct name_index *ix,
			  struct name_index_stats *st);

#endif
