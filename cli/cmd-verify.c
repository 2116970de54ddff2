/*
 * reftable verify: check every table of a stack (or one table) byte by
 * byte with the independent walker in blocks.c, read everything back
 * through the library, and check the stack as a whole.
 */

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blocks.h"
#include "cli.h"

static const struct cmd_help verify_help = {
	"verify [--json] [-q] [PATH]",
	"Check a stack (or one .ref file) thoroughly and report every problem\n"
	"found, each with its file and, inside a table, the byte offset.\n"
	"\n"
	"For each table: header and footer (magic, version, hash, CRC-32,\n"
	"section positions), every block (type, length, padding, restart\n"
	"points, inflation of log blocks), every record (key order within and\n"
	"across blocks, value types, update indexes inside the table's range),\n"
	"every index (each entry names the last key of its block; each block\n"
	"indexed once) and the object index (exactly the ref blocks that hold\n"
	"each object id). Then the library must read every record back.\n"
	"\n"
	"For the stack: tables.list names only tables that exist, once; their\n"
	"update-index ranges increase and do not overlap; names agree with\n"
	"headers; all use one hash; the merged view reads.\n"
	"\n"
	"Locks, and what a killed writer leaves, are notes, not problems: an\n"
	"unlisted table no newer than the stack, or newer ones that one\n"
	"unfinished addition explains (a chain of tables from the stack's\n"
	"next update index on, without gaps). Other unlisted tables newer\n"
	"than the stack are a problem: tables.list has likely lost lines.\n"
	"Files FUSE or NFS keep for an open descriptor (.fuse_hidden*,\n"
	".nfs*) are notes too.\n"
	"\n"
	"Exit code 0 if nothing is wrong, 2 if any problem was found.",
};

struct item {
	char *file;
	uint64_t offset; /* UINT64_MAX: not inside a table */
	char *msg;
};

struct verify {
	const struct cli *cli;
	int json, quiet, progress;
	struct item *items, *notes;
	size_t nitems, items_cap, nnotes, notes_cap;
	unsigned long problems;
};

static void add_item(struct item **arr, size_t *n, size_t *cap,
		     const char *file, uint64_t off, const char *msg)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		*arr = xrealloc(*arr, *cap * sizeof(**arr));
	}
	(*arr)[*n].file = xstrdup(file);
	(*arr)[*n].offset = off;
	(*arr)[*n].msg = xstrdup(msg);
	(*n)++;
}

static void clear_progress(struct verify *v)
{
	if (v->progress) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
}

static void print_item(const struct item *it, const char *kind)
{
	if (it->offset == UINT64_MAX)
		printf("%s: %s: %s\n", kind, it->file, it->msg);
	else
		printf("%s: %s: offset %" PRIu64 ": %s\n", kind, it->file,
		       it->offset, it->msg);
}

static void on_problem(void *arg, const char *file, uint64_t off,
		       const char *msg)
{
	struct verify *v = arg;
	v->problems++;
	add_item(&v->items, &v->nitems, &v->items_cap, file, off, msg);
	if (!v->json) {
		clear_progress(v);
		print_item(&v->items[v->nitems - 1], "problem");
	}
}

