/*
 * libgit2-compare GITDIR STACKDIR
 *
 * Check that a reftable stack says exactly what libgit2 says about a
 * files-backend repository: the same refs, each with the same value,
 * peeled value or symref target, each resolving (through symrefs) to the
 * same object or failing to resolve in both; and the same reflogs, entry
 * by entry in the same order with every field equal. Also check what the
 * format asks of an import: every log entry has its own update index, and
 * the indexes follow time (the running maximum of each reflog's times, so
 * a reflog whose clock went back keeps its order).
 *
 * Both layers are asked: the stack as stored (ref and log iterators,
 * point lookups) and the ref database API over it (its ref iterator,
 * symref resolution, reflog reading and existence). An empty reflog file
 * must come out as a reflog that exists with no entries (Git's marker
 * entry with two null ids, which the ref database hides).
 *
 * The expectations are computed here from libgit2 alone, on purpose
 * without the importer's code. Each difference is printed with the ref
 * named; the exit code is 0 if there is none, 1 otherwise, 2 if either
 * side cannot be read.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <git2.h>

#include "reftable.h"
#include "reftable-refdb.h"

#define OID_LEN 20
#define MAX_SHOWN 50
#define MAX_SYMREF_DEPTH 10

struct want_ref {
	char *name;
	int symbolic;
	char *target;
	uint8_t value[OID_LEN];
	int is_tag;
	uint8_t peeled[OID_LEN];
	int resolves;
	uint8_t resolved[OID_LEN];
};

struct seen_log {
	uint64_t update_index;
	int64_t eff_time;
};

static struct {
	git_repository *repo;
	struct reftable_refdb *db;
	struct reftable_stack *st; /* the refdb's */
	struct want_ref *refs;
	size_t nrefs, refs_cap;
	char **log_names;
	size_t nlog_names, log_names_cap;
	struct seen_log *seen;
	size_t nseen, seen_cap;
	size_t differences;
	size_t log_entries;
} c;

static void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "libgit2-compare: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static void git_ok(int err, const char *what)
{
	const git_error *e = git_error_last();

	if (err < 0)
		fatal("%s: %s", what, e && e->message ? e->message : "?");
}

static void rt_ok(int err, const char *what)
{
	if (err < 0)
		fatal("%s: %s (%s)", what, reftable_error_str(err),
		      reftable_error_detail());
}

/* A difference: printed (up to a limit) and counted. */
static void differ(const char *ref, const char *fmt, ...)
{
	va_list ap;

	if (c.differences++ >= MAX_SHOWN)
		return;
	va_start(ap, fmt);
	printf("DIFF %s: ", ref);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

static void *grow(void *p, size_t *cap, size_t want, size_t size)
{
	if (want > *cap) {
		*cap = *cap ? *cap * 2 : 64;
		if (*cap < want)
			*cap = want;
		p = realloc(p, *cap * size);
		if (!p)
			fatal("out of memory");
	}
	return p;
}

static char *dup_str(const char *s)
{
	char *d = strdup(s);

	if (!d)
		fatal("out of memory");
	return d;
}

/* qsort must not be handed a null array, even an empty one. */
static void sort(void *base, size_t n, size_t size,
		 int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

static const char *hex(const uint8_t *id, char *buf)
{
	int i;

	for (i = 0; i < OID_LEN; i++)
		sprintf(buf + 2 * i, "%02x", id[i]);
	return buf;
}

/* --- what libgit2 says --- */

static void want_direct(struct want_ref *w, const git_oid *oid)
{
	git_object *obj, *peeled;

	memcpy(w->value, oid->id, OID_LEN);
	git_ok(git_object_lookup(&obj, c.repo, oid, GIT_OBJECT_ANY), w->name);
	if (git_object_type(obj) == GIT_OBJECT_TAG) {
		git_ok(git_tag_peel(&peeled, (git_tag *)obj), w->name);
		w->is_tag = 1;
		memcpy(w->peeled, git_object_id(peeled)->id, OID_LEN);
		git_object_free(peeled);
	}
	git_object_free(obj);
}

static void want_ref(git_reference *ref)
{
	struct want_ref *w;
	git_reference *res;

	c.refs = grow(c.refs, &c.refs_cap, c.nrefs + 1, sizeof(*c.refs));
	w = &c.refs[c.nrefs++];
	memset(w, 0, sizeof(*w));
	w->name = dup_str(git_reference_name(ref));
	if (git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC) {
		w->symbolic = 1;
		w->target = dup_str(git_reference_symbolic_target(ref));
	} else {
		want_direct(w, git_reference_target(ref));
	}
	if (git_reference_resolve(&res, ref) == 0) {
		w->resolves = 1;
		memcpy(w->resolved, git_reference_target(res)->id, OID_LEN);
		git_reference_free(res);
	}
}

/* HEAD and the other "*_HEAD" refs Git keeps in a ref database. */
static int root_ref_name(const char *n)
{
	size_t i, len = strlen(n);

	for (i = 0; i < len; i++)
		if ((n[i] < 'A' || n[i] > 'Z') && n[i] != '_')
			return 0;
	return strcmp(n, "FETCH_HEAD") && strcmp(n, "MERGE_HEAD") &&
	       (!strcmp(n, "HEAD") ||
		(len > 5 && !strcmp(n + len - 5, "_HEAD")));
}

static void want_root_refs(void)
{
	DIR *d = opendir(git_repository_path(c.repo));
	struct dirent *e;

	if (!d)
		fatal("%s: %s", git_repository_path(c.repo), strerror(errno));
	while ((e = readdir(d))) {
		git_reference *ref;

		if (!root_ref_name(e->d_name) ||
		    git_reference_lookup(&ref, c.repo, e->d_name))
			continue;
		want_ref(ref);
		git_reference_free(ref);
	}
	closedir(d);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct want_ref *)a)->name,
		      ((const struct want_ref *)b)->name);
}

