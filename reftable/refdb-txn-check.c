/* A transaction's checks under the lock, as Git's reftable backend does. */

#include <string.h>

#include "basics.h"
#include "refdb-internal.h"
#include "refname.h"
#include "reftable-error.h"
#include "reftable-stack.h"

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

/*
 * Queue a log-only update of HEAD mirroring update i, which names the ref
 * HEAD points to. Git adds it whatever update i does (a verify, a no-op),
 * so HEAD may appear only once counting its referent, and HEAD's reflog
 * gets an entry for every change written through the branch. A new symref
 * value has no object id: HEAD then logs the null id, as Git does.
 */
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
	err = refdb_txn_push_update(txn, &hi);
	if (err)
		return err;
	h = &txn->u[hi];
	h->flags = (txn->u[i].flags &
		    (REFTABLE_REFDB_FORCE_LOG | REFTABLE_REFDB_SKIP_LOG)) |
		   REFTABLE_REFDB_NO_DEREF | UPD_LOG_ONLY;
	h->new_kind = txn->u[i].new_kind;
	if (h->new_kind == REFTABLE_REFDB_NEW_SYMREF)
		h->new_kind = REFTABLE_REFDB_NEW_DELETE; /* the null id */
	if (h->new_kind == REFTABLE_REFDB_NEW_OID)
		memcpy(h->new_oid, txn->u[i].new_oid, sizeof(h->new_oid));
	h->old_kind = REFTABLE_REFDB_OLD_ANY;
	err = refdb_dup_opt(&h->refname, "HEAD");
	if (!err)
		err = refdb_dup_opt(&h->message, txn->u[i].message);
	if (!err && txn->u[i].who.set) {
		struct reftable_refdb_ident id = {
			txn->u[i].who.name, txn->u[i].who.email,
			txn->u[i].who.time, txn->u[i].who.tz_offset,
		};
		err = refdb_txn_ident_copy(&h->who, &id);
	}
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
	err = refdb_txn_push_update(txn, &ti);
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
	err = refdb_dup_opt(&t->refname, target);
	if (!err)
		err = refdb_dup_opt(&t->via, u->via ? u->via : u->refname);
	if (!err)
		err = refdb_dup_opt(&t->new_target, u->new_target);
	if (!err)
		err = refdb_dup_opt(&t->old_target, u->old_target);
	if (!err)
		err = refdb_dup_opt(&t->message, u->message);
	if (!err && u->who.set) {
		struct reftable_refdb_ident id = {
			u->who.name, u->who.email, u->who.time,
			u->who.tz_offset,
		};
		err = refdb_txn_ident_copy(&t->who, &id);
	}
	if (err)
		return err;
	/* The symref itself: log only. An expected object id moves on to
	 * the target; an expected symref target is checked on both, as Git
	 * checks it (on the symref against its own target). */
	u->child = ti + 1;
	u->flags |= UPD_LOG_ONLY | REFTABLE_REFDB_NO_DEREF;
	if (u->old_kind != REFTABLE_REFDB_OLD_SYMREF)
		u->old_kind = REFTABLE_REFDB_OLD_ANY;
	return names_insert(txn, t->refname);
}

/*
 * Whether update u writes a record or a log entry, as Git decides: a
 * symref and a log-only update always (the symref logs even when the ref
 * at the end of its chain stays as it is), an object id only if it
 * differs from the current one.
 */
static void decide_queue(struct reftable_refdb_txn *txn, struct txn_update *u)
{
	size_t hs = refdb_hash_size(txn->db);

	if (u->is_symref || (u->flags & UPD_LOG_ONLY)) {
		u->queued = 1;
		return;
	}
	switch (u->new_kind) {
	case REFTABLE_REFDB_NEW_NONE:
		break;
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
	int err = 0;

	/* Any update of the ref HEAD points to, whatever it does, also
	 * goes to HEAD's reflog: queued before the ref is even read. */
	if (head_target && !(u->flags & (UPD_LOG_ONLY | UPD_VIA_HEAD)) &&
	    !strcmp(u->refname, head_target)) {
		err = add_head_log(txn, i);
		if (err)
			goto done;
		u = &txn->u[i];
	}
	err = reftable_stack_read_ref(db->st, u->refname, &cur);
	if (err < 0)
		goto done;
	if (err == 1) {
		if (expects_existing(u) && !(u->flags & UPD_LOG_ONLY)) {
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
		goto done;
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
		err = 0; /* a dangling symref resolves to the null id */
		if (!(u->flags & REFTABLE_REFDB_NO_DEREF)) {
			err = split_symref_update(txn, i, cur.target);
			if (err)
				goto done;
			u = &txn->u[i];
		}
	} else {
		memcpy(u->current, reftable_ref_record_val1(&cur), hs);
	}
	if (u->old_kind == REFTABLE_REFDB_OLD_SYMREF ||
	    !(u->flags & UPD_LOG_ONLY))
		err = check_old_value(txn, u, &cur);
	if (!err)
		decide_queue(txn, u);
done:
	reftable_ref_record_release(&cur);
	reftable_ref_record_release(&res);
	buf_release(&nb);
	return err > 0 ? 0 : err;
}

/* All checks, under the lock, against the freshly loaded stack. */
int refdb_txn_check(struct reftable_refdb_txn *txn)
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
