/*
 * The reference benchmark of t/bench/SPEC.md, driven through the public
 * stack API only.
 *
 *   bench [N]      N refs (default 1000000)
 *
 * Prints the SPEC's lines ("name: value unit") in order, the workload
 * line first, then extra lines: the fsyncs of a transaction and the
 * physical baselines of this machine measured in the same run.
 *
 * The stack lives in a fresh directory under $BENCH_DIR, else $TMPDIR,
 * else /tmp, removed at the end unless BENCH_KEEP is set.
 *
 * Every read is checked (found, right value, right count); a wrong answer
 * is reported on stderr and makes the exit status 1, after all phases.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reftable.h"
#include "workload.h"

#define LOOKUP_HITS 1000000
#define LOOKUP_MISSES 200000
#define PREFIX_SEEKS 100000
#define PREFIX_READS 10
#define TXNS 10000
#define NOOP_RELOADS 1000000
#define CHANGED_RELOADS 1000
#define STAT_BASELINE_OPS 200000
#define FSYNC_BASELINE_OPS 200
#define MEMREAD_ROUNDS 5

/* Wrong answers seen; reported at the end through the exit status. */
static unsigned long failures;

static void fail_check(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void fail_check(const char *fmt, ...)
{
	va_list ap;

	/* The first few tell the story; the count tells the rest. */
	if (failures++ < 10) {
		va_start(ap, fmt);
		fprintf(stderr, "bench: CHECK FAILED: ");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench: %s: %s (%s)\n", what, reftable_error_str(err),
		reftable_error_detail());
	exit(2);
}

static void die_errno(const char *what, const char *path)
{
	fprintf(stderr, "bench: %s %s: %s\n", what, path, strerror(errno));
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- a filesystem that counts fsyncs --------------------------------- */

/*
 * A copy of the POSIX filesystem whose fsync counts and passes through,
 * so the output can state how many fsyncs a transaction costs.
 */
static struct reftable_fs counting_fs;
static const struct reftable_fs *posix_fs;
static uint64_t fsync_count, fsync_ns;

static int counting_fsync(void *ctx, int fd)
{
	uint64_t start = now_ns();
	int ret = posix_fs->fsync(ctx, fd);

	fsync_ns += now_ns() - start;
	fsync_count++;
	return ret;
}

static const struct reftable_fs *make_counting_fs(void)
{
	posix_fs = reftable_fs_posix();
	counting_fs = *posix_fs;
	counting_fs.fsync = counting_fsync;
	return &counting_fs;
}

/* --- the stack directory --------------------------------------------- */

static char *make_bench_dir(void)
{
	const char *base = getenv("BENCH_DIR");
	char *tmpl;

	if (!base || !*base)
		base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	tmpl = malloc(strlen(base) + 32);
	if (!tmpl)
		exit(2);
	sprintf(tmpl, "%s/reftable-bench-XXXXXX", base);
	if (!mkdtemp(tmpl))
		die_errno("mkdtemp", tmpl);
	return tmpl;
}

static char *path_in(const char *dir, const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);

	if (!p)
		exit(2);
	sprintf(p, "%s/%s", dir, name);
	return p;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Calls fn(path, arg) for each *.ref file of dir. */
/* The library's closer thread may remove a replaced table at any time:
 * a file listed but gone by the time it is opened is no table. */
static int vanished(void)
{
	return errno == ENOENT;
}

static void for_each_table_file(const char *dir,
				void (*fn)(const char *path, void *arg),
				void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		die_errno("opendir", dir);
	while ((e = readdir(d)) != NULL) {
		char *p;

		if (!has_suffix(e->d_name, ".ref"))
			continue;
		p = path_in(dir, e->d_name);
		fn(p, arg);
		free(p);
	}
	closedir(d);
}

struct file_totals {
	uint64_t files, bytes;
};

static void add_file_size(const char *path, void *arg)
{
	struct file_totals *t = arg;
	struct stat sb;

	if (stat(path, &sb) < 0) {
		if (vanished())
			return;
		die_errno("stat", path);
	}
	t->files++;
	t->bytes += (uint64_t)sb.st_size;
}

static struct file_totals table_files(const char *dir)
{
	struct file_totals t = { 0, 0 };

	for_each_table_file(dir, add_file_size, &t);
	return t;
}

/*
 * The files of st's tables, once the closer thread has removed the
 * replaced ones it was handed (untimed; it waits at most a second): a
 * removal still queued is no table of the stack.
 */
static struct file_totals stack_files(struct reftable_stack *st,
				      const char *dir)
{
	size_t listed = reftable_merged_table_count(reftable_stack_merged(st));
	const struct timespec pause = { 0, 1000 * 1000 };
	struct file_totals t = table_files(dir);
	int waited;

	for (waited = 0; t.files > listed && waited < 1000; waited++) {
		nanosleep(&pause, NULL);
		t = table_files(dir);
	}
	return t;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char *p;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = path_in(dir, e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

/* --- the benchmark state --------------------------------------------- */

struct bench {
	struct workload w;
	char *dir;
	struct reftable_stack_options opts;
	struct reftable_stack *st;  /* the first handle */
	struct reftable_stack *st2; /* the writer of phase 8 */
	uint64_t rng;               /* the SPEC's state after generation */
	uint32_t *txn_keys;         /* the refs phase 6 updated, in order */
};

static void open_stack(struct bench *b, struct reftable_stack **st)
{
	int err = reftable_stack_new(st, b->dir, &b->opts);

	if (err)
		die("open stack", err);
}

/* The ref record of workload ref r, pointing into the workload. */
static void fill_ref(const struct bench *b, const struct bench_ref *r,
		     uint64_t update_index, struct reftable_ref_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->refname = (char *)r->name;
	rec->update_index = update_index;
	memcpy(rec->value, r->id, BENCH_OID_LEN);
	if (r->peeled) {
		rec->value_type = REFTABLE_REF_VAL2;
		memcpy(rec->peeled, b->w.peeled[r->peeled - 1], BENCH_OID_LEN);
	} else {
		rec->value_type = REFTABLE_REF_VAL1;
	}
}

/* Does a record read back hold workload ref r's current value? */
static int ref_matches(const struct bench *b, const struct bench_ref *r,
		       const struct reftable_ref_record *rec)
{
	if (strcmp(rec->refname, r->name) ||
	    memcmp(rec->value, r->id, BENCH_OID_LEN))
		return 0;
	if (r->peeled)
		return rec->value_type == REFTABLE_REF_VAL2 &&
		       !memcmp(rec->peeled, b->w.peeled[r->peeled - 1],
			       BENCH_OID_LEN);
	return rec->value_type == REFTABLE_REF_VAL1;
}

/* One addition through the public API; the callback gets its index. */
struct txn_arg {
	struct bench *b;
	uint64_t update_index;
	/* Phase 1: all refs. Phases 6 and 8: ref k, new id, log time. */
	int all;
	size_t k;
	uint8_t old_id[BENCH_OID_LEN];
	uint64_t time;
};

static int write_txn(struct reftable_writer *w, void *arg)
{
	struct txn_arg *a = arg;
	struct bench *b = a->b;
	struct reftable_ref_record ref;
	struct reftable_log_record log;
	size_t i;
	int err;

	if (a->all) {
		for (i = 0; i < b->w.n; i++) {
			fill_ref(b, &b->w.refs[i], a->update_index, &ref);
			err = reftable_writer_add_ref(w, &ref);
			if (err)
				return err;
		}
		return 0;
	}
	fill_ref(b, &b->w.refs[a->k], a->update_index, &ref);
	err = reftable_writer_add_ref(w, &ref);
	if (err)
		return err;
	memset(&log, 0, sizeof(log));
	log.refname = (char *)b->w.refs[a->k].name;
	log.update_index = a->update_index;
	log.value_type = REFTABLE_LOG_UPDATE;
	memcpy(log.old_id, a->old_id, BENCH_OID_LEN);
	memcpy(log.new_id, b->w.refs[a->k].id, BENCH_OID_LEN);
	log.name = "Bench";
	log.email = "bench@example.com";
	log.time = a->time;
	log.tz_offset = 0;
	log.message = "update\n";
	return reftable_writer_add_log(w, &log);
}

static void commit(struct reftable_stack *st, struct txn_arg *a)
{
	struct reftable_addition *add = NULL;
	int err;

	err = reftable_stack_new_addition(&add, st, REFTABLE_ADDITION_RELOAD);
	if (err)
		die("new addition", err);
	a->update_index = reftable_addition_update_index(add);
	err = reftable_addition_add(add, write_txn, a);
	if (!err)
		err = reftable_addition_commit(add);
	reftable_addition_destroy(add);
	if (err)
		die("commit", err);
}

/*
 * Draw k and a new id as the SPEC's phases 6 and 8 do, update the
 * workload (a tag becomes a plain ref) and commit it through st.
 */
static size_t update_one(struct bench *b, struct reftable_stack *st,
			 uint64_t time)
{
	struct txn_arg a;
	struct bench_ref *r;

	memset(&a, 0, sizeof(a));
	a.b = b;
	a.k = (size_t)(splitmix64_next(&b->rng) % b->w.n);
	a.time = time;
	r = &b->w.refs[a.k];
	memcpy(a.old_id, r->id, BENCH_OID_LEN);
	workload_draw_oid(&b->rng, r->id);
	r->peeled = 0;
	commit(st, &a);
	return a.k;
}

/* --- the phases ------------------------------------------------------ */

static void phase_write(struct bench *b)
{
	struct txn_arg a;
	struct file_totals t;
	uint64_t start, ns;

	memset(&a, 0, sizeof(a));
	a.b = b;
	a.all = 1;
	start = now_ns();
	commit(b->st, &a);
	ns = now_ns() - start;
	printf("write: %.0f ns/ref\n", (double)ns / (double)b->w.n);

	t = table_files(b->dir);
	printf("table_size: %.2f bytes/ref\n",
	       (double)t.bytes / (double)b->w.n);
}

static void check_read(const struct bench *b, const struct bench_ref *r,
		       const struct reftable_ref_record *rec, int err)
{
	if (err < 0)
		die("read ref", err);
	if (err)
		fail_check("lookup of %s: not found", r->name);
	else if (!ref_matches(b, r, rec))
		fail_check("lookup of %s: wrong record (%s)", r->name,
			   rec->refname);
}

static void phase_lookup(struct bench *b)
{
	struct reftable_ref_record rec = { 0 };
	char miss[128];
	uint64_t start, ns;
	size_t i;
	int err;

	b->rng = 7;
	start = now_ns();
	for (i = 0; i < LOOKUP_HITS; i++) {
		const struct bench_ref *r =
			&b->w.refs[splitmix64_next(&b->rng) % b->w.n];

		err = reftable_stack_read_ref(b->st, r->name, &rec);
		check_read(b, r, &rec, err);
	}
	ns = now_ns() - start;
	printf("lookup_hit: %.0f ns/op\n", (double)ns / LOOKUP_HITS);

	start = now_ns();
	for (i = 0; i < LOOKUP_MISSES; i++) {
		const char *name =
			b->w.refs[splitmix64_next(&b->rng) % b->w.n].name;
		size_t len = strlen(name);

		memcpy(miss, name, len);
		miss[len] = 'x';
		miss[len + 1] = '\0';
		err = reftable_stack_read_ref(b->st, miss, &rec);
		if (err < 0)
			die("read ref", err);
		if (err == 0)
			fail_check("lookup of %s: found, should be absent",
				   miss);
	}
	ns = now_ns() - start;
	printf("lookup_miss: %.0f ns/op\n", (double)ns / LOOKUP_MISSES);
	reftable_ref_record_release(&rec);
}

/* An untimed scan comparing every record with the workload. */
static void verify_scan(struct bench *b)
{
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record rec = { 0 };
	size_t count = 0;
	int err;

	err = reftable_stack_init_ref_iterator(b->st, &it);
	if (!err)
		err = reftable_iterator_seek_ref(&it, "");
	while (!err && (err = reftable_iterator_next_ref(&it, &rec)) == 0) {
		if (count < b->w.n &&
		    !ref_matches(b, &b->w.refs[count], &rec))
			fail_check("scan: record %zu is %s, expected %s", count,
				   rec.refname, b->w.refs[count].name);
		count++;
	}
	if (err < 0)
		die("verify scan", err);
	if (count != b->w.n)
		fail_check("verify scan: %zu refs, expected %zu", count,
			   b->w.n);
	reftable_ref_record_release(&rec);
	reftable_iterator_destroy(&it);
}

static void phase_scan(struct bench *b)
{
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record rec = { 0 };
	uint64_t start, ns;
	size_t count = 0;
	int err;

	start = now_ns();
	err = reftable_stack_init_ref_iterator(b->st, &it);
	if (!err)
		err = reftable_iterator_seek_ref(&it, "");
	while (!err && (err = reftable_iterator_next_ref(&it, &rec)) == 0)
		count++;
	reftable_iterator_destroy(&it);
	ns = now_ns() - start;
	if (err < 0)
		die("scan", err);
	if (count != b->w.n)
		fail_check("scan: %zu refs, expected %zu", count, b->w.n);
	printf("scan: %.1f ns/ref\n", (double)ns / (double)b->w.n);
	reftable_ref_record_release(&rec);
	verify_scan(b);
}

static void phase_prefix_seek(struct bench *b)
{
	struct reftable_ref_record rec = { 0 };
	uint64_t start, ns, total = 0;
	size_t i;
	int err;

	start = now_ns();
	for (i = 0; i < PREFIX_SEEKS; i++) {
		struct reftable_iterator it = { 0 };
		char key[32];
		int got = 0;

		snprintf(key, sizeof(key), "refs/heads/topic/%02x",
			 (unsigned)(splitmix64_next(&b->rng) & 0xff));
		err = reftable_stack_init_ref_iterator(b->st, &it);
		if (!err)
			err = reftable_iterator_seek_ref(&it, key);
		while (!err && got < PREFIX_READS &&
		       (err = reftable_iterator_next_ref(&it, &rec)) == 0) {
			if (!got && strcmp(rec.refname, key) < 0)
				fail_check("seek to %s gave %s", key,
					   rec.refname);
			got++;
		}
		reftable_iterator_destroy(&it);
		if (err < 0)
			die("prefix seek", err);
		total += (uint64_t)got;
	}
	ns = now_ns() - start;
	/* Refs follow the topic branches (refs/pull, refs/tags) from 10 on. */
	if (b->w.n >= 20 && total != (uint64_t)PREFIX_SEEKS * PREFIX_READS)
		fail_check("prefix seeks read %" PRIu64 " refs, expected %d",
			   total, PREFIX_SEEKS * PREFIX_READS);
	printf("prefix_seek10: %.0f ns/op\n", (double)ns / PREFIX_SEEKS);
	reftable_ref_record_release(&rec);
}

/* The fsyncs of phase 6 and the time spent inside them. */
static uint64_t txn_fsyncs, txn_fsync_ns;

static void phase_txn(struct bench *b)
{
	const struct reftable_compaction_stats *cs =
		reftable_stack_compaction_stats(b->st);
	uint64_t start, ns, bytes0 = cs->bytes;
	struct file_totals t;
	size_t i;

	fsync_count = 0;
	fsync_ns = 0;
	start = now_ns();
	for (i = 0; i < TXNS; i++)
		b->txn_keys[i] = (uint32_t)update_one(b, b->st, 1700000000 + i);
	ns = now_ns() - start;
	/* Read the counters now: later phases fsync too. */
	cs = reftable_stack_compaction_stats(b->st);
	printf("txn: %.0f us/op\n", (double)ns / 1000.0 / TXNS);
	t = stack_files(b->st, b->dir);
	printf("txn_tables: %" PRIu64 " tables\n", t.files);
	printf("txn_compaction_bytes: %.0f bytes/txn\n",
	       (double)(cs->bytes - bytes0) / TXNS);
	/* Printed after the SPEC's lines; frozen until then. */
	txn_fsyncs = fsync_count;
	txn_fsync_ns = fsync_ns;
}

static void phase_reload_noop(struct bench *b)
{
	uint64_t start, ns;
	size_t i;
	int err;

	start = now_ns();
	for (i = 0; i < NOOP_RELOADS; i++) {
		err = reftable_stack_reload(b->st);
		if (err)
			die("reload", err);
	}
	ns = now_ns() - start;
	printf("reload_noop: %.0f ns/op\n", (double)ns / NOOP_RELOADS);
}

/*
 * Phase 8's loop on reader: the second handle commits, reader reloads
 * (timed) and must then see the commit. Mean microseconds per reload.
 */
static double changed_reloads(struct bench *b, struct reftable_stack *reader,
			      uint64_t time_base)
{
	struct reftable_ref_record rec = { 0 };
	uint64_t start, ns = 0;
	size_t i, k;
	int err;

	for (i = 0; i < CHANGED_RELOADS; i++) {
		k = update_one(b, b->st2, time_base + i);
		start = now_ns();
		err = reftable_stack_reload(reader);
		ns += now_ns() - start;
		if (err)
			die("reload", err);
		err = reftable_stack_read_ref(reader, b->w.refs[k].name, &rec);
		check_read(b, &b->w.refs[k], &rec, err);
	}
	reftable_ref_record_release(&rec);
	return (double)ns / 1000.0 / CHANGED_RELOADS;
}

/* Phase 8 without close_in_background, printed with the extras. */
static double reload_changed_inline;

static void phase_reload_changed(struct bench *b)
{
	struct reftable_stack_options inline_opts = b->opts;
	struct reftable_stack *inline_reader;
	int err;

	open_stack(b, &b->st2);
	printf("reload_changed: %.0f us/op\n",
	       changed_reloads(b, b->st, 1800000000));

	/*
	 * The same with the replaced tables.list closed on the reload's
	 * path, for comparison. The first handle then catches up, untimed,
	 * for phase 9.
	 */
	inline_opts.close_in_background = 0;
	err = reftable_stack_new(&inline_reader, b->dir, &inline_opts);
	if (err)
		die("open stack", err);
	reload_changed_inline = changed_reloads(b, inline_reader, 1900000000);
	reftable_stack_destroy(inline_reader);
	err = reftable_stack_reload(b->st);
	if (err)
		die("reload", err);
}

static void phase_log_latest(struct bench *b)
{
	struct reftable_log_record log = { 0 };
	uint64_t start, ns;
	size_t i;
	int err;

	start = now_ns();
	for (i = 0; i < TXNS; i++) {
		const struct bench_ref *r = &b->w.refs[b->txn_keys[i]];

		err = reftable_stack_read_log(b->st, r->name, &log);
		if (err < 0)
			die("read log", err);
		/* The newest entry set the ref to its current value. */
		if (err)
			fail_check("log of %s: not found", r->name);
		else if (strcmp(log.refname, r->name) ||
			 memcmp(log.new_id, r->id, BENCH_OID_LEN))
			fail_check("log of %s: not the newest entry (%s)",
				   r->name, log.refname);
	}
	ns = now_ns() - start;
	printf("log_latest: %.0f ns/op\n", (double)ns / TXNS);
	reftable_log_record_release(&log);
}

static long max_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss; /* KiB on Linux */
}

static void phase_peak_rss(void)
{
	printf("peak_rss: %ld KiB\n", max_rss_kib());
}

/* --- physical baselines ---------------------------------------------- */

/* One stat of tables.list: the floor of a reload that finds no change. */
static void baseline_stat(const struct bench *b)
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
static void baseline_fsync(const struct bench *b)
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

/*
 * Reading every byte of the tables once from memory: the floor of a scan.
 * The first round faults the pages in; the best of the others counts.
 */
static void baseline_memread(const struct bench *b)
{
	struct mapped m;
	uint64_t best = UINT64_MAX, sink = 0;
	size_t i, round;

	memset(&m, 0, sizeof(m));
	for_each_table_file(b->dir, map_file, &m);
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
	baseline_lookup_reads(b, &m);
	for (i = 0; i < m.n; i++)
		munmap((void *)m.words[i], m.lens[i] * 8);
}

/* --- main ------------------------------------------------------------ */

static size_t parse_n(int argc, char **argv)
{
	char *end;
	unsigned long long n;

	if (argc < 2)
		return 1000000;
	errno = 0;
	n = strtoull(argv[1], &end, 10);
	if (argc > 2 || errno || *end || n == 0 || n > UINT32_MAX) {
		fprintf(stderr, "usage: bench [N]   (1 <= N < 2^32)\n");
		exit(2);
	}
	return (size_t)n;
}

static void set_options(struct bench *b)
{
	reftable_stack_options_init(&b->opts);
	b->opts.write.block_size = 4096;
	b->opts.write.restart_interval = 16;
	b->opts.write.hash_id = REFTABLE_HASH_SHA1;
	b->opts.write.unpadded = 0;           /* blocks padded */
	b->opts.write.skip_index_objects = 0; /* object index on */
	b->opts.create = 1;
	b->opts.disable_fsync = 0;            /* durable, as by default */
	b->opts.disable_auto_compact = 0;
	/* For comparison runs: lookups without the name index. */
	b->opts.disable_lookup_index = getenv("BENCH_NO_LOOKUP_INDEX") != NULL;
	b->opts.auto_compaction_factor = 2;
	b->opts.fs = make_counting_fs();
	/* Replaced tables.list files are closed off the reload's path;
	 * phase 8 also reports the figure without this. */
	b->opts.close_in_background = 1;
}

static void generate(struct bench *b, size_t n)
{
	uint64_t known;

	if (workload_generate(&b->w, n) < 0) {
		fprintf(stderr, "bench: out of memory generating %zu refs\n",
			n);
		exit(2);
	}
	printf("workload: %zu refs digest %016" PRIx64 "\n", n, b->w.digest);
	if (workload_known_digest(n, &known) && known != b->w.digest) {
		fprintf(stderr,
			"bench: digest %016" PRIx64 " differs from the SPEC's "
			"%016" PRIx64 " for N=%zu\n",
			b->w.digest, known, n);
		exit(1);
	}
}

/* Peak RSS after generating the workload, printed with the extras. */
static long workload_rss;

int main(int argc, char **argv)
{
	struct bench b;
	size_t n = parse_n(argc, argv);

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&b, 0, sizeof(b));
	generate(&b, n);
	/* The driver's own share of peak_rss: the workload, sorted. */
	workload_rss = max_rss_kib();
	b.txn_keys = calloc(TXNS, sizeof(*b.txn_keys));
	if (!b.txn_keys)
		exit(2);
	set_options(&b);
	b.dir = make_bench_dir();
	open_stack(&b, &b.st);

	phase_write(&b);
	phase_lookup(&b);
	phase_scan(&b);
	phase_prefix_seek(&b);
	phase_txn(&b);
	phase_reload_noop(&b);
	phase_reload_changed(&b);
	phase_log_latest(&b);
	phase_peak_rss();

	/*
	 * Every fsync of phase 6 through the library's filesystem, divided
	 * by its transactions (compaction's fsyncs included, amortized).
	 */
	printf("fsyncs_per_txn: %.2f\n", (double)txn_fsyncs / TXNS);
	printf("txn_fsync_time: %.0f us/op\n",
	       (double)txn_fsync_ns / 1000.0 / TXNS);
	printf("reload_changed_inline: %.0f us/op\n", reload_changed_inline);
	printf("workload_rss: %ld KiB\n", workload_rss);
	baseline_stat(&b);
	baseline_fsync(&b);
	baseline_memread(&b);

	reftable_stack_destroy(b.st2);
	reftable_stack_destroy(b.st);
	if (!getenv("BENCH_KEEP"))
		remove_dir(b.dir);
	else
		fprintf(stderr, "bench: stack kept in %s\n", b.dir);
	free(b.dir);
	free(b.txn_keys);
	workload_release(&b.w);
	if (failures) {
		fprintf(stderr, "bench: %lu checks failed\n", failures);
		return 1;
	}
	return 0;
}
