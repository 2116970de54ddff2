/*
 * reftable list: the refs of a stack, like git for-each-ref: Git's
 * patterns (a prefix up to a slash, or a glob where ** crosses slashes),
 * Git's --format (ref-format.c), --sort=refname, --count, --exclude,
 * --ignore-case and --points-at with full ids; the options that need
 * objects are refused with a message that says so.
 */

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gitconfig.h"
#include "ref-format.h"
#include "reftable-refdb.h"

static const struct cmd_help list_help = {
	"list [--format=FMT | --json] [--sort=[-]refname] [--count=N]\n"
	"     [--exclude=PATTERN] [--ignore-case] [--points-at=ID] "
	"[PATTERN...]",
	"List the refs of the stack's merged view in name order, like\n"
	"git for-each-ref (HEAD and other top-level refs included). A\n"
	"PATTERN matches a name that begins with it up to a slash\n"
	"(refs/heads matches refs/heads/main, not refs/headsx), or as a glob\n"
	"in which * and ? stop at a slash and ** as a whole component\n"
	"crosses them (refs/**/v* matches refs/tags/v1), as in Git.\n"
	"\n"
	"The default output is 'OBJECTID REFNAME', with ' -> TARGET' after a\n"
	"symbolic ref (whose id is that of the ref it leads to). --format\n"
	"takes git for-each-ref's placeholders that need no objects:\n"
	"  %(refname) %(symref)   the name; of a symbolic ref, the name at the\n"
	"                         end of its chain; :short, :lstrip=N,\n"
	"                         :rstrip=N (N < 0 keeps -N components)\n"
	"  %(objectname)          the id it resolves to; :short, :short=N\n"
	"                         (the first N digits, 7 by default or\n"
	"                         core.abbrev: the tool cannot check that\n"
	"                         they are unique among objects)\n"
	"  %(HEAD)                * for the ref HEAD resolves to, else a space\n"
	"  %(if)..%(then)..%(else)..%(end), %(if:equals=S), %(if:notequals=S)\n"
	"  %(align:WIDTH[,left|middle|right])..%(end)\n"
	"  %%, %xx                a percent sign; the byte with hex code xx\n"
	"and the tool's own:\n"
	"  %(peeled)              the peeled id of an annotated tag (also\n"
	"                         %(*objectname))\n"
	"  %(updateindex)         the update index of its last change\n"
	"  %(type)                val1, val2 (annotated tag) or symref\n"
	"  %(record)              the record in `dump --records` form\n"
	"A symbolic ref whose target is missing is listed (Git skips it),\n"
	"with an empty %(objectname).\n"
	"\n"
	"--sort takes refname or -refname (other keys need objects);\n"
	"--points-at a full object id: refs at it, or annotated tags\n"
	"peeling to it. --contains, --no-contains, --merged and --no-merged\n"
	"need the object database and are refused.",
};

struct list_opts {
	const char *format, *count_arg;
	int json, icase;
	uint64_t count;
	int reverse;
	struct strlist pats, excludes, sorts, points_at;
	const char *contains, *no_contains, *merged, *no_merged;
	uint8_t (*points)[REFTABLE_HASH_SIZE_MAX];
};

/* Git's match of a ref name against for-each-ref patterns. */
static int pattern_matches(const char *pat, const char *name, int icase)
{
	size_t n = strlen(pat);

	if (!strncmp(name, pat, n) &&
	    (!name[n] || name[n] == '/' || (n && pat[n - 1] == '/')))
		return 1;
	return wildmatch_path(pat, name, icase);
}

static int matches_any(const struct strlist *pats, const char *name,
		       int icase, int if_none)
{
	if (!pats->n)
		return if_none;
	for (size_t i = 0; i < pats->n; i++)
		if (pattern_matches(pats->items[i], name, icase))
			return 1;
	return 0;
}

/* ---- reading the refs ---- */

struct lister {
	struct reftable_refdb *db;
	size_t hash_size;
	char *head;        /* the ref HEAD resolves to, or NULL */
	int strict_short;  /* core.warnAmbiguousRefs */
	unsigned abbrev;
};

/* Does name resolve to an object id (a dangling symref does not)? */
static int ref_exists(struct reftable_refdb *db, const char *name)
{
	struct reftable_ref_record r = { 0 };
	int ok = !reftable_refdb_resolve(db, name, &r);

	reftable_ref_record_release(&r);
	return ok;
}

