#ifndef REFTABLE_REFDB_H
#define REFTABLE_REFDB_H

#include "reftable-export.h"

#include <stddef.h>
#include <stdint.h>

#include "reftable-iterator.h"
#include "reftable-record.h"
#include "reftable-stack.h"

/*
 * The ref database: what a version-control system calls. It sits on one
 * stack and behaves like Git's reftable backend, so a stack it changes
 * stays a valid stack for Git and a Git repository's .git/reftable/ can be
 * used through it.
 *
 * Return values follow reftable-error.h: 0 on success, 1 for "not found"
 * or "end" where documented, a negative REFTABLE_*_ERROR otherwise. Every
 * failure leaves a one-line reason in reftable_error_detail(), naming the
 * ref and the check that failed, for example
 * "refs/heads/main: expected 1111... but it is at 2222...".
 *
 * Object ids are passed as raw bytes of the stack's hash size (20 for
 * SHA-1, 32 for SHA-256). An id of all zero bytes is the "null id" and
 * means "the ref does not exist" wherever an old value is expected.
 *
 * Thread safety: a refdb handle, like the stack handle it wraps, is not
 * thread-safe: use one handle per thread (each its own
 * reftable_refdb_open; handles of one directory in one or many processes
 * coordinate through the stack's lock files), or serialize every call on
 * a shared handle, including the use of its transactions and iterators.
 * An iterator holds references on the tables it reads: it stays valid,
 * and keeps seeing the same snapshot, when its handle reloads, and may be
 * moved to another thread as long as only one thread uses it at a time.
 * Records filled by the library belong to the caller.
 */
struct reftable_refdb;

/* Which updates write a reflog entry; Git's core.logAllRefUpdates. */
enum reftable_refdb_log_policy {
	/* Git's default for a non-bare repository (core.logAllRefUpdates =
	 * true): HEAD, refs/heads/, refs/remotes/ and refs/notes/, and any
	 * ref whose reflog already exists. */
	REFTABLE_REFDB_LOG_NORMAL = 0,
	/* Every ref (core.logAllRefUpdates = always). */
	REFTABLE_REFDB_LOG_ALWAYS = 1,
	/* Only refs whose reflog already exists (= false, and Git's default
	 * for a bare repository). */
	REFTABLE_REFDB_LOG_EXISTING = 2,
};

/*
 * The policy Git uses for a repository: value is the text of
 * core.logAllRefUpdates as the config file gives it (NULL: the key is
 * absent; "" or a key without "=" count as Git counts them), bare whether
 * the repository is bare (core.bare). "always" (any case) is ALWAYS; a
 * true boolean is NORMAL; a false one is EXISTING; absent is NORMAL, or
 * EXISTING in a bare repository. 0, or REFTABLE_API_ERROR for a value
 * that is neither "always" nor a boolean (Git refuses to run with it).
 * key_present distinguishes "core.logAllRefUpdates" written without a
 * value (true) from an absent key.
 */
REFTABLE_API
int reftable_refdb_log_policy_from_config(enum reftable_refdb_log_policy *out,
					  int key_present, const char *value,
					  int bare);

/* Who made a change, as a reflog entry records it. */
struct reftable_refdb_ident {
	const char *name;
	const char *email;
	uint64_t time; /* seconds since the epoch; 0: the current time */
	/* The committer's UTC offset written the way Git stores it: the
	 * decimal digits of "-0530" as the integer -530, "+0200" as 200. */
	int16_t tz_offset;
};

struct reftable_refdb_options {
	/* The stack under the database. Its on_reload callback is passed
	 * through: it is called after a reload changed the loaded tables,
	 * so the embedding program can drop caches. */
	struct reftable_stack_options stack;
	enum reftable_refdb_log_policy log_policy;
	/* The committer of updates that name none; NULL fields become "". */
	struct reftable_refdb_ident committer;
	/* Let transactions write FETCH_HEAD and MERGE_HEAD. Git refuses to
	 * ("refusing to update pseudoref"): they are files outside the ref
	 * database in a Git repository. Off by default. */
	int allow_pseudorefs;
};

