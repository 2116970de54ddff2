/*
 * The final checks of a run with Git (mixed.h, git.h): the mixed
 * counters' reflogs against the attempts journaled by Git's writers and
 * ours, then Git's view of the repository against the library's.
 */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "git.h"
#include "mixed.h"
#include "reftable-error.h"

struct attempt {
	char name[48];
	char state; /* 'T' unfinished, 'A' acknowledged, 'R' refused */
	int c, n;
	int seen;   /* steps of the reflog made by it */
};

struct attempts {
	struct attempt *a;
	size_t n, cap;
};

static int attempt_cmp(const void *x, const void *y)
{
	return strcmp(((const struct attempt *)x)->name,
		      ((const struct attempt *)y)->name);
}

static void add_line(struct attempts *as, const char *line,
		     struct violation_sink *vs)
{
	struct attempt a = { 0 };
	char kind;

	/* A torn last line (a kill in mid-write) does not parse. */
	if (sscanf(line, "%c %47s %d %d", &kind, a.name, &a.c, &a.n) != 4 ||
	    !strchr("TAR", kind))
		return;
	a.state = kind;
	if (as->n == as->cap) {
		struct attempt *p;

		as->cap = as->cap ? 2 * as->cap : 1024;
		p = realloc(as->a, as->cap * sizeof(*p));
		if (!p) {
			violation(vs, "out of memory reading journals");
			return;
		}
		as->a = p;
	}
	as->a[as->n++] = a;
}

/* One attempt per name, with its outcome. */
static void merge_outcomes(struct attempts *as, struct violation_sink *vs)
{
	size_t i, out = 0;

	qsort(as->a, as->n, sizeof(*as->a), attempt_cmp);
	for (i = 0; i < as->n; i++) {
		struct attempt *prev = out ? &as->a[out - 1] : NULL;

		if (prev && !strcmp(prev->name, as->a[i].name)) {
			if (prev->state == 'T')
				prev->state = as->a[i].state;
			else if (as->a[i].state != 'T')
				violation(vs, "attempt %s journaled both "
					      "acknowledged and refused",
					  prev->name);
			continue;
		}
		as->a[out++] = as->a[i];
	}
	as->n = out;
}

static void read_journals(const char *run_dir, struct attempts *as,
			  struct violation_sink *vs)
{
	char dir[4200], path[4400], line[256];
	struct dirent *e;
	DIR *d;

	path_fmt(dir, sizeof(dir), run_dir, "journal");
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] != 'm')
			continue;
		path_fmt(path, sizeof(path), dir, e->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (strchr(line, '\n'))
				add_line(as, line, vs);
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	merge_outcomes(as, vs);
}

static struct attempt *find_attempt(struct attempts *as, const char *msg)
{
	struct attempt key;
	size_t len;

	if (strncmp(msg, "mixed ", 6))
		return NULL;
	snprintf(key.name, sizeof(key.name), "%s", msg + 6);
	len = strcspn(key.name, "\n");
	key.name[len] = '\0';
	return bsearch(&key, as->a, as->n, sizeof(key), attempt_cmp);
}

/* The reflog of counter c, oldest entry first: step k moves k-1 to k. */
static void check_counter(const struct mixed *m, struct reftable_refdb *db,
			  int c, struct attempts *as,
			  struct violation_sink *vs, struct mixed_totals *t)
{
	struct reftable_log_record *logs = NULL;
	char refname[64];
	size_t n = 0, i;
	int err, k = 0;

	mixed_refname(c, refname, sizeof(refname));
	err = reftable_refdb_read_reflog(db, refname, &logs, &n);
	if (err < 0) {
		violation(vs, "%s: reading the reflog failed: %s", refname,
			  reftable_error_str(err));
		return;
	}
	for (i = n; i-- > 0;) {
		const struct reftable_log_record *l = &logs[i];
		struct attempt *a = find_attempt(as, l->message ? l->message : "");

		k++;
		if (k > m->max ||
		    memcmp(l->new_id, mixed_id(m, c, k), STRESS_OID_LEN) ||
		    memcmp(l->old_id, mixed_id(m, c, k - 1), STRESS_OID_LEN)) {
			violation(vs, "%s: reflog entry %d (update index %llu) "
				      "is not the step %d -> %d: the chain is "
				      "broken or a step was taken twice",
				  refname, k, (unsigned long long)l->update_index,
				  k - 1, k);
			break;
		}
		if (!a || a->c != c || a->n != k) {
			violation(vs, "%s: step %d was made by '%s', which no "
				      "writer journaled trying",
				  refname, k, l->message ? l->message : "");
			continue;
		}
		if (a->state == 'R')
			violation(vs, "%s: step %d by %s is visible, but that "
				      "attempt was refused", refname, k, a->name);
		if (a->seen++)
			violation(vs, "%s: attempt %s took more than one step",
				  refname, a->name);
	}
	t->steps += (uint64_t)k;
	if (mixed_current(m, db, c, vs) != k)
		violation(vs, "%s: the ref is not at its newest reflog entry "
			      "(step %d)", refname, k);
	reftable_refdb_reflog_free(logs, n);
}

