#ifndef REFDB_INTERNAL_H
#define REFDB_INTERNAL_H

/* Internal: what refdb.c (refs, transactions) and reflog.c share. */

#include "basics.h"
#include "reftable-refdb.h"

struct reftable_refdb {
	struct reftable_stack *st;
	enum reftable_refdb_log_policy log_policy;
	int allow_pseudorefs;
	/* The default committer, owned copies. */
	char *committer_name;
	char *committer_email;
	uint64_t committer_time;
	int16_t committer_tz;
	/* Reflog messages are cut to half of this, as Git cuts them. */
	uint32_t block_size;
};

/* Copy s into a record's string that the record then owns (its _cap set),
 * so reftable_*_record_release frees it. */
static inline int refdb_own_str(char **dst, size_t *cap, const char *s)
{
	return set_owned_str(dst, cap, s ? s : "", s ? strlen(s) : 0);
}

size_t refdb_hash_size(const struct reftable_refdb *db);

/* *dst = a copy of src, "" for NULL. */
int refdb_dup_or_empty(char **dst, const char *src);

/* Lower-case hex of an object id, into buf of REFDB_HEX_BUF bytes. */
#define REFDB_HEX_BUF (2 * REFTABLE_HASH_SIZE_MAX + 1)
const char *refdb_hex(const struct reftable_refdb *db, const uint8_t *oid,
		      char *buf);

/*
 * Resolve symrefs in the loaded view, without reloading: a transaction
 * resolves under its lock. Reads at most REFTABLE_REFDB_SYMREF_MAX_DEPTH
 * records, like Git. Results as reftable_refdb_resolve.
 */
int refdb_resolve_loaded(struct reftable_refdb *db, const char *name,
			 struct reftable_ref_record *ref);
int refdb_is_null(const struct reftable_refdb *db, const uint8_t *oid);

/*
 * Git's reflog message: whitespace runs become one space, leading and
 * trailing whitespace is dropped, the result is cut to half a block (as
 * Git cuts it, so an entry always fits a log block) and ends in "\n".
 */
int refdb_normalize_message(const struct reftable_refdb *db, struct buf *out,
			    const char *msg);

/* Fill the committer fields of log from who, or the database default. */
int refdb_fill_ident(const struct reftable_refdb *db,
		     struct reftable_log_record *log,
		     const struct reftable_refdb_ident *who);

/* 1 if a log record is Git's "reflog exists" marker (two null ids). */
int refdb_is_marker(const struct reftable_refdb *db,
		    const struct reftable_log_record *log);

/*
 * The live log entries of name in the stack's loaded view, newest first,
 * markers included. The caller frees them with reftable_refdb_reflog_free.
 */
int refdb_collect_logs(struct reftable_refdb *db, const char *name,
		       struct reftable_log_record **out, size_t *n);

/* Append a deletion record of (name, update_index) to a log array. */
int refdb_push_log_deletion(struct reftable_log_record **logs, size_t *n,
			    size_t *cap, const char *name,
			    uint64_t update_index);

/* Sort logs into the writer's key order and add them. */
int refdb_write_logs(struct reftable_writer *w,
		     struct reftable_log_record *logs, size_t n);

/* 1 if the loaded view holds any log record of name, 0 if not. */
int refdb_log_exists(struct reftable_refdb *db, const char *name);

#endif
