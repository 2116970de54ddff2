#ifndef REFDB_INTERNAL_H
#define REFDB_INTERNAL_H

/* Internal: what refdb.c (refs), refdb-txn*.c (transactions) and reflog.c
 * share. */

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

/* --- transactions (refdb-txn*.c) --------------------------------------- */

/* Internal update flags, above the public ones. */
enum {
	/* Only a reflog entry: the ref itself is written by another update
	 * (its referent, or the ref HEAD points to). */
	UPD_LOG_ONLY = 1 << 16,
	/* Reached by following HEAD: HEAD logs it already. */
	UPD_VIA_HEAD = 1 << 17,
};

struct txn_ident {
	int set;
	char *name;
	char *email;
	uint64_t time;
	int16_t tz_offset;
};

struct txn_update {
	char *refname;
	char *via; /* the symref this update was reached through, or NULL */
	unsigned flags;
	enum reftable_refdb_new_kind new_kind;
	uint8_t new_oid[REFTABLE_HASH_SIZE_MAX];
	uint8_t new_peeled[REFTABLE_HASH_SIZE_MAX];
	int has_peeled;
	char *new_target;
	enum reftable_refdb_old_kind old_kind;
	uint8_t old_oid[REFTABLE_HASH_SIZE_MAX];
	char *old_target;
	char *message;
	struct txn_ident who;

	/* Found by the checks under the lock. */
	int is_symref;
	uint8_t current[REFTABLE_HASH_SIZE_MAX]; /* resolved old value */
	int queued;
	/* A split symref update: the index of the update of its target, + 1
	 * (0: none). */
	size_t child;
};

struct reftable_refdb_txn {
	struct reftable_refdb *db;
	struct txn_update *u;
	size_t n, cap;
	struct txn_ident who;
	int spoiled; /* the error of a refused add, or 0 */
	int done; /* committed, or closed by a failed prepare */
	/* Held from prepare to commit or free: tables.list.lock. */
	struct reftable_addition *add;
	uint64_t update_index; /* of the table to write */
	uint64_t written_index;
	/* Names the transaction writes (log-only ones excluded), sorted; they
	 * point into u[].refname. */
	const char **names;
	size_t names_n, names_cap;
	size_t records; /* written by the table callback */
};

/* Copy of src into dst (dst->set 0 for NULL). */
int refdb_txn_ident_copy(struct txn_ident *dst,
			 const struct reftable_refdb_ident *src);

/* *dst = a copy of src, NULL for NULL. */
int refdb_dup_opt(char **dst, const char *src);

/* Append a zeroed update; *idx is its index. */
int refdb_txn_push_update(struct reftable_refdb_txn *txn, size_t *idx);

/* All checks, under the lock, against the freshly loaded stack. */
int refdb_txn_check(struct reftable_refdb_txn *txn);

/* The reflog records of one queued update, appended to logs. */
int refdb_txn_update_logs(struct reftable_refdb_txn *txn,
			  const struct txn_update *u,
			  struct reftable_log_record **logs, size_t *n,
			  size_t *cap);

#endif
