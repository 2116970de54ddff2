/* Random ref and log models for the format tests; see testlib.h. */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

static const char *const kinds[] = {
	"heads/", "tags/", "remotes/origin/", "pull/", "changes/ab/",
	"heads/feature/",
};

/* Bytes allowed in generated names: no control bytes, no spaces. */
static const char name_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789-_.";

void tl_random_refname(struct tl_rng *r, char *buf, size_t max_name)
{
	const char *kind = kinds[tl_rng_below(r, sizeof(kinds) /
						    sizeof(kinds[0]))];
	size_t len, want, i;

	TL_CHECK(max_name >= 16 + 5, "%s", "max_name >= 16 + 5");
	strcpy(buf, "refs/");
	len = 5;
	if (strlen(kind) + len + 1 <= max_name) {
		strcpy(buf + len, kind);
		len += strlen(kind);
	}
	/* Mostly short names, now and then one near the maximum. */
	if (tl_rng_below(r, 8) == 0)
		want = max_name;
	else
		want = len + 1 + tl_rng_below(r, 12);
	if (want > max_name)
		want = max_name;
	if (want <= len)
		want = len + 1;
	for (i = len; i < want; i++) {
		/* An occasional '/', never first, last or doubled. */
		if (i > len && i + 1 < want && buf[i - 1] != '/' &&
		    tl_rng_below(r, 10) == 0)
			buf[i] = '/';
		else
			buf[i] = name_chars[tl_rng_below(r, sizeof(name_chars) - 1)];
	}
	buf[want] = '\0';
}

static void make_pool(struct tl_rng *r, uint8_t *pool, size_t n,
		      size_t hash_size)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t *oid = pool + i * hash_size;
		if (i > 0 && tl_rng_below(r, 4) == 0) {
			/* A near twin: same bytes but for the last one or two,
			 * so the object index needs long abbreviations. */
			memcpy(oid, pool + tl_rng_below(r, i) * hash_size,
			       hash_size);
			/* SHA-1 twins may share all but the last byte (a full
			 * 20-byte abbreviation); SHA-256 twins share 24, as
			 * the 5-bit abbreviation length field cannot say 32
			 * (a dedicated test in test-roundtrip.c covers that). */
			if (hash_size == 32)
				tl_rng_bytes(r, oid + 24, 8);
			else
				oid[hash_size - 1] ^=
					(uint8_t)(1 + tl_rng_below(r, 255));
		} else {
			tl_rng_bytes(r, oid, hash_size);
		}
	}
}

static uint64_t pick_index(struct tl_rng *r, uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo;
	if (span == UINT64_MAX)
		return tl_rng_next(r);
	return lo + tl_rng_below(r, span + 1);
}

static void gen_refs(struct tl_rng *r, const struct tl_gen_opts *o,
		     const uint8_t *pool, size_t npool, struct tl_refs *refs)
{
	char *name = malloc(o->max_name + 1);
	char *target = malloc(o->max_name + 1);
	size_t i, j;

	TL_CHECK(name && target, "%s", "name && target");
	for (i = 0; i < o->nrefs; i++) {
		struct reftable_ref_record ref = { 0 };
		uint64_t kind = tl_rng_below(r, 20);

		if (i == 0)
			strcpy(name, "HEAD");
		else
			tl_random_refname(r, name, o->max_name);
		ref.refname = name;
		ref.update_index = pick_index(r, o->min, o->max);
		if (o->with_deletions && kind < 2) {
			ref.value_type = REFTABLE_REF_DELETION;
		} else if (kind < 13) {
			ref.value_type = REFTABLE_REF_VAL1;
			memcpy(ref.value,
			       pool + tl_rng_below(r, npool) * o->hash_size,
			       o->hash_size);
		} else if (kind < 17) {
			ref.value_type = REFTABLE_REF_VAL2;
			memcpy(ref.value,
			       pool + tl_rng_below(r, npool) * o->hash_size,
			       o->hash_size);
			memcpy(ref.peeled,
			       pool + tl_rng_below(r, npool) * o->hash_size,
			       o->hash_size);
		} else {
			ref.value_type = REFTABLE_REF_SYMREF;
			tl_random_refname(r, target, o->max_name);
			ref.target = target;
		}
		tl_refs_add(refs, &ref);
	}
	free(name);
	free(target);

	/* Sort and keep the first of each name. */
	tl_refs_sort(refs);
	for (i = j = 0; i < refs->n; i++) {
		if (j > 0 && !strcmp(refs->v[j - 1].refname, refs->v[i].refname)) {
			tl_ref_clear(&refs->v[i]);
			continue;
		}
		refs->v[j++] = refs->v[i];
	}
	refs->n = j;
}