static void want_refs(void)
{
	git_reference_iterator *it;
	git_reference *ref;
	int err;

	git_ok(git_reference_iterator_new(&it, c.repo), "refs");
	while (!(err = git_reference_next(&ref, it))) {
		want_ref(ref);
		git_reference_free(ref);
	}
	if (err != GIT_ITEROVER)
		git_ok(err, "refs");
	git_reference_iterator_free(it);
	want_root_refs();
	sort(c.refs, c.nrefs, sizeof(*c.refs), by_name);
}

/* Every file under logs/ is a reflog; dir is "logs/..." on disk. */
static void find_logs(const char *top, const char *rel)
{
	char path[4096];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		char sub[4096], full[8192];
		struct stat st;

		if (e->d_name[0] == '.' || strstr(e->d_name, ".lock"))
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "",
			 e->d_name);
		snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
		if (stat(full, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			find_logs(top, sub);
			continue;
		}
		c.log_names = grow(c.log_names, &c.log_names_cap,
				   c.nlog_names + 1, sizeof(char *));
		c.log_names[c.nlog_names++] = dup_str(sub);
	}
	closedir(d);
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* --- what the stack says --- */

/* Follow symrefs in the stack: 1 and the object id, or 0. */
static int stack_resolve(const char *name, uint8_t *out)
{
	struct reftable_ref_record rec = { 0 };
	char *cur = dup_str(name);
	int depth, found = 0;

	for (depth = 0; depth < MAX_SYMREF_DEPTH; depth++) {
		int err = reftable_stack_read_ref(c.st, cur, &rec);

		rt_ok(err, cur);
		if (err == 1)
			break;
		if (rec.value_type != REFTABLE_REF_SYMREF) {
			memcpy(out, rec.value, OID_LEN);
			found = 1;
			break;
		}
		free(cur);
		cur = dup_str(rec.target);
	}
	free(cur);
	reftable_ref_record_release(&rec);
	return found;
}

static void compare_value(const struct want_ref *w,
			  const struct reftable_ref_record *got)
{
	char a[41], b[41];

	if (w->symbolic) {
		if (got->value_type != REFTABLE_REF_SYMREF)
			differ(w->name, "libgit2 has a symref to %s, the stack "
			       "a value of type %d", w->target,
			       (int)got->value_type);
		else if (strcmp(w->target, got->target))
			differ(w->name, "symref target %s, stack has %s",
			       w->target, got->target);
		return;
	}
	if (got->value_type != (w->is_tag ? REFTABLE_REF_VAL2 :
				REFTABLE_REF_VAL1)) {
		differ(w->name, "expected %s, stack has value type %d",
		       w->is_tag ? "val2 (annotated tag)" : "val1",
		       (int)got->value_type);
		return;
	}
	if (memcmp(w->value, got->value, OID_LEN))
		differ(w->name, "value %s, stack has %s", hex(w->value, a),
		       hex(got->value, b));
	if (w->is_tag && memcmp(w->peeled, got->peeled, OID_LEN))
		differ(w->name, "peeled %s, stack has %s", hex(w->peeled, a),
		       hex(got->peeled, b));
}

