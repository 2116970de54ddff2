/*
 * reftable-import: copy the refs and reflogs of a files-backend Git
 * repository (loose refs, packed-refs, logs/) into a reftable stack.
 *
 *   reftable-import [--force] GITDIR OUTDIR
 *
 * The repository is read only through libgit2; the stack is written only
 * through the library's public API. What is written:
 *
 * - every ref, as libgit2 resolves loose against packed: a symbolic ref
 *   as SYMREF; a ref to an annotated tag as VAL2 with the tag's id and the
 *   object reached by peeling tags until one is not a tag; any other ref
 *   as VAL1;
 * - every reflog entry, the reflogs of deleted refs included (an empty
 *   reflog as Git's marker entry with two null ids). As the
 *   format's "Importing logs" section asks, each entry gets its own update
 *   index, unique in the import and rising with time, while the entries
 *   of one reflog keep their file order. Times in a reflog may go back
 *   (a skewed clock); ordering by the running maximum of each file's
 *   times keeps the file order and is otherwise ordering by time. Ties
 *   are broken by ref name, then file position, so an import is the same
 *   every time;
 * - time zones as Git writes them into reftables (hours and minutes as a
 *   decimal number: -0530 is -530), and messages with the newline Git
 *   ends each stored message with.
 *
 * All of it goes into one table whose update indexes run from the stack's
 * next index to that plus the number of log entries minus one; the refs
 * carry the last index. Without --force an existing non-empty stack is
 * left alone. With --force the same table also carries deletions of every
 * ref and log entry the stack held, so readers switch from the old
 * contents to the new in one step, and the stack is then compacted.
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

#define OID_LEN REFTABLE_HASH_SIZE_SHA1

struct iref {
	char *name;
	enum reftable_ref_value_type type; /* VAL1, VAL2, SYMREF or DELETION */
	uint8_t value[OID_LEN];
	uint8_t peeled[OID_LEN];
	char *target;
};

struct ilog {
	const char *refname;    /* owned by the import's log_names */
	size_t pos;             /* position in its file, oldest 0 */
	int64_t time, eff_time; /* eff_time: running max over the file */
	uint64_t update_index;
	int deletion;           /* hides an entry of the replaced stack */
	uint8_t old_id[OID_LEN], new_id[OID_LEN];
	char *name, *email, *message;
	int16_t tz;
};

struct strlist {
	char **v;
	size_t n, cap;
};

struct import {
	git_repository *repo;
	const char *gitdir, *outdir;
	int force;
	struct iref *refs;
	size_t nrefs, refs_cap;
	struct ilog *logs;
	size_t nlogs, logs_cap;
	struct strlist log_names;  /* reflogs found under logs/ */
	size_t new_logs;           /* entries imported (not deletions) */
	size_t nreflogs;           /* reflogs with at least one entry */
	size_t nsymrefs, npeeled;
	size_t nempty;             /* empty reflogs: a marker each */
	size_t old_refs, old_logs; /* contents of a replaced stack */
	uint64_t min_index, max_index;
};

static struct import im;

static void die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "reftable-import: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(code);
}

