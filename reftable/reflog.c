/*
 * Reflogs of the ref database: reading newest first, existence, and the
 * changes (create, delete, delete one entry, expire), each written as one
 * table the way Git's reftable backend writes them: removing an entry
 * adds a log deletion record for its key, and a reflog left empty keeps a
 * marker entry (two null ids) so that it still exists.
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basics.h"
#include "iter.h"
#include "refdb-internal.h"
#include "reftable-error.h"
#include "reftable-refdb.h"
#include "reftable-stack.h"
#include "reftable-writer.h"

/* --- helpers shared with refdb.c -------------------------------------- */

/* Git's whitespace: space, tab, newline, carriage return. */
static int git_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int refdb_normalize_message(const struct reftable_refdb *db, struct buf *out,
			    const char *msg)
{
	size_t max = db->block_size / 2;
	int in_space = 1; /* drops leading whitespace */
	int err = 0;

	buf_reset(out);
	for (; msg && *msg && !err; msg++) {
		if (git_space(*msg)) {
			if (!in_space)
				err = buf_addch(out, ' ');
			in_space = 1;
			continue;
		}
		in_space = 0;
		err = buf_addch(out, (uint8_t)*msg);
	}
	if (err < 0)
		return REFTABLE_NOMEM_ERROR;
	while (out->len && out->data[out->len - 1] == ' ')
		out->len--;
	/* Git cuts the message to half a block before adding the newline. */
	if (out->len > max)
		out->len = max;
	if (buf_setlen(out, out->len) < 0 || buf_addch(out, '\n') < 0)
		return REFTABLE_NOMEM_ERROR;
	return 0;
}

int refdb_fill_ident(const struct reftable_refdb *db,
		     struct reftable_log_record *log,
		     const struct reftable_refdb_ident *who)
{
	const char *name = who ? who->name : db->committer_name;
	const char *email = who ? who->email : db->committer_email;
	uint64_t when = who ? who->time : db->committer_time;

	if (refdb_own_str(&log->name, &log->name_cap, name) < 0 ||
	    refdb_own_str(&log->email, &log->email_cap, email) < 0)
		return REFTABLE_NOMEM_ERROR;
	log->time = when ? when : (uint64_t)time(NULL);
	log->tz_offset = who ? who->tz_offset : db->committer_tz;
	return 0;
}

int refdb_is_marker(const struct reftable_refdb *db,
		    const struct reftable_log_record *log)
{
	return log->value_type == REFTABLE_LOG_UPDATE &&
	       refdb_is_null(db, log->old_id) && refdb_is_null(db, log->new_id);
}

void reftable_refdb_reflog_free(struct reftable_log_record *logs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		reftable_log_record_release(&logs[i]);
	reftable_free(logs);
}

/* Append a copy of log to an array. */
static int push_copy(struct reftable_log_record **logs, size_t *n, size_t *cap,
		     const struct reftable_log_record *log)
{
	if (REFTABLE_GROW(*logs, *cap, *n + 1) < 0)
		return REFTABLE_NOMEM_ERROR;
	memset(&(*logs)[*n], 0, sizeof(**logs));
	(*n)++;
	return reftable_log_record_copy(&(*logs)[*n - 1], log);
}

int refdb_collect_logs(struct reftable_refdb *db, const char *name,
		       struct reftable_log_record **out, size_t *n)
{
	struct reftable_log_record log = { 0 };
	struct reftable_iterator it = { 0 };
	size_t cap = 0;
	int err;

	*out = NULL;
	*n = 0;
	err = reftable_stack_init_log_iterator(db->st, &it);
	if (!err)
		err = reftable_iterator_seek_log(&it, name);
	while (!err) {
		err = reftable_iterator_next_log(&it, &log);
		if (err || strcmp(log.refname, name))
			break;
		err = push_copy(out, n, &cap, &log);
	}
	reftable_iterator_destroy(&it);
	reftable_log_record_release(&log);
	if (err < 0) {
		reftable_refdb_reflog_free(*out, *n);
		*out = NULL;
		*n = 0;
		return err;
	}
	return 0;
}

int refdb_push_log_deletion(struct reftable_log_record **logs, size_t *n,
			    size_t *cap, const char *name,
			    uint64_t update_index)
{
	struct reftable_log_record *log;

	if (REFTABLE_GROW(*logs, *cap, *n + 1) < 0)
		return REFTABLE_NOMEM_ERROR;
	log = &(*logs)[(*n)++];
	memset(log, 0, sizeof(*log));
	if (refdb_own_str(&log->refname, &log->refname_cap, name) < 0)
		return REFTABLE_NOMEM_ERROR;
	log->update_index = update_index;
	log->value_type = REFTABLE_LOG_DELETION;
	return 0;
}

