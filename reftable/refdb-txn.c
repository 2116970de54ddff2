/*
 * Transactions of the ref database: updates are collected, then checked
 * and written as one table while tables.list.lock is held. The checks
 * follow Git's reftable backend: symrefs are followed by splitting an
 * update in two, the ref HEAD points to also logs to HEAD, and names that
 * would be a directory of each other are refused.
 */

#include <stdlib.h>
#include <string.h>

#include "basics.h"
#include "refdb-internal.h"
#include "refname.h"
#include "reftable-error.h"
#include "reftable-refdb.h"
#include "reftable-stack.h"
#include "reftable-writer.h"

/* --- transactions ----------------------------------------------------- */

/* Internal update flags, above the public ones. */
enum {
	/* Only a reflog entry: the ref itself is written by another update
	 * (its referent, or the ref HEAD points to). */
	UPD_LOG_ONLY = 1 << 16,
	/* Reached by following HEAD: HEAD logs it already. */
	UPD_VIA_HEAD = 1 << 17,
};

#define PUBLIC_FLAGS                                                     \
	(REFTABLE_REFDB_NO_DEREF | REFTABLE_REFDB_FORCE_LOG |            \
	 REFTABLE_REFDB_SKIP_LOG | REFTABLE_REFDB_SKIP_NAME_CHECK)

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
	int done;
	uint64_t update_index; /* of the table to write */
	uint64_t written_index;
	/* Names the transaction writes (log-only ones excluded), sorted; they
	 * point into u[].refname. */
	const char **names;
	size_t names_n, names_cap;
	size_t records; /* written by the table callback */
};

static void ident_release(struct txn_ident *who)
{
	reftable_free(who->name);
	reftable_free(who->email);
	memset(who, 0, sizeof(*who));
}

static int ident_copy(struct txn_ident *dst,
		      const struct reftable_refdb_ident *src)
{
	memset(dst, 0, sizeof(*dst));
	if (!src)
		return 0;
	dst->set = 1;
	dst->time = src->time;
	dst->tz_offset = src->tz_offset;
	if (refdb_dup_or_empty(&dst->name, src->name) < 0 ||
	    refdb_dup_or_empty(&dst->email, src->email) < 0) {
		ident_release(dst);
		return REFTABLE_NOMEM_ERROR;
	}
	return 0;
}

static void update_release(struct txn_update *u)
{
	reftable_free(u->refname);
	reftable_free(u->via);
	reftable_free(u->new_target);
	reftable_free(u->old_target);
	reftable_free(u->message);
	ident_release(&u->who);
	memset(u, 0, sizeof(*u));
}

int reftable_refdb_txn_begin(struct reftable_refdb_txn **out,
			     struct reftable_refdb *db,
			     const struct reftable_refdb_ident *committer)
{
	struct reftable_refdb_txn *txn = reftable_calloc(1, sizeof(*txn));

	*out = NULL;
	if (!txn)
		return REFTABLE_NOMEM_ERROR;
	txn->db = db;
	if (ident_copy(&txn->who, committer) < 0) {
		reftable_free(txn);
		return REFTABLE_NOMEM_ERROR;
	}
	*out = txn;
	return 0;
}

void reftable_refdb_txn_free(struct reftable_refdb_txn *txn)
{
	size_t i;

	if (!txn)
		return;
	for (i = 0; i < txn->n; i++)
		update_release(&txn->u[i]);
	reftable_free(txn->u);
	reftable_free(txn->names);
	ident_release(&txn->who);
	reftable_free(txn);
}

uint64_t reftable_refdb_txn_update_index(const struct reftable_refdb_txn *txn)
{
	return txn->written_index;
}

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = reftable_strdup(src);
	return *dst ? 0 : REFTABLE_NOMEM_ERROR;
}

