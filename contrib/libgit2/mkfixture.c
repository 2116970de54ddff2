/*
 * mkfixture: build a files-backend Git repository with libgit2, the same
 * bytes for the same seed, to test the reftable importer on.
 *
 *   mkfixture SEED OUTDIR [--refs N] [--reflog-entries M]
 *
 * The repository holds a chain of commits, annotated tags (one of them a
 * tag of a tag, one three levels deep, one of a tree), lightweight tags
 * (one of a blob), branches in nested namespaces, symbolic refs (HEAD,
 * refs/remotes/origin/HEAD, a chain of two symrefs and a dangling one),
 * ORIG_HEAD, refs that live only in packed-refs, only as loose files or
 * in both (the loose file wins), reflogs with many entries (identities
 * with non-ASCII names, time zones east and west of UTC, a clock that
 * jumps back, an empty message and a non-ASCII one), the reflog of a
 * deleted branch and an empty reflog.
 *
 * N is the number of refs (at least the 19 every fixture has), M the
 * number of reflog entries in all.
 *
 * Every signature carries a fixed time, so nothing depends on the clock.
 * Refs are written without libgit2's automatic reflog (which would stamp
 * the current time); the reflogs are then written entry by entry.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <git2.h>

enum where { PACKED, LOOSE, BOTH };

struct fref {
	char *name;
	char *target;       /* symbolic refs only */
	git_oid value;      /* the value readers must see */
	git_oid old_value;  /* the packed value of a BOTH ref */
	enum where where;
	size_t nlog;        /* reflog entries to write */
};

struct fixture {
	git_repository *repo;
	uint64_t rng;
	uint64_t seed;
	int64_t base_time;
	size_t want_refs, want_logs;
	git_oid *commits;
	size_t ncommits;
	git_oid *pool_tags;
	size_t npool_tags;
	git_oid tip_tree, blob;
	struct fref *refs;
	size_t nrefs, refs_cap;
	size_t nloose, npacked;
	size_t bulk_loose;
};

#define MAX_BULK_LOOSE 2000

static struct fixture fx;

struct ident {
	const char *name, *email;
};

static const struct ident idents[] = {
	{ "A U Thor", "author@example.com" },
	{ "Zoë Ünïcode-Brontë", "zoe@example.org" },
	{ "C O Mitter", "committer@example.com" },
	{ "Ĳsbrand van 't Hoff", "ijsbrand@example.nl" },
	{ "山田 太郎", "taro@example.jp" },
};

/* Offsets in minutes, both signs, some not whole hours. */
static const int tz_minutes[] = { -330, 120, 345, -480, 0, 780, -600, 330,
				  -150, 60, -720, 840 };

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "mkfixture: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

/* Stop on a libgit2 failure, with libgit2's own explanation. */
static void check(int err, const char *what)
{
	const git_error *e;

	if (err >= 0)
		return;
	e = git_error_last();
	die("%s: %s", what, e && e->message ? e->message : "unknown error");
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		die("out of memory");
	return p;
}

static char *xstrfmt(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("out of memory");
	return s;
}

