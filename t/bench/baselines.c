/* The physical baselines of this machine, measured in the same run. */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

/* One stat of tables.list: the floor of a reload that finds no change. */
void baseline_stat(const struct bench *b)
{
	char *list = path_in(b->dir, "tables.list");
	struct stat sb;
	uint64_t start, ns;
	size_t i;

	start = now_ns();
	for (i = 0; i < STAT_BASELINE_OPS; i++)
		if (stat(list, &sb) < 0)
			die_errno("stat", list);
	ns = now_ns() - start;
	printf("baseline_stat: %.0f ns/op\n", (double)ns / STAT_BASELINE_OPS);
	free(list);
}

/* Rewriting and fsyncing a small file: the floor of one durable step. */
void baseline_fsync(const struct bench *b)
{
	char *path = path_in(b->dir, "fsync-baseline");
	char data[128];
	uint64_t start, ns;
	size_t i;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);

	if (fd < 0)
		die_errno("open", path);
	start = now_ns();
	for (i = 0; i < FSYNC_BASELINE_OPS; i++) {
		memset(data, 'a' + (int)(i % 26), sizeof(data));
		if (pwrite(fd, data, sizeof(data), 0) != (ssize_t)sizeof(data))
			die_errno("write", path);
		if (fsync(fd) < 0)
			die_errno("fsync", path);
	}
	ns = now_ns() - start;
	close(fd);
	unlink(path);
	free(path);
	printf("baseline_fsync: %.0f us/op\n",
	       (double)ns / 1000.0 / FSYNC_BASELINE_OPS);
}

/* Written after the baseline so the compiler keeps the reads. */
static volatile uint64_t memread_sink;

struct mapped {
	const uint64_t *words[256];
	size_t lens[256]; /* in words */
	size_t n;
};

static void map_file(const char *path, void *arg)
{
	struct mapped *m = arg;
	struct stat sb;
	void *p;
	int fd;

	if (m->n == sizeof(m->words) / sizeof(m->words[0]))
		return;
	fd = open(path, O_RDONLY);
	if (fd < 0 && vanished())
		return;
	if (fd < 0 || fstat(fd, &sb) < 0)
		die_errno("open", path);
	if (sb.st_size >= 8) {
		p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd,
			 0);
		if (p == MAP_FAILED)
			die_errno("mmap", path);
		m->words[m->n] = p;
		m->lens[m->n++] = (size_t)sb.st_size / 8;
	}
	close(fd);
}

static uint64_t sum_words(const uint64_t *p, size_t n)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += p[i];
	return s;
}

/*
 * The floor of phase 2 in memory reads: the driver's pick of a ref (one
 * line of its rows), then one line of the largest table, where a lookup
 * finds nearly every ref, at a place that depends on what the pick read;
 * the next pick depends on that line in turn. Any lookup reads at least
 * this much, one read after the other: the name, then the ref's value.
 */
static void baseline_lookup_reads(const struct bench *b, const struct mapped *m)
{
	uint64_t rng = 7, dep = 0, start, ns;
	size_t i, big = 0;

	for (i = 1; i < m->n; i++)
		if (m->lens[i] > m->lens[big])
			big = i;
	if (!m->n)
		return;
	start = now_ns();
	for (i = 0; i < LOOKUP_HITS; i++) {
		const struct bench_ref *r =
			&b->w.refs[(splitmix64_next(&rng) + dep) % b->w.n];
		uint64_t at;

		memcpy(&at, r->id, sizeof(at));
		dep = m->words[big][at % m->lens[big]] & 1;
	}
	ns = now_ns() - start;
	memread_sink += dep;
	printf("baseline_lookup_reads: %.0f ns/op\n",
	       (double)ns / LOOKUP_HITS);
}

/* Every table mapped, each page read once: faults are not memory reads. */
static void map_tables(const struct bench *b, struct mapped *m)
{
	uint64_t sink = 0;
	size_t i, w;

	memset(m, 0, sizeof(*m));
	for_each_table_file(b->dir, map_file, m);
	for (i = 0; i < m->n; i++)
		for (w = 0; w < m->lens[i]; w += 4096 / 8)
			sink += m->words[i][w];
	memread_sink += sink;
}

static void unmap_tables(struct mapped *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		munmap((void *)m->words[i], m->lens[i] * 8);
}

/*
 * Measured right after phase 2, on its table, so that the two see the
 * same machine: on a shared one, the memory latency of the moment moves
 * both, and a baseline taken minutes later moves alone.
 */
void baseline_lookup(const struct bench *b)
{
	struct mapped m;

	map_tables(b, &m);
	baseline_lookup_reads(b, &m);
	unmap_tables(&m);
}

/*
 * Reading every byte of the tables once from memory: the floor of a scan.
 * The best of the rounds after the first counts.
 */
void baseline_memread(const struct bench *b)
{
	struct mapped m;
	uint64_t best = UINT64_MAX, sink = 0;
	size_t i, round;

	map_tables(b, &m);
	for (round = 0; round <= MEMREAD_ROUNDS; round++) {
		uint64_t start = now_ns(), ns;

		for (i = 0; i < m.n; i++)
			sink += sum_words(m.words[i], m.lens[i]);
		ns = now_ns() - start;
		if (round && ns < best)
			best = ns;
	}
	memread_sink = sink;
	printf("baseline_memread: %.2f ns/ref\n",
	       (double)best / (double)b->w.n);
	unmap_tables(&m);
}
