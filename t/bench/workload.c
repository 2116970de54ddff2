/* The reference workload: see t/bench/SPEC.md for the definition. */

#include "workload.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_NAME_LEN BENCH_NAME_SIZE
#define HUGE_PAGE (2u << 20)

uint64_t splitmix64_next(uint64_t *state)
{
	uint64_t z;

	*state += 0x9e3779b97f4a7c15ULL;
	z = *state;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void put_le(uint8_t *dst, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		dst[i] = (uint8_t)(v >> (8 * i));
}

void workload_draw_oid(uint64_t *state, uint8_t *oid)
{
	put_le(oid, splitmix64_next(state), 8);
	put_le(oid + 8, splitmix64_next(state), 8);
	put_le(oid + 16, splitmix64_next(state), 4);
}

/*
 * Write the name of ref i into dst. Topic branches draw their hex part
 * here, before the caller draws the object id, as the SPEC orders.
 */
static int format_name(char *dst, uint64_t i, uint64_t *state)
{
	switch (i % 10) {
	case 6:
	case 7: {
		uint64_t x = splitmix64_next(state) & 0xffffffffULL;
		return snprintf(dst, MAX_NAME_LEN,
				"refs/heads/topic/%08" PRIx64 "-%" PRIu64, x,
				i);
	}
	case 8:
		return snprintf(dst, MAX_NAME_LEN,
				"refs/tags/v%" PRIu64 ".%" PRIu64 ".%" PRIu64,
				i / 10000, (i / 100) % 100, i % 100);
	case 9:
		return snprintf(dst, MAX_NAME_LEN,
				"refs/changes/%02" PRIu64 "/%" PRIu64
				"/%" PRIu64,
				i % 100, i, i % 7 + 1);
	default:
		return snprintf(dst, MAX_NAME_LEN, "refs/pull/%" PRIu64 "/head",
				i);
	}
}

static int compare_refs(const void *a, const void *b)
{
	const struct bench_ref *x = a, *y = b;

	/* strcmp compares as unsigned char: the bytewise order. */
	return strcmp(x->name, y->name);
}

/*
 * Zeroed memory for the refs, on huge pages where the kernel allows, so
 * a random pick misses no TLB either.
 */
static void *map_refs(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, bytes, MADV_HUGEPAGE); /* a hint: failure is harmless */
#endif
	return p;
}

int workload_generate(struct workload *w, size_t n)
{
	uint64_t state = 42;
	size_t i, ntags = 0;

	memset(w, 0, sizeof(*w));
	w->n = n;
	w->refs_bytes = ((n ? n : 1) * sizeof(*w->refs) + HUGE_PAGE - 1) &
			~(size_t)(HUGE_PAGE - 1);
	w->refs = map_refs(w->refs_bytes);
	w->peeled = calloc(n / 10 + 1, sizeof(*w->peeled));
	if (!w->refs || !w->peeled) {
		workload_release(w);
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct bench_ref *r = &w->refs[i];

		int len = format_name(r->name, i, &state);

		if (len < 0 || len >= MAX_NAME_LEN) {
			workload_release(w);
			return -1;
		}
		workload_draw_oid(&state, r->id);
		if (i % 10 == 8) {
			workload_draw_oid(&state, w->peeled[ntags]);
			r->peeled = (uint32_t)++ntags;
		}
	}
	qsort(w->refs, n, sizeof(*w->refs), compare_refs);
	w->digest = workload_digest(w);
	return 0;
}

void workload_release(struct workload *w)
{
	if (w->refs)
		munmap(w->refs, w->refs_bytes);
	free(w->peeled);
	memset(w, 0, sizeof(*w));
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t workload_digest(const struct workload *w)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < w->n; i++) {
		const struct bench_ref *r = &w->refs[i];

		h = fnv1a(h, r->name, strlen(r->name) + 1);
		h = fnv1a(h, r->id, BENCH_OID_LEN);
		if (r->peeled)
			h = fnv1a(h, w->peeled[r->peeled - 1], BENCH_OID_LEN);
	}
	return h;
}

int workload_known_digest(size_t n, uint64_t *digest)
{
	static const struct {
		size_t n;
		uint64_t digest;
	} known[] = {
		{ 1000, 0x2848f2db24487167ULL },
		{ 200000, 0xe25bfbead13db8c1ULL },
		{ 1000000, 0x594c9d74cefa0cbaULL },
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (known[i].n == n) {
			*digest = known[i].digest;
			return 1;
		}
	}
	return 0;
}
