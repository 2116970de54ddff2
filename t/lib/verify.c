/*
 * Check a table or merged view against a model of what it must hold; see
 * tl_verify() in testlib.h. Every expectation is computed from the model
 * by plain scans and binary searches written here, never by the library.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

/* --- adapters ------------------------------------------------------------ */

static int table_init_ref(void *o, struct reftable_iterator *it)
{
	return reftable_table_init_ref_iterator(o, it);
}

static int table_init_log(void *o, struct reftable_iterator *it)
{
	return reftable_table_init_log_iterator(o, it);
}

static int table_read_ref(void *o, const char *name,
			  struct reftable_ref_record *ref)
{
	return reftable_table_read_ref(o, name, ref);
}

static int table_refs_for(void *o, const uint8_t *oid,
			  struct reftable_iterator *it)
{
	return reftable_table_refs_for(o, oid, it);
}

void tl_source_table(struct tl_source *s, struct reftable_table *t)
{
	s->obj = t;
	s->init_ref = table_init_ref;
	s->init_log = table_init_log;
	s->read_ref = table_read_ref;
	s->refs_for = table_refs_for;
}

static int merged_init_ref(void *o, struct reftable_iterator *it)
{
	return reftable_merged_init_ref_iterator(o, it);
}

static int merged_init_log(void *o, struct reftable_iterator *it)
{
	return reftable_merged_init_log_iterator(o, it);
}

static int merged_read_ref(void *o, const char *name,
			   struct reftable_ref_record *ref)
{
	return reftable_merged_read_ref(o, name, ref);
}

static int merged_refs_for(void *o, const uint8_t *oid,
			   struct reftable_iterator *it)
{
	return reftable_merged_refs_for(o, oid, it);
}

void tl_source_merged(struct tl_source *s, struct reftable_merged *m)
{
	s->obj = m;
	s->init_ref = merged_init_ref;
	s->init_log = merged_init_log;
	s->read_ref = merged_read_ref;
	s->refs_for = merged_refs_for;
}

/* --- model searches ---------------------------------------------------- */