static int cmp_logs(const void *a, const void *b)
{
	return reftable_log_record_compare(a, b);
}

int refdb_write_logs(struct reftable_writer *w,
		     struct reftable_log_record *logs, size_t n)
{
	size_t i;
	int err = 0;

	if (n)
		qsort(logs, n, sizeof(*logs), cmp_logs);
	for (i = 0; !err && i < n; i++)
		err = reftable_writer_add_log(w, &logs[i]);
	return err;
}

int refdb_log_exists(struct reftable_refdb *db, const char *name)
{
	struct reftable_log_record log = { 0 };
	int err = reftable_stack_read_log(db->st, name, &log);

	reftable_log_record_release(&log);
	if (err < 0)
		return err;
	return err == 0;
}

/* --- reading ------------------------------------------------------------ */

/* The entries of one reflog: a log iterator that stops at the next name
 * and hides Git's existence markers. */
struct reflog_iter {
	struct reftable_iterator inner;
	const struct reftable_refdb *db;
	char *name;
};

static int reflog_seek_log(void *impl, const char *name, uint64_t idx)
{
	struct reflog_iter *ri = impl;

	if (strcmp(name, ri->name))
		return reftable_fail(REFTABLE_API_ERROR,
				     "a reflog iterator of %s cannot seek to %s",
				     ri->name, name);
	return reftable_iterator_seek_log_at(&ri->inner, name, idx);
}

static int reflog_next_log(void *impl, struct reftable_log_record *log)
{
	struct reflog_iter *ri = impl;

	for (;;) {
		int err = reftable_iterator_next_log(&ri->inner, log);

		if (err)
			return err;
		if (strcmp(log->refname, ri->name))
			return 1;
		if (!refdb_is_marker(ri->db, log))
			return 0;
	}
}

static void reflog_destroy(void *impl)
{
	struct reflog_iter *ri = impl;

	reftable_iterator_destroy(&ri->inner);
	reftable_free(ri->name);
	reftable_free(ri);
}

static const struct reftable_iterator_ops reflog_ops = {
	.seek_log = reflog_seek_log,
	.next_log = reflog_next_log,
	.destroy = reflog_destroy,
};

int reftable_refdb_init_reflog_iterator(struct reftable_refdb *db,
					struct reftable_iterator *it,
					const char *refname)
{
	struct reflog_iter *ri;
	int err;

	it->ops = NULL;
	it->impl = NULL;
	if (!refname)
		return reftable_fail(REFTABLE_API_ERROR, "reflog of NULL");
	err = reftable_refdb_reload(db);
	if (err)
		return err;
	ri = reftable_calloc(1, sizeof(*ri));
	if (!ri)
		return REFTABLE_NOMEM_ERROR;
	ri->db = db;
	ri->name = reftable_strdup(refname);
	err = ri->name ? 0 : REFTABLE_NOMEM_ERROR;
	if (!err)
		err = reftable_stack_init_log_iterator(db->st, &ri->inner);
	if (!err)
		err = reftable_iterator_seek_log(&ri->inner, refname);
	if (err) {
		reflog_destroy(ri);
		return err;
	}
	iterator_set(it, &reflog_ops, ri);
	return 0;
}

int reftable_refdb_read_reflog(struct reftable_refdb *db, const char *refname,
			       struct reftable_log_record **logs, size_t *n)
{
	struct reftable_log_record log = { 0 };
	struct reftable_iterator it = { 0 };
	size_t cap = 0;
	int err;

	*logs = NULL;
	*n = 0;
	err = reftable_refdb_init_reflog_iterator(db, &it, refname);
	while (!err) {
		err = reftable_iterator_next_log(&it, &log);
		if (!err)
			err = push_copy(logs, n, &cap, &log);
	}
	reftable_iterator_destroy(&it);
	reftable_log_record_release(&log);
	if (err < 0) {
		reftable_refdb_reflog_free(*logs, *n);
		*logs = NULL;
		*n = 0;
		return err;
	}
	return 0;
}

int reftable_refdb_reflog_exists(struct reftable_refdb *db,
				 const char *refname)
{
	int err = reftable_refdb_reload(db);

	if (err)
		return err;
	return refdb_log_exists(db, refname);
}

/* --- changes -------------------------------------------------------------- */