static void vproblem(struct verify *v, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void vproblem(struct verify *v, const char *file, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	on_problem(v, file, UINT64_MAX, msg);
}

static void vnote(struct verify *v, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void vnote(struct verify *v, const char *file, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	add_item(&v->notes, &v->nnotes, &v->notes_cap, file, UINT64_MAX, msg);
	if (!v->json && !v->quiet) {
		clear_progress(v);
		print_item(&v->notes[v->nnotes - 1], "note");
	}
}

/* Read every record through the library: what a real reader would do. */
static void library_read(struct verify *v, const char *path)
{
	struct reftable_table *t = NULL;
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record ref = { 0 };
	struct reftable_log_record log = { 0 };
	int err = reftable_table_open(&t, path);

	if (err < 0) {
		vproblem(v, path, "the library cannot open it: %s (%s)",
			 reftable_error_str(err), reftable_error_detail());
		return;
	}
	err = reftable_table_init_ref_iterator(t, &it);
	if (!err)
		err = reftable_iterator_seek_ref(&it, "");
	while (!err && !(err = reftable_iterator_next_ref(&it, &ref)))
		;
	reftable_iterator_destroy(&it);
	if (err >= 0) {
		err = reftable_table_init_log_iterator(t, &it);
		if (!err)
			err = reftable_iterator_seek_log(&it, "");
		while (!err && !(err = reftable_iterator_next_log(&it, &log)))
			;
		reftable_iterator_destroy(&it);
	}
	if (err < 0)
		vproblem(v, path, "the library cannot read it: %s (%s)",
			 reftable_error_str(err), reftable_error_detail());
	reftable_ref_record_release(&ref);
	reftable_log_record_release(&log);
	reftable_table_decref(t);
}

/* What a table looked like, for the stack-level checks. */
struct table_info {
	char *name;
	int present, readable;
	uint64_t min_ui, max_ui;
	size_t hash_size;
};

static void verify_table(struct verify *v, const char *path,
			 struct table_info *ti)
{
	struct problems p = { on_problem, v, 0 };
	struct tfile f;
	unsigned long before = v->problems;

	if (tfile_open(&f, v->cli, path, &p)) {
		/* tfile_open printed why; count it as a problem too */
		vproblem(v, path, "cannot read the file");
		tfile_release(&f);
		return;
	}
	if (ti) {
		ti->present = 1;
		ti->readable = f.header_ok;
		ti->min_ui = f.min_ui;
		ti->max_ui = f.max_ui;
		ti->hash_size = f.hash_size;
	}
	tfile_walk(&f, &p);
	tfile_release(&f);
	/* Only ask the library when our own walk found nothing: a second
	 * message about a damage already pinpointed adds nothing. */
	if (v->problems == before)
		library_read(v, path);
}

static void progress(struct verify *v, size_t i, size_t n, const char *name)
{
	if (!v->progress)
		return;
	fprintf(stderr, "\r\033[Kverifying table %zu/%zu %s", i + 1, n, name);
	fflush(stderr);
}

/* Git names tables 0x<min>-0x<max>-<random>.ref; other names are fine. */
static int name_range(const char *name, uint64_t *min, uint64_t *max)
{
	unsigned long long a, b;
	unsigned r;
	int n = 0;
	if (sscanf(name, "0x%12llx-0x%12llx-%8x.ref%n", &a, &b, &r, &n) != 3 ||
	    (size_t)n != strlen(name))
		return -1;
	*min = a;
	*max = b;
	return 0;
}

static int is_listed(const struct strlist *names, const char *name)
{
	for (size_t i = 0; i < names->n; i++)
		if (!strcmp(names->items[i], name))
			return 1;
	return 0;
}

static int file_exists(const char *dir, const char *name)
{
	char *p = path_join(dir, name);
	struct stat st;
	int ok = !lstat(p, &st);
	free(p);
	return ok;
}

/* Seconds since a file last changed, or -1. */
static long long age_of(const char *dir, const char *name)
{
	char *p = path_join(dir, name);
	struct stat st;
	long long age = -1;
	if (!stat(p, &st))
		age = (long long)(time(NULL) - st.st_mtime);
	free(p);
	return age;
}

/* An unlisted table and the update indexes it holds. */
struct unlisted {
	char *name;
	uint64_t min, max;
};

static int unlisted_cmp(const void *a, const void *b)
{
	const struct unlisted *x = a, *y = b;
	if (x->min != y->min)
		return x->min < y->min ? -1 : 1;
	return x->max < y->max ? -1 : x->max > y->max;
}

/* The range from the name Git gives a table, else from its header. */
static int table_range(const char *dir, const char *name, uint64_t *min,
		       uint64_t *max)
{
	struct reftable_table *t = NULL;
	char *path;
	int err;

	if (!name_range(name, min, max))
		return 0;
	path = path_join(dir, name);
	err = reftable_table_open(&t, path);
	free(path);
	if (err < 0)
		return -1;
	*min = reftable_table_min_update_index(t);
	*max = reftable_table_max_update_index(t);
	reftable_table_decref(t);
	return 0;
}

/*
 * FUSE and NFS keep a removed or replaced file that a process still has
 * open under such a name until it is closed.
 */
static int is_kept_open_name(const char *name)
{
	return !strncmp(name, ".fuse_hidden", 12) || !strncmp(name, ".nfs", 4);
}

/*
 * Whether the unlisted tables beyond the newest listed update index
 * (sorted) can be what one addition leaves when its writer stops after
 * renaming its tables into place and before listing them: one gapless
 * chain from newest + 1 (each reftable_addition_add takes the next
 * index; the first table may reach back below newest + 1 when the
 * addition was merged with listed tables). A gap, or a second chain,
 * cannot come from one addition; nor can several tables in front of an
 * empty list, which is what a truncated tables.list leaves. Then the
 * list itself has most likely lost lines.
 */
static int one_addition(const struct unlisted *u, size_t n, uint64_t newest,
			int list_empty)
{
	if (!n)
		return 1;
	if ((list_empty && n > 1) || u[0].min > newest + 1)
		return 0;
	for (size_t i = 1; i < n; i++)
		if (u[i].min != u[i - 1].max + 1)
			return 0;
	return 1;
}

/* Note what the directory holds besides listed tables; collect the
 * unlisted tables into *u. */
static void scan_dir(struct verify *v, const char *dir,
		     const struct strlist *names, struct unlisted **u,
		     size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;

	if (!d) {
		vproblem(v, dir, "cannot list the directory: %s",
			 strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		size_t len = strlen(name);
		uint64_t min, max;

		if (is_kept_open_name(name)) {
			vnote(v, dir, "%s is a file the filesystem keeps while "
				      "a process still has it open (removed "
				      "or replaced); it goes when closed",
			      name);
		} else if (len > 5 && !strcmp(name + len - 5, ".lock")) {
			vnote(v, dir, "lock %s present (changed %lld s ago); "
				      "`reftable unlock` removes it if stale",
			      name, age_of(dir, name));
		} else if (len < 4 || strcmp(name + len - 4, ".ref") ||
			   is_listed(names, name)) {
			continue;
		} else if (table_range(dir, name, &min, &max)) {
			vproblem(v, dir, "unlisted table %s cannot be read",
				 name);
		} else {
			if (*n == cap) {
				cap = cap ? 2 * cap : 8;
				*u = xrealloc(*u, cap * sizeof(**u));
			}
			(*u)[*n].name = xstrdup(name);
			(*u)[*n].min = min;
			(*u)[*n].max = max;
			(*n)++;
		}
	}
	closedir(d);
}

/* Tables with max <= newest first, then the newer ones; each part keeps
 * its order. Returns how many are newer. */
static size_t split_newer(struct unlisted *u, size_t n, uint64_t newest)
{
	struct unlisted *tmp = xmalloc(n * sizeof(*tmp));
	size_t k = 0;

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++)
			if ((u[i].max > newest) == pass)
				tmp[k++] = u[i];
	memcpy(u, tmp, n * sizeof(*u));
	free(tmp);
	for (k = 0; k < n && u[k].max <= newest; k++)
		;
	return n - k;
}

static void note_unlisted(struct verify *v, const char *dir,
			  const struct unlisted *u, int newer, int damaged)
{
	if (!newer)
		vnote(v, dir, "unlisted table %s (update index %" PRIu64
			      "-%" PRIu64 ") is left over by a writer or "
			      "compaction that stopped; `reftable clean` "
			      "removes it",
		      u->name, u->min, u->max);
	else if (damaged)
		vnote(v, dir, "unlisted table %s holds update index %" PRIu64
			      "-%" PRIu64,
		      u->name, u->min, u->max);
	else
		vnote(v, dir, "unlisted table %s (update index %" PRIu64
			      "-%" PRIu64 ") is from an addition that did not "
			      "finish (or is being written); clean removes "
			      "it once a later addition covers its update "
			      "index",
		      u->name, u->min, u->max);
}

/*
 * Unlisted tables no newer than the stack are harmless leftovers; newer
 * ones are too if one unfinished addition explains them, else the list
 * has likely lost lines (see one_addition).
 */
static void check_unlisted(struct verify *v, const char *dir,
			   const struct strlist *names, uint64_t newest)
{
	struct unlisted *u = NULL;
	size_t n = 0, nb;
	uint64_t top = newest;
	int damaged;

	scan_dir(v, dir, names, &u, &n);
	if (!n)
		return;
	qsort(u, n, sizeof(*u), unlisted_cmp);
	nb = split_newer(u, n, newest);
	for (size_t i = n - nb; i < n; i++)
		top = u[i].max > top ? u[i].max : top;
	damaged = !one_addition(u + n - nb, nb, newest, !names->n);
	if (damaged)
		vproblem(v, dir, "tables.list may be damaged: %zu unlisted "
				 "table(s) hold newer data than the listed "
				 "ones (update indexes up to %" PRIu64 ", the "
				 "list's newest is %" PRIu64 "), which no "
				 "single unfinished addition leaves; run "
				 "`reftable relist -n`, then `reftable "
				 "relist`, before the next update: after it, "
				 "clean would remove them",
			 nb, top, newest);
	for (size_t i = 0; i < n; i++) {
		note_unlisted(v, dir, &u[i], i >= n - nb, damaged);
		free(u[i].name);
	}
	free(u);
}

static void check_merged(struct verify *v, const char *dir,
			 enum reftable_hash hash)
{
	struct reftable_stack_options opts;
	struct reftable_stack *st = NULL;
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record ref = { 0 };
	struct reftable_log_record log = { 0 };
	int err;

	reftable_stack_options_init(&opts);
	opts.write.hash_id = hash;
	err = reftable_stack_new(&st, dir, &opts);
	if (!err)
		err = reftable_stack_init_ref_iterator(st, &it);
	if (!err)
		err = reftable_iterator_seek_ref(&it, "");
	while (!err && !(err = reftable_iterator_next_ref(&it, &ref)))
		;
	reftable_iterator_destroy(&it);
	if (err >= 0 && st) {
		err = reftable_stack_init_log_iterator(st, &it);
		if (!err)
			err = reftable_iterator_seek_log(&it, "");
		while (!err && !(err = reftable_iterator_next_log(&it, &log)))
			;
		reftable_iterator_destroy(&it);
	}
	if (err < 0)
		vproblem(v, dir, "the library cannot read the merged stack: "
				 "%s (%s)",
			 reftable_error_str(err), reftable_error_detail());
	reftable_ref_record_release(&ref);
	reftable_log_record_release(&log);
	if (st)
		reftable_stack_destroy(st);
}

static void check_ranges(struct verify *v, const char *dir,
			 struct table_info *ti, size_t n)
{
	const struct table_info *prev = NULL;

	for (size_t i = 0; i < n; i++) {
		uint64_t min, max;
		if (!ti[i].readable)
			continue;
		if (!name_range(ti[i].name, &min, &max) &&
		    (min != ti[i].min_ui || max != ti[i].max_ui))
			vproblem(v, dir, "table %s: its header says update "
					 "index %" PRIu64 "-%" PRIu64,
				 ti[i].name, ti[i].min_ui, ti[i].max_ui);
		if (prev && ti[i].min_ui <= prev->max_ui)
			vproblem(v, dir, "table %s (update index %" PRIu64
					 "-%" PRIu64 ") overlaps or precedes "
					 "%s (%" PRIu64 "-%" PRIu64 ")",
				 ti[i].name, ti[i].min_ui, ti[i].max_ui,
				 prev->name, prev->min_ui, prev->max_ui);
		if (prev && ti[i].hash_size != prev->hash_size)
			vproblem(v, dir, "table %s uses %s, %s uses %s",
				 ti[i].name, hash_name(ti[i].hash_size),
				 prev->name, hash_name(prev->hash_size));
		prev = &ti[i];
	}
}

static void verify_stack(struct verify *v, const char *dir)
{
	struct strlist names = { 0 };
	struct table_info *ti;
	uint64_t stack_max = 0;
	int err = read_tables_list(v->cli, dir, &names);

	if (err < 0) {
		vproblem(v, dir, "cannot read tables.list");
		strlist_release_owned(&names);
		return;
	}
	ti = xmalloc((names.n ? names.n : 1) * sizeof(*ti));
	memset(ti, 0, (names.n ? names.n : 1) * sizeof(*ti));
	for (size_t i = 0; i < names.n; i++) {
		char *path = path_join(dir, names.items[i]);
		ti[i].name = (char *)names.items[i];
		progress(v, i, names.n, names.items[i]);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(names.items[j], names.items[i]))
				vproblem(v, dir, "tables.list names %s twice",
					 names.items[i]);
		if (!file_exists(dir, names.items[i]))
			vproblem(v, dir, "listed table %s is missing",
				 names.items[i]);
		else
			verify_table(v, path, &ti[i]);
		free(path);
		if (ti[i].readable && ti[i].max_ui > stack_max)
			stack_max = ti[i].max_ui;
	}
	clear_progress(v);
	check_ranges(v, dir, ti, names.n);
	check_unlisted(v, dir, &names, stack_max);
	if (!v->problems) {
		enum reftable_hash h = names.n && ti[0].hash_size == 32
					       ? REFTABLE_HASH_SHA256
					       : REFTABLE_HASH_SHA1;
		check_merged(v, dir, h);
	}
	free(ti);
	strlist_release_owned(&names);
}

static void print_json(struct verify *v, const char *path, size_t tables)
{
	struct sbuf o = SBUF_INIT;

	sbuf_addstr(&o, "{\"path\": ");
	json_str(&o, path);
	sbuf_addf(&o, ", \"ok\": %s, \"tables\": %zu, \"problems\": [",
		  v->problems ? "false" : "true", tables);
	for (int pass = 0; pass < 2; pass++) {
		struct item *arr = pass ? v->notes : v->items;
		size_t n = pass ? v->nnotes : v->nitems;
		if (pass)
			sbuf_addstr(&o, "], \"notes\": [");
		for (size_t i = 0; i < n; i++) {
			sbuf_addstr(&o, i ? ",\n  {\"file\": " : "\n  {\"file\": ");
			json_str(&o, arr[i].file);
			if (arr[i].offset != UINT64_MAX)
				sbuf_addf(&o, ", \"offset\": %" PRIu64,
					  arr[i].offset);
			sbuf_addstr(&o, ", \"message\": ");
			json_str(&o, arr[i].msg);
			sbuf_addch(&o, '}');
		}
	}
	sbuf_addstr(&o, "]}\n");
	fwrite(o.buf, 1, o.len, stdout);
	sbuf_release(&o);
}

static void free_items(struct item *arr, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(arr[i].file);
		free(arr[i].msg);
	}
	free(arr);
}

