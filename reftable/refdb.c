/*
 * The ref database: opening, reading refs, resolving symrefs, iterating,
 * on top of one stack. Transactions are in refdb-txn*.c, reflogs in
 * reflog.c. Behaviour follows Git's reftable backend; see reftable-refdb.h.
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basics.h"
#include "iter.h"
#include "refdb-internal.h"
#include "reftable-error.h"
#include "reftable-merged.h"
#include "reftable-refdb.h"
#include "reftable-stack.h"

/* --- opening ------------------------------------------------------------ */

void reftable_refdb_options_init(struct reftable_refdb_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	reftable_stack_options_init(&opts->stack);
	opts->log_policy = REFTABLE_REFDB_LOG_NORMAL;
}

/* A Git boolean: 1, 0, or -1 if value is none. A key without "=" is true,
 * an empty value false; integers count as their value (a k, m or g unit
 * allowed), as Git parses them. */
static int parse_git_bool(const char *value)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	char *end;
	long long n;
	size_t i;

	if (!value)
		return 1;
	if (!*value)
		return 0;
	for (i = 0; i < 3; i++) {
		if (!strcasecmp(value, yes[i]))
			return 1;
		if (!strcasecmp(value, no[i]))
			return 0;
	}
	n = strtoll(value, &end, 0); /* 0x hex and 0 octal, as Git */
	if (end == value || (*end && (!strchr("kKmMgG", *end) || end[1])))
		return -1;
	return n != 0;
}

int reftable_refdb_log_policy_from_config(enum reftable_refdb_log_policy *out,
					  int key_present, const char *value,
					  int bare)
{
	int b;

	if (!key_present) {
		*out = bare ? REFTABLE_REFDB_LOG_EXISTING :
			      REFTABLE_REFDB_LOG_NORMAL;
		return 0;
	}
	if (value && !strcasecmp(value, "always")) {
		*out = REFTABLE_REFDB_LOG_ALWAYS;
		return 0;
	}
	b = parse_git_bool(value);
	if (b < 0)
		return reftable_fail(REFTABLE_API_ERROR,
				     "bad boolean value '%s' for "
				     "core.logAllRefUpdates", value);
	*out = b ? REFTABLE_REFDB_LOG_NORMAL : REFTABLE_REFDB_LOG_EXISTING;
	return 0;
}

int refdb_dup_or_empty(char **dst, const char *src)
{
	*dst = reftable_strdup(src ? src : "");
	return *dst ? 0 : REFTABLE_NOMEM_ERROR;
}

int reftable_refdb_open(struct reftable_refdb **out, const char *dir,
			const struct reftable_refdb_options *opts)
{
	struct reftable_refdb_options defaults;
	struct reftable_refdb *db;
	int err;

	*out = NULL;
	if (!opts) {
		reftable_refdb_options_init(&defaults);
		opts = &defaults;
	}
	if (opts->log_policy > REFTABLE_REFDB_LOG_EXISTING)
		return reftable_fail(REFTABLE_RANGE_ERROR,
				     "unknown reflog policy %d",
				     (int)opts->log_policy);
	db = reftable_calloc(1, sizeof(*db));
	if (!db)
		return REFTABLE_NOMEM_ERROR;
	db->log_policy = opts->log_policy;
	db->allow_pseudorefs = opts->allow_pseudorefs;
	db->committer_time = opts->committer.time;
	db->committer_tz = opts->committer.tz_offset;
	db->block_size = opts->stack.write.block_size ?
				 opts->stack.write.block_size : 4096;
	err = refdb_dup_or_empty(&db->committer_name, opts->committer.name);
	if (!err)
		err = refdb_dup_or_empty(&db->committer_email, opts->committer.email);
	if (!err)
		err = reftable_stack_new(&db->st, dir, &opts->stack);
	if (err) {
		reftable_refdb_close(db);
		return err;
	}
	*out = db;
	return 0;
}

void reftable_refdb_close(struct reftable_refdb *db)
{
	if (!db)
		return;
	reftable_stack_destroy(db->st);
	reftable_free(db->committer_name);
	reftable_free(db->committer_email);
	reftable_free(db);
}

struct reftable_stack *reftable_refdb_stack(struct reftable_refdb *db)
{
	return db->st;
}

size_t refdb_hash_size(const struct reftable_refdb *db)
{
	return reftable_hash_size(reftable_stack_hash(db->st));
}

size_t reftable_refdb_hash_size(const struct reftable_refdb *db)
{
	return refdb_hash_size(db);
}

int refdb_is_null(const struct reftable_refdb *db, const uint8_t *oid)
{
	size_t i, n = refdb_hash_size(db);

	for (i = 0; i < n; i++)
		if (oid[i])
			return 0;
	return 1;
}

int reftable_refdb_reload(struct reftable_refdb *db)
{
	return reftable_stack_reload(db->st);
}

const char *refdb_hex(const struct reftable_refdb *db, const uint8_t *oid,
		      char *buf)
{
	static const char digits[] = "0123456789abcdef";
	size_t i, n = refdb_hash_size(db);

	for (i = 0; i < n; i++) {
		buf[2 * i] = digits[oid[i] >> 4];
		buf[2 * i + 1] = digits[oid[i] & 15];
	}
	buf[2 * n] = '\0';
	return buf;
}

