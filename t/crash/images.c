/*
 * Simulated power loss: at every call of every operation of the fault
 * sweep (and after it returned), the directories a crash may leave are
 * built from the durability model (crash.h) and opened with a fresh
 * handle. Each must hold the old or the new state (only the new one once
 * the operation returned success), and Git's reader must read the same
 * records from it (Documentation/faults.md).
 *
 *   crash-images [--op NAME] [--git PATH] [--git-every N] [--verbose]
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash.h"
#include "fault.h"

/* Unsynced renames up to this many: every subset; above, one at a time. */
#define ALL_SUBSETS_UPTO 4

static const char *git_tool;
static unsigned long git_every = 1, git_runs;
static unsigned long images, distinct, violations, shown;
static int verbose;

struct point {
	const struct baseline *b;
	struct crash_model *m;
	char *imgdir;
	unsigned long call; /* crash before this call; ncalls + 1: after */
	int acked;          /* the operation returned success before it */
	unsigned long last_gen;
	uint64_t *seen;
	size_t nseen, seen_cap;
};

static void violation(const struct point *p, const struct crash_image *img,
		      const char *what, const char *detail)
{
	violations++;
	if (shown++ >= 40)
		return;
	printf("VIOLATION %s: crash before call %lu%s, image (creates %s, "
	       "renames kept %#llx of %zu, data %d): %s%s%s\n",
	       p->b->op->name, p->call, p->acked ? " (after success)" : "",
	       img->keep_creates ? "kept" : "dropped",
	       (unsigned long long)img->keep_mask,
	       crash_model_choices(p->m), (int)img->data, what,
	       detail ? ": " : "", detail ? detail : "");
}

static int seen_before(struct point *p, uint64_t h)
{
	size_t i;

	for (i = 0; i < p->nseen; i++)
		if (p->seen[i] == h)
			return 1;
	if (p->nseen == p->seen_cap) {
		p->seen_cap = p->seen_cap ? 2 * p->seen_cap : 64;
		p->seen = realloc(p->seen, p->seen_cap * sizeof(*p->seen));
		if (!p->seen)
			fault_die("out of memory");
	}
	p->seen[p->nseen++] = h;
	return 0;
}

/* The records part of a state (without the table count). */
static const char *records_part(const char *state)
{
	if (!strncmp(state, "tables ", 7)) {
		const char *nl = strchr(state, '\n');
		return nl ? nl + 1 : "";
	}
	return state;
}

