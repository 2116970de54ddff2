/*
 * reftable-stress: the multi-process stress harness. See
 * Documentation/stress.md. Without --worker-role this process is the
 * supervisor; it re-executes itself with --worker-role for each worker.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "git.h"
#include "stress.h"

static const char usage_text[] =
	"usage: reftable-stress [options]\n"
	"\n"
	"Writers, readers, compactors and a killer on one stack directory;\n"
	"checks invariants while running and every acknowledged transaction\n"
	"at the end. Prints one summary line; exit code 1 on any violation.\n"
	"\n"
	"  --duration SECONDS        how long the workers run (60)\n"
	"  --writers N               writer processes (4)\n"
	"  --readers N               reader processes (3)\n"
	"  --compactors N            compactor processes (2)\n"
	"  --kill-rate K             SIGKILLs per second to writers and\n"
	"                            compactors, 0 for none (2)\n"
	"  --freeze-rate F           SIGSTOPs per second to writers and\n"
	"                            compactors, each stopped for the lock\n"
	"                            age plus 1.5 s, so live locks get\n"
	"                            broken (needs --lock-policy age:N) (0)\n"
	"  --seed S                  seed of every random choice (from time)\n"
	"  --dir DIR                 where the run directory is made ($TMPDIR\n"
	"                            or /tmp); e.g. /dev/shm for tmpfs\n"
	"  --content-reload on|off   the stack's force_content_reload (off)\n"
	"  --background-close on|off the stack's close_in_background (on)\n"
	"  --fsync on|off            real fsync (on); off is faster, unsafe\n"
	"                            against power loss, not against kills\n"
	"  --compaction on|off       off: writers do not auto-compact and\n"
	"                            compactors only clean (on)\n"
	"  --lock-timeout MS         lock wait of writers and compactors (200)\n"
	"  --lock-policy P           how a dead process's locks are broken:\n"
	"                            barrier (default) or age:SECONDS\n"
	"  --private N               private counters per writer (4)\n"
	"  --shared N                counters all writers contend for (4)\n"
	"  --pairs N                 pairs of refs moved together (4)\n"
	"  --block-size B            table block size (library default)\n"
	"  --reader-sleep US         pause between a reader's rounds (500)\n"
	"  --mounts A,B              A and B are one directory through two\n"
	"                            mounts (two hosts): the stack lives\n"
	"                            there, workers alternate between them\n"
	"  --mount-split M           alternate (default): slots alternate\n"
	"                            between A and B; readers: readers on\n"
	"                            B, writers and compactors on A\n"
	"  --stale-bound S           a reload may lag acknowledgements by up\n"
	"                            to S seconds (the mounts' attribute\n"
	"                            cache); counted, not a violation (0)\n"
	"  --git PATH                Git (>= 2.45, reftable): the run directory\n"
	"                            becomes a bare Git repository, and our\n"
	"                            writers also move mixed counters\n"
	"                            (refs/mixed/cK) that Git writers move\n"
	"  --git-writers N           processes running git update-ref --stdin\n"
	"                            with compare-and-swap on them (0)\n"
	"  --git-compactors N        processes running git pack-refs (0)\n"
	"  --mixed N                 mixed counters (2)\n"
	"  --mixed-values N          steps each mixed counter can take: blobs\n"
	"                            made before the run (4000)\n"
	"  --git-records PATH        git-reftable-records: at the end its\n"
	"                            records must be reftable dump's\n"
	"  --reftable PATH           the reftable tool, to run verify at the\n"
	"                            end (skipped if not given)\n"
	"  --keep                    keep the run directory after success\n"
	"  --fail-fast               stop the workers at the first violation\n"
	"  --quiet                   only the summary line (and problems)\n";

static void usage(void)
{
	fputs(usage_text, stderr);
	exit(2);
}

static int on_off(const char *v)
{
	if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "yes"))
		return 1;
	if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "no"))
		return 0;
	fprintf(stderr, "expected on or off, got '%s'\n", v);
	usage();
	return 0;
}

static long number(const char *v, long min, long max)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (!*v || *end || n < min || n > max) {
		fprintf(stderr, "bad number '%s' (%ld to %ld)\n", v, min, max);
		usage();
	}
	return n;
}

static double real(const char *v)
{
	char *end;
	double d = strtod(v, &end);

	if (!*v || *end || d < 0) {
		fprintf(stderr, "bad number '%s'\n", v);
		usage();
	}
	return d;
}

static void lock_policy(struct stress_opts *o, const char *v)
{
	if (!strcmp(v, "barrier"))
		o->lock_age = -1;
	else if (!strncmp(v, "age:", 4))
		o->lock_age = (int)number(v + 4, 0, 86400);
	else
		usage();
}

/* "A,B": two paths of one directory. */
static void mounts(struct stress_opts *o, const char *v)
{
	const char *comma = strchr(v, ',');
	char *a;

	if (!comma || comma == v || !comma[1] || strchr(comma + 1, ','))
		usage();
	a = strndup(v, (size_t)(comma - v));
	if (!a)
		exit(2);
	o->mounts[0] = a; /* lives as long as the process */
	o->mounts[1] = comma + 1;
}