/* Check an update as the caller gave it; 0 or an error with detail. */
static int validate_update(const struct reftable_refdb_txn *txn,
			   const struct reftable_refdb_update *u)
{
	const struct reftable_refdb *db = txn->db;
	const char *name = u->refname;
	int err;

	if (!name || !*name)
		return reftable_fail(REFTABLE_API_ERROR,
				     "update without a ref name");
	if (u->flags & ~(unsigned)PUBLIC_FLAGS)
		return reftable_fail(REFTABLE_API_ERROR,
				     "%s: unknown update flags 0x%x", name,
				     u->flags & ~(unsigned)PUBLIC_FLAGS);
	if ((u->flags & REFTABLE_REFDB_FORCE_LOG) &&
	    (u->flags & REFTABLE_REFDB_SKIP_LOG))
		return reftable_fail(REFTABLE_API_ERROR,
				     "%s: FORCE_LOG and SKIP_LOG together",
				     name);
	if (!(u->flags & REFTABLE_REFDB_SKIP_NAME_CHECK)) {
		err = reftable_refname_check_writable(name,
						      db->allow_pseudorefs);
		if (err)
			return err;
	}
	switch (u->new_kind) {
	case REFTABLE_REFDB_NEW_NONE:
		if (u->old_kind == REFTABLE_REFDB_OLD_ANY)
			return reftable_fail(REFTABLE_API_ERROR,
					     "%s: verify without an expected "
					     "value", name);
		break;
	case REFTABLE_REFDB_NEW_OID:
		if (!u->new_oid)
			return reftable_fail(REFTABLE_API_ERROR,
					     "%s: new object id missing", name);
		break;
	case REFTABLE_REFDB_NEW_SYMREF:
		if (!u->new_target)
			return reftable_fail(REFTABLE_API_ERROR,
					     "%s: symref target missing", name);
		err = reftable_refname_check_format(
			u->new_target, REFTABLE_REFNAME_ALLOW_ONELEVEL);
		if (err)
			return err;
		break;
	case REFTABLE_REFDB_NEW_DELETE:
		break;
	default:
		return reftable_fail(REFTABLE_API_ERROR,
				     "%s: unknown kind of new value %d", name,
				     (int)u->new_kind);
	}
	switch (u->old_kind) {
	case REFTABLE_REFDB_OLD_ANY:
	case REFTABLE_REFDB_OLD_ABSENT:
		break;
	case REFTABLE_REFDB_OLD_OID:
		if (!u->old_oid)
			return reftable_fail(REFTABLE_API_ERROR,
					     "%s: expected object id missing",
					     name);
		break;
	case REFTABLE_REFDB_OLD_SYMREF:
		if (!u->old_target)
			return reftable_fail(REFTABLE_API_ERROR,
					     "%s: expected symref target missing",
					     name);
		break;
	default:
		return reftable_fail(REFTABLE_API_ERROR,
				     "%s: unknown kind of old value %d", name,
				     (int)u->old_kind);
	}
	return 0;
}

/* Append a zeroed update; returns its index or a negative error. */
static int push_update(struct reftable_refdb_txn *txn, size_t *idx)
{
	if (REFTABLE_GROW(txn->u, txn->cap, txn->n + 1) < 0)
		return REFTABLE_NOMEM_ERROR;
	memset(&txn->u[txn->n], 0, sizeof(txn->u[0]));
	*idx = txn->n++;
	return 0;
}

/* Fill t from the caller's u, normalizing null ids into kinds. */
static int fill_update(struct reftable_refdb_txn *txn, struct txn_update *t,
		       const struct reftable_refdb_update *u)
{
	size_t hs = refdb_hash_size(txn->db);
	int err;

	t->flags = u->flags;
	t->new_kind = u->new_kind;
	t->old_kind = u->old_kind;
	if (u->new_kind == REFTABLE_REFDB_NEW_OID) {
		memcpy(t->new_oid, u->new_oid, hs);
		/* A null new value is a deletion, as in Git. */
		if (refdb_is_null(txn->db, t->new_oid))
			t->new_kind = REFTABLE_REFDB_NEW_DELETE;
		if (u->new_peeled) {
			memcpy(t->new_peeled, u->new_peeled, hs);
			t->has_peeled = 1;
		}
	}
	if (u->old_kind == REFTABLE_REFDB_OLD_OID) {
		memcpy(t->old_oid, u->old_oid, hs);
		if (refdb_is_null(txn->db, t->old_oid))
			t->old_kind = REFTABLE_REFDB_OLD_ABSENT;
	}
	err = dup_opt(&t->refname, u->refname);
	if (!err && u->new_kind == REFTABLE_REFDB_NEW_SYMREF)
		err = dup_opt(&t->new_target, u->new_target);
	if (!err && u->old_kind == REFTABLE_REFDB_OLD_SYMREF)
		err = dup_opt(&t->old_target, u->old_target);
	if (!err)
		err = dup_opt(&t->message, u->message);
	if (!err)
		err = ident_copy(&t->who, u->committer);
	return err;
}