static char *random_message(struct tl_rng *r, size_t max)
{
	static const char extra[] = "\n\t\\ <>:\x01\x7f\xc3\xa9";
	size_t len = max ? tl_rng_below(r, max + 1) : 0, i;
	char *m = malloc(len + 1);

	TL_CHECK(m != NULL, "%s", "m != NULL");
	for (i = 0; i < len; i++) {
		if (tl_rng_below(r, 8) == 0)
			m[i] = extra[tl_rng_below(r, sizeof(extra) - 1)];
		else
			m[i] = (char)(' ' + tl_rng_below(r, 95));
	}
	m[len] = '\0';
	return m;
}

static void gen_logs(struct tl_rng *r, const struct tl_gen_opts *o,
		     const uint8_t *pool, size_t npool,
		     const struct tl_refs *refs, struct tl_logs *logs)
{
	static const char *const who[] = { "A U Thor", "C O Mitter",
					   "\xc3\x9c" "n" "\xc3\xaf" "c" "\xc3\xb6" "de", "x" };
	static const int16_t zones[] = { 0, -530, 200, 1400, -1200, 32767,
					 -32768, 1 };
	size_t nnames = o->nlogs / 4 + 1, i, j;
	char **names = calloc(nnames, sizeof(*names));

	TL_CHECK(names != NULL, "%s", "names != NULL");
	for (i = 0; i < nnames; i++) {
		names[i] = malloc(o->max_name + 1);
		TL_CHECK(names[i] != NULL, "%s", "names[i] != NULL");
		/* Half the logged names are refs of the table. */
		if (refs->n && tl_rng_below(r, 2))
			strcpy(names[i],
			       refs->v[tl_rng_below(r, refs->n)].refname);
		else
			tl_random_refname(r, names[i], o->max_name);
	}
	for (i = 0; i < o->nlogs; i++) {
		struct reftable_log_record log = { 0 };
		char *msg = NULL;
		uint64_t t = tl_rng_below(r, 4);

		log.refname = names[tl_rng_below(r, nnames)];
		log.update_index = pick_index(r, 0, o->max);
		if (o->with_deletions && tl_rng_below(r, 10) == 0) {
			log.value_type = REFTABLE_LOG_DELETION;
		} else {
			log.value_type = REFTABLE_LOG_UPDATE;
			if (tl_rng_below(r, 5))
				memcpy(log.old_id,
				       pool + tl_rng_below(r, npool) * o->hash_size,
				       o->hash_size);
			memcpy(log.new_id,
			       pool + tl_rng_below(r, npool) * o->hash_size,
			       o->hash_size);
			log.name = (char *)who[tl_rng_below(r, 4)];
			log.email = tl_rng_below(r, 6) ? "someone@example.com" : "";
			log.time = t == 0 ? 0 : t == 1 ? UINT64_MAX / 3
						       : 1700000000 + i;
			log.tz_offset = zones[tl_rng_below(r, 8)];
			msg = random_message(r, o->max_message);
			log.message = msg;
		}
		tl_logs_add(logs, &log);
		free(msg);
	}
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);

	tl_logs_sort(logs);
	for (i = j = 0; i < logs->n; i++) {
		if (j > 0 && !strcmp(logs->v[j - 1].refname, logs->v[i].refname) &&
		    logs->v[j - 1].update_index == logs->v[i].update_index) {
			tl_log_clear(&logs->v[i]);
			continue;
		}
		logs->v[j++] = logs->v[i];
	}
	logs->n = j;
}

void tl_gen_model(struct tl_rng *r, const struct tl_gen_opts *o,
		  struct tl_refs *refs, struct tl_logs *logs)
{
	size_t npool = o->oid_pool ? o->oid_pool : (o->nrefs ? o->nrefs : 1);
	uint8_t *pool = malloc(npool * o->hash_size);

	TL_CHECK(pool != NULL, "%s", "pool != NULL");
	TL_CHECK(o->min <= o->max, "%s", "o->min <= o->max");
	make_pool(r, pool, npool, o->hash_size);
	gen_refs(r, o, pool, npool, refs);
	gen_logs(r, o, pool, npool, refs, logs);
	free(pool);
}