/* splitmix64: small, fast and the same on every platform. */
static uint64_t rnd(void)
{
	uint64_t z = (fx.rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static size_t rnd_below(size_t n)
{
	return n ? (size_t)(rnd() % n) : 0;
}

static git_signature *make_sig(size_t who, int64_t when, size_t tz)
{
	const struct ident *id = &idents[who % ARRAY_LEN(idents)];
	git_signature *sig;

	check(git_signature_new(&sig, id->name, id->email, when,
				tz_minutes[tz % ARRAY_LEN(tz_minutes)]),
	      "signature");
	return sig;
}

static size_t clamp(size_t v, size_t lo, size_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* --- objects --- */

static void make_tree(git_oid *tree_out, git_oid *blob_out, size_t i)
{
	git_treebuilder *bld;
	char *content = xstrfmt("seed %" PRIu64 ", commit %zu\n", fx.seed, i);

	check(git_blob_create_from_buffer(blob_out, fx.repo, content,
					  strlen(content)),
	      "blob");
	free(content);
	check(git_treebuilder_new(&bld, fx.repo, NULL), "treebuilder");
	check(git_treebuilder_insert(NULL, bld, "file.txt", blob_out,
				     GIT_FILEMODE_BLOB),
	      "tree entry");
	check(git_treebuilder_write(tree_out, bld), "tree");
	git_treebuilder_free(bld);
}

static char *commit_message(size_t i)
{
	if (i == 3)
		return xstrfmt("Zusammenführung: Grüße aus Köln — 日本語の説明\n\n"
			       "Body with UTF-8: naïve café, ½ ≠ ∞.\n");
	return xstrfmt("Commit %zu of seed %" PRIu64 "\n", i, fx.seed);
}

static void make_commit(size_t i)
{
	git_oid tree_oid, blob_oid;
	git_tree *tree;
	git_commit *parent = NULL;
	const git_commit *parents[1];
	int64_t when = fx.base_time + (int64_t)i * 97;
	git_signature *author = make_sig(rnd(), when, rnd());
	git_signature *committer = make_sig(rnd(), when + 30, rnd());
	char *msg = commit_message(i);

	make_tree(&tree_oid, &blob_oid, i);
	check(git_tree_lookup(&tree, fx.repo, &tree_oid), "tree lookup");
	if (i > 0)
		check(git_commit_lookup(&parent, fx.repo, &fx.commits[i - 1]),
		      "parent lookup");
	parents[0] = parent;
	check(git_commit_create(&fx.commits[i], fx.repo, NULL, author,
				committer, NULL, msg, tree, parent ? 1 : 0,
				parents),
	      "commit");
	fx.tip_tree = tree_oid;
	fx.blob = blob_oid;
	free(msg);
	git_commit_free(parent);
	git_tree_free(tree);
	git_signature_free(author);
	git_signature_free(committer);
}

/* An annotated tag object named name pointing at target. */
static void make_tag(git_oid *out, const char *name, const git_oid *target)
{
	git_object *obj;
	git_signature *tagger = make_sig(rnd(), fx.base_time + 500000 +
					 (int64_t)rnd_below(100000), rnd());
	char *msg = strcmp(name, "v1.0") == 0 ?
		xstrfmt("Version 1.0 — „Grüße“ 🎉\n") :
		xstrfmt("Tag %s\n", name);

	check(git_object_lookup(&obj, fx.repo, target, GIT_OBJECT_ANY),
	      "tag target lookup");
	check(git_tag_annotation_create(out, fx.repo, name, obj, tagger, msg),
	      "annotated tag");
	free(msg);
	git_object_free(obj);
	git_signature_free(tagger);
}

static void make_objects(void)
{
	size_t i;

	fx.ncommits = clamp(fx.want_refs / 50, 8, 2000);
	fx.commits = xcalloc(fx.ncommits, sizeof(*fx.commits));
	for (i = 0; i < fx.ncommits; i++)
		make_commit(i);
	fx.npool_tags = clamp(fx.want_refs / 100, 4, 1000);
	fx.pool_tags = xcalloc(fx.npool_tags, sizeof(*fx.pool_tags));
	for (i = 0; i < fx.npool_tags; i++) {
		char *name = xstrfmt("pool-%zu", i);

		make_tag(&fx.pool_tags[i], name,
			 &fx.commits[rnd_below(fx.ncommits)]);
		free(name);
	}
}

static const git_oid *commit_at(size_t i)
{
	return &fx.commits[i % fx.ncommits];
}

static const git_oid *any_commit(void)
{
	return &fx.commits[rnd_below(fx.ncommits)];
}

/* --- refs --- */

static struct fref *add_ref(const char *name, enum where where)
{
	struct fref *r;

	if (fx.nrefs == fx.refs_cap) {
		size_t cap = fx.refs_cap ? 2 * fx.refs_cap : 64;
		struct fref *n = realloc(fx.refs, cap * sizeof(*n));

		if (!n)
			die("out of memory");
		fx.refs = n;
		fx.refs_cap = cap;
	}
	r = &fx.refs[fx.nrefs++];
	memset(r, 0, sizeof(*r));
	r->name = xstrfmt("%s", name);
	r->where = where;
	return r;
}

static void add_direct(const char *name, enum where where, const git_oid *v,
		       const git_oid *old)
{
	struct fref *r = add_ref(name, where);

	r->value = *v;
	if (where == BOTH)
		r->old_value = *old;
}

static void add_symbolic(const char *name, const char *target)
{
	struct fref *r = add_ref(name, LOOSE);

	r->target = xstrfmt("%s", target);
}

/*
 * The refs every fixture has, whatever its size: each case the importer
 * must get right appears here at least once.
 */
static void add_special_refs(void)
{
	size_t c = fx.ncommits;
	git_oid v1, v1_signed, deep1, deep2, deep3, tree_tag, both_old,
		both_new;

	make_tag(&v1, "v1.0", commit_at(c - 1));
	make_tag(&v1_signed, "v1.0-signed-off", &v1);
	make_tag(&deep1, "deep-1", commit_at(1));
	make_tag(&deep2, "deep-2", &deep1);
	make_tag(&deep3, "deep", &deep2);
	make_tag(&tree_tag, "tree-tag", &fx.tip_tree);
	make_tag(&both_old, "both-annotated", commit_at(0));
	make_tag(&both_new, "both-annotated", commit_at(2));

	add_symbolic("HEAD", "refs/heads/main");
	add_direct("ORIG_HEAD", LOOSE, commit_at(c - 2), NULL);
	add_direct("refs/heads/main", LOOSE, commit_at(c - 1), NULL);
	add_direct("refs/heads/feature/nested/deep/topic", BOTH,
		   commit_at(c - 2), commit_at(c / 2));
	add_direct("refs/heads/packed-only/branch", PACKED, commit_at(1),
		   NULL);
	add_direct("refs/heads/zweig-grün", LOOSE, commit_at(2), NULL);
	add_symbolic("refs/heads/chain", "refs/remotes/origin/HEAD");
	add_direct("refs/remotes/origin/main", BOTH, commit_at(c - 1),
		   commit_at(c - 3));
	add_symbolic("refs/remotes/origin/HEAD", "refs/remotes/origin/main");
	add_symbolic("refs/remotes/upstream/HEAD",
		     "refs/remotes/upstream/gone");
	add_direct("refs/tags/v1.0", PACKED, &v1, NULL);
	add_direct("refs/tags/v1.0-light", PACKED, commit_at(c - 1), NULL);
	add_direct("refs/tags/v1.0-signed-off", LOOSE, &v1_signed, NULL);
	add_direct("refs/tags/deep", PACKED, &deep3, NULL);
	add_direct("refs/tags/tree-tag", LOOSE, &tree_tag, NULL);
	add_direct("refs/tags/blob-light", PACKED, &fx.blob, NULL);
	add_direct("refs/tags/both-annotated", BOTH, &both_new, &both_old);
	add_direct("refs/stash", LOOSE, commit_at(c - 4), NULL);
	add_direct("refs/notes/commits", PACKED, commit_at(0), NULL);
}

/*
 * Mostly packed, as in a repository that ran gc. Loose files are capped:
 * libgit2 checks each new loose ref against every packed one, so they
 * cost time in proportion to the packed refs.
 */
static enum where pick_where(void)
{
	size_t r = rnd_below(100);
	enum where w = r < 85 ? PACKED : r < 95 ? LOOSE : BOTH;

	if (w != PACKED && fx.bulk_loose >= MAX_BULK_LOOSE)
		return PACKED;
	fx.bulk_loose += w != PACKED;
	return w;
}

/*
 * The bulk: names unique by their number, and a leaf is never also a
 * directory, so no two refs conflict.
 */
static void add_bulk_ref(size_t i)
{
	size_t kind = rnd_below(100);
	enum where where = pick_where();
	const git_oid *v = any_commit(), *old = any_commit();
	char *name;

	if (kind < 50) {
		name = xstrfmt("refs/heads/team-%02zu/user-%03zu/topic-%06zu",
			       i % 17, i % 101, i);
	} else if (kind < 65) {
		name = xstrfmt("refs/remotes/origin/feature/f-%06zu", i);
	} else if (kind < 75) {
		name = xstrfmt("refs/tags/rel/v%zu.%zu.%06zu", i % 3, i % 7, i);
	} else if (kind < 85) {
		name = xstrfmt("refs/tags/ann/t-%06zu", i);
		v = &fx.pool_tags[rnd_below(fx.npool_tags)];
		old = &fx.pool_tags[rnd_below(fx.npool_tags)];
	} else if (kind < 95) {
		name = xstrfmt("refs/pull/%06zu/head", i);
	} else {
		name = xstrfmt("refs/notes/n-%06zu", i);
	}
	add_direct(name, where, v, old);
	free(name);
}

static int cmp_ref(const void *a, const void *b)
{
	return strcmp(((const struct fref *)a)->name,
		      ((const struct fref *)b)->name);
}

static void make_ref_list(void)
{
	size_t i, bulk;

	add_special_refs();
	bulk = fx.want_refs > fx.nrefs ? fx.want_refs - fx.nrefs : 0;
	for (i = 0; i < bulk; i++)
		add_bulk_ref(i);
	qsort(fx.refs, fx.nrefs, sizeof(*fx.refs), cmp_ref);
}

/* The fully peeled object of oid, or 0 if oid is not a tag. */
static int peel(const git_oid *oid, git_oid *peeled)
{
	git_object *obj, *target;

	check(git_object_lookup(&obj, fx.repo, oid, GIT_OBJECT_ANY),
	      "object lookup");
	if (git_object_type(obj) != GIT_OBJECT_TAG) {
		git_object_free(obj);
		return 0;
	}
	check(git_tag_peel(&target, (git_tag *)obj), "peel");
	git_oid_cpy(peeled, git_object_id(target));
	git_object_free(target);
	git_object_free(obj);
	return 1;
}

static void write_packed_line(FILE *f, const char *name, const git_oid *oid)
{
	char hex[GIT_OID_HEXSZ + 1];
	git_oid peeled;

	git_oid_tostr(hex, sizeof(hex), oid);
	fprintf(f, "%s %s\n", hex, name);
	if (peel(oid, &peeled)) {
		git_oid_tostr(hex, sizeof(hex), &peeled);
		fprintf(f, "^%s\n", hex);
	}
}

/*
 * packed-refs in the format Git writes: a header naming its traits, then
 * "OID NAME" lines sorted by name, each annotated tag followed by a line
 * "^PEELED" (fully peeled: a ref without one is not a tag).
 */
static void write_packed_refs(void)
{
	char *path = xstrfmt("%spacked-refs", git_repository_path(fx.repo));
	FILE *f = fopen(path, "w");
	size_t i;

	if (!f)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "# pack-refs with: peeled fully-peeled sorted \n");
	for (i = 0; i < fx.nrefs; i++) {
		struct fref *r = &fx.refs[i];

		if (r->target || r->where == LOOSE)
			continue;
		write_packed_line(f, r->name,
				  r->where == BOTH ? &r->old_value : &r->value);
		fx.npacked++;
	}
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
	free(path);
}

static void write_loose_refs(void)
{
	size_t i;

	for (i = 0; i < fx.nrefs; i++) {
		struct fref *r = &fx.refs[i];
		git_reference *ref;

		if (r->where == PACKED)
			continue;
		if (r->target)
			check(git_reference_symbolic_create(&ref, fx.repo,
							    r->name, r->target,
							    1, NULL),
			      r->name);
		else
			check(git_reference_create(&ref, fx.repo, r->name,
						   &r->value, 1, NULL),
			      r->name);
		git_reference_free(ref);
		fx.nloose++;
	}
}

/* --- reflogs --- */

struct logplan {
	const char *name;
	const git_oid *final; /* the ref's value; NULL: deleted branch */
	unsigned weight;
	size_t n;
};

static const git_oid *value_of(const char *name)
{
	size_t i;

	for (i = 0; i < fx.nrefs; i++)
		if (!strcmp(fx.refs[i].name, name))
			return &fx.refs[i].value;
	die("no ref %s", name);
	return NULL;
}

static char *log_message(const struct logplan *p, size_t j)
{
	static const char *const verbs[] = {
		"commit: Fix the frobnicator",
		"reset: moving to HEAD~1",
		"merge topic: Fast-forward",
		"pull: Fast-forward",
		"rebase (finish): returning to %s",
		"checkout: moving from main to %s",
		"commit (amend): Tidy up",
	};
	const char *v = verbs[rnd_below(ARRAY_LEN(verbs))];

	if (j == 0)
		return xstrfmt("branch: Created from HEAD");
	if (j == 2)
		return xstrfmt("commit: Grüße aus Köln — 日本語 ✓");
	if (j == 3 && !strcmp(p->name, "refs/stash"))
		return NULL; /* an entry without a message */
	if (strstr(v, "%s"))
		return xstrfmt(v, p->name);
	return xstrfmt("%s (%zu)", v, j);
}

/*
 * Write n entries, oldest first. Times mostly rise, sometimes stay equal,
 * and in the main branch's log jump back once, as a skewed clock does.
 */
static void write_reflog(const struct logplan *p)
{
	git_reflog *log;
	int64_t when = fx.base_time + 1000000 + (int64_t)rnd_below(3600);
	size_t j;

	check(git_reflog_read(&log, fx.repo, p->name), p->name);
	for (j = 0; j < p->n; j++) {
		const git_oid *id = j + 1 == p->n && p->final ? p->final :
			any_commit();
		git_signature *sig;
		char *msg = log_message(p, j);

		if (j == p->n / 2 && p->n >= 4 &&
		    !strcmp(p->name, "refs/heads/main"))
			when -= 5000;
		sig = make_sig(rnd(), when, rnd());
		check(git_reflog_append(log, id, sig, msg), p->name);
		git_signature_free(sig);
		free(msg);
		when += (int64_t)rnd_below(400);
	}
	check(git_reflog_write(log), p->name);
	git_reflog_free(log);
}

/*
 * Share want_logs among the plans: one each while they last, the rest by
 * weight, and what rounding leaves over round-robin from the first.
 */
static void share_entries(struct logplan *plans, size_t n)
{
	size_t i, total = 0, given = 0, rest;

	for (i = 0; i < n; i++) {
		total += plans[i].weight;
		plans[i].n = i < fx.want_logs;
		given += plans[i].n;
	}
	rest = fx.want_logs - given;
	for (i = 0; i < n; i++) {
		size_t share = rest * plans[i].weight / total;

		plans[i].n += share;
		given += share;
	}
	for (i = 0; given < fx.want_logs; i = (i + 1) % n, given++)
		plans[i].n++;
}

static size_t plan_logs(struct logplan *plans, size_t cap)
{
	static const char *const special[] = {
		"HEAD", "refs/heads/main", "refs/heads/feature/nested/deep/topic",
		"refs/remotes/origin/main", "refs/stash", "refs/heads/zweig-grün",
	};
	size_t n = 0, i;

	for (i = 0; i < ARRAY_LEN(special); i++) {
		plans[n].name = special[i];
		plans[n].final = value_of(i ? special[i] : "refs/heads/main");
		plans[n].weight = i == 0 ? 6 : i == 1 ? 4 : 1;
		n++;
	}
	plans[n].name = "refs/heads/deleted/old-topic";
	plans[n].final = NULL;
	plans[n].weight = 1;
	n++;
	for (i = 0; i < fx.nrefs && n < cap; i++) {
		if (strncmp(fx.refs[i].name, "refs/heads/team-", 16))
			continue;
		plans[n].name = fx.refs[i].name;
		plans[n].final = &fx.refs[i].value;
		plans[n].weight = 1;
		n++;
	}
	return n;
}

static size_t write_reflogs(void)
{
	struct logplan plans[48];
	size_t n = plan_logs(plans, ARRAY_LEN(plans)), i, written = 0;

	share_entries(plans, n);
	for (i = 0; i < n; i++) {
		if (!plans[i].n)
			continue;
		write_reflog(&plans[i]);
		written++;
	}
	/* a reflog that exists without entries */
	check(git_reference_ensure_log(fx.repo, "refs/tags/v1.0"),
	      "empty reflog");
	return written + 1;
}

/* --- setup --- */

static void open_repo(const char *dir)
{
	git_repository_free(fx.repo);
	fx.repo = NULL;
	check(git_repository_open(&fx.repo, dir), dir);
}

/* A new repository whose ref updates write no reflog by themselves. */
static void init_repo(const char *dir)
{
	git_config *cfg;

	check(git_repository_init(&fx.repo, dir, 0), dir);
	check(git_repository_config(&cfg, fx.repo), "config");
	check(git_config_set_bool(cfg, "core.logAllRefUpdates", 0), "config");
	check(git_config_set_string(cfg, "user.name", idents[0].name),
	      "config");
	check(git_config_set_string(cfg, "user.email", idents[0].email),
	      "config");
	git_config_free(cfg);
	/* reopen so no cached setting from before the change survives */
	open_repo(dir);
}

static void usage(void)
{
	fprintf(stderr, "usage: mkfixture SEED OUTDIR [--refs N] "
			"[--reflog-entries M]\n");
	exit(1);
}

static size_t parse_count(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || !*s || *end || s[0] == '-')
		usage();
	return (size_t)v;
}

static void parse_args(int argc, char **argv, const char **dir)
{
	int i, npos = 0;

	fx.want_refs = 50;
	fx.want_logs = 200;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--refs") && i + 1 < argc)
			fx.want_refs = parse_count(argv[++i]);
		else if (!strcmp(argv[i], "--reflog-entries") && i + 1 < argc)
			fx.want_logs = parse_count(argv[++i]);
		else if (argv[i][0] == '-' && argv[i][1])
			usage();
		else if (npos == 0 && ++npos)
			fx.seed = parse_count(argv[i]);
		else if (npos == 1 && ++npos)
			*dir = argv[i];
		else
			usage();
	}
	if (npos != 2)
		usage();
}