/*
 * Git's rules, tried from the last: the short name a rule gives is kept
 * if no other rule (with core.warnAmbiguousRefs, the default), or no
 * earlier one, turns it into an existing ref.
 */
static char *shorten(void *arg, const char *name)
{
	static const char *const rules[][2] = {
		{ "", "" }, { "refs/", "" }, { "refs/tags/", "" },
		{ "refs/heads/", "" }, { "refs/remotes/", "" },
		{ "refs/remotes/", "/HEAD" },
	};
	const size_t n_rules = sizeof(rules) / sizeof(*rules);
	struct lister *l = arg;
	size_t len = strlen(name);

	for (size_t i = n_rules - 1; i > 0; i--) {
		size_t pre = strlen(rules[i][0]), suf = strlen(rules[i][1]);
		size_t j, limit = l->strict_short ? n_rules : i;
		char *s;
		if (len <= pre + suf || strncmp(name, rules[i][0], pre) ||
		    strcmp(name + len - suf, rules[i][1]))
			continue;
		s = xstrndup(name + pre, len - pre - suf);
		for (j = 0; j < limit; j++) {
			struct sbuf full = SBUF_INIT;
			int taken;
			if (j == i)
				continue;
			sbuf_addf(&full, "%s%s%s", rules[j][0], s, rules[j][1]);
			taken = ref_exists(l->db, full.buf);
			sbuf_release(&full);
			if (taken)
				break;
		}
		if (j == limit)
			return s;
		free(s);
	}
	return xstrdup(name);
}

/* The settings of Git's configuration that list uses. */
static void read_settings(struct lister *l, const struct git_config *cfg)
{
	const char *abbrev = cfg ? git_config_get(cfg, "core.abbrev") : NULL;
	int b = 1;
	int64_t n;

	l->strict_short = 1;
	if (cfg && !git_config_get_bool(cfg, "core.warnAmbiguousRefs", &b))
		l->strict_short = b;
	l->abbrev = 7; /* Git's least automatic length */
	if (!abbrev)
		return;
	if (!git_config_get_int64(cfg, "core.abbrev", 64, &n) && n >= 4)
		l->abbrev = (unsigned)n;
	else if (!git_config_get_bool(cfg, "core.abbrev", &b) && !b)
		l->abbrev = (unsigned)(2 * l->hash_size);
}

static char *head_target(struct reftable_refdb *db)
{
	struct reftable_ref_record r = { 0 };
	char *name = NULL;

	if (!reftable_refdb_resolve(db, "HEAD", &r))
		name = xstrdup(r.refname);
	reftable_ref_record_release(&r);
	return name;
}

/* ---- output ---- */

static void add_hex(struct sbuf *out, const uint8_t *oid, size_t hash_size)
{
	char hex[2 * REFTABLE_HASH_SIZE_MAX + 1];

	hex_encode(hex, oid, hash_size);
	sbuf_addstr(out, hex);
}

static const char *type_name(enum reftable_ref_value_type t)
{
	return t == REFTABLE_REF_VAL1     ? "val1"
	       : t == REFTABLE_REF_VAL2   ? "val2"
	       : t == REFTABLE_REF_SYMREF ? "symref"
					  : "deletion";
}

static void list_json(struct sbuf *o, const struct ref_format_item *it,
		      int first)
{
	const struct reftable_ref_record *r = it->ref;

	sbuf_addstr(o, first ? "\n  {\"refname\": " : ",\n  {\"refname\": ");
	json_str(o, r->refname);
	sbuf_addf(o, ", \"update_index\": %llu, \"type\": \"%s\"",
		  (unsigned long long)r->update_index,
		  type_name(r->value_type));
	if (r->value_type == REFTABLE_REF_VAL1 ||
	    r->value_type == REFTABLE_REF_VAL2) {
		sbuf_addstr(o, ", \"value\": \"");
		add_hex(o, r->value, it->hash_size);
		sbuf_addch(o, '"');
	}
	if (r->value_type == REFTABLE_REF_VAL2) {
		sbuf_addstr(o, ", \"peeled\": \"");
		add_hex(o, r->peeled, it->hash_size);
		sbuf_addch(o, '"');
	}
	if (r->value_type == REFTABLE_REF_SYMREF) {
		sbuf_addstr(o, ", \"target\": ");
		json_str(o, r->target);
	}
	sbuf_addstr(o, ", \"objectname\": ");
	if (it->oid) {
		sbuf_addch(o, '"');
		add_hex(o, it->oid, it->hash_size);
		sbuf_addch(o, '"');
	} else {
		sbuf_addstr(o, "null");
	}
	sbuf_addch(o, '}');
}