/* First ref whose name is >= name. */
static size_t ref_lower_bound(const struct tl_refs *refs, const char *name)
{
	size_t lo = 0, hi = refs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tl_ref_key_cmp(refs->v[mid].refname, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* First log whose key is >= (name, ui) in log order. */
static size_t log_lower_bound(const struct tl_logs *logs, const char *name,
			      uint64_t ui)
{
	size_t lo = 0, hi = logs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tl_log_key_cmp(logs->v[mid].refname,
				   logs->v[mid].update_index, name, ui) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* --- pieces ------------------------------------------------------------ */

static void check_iteration(const struct tl_source *src,
			    const struct tl_refs *refs,
			    const struct tl_logs *logs, size_t hs,
			    const char *ctx)
{
	struct reftable_iterator it = { 0 };
	struct tl_refs got = { 0 };
	struct tl_logs gotl = { 0 };
	char msg[512];
	size_t i;
	int err;

	TL_CHECK(src->init_ref(src->obj, &it) == 0, "%s", "src->init_ref(src->obj, &it)");
	TL_CHECK(reftable_iterator_seek_ref(&it, "") == 0, "%s", "reftable_iterator_seek_ref(&it, \"\")");
	err = tl_read_all_refs(&it, &got);
	reftable_iterator_destroy(&it);
	TL_CHECK(err == 1, "%s: ref iteration ended with %d (%s)", ctx,
		      err, reftable_error_detail());
	for (i = 0; i < got.n && i < refs->n; i++) {
		snprintf(msg, sizeof(msg), "%s: ref #%zu of %zu", ctx, i, refs->n);
		tl_assert_ref_eq(&refs->v[i], &got.v[i], hs, msg);
	}
	TL_CHECK(got.n == refs->n, "%s: %zu refs read, want %zu", ctx,
		      got.n, refs->n);
	tl_refs_free(&got);

	TL_CHECK(src->init_log(src->obj, &it) == 0, "%s", "src->init_log(src->obj, &it)");
	TL_CHECK(reftable_iterator_seek_log(&it, "") == 0, "%s", "reftable_iterator_seek_log(&it, \"\")");
	err = tl_read_all_logs(&it, &gotl);
	reftable_iterator_destroy(&it);
	TL_CHECK(err == 1, "%s: log iteration ended with %d (%s)", ctx,
		      err, reftable_error_detail());
	for (i = 0; i < gotl.n && i < logs->n; i++) {
		snprintf(msg, sizeof(msg), "%s: log #%zu of %zu", ctx, i, logs->n);
		tl_assert_log_eq(&logs->v[i], &gotl.v[i], hs, msg);
	}
	TL_CHECK(gotl.n == logs->n, "%s: %zu logs read, want %zu", ctx,
		      gotl.n, logs->n);
	tl_logs_free(&gotl);
}

static void check_read_ref_name(const struct tl_source *src,
				const struct tl_refs *refs, const char *name,
				struct reftable_ref_record *rec, size_t hs,
				const char *ctx)
{
	size_t at = ref_lower_bound(refs, name);
	int found = at < refs->n && !strcmp(refs->v[at].refname, name);
	int err = src->read_ref(src->obj, name, rec);
	char msg[512];

	snprintf(msg, sizeof(msg), "%s: read_ref(\"%s\")", ctx, name);
	TL_CHECK(err == (found ? 0 : 1), "%s = %d, want %d (%s)", msg,
		      err, found ? 0 : 1, reftable_error_detail());
	if (found)
		tl_assert_ref_eq(&refs->v[at], rec, hs, msg);
}

static void check_read_ref(const struct tl_source *src,
			   const struct tl_refs *refs, size_t hs,
			   size_t stride, const char *ctx)
{
	static const char *const absent[] = { "", "A", "HEAD~", "refs",
					      "refs/", "zzzz", "\xff\xff" };
	struct reftable_ref_record rec = { 0 };
	struct tl_str name = TL_STR_INIT;
	size_t i;

	for (i = 0; i < refs->n; i += stride) {
		check_read_ref_name(src, refs, refs->v[i].refname, &rec, hs, ctx);
		/* Just after it, and a prefix of it: usually absent. */
		tl_str_reset(&name);
		tl_str_add(&name, refs->v[i].refname);
		tl_str_add(&name, "\x01");
		check_read_ref_name(src, refs, tl_str_get(&name), &rec, hs, ctx);
		tl_str_reset(&name);
		tl_str_addn(&name, refs->v[i].refname,
			    strlen(refs->v[i].refname) - 1);
		check_read_ref_name(src, refs, tl_str_get(&name), &rec, hs, ctx);
	}
	for (i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		check_read_ref_name(src, refs, absent[i], &rec, hs, ctx);
	tl_str_release(&name);
	reftable_ref_record_release(&rec);
}

/* Seek it to name and check the next two refs against the model. */
static void check_seek_ref_at(struct reftable_iterator *it,
			      const struct tl_refs *refs, const char *name,
			      struct reftable_ref_record *rec, size_t hs,
			      const char *ctx)
{
	size_t at = ref_lower_bound(refs, name), k;
	char msg[512];
	int err;

	snprintf(msg, sizeof(msg), "%s: seek_ref(\"%s\")", ctx, name);
	err = reftable_iterator_seek_ref(it, name);
	TL_CHECK(err == 0, "%s = %d (%s)", msg, err,
		      reftable_error_detail());
	for (k = at; k < at + 2; k++) {
		err = reftable_iterator_next_ref(it, rec);
		if (k >= refs->n) {
			TL_CHECK(err == 1, "%s: next = %d, want the end",
				      msg, err);
			return;
		}
		TL_CHECK(err == 0, "%s: next = %d (%s)", msg, err,
			      reftable_error_detail());
		tl_assert_ref_eq(&refs->v[k], rec, hs, msg);
	}
}

static void check_seek_ref(const struct tl_source *src,
			   const struct tl_refs *refs, size_t hs,
			   size_t stride, const char *ctx)
{
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record rec = { 0 };
	struct tl_str name = TL_STR_INIT;
	size_t i;

	/* One iterator, seeked again and again. */
	TL_CHECK(src->init_ref(src->obj, &it) == 0, "%s", "src->init_ref(src->obj, &it)");
	check_seek_ref_at(&it, refs, "", &rec, hs, ctx);
	check_seek_ref_at(&it, refs, "\xff", &rec, hs, ctx);
	check_seek_ref_at(&it, refs, "refs/", &rec, hs, ctx);
	for (i = 0; i < refs->n; i += stride) {
		const char *n = refs->v[i].refname;

		check_seek_ref_at(&it, refs, n, &rec, hs, ctx);
		tl_str_reset(&name);
		tl_str_add(&name, n);
		tl_str_add(&name, "\x01");
		check_seek_ref_at(&it, refs, tl_str_get(&name), &rec, hs, ctx);
		tl_str_reset(&name);
		tl_str_addn(&name, n, strlen(n) / 2);
		check_seek_ref_at(&it, refs, tl_str_get(&name), &rec, hs, ctx);
	}
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&rec);
	tl_str_release(&name);
}

static void check_seek_log_at(struct reftable_iterator *it,
			      const struct tl_logs *logs, const char *name,
			      uint64_t ui, struct reftable_log_record *rec,
			      size_t hs, const char *ctx)
{
	size_t at = log_lower_bound(logs, name, ui), k;
	char msg[512];
	int err;

	snprintf(msg, sizeof(msg), "%s: seek_log_at(\"%s\", %llu)", ctx, name,
		 (unsigned long long)ui);
	err = reftable_iterator_seek_log_at(it, name, ui);
	TL_CHECK(err == 0, "%s = %d (%s)", msg, err,
		      reftable_error_detail());
	for (k = at; k < at + 2; k++) {
		err = reftable_iterator_next_log(it, rec);
		if (k >= logs->n) {
			TL_CHECK(err == 1, "%s: next = %d, want the end",
				      msg, err);
			return;
		}
		TL_CHECK(err == 0, "%s: next = %d (%s)", msg, err,
			      reftable_error_detail());
		tl_assert_log_eq(&logs->v[k], rec, hs, msg);
	}
}

static void check_seek_log(const struct tl_source *src,
			   const struct tl_logs *logs, size_t hs,
			   size_t stride, const char *ctx)
{
	struct reftable_iterator it = { 0 };
	struct reftable_log_record rec = { 0 };
	struct tl_str name = TL_STR_INIT;
	size_t at = log_lower_bound(logs, "", UINT64_MAX), i;
	char msg[512];
	int err;

	TL_CHECK(src->init_log(src->obj, &it) == 0, "%s", "src->init_log(src->obj, &it)");
	check_seek_log_at(&it, logs, "", UINT64_MAX, &rec, hs, ctx);
	check_seek_log_at(&it, logs, "\xff", UINT64_MAX, &rec, hs, ctx);
	for (i = 0; i < logs->n; i += stride) {
		const char *n = logs->v[i].refname;
		uint64_t ui = logs->v[i].update_index;

		check_seek_log_at(&it, logs, n, ui, &rec, hs, ctx);
		check_seek_log_at(&it, logs, n, UINT64_MAX, &rec, hs, ctx);
		check_seek_log_at(&it, logs, n, 0, &rec, hs, ctx);
		if (ui > 0)
			check_seek_log_at(&it, logs, n, ui - 1, &rec, hs, ctx);
		if (ui < UINT64_MAX)
			check_seek_log_at(&it, logs, n, ui + 1, &rec, hs, ctx);
		tl_str_reset(&name);
		tl_str_add(&name, n);
		tl_str_add(&name, "\x01");
		check_seek_log_at(&it, logs, tl_str_get(&name), UINT64_MAX,
				  &rec, hs, ctx);

		/* seek_log is seek_log_at the newest entry. */
		at = log_lower_bound(logs, n, UINT64_MAX);
		snprintf(msg, sizeof(msg), "%s: seek_log(\"%s\")", ctx, n);
		TL_CHECK(reftable_iterator_seek_log(&it, n) == 0, "%s", "reftable_iterator_seek_log(&it, n)");
		err = reftable_iterator_next_log(&it, &rec);
		TL_CHECK(err == 0, "%s: next = %d", msg, err);
		tl_assert_log_eq(&logs->v[at], &rec, hs, msg);
	}
	reftable_iterator_destroy(&it);
	reftable_log_record_release(&rec);
	tl_str_release(&name);
}

/* --- refs_for --------------------------------------------------------- */

struct oid_ref {
	const uint8_t *oid;
	size_t ref; /* index in the model, so name order */
};

static size_t sort_hash_size;

static int oid_ref_cmp(const void *a, const void *b)
{
	const struct oid_ref *x = a, *y = b;
	int c = memcmp(x->oid, y->oid, sort_hash_size);
	if (c)
		return c;
	return (x->ref > y->ref) - (x->ref < y->ref);
}

/* Pairs (oid, ref) for every value and peeled value; each ref once per
 * oid even when its value and peeled value are equal. */
static struct oid_ref *oid_pairs(const struct tl_refs *refs, size_t hs,
				 size_t *n)
{
	struct oid_ref *p = malloc((2 * refs->n + 1) * sizeof(*p));
	size_t i, j, k = 0;

	TL_CHECK(p != NULL, "%s", "p != NULL");
	for (i = 0; i < refs->n; i++) {
		const struct reftable_ref_record *r = &refs->v[i];
		if (r->value_type == REFTABLE_REF_VAL1 ||
		    r->value_type == REFTABLE_REF_VAL2)
			p[k++] = (struct oid_ref){ r->value, i };
		if (r->value_type == REFTABLE_REF_VAL2 &&
		    memcmp(r->peeled, r->value, hs))
			p[k++] = (struct oid_ref){ r->peeled, i };
	}
	sort_hash_size = hs;
	if (k)
		qsort(p, k, sizeof(*p), oid_ref_cmp);
	/* Drop exact duplicates (none expected, but be safe). */
	for (i = j = 0; i < k; i++)
		if (!j || oid_ref_cmp(&p[j - 1], &p[i]))
			p[j++] = p[i];
	*n = j;
	return p;
}

/* Whether the sorted pairs hold oid (binary search). */
static int has_oid(const struct oid_ref *p, size_t n, const uint8_t *oid,
		   size_t hs)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(p[mid].oid, oid, hs);
		if (!c)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static void check_refs_for_oid(const struct tl_source *src,
			       const struct tl_refs *refs, const uint8_t *oid,
			       const struct oid_ref *want, size_t nwant,
			       size_t hs, const char *ctx)
{
	struct reftable_iterator it = { 0 };
	struct tl_refs got = { 0 };
	struct tl_str hex = TL_STR_INIT;
	char msg[512];
	size_t i;
	int err;

	tl_hex(&hex, oid, hs);
	snprintf(msg, sizeof(msg), "%s: refs_for(%s)", ctx, tl_str_get(&hex));
	tl_str_release(&hex);
	err = src->refs_for(src->obj, oid, &it);
	TL_CHECK(err == 0, "%s = %d (%s)", msg, err,
		      reftable_error_detail());
	err = tl_read_all_refs(&it, &got);
	reftable_iterator_destroy(&it);
	TL_CHECK(err == 1, "%s: iteration ended with %d (%s)", msg, err,
		      reftable_error_detail());
	for (i = 0; i < got.n && i < nwant; i++)
		tl_assert_ref_eq(&refs->v[want[i].ref], &got.v[i], hs, msg);
	if (got.n != nwant) {
		for (i = nwant; i < got.n; i++) {
			char *line = tl_ref_line(&got.v[i], hs);
			fprintf(stderr, "%s: extra %s\n", msg, line);
			free(line);
		}
	}
	TL_CHECK(got.n == nwant, "%s: %zu refs, want %zu", msg, got.n,
		      nwant);
	tl_refs_free(&got);
}

static void check_refs_for(const struct tl_source *src,
			   const struct tl_refs *refs, size_t hs,
			   size_t stride, const char *ctx)
{
	size_t n, i, j, group = 0;
	struct oid_ref *p = oid_pairs(refs, hs, &n);
	uint8_t probe[REFTABLE_HASH_SIZE_MAX];

	for (i = 0; i < n; i = j, group++) {
		for (j = i + 1; j < n && !memcmp(p[j].oid, p[i].oid, hs); j++)
			;
		if (group % stride)
			continue;
		check_refs_for_oid(src, refs, p[i].oid, p + i, j - i, hs, ctx);
		/* A neighbour id (last byte changed) that nobody holds. */
		memcpy(probe, p[i].oid, hs);
		probe[hs - 1] ^= 0x5a;
		if (group % (stride * 16) == 0 && !has_oid(p, n, probe, hs))
			check_refs_for_oid(src, refs, probe, NULL, 0, hs, ctx);
	}
	memset(probe, 0, sizeof(probe));
	if (!has_oid(p, n, probe, hs))
		check_refs_for_oid(src, refs, probe, NULL, 0, hs, ctx);
	memset(probe, 0xff, sizeof(probe));
	if (!has_oid(p, n, probe, hs))
		check_refs_for_oid(src, refs, probe, NULL, 0, hs, ctx);
	free(p);
}

void tl_verify_sampled(const struct tl_source *src, const struct tl_refs *refs,
		       const struct tl_logs *logs, size_t hash_size,
		       size_t stride, size_t refs_for_stride, const char *ctx)
{
	check_iteration(src, refs, logs, hash_size, ctx);
	check_read_ref(src, refs, hash_size, stride ? stride : 1, ctx);
	check_seek_ref(src, refs, hash_size, stride ? stride : 1, ctx);
	check_seek_log(src, logs, hash_size, stride ? stride : 1, ctx);
	check_refs_for(src, refs, hash_size,
		       refs_for_stride ? refs_for_stride : 1, ctx);
}

void tl_verify(const struct tl_source *src, const struct tl_refs *refs,
	       const struct tl_logs *logs, size_t hash_size, size_t stride,
	       const char *ctx)
{
	tl_verify_sampled(src, refs, logs, hash_size, stride, stride, ctx);
}