/* Fill opts with the defaults (also the stack's). Call before setting. */
REFTABLE_API
void reftable_refdb_options_init(struct reftable_refdb_options *opts);

/* Open the database over the stack in dir; opts may be NULL. */
REFTABLE_API
int reftable_refdb_open(struct reftable_refdb **out, const char *dir,
			const struct reftable_refdb_options *opts);
REFTABLE_API
void reftable_refdb_close(struct reftable_refdb *db);

/* The stack underneath, for compaction, clean and statistics. */
REFTABLE_API
struct reftable_stack *reftable_refdb_stack(struct reftable_refdb *db);
/* Bytes of an object id in this database: 20 or 32. */
REFTABLE_API
size_t reftable_refdb_hash_size(const struct reftable_refdb *db);

/* Pick up changes made by other handles. Reads below do this first (a
 * stat of tables.list when nothing changed). */
REFTABLE_API
int reftable_refdb_reload(struct reftable_refdb *db);

/* --- ref names ------------------------------------------------------- */

enum reftable_refname_flags {
	/* Accept a name of one component ("HEAD", "foo"). */
	REFTABLE_REFNAME_ALLOW_ONELEVEL = 1 << 0,
	/* Accept one "*" in the name, as in a refspec pattern. */
	REFTABLE_REFNAME_REFSPEC_PATTERN = 1 << 1,
};

/*
 * The rules of `git check-ref-format`: 0 if name is well formed, else
 * REFTABLE_REFNAME_ERROR with the broken rule in the detail. A name may
 * not: be empty or "@"; begin or end with "/" or hold "//"; have a
 * component that begins with "." or ends with ".lock"; hold "..", "@{",
 * a byte below 0x20 or 0x7f, or any of space ~ ^ : ? * [ \; end with ".".
 * Without ALLOW_ONELEVEL it must have at least two components.
 */
REFTABLE_API
int reftable_refname_check_format(const char *name, unsigned flags);

/*
 * What a transaction accepts as the name of a ref it sets to an object
 * id, as Git's transactions do: any name that passes the check above with
 * ALLOW_ONELEVEL ("refs/heads/x", "HEAD", also "foo", "main" or "foo/bar",
 * which Git writes too), except the pseudorefs FETCH_HEAD and MERGE_HEAD,
 * which Git keeps outside the database and refuses to write (see
 * allow_pseudorefs). 0 or REFTABLE_REFNAME_ERROR.
 */
REFTABLE_API
int reftable_refname_check_writable(const char *name, int allow_pseudorefs);

/*
 * What a transaction accepts as the name of a ref it deletes, verifies or
 * makes a symref (Git's "safe" names): under "refs/", a rest that is not
 * empty and has no empty, "." or ".." component; outside "refs/", only
 * upper-case letters and "_" (so Git refuses `git update-ref -d foo` and
 * `symref-update foo ...` although it writes `foo` with an id). The
 * pseudorefs as above. 0 or REFTABLE_REFNAME_ERROR.
 */
REFTABLE_API
int reftable_refname_check_safe(const char *name, int allow_pseudorefs);

/* 1 if name has the form of a root ref: one component of upper-case
 * letters, "_" and "-" (HEAD, ORIG_HEAD, CHERRY_PICK_HEAD...), else 0. */
REFTABLE_API
int reftable_refname_is_root_ref(const char *name);

/* --- reading --------------------------------------------------------- */

/*
 * The ref named name, as stored (a symref is not followed). 0: found and
 * written to ref; 1: no such ref; < 0: error. ref must be zeroed or a
 * record the library filled before; release it with
 * reftable_ref_record_release().
 */
REFTABLE_API
int reftable_refdb_read_ref(struct reftable_refdb *db, const char *name,
			    struct reftable_ref_record *ref);

/* How many symrefs resolve follows before giving up, as Git does. */
#define REFTABLE_REFDB_SYMREF_MAX_DEPTH 5

/*
 * Follow name through symbolic refs to a ref holding an object id, the way
 * Git resolves HEAD. At most REFTABLE_REFDB_SYMREF_MAX_DEPTH refs are
 * read: a chain of more symrefs, or a cycle, is REFTABLE_SYMREF_ERROR.
 * 0: ref is the final ref (refname is its name, value_type VAL1 or VAL2).
 * 1: the chain ends at a ref that does not exist (an unborn branch): ref
 *    has that missing name, value_type REFTABLE_REF_DELETION and a null
 *    value. 1 also when name itself does not exist.
 */
