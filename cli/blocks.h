#ifndef CLI_BLOCKS_H
#define CLI_BLOCKS_H

/*
 * An independent reader of the reftable file layout, for `dump --blocks`,
 * `dump --stats` and `verify`. It maps a table and walks every block from
 * the header to the footer, decoding each record with its own code (not
 * the library's), so it can say where a file is wrong instead of only
 * that it is wrong: every problem is reported with its file offset, and
 * the walk goes on past problems as far as it safely can.
 *
 * Layout facts used (Git's reftable format description):
 * - header: "REFT", version (1 or 2), block size (24 bits), min and max
 *   update index (64 bits each); version 2 adds a 4-byte hash id.
 * - footer: a copy of the header, then the positions of the ref index,
 *   obj blocks (shifted left 5, the low 5 bits holding the object id
 *   abbreviation length), obj index, log blocks and log index, then a
 *   CRC-32 of the footer bytes before it.
 * - block: type byte, 24-bit length (from the block's start, which for
 *   the first block is the start of the file), records, 24-bit restart
 *   offsets, a 16-bit restart count. Log blocks are deflated after their
 *   4-byte header and their length is the inflated one. Blocks other
 *   than log blocks may be zero-padded up to the block size.
 */

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* Where problems go: one call per problem found. */
struct problems {
	void (*report)(void *arg, const char *file, uint64_t offset,
		       const char *msg);
	void *arg;
	unsigned long count;
};

/* A key (bytes, not NUL-terminated) held by the walker. */
struct key {
	uint8_t *data;
	size_t len;
};

struct tblock {
	uint64_t start;    /* first byte of the block (0 for the first) */
	uint64_t type_off; /* its type byte */
	uint8_t type;      /* 'r', 'o', 'g' or 'i' */
	uint32_t len;      /* the length field (inflated, for log blocks) */
	uint64_t stored;   /* bytes from start to the end of its data */
	uint64_t span;     /* bytes from start to the next block */
	uint16_t restarts;
	uint32_t records;
	int level;         /* index blocks: 1 over data blocks, 2 over 1... */
	uint8_t indexes;   /* index blocks: type of the blocks below */
	struct key first, last;
};

/* Counts for `dump --stats`. */
struct tstats {
	uint64_t refs[4];        /* by value type: deletion, val1, val2, symref */
	uint64_t logs[2];        /* deletion, update */
	uint64_t obj_records, index_records;
	uint64_t blocks[4];      /* ref, obj, log, index */
	uint64_t bytes[4];       /* bytes of the blocks incl. padding */
	uint64_t padding;
	uint64_t restarts;
	uint64_t log_inflated;   /* inflated bytes of log blocks */
	int max_level[3];        /* deepest index over ref, obj, log */
};

struct tfile {
	char *path;
	const char *name; /* base name of path */
	uint8_t *map; /* the whole file, read into memory */
	size_t size;

	int version;
	uint32_t block_size;
	uint64_t min_ui, max_ui;
	uint32_t hash_id;
	size_t hash_size;
	size_t header_len, footer_len;
	uint64_t footer_start;
	uint64_t ref_index_pos, obj_pos, obj_index_pos, log_pos, log_index_pos;
	unsigned obj_id_len;
	uint32_t crc_stored, crc_actual;
	int header_ok; /* header and footer readable enough to walk blocks */

	struct tblock *blocks;
	size_t nblocks, cap;
	struct tstats stats;
};

/*
 * Map path and read its header and footer. Returns 0, or a non-zero exit
 * code if the file cannot be read at all (the message went to problems
 * when it is the file's fault, to stderr when it is the system's).
 */
int tfile_open(struct tfile *f, const struct cli *cli, const char *path,
	       struct problems *p);
/*
 * Walk every block and record, then check what needs all of them: the
 * indexes, the object index and the footer's positions. Every problem
 * goes to p. Only runs if the header was readable.
 */
void tfile_walk(struct tfile *f, struct problems *p);
void tfile_release(struct tfile *f);

/* "ref", "obj", "log", "index" or "?". */
const char *block_type_name(uint8_t type);
/* Hash id ("sha1"/"sha256"). */
const char *hash_name(size_t hash_size);

/* Report a problem: "file offset: message", formatted. */
void problem(struct problems *p, const struct tfile *f, uint64_t off,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
