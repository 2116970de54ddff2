#ifndef CLI_BLOCKS_INTERNAL_H
#define CLI_BLOCKS_INTERNAL_H

/*
 * Internal to the table walker of blocks.h: what blocks.c (primitives),
 * blocks-file.c, blocks-walk.c, blocks-records.c and blocks-check.c share.
 */

#include "blocks.h"

/* What the walk collects for the checks across blocks. */

struct index_entry {
	size_t block; /* the index block holding it */
	struct key key;
	uint64_t child;
};

struct obj_entry {
	uint8_t prefix[REFTABLE_HASH_SIZE_MAX];
	uint64_t block; /* a ref block start; UINT64_MAX: "all blocks" */
};

struct walk {
	struct tfile *f;
	struct problems *p;
	struct index_entry *idx;
	size_t nidx, idx_cap;
	struct obj_entry *from_refs, *from_objs;
	size_t nrefs, refs_cap, nobjs, objs_cap;
	struct key last_data_key[3]; /* ref, obj, log: across blocks */
	int seen_data[3];
};

/* Big-endian integers. */
uint32_t be16(const uint8_t *p);
uint32_t be24(const uint8_t *p);
uint32_t be32(const uint8_t *p);
uint64_t be64(const uint8_t *p);

/* The format's varint: bytes read, or 0 if truncated or too large. */
size_t varint(const uint8_t *p, size_t len, uint64_t *out);

void key_set(struct key *k, const uint8_t *data, size_t len);
int key_cmp(const struct key *a, const struct key *b);
/* A printable, shortened form of a key for messages. */
const char *show_key(const struct key *k, char *buf, size_t cap);

/* 0, 1, 2 for ref, obj, log blocks; -1 for others. */
int data_slot(uint8_t type);

/* Decode and check the records of block bi, len bytes of data. */
void walk_records(struct walk *w, size_t bi, const uint8_t *data,
		  size_t len, size_t hdr);

/* Every check that needs all the blocks, after a walk that saw them all. */
void check_blocks(struct walk *w);

#endif