static void check_resolved(const struct want_ref *w, const char *who,
			   int found, const uint8_t *got)
{
	char a[41], b[41];

	if (found != w->resolves)
		differ(w->name, "libgit2 %s, %s %s",
		       w->resolves ? "resolves it" : "cannot resolve it", who,
		       found ? "resolves it" : "cannot");
	else if (found && memcmp(got, w->resolved, OID_LEN))
		differ(w->name, "resolves to %s, %s to %s",
		       hex(w->resolved, a), who, hex(got, b));
}

/* Through symrefs: by hand on the stack, and by the ref database. */
static void compare_resolution(const struct want_ref *w)
{
	struct reftable_ref_record rec = { 0 };
	uint8_t got[OID_LEN];
	int err;

	check_resolved(w, "the stack", stack_resolve(w->name, got), got);
	err = reftable_refdb_resolve(c.db, w->name, &rec);
	if (err < 0)
		differ(w->name, "refdb_resolve fails: %s (%s)",
		       reftable_error_str(err), reftable_error_detail());
	else
		check_resolved(w, "refdb_resolve", err == 0, rec.value);
	reftable_ref_record_release(&rec);
}

/* The point lookup must give what the iteration gave. */
static void compare_lookup(const struct reftable_ref_record *it_rec)
{
	struct reftable_ref_record rec = { 0 };
	int err = reftable_refdb_read_ref(c.db, it_rec->refname, &rec);

	if (err != 0 || !reftable_ref_record_equal(&rec, it_rec, OID_LEN))
		differ(it_rec->refname, "refdb_read_ref differs from the "
		       "stack's iterator (returned %d)", err);
	reftable_ref_record_release(&rec);
}

/* Every ref of an iterator against libgit2's list; full: also resolve
 * and look up each one. */
static void compare_refs(const char *label, struct reftable_iterator *it,
			 int full)
{
	struct reftable_ref_record got = { 0 };
	size_t i = 0;
	int err = reftable_iterator_next_ref(it, &got);

	while (err == 0 || i < c.nrefs) {
		int cmp;

		rt_ok(err, label);
		cmp = err ? -1 : i == c.nrefs ? 1 :
			strcmp(c.refs[i].name, got.refname);
		if (cmp < 0) {
			differ(c.refs[i++].name, "missing from %s", label);
			continue;
		}
		if (cmp > 0) {
			differ(got.refname, "in %s, not in libgit2", label);
		} else {
			compare_value(&c.refs[i], &got);
			if (full) {
				compare_resolution(&c.refs[i]);
				compare_lookup(&got);
			}
			i++;
		}
		err = reftable_iterator_next_ref(it, &got);
	}
	rt_ok(err, label);
	reftable_ref_record_release(&got);
	reftable_iterator_destroy(it);
}

static void compare_all_refs(void)
{
	struct reftable_iterator it = { 0 };

	rt_ok(reftable_stack_init_ref_iterator(c.st, &it), "ref iterator");
	rt_ok(reftable_iterator_seek_ref(&it, ""), "seek");
	compare_refs("the stack", &it, 1);
	rt_ok(reftable_refdb_init_ref_iterator(c.db, &it, ""), "refdb refs");
	compare_refs("the refdb's iterator", &it, 0);
}

/* --- reflogs --- */

static int16_t git_tz(int minutes)
{
	int m = minutes < 0 ? -minutes : minutes;
	int v = (m / 60) * 100 + m % 60;

	return (int16_t)(minutes < 0 ? -v : v);
}