static void list_default(struct sbuf *o, const struct ref_format_item *it)
{
	if (it->oid)
		add_hex(o, it->oid, it->hash_size);
	else
		sbuf_addf(o, "%-*s", (int)(2 * it->hash_size), "(dangling)");
	sbuf_addf(o, " %s", it->ref->refname);
	if (it->ref->value_type == REFTABLE_REF_SYMREF)
		sbuf_addf(o, " -> %s", it->ref->target);
	sbuf_addch(o, '\n');
}

static int points_at(const struct list_opts *lo, const struct lister *l,
		     const struct ref_format_item *it)
{
	if (!lo->points_at.n)
		return 1;
	for (size_t i = 0; i < lo->points_at.n; i++) {
		if (it->oid && !memcmp(it->oid, lo->points[i], l->hash_size))
			return 1;
		if (it->ref->value_type == REFTABLE_REF_VAL2 &&
		    !memcmp(it->ref->peeled, lo->points[i], l->hash_size))
			return 1;
	}
	return 0;
}

/* ---- options ---- */

/* What Git would need objects for, or a sort key other than refname. */
static int check_options(const struct cli *cli, struct list_opts *lo)
{
	if (lo->format && lo->json)
		return cli_usage_error(cli, "--format and --json exclude each "
					    "other");
	const char *needs = lo->contains       ? "--contains"
			    : lo->no_contains  ? "--no-contains"
			    : lo->merged       ? "--merged"
			    : lo->no_merged    ? "--no-merged"
					       : NULL;

	if (needs)
		return cli_usage_error(cli, "%s needs the object database "
					    "(commits and their history), "
					    "which the tool does not read",
				       needs);
	for (size_t i = 0; i < lo->sorts.n; i++) {
		const char *k = lo->sorts.items[i];
		int rev = *k == '-';
		if (strcmp(k + rev, "refname"))
			return cli_usage_error(cli, "--sort=%s: the tool sorts "
					       "by refname only (other keys "
					       "need objects or are not "
					       "supported)", k);
		lo->reverse = rev; /* the last key decides, as in Git */
	}
	if (lo->count_arg && parse_u64(lo->count_arg, &lo->count))
		return cli_usage_error(cli, "invalid --count argument: `%s'",
				       lo->count_arg);
	if (!lo->count_arg)
		lo->count = UINT64_MAX;
	return 0;
}

static int parse_points_at(const struct cli *cli, struct list_opts *lo,
			   size_t hash_size)
{
	lo->points = xmalloc((lo->points_at.n + 1) * sizeof(*lo->points));
	for (size_t i = 0; i < lo->points_at.n; i++) {
		const char *id = lo->points_at.items[i];
		if (hex_decode(lo->points[i], hash_size, id, strlen(id)))
			return cli_usage_error(cli, "--points-at=%s: the tool "
					       "takes full object ids only "
					       "(names and abbreviations need "
					       "the object database)", id);
	}
	return 0;
}

/* ---- the command ---- */

struct lines {
	char **v;
	size_t n;
};

