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


#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

/* Wrong answers seen; reported at the end through the exit status. */
static unsigned long failures;

void fail_check(const char *fmt, ...)
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

void die(const char *what, int err)
{
	fprintf(stderr, "bench: %s: %s (%s)\n", what, reftable_error_str(err),
		reftable_error_detail());
	exit(2);
}

void die_errno(const char *what, const char *path)
{
	fprintf(stderr, "bench: %s %s: %s\n", what, path, strerror(errno));
	exit(2);
}

uint64_t now_ns(void)
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
uint64_t fsync_count, fsync_ns;

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
	REFTABLE_FS_INIT(&counting_fs);
	counting_fs.fsync = counting_fsync;
	return &counting_fs;
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
	/* Durable, as by default; BENCH_NO_FSYNC=1 for a comparison with
	 * Git's library, which does not fsync refs unless configured to. */
	b->opts.disable_fsync = getenv("BENCH_NO_FSYNC") != NULL;
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
	baseline_lookup(&b);
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
	extra_scan_stack(&b);
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