static void compare_entry(const char *ref, size_t idx,
			  const git_reflog_entry *e,
			  const struct reftable_log_record *got)
{
	const git_signature *sig = git_reflog_entry_committer(e);
	const char *msg = git_reflog_entry_message(e);
	char want_msg[8192], a[41], b[41];

	snprintf(want_msg, sizeof(want_msg), "%s\n", msg ? msg : "");
	if (got->value_type != REFTABLE_LOG_UPDATE)
		differ(ref, "log entry %zu is not an update", idx);
	else if (memcmp(git_reflog_entry_id_old(e)->id, got->old_id, OID_LEN))
		differ(ref, "log entry %zu: old id %s, stack %s", idx,
		       hex(git_reflog_entry_id_old(e)->id, a),
		       hex(got->old_id, b));
	else if (memcmp(git_reflog_entry_id_new(e)->id, got->new_id, OID_LEN))
		differ(ref, "log entry %zu: new id %s, stack %s", idx,
		       hex(git_reflog_entry_id_new(e)->id, a),
		       hex(got->new_id, b));
	else if (strcmp(sig->name, got->name) ||
		 strcmp(sig->email, got->email))
		differ(ref, "log entry %zu: %s <%s>, stack %s <%s>", idx,
		       sig->name, sig->email, got->name, got->email);
	else if ((uint64_t)sig->when.time != got->time)
		differ(ref, "log entry %zu: time %" PRId64 ", stack %" PRIu64,
		       idx, (int64_t)sig->when.time, got->time);
	else if (git_tz(sig->when.offset) != got->tz_offset)
		differ(ref, "log entry %zu: zone %d minutes, stack %d", idx,
		       sig->when.offset, got->tz_offset);
	else if (strcmp(want_msg, got->message))
		differ(ref, "log entry %zu: message \"%s\", stack \"%s\"",
		       idx, msg ? msg : "", got->message);
}

/* Remember what the time-order check needs; ents newest first. */
static void note_times(const struct reftable_log_record *ents, size_t n)
{
	int64_t eff = INT64_MIN;
	size_t k;

	c.seen = grow(c.seen, &c.seen_cap, c.nseen + n, sizeof(*c.seen));
	for (k = n; k-- > 0;) {
		if ((int64_t)ents[k].time > eff)
			eff = (int64_t)ents[k].time;
		c.seen[c.nseen].update_index = ents[k].update_index;
		c.seen[c.nseen].eff_time = eff;
		c.nseen++;
	}
}

static int is_marker(const struct reftable_log_record *l)
{
	static const uint8_t null_id[OID_LEN];

	return l->value_type == REFTABLE_LOG_UPDATE &&
	       !memcmp(l->old_id, null_id, OID_LEN) &&
	       !memcmp(l->new_id, null_id, OID_LEN);
}

static void compare_entries(const char *name, const char *who,
			    git_reflog *rl,
			    const struct reftable_log_record *ents, size_t n)
{
	size_t want = git_reflog_entrycount(rl), k;

	if (want != n)
		differ(name, "%zu log entries, %s has %zu", want, who, n);
	for (k = 0; k < want && k < n; k++)
		compare_entry(name, k, git_reflog_entry_byindex(rl, k),
			      &ents[k]);
}

/* The ref database's view of one reflog. */
static void compare_refdb_reflog(const char *name, git_reflog *rl)
{
	struct reftable_log_record *ents;
	size_t n;
	int err = reftable_refdb_reflog_exists(c.db, name);

	if (err != 1)
		differ(name, "refdb_reflog_exists says %d, libgit2 has a "
		       "reflog", err);
	rt_ok(reftable_refdb_read_reflog(c.db, name, &ents, &n), name);
	compare_entries(name, "refdb_read_reflog", rl, ents, n);
	reftable_refdb_reflog_free(ents, n);
}

/*
 * One reflog: the stack's records of name (newest first) against
 * libgit2's entries. An empty reflog is one marker record.
 */
static void compare_reflog(const char *name,
			   const struct reftable_log_record *ents, size_t n)
{
	git_reflog *rl;
	struct reftable_log_record newest = { 0 };
	size_t want;

	git_ok(git_reflog_read(&rl, c.repo, name), name);
	want = git_reflog_entrycount(rl);
	if (!want && !(n == 1 && is_marker(&ents[0])))
		differ(name, "an empty reflog, the stack has %zu records "
		       "instead of one marker", n);
	if (want)
		compare_entries(name, "the stack", rl, ents, n);
	/* the point lookup must agree with the iteration */
	if (n && (reftable_stack_read_log(c.st, name, &newest) != 0 ||
		  newest.update_index != ents[0].update_index))
		differ(name, "read_log does not give the newest entry");
	reftable_log_record_release(&newest);
	compare_refdb_reflog(name, rl);
	git_reflog_free(rl);
	note_times(ents, n);
	c.log_entries += want;
}

/* A ref without a reflog file has no reflog in the ref database. */
static void check_no_reflogs(void)
{
	size_t i;

	for (i = 0; i < c.nrefs; i++) {
		const char *name = c.refs[i].name;
		int err;

		if (c.nlog_names && bsearch(&name, c.log_names, c.nlog_names,
					    sizeof(char *), by_str))
			continue;
		err = reftable_refdb_reflog_exists(c.db, name);
		if (err != 0)
			differ(name, "no reflog in libgit2, "
			       "refdb_reflog_exists says %d", err);
	}
}