REFTABLE_API
int reftable_refdb_resolve(struct reftable_refdb *db, const char *name,
			   struct reftable_ref_record *ref);

/*
 * Iterate the refs whose names start with prefix ("" or NULL: all refs,
 * root refs such as HEAD included), in name order, deletions left out.
 * The iterator comes back positioned; read it with
 * reftable_iterator_next_ref() and free it with reftable_iterator_destroy().
 * Seeking it again stays inside the prefix.
 */
REFTABLE_API
int reftable_refdb_init_ref_iterator(struct reftable_refdb *db,
				     struct reftable_iterator *it,
				     const char *prefix);

/* Iterate the refs whose value or peeled value is oid. */
REFTABLE_API
int reftable_refdb_init_refs_for_iterator(struct reftable_refdb *db,
					  struct reftable_iterator *it,
					  const uint8_t *oid);

/* --- transactions ---------------------------------------------------- */

/*
 * A transaction collects updates, then applies all of them or none: one
 * table, one stack addition, one update index, holding the ref records
 * and the reflog entries of the change.
 *
 * Commit takes tables.list.lock, reloads the stack under the lock if
 * another writer moved it, and only then checks every expectation against
 * that view: a change made by anyone between reading a value and
 * committing is seen and fails the check. Nothing is written unless all
 * checks pass.
 *
 * Updates follow symrefs like Git's (REFTABLE_REFDB_NO_DEREF to write the
 * symref itself): an update of a symref becomes a log-only update of the
 * symref plus the same update of the ref it names, which may be a symref
 * again, so a new symref value in deref mode repoints the ref at the end
 * of the chain. Reflog entries follow the log policy.
 *
 * HEAD, as Git's reftable backend treats it: every update of the ref HEAD
 * names directly (whatever it does: a verify, a no-op, a new symref value)
 * is mirrored by a log-only update of HEAD. So HEAD's reflog gets an entry
 * whenever that ref is written, including an update that leaves it as it
 * is (the entry then has old id = new id), a deletion of an unborn HEAD's
 * branch (two null ids) and a new symref value (new id null); and a
 * transaction that names HEAD and also HEAD's referent is refused
 * (REFTABLE_NAME_CONFLICT_ERROR, "multiple updates for 'HEAD' (including
 * one via its referent ...)"), except when the referent is reached by
 * following HEAD itself. A symref written through logs too, even when the
 * ref at the end of its chain is left as it is. Deleting a regular ref
 * deletes its reflog; deleting a symref itself (NO_DEREF) logs an entry
 * with a null new id. An update of a regular ref that leaves it as it is
 * writes nothing for that ref.
 */
struct reftable_refdb_txn;

enum reftable_refdb_update_flags {
	/* Write the named ref itself even if it is a symref, instead of the
	 * ref it points to (git update-ref --no-deref). */
	REFTABLE_REFDB_NO_DEREF = 1 << 0,
	/* Write a reflog entry whatever the log policy says. */
	REFTABLE_REFDB_FORCE_LOG = 1 << 1,
	/* Write no reflog entry for this update. */
	REFTABLE_REFDB_SKIP_LOG = 1 << 2,
	/* Do not check the name (to repair or delete a badly named ref). */
	REFTABLE_REFDB_SKIP_NAME_CHECK = 1 << 3,
};

/* The new value an update writes. */
enum reftable_refdb_new_kind {
	REFTABLE_REFDB_NEW_NONE = 0, /* verify only: write nothing */
	REFTABLE_REFDB_NEW_OID,      /* new_oid (and new_peeled if set) */
	REFTABLE_REFDB_NEW_SYMREF,   /* a symref to new_target */
	REFTABLE_REFDB_NEW_DELETE,   /* delete the ref and its reflog */
};