/* Git's "this reflog exists" entry: two null ids at update index ts. */
static int push_marker(struct reftable_log_record **logs, size_t *n,
		       size_t *cap, const char *name, uint64_t ts)
{
	struct reftable_log_record *log;

	if (REFTABLE_GROW(*logs, *cap, *n + 1) < 0)
		return REFTABLE_NOMEM_ERROR;
	log = &(*logs)[(*n)++];
	memset(log, 0, sizeof(*log));
	if (refdb_own_str(&log->refname, &log->refname_cap, name) < 0 ||
	    refdb_own_str(&log->name, &log->name_cap, "") < 0 ||
	    refdb_own_str(&log->email, &log->email_cap, "") < 0 ||
	    refdb_own_str(&log->message, &log->message_cap, "") < 0)
		return REFTABLE_NOMEM_ERROR;
	log->update_index = ts;
	log->value_type = REFTABLE_LOG_UPDATE;
	return 0;
}

struct create_arg {
	struct reftable_refdb *db;
	const char *name;
};

static int write_create(struct reftable_writer *w, void *arg)
{
	struct create_arg *a = arg;
	struct reftable_log_record *logs = NULL;
	size_t n = 0, cap = 0;
	int err = refdb_log_exists(a->db, a->name);

	if (err)
		return err < 0 ? err : 0; /* exists already: write nothing */
	err = push_marker(&logs, &n, &cap, a->name,
			  reftable_stack_next_update_index(a->db->st));
	if (!err)
		err = refdb_write_logs(w, logs, n);
	reftable_refdb_reflog_free(logs, n);
	return err;
}

int reftable_refdb_reflog_create(struct reftable_refdb *db,
				 const char *refname)
{
	struct create_arg a = { db, refname };
	int err;

	if (!refname)
		return reftable_fail(REFTABLE_API_ERROR, "reflog of NULL");
	err = reftable_refname_check_format(refname,
					    REFTABLE_REFNAME_ALLOW_ONELEVEL);
	if (err)
		return err;
	return reftable_stack_add(db->st, write_create, &a,
				  REFTABLE_ADDITION_RELOAD);
}

static int write_delete(struct reftable_writer *w, void *arg)
{
	struct create_arg *a = arg;
	struct reftable_log_record *old = NULL, *logs = NULL;
	size_t old_n = 0, n = 0, cap = 0, i;
	int err = refdb_collect_logs(a->db, a->name, &old, &old_n);

	for (i = 0; !err && i < old_n; i++)
		err = refdb_push_log_deletion(&logs, &n, &cap, a->name,
					      old[i].update_index);
	if (!err)
		err = refdb_write_logs(w, logs, n);
	reftable_refdb_reflog_free(old, old_n);
	reftable_refdb_reflog_free(logs, n);
	return err;
}

int reftable_refdb_reflog_delete(struct reftable_refdb *db,
				 const char *refname)
{
	struct create_arg a = { db, refname };

	if (!refname)
		return reftable_fail(REFTABLE_API_ERROR, "reflog of NULL");
	return reftable_stack_add(db->st, write_delete, &a,
				  REFTABLE_ADDITION_RELOAD);
}

/* --- expiry ----------------------------------------------------------- */

struct expire_arg {
	struct reftable_refdb *db;
	const char *name; /* NULL: every reflog */
	const struct reftable_reflog_expiry *ex;
	size_t removed;
};

static int should_prune(const struct reftable_reflog_expiry *ex,
			const struct reftable_log_record *log, size_t age)
{
	if (ex->expire_time && log->time < ex->expire_time)
		return 1;
	if (ex->keep_newest && age >= ex->keep_newest)
		return 1;
	return ex->should_prune && ex->should_prune(log, ex->should_prune_arg);
}

/*
 * Expire the reflog of one name into logs[]: deletions for pruned
 * entries, rewritten survivors (REWRITE), a marker if nothing survives.
 */
static int expire_one(struct expire_arg *a, const char *name,
		      struct reftable_log_record **logs, size_t *n,
		      size_t *cap)
{
	struct reftable_refdb *db = a->db;
	struct reftable_log_record *old = NULL;
	size_t old_n = 0, i, age = 0, kept = 0, pruned = 0;
	size_t hs = refdb_hash_size(db);
	const uint8_t *last_new = NULL;
	char *prune = NULL;
	int err = refdb_collect_logs(db, name, &old, &old_n);

	if (err)
		return err;
	prune = reftable_calloc(old_n ? old_n : 1, 1);
	if (!prune) {
		err = REFTABLE_NOMEM_ERROR;
		goto done;
	}
	/* Newest first; markers are neither counted nor pruned. */
	for (i = 0; i < old_n; i++) {
		if (refdb_is_marker(db, &old[i]))
			continue;
		prune[i] = (char)should_prune(a->ex, &old[i], age++);
		if (prune[i])
			pruned++;
		else
			kept++;
	}
	if (!pruned)
		goto done;
	a->removed += pruned;
	for (i = 0; !err && i < old_n; i++)
		if (prune[i])
			err = refdb_push_log_deletion(logs, n, cap, name,
						      old[i].update_index);
	/* Oldest to newest: each survivor follows the previous survivor. */
	for (i = old_n; !err && i-- > 0;) {
		if (prune[i] || refdb_is_marker(db, &old[i]))
			continue;
		if ((a->ex->flags & REFTABLE_REFLOG_REWRITE) && last_new &&
		    memcmp(old[i].old_id, last_new, hs)) {
			memcpy(old[i].old_id, last_new, hs);
			err = push_copy(logs, n, cap, &old[i]);
		}
		last_new = old[i].new_id;
	}
	if (!err && !kept)
		err = push_marker(logs, n, cap, name,
				  reftable_stack_next_update_index(db->st));
done:
	reftable_free(prune);
	reftable_refdb_reflog_free(old, old_n);
	return err;
}