static void mount_split(struct stress_opts *o, const char *v)
{
	if (!strcmp(v, "alternate"))
		o->readers_apart = 0;
	else if (!strcmp(v, "readers"))
		o->readers_apart = 1;
	else
		usage();
}

/* One option with its value; returns 0 if name is unknown. */
static int set_option(struct stress_opts *o, const char *name, const char *v)
{
	if (!strcmp(name, "duration")) o->duration = real(v);
	else if (!strcmp(name, "writers")) o->writers = (int)number(v, 1, 32);
	else if (!strcmp(name, "readers")) o->readers = (int)number(v, 0, 16);
	else if (!strcmp(name, "compactors")) o->compactors = (int)number(v, 0, 15);
	else if (!strcmp(name, "kill-rate")) o->kill_rate = real(v);
	else if (!strcmp(name, "freeze-rate")) o->freeze_rate = real(v);
	else if (!strcmp(name, "seed")) o->seed = strtoull(v, NULL, 0);
	else if (!strcmp(name, "dir")) o->dir = v;
	else if (!strcmp(name, "content-reload")) o->content_reload = on_off(v);
	else if (!strcmp(name, "background-close"))
		o->background_close = on_off(v);
	else if (!strcmp(name, "fsync")) o->fsync = on_off(v);
	else if (!strcmp(name, "compaction")) o->compaction = on_off(v);
	else if (!strcmp(name, "lock-timeout")) o->lock_timeout_ms = (int)number(v, 1, 600000);
	else if (!strcmp(name, "lock-policy")) lock_policy(o, v);
	else if (!strcmp(name, "private")) o->private_counters = (int)number(v, 1, 64);
	else if (!strcmp(name, "shared")) o->shared_counters = (int)number(v, 0, 1024);
	else if (!strcmp(name, "pairs")) o->pairs = (int)number(v, 0, 1024);
	else if (!strcmp(name, "block-size")) o->block_size = (uint32_t)number(v, 0, 16777215);
	else if (!strcmp(name, "reader-sleep")) o->reader_sleep_us = (int)number(v, 0, 10000000);
	else if (!strcmp(name, "reftable")) o->cli = v;
	else if (!strcmp(name, "git")) o->git = v;
	else if (!strcmp(name, "git-records")) o->git_records = v;
	else if (!strcmp(name, "git-writers")) o->git_writers = (int)number(v, 0, 16);
	else if (!strcmp(name, "git-compactors")) o->git_compactors = (int)number(v, 0, 8);
	else if (!strcmp(name, "mixed")) o->mixed_counters = (int)number(v, 1, 64);
	else if (!strcmp(name, "mixed-values")) o->mixed_values = (int)number(v, 10, 1000000);
	else if (!strcmp(name, "mounts")) mounts(o, v);
	else if (!strcmp(name, "stale-bound")) o->stale_bound = real(v);
	else if (!strcmp(name, "mount-split")) mount_split(o, v);
	else if (!strcmp(name, "worker-role")) o->role = v;
	else if (!strcmp(name, "worker-index")) o->index = (int)number(v, 0, STRESS_MAX_WORKERS - 1);
	else if (!strcmp(name, "worker-instance")) o->instance = (int)number(v, 0, 1 << 30);
	else if (!strcmp(name, "run-dir")) o->run_dir = v;
	else return 0;
	return 1;
}