static void release_logs(struct reftable_log_record *ents, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		reftable_log_record_release(&ents[k]);
}

/* All of the stack's log records, in key order. */
static struct reftable_log_record *read_all_logs(size_t *n)
{
	struct reftable_iterator it = { 0 };
	struct reftable_log_record *all = NULL;
	size_t cap = 0;
	int err;

	*n = 0;
	rt_ok(reftable_stack_init_log_iterator(c.st, &it), "log iterator");
	rt_ok(reftable_iterator_seek_log(&it, ""), "seek log");
	for (;;) {
		all = grow(all, &cap, *n + 1, sizeof(*all));
		memset(&all[*n], 0, sizeof(*all));
		err = reftable_iterator_next_log(&it, &all[*n]);
		if (err)
			break;
		(*n)++;
	}
	reftable_log_record_release(&all[*n]);
	rt_ok(err, "next log");
	reftable_iterator_destroy(&it);
	return all;
}

static void compare_logs(void)
{
	size_t n, i = 0, j = 0;
	struct reftable_log_record *all = read_all_logs(&n);

	while (i < c.nlog_names || j < n) {
		size_t end = j;
		int cmp;

		while (end < n && !strcmp(all[end].refname, all[j].refname))
			end++;
		cmp = j == n ? -1 : i == c.nlog_names ? 1 :
			strcmp(c.log_names[i], all[j].refname);
		if (cmp <= 0)
			compare_reflog(c.log_names[i++], all + j,
				       cmp == 0 ? end - j : 0);
		else
			differ(all[j].refname, "stack has %zu log entries, "
			       "libgit2 no reflog", end - j);
		if (cmp >= 0)
			j = end;
	}
	release_logs(all, n);
	free(all);
}

static int by_index(const void *a, const void *b)
{
	const struct seen_log *x = a, *y = b;

	return x->update_index < y->update_index ? -1 :
	       x->update_index > y->update_index;
}

/* Unique update indexes that follow (per-reflog monotonic) time. */
static void check_numbering(void)
{
	size_t k;

	sort(c.seen, c.nseen, sizeof(*c.seen), by_index);
	for (k = 1; k < c.nseen; k++) {
		if (c.seen[k].update_index == c.seen[k - 1].update_index)
			differ("(logs)", "update index %" PRIu64 " used twice",
			       c.seen[k].update_index);
		else if (c.seen[k].eff_time < c.seen[k - 1].eff_time)
			differ("(logs)", "update index %" PRIu64 " is newer "
			       "than %" PRIu64 " but its time is older",
			       c.seen[k].update_index,
			       c.seen[k - 1].update_index);
	}
}

static void cleanup(void)
{
	size_t i;

	for (i = 0; i < c.nrefs; i++) {
		free(c.refs[i].name);
		free(c.refs[i].target);
	}
	for (i = 0; i < c.nlog_names; i++)
		free(c.log_names[i]);
	free(c.refs);
	free(c.log_names);
	free(c.seen);
	reftable_refdb_close(c.db);
	git_repository_free(c.repo);
	git_libgit2_shutdown();
}

int main(int argc, char **argv)
{
	char *logs = NULL;

	if (argc != 3) {
		fprintf(stderr, "usage: libgit2-compare GITDIR STACKDIR\n");
		return 2;
	}
	git_libgit2_init();
	git_ok(git_repository_open(&c.repo, argv[1]), argv[1]);
	rt_ok(reftable_refdb_open(&c.db, argv[2], NULL), argv[2]);
	c.st = reftable_refdb_stack(c.db);
	want_refs();
	if (asprintf(&logs, "%slogs", git_repository_commondir(c.repo)) < 0)
		fatal("out of memory");
	find_logs(logs, "");
	free(logs);
	sort(c.log_names, c.nlog_names, sizeof(char *), by_str);
	compare_all_refs();
	compare_logs();
	check_no_reflogs();
	check_numbering();
	if (c.differences > MAX_SHOWN)
		printf("... and %zu more differences\n",
		       c.differences - MAX_SHOWN);
	if (c.differences)
		printf("FAIL: %zu differences\n", c.differences);
	else
		printf("same: %zu refs, %zu log entries of %zu reflogs\n",
		       c.nrefs, c.log_entries, c.nlog_names);
	cleanup();
	return c.differences ? 1 : 0;
}
