/*
 * Invariants of one loaded snapshot, used by the readers while the run
 * goes on and by the supervisor at the end.
 */

#include <stdlib.h>
#include <string.h>

#include "reftable-error.h"
#include "reftable-merged.h"
#include "stress.h"

static const uint8_t null_oid[STRESS_OID_LEN];

static int has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* Checks one ref record and stores it in seen[c] or b[c]. */
static void snapshot_add(const struct layout *l,
			 const struct reftable_ref_record *ref,
			 uint64_t max_ui, struct seen *seen, struct seen *b,
			 struct violation_sink *vs)
{
	char key[256];
	struct seen *dst;
	int half, c = counter_parse(l, ref->refname, &half);

	if (c < 0) {
		violation(vs, "%s: a ref no writer of this run writes",
			  ref->refname);
		return;
	}
	if (ref->value_type != REFTABLE_REF_VAL1) {
		violation(vs, "%s: value type %d, expected one object id",
			  ref->refname, (int)ref->value_type);
		return;
	}
	dst = half ? &b[c] : &seen[c];
	counter_refname(l, c, -1, key, sizeof(key));
	memcpy(dst->oid, ref->value, STRESS_OID_LEN);
	dst->update_index = ref->update_index;
	if (value_decode(ref->value, key, &dst->v) < 0) {
		violation(vs, "%s: a value no writer writes (bad checksum)",
			  ref->refname);
		return;
	}
	dst->present = 1;
	if (counter_kind(l, c) == COUNTER_PRIVATE ?
		    dst->v.writer != (uint32_t)counter_owner(l, c) :
		    dst->v.writer >= (uint32_t)l->writers)
		violation(vs, "%s: written by writer %u, who may not write it",
			  ref->refname, dst->v.writer);
	if (ref->update_index > max_ui)
		violation(vs, "%s: update index %llu beyond the stack's %llu",
			  ref->refname, (unsigned long long)ref->update_index,
			  (unsigned long long)max_ui);
}

/* Both refs of a pair move in one transaction: never seen apart. */
static void check_pairs(const struct layout *l, const struct seen *seen,
			const struct seen *b, struct violation_sink *vs)
{
	char name[256];
	int c;

	for (c = 0; c < l->n; c++) {
		if (counter_kind(l, c) != COUNTER_PAIR)
			continue;
		if (seen[c].present == b[c].present &&
		    (!seen[c].present ||
		     (!memcmp(seen[c].oid, b[c].oid, STRESS_OID_LEN) &&
		      seen[c].update_index == b[c].update_index)))
			continue;
		counter_refname(l, c, -1, name, sizeof(name));
		violation(vs,
			  "%s: pair split: a %s n=%llu ui=%llu, b %s n=%llu "
			  "ui=%llu",
			  name, seen[c].present ? "present" : "absent",
			  (unsigned long long)seen[c].v.n,
			  (unsigned long long)seen[c].update_index,
			  b[c].present ? "present" : "absent",
			  (unsigned long long)b[c].v.n,
			  (unsigned long long)b[c].update_index);
	}
}

int snapshot_read(struct reftable_stack *st, const struct layout *l,
		  struct seen *seen, struct violation_sink *vs)
{
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record ref = { 0 };
	struct seen *b = calloc((size_t)l->n, sizeof(*b));
	uint64_t max_ui = reftable_stack_next_update_index(st) - 1;
	int err;

	memset(seen, 0, (size_t)l->n * sizeof(*seen));
	if (!b)
		return REFTABLE_NOMEM_ERROR;
	err = reftable_stack_init_ref_iterator(st, &it);
	if (!err)
		err = reftable_iterator_seek_ref(&it, STRESS_PREFIX);
	while (!err && !(err = reftable_iterator_next_ref(&it, &ref))) {
		if (!has_prefix(ref.refname, STRESS_PREFIX))
			break;
		snapshot_add(l, &ref, max_ui, seen, b, vs);
	}
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&ref);
	if (err < 0)
		violation(vs, "reading refs failed: %s: %s",
			  reftable_error_str(err), reftable_error_detail());
	else
		check_pairs(l, seen, b, vs);
	free(b);
	return err < 0 ? err : 0;
}

/* The reflog entries of refname in the loaded stack, newest first. */
static int read_entries(struct reftable_stack *st, const char *refname,
			struct log_entry **out, size_t *n)
{
	struct reftable_iterator it = { 0 };
	struct reftable_log_record log = { 0 };
	struct log_entry *e = NULL;
	size_t len = 0, cap = 0;
	int err;