/* The value an update expects to find (compare-and-swap). */
enum reftable_refdb_old_kind {
	REFTABLE_REFDB_OLD_ANY = 0, /* no check */
	REFTABLE_REFDB_OLD_ABSENT,  /* the ref must not exist */
	REFTABLE_REFDB_OLD_OID,     /* it (resolved) must be at old_oid; a
				       null old_oid means OLD_ABSENT */
	REFTABLE_REFDB_OLD_SYMREF,  /* it must be a symref to old_target */
};

struct reftable_refdb_update {
	const char *refname;
	enum reftable_refdb_new_kind new_kind;
	const uint8_t *new_oid;    /* NEW_OID */
	const uint8_t *new_peeled; /* NEW_OID of an annotated tag, or NULL */
	const char *new_target;    /* NEW_SYMREF */
	enum reftable_refdb_old_kind old_kind;
	const uint8_t *old_oid;    /* OLD_OID */
	const char *old_target;    /* OLD_SYMREF */
	/* The reflog message, normalized as Git does: whitespace runs become
	 * one space, leading and trailing whitespace goes, and the stored
	 * message is that single line plus "\n". NULL is "". As in Git, the
	 * line is cut to half the block size (2048 bytes with the default
	 * 4096-byte blocks) so an entry fits a log block; the cut is silent,
	 * so a caller that must not lose text checks the length first. */
	const char *message;
	/* NULL: the transaction's committer. */
	const struct reftable_refdb_ident *committer;
	unsigned flags; /* enum reftable_refdb_update_flags */
};

/* committer may be NULL: the database's. It is copied. */
REFTABLE_API
int reftable_refdb_txn_begin(struct reftable_refdb_txn **out,
			     struct reftable_refdb *db,
			     const struct reftable_refdb_ident *committer);

/*
 * Queue an update; everything it points to is copied. A malformed update
 * (bad name, bad flags, missing value) is refused here with
 * REFTABLE_REFNAME_ERROR or REFTABLE_API_ERROR, and the transaction is
 * then spoiled: its commit fails with that error and writes nothing.
 */
REFTABLE_API
int reftable_refdb_txn_add(struct reftable_refdb_txn *txn,
			   const struct reftable_refdb_update *u);

/*
 * Shorthands in the manner of git update-ref. old_oid NULL: no check; a
 * null old_oid: the ref must not exist; else the ref must be at old_oid.
 */
REFTABLE_API
int reftable_refdb_txn_update(struct reftable_refdb_txn *txn,
			      const char *refname, const uint8_t *new_oid,
			      const uint8_t *old_oid, unsigned flags,
			      const char *message);
/* Create: the ref must not exist. */
REFTABLE_API
int reftable_refdb_txn_create(struct reftable_refdb_txn *txn,
			      const char *refname, const uint8_t *new_oid,
			      unsigned flags, const char *message);
REFTABLE_API
int reftable_refdb_txn_delete(struct reftable_refdb_txn *txn,
			      const char *refname, const uint8_t *old_oid,
			      unsigned flags, const char *message);
/* old_oid must be given (a null one: the ref must not exist). */
REFTABLE_API
int reftable_refdb_txn_verify(struct reftable_refdb_txn *txn,
			      const char *refname, const uint8_t *old_oid,
			      unsigned flags);
/* Point refname at target (as with NO_DEREF: the symref itself is
 * written). old_target NULL: no check. */
REFTABLE_API
int reftable_refdb_txn_symref(struct reftable_refdb_txn *txn,
			      const char *refname, const char *target,
			      const char *old_target, unsigned flags,
			      const char *message);

/*
 * Lock and check, as Git's `prepare`: takes tables.list.lock (held until
 * commit or free), reloads under it and runs every check below, so a
 * failed expectation is reported here. After prepare only commit and
 * free are allowed. A failed prepare releases the lock and closes the
 * transaction; commit calls prepare itself when it was not called.
 */
REFTABLE_API
int reftable_refdb_txn_prepare(struct reftable_refdb_txn *txn);

