#ifndef REFTABLE_RECORD_H
#define REFTABLE_RECORD_H

#include "reftable-export.h"

#include <stddef.h>
#include <stdint.h>

/* The object-id hashes a table can use. 0 in options means SHA-1. */
enum reftable_hash {
	REFTABLE_HASH_SHA1 = 1,
	REFTABLE_HASH_SHA256 = 2,
};

#define REFTABLE_HASH_SIZE_SHA1 20
#define REFTABLE_HASH_SIZE_SHA256 32
#define REFTABLE_HASH_SIZE_MAX 32

/* Bytes in an object id of the given hash (20 or 32), 0 if unknown. */
REFTABLE_API
size_t reftable_hash_size(enum reftable_hash hash);

enum reftable_ref_value_type {
	REFTABLE_REF_DELETION = 0, /* tombstone: hides the ref in older tables */
	REFTABLE_REF_VAL1 = 1,     /* one object id */
	REFTABLE_REF_VAL2 = 2,     /* an annotated tag's id and its peeled id */
	REFTABLE_REF_SYMREF = 3,   /* a symbolic ref: the name of another ref */
};

/*
 * A ref record.
 *
 * Ownership: a record filled by the library (by an iterator or a lookup)
 * owns its strings and reuses their storage on the next fill, so reading
 * many records into one struct allocates only while the strings grow.
 * Release such a record with reftable_ref_record_release(). A record that
 * the caller fills to write may point its strings anywhere; leave the _cap
 * fields 0 and the library never frees them.
 */
struct reftable_ref_record {
	char *refname;       /* NUL-terminated */
	uint64_t update_index;
	enum reftable_ref_value_type value_type;
	uint8_t value[REFTABLE_HASH_SIZE_MAX];  /* VAL1 and VAL2 */
	uint8_t peeled[REFTABLE_HASH_SIZE_MAX]; /* VAL2 only */
	char *target;        /* SYMREF only, NUL-terminated */
	size_t refname_cap, target_cap;
};

enum reftable_log_value_type {
	REFTABLE_LOG_DELETION = 0, /* hides a log entry of older tables */
	REFTABLE_LOG_UPDATE = 1,
};

/*
 * A reflog record. Its key is (refname, update_index), newest first.
 *
 * tz_offset is stored and returned exactly as the table holds it. Git
 * writes the committer's offset as decimal hours and minutes (-0530 is
 * stored as -530), not as minutes; layers that format dates must read it
 * that way. Strings are NUL-terminated; ownership as for ref records.
 */
struct reftable_log_record {
	char *refname;
	uint64_t update_index;
	enum reftable_log_value_type value_type;
	uint8_t old_id[REFTABLE_HASH_SIZE_MAX];
	uint8_t new_id[REFTABLE_HASH_SIZE_MAX];
	char *name;
	char *email;
	uint64_t time;
	int16_t tz_offset;
	char *message;
	size_t refname_cap, name_cap, email_cap, message_cap;
};

/* Free the storage the library allocated for a record, and zero it. */
REFTABLE_API
void reftable_ref_record_release(struct reftable_ref_record *ref);
REFTABLE_API
void reftable_log_record_release(struct reftable_log_record *log);

/* Deep copies; dst must be zeroed or a library-owned record. */
REFTABLE_API
int reftable_ref_record_copy(struct reftable_ref_record *dst,
			     const struct reftable_ref_record *src);
REFTABLE_API
int reftable_log_record_copy(struct reftable_log_record *dst,
			     const struct reftable_log_record *src);

/* Field-by-field equality, comparing hash_size bytes of object ids. */
REFTABLE_API
int reftable_ref_record_equal(const struct reftable_ref_record *a,
			      const struct reftable_ref_record *b,
			      size_t hash_size);
REFTABLE_API
int reftable_log_record_equal(const struct reftable_log_record *a,
			      const struct reftable_log_record *b,
			      size_t hash_size);

/* The object ids of a ref, or NULL if it has none of that kind. */
REFTABLE_API
const uint8_t *reftable_ref_record_val1(const struct reftable_ref_record *ref);
REFTABLE_API
const uint8_t *reftable_ref_record_val2(const struct reftable_ref_record *ref);

/* Key order: refname bytewise; logs then by update index, newest first. */
REFTABLE_API
int reftable_ref_record_compare(const struct reftable_ref_record *a,
				const struct reftable_ref_record *b);
REFTABLE_API
int reftable_log_record_compare(const struct reftable_log_record *a,
				const struct reftable_log_record *b);

#endif