/* --- reading ------------------------------------------------------------ */

int reftable_refdb_read_ref(struct reftable_refdb *db, const char *name,
			    struct reftable_ref_record *ref)
{
	int err = reftable_refdb_reload(db);

	if (err)
		return err;
	return reftable_stack_read_ref(db->st, name, ref);
}

int refdb_resolve_loaded(struct reftable_refdb *db, const char *name,
			  struct reftable_ref_record *ref)
{
	char *seen[REFTABLE_REFDB_SYMREF_MAX_DEPTH] = { NULL };
	size_t depth, i;
	int err = 0, cycle = 0;

	for (depth = 0; depth < REFTABLE_REFDB_SYMREF_MAX_DEPTH; depth++) {
		const char *cur = depth ? seen[depth - 1] : name;
		char *next;

		err = reftable_stack_read_ref(db->st, cur, ref);
		if (err < 0)
			goto done;
		if (err == 1) {
			/* Name the missing ref: an unborn branch. */
			err = set_owned_str(&ref->refname, &ref->refname_cap,
					    cur, strlen(cur));
			if (err < 0)
				goto done;
			ref->value_type = REFTABLE_REF_DELETION;
			memset(ref->value, 0, sizeof(ref->value));
			memset(ref->peeled, 0, sizeof(ref->peeled));
			err = 1;
			goto done;
		}
		if (ref->value_type != REFTABLE_REF_SYMREF)
			goto done;
		next = reftable_strdup(ref->target);
		if (!next) {
			err = REFTABLE_NOMEM_ERROR;
			goto done;
		}
		cycle = !strcmp(next, name);
		for (i = 0; i < depth; i++)
			cycle |= !strcmp(next, seen[i]);
		seen[depth] = next;
		if (cycle)
			break;
	}
	err = reftable_fail(REFTABLE_SYMREF_ERROR,
			    cycle ? "%s: symbolic refs form a cycle" :
				    "%s: more than %d levels of symbolic refs",
			    name, REFTABLE_REFDB_SYMREF_MAX_DEPTH - 1);
done:
	for (i = 0; i < REFTABLE_REFDB_SYMREF_MAX_DEPTH; i++)
		reftable_free(seen[i]);
	return err;
}

int reftable_refdb_resolve(struct reftable_refdb *db, const char *name,
			   struct reftable_ref_record *ref)
{
	int err = reftable_refdb_reload(db);

	if (err)
		return err;
	return refdb_resolve_loaded(db, name, ref);
}

/* --- iterators ------------------------------------------------------------ */

/* Refs of a name prefix: a stack iterator that stops past the prefix. */
struct prefix_iter {
	struct reftable_iterator inner;
	char *prefix;
	size_t len;
};

static int prefix_seek_ref(void *impl, const char *name)
{
	struct prefix_iter *pi = impl;

	if (strcmp(name, pi->prefix) < 0)
		name = pi->prefix;
	return reftable_iterator_seek_ref(&pi->inner, name);
}

static int prefix_next_ref(void *impl, struct reftable_ref_record *ref)
{
	struct prefix_iter *pi = impl;
	int err = reftable_iterator_next_ref(&pi->inner, ref);

	if (err)
		return err;
	return strncmp(ref->refname, pi->prefix, pi->len) ? 1 : 0;
}

static void prefix_destroy(void *impl)
{
	struct prefix_iter *pi = impl;

	reftable_iterator_destroy(&pi->inner);
	reftable_free(pi->prefix);
	reftable_free(pi);
}

static const struct reftable_iterator_ops prefix_ops = {
	.seek_ref = prefix_seek_ref,
	.next_ref = prefix_next_ref,
	.destroy = prefix_destroy,
};

int reftable_refdb_init_ref_iterator(struct reftable_refdb *db,
				     struct reftable_iterator *it,
				     const char *prefix)
{
	struct prefix_iter *pi;
	int err;

	it->ops = NULL;
	it->impl = NULL;
	err = reftable_refdb_reload(db);
	if (err)
		return err;
	pi = reftable_calloc(1, sizeof(*pi));
	if (!pi)
		return REFTABLE_NOMEM_ERROR;
	pi->prefix = reftable_strdup(prefix ? prefix : "");
	if (!pi->prefix) {
		reftable_free(pi);
		return REFTABLE_NOMEM_ERROR;
	}
	pi->len = strlen(pi->prefix);
	err = reftable_stack_init_ref_iterator(db->st, &pi->inner);
	if (!err)
		err = reftable_iterator_seek_ref(&pi->inner, pi->prefix);
	if (err) {
		prefix_destroy(pi);
		return err;
	}
	iterator_set(it, &prefix_ops, pi);
	return 0;
}

int reftable_refdb_init_refs_for_iterator(struct reftable_refdb *db,
					  struct reftable_iterator *it,
					  const uint8_t *oid)
{
	int err;

	it->ops = NULL;
	it->impl = NULL;
	err = reftable_refdb_reload(db);
	if (err)
		return err;
	return reftable_merged_refs_for(reftable_stack_merged(db->st), oid, it);
}
