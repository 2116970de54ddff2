#ifndef REFTABLE_TABLE_H
#define REFTABLE_TABLE_H

#include "reftable-export.h"

#include <stddef.h>
#include <stdint.h>

#include "reftable-iterator.h"
#include "reftable-record.h"

/*
 * One reftable, read-only. Opening checks the header and footer (magic,
 * version, hash id, CRC-32, section positions inside the file); blocks are
 * checked as they are read, so corrupt bytes give REFTABLE_FORMAT_ERROR,
 * never a crash.
 *
 * Tables are reference counted: iterators and merged views hold a
 * reference, so a table outlives a reload that drops it from a stack.
 */
struct reftable_table;

/* Open the file at path read-only: mapped, or read into memory if it is
 * small (32 KiB or less). The table's name is the base name of path. */
REFTABLE_API
int reftable_table_open(struct reftable_table **out, const char *path);

/* The same, through a replaceable filesystem (see reftable-fs.h). */
struct reftable_fs;
REFTABLE_API
int reftable_table_open_fs(struct reftable_table **out,
			   const struct reftable_fs *fs, const char *path);

/*
 * Read a table from memory. The bytes are not copied: they must stay
 * valid and unchanged while the table lives. name is for messages.
 */
REFTABLE_API
int reftable_table_from_buffer(struct reftable_table **out, const void *data,
			       size_t len, const char *name);

REFTABLE_API
void reftable_table_incref(struct reftable_table *t);
REFTABLE_API
void reftable_table_decref(struct reftable_table *t);

REFTABLE_API
const char *reftable_table_name(const struct reftable_table *t);
REFTABLE_API
uint64_t reftable_table_min_update_index(const struct reftable_table *t);
REFTABLE_API
uint64_t reftable_table_max_update_index(const struct reftable_table *t);
REFTABLE_API
enum reftable_hash reftable_table_hash(const struct reftable_table *t);
REFTABLE_API
int reftable_table_version(const struct reftable_table *t);
REFTABLE_API
uint32_t reftable_table_block_size(const struct reftable_table *t);
REFTABLE_API
uint64_t reftable_table_size(const struct reftable_table *t);

/*
 * The ref record named name, deletions included. 0: found; 1: no record;
 * < 0: error. ref is filled as by an iterator.
 */
REFTABLE_API
int reftable_table_read_ref(struct reftable_table *t, const char *name,
			    struct reftable_ref_record *ref);

/*
 * Lookups on a table with 64 KiB of refs or more switch to a hash index
 * after one lookup per KiB of refs; it costs 10 bytes per ref, built in
 * two passes over the refs. enable = 0 keeps this table to its block
 * index (an index already built stays unused until the table is freed);
 * enable = 1 counts lookups afresh. Set it before sharing the table
 * between threads.
 */
REFTABLE_API
void reftable_table_set_lookup_index(struct reftable_table *t, int enable);

REFTABLE_API
int reftable_table_init_ref_iterator(struct reftable_table *t,
				     struct reftable_iterator *it);
REFTABLE_API
int reftable_table_init_log_iterator(struct reftable_table *t,
				     struct reftable_iterator *it);

/*
 * An iterator over the refs whose value or peeled value is oid, in name
 * order (through the object index when the table has one). Already
 * positioned: call next.
 */
REFTABLE_API
int reftable_table_refs_for(struct reftable_table *t, const uint8_t *oid,
			    struct reftable_iterator *it);

#endif
