#ifndef BENCH_WORKLOAD_H
#define BENCH_WORKLOAD_H

/*
 * The reference workload of t/bench/SPEC.md: N refs generated from
 * splitmix64, sorted bytewise by name, with an FNV-1a digest that pins
 * them down to the bit.
 */

#include <stddef.h>
#include <stdint.h>

#define BENCH_OID_LEN 20
#define BENCH_NAME_SIZE 40          /* names fit while N < 10^13 */

/*
 * One cache line per ref, name inline: picking a random ref costs the
 * driver one miss, not two, so lookups time the library rather than
 * the driver's arrays.
 */
struct bench_ref {
	char name[BENCH_NAME_SIZE];
	uint8_t id[BENCH_OID_LEN];  /* current value */
	uint32_t peeled;            /* 1 + index into peeled[], 0: not a tag */
};

struct workload {
	size_t n;
	struct bench_ref *refs;     /* sorted by name */
	size_t refs_bytes;          /* the mapping that holds refs */
	uint8_t (*peeled)[BENCH_OID_LEN];
	uint64_t digest;
};

/* The SPEC's generator: state += golden gamma, then mix. */
uint64_t splitmix64_next(uint64_t *state);

/* An object id: two whole draws and 4 bytes of a third, little-endian. */
void workload_draw_oid(uint64_t *state, uint8_t *oid);

/* Generate and sort n refs; 0 or -1 (out of memory). */
int workload_generate(struct workload *w, size_t n);
void workload_release(struct workload *w);

/* FNV-1a 64 over names (with NUL), ids and peeled ids, in sorted order. */
uint64_t workload_digest(const struct workload *w);

/*
 * The digest the SPEC lists for n, in *digest; 0 if n is not in the
 * SPEC's table.
 */
int workload_known_digest(size_t n, uint64_t *digest);

#endif