int reftable_refdb_txn_add(struct reftable_refdb_txn *txn,
			   const struct reftable_refdb_update *u)
{
	size_t idx;
	int err;

	if (txn->done)
		return reftable_fail(REFTABLE_API_ERROR,
				     "transaction already committed");
	err = validate_update(txn, u);
	if (!err)
		err = push_update(txn, &idx);
	if (!err) {
		err = fill_update(txn, &txn->u[idx], u);
		if (err) {
			update_release(&txn->u[idx]);
			txn->n--;
		}
	}
	if (err && !txn->spoiled)
		txn->spoiled = err;
	return err;
}

int reftable_refdb_txn_update(struct reftable_refdb_txn *txn,
			      const char *refname, const uint8_t *new_oid,
			      const uint8_t *old_oid, unsigned flags,
			      const char *message)
{
	struct reftable_refdb_update u = {
		.refname = refname,
		.new_kind = REFTABLE_REFDB_NEW_OID,
		.new_oid = new_oid,
		.old_kind = old_oid ? REFTABLE_REFDB_OLD_OID :
				      REFTABLE_REFDB_OLD_ANY,
		.old_oid = old_oid,
		.message = message,
		.flags = flags,
	};
	return reftable_refdb_txn_add(txn, &u);
}

int reftable_refdb_txn_create(struct reftable_refdb_txn *txn,
			      const char *refname, const uint8_t *new_oid,
			      unsigned flags, const char *message)
{
	struct reftable_refdb_update u = {
		.refname = refname,
		.new_kind = REFTABLE_REFDB_NEW_OID,
		.new_oid = new_oid,
		.old_kind = REFTABLE_REFDB_OLD_ABSENT,
		.message = message,
		.flags = flags,
	};
	return reftable_refdb_txn_add(txn, &u);
}

int reftable_refdb_txn_delete(struct reftable_refdb_txn *txn,
			      const char *refname, const uint8_t *old_oid,
			      unsigned flags, const char *message)
{
	struct reftable_refdb_update u = {
		.refname = refname,
		.new_kind = REFTABLE_REFDB_NEW_DELETE,
		.old_kind = old_oid ? REFTABLE_REFDB_OLD_OID :
				      REFTABLE_REFDB_OLD_ANY,
		.old_oid = old_oid,
		.message = message,
		.flags = flags,
	};
	return reftable_refdb_txn_add(txn, &u);
}

int reftable_refdb_txn_verify(struct reftable_refdb_txn *txn,
			      const char *refname, const uint8_t *old_oid,
			      unsigned flags)
{
	struct reftable_refdb_update u = {
		.refname = refname,
		.new_kind = REFTABLE_REFDB_NEW_NONE,
		.old_kind = old_oid ? REFTABLE_REFDB_OLD_OID :
				      REFTABLE_REFDB_OLD_ANY,
		.old_oid = old_oid,
		.flags = flags,
	};
	return reftable_refdb_txn_add(txn, &u);
}

int reftable_refdb_txn_symref(struct reftable_refdb_txn *txn,
			      const char *refname, const char *target,
			      const char *old_target, unsigned flags,
			      const char *message)
{
	struct reftable_refdb_update u = {
		.refname = refname,
		.new_kind = REFTABLE_REFDB_NEW_SYMREF,
		.new_target = target,
		.old_kind = old_target ? REFTABLE_REFDB_OLD_SYMREF :
					 REFTABLE_REFDB_OLD_ANY,
		.old_target = old_target,
		.message = message,
		.flags = flags | REFTABLE_REFDB_NO_DEREF,
	};
	return reftable_refdb_txn_add(txn, &u);
}

/* --- commit: the set of names written -------------------------------- */