void mixed_final(const struct stress_opts *o, const char *run_dir,
		 struct reftable_refdb *db, struct violation_sink *vs,
		 struct mixed_totals *t)
{
	struct attempts as = { 0 };
	struct stress_opts table_opts = *o;
	struct mixed m;
	size_t i;
	int c;

	memset(t, 0, sizeof(*t));
	table_opts.run_dir = run_dir;
	table_opts.role = NULL;
	if (mixed_open(&m, &table_opts, 's') < 0) {
		violation(vs, "the mixed counters' value table cannot be read");
		return;
	}
	read_journals(run_dir, &as, vs);
	for (c = 0; c < m.counters; c++)
		check_counter(&m, db, c, &as, vs, t);
	for (i = 0; i < as.n; i++) {
		struct attempt *a = &as.a[i];

		if (a->state == 'A' && !a->seen) {
			t->lost++;
			violation(vs, "LOST: %s's step %d of refs/mixed/c%d was "
				      "acknowledged but is not in the reflog",
				  a->name, a->n, a->c);
		}
		if (a->state == 'A')
			*(a->name[0] == 'g' ? &t->git_acked : &t->ours_acked) += 1;
		else if (a->state == 'R')
			t->refused++;
		else
			t->unfinished++;
	}
	free(as.a);
	mixed_close(&m);
}

/* --- Git's view ------------------------------------------------------ */

/* "refname id" of every ref under refs/, as the library reads them. */
static char *library_refs(struct reftable_refdb *db, size_t *len)
{
	struct reftable_stack *st = reftable_refdb_stack(db);
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record ref = { 0 };
	char *buf = NULL, hex[2 * STRESS_OID_LEN + 1];
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	int err;

	err = reftable_stack_init_ref_iterator(st, &it);
	if (!err)
		err = reftable_iterator_seek_ref(&it, "refs/");
	while (f && !err && !(err = reftable_iterator_next_ref(&it, &ref))) {
		if (strncmp(ref.refname, "refs/", 5))
			break;
		if (ref.value_type != REFTABLE_REF_VAL1 &&
		    ref.value_type != REFTABLE_REF_VAL2)
			continue;
		hex_encode(hex, ref.value, STRESS_OID_LEN);
		fprintf(f, "%s %s\n", ref.refname, hex);
	}
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&ref);
	if (f)
		fclose(f);
	*len = size;
	return buf;
}

static void compare_refs(const struct stress_opts *o,
			 struct reftable_refdb *db, struct violation_sink *vs)
{
	const char *argv[] = { o->git, "-C", o->run_dir, "for-each-ref",
			       "--format=%(refname) %(objectname)", NULL };
	size_t cap = 8 << 20, len = 0;
	char *git = malloc(cap), *ours = library_refs(db, &len);
	int rc = git ? git_run(argv, NULL, git, cap) : -1;

	if (rc != 0)
		violation(vs, "git for-each-ref failed (exit %d)", rc);
	else if (!ours || strlen(git) != len || memcmp(git, ours, len))
		violation(vs, "git for-each-ref and the library list different "
			      "refs (%zu and %zu bytes)", strlen(git), len);
	free(git);
	free(ours);
}

static void refs_verify(const struct stress_opts *o, struct violation_sink *vs)
{
	const char *argv[] = { o->git, "-C", o->run_dir, "refs", "verify",
			       NULL };
	char out[4096];
	int rc = git_run(argv, NULL, out, sizeof(out));

	if (rc != 0 || out[0])
		violation(vs, "git refs verify: exit %d: %.300s", rc, out);
}

static void compare_records(const struct stress_opts *o, const char *dir,
			    struct violation_sink *vs)
{
	char cmd[13000];

	if (!o->git_records || !o->cli)
		return;
	snprintf(cmd, sizeof(cmd),
		 "'%s' stack '%s' > '%s/records.git' && '%s' dump --records "
		 "'%s' > '%s/records.ours' && cmp -s '%s/records.git' "
		 "'%s/records.ours'",
		 o->git_records, dir, o->run_dir, o->cli, dir, o->run_dir,
		 o->run_dir, o->run_dir);
	if (system(cmd) != 0)
		violation(vs, "git-reftable-records and reftable dump --records "
			      "differ (or failed): see records.git and "
			      "records.ours in the run directory");
}

void git_final_views(const struct stress_opts *o, const char *run_dir,
		     struct reftable_refdb *db, struct violation_sink *vs)
{
	struct stress_opts here = *o;
	char dir[4200];

	here.run_dir = run_dir;
	stack_dir(dir, sizeof(dir), o, run_dir);
	compare_refs(&here, db, vs);
	refs_verify(&here, vs);
	compare_records(&here, dir, vs);
}