int cmd_verify(struct cli *cli, int argc, char **argv)
{
	struct verify v = { 0 };
	struct strlist args = { 0 };
	char *stack_dir = NULL;
	const char *path;
	int code = 0, kind;
	size_t tables = 0;
	const struct opt opts[] = {
		{ "json", 0, OPT_FLAG, &v.json, NULL,
		  "print the result as one JSON object" },
		{ "quiet", 'q', OPT_FLAG, &v.quiet, NULL,
		  "print problems only, no notes or summary" },
		{ 0 },
	};

	v.cli = cli;
	if (parse_options(cli, argc, argv, opts, &verify_help, &args, &code))
		goto out;
	if (args.n > 1) {
		code = cli_usage_error(cli, "wants at most one PATH");
		goto out;
	}
	if (args.n) {
		path = args.items[0];
	} else {
		if ((code = find_stack(cli, &stack_dir, NULL)))
			goto out;
		path = stack_dir;
	}
	/* A progress line only for a person watching a terminal. */
	v.progress = !v.json && !v.quiet && isatty(STDERR_FILENO);
	kind = path_is_dir(path);
	if (kind < 0) {
		code = cli_error(cli, EXIT_DATA, "%s: %s", path,
				 strerror(errno));
		goto out;
	}
	if (kind) {
		struct strlist names = { 0 };
		if (read_tables_list(cli, path, &names) >= 0)
			tables = names.n;
		strlist_release_owned(&names);
		verify_stack(&v, path);
	} else {
		tables = 1;
		verify_table(&v, path, NULL);
	}
	if (v.json)
		print_json(&v, path, tables);
	else if (!v.quiet && !v.problems)
		printf("ok: %s: %zu table%s, no problems\n", path, tables,
		       tables == 1 ? "" : "s");
	else if (!v.quiet)
		printf("%lu problem%s: %s\n", v.problems,
		       v.problems == 1 ? "" : "s", path);
	code = cli_finish_output(cli, v.problems ? EXIT_DATA : 0);
out:
	free_items(v.items, v.nitems);
	free_items(v.notes, v.nnotes);
	free(stack_dir);
	strlist_release(&args);
	return code;
}