/* What Git's reader reads from dir; NULL if it fails. */
static char *git_records(const char *dir)
{
	char cmd[8192], buf[4096];
	char *out = calloc(1, 1);
	size_t len = 0, n;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' stack '%s' 2>/dev/null", git_tool, dir);
	f = popen(cmd, "r");
	if (!f || !out)
		fault_die("popen %s", git_tool);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		out = realloc(out, len + n + 1);
		if (!out)
			fault_die("out of memory");
		memcpy(out + len, buf, n);
		len += n;
		out[len] = '\0';
	}
	if (pclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Whether tables.list names a table the image lacks (the tables' renames
 * must be durable before the list's: sync_files() fsyncs the directory). */
static int missing_listed(struct point *p)
{
	char path[4096], *list, *line, *save = NULL;
	int missing = 0;

	snprintf(path, sizeof(path), "%s/tables.list", p->imgdir);
	list = fault_read_file(path, NULL);
	for (line = list ? strtok_r(list, "\n", &save) : NULL;
	     line && !missing; line = strtok_r(NULL, "\n", &save)) {
		snprintf(path, sizeof(path), "%s/%s", p->imgdir, line);
		missing = access(path, F_OK) != 0;
	}
	free(list);
	return missing;
}

static void check_image(struct point *p, const struct crash_image *img)
{
	const struct baseline *b = p->b;
	char *state, *why = NULL;
	int is_old, is_new;

	images++;
	if (seen_before(p, crash_model_write(p->m, img, p->imgdir)))
		return;
	distinct++;
	if (missing_listed(p)) {
		violation(p, img, "tables.list names a table that is gone", NULL);
		return;
	}
	state = state_of_dir(p->imgdir, b->op->structural, &why);
	if (!state) {
		violation(p, img, "our reader fails", why);
		free(why);
		return;
	}
	is_old = !strcmp(state, b->old) && !b->op->view_is_handle;
	is_new = !strcmp(state, b->new);
	if (b->op->housekeeping)
		is_new = is_old;
	if (!is_old && !is_new)
		violation(p, img, "neither the old nor the new state", NULL);
	else if (p->acked && !is_new)
		violation(p, img, "an acknowledged operation is lost", NULL);
	if (git_tool && distinct % git_every == 0) {
		char *git = git_records(p->imgdir);

		git_runs++;
		if (!git)
			violation(p, img, "Git's reader fails", NULL);
		else if (strcmp(git, records_part(state)))
			violation(p, img, "Git's reader reads other records",
				  NULL);
		free(git);
	}
	free(state);
}

/* The images a crash now may leave (bounded, see Documentation/faults.md). */
static void crash_here(struct point *p)
{
	size_t n = crash_model_choices(p->m), i;
	uint64_t all = n >= 64 ? ~0ull : (1ull << n) - 1, mask;
	struct crash_image img = { 0, 0, DATA_SYNCED };

	check_image(p, &img); /* nothing unsynced survives */
	img.keep_creates = 1;
	img.keep_mask = all;
	img.data = DATA_ALL; /* everything survives */
	check_image(p, &img);
	img.data = DATA_CUT_FIRST;
	check_image(p, &img);
	img.data = DATA_CUT_LAST;
	check_image(p, &img);
	for (i = 0; i < 2; i++) {
		img.data = i ? DATA_ALL : DATA_SYNCED;
		if (n <= ALL_SUBSETS_UPTO) {
			for (mask = 0; mask <= all; mask++) {
				img.keep_mask = mask;
				check_image(p, &img);
			}
			continue;
		}
		for (mask = 1; mask && mask <= (all >> 1) + 1; mask <<= 1) {
			img.keep_mask = mask; /* only this one */
			check_image(p, &img);
			img.keep_mask = all & ~mask; /* all but this one */
			check_image(p, &img);
		}
	}
}

/* The observer's arg is the model; the point rides along in a static. */
static struct point *current;

static void at_call(struct faultfs *f, enum call_kind kind)
{
	struct point *p = current;

	(void)kind;
	p->call = f->calls;
	if (crash_model_generation(p->m) == p->last_gen && p->call > 1)
		return; /* nothing a crash could keep changed since */
	p->last_gen = crash_model_generation(p->m);
	crash_here(p);
}

static void crash_op(const struct op *op)
{
	struct fault_observer obs;
	struct baseline b;
	struct faultfs ff;
	struct op_run r;
	struct point p;
	unsigned long before_images = images, before_v = violations;
	unsigned long before_distinct = distinct;
	int res;

	baseline_init(&b, op);
	memset(&p, 0, sizeof(p));
	p.b = &b;
	p.imgdir = fault_tmpdir("image");
	attempt_begin(&b, &r, &ff);
	p.m = crash_model_new(b.rundir, &obs);
	obs.before = at_call;
	ff.obs = &obs;
	current = &p;
	res = attempt_run(&b, &r);
	ff.obs = NULL;
	if (res < 0)
		fault_die("%s: failed without faults: %s", op->name,
			  reftable_error_detail());
	p.call = ff.calls + 1;
	p.acked = 1;
	crash_here(&p);
	op_end(&r);
	printf("%-13s %3lu crash points, %5lu images (%4lu distinct), "
	       "%lu violations\n", op->name, ff.calls + 1, images - before_images,
	       distinct - before_distinct, violations - before_v);
	crash_model_free(p.m);
	fault_rmtree(p.imgdir);
	free(p.imgdir);
	free(p.seen);
	baseline_release(&b);
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	size_t i;

	git_tool = getenv("GIT_RECORDS");
	for (i = 1; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "--verbose"))
			verbose = 1;
		else if (!strcmp(argv[i], "--op") && i + 1 < (size_t)argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--git") && i + 1 < (size_t)argc)
			git_tool = argv[++i];
		else if (!strcmp(argv[i], "--git-every") && i + 1 < (size_t)argc)
			git_every = strtoul(argv[++i], NULL, 10);
		else
			fault_die("usage: crash-images [--op NAME] [--git PATH] "
				  "[--git-every N] [--verbose]");
	}
	if (!git_every)
		git_every = 1;
	if (git_tool && access(git_tool, X_OK) != 0) {
		printf("crash images: %s absent, Git's reader not compared\n",
		       git_tool);
		git_tool = NULL;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < fault_nops; i++)
		if (!only || !strcmp(only, fault_ops[i].name))
			crash_op(&fault_ops[i]);
	printf("crash images: %lu explored (%lu distinct), %lu read by Git's "
	       "reader too, %lu violations\n",
	       images, distinct, git_runs, violations);
	return violations ? 1 : 0;
}