	err = reftable_stack_init_log_iterator(st, &it);
	if (!err)
		err = reftable_iterator_seek_log(&it, refname);
	while (!err && !(err = reftable_iterator_next_log(&it, &log))) {
		if (strcmp(log.refname, refname))
			break;
		if (log.value_type != REFTABLE_LOG_UPDATE)
			continue;
		if (len == cap) {
			struct log_entry *ne;
			cap = cap ? 2 * cap : 64;
			ne = realloc(e, cap * sizeof(*e));
			if (!ne) {
				err = REFTABLE_NOMEM_ERROR;
				break;
			}
			e = ne;
		}
		e[len].update_index = log.update_index;
		memcpy(e[len].old_id, log.old_id, STRESS_OID_LEN);
		memcpy(e[len].new_id, log.new_id, STRESS_OID_LEN);
		len++;
	}
	reftable_iterator_destroy(&it);
	reftable_log_record_release(&log);
	if (err < 0) {
		free(e);
		return err;
	}
	*out = e;
	*n = len;
	return 0;
}

/* One entry per value 1..n, each one step up from the one before. */
static void check_chain(const char *refname, const char *key,
			const struct log_entry *e, size_t k,
			const struct seen *s, struct violation_sink *vs)
{
	size_t i;

	if (!s->present) {
		if (k)
			violation(vs, "%s: %zu reflog entries but no ref",
				  refname, k);
		return;
	}
	if (k != s->v.n) {
		violation(vs, "%s: at n=%llu but %zu reflog entries", refname,
			  (unsigned long long)s->v.n, k);
		return;
	}
	if (e[0].update_index != s->update_index ||
	    memcmp(e[0].new_id, s->oid, STRESS_OID_LEN)) {
		violation(vs, "%s: newest reflog entry (ui=%llu) is not the "
			      "ref's value (ui=%llu)",
			  refname, (unsigned long long)e[0].update_index,
			  (unsigned long long)s->update_index);
		return;
	}
	for (i = 0; i < k; i++) {
		struct value v;
		const uint8_t *expect_old =
			i + 1 < k ? e[i + 1].new_id : null_oid;

		if (value_decode(e[i].new_id, key, &v) < 0 ||
		    v.n != s->v.n - i) {
			violation(vs, "%s: reflog entry ui=%llu: new value is "
				      "not n=%llu",
				  refname, (unsigned long long)e[i].update_index,
				  (unsigned long long)(s->v.n - i));
			return;
		}
		if (memcmp(e[i].old_id, expect_old, STRESS_OID_LEN)) {
			violation(vs, "%s: reflog entry ui=%llu (n=%llu): old "
				      "value is not the previous entry's new "
				      "value (a lost or duplicated update)",
				  refname, (unsigned long long)e[i].update_index,
				  (unsigned long long)v.n);
			return;
		}
		if (i + 1 < k && e[i + 1].update_index >= e[i].update_index) {
			violation(vs, "%s: reflog update indexes do not grow "
				      "(%llu after %llu)",
				  refname, (unsigned long long)e[i].update_index,
				  (unsigned long long)e[i + 1].update_index);
			return;
		}
	}
}

int reflog_check(struct reftable_stack *st, const struct layout *l, int c,
		 const struct seen *s, struct violation_sink *vs,
		 struct log_entry **entries, size_t *n_entries)
{
	int halves = counter_kind(l, c) == COUNTER_PAIR ? 2 : 1, h, err = 0;
	struct log_entry *first = NULL;
	size_t first_n = 0;
	char key[256];

	counter_refname(l, c, -1, key, sizeof(key));
	for (h = 0; h < halves && !err; h++) {
		char refname[256];
		struct log_entry *e = NULL;
		size_t k = 0;

		counter_refname(l, c, h, refname, sizeof(refname));
		err = read_entries(st, refname, &e, &k);
		if (err < 0) {
			violation(vs, "%s: reading the reflog failed: %s: %s",
				  refname, reftable_error_str(err),
				  reftable_error_detail());
			break;
		}
		if (h == 0) {
			check_chain(refname, key, e, k, s, vs);
			first = e;
			first_n = k;
			continue;
		}
		/* The other half of a pair: the very same entries. */
		if (k != first_n ||
		    (k && memcmp(e, first, k * sizeof(*e))))
			violation(vs, "%s: reflog differs from its pair's "
				      "(%zu entries against %zu)",
				  refname, k, first_n);
		free(e);
	}
	if (entries && !err) {
		*entries = first;
		*n_entries = first_n;
	} else {
		free(first);
	}
	return err;
}