static int list_refs(const struct cli *cli, struct list_opts *lo,
		     struct lister *l, struct ref_format *fmt,
		     const char *dir)
{
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record ref = { 0 }, res = { 0 };
	struct sbuf o = SBUF_INIT, err_msg = SBUF_INIT;
	struct lines kept = { NULL, 0 };
	const char *seek = "";
	uint64_t shown = 0;
	int err, code = 0;

	/* One literal pattern: read only the refs it can match. */
	if (lo->pats.n == 1 && !strpbrk(lo->pats.items[0], "*?[\\") &&
	    !lo->icase)
		seek = lo->pats.items[0];
	err = reftable_refdb_init_ref_iterator(l->db, &it, seek);
	while (!err && (lo->reverse || shown < lo->count) &&
	       !(err = reftable_iterator_next_ref(&it, &ref))) {
		struct ref_format_item item = { &ref, l->hash_size, NULL, NULL,
						0, shorten, l, l->abbrev };
		int r;
		if (!matches_any(&lo->pats, ref.refname, lo->icase, 1) ||
		    matches_any(&lo->excludes, ref.refname, lo->icase, 0))
			continue;
		if (ref.value_type == REFTABLE_REF_SYMREF) {
			/* only a symref costs a lookup: of its chain */
			r = reftable_refdb_resolve(l->db, ref.refname, &res);
			if (r < 0) {
				err = r;
				break;
			}
			item.oid = r ? NULL : res.value;
			item.symref = res.refname;
		} else if (ref.value_type != REFTABLE_REF_DELETION) {
			item.oid = ref.value;
		}
		item.is_head = l->head && !strcmp(l->head, ref.refname);
		if (!points_at(lo, l, &item))
			continue;
		if (lo->json) {
			list_json(&o, &item, !shown);
		} else if (fmt) {
			if (ref_format_expand(fmt, &item, &o, &err_msg)) {
				code = cli_usage_error(cli, "%s", err_msg.buf);
				break;
			}
			sbuf_addch(&o, '\n');
		} else {
			list_default(&o, &item);
		}
		shown++;
		if (lo->reverse) {
			kept.v = xrealloc(kept.v, (kept.n + 1) * sizeof(char *));
			kept.v[kept.n++] = sbuf_detach(&o);
		} else {
			fwrite(o.buf, 1, o.len, stdout);
		}
		sbuf_reset(&o);
	}
	if (err < 0)
		code = cli_lib_error(cli, err, "reading refs of %s", dir);
	/* --sort=-refname: newest name first, then --count */
	for (size_t i = kept.n, n = 0; i-- > 0; n++) {
		if (!code && n < lo->count)
			fputs(kept.v[i], stdout);
		free(kept.v[i]);
	}
	if (!code && lo->json)
		fputs(shown ? "\n]\n" : "]\n", stdout);
	free(kept.v);
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&ref);
	reftable_ref_record_release(&res);
	sbuf_release(&o);
	sbuf_release(&err_msg);
	return code;
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	struct list_opts lo;
	struct lister l = { 0 };
	struct ref_format *fmt = NULL;
	struct sbuf err = SBUF_INIT;
	struct repo r = { 0 };
	int code = 0;
	const struct opt opts[] = {
		{ "format", 0, OPT_STRING, &lo.format, "FMT",
		  "print each ref with FMT (see above)" },
		{ "json", 0, OPT_FLAG, &lo.json, NULL,
		  "print a JSON array of refs" },
		{ "sort", 0, OPT_LIST, &lo.sorts, "KEY",
		  "refname (the default) or -refname" },
		{ "count", 0, OPT_STRING, &lo.count_arg, "N",
		  "print at most N refs" },
		{ "exclude", 0, OPT_LIST, &lo.excludes, "PATTERN",
		  "leave out the refs PATTERN matches" },
		{ "ignore-case", 0, OPT_FLAG, &lo.icase, NULL,
		  "globs ignore case" },
		{ "points-at", 0, OPT_LIST, &lo.points_at, "ID",
		  "only refs at the object ID (a full id)" },
		{ "contains", 0, OPT_STRING, &lo.contains, "COMMIT",
		  "needs objects: refused" },
		{ "no-contains", 0, OPT_STRING, &lo.no_contains, "COMMIT",
		  "needs objects: refused" },
		{ "merged", 0, OPT_STRING, &lo.merged, "COMMIT",
		  "needs objects: refused" },
		{ "no-merged", 0, OPT_STRING, &lo.no_merged, "COMMIT",
		  "needs objects: refused" },
		{ 0 },
	};

	memset(&lo, 0, sizeof(lo));
	if (parse_options(cli, argc, argv, opts, &list_help, &lo.pats, &code))
		goto out;
	if ((code = check_options(cli, &lo)))
		goto out;
	/* Check the format before reading anything, as Git does. */
	if (lo.format && ref_format_parse(lo.format, &fmt, &err)) {
		code = cli_usage_error(cli, "%s", err.buf);
		goto out;
	}
	if ((code = repo_find(cli, &r, 1)) ||
	    (code = open_refdb_read(cli, &l.db, &r)))
		goto out;
	l.hash_size = reftable_refdb_hash_size(l.db);
	if ((code = parse_points_at(cli, &lo, l.hash_size)))
		goto out;
	read_settings(&l, r.config);
	l.head = head_target(l.db);
	if (lo.json)
		fputs("[", stdout);
	code = list_refs(cli, &lo, &l, fmt, r.stack_dir);
	code = cli_finish_output(cli, code);
out:
	if (l.db)
		reftable_refdb_close(l.db);
	free(l.head);
	free(lo.points);
	ref_format_free(fmt);
	repo_release(&r);
	sbuf_release(&err);
	strlist_release(&lo.pats);
	strlist_release(&lo.excludes);
	strlist_release(&lo.sorts);
	strlist_release(&lo.points_at);
	return code;
}