static void refuse_existing(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == 0 || errno != ENOENT)
		die("%s already exists; give a new directory", dir);
}

static void cleanup(void)
{
	size_t i;

	for (i = 0; i < fx.nrefs; i++) {
		free(fx.refs[i].name);
		free(fx.refs[i].target);
	}
	free(fx.refs);
	free(fx.commits);
	free(fx.pool_tags);
	git_repository_free(fx.repo);
	git_libgit2_shutdown();
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	size_t nlogs;

	parse_args(argc, argv, &dir);
	refuse_existing(dir);
	git_libgit2_init();
	fx.rng = fx.seed;
	/* a fixed epoch per seed, so times differ between fixtures */
	fx.base_time = 1500000000 + (int64_t)(fx.seed % 100000) * 3600;
	init_repo(dir);
	make_objects();
	make_ref_list();
	write_packed_refs();
	open_repo(dir); /* read the packed-refs just written */
	write_loose_refs();
	nlogs = write_reflogs();
	printf("%s: %zu refs (%zu loose files, %zu packed), %zu commits, "
	       "%zu reflog entries in %zu reflogs\n",
	       dir, fx.nrefs, fx.nloose, fx.npacked, fx.ncommits,
	       fx.want_logs, nlogs);
	cleanup();
	return 0;
}
