#ifndef REFTABLE_WRITER_H
#define REFTABLE_WRITER_H

#include "reftable-export.h"

#include <stdint.h>
#include <sys/types.h>

#include "reftable-record.h"

#define REFTABLE_MAX_BLOCK_SIZE 16777215u /* the format's 24-bit field */
#define REFTABLE_MIN_BLOCK_SIZE 128u      /* room for a header and a record */

/* How a table is laid out. Zero-initialized options give Git's defaults. */
struct reftable_write_options {
	uint32_t block_size;        /* 0: 4096; at most 16777215 */
	uint16_t restart_interval;  /* 0: 16; at most 65535 */
	enum reftable_hash hash_id; /* 0: SHA-1 (version 1); SHA-256 is version 2 */
	int unpadded;               /* do not pad ref, obj and index blocks */
	int skip_index_objects;     /* write no object-id index */
};

/* What a writer wrote, per block type. */
struct reftable_block_stats {
	uint64_t entries;      /* records */
	uint64_t restarts;     /* restart points */
	uint64_t blocks;       /* blocks of this type */
	uint64_t index_blocks; /* index blocks over this section */
	int max_index_level;   /* 0: no index */
	uint64_t offset;       /* where the section starts */
	uint64_t index_offset; /* where its top-level index starts, 0 if none */
};

struct reftable_write_stats {
	struct reftable_block_stats ref, obj, idx, log;
	uint64_t blocks;    /* all blocks */
	int object_id_len;  /* abbreviation length in the object index */
	uint64_t bytes;     /* size of the table */
	uint64_t log_bytes_uncompressed; /* log block bytes before deflate */
};

struct reftable_writer;

/*
 * The writer hands the table's bytes, in order, to write(arg, buf, len),
 * which returns len on success or a negative value on failure (then the
 * writer returns REFTABLE_IO_ERROR).
 */
typedef ssize_t (*reftable_write_fn)(void *arg, const void *buf, size_t len);

REFTABLE_API
int reftable_writer_new(struct reftable_writer **out, reftable_write_fn write,
			void *arg, const struct reftable_write_options *opts);

/*
 * The update-index range recorded in the header. Call before adding any
 * record. Ref records must lie inside [min, max]; log records at most max.
 */
REFTABLE_API
int reftable_writer_set_limits(struct reftable_writer *w, uint64_t min,
			       uint64_t max);

/*
 * Add records in key order: all refs (by name) first, then all logs (by
 * name, then update index, newest first). Out-of-order and duplicate keys,
 * records too large for a block and update indexes outside the limits are
 * refused with their own error codes. Log messages are written exactly as
 * given.
 */
REFTABLE_API
int reftable_writer_add_ref(struct reftable_writer *w,
			    const struct reftable_ref_record *ref);
REFTABLE_API
int reftable_writer_add_log(struct reftable_writer *w,
			    const struct reftable_log_record *log);

/*
 * Finish the table: flush the last block, write indexes and the footer. A
 * table without records is valid (a header and a footer). After close only
 * reftable_writer_stats() and reftable_writer_free() may be called.
 */
REFTABLE_API
int reftable_writer_close(struct reftable_writer *w);

REFTABLE_API
const struct reftable_write_stats *
reftable_writer_stats(const struct reftable_writer *w);

REFTABLE_API
void reftable_writer_free(struct reftable_writer *w);

#endif