static void parse_args(struct stress_opts *o, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq;
		char name[64];
		size_t len;

		if (!strcmp(arg, "--keep")) {
			o->keep = 1;
			continue;
		}
		if (!strcmp(arg, "--quiet")) {
			o->quiet = 1;
			continue;
		}
		if (!strcmp(arg, "--fail-fast")) {
			o->fail_fast = 1;
			continue;
		}
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
			usage();
		if (strncmp(arg, "--", 2))
			usage();
		arg += 2;
		eq = strchr(arg, '=');
		len = eq ? (size_t)(eq - arg) : strlen(arg);
		if (len >= sizeof(name))
			usage();
		memcpy(name, arg, len);
		name[len] = '\0';
		if (!eq && i + 1 >= argc)
			usage();
		if (!set_option(o, name, eq ? eq + 1 : argv[++i])) {
			fprintf(stderr, "unknown option --%s\n", name);
			usage();
		}
	}
}

static void defaults(struct stress_opts *o)
{
	const char *tmp = getenv("TMPDIR");

	memset(o, 0, sizeof(*o));
	o->duration = 60;
	o->writers = 4;
	o->readers = 3;
	o->compactors = 2;
	o->kill_rate = 2;
	o->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	o->dir = tmp && *tmp ? tmp : "/tmp";
	o->fsync = 1;
	o->background_close = 1;
	o->compaction = 1;
	o->lock_timeout_ms = 200;
	o->lock_age = -1;
	o->private_counters = 4;
	o->shared_counters = 4;
	o->pairs = 4;
	o->reader_sleep_us = 500;
	o->mixed_counters = 2;
	o->mixed_values = 4000;
}

int main(int argc, char **argv)
{
	struct stress_opts o;
	struct layout l;

	defaults(&o);
	parse_args(&o, argc, argv);
	layout_init(&l, &o);
	if (o.writers + o.readers + o.compactors + o.git_writers +
	    o.git_compactors > STRESS_MAX_WORKERS ||
	    l.n > STRESS_MAX_COUNTERS) {
		fprintf(stderr, "too many workers or counters\n");
		return 2;
	}
	if (o.freeze_rate > 0 && o.lock_age < 0) {
		fprintf(stderr, "--freeze-rate needs --lock-policy age:N (a "
				"barrier would wait for the frozen)\n");
		return 2;
	}
	if ((o.git_writers || o.git_compactors) && !o.git) {
		fprintf(stderr, "--git-writers and --git-compactors need --git\n");
		return 2;
	}
	if (o.git && o.mounts[0]) {
		fprintf(stderr, "--git does not go with --mounts\n");
		return 2;
	}
	if (!o.role)
		return run_supervisor(&o, argc, argv);
	if (!o.run_dir)
		usage();
	snprintf(stress_who, sizeof(stress_who), "%s %d.%d pid %d", o.role,
		 o.index, o.instance, (int)getpid());
	if (!strcmp(o.role, "writer"))
		return run_writer(&o);
	if (!strcmp(o.role, "reader"))
		return run_reader(&o);
	if (!strcmp(o.role, "compactor"))
		return run_compactor(&o);
	if (!strcmp(o.role, "git-writer"))
		return run_git_writer(&o);
	if (!strcmp(o.role, "git-compactor"))
		return run_git_compactor(&o);
	usage();
	return 2;
}