/* The distinct names that have log records, in order. */
static int log_names(struct reftable_refdb *db, char ***names, size_t *n)
{
	struct reftable_log_record log = { 0 };
	struct reftable_iterator it = { 0 };
	size_t cap = 0;
	int err;

	*names = NULL;
	*n = 0;
	err = reftable_stack_init_log_iterator(db->st, &it);
	if (!err)
		err = reftable_iterator_seek_log(&it, "");
	while (!err) {
		err = reftable_iterator_next_log(&it, &log);
		if (err)
			break;
		if (*n && !strcmp((*names)[*n - 1], log.refname))
			continue;
		if (REFTABLE_GROW(*names, cap, *n + 1) < 0) {
			err = REFTABLE_NOMEM_ERROR;
			break;
		}
		(*names)[*n] = reftable_strdup(log.refname);
		if (!(*names)[(*n)++])
			err = REFTABLE_NOMEM_ERROR;
	}
	reftable_iterator_destroy(&it);
	reftable_log_record_release(&log);
	return err < 0 ? err : 0;
}

static void free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		reftable_free(names[i]);
	reftable_free(names);
}

static int write_expire(struct reftable_writer *w, void *arg)
{
	struct expire_arg *a = arg;
	struct reftable_log_record *logs = NULL;
	char **names = NULL;
	size_t names_n = 0, n = 0, cap = 0, i;
	int err = 0;

	a->removed = 0;
	if (a->name)
		err = expire_one(a, a->name, &logs, &n, &cap);
	else
		err = log_names(a->db, &names, &names_n);
	for (i = 0; !err && i < names_n; i++)
		err = expire_one(a, names[i], &logs, &n, &cap);
	if (!err && !(a->ex->flags & REFTABLE_REFLOG_DRY_RUN))
		err = refdb_write_logs(w, logs, n);
	free_names(names, names_n);
	reftable_refdb_reflog_free(logs, n);
	return err;
}

int reftable_refdb_reflog_expire(struct reftable_refdb *db,
				 const char *refname,
				 const struct reftable_reflog_expiry *expiry,
				 size_t *removed)
{
	struct expire_arg a = { db, refname, expiry, 0 };
	int err;

	if (removed)
		*removed = 0;
	if (!expiry)
		return reftable_fail(REFTABLE_API_ERROR,
				     "reflog expiry without a policy");
	if (expiry->flags & ~(unsigned)(REFTABLE_REFLOG_REWRITE |
					REFTABLE_REFLOG_DRY_RUN))
		return reftable_fail(REFTABLE_API_ERROR,
				     "unknown reflog expiry flags 0x%x",
				     expiry->flags);
	err = reftable_stack_add(db->st, write_expire, &a,
				 REFTABLE_ADDITION_RELOAD);
	if (!err && removed)
		*removed = a.removed;
	return err;
}

struct one_entry {
	uint64_t update_index;
};

static int prune_one(const struct reftable_log_record *log, void *arg)
{
	const struct one_entry *e = arg;
	return log->update_index == e->update_index;
}

int reftable_refdb_reflog_delete_entry(struct reftable_refdb *db,
				       const char *refname,
				       uint64_t update_index, unsigned flags)
{
	struct one_entry e = { update_index };
	struct reftable_reflog_expiry ex = { 0 };
	size_t removed = 0;
	int err;

	if (!refname)
		return reftable_fail(REFTABLE_API_ERROR, "reflog of NULL");
	ex.should_prune = prune_one;
	ex.should_prune_arg = &e;
	ex.flags = flags;
	err = reftable_refdb_reflog_expire(db, refname, &ex, &removed);
	if (err)
		return err;
	return removed ? 0 : 1;
}
