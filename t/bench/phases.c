/* The SPEC's ten phases, each timed and every answer checked. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"

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

/* --- the phases ------------------------------------------------------ */

void phase_write(struct bench *b)
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

void phase_lookup(struct bench *b)
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

/* One timed scan of the whole stack: ns per ref. */
static double timed_scan(struct bench *b, const char *what)
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
		die(what, err);
	if (count != b->w.n)
		fail_check("%s: %zu refs, expected %zu", what, count, b->w.n);
	reftable_ref_record_release(&rec);
	return (double)ns / (double)b->w.n;
}

void phase_scan(struct bench *b)
{
	printf("scan: %.1f ns/ref\n", timed_scan(b, "scan"));
	verify_scan(b);
}

void extra_scan_stack(struct bench *b)
{
	struct reftable_merged *m = reftable_stack_merged(b->st);
	size_t tables = reftable_merged_table_count(m);

	printf("scan_stack: %.1f ns/ref\n", timed_scan(b, "scan_stack"));
	printf("scan_stack_tables: %zu tables\n", tables);
	verify_scan(b);
}

void phase_prefix_seek(struct bench *b)
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
uint64_t txn_fsyncs, txn_fsync_ns;

void phase_txn(struct bench *b)
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

void phase_reload_noop(struct bench *b)
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
double reload_changed_inline;

void phase_reload_changed(struct bench *b)
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

void phase_log_latest(struct bench *b)
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

long max_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss; /* KiB on Linux */
}

void phase_peak_rss(void)
{
	printf("peak_rss: %ld KiB\n", max_rss_kib());
}