/* Index of the first name >= key in the sorted names. */
static size_t names_lower_bound(const struct reftable_refdb_txn *txn,
				const char *key)
{
	size_t lo = 0, hi = txn->names_n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(txn->names[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int names_contain(const struct reftable_refdb_txn *txn,
			 const char *key)
{
	size_t i = names_lower_bound(txn, key);
	return i < txn->names_n && !strcmp(txn->names[i], key);
}

static int names_insert(struct reftable_refdb_txn *txn, const char *name)
{
	size_t i = names_lower_bound(txn, name);

	if (REFTABLE_GROW(txn->names, txn->names_cap, txn->names_n + 1) < 0)
		return REFTABLE_NOMEM_ERROR;
	memmove(txn->names + i + 1, txn->names + i,
		(txn->names_n - i) * sizeof(*txn->names));
	txn->names[i] = name;
	txn->names_n++;
	return 0;
}

/* The caller's names, sorted; the same ref twice is a caller error. */
static int collect_names(struct reftable_refdb_txn *txn)
{
	size_t i;

	for (i = 0; i < txn->n; i++) {
		const char *name = txn->u[i].refname;
		int err;

		if (names_contain(txn, name))
			return reftable_fail(REFTABLE_API_ERROR,
					     "%s: more than one update of this "
					     "ref in the transaction", name);
		err = names_insert(txn, name);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Git's rule for a ref about to be created: no existing ref and no other
 * name of the transaction may be a directory of it (refs/a for refs/a/b)
 * or lie below it. Names of the transaction count even when they are
 * deletions, as in Git: "cannot process refs/a and refs/a/b at the same
 * time".
 */
static int check_available(struct reftable_refdb_txn *txn, const char *name)
{
	struct reftable_ref_record rec = { 0 };
	struct reftable_iterator it = { 0 };
	struct buf dir = BUF_INIT;
	const char *slash;
	size_t i;
	int err = 0;

	for (slash = strchr(name, '/'); slash; slash = strchr(slash + 1, '/')) {
		err = buf_set(&dir, name, (size_t)(slash - name));
		if (err < 0)
			goto done;
		err = reftable_stack_read_ref(txn->db->st, (char *)dir.data,
					      &rec);
		if (err < 0)
			goto done;
		if (err == 0) {
			err = reftable_fail(REFTABLE_NAME_CONFLICT_ERROR,
					    "'%s' exists; cannot create '%s'",
					    (char *)dir.data, name);
			goto done;
		}
		if (names_contain(txn, (char *)dir.data)) {
			err = reftable_fail(REFTABLE_NAME_CONFLICT_ERROR,
					    "cannot process '%s' and '%s' at "
					    "the same time",
					    (char *)dir.data, name);
			goto done;
		}
	}

	/* Refs below name/ : one look at the first name after "name/". */
	err = buf_set(&dir, name, strlen(name));
	if (err >= 0)
		err = buf_addch(&dir, '/');
	if (err < 0)
		goto done;
	err = reftable_stack_init_ref_iterator(txn->db->st, &it);
	if (!err)
		err = reftable_iterator_seek_ref(&it, (char *)dir.data);
	if (!err)
		err = reftable_iterator_next_ref(&it, &rec);
	if (err < 0)
		goto done;
	if (err == 0 && refname_is_below(rec.refname, name, strlen(name))) {
		err = reftable_fail(REFTABLE_NAME_CONFLICT_ERROR,
				    "'%s' exists; cannot create '%s'",
				    rec.refname, name);
		goto done;
	}
	i = names_lower_bound(txn, (char *)dir.data);
	if (i < txn->names_n &&
	    refname_is_below(txn->names[i], name, strlen(name))) {
		err = reftable_fail(REFTABLE_NAME_CONFLICT_ERROR,
				    "cannot process '%s' and '%s' at the same "
				    "time",
				    name, txn->names[i]);
		goto done;
	}
	err = 0;
done:
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&rec);
	buf_release(&dir);
	return err;
}

/* "refs/heads/x" or "refs/heads/x (via HEAD)" for error details. */
static const char *display_name(const struct txn_update *u, struct buf *b)
{
	buf_reset(b);
	if (buf_addstr(b, u->refname) < 0)
		return u->refname;
	if (u->via && (buf_addstr(b, " (via ") < 0 ||
		       buf_addstr(b, u->via) < 0 || buf_addch(b, ')') < 0))
		return u->refname;
	return (const char *)b->data;
}

static int expects_existing(const struct txn_update *u)
{
	return u->old_kind == REFTABLE_REFDB_OLD_OID ||
	       u->old_kind == REFTABLE_REFDB_OLD_SYMREF;
}

/* The old-value check of an existing ref; 0 or REFTABLE_CAS_ERROR. */
static int check_old_value(struct reftable_refdb_txn *txn,
			   const struct txn_update *u,
			   const struct reftable_ref_record *cur)
{
	struct reftable_refdb *db = txn->db;
	char a[REFDB_HEX_BUF], b[REFDB_HEX_BUF];
	struct buf nb = BUF_INIT;
	size_t hs = refdb_hash_size(db);
	int err = 0;

	switch (u->old_kind) {
	case REFTABLE_REFDB_OLD_ANY:
		break;
	case REFTABLE_REFDB_OLD_ABSENT:
		err = reftable_fail(REFTABLE_CAS_ERROR,
				    "%s: expected not to exist, but it exists",
				    display_name(u, &nb));
		break;
	case REFTABLE_REFDB_OLD_SYMREF:
		if (!u->is_symref)
			err = reftable_fail(REFTABLE_CAS_ERROR,
					    "%s: expected a symref to %s, but "
					    "it is a regular ref",
					    display_name(u, &nb), u->old_target);
		else if (strcmp(cur->target, u->old_target))
			err = reftable_fail(REFTABLE_CAS_ERROR,
					    "%s: expected a symref to %s, but "
					    "it points to %s",
					    display_name(u, &nb), u->old_target,
					    cur->target);
		break;
	case REFTABLE_REFDB_OLD_OID:
		if (!memcmp(u->current, u->old_oid, hs))
			break;
		if (refdb_is_null(db, u->current))
			err = reftable_fail(REFTABLE_CAS_ERROR,
					    "%s: expected %s, but it does not "
					    "resolve to an object id",
					    display_name(u, &nb),
					    refdb_hex(db, u->old_oid, a));
		else
			err = reftable_fail(REFTABLE_CAS_ERROR,
					    "%s: expected %s, but it is at %s",
					    display_name(u, &nb),
					    refdb_hex(db, u->old_oid, a),
					    refdb_hex(db, u->current, b));
		break;
	}
	buf_release(&nb);
	return err;
}

/* Queue a log-only update of HEAD mirroring update i. */
static int add_head_log(struct reftable_refdb_txn *txn, size_t i)
{
	struct txn_update *h;
	size_t hi;
	int err;

	if (names_contain(txn, "HEAD"))
		return reftable_fail(REFTABLE_NAME_CONFLICT_ERROR,
				     "multiple updates for 'HEAD' (including "
				     "one via its referent '%s')",
				     txn->u[i].refname);
	err = push_update(txn, &hi);
	if (err)
		return err;
	h = &txn->u[hi];
	h->flags = (txn->u[i].flags &
		    (REFTABLE_REFDB_FORCE_LOG | REFTABLE_REFDB_SKIP_LOG)) |
		   REFTABLE_REFDB_NO_DEREF | UPD_LOG_ONLY;
	h->new_kind = txn->u[i].new_kind;
	memcpy(h->new_oid, txn->u[i].new_oid, sizeof(h->new_oid));
	h->old_kind = REFTABLE_REFDB_OLD_ANY;
	err = dup_opt(&h->refname, "HEAD");
	if (!err)
		err = dup_opt(&h->message, txn->u[i].message);
	if (!err && txn->u[i].who.set) {
		struct reftable_refdb_ident id = {
			txn->u[i].who.name, txn->u[i].who.email,
			txn->u[i].who.time, txn->u[i].who.tz_offset,
		};
		err = ident_copy(&h->who, &id);
	}
	if (!err)
		err = names_insert(txn, h->refname);
	return err;
}

/*
 * Follow symref update i to its target: a new update writes the target,
 * and update i keeps only its reflog entry, as Git splits it.
 */
static int split_symref_update(struct reftable_refdb_txn *txn, size_t i,
			       const char *target)
{
	struct txn_update *t, *u;
	size_t ti;
	int err;

	if (names_contain(txn, target))
		return reftable_fail(REFTABLE_NAME_CONFLICT_ERROR,
				     "multiple updates for '%s' (including "
				     "one via symref '%s')",
				     target, txn->u[i].refname);
	err = push_update(txn, &ti);
	if (err)
		return err;
	t = &txn->u[ti];
	u = &txn->u[i];
	t->flags = u->flags;
	if (!strcmp(u->refname, "HEAD"))
		t->flags |= UPD_VIA_HEAD;
	t->new_kind = u->new_kind;
	memcpy(t->new_oid, u->new_oid, sizeof(t->new_oid));
	memcpy(t->new_peeled, u->new_peeled, sizeof(t->new_peeled));
	t->has_peeled = u->has_peeled;
	t->old_kind = u->old_kind;
	memcpy(t->old_oid, u->old_oid, sizeof(t->old_oid));
	err = dup_opt(&t->refname, target);
	if (!err)
		err = dup_opt(&t->via, u->via ? u->via : u->refname);
	if (!err)
		err = dup_opt(&t->new_target, u->new_target);
	if (!err)
		err = dup_opt(&t->old_target, u->old_target);
	if (!err)
		err = dup_opt(&t->message, u->message);
	if (!err && u->who.set) {
		struct reftable_refdb_ident id = {
			u->who.name, u->who.email, u->who.time,
			u->who.tz_offset,
		};
		err = ident_copy(&t->who, &id);
	}
	if (err)
		return err;
	/* The symref itself: log only, its expectation moved on. */
	u->child = ti + 1;
	u->flags |= UPD_LOG_ONLY | REFTABLE_REFDB_NO_DEREF;
	u->old_kind = REFTABLE_REFDB_OLD_ANY;
	return names_insert(txn, t->refname);
}

/* Whether update i changes anything worth a record or a log entry. */
static void decide_queue(struct reftable_refdb_txn *txn, struct txn_update *u)
{
	size_t hs = refdb_hash_size(txn->db);

	if (u->new_kind == REFTABLE_REFDB_NEW_NONE)
		return;
	if (u->is_symref || (u->flags & UPD_LOG_ONLY)) {
		u->queued = 1;
		return;
	}
	switch (u->new_kind) {
	case REFTABLE_REFDB_NEW_OID:
		/* Same value: a no-op, and no reflog entry (as Git). */
		u->queued = !!memcmp(u->current, u->new_oid, hs);
		break;
	default:
		u->queued = 1;
	}
}

/* Check update i against the view loaded under the lock. */
static int check_update(struct reftable_refdb_txn *txn, size_t i,
			const char *head_target)
{
	struct reftable_ref_record cur = { 0 }, res = { 0 };
	struct reftable_refdb *db = txn->db;
	struct buf nb = BUF_INIT;
	struct txn_update *u = &txn->u[i];
	size_t hs = refdb_hash_size(db);
	char a[REFDB_HEX_BUF];
	int err;

	err = reftable_stack_read_ref(db->st, u->refname, &cur);
	if (err < 0)
		goto done;
	if (err == 1) {
		if (expects_existing(u)) {
			err = reftable_fail(REFTABLE_CAS_ERROR,
					    "%s: expected %s%s, but it does not "
					    "exist",
					    display_name(u, &nb),
					    u->old_target ? "a symref to " : "",
					    u->old_target ? u->old_target :
							    refdb_hex(db, u->old_oid, a));
			goto done;
		}
		err = check_available(txn, u->refname);
		if (err)
			goto done;
		u->queued = u->new_kind == REFTABLE_REFDB_NEW_OID ||
			    u->new_kind == REFTABLE_REFDB_NEW_SYMREF;
		goto head_log;
	}

	if (cur.value_type == REFTABLE_REF_SYMREF) {
		u->is_symref = 1;
		err = refdb_resolve_loaded(db, u->refname, &res);
		/* Following a cycle or a too deep chain is an error; writing
		 * the symref itself (NO_DEREF) is the way to repair it. */
		if (err < 0 && (err != REFTABLE_SYMREF_ERROR ||
				!(u->flags & REFTABLE_REFDB_NO_DEREF)))
			goto done;
		if (err == 0)
			memcpy(u->current, reftable_ref_record_val1(&res), hs);
		if (!(u->flags & REFTABLE_REFDB_NO_DEREF)) {
			err = split_symref_update(txn, i, cur.target);
			if (err)
				goto done;
			u = &txn->u[i];
		}
	} else {
		memcpy(u->current, reftable_ref_record_val1(&cur), hs);
	}
	err = check_old_value(txn, u, &cur);
	if (err)
		goto done;
	decide_queue(txn, u);
head_log:
	/* The branch HEAD points to changes: HEAD logs it too. A no-op
	 * update logs nowhere. */
	if (u->queued && head_target &&
	    !(u->flags & (UPD_LOG_ONLY | UPD_VIA_HEAD)) &&
	    !strcmp(u->refname, head_target) &&
	    (u->new_kind == REFTABLE_REFDB_NEW_OID ||
	     u->new_kind == REFTABLE_REFDB_NEW_DELETE))
		err = add_head_log(txn, i);
done:
	reftable_ref_record_release(&cur);
	reftable_ref_record_release(&res);
	buf_release(&nb);
	return err;
}

/* All checks, under the lock, against the freshly loaded stack. */
static int check_all(struct reftable_refdb_txn *txn)
{
	struct reftable_ref_record head = { 0 };
	char *head_target = NULL;
	size_t i;
	int err;

	err = collect_names(txn);
	if (err)
		return err;
	err = reftable_stack_read_ref(txn->db->st, "HEAD", &head);
	if (err < 0)
		goto done;
	if (err == 0 && head.value_type == REFTABLE_REF_SYMREF) {
		head_target = reftable_strdup(head.target);
		if (!head_target) {
			err = REFTABLE_NOMEM_ERROR;
			goto done;
		}
	}
	/* txn->n grows as symrefs are followed and HEAD logs are added. */
	for (i = 0, err = 0; i < txn->n && !err; i++)
		err = check_update(txn, i, head_target);
done:
	reftable_free(head_target);
	reftable_ref_record_release(&head);
	return err;
}

/* --- commit: writing the table ---------------------------------------- */

static int should_log(struct reftable_refdb *db, const char *name)
{
	if (db->log_policy == REFTABLE_REFDB_LOG_ALWAYS)
		return 1;
	if (db->log_policy == REFTABLE_REFDB_LOG_NORMAL &&
	    (!strcmp(name, "HEAD") || !strncmp(name, "refs/heads/", 11) ||
	     !strncmp(name, "refs/remotes/", 13) ||
	     !strncmp(name, "refs/notes/", 11)))
		return 1;
	return refdb_log_exists(db, name);
}

static int cmp_update_name(const void *a, const void *b)
{
	const struct txn_update *const *x = a, *const *y = b;
	return strcmp((*x)->refname, (*y)->refname);
}

/* The ref record of a queued update. */
static int write_ref(struct reftable_refdb_txn *txn, struct reftable_writer *w,
		     const struct txn_update *u)
{
	struct reftable_ref_record rec = { 0 };
	size_t hs = refdb_hash_size(txn->db);

	rec.refname = u->refname;
	rec.update_index = txn->update_index;
	switch (u->new_kind) {
	case REFTABLE_REFDB_NEW_SYMREF:
		rec.value_type = REFTABLE_REF_SYMREF;
		rec.target = u->new_target;
		break;
	case REFTABLE_REFDB_NEW_DELETE:
		rec.value_type = REFTABLE_REF_DELETION;
		break;
	default:
		rec.value_type = u->has_peeled ? REFTABLE_REF_VAL2 :
						 REFTABLE_REF_VAL1;
		memcpy(rec.value, u->new_oid, hs);
		if (u->has_peeled)
			memcpy(rec.peeled, u->new_peeled, hs);
	}
	return reftable_writer_add_ref(w, &rec);
}

static int push_log(struct reftable_log_record **logs, size_t *n, size_t *cap,
		    struct reftable_log_record **out)
{
	if (REFTABLE_GROW(*logs, *cap, *n + 1) < 0)
		return REFTABLE_NOMEM_ERROR;
	*out = &(*logs)[(*n)++];
	memset(*out, 0, sizeof(**out));
	return 0;
}

/* Who made update u: its own committer, the transaction's, or NULL for
 * the database default. */
static const struct reftable_refdb_ident *
update_ident(const struct reftable_refdb_txn *txn, const struct txn_update *u,
	     struct reftable_refdb_ident *id)
{
	const struct txn_ident *who = u->who.set ? &u->who :
				      txn->who.set ? &txn->who : NULL;

	if (!who)
		return NULL;
	id->name = who->name;
	id->email = who->email;
	id->time = who->time;
	id->tz_offset = who->tz_offset;
	return id;
}

/* The reflog records of one queued update, appended to logs. */
static int update_logs(struct reftable_refdb_txn *txn,
		       const struct txn_update *u,
		       struct reftable_log_record **logs, size_t *n,
		       size_t *cap)
{
	struct reftable_refdb *db = txn->db;
	struct reftable_log_record *log, *old = NULL;
	struct reftable_ref_record res = { 0 };
	size_t hs = refdb_hash_size(db), old_n = 0, i;
	struct reftable_refdb_ident id;
	struct buf msg = BUF_INIT;
	int err = 0;

	if (u->new_kind == REFTABLE_REFDB_NEW_DELETE && !u->is_symref) {
		/* Deleting a ref deletes its reflog, entry by entry. */
		err = refdb_collect_logs(db, u->refname, &old, &old_n);
		for (i = 0; !err && i < old_n; i++)
			err = refdb_push_log_deletion(logs, n, cap, u->refname,
						      old[i].update_index);
		reftable_refdb_reflog_free(old, old_n);
		return err;
	}
	if (u->new_kind == REFTABLE_REFDB_NEW_NONE ||
	    (u->flags & REFTABLE_REFDB_SKIP_LOG))
		return 0;
	if (!(u->flags & REFTABLE_REFDB_FORCE_LOG)) {
		err = should_log(db, u->refname);
		if (err <= 0)
			return err;
	}
	if (u->new_kind == REFTABLE_REFDB_NEW_SYMREF) {
		/* Git logs a symref update with the id of its target, and
		 * skips the entry when the target does not resolve. */
		err = refdb_resolve_loaded(db, u->new_target, &res);
		if (err) {
			reftable_ref_record_release(&res);
			return err == 1 || err == REFTABLE_SYMREF_ERROR ? 0 : err;
		}
	}
	err = push_log(logs, n, cap, &log);
	if (!err)
		err = refdb_normalize_message(db, &msg, u->message);
	if (!err)
		err = refdb_fill_ident(db, log, update_ident(txn, u, &id));
	if (!err &&
	    (refdb_own_str(&log->refname, &log->refname_cap, u->refname) < 0 ||
	     refdb_own_str(&log->message, &log->message_cap,
			   (const char *)msg.data) < 0))
		err = REFTABLE_NOMEM_ERROR;
	if (!err) {
		log->update_index = txn->update_index;
		log->value_type = REFTABLE_LOG_UPDATE;
		memcpy(log->old_id, u->current, hs);
		if (u->new_kind == REFTABLE_REFDB_NEW_OID)
			memcpy(log->new_id, u->new_oid, hs);
		else if (u->new_kind == REFTABLE_REFDB_NEW_SYMREF)
			memcpy(log->new_id, reftable_ref_record_val1(&res), hs);
	}
	buf_release(&msg);
	reftable_ref_record_release(&res);
	return err;
}

/* A symref's log-only update whose target (at the end of the chain) is
 * left as it is logs nothing either. */
static int symref_target_unchanged(const struct reftable_refdb_txn *txn,
				   const struct txn_update *u)
{
	while (u->child)
		u = &txn->u[u->child - 1];
	return !u->queued;
}

static int write_txn_table(struct reftable_writer *w, void *arg)
{
	struct reftable_refdb_txn *txn = arg;
	const struct txn_update **sorted = NULL;
	struct reftable_log_record *logs = NULL;
	size_t i, n = 0, logs_n = 0, logs_cap = 0;
	int err = 0;

	sorted = reftable_calloc(txn->n ? txn->n : 1, sizeof(*sorted));
	if (!sorted)
		return REFTABLE_NOMEM_ERROR;
	for (i = 0; i < txn->n; i++)
		if (txn->u[i].queued &&
		    !symref_target_unchanged(txn, &txn->u[i]))
			sorted[n++] = &txn->u[i];
	qsort(sorted, n, sizeof(*sorted), cmp_update_name);

	/* Logs are computed before any record is written: they read the
	 * view as it was before this transaction. */
	for (i = 0; !err && i < n; i++)
		err = update_logs(txn, sorted[i], &logs, &logs_n, &logs_cap);
	for (i = 0; !err && i < n; i++)
		if (!(sorted[i]->flags & UPD_LOG_ONLY)) {
			err = write_ref(txn, w, sorted[i]);
			txn->records++;
		}
	if (!err)
		err = refdb_write_logs(w, logs, logs_n);
	txn->records += logs_n;
	reftable_refdb_reflog_free(logs, logs_n);
	reftable_free(sorted);
	return err;
}

int reftable_refdb_txn_commit(struct reftable_refdb_txn *txn)
{
	struct reftable_addition *add = NULL;
	int err;

	if (txn->done)
		return reftable_fail(REFTABLE_API_ERROR,
				     "transaction already committed");
	txn->done = 1;
	if (txn->spoiled)
		return reftable_fail(txn->spoiled,
				     "transaction refused: an update could "
				     "not be added (%s)",
				     reftable_error_str(txn->spoiled));
	/* Lock first, then check: a writer that moved the stack since our
	 * caller read it is reloaded here and checked against. */
	err = reftable_stack_new_addition(&add, txn->db->st,
					  REFTABLE_ADDITION_RELOAD);
	if (err)
		return err;
	txn->update_index = reftable_addition_update_index(add);
	err = check_all(txn);
	if (!err)
		err = reftable_addition_add(add, write_txn_table, txn);
	if (!err)
		err = reftable_addition_commit(add);
	if (!err && txn->records)
		txn->written_index = txn->update_index;
	reftable_addition_destroy(add);
	return err;
}