/*
 * Check and write everything, or nothing. Errors:
 *   REFTABLE_CAS_ERROR            an expected old value did not match
 *   REFTABLE_NAME_CONFLICT_ERROR  refs/a beside refs/a/b (existing or in
 *                                 this transaction), or two updates of
 *                                 one ref through a symref
 *   REFTABLE_REFNAME_ERROR        a bad name (from txn_add)
 *   REFTABLE_SYMREF_ERROR         a symref chain too deep or a cycle
 *   REFTABLE_API_ERROR            the same ref queued twice, or misuse
 *   REFTABLE_LOCK_ERROR           tables.list.lock held past the timeout
 * plus I/O errors. A transaction can be committed once.
 */
REFTABLE_API
int reftable_refdb_txn_commit(struct reftable_refdb_txn *txn);

/* The update index the commit wrote, 0 if it wrote nothing. */
REFTABLE_API
uint64_t reftable_refdb_txn_update_index(const struct reftable_refdb_txn *txn);

/* Free the transaction; an uncommitted one is dropped (Git's abort), and
 * a prepared one releases its lock. */
REFTABLE_API
void reftable_refdb_txn_free(struct reftable_refdb_txn *txn);

/* --- reflogs ----------------------------------------------------------- */

/*
 * Iterate the reflog of refname, newest entry first (read with
 * reftable_iterator_next_log). Deleted entries and Git's "reflog exists"
 * markers (entries with two null ids) are left out.
 */
REFTABLE_API
int reftable_refdb_init_reflog_iterator(struct reftable_refdb *db,
					struct reftable_iterator *it,
					const char *refname);

/* The same entries as an array, newest first; free it with
 * reftable_refdb_reflog_free. *n is 0 when there is no reflog. */
REFTABLE_API
int reftable_refdb_read_reflog(struct reftable_refdb *db, const char *refname,
			       struct reftable_log_record **logs, size_t *n);
REFTABLE_API
void reftable_refdb_reflog_free(struct reftable_log_record *logs, size_t n);

/* 1 if refname has a reflog (even an empty one), 0 if not, < 0 error. */
REFTABLE_API
int reftable_refdb_reflog_exists(struct reftable_refdb *db,
				 const char *refname);

/* Make an empty reflog exist (Git's marker entry), if none exists. */
REFTABLE_API
int reftable_refdb_reflog_create(struct reftable_refdb *db,
				 const char *refname);

/* Delete the whole reflog: a deletion record for each entry. */
REFTABLE_API
int reftable_refdb_reflog_delete(struct reftable_refdb *db,
				 const char *refname);

enum reftable_reflog_expire_flags {
	/* Repair the chain: an entry after removed ones gets as old id the
	 * new id of the entry now before it (git reflog --rewrite). */
	REFTABLE_REFLOG_REWRITE = 1 << 0,
	/* Compute and report, write nothing. */
	REFTABLE_REFLOG_DRY_RUN = 1 << 1,
};

/*
 * Delete one entry, named by its update index: one deletion record (and
 * with REFTABLE_REFLOG_REWRITE the rewritten next entry). When it was the
 * last entry the reflog is kept, empty, as Git keeps it.
 * 1 if there is no such entry.
 */
REFTABLE_API
int reftable_refdb_reflog_delete_entry(struct reftable_refdb *db,
				       const char *refname,
				       uint64_t update_index, unsigned flags);

/*
 * Which entries reftable_refdb_reflog_expire removes: an entry goes if it
 * is older than expire_time (time < expire_time; 0 = no limit), or if
 * keep_newest is not 0 and keep_newest newer entries precede it, or if
 * should_prune (may be NULL) returns non-zero for it.
 */
struct reftable_reflog_expiry {
	uint64_t expire_time;
	size_t keep_newest;
	int (*should_prune)(const struct reftable_log_record *log, void *arg);
	void *should_prune_arg;
	unsigned flags; /* enum reftable_reflog_expire_flags */
};

/*
 * Expire entries of refname's reflog (every reflog if refname is NULL),
 * in one table: deletion records for the removed entries. A reflog left
 * without entries keeps existing, as in Git. *removed (may be NULL) gets
 * the number of entries removed.
 */
REFTABLE_API
int reftable_refdb_reflog_expire(struct reftable_refdb *db,
				 const char *refname,
				 const struct reftable_reflog_expiry *expiry,
				 size_t *removed);

#endif