static void check_git(int err, const char *what)
{
	const git_error *e;

	if (err >= 0)
		return;
	e = git_error_last();
	die(2, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

static void check_rt(int err, const char *what)
{
	if (err >= 0)
		return;
	die(2, "%s: %s (%s)", what, reftable_error_str(err),
	    reftable_error_detail());
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		die(2, "out of memory");
	return d;
}

/* Grow *arr to hold want elements of size bytes. */
static void grow(void **arr, size_t *cap, size_t want, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *p;

	if (want <= *cap)
		return;
	while (n < want)
		n *= 2;
	p = realloc(*arr, n * size);
	if (!p)
		die(2, "out of memory");
	*arr = p;
	*cap = n;
}

static void strlist_add(struct strlist *l, const char *s)
{
	grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

/* qsort must not be handed a null array, even an empty one. */
static void sort(void *base, size_t n, size_t size,
		 int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* libgit2 gives minutes east of UTC; Git stores -0530 as -530. */
static int16_t tz_hhmm(int minutes)
{
	int a = minutes < 0 ? -minutes : minutes;
	int v = a / 60 * 100 + a % 60;

	return (int16_t)(minutes < 0 ? -v : v);
}

/* --- refs --- */

static struct iref *new_ref(const char *name)
{
	struct iref *r;

	grow((void **)&im.refs, &im.refs_cap, im.nrefs + 1, sizeof(*im.refs));
	r = &im.refs[im.nrefs++];
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(name);
	return r;
}

/* VAL2 for an annotated tag (peeled through every level), else VAL1. */
static void read_direct(struct iref *r, const git_oid *oid)
{
	git_object *obj, *peeled;

	memcpy(r->value, oid->id, OID_LEN);
	r->type = REFTABLE_REF_VAL1;
	check_git(git_object_lookup(&obj, im.repo, oid, GIT_OBJECT_ANY),
		  r->name);
	if (git_object_type(obj) == GIT_OBJECT_TAG) {
		check_git(git_tag_peel(&peeled, (git_tag *)obj), r->name);
		memcpy(r->peeled, git_object_id(peeled)->id, OID_LEN);
		r->type = REFTABLE_REF_VAL2;
		im.npeeled++;
		git_object_free(peeled);
	}
	git_object_free(obj);
}

static void read_ref(git_reference *ref)
{
	struct iref *r = new_ref(git_reference_name(ref));

	if (git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC) {
		r->type = REFTABLE_REF_SYMREF;
		r->target = xstrdup(git_reference_symbolic_target(ref));
		im.nsymrefs++;
	} else {
		read_direct(r, git_reference_target(ref));
	}
}

static int cmp_ref(const void *a, const void *b)
{
	return strcmp(((const struct iref *)a)->name,
		      ((const struct iref *)b)->name);
}

/*
 * Refs outside refs/ that Git keeps in a reftable: HEAD and the other
 * all-capital "..._HEAD" files at the top of the repository, except
 * FETCH_HEAD and MERGE_HEAD, which stay files whatever the backend.
 * libgit2's iterator lists only refs/, so these are looked up by name.
 */
static int is_root_ref(const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < len; i++)
		if (!(name[i] >= 'A' && name[i] <= 'Z') && name[i] != '_')
			return 0;
	if (!strcmp(name, "FETCH_HEAD") || !strcmp(name, "MERGE_HEAD"))
		return 0;
	return !strcmp(name, "HEAD") ||
	       (len > 5 && !strcmp(name + len - 5, "_HEAD"));
}

static void read_root_refs(void)
{
	DIR *d = opendir(git_repository_path(im.repo));
	struct dirent *e;

	if (!d)
		die(2, "%s: %s", git_repository_path(im.repo), strerror(errno));
	while ((e = readdir(d))) {
		git_reference *ref;
		int err;

		if (!is_root_ref(e->d_name))
			continue;
		err = git_reference_lookup(&ref, im.repo, e->d_name);
		if (err == GIT_ENOTFOUND)
			continue;
		check_git(err, e->d_name);
		read_ref(ref);
		git_reference_free(ref);
	}
	closedir(d);
}

static void read_refs(void)
{
	git_reference_iterator *it;
	git_reference *ref;
	int err;

	check_git(git_reference_iterator_new(&it, im.repo), "refs");
	while (!(err = git_reference_next(&ref, it))) {
		read_ref(ref);
		git_reference_free(ref);
	}
	if (err != GIT_ITEROVER)
		check_git(err, "reading refs");
	git_reference_iterator_free(it);
	read_root_refs();
	sort(im.refs, im.nrefs, sizeof(*im.refs), cmp_ref);
}

/* --- reflogs --- */

/* A file under logs/ names a reflog if its path is a valid ref name
 * (which leaves out stray lock files). */
static void add_log_name(const char *name)
{
	int valid = 0;

	check_git(git_reference_name_is_valid(&valid, name), name);
	if (!valid) {
		fprintf(stderr, "reftable-import: skipping logs/%s: "
			"not a ref name\n", name);
		return;
	}
	strlist_add(&im.log_names, name);
}

/* Collect the names of the files under dir/rel (rel "" at the top). */
static void walk_logs(const char *dir, const char *rel)
{
	char *path = NULL;
	DIR *d;
	struct dirent *e;

	if (asprintf(&path, "%s%s%s", dir, *rel ? "/" : "", rel) < 0)
		die(2, "out of memory");
	d = opendir(path);
	if (!d) {
		if (errno != ENOENT && errno != ENOTDIR)
			die(2, "%s: %s", path, strerror(errno));
		free(path);
		return;
	}
	while ((e = readdir(d))) {
		char *sub = NULL;
		struct stat st;
		char *full = NULL;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (asprintf(&sub, "%s%s%s", rel, *rel ? "/" : "",
			     e->d_name) < 0 ||
		    asprintf(&full, "%s/%s", path, e->d_name) < 0)
			die(2, "out of memory");
		if (stat(full, &st) != 0)
			die(2, "%s: %s", full, strerror(errno));
		if (S_ISDIR(st.st_mode))
			walk_logs(dir, sub);
		else if (S_ISREG(st.st_mode))
			add_log_name(sub);
		free(sub);
		free(full);
	}
	closedir(d);
	free(path);
}

static struct ilog *new_log(const char *refname)
{
	struct ilog *l;

	grow((void **)&im.logs, &im.logs_cap, im.nlogs + 1, sizeof(*im.logs));
	l = &im.logs[im.nlogs++];
	memset(l, 0, sizeof(*l));
	l->refname = refname;
	return l;
}

static void read_entry(struct ilog *l, const git_reflog_entry *e)
{
	const git_signature *sig = git_reflog_entry_committer(e);
	const char *msg = git_reflog_entry_message(e);

	memcpy(l->old_id, git_reflog_entry_id_old(e)->id, OID_LEN);
	memcpy(l->new_id, git_reflog_entry_id_new(e)->id, OID_LEN);
	l->name = xstrdup(sig->name);
	l->email = xstrdup(sig->email);
	l->time = sig->when.time;
	l->tz = tz_hhmm(sig->when.offset);
	/* Git ends every message it stores in a reftable with a newline. */
	if (asprintf(&l->message, "%s\n", msg ? msg : "") < 0)
		die(2, "out of memory");
}

/*
 * An empty reflog file still says the reflog exists. Git's reftables say
 * so with one entry of two null ids and empty strings; it sorts first.
 */
static void add_marker(const char *name)
{
	struct ilog *l = new_log(name);

	l->name = xstrdup("");
	l->email = xstrdup("");
	l->message = xstrdup("");
	im.nempty++;
}

/* Append the entries of one reflog in file order, oldest first. */
static void read_reflog(const char *name)
{
	git_reflog *rl;
	size_t n, pos;
	int64_t eff = INT64_MIN;

	check_git(git_reflog_read(&rl, im.repo, name), name);
	n = git_reflog_entrycount(rl);
	for (pos = 0; pos < n; pos++) {
		/* libgit2 numbers entries newest first */
		struct ilog *l = new_log(name);

		read_entry(l, git_reflog_entry_byindex(rl, n - 1 - pos));
		l->pos = pos;
		if (l->time > eff)
			eff = l->time;
		l->eff_time = eff;
	}
	if (!n)
		add_marker(name);
	im.new_logs += n;
	im.nreflogs++;
	git_reflog_free(rl);
}

static void read_reflogs(void)
{
	char *dir = NULL;
	size_t i;

	if (asprintf(&dir, "%slogs", git_repository_commondir(im.repo)) < 0)
		die(2, "out of memory");
	walk_logs(dir, "");
	free(dir);
	sort(im.log_names.v, im.log_names.n, sizeof(char *), cmp_str);
	for (i = 0; i < im.log_names.n; i++)
		read_reflog(im.log_names.v[i]);
}

/* Import order: by time as the running maximum per file, then name, then
 * file position. */
static int cmp_log_age(const void *a, const void *b)
{
	const struct ilog *x = a, *y = b;
	int c;

	if (x->eff_time != y->eff_time)
		return x->eff_time < y->eff_time ? -1 : 1;
	c = strcmp(x->refname, y->refname);
	if (c)
		return c;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Table order: by name, then newest (highest update index) first. */
static int cmp_log_key(const void *a, const void *b)
{
	const struct ilog *x = a, *y = b;
	int c = strcmp(x->refname, y->refname);

	if (c)
		return c;
	return x->update_index > y->update_index ? -1 :
	       x->update_index < y->update_index;
}

static void number_logs(uint64_t base)
{
	size_t i;

	sort(im.logs, im.nlogs, sizeof(*im.logs), cmp_log_age);
	for (i = 0; i < im.nlogs; i++)
		im.logs[i].update_index = base + i;
	im.min_index = base;
	im.max_index = base + (im.nlogs ? im.nlogs - 1 : 0);
}

/* --- the stack --- */

static struct strlist old_ref_names, old_log_names;

/* Tombstones for everything a replaced stack holds. */
static void collect_old_refs(struct reftable_stack *st)
{
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record ref = { 0 };
	int err;

	check_rt(reftable_stack_init_ref_iterator(st, &it), im.outdir);
	check_rt(reftable_iterator_seek_ref(&it, ""), im.outdir);
	while (!(err = reftable_iterator_next_ref(&it, &ref)))
		strlist_add(&old_ref_names, ref.refname);
	check_rt(err, im.outdir);
	reftable_ref_record_release(&ref);
	reftable_iterator_destroy(&it);
	im.old_refs = old_ref_names.n;
}

static void collect_old_logs(struct reftable_stack *st)
{
	struct reftable_iterator it = { 0 };
	struct reftable_log_record log = { 0 };
	int err;

	check_rt(reftable_stack_init_log_iterator(st, &it), im.outdir);
	check_rt(reftable_iterator_seek_log(&it, ""), im.outdir);
	while (!(err = reftable_iterator_next_log(&it, &log))) {
		struct ilog *l;

		/* entries come grouped by name: keep one copy of each */
		if (!old_log_names.n ||
		    strcmp(old_log_names.v[old_log_names.n - 1], log.refname))
			strlist_add(&old_log_names, log.refname);
		l = new_log(old_log_names.v[old_log_names.n - 1]);
		l->update_index = log.update_index;
		l->deletion = 1;
		im.old_logs++;
	}
	check_rt(err, im.outdir);
	reftable_log_record_release(&log);
	reftable_iterator_destroy(&it);
}

static int add_ref(struct reftable_writer *w, const struct iref *r)
{
	struct reftable_ref_record rec = { 0 };

	rec.refname = r->name;
	rec.update_index = im.max_index;
	rec.value_type = r->type;
	memcpy(rec.value, r->value, OID_LEN);
	memcpy(rec.peeled, r->peeled, OID_LEN);
	rec.target = r->target;
	return reftable_writer_add_ref(w, &rec);
}

static int add_deleted_ref(struct reftable_writer *w, const char *name)
{
	struct reftable_ref_record rec = { 0 };

	rec.refname = (char *)name;
	rec.update_index = im.max_index;
	rec.value_type = REFTABLE_REF_DELETION;
	return reftable_writer_add_ref(w, &rec);
}

/* The imported refs merged with deletions of the old ones not imported. */
static int add_refs(struct reftable_writer *w)
{
	size_t i = 0, j = 0;
	int err = 0;

	while (!err && (i < im.nrefs || j < old_ref_names.n)) {
		int c = i == im.nrefs ? 1 : j == old_ref_names.n ? -1 :
			strcmp(im.refs[i].name, old_ref_names.v[j]);

		if (c <= 0) {
			err = add_ref(w, &im.refs[i++]);
			j += c == 0;
		} else {
			err = add_deleted_ref(w, old_ref_names.v[j++]);
		}
	}
	return err;
}

static int add_logs(struct reftable_writer *w)
{
	size_t i;
	int err = 0;

	for (i = 0; !err && i < im.nlogs; i++) {
		const struct ilog *l = &im.logs[i];
		struct reftable_log_record rec = { 0 };

		rec.refname = (char *)l->refname;
		rec.update_index = l->update_index;
		rec.value_type = l->deletion ? REFTABLE_LOG_DELETION :
			REFTABLE_LOG_UPDATE;
		if (!l->deletion) {
			memcpy(rec.old_id, l->old_id, OID_LEN);
			memcpy(rec.new_id, l->new_id, OID_LEN);
			rec.name = l->name;
			rec.email = l->email;
			rec.time = (uint64_t)l->time;
			rec.tz_offset = l->tz;
			rec.message = l->message;
		}
		err = reftable_writer_add_log(w, &rec);
	}
	return err;
}

static int write_table(struct reftable_writer *w, void *arg)
{
	int err;

	(void)arg;
	/* one table spanning an update index per log entry */
	err = reftable_writer_set_limits(w, im.min_index, im.max_index);
	if (!err)
		err = add_refs(w);
	if (!err)
		err = add_logs(w);
	return err;
}

/* 0: nothing there, or an empty directory; 1: a stack; else refuse. */
static int outdir_state(const char *dir)
{
	char *list = NULL;
	struct stat st;
	DIR *d;
	struct dirent *e;
	int n = 0, has_list;

	if (asprintf(&list, "%s/tables.list", dir) < 0)
		die(2, "out of memory");
	has_list = stat(list, &st) == 0;
	free(list);
	if (has_list)
		return 1;
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		die(2, "%s: %s", dir, strerror(errno));
	}
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	if (n)
		die(1, "%s is not empty and holds no reftable stack "
		    "(no tables.list); not touching it", dir);
	return 0;
}

static struct reftable_stack *open_stack(void)
{
	struct reftable_stack_options opts;
	struct reftable_stack *st;
	int existed = outdir_state(im.outdir);

	reftable_stack_options_init(&opts);
	opts.create = 1;
	opts.write.hash_id = REFTABLE_HASH_SHA1;
	check_rt(reftable_stack_new(&st, im.outdir, &opts), im.outdir);
	if (reftable_stack_hash(st) != REFTABLE_HASH_SHA1)
		die(2, "%s: the stack does not use SHA-1, the repository does",
		    im.outdir);
	if (existed && !im.force &&
	    reftable_merged_table_count(reftable_stack_merged(st)) > 0)
		die(1, "%s already holds a reftable stack; use --force to "
		    "replace its contents", im.outdir);
	return st;
}

static void write_stack(struct reftable_stack *st)
{
	struct reftable_addition *add;

	check_rt(reftable_stack_new_addition(&add, st,
					     REFTABLE_ADDITION_RELOAD),
		 im.outdir);
	number_logs(reftable_addition_update_index(add));
	/* read under the lock, so nothing slips in unreplaced */
	if (reftable_merged_table_count(reftable_stack_merged(st)) > 0) {
		if (!im.force)
			die(1, "%s: a stack appeared while importing; use "
			    "--force to replace it", im.outdir);
		collect_old_refs(st);
		collect_old_logs(st);
	}
	sort(im.logs, im.nlogs, sizeof(*im.logs), cmp_log_key);
	check_rt(reftable_addition_add(add, write_table, NULL), im.outdir);
	check_rt(reftable_addition_commit(add), im.outdir);
	reftable_addition_destroy(add);
}

/* After a replacement, one table again; failing here loses nothing. */
static void compact(struct reftable_stack *st)
{
	struct reftable_log_expiry none = { 0 };
	int err = reftable_stack_compact_all(st, &none);

	if (err < 0)
		fprintf(stderr, "reftable-import: warning: compaction failed: "
			"%s (%s)\n", reftable_error_str(err),
			reftable_error_detail());
}

/* --- main --- */

static void usage(void)
{
	fprintf(stderr, "usage: reftable-import [--force] GITDIR OUTDIR\n");
	exit(1);
}

static void parse_args(int argc, char **argv)
{
	int i, npos = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			im.force = 1;
		else if (argv[i][0] == '-')
			usage();
		else if (npos == 0 && ++npos)
			im.gitdir = argv[i];
		else if (npos == 1 && ++npos)
			im.outdir = argv[i];
		else
			usage();
	}
	if (npos != 2)
		usage();
}

static void summary(void)
{
	printf("imported %zu refs (%zu symrefs, %zu tags peeled) and %zu "
	       "reflog entries of %zu reflogs into %s",
	       im.nrefs, im.nsymrefs, im.npeeled, im.new_logs, im.nreflogs,
	       im.outdir);
	if (im.nrefs || im.nlogs)
		printf(", update indexes %" PRIu64 "..%" PRIu64,
		       im.min_index, im.max_index);
	printf("\n");
	if (im.nempty)
		printf("%zu empty reflogs, each written as Git's "
		       "existence marker\n", im.nempty);
	if (im.old_refs || im.old_logs)
		printf("replaced %zu refs and %zu reflog entries of the "
		       "previous stack\n", im.old_refs, im.old_logs);
}

static void strlist_free(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static void cleanup(void)
{
	size_t i;

	for (i = 0; i < im.nrefs; i++) {
		free(im.refs[i].name);
		free(im.refs[i].target);
	}
	for (i = 0; i < im.nlogs; i++) {
		free(im.logs[i].name);
		free(im.logs[i].email);
		free(im.logs[i].message);
	}
	free(im.refs);
	free(im.logs);
	strlist_free(&im.log_names);
	strlist_free(&old_ref_names);
	strlist_free(&old_log_names);
	git_repository_free(im.repo);
	git_libgit2_shutdown();
}

int main(int argc, char **argv)
{
	struct reftable_stack *st;

	parse_args(argc, argv);
	git_libgit2_init();
	check_git(git_repository_open(&im.repo, im.gitdir), im.gitdir);
	read_refs();
	read_reflogs();
	st = open_stack();
	write_stack(st);
	if (im.old_refs || im.old_logs)
		compact(st);
	summary();
	reftable_stack_destroy(st);
	cleanup();
	return 0;
}
