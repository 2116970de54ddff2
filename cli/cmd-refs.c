/* reftable show and log: reading refs and reflogs of a stack. */

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "reftable-refdb.h"

/* ---- --format ---- */

typedef int (*placeholder_fn)(struct sbuf *out, const char *name, void *arg);

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Expand %(name) through fn, %% to %, and %xx (two hex digits) to that
 * byte, as git for-each-ref does. Returns 0, or -1 with *bad naming the
 * first unknown or unfinished placeholder.
 */
static int expand(struct sbuf *out, const char *fmt, placeholder_fn fn,
		  void *arg, struct sbuf *bad)
{
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			sbuf_addch(out, *p);
			continue;
		}
		if (p[1] == '%') {
			sbuf_addch(out, '%');
			p++;
		} else if (p[1] == '(') {
			const char *end = strchr(p + 2, ')');
			char name[64];
			size_t n = end ? (size_t)(end - p - 2) : 0;
			if (!end || n >= sizeof(name)) {
				sbuf_addstr(bad, p);
				return -1;
			}
			memcpy(name, p + 2, n);
			name[n] = '\0';
			if (fn(out, name, arg)) {
				sbuf_addf(bad, "%%(%s)", name);
				return -1;
			}
			p = end;
		} else if (hexval(p[1]) >= 0 && p[2] && hexval(p[2]) >= 0) {
			sbuf_addch(out, (char)(hexval(p[1]) << 4 | hexval(p[2])));
			p += 2;
		} else {
			sbuf_addch(out, '%');
		}
	}
	return 0;
}

static void add_hex(struct sbuf *out, const uint8_t *oid, size_t hash_size)
{
	char hex[2 * REFTABLE_HASH_SIZE_MAX + 1];
	hex_encode(hex, oid, hash_size);
	sbuf_addstr(out, hex);
}

/* ---- show ---- */

static const struct cmd_help show_help = {
	"show [-v | --verbose] [--json] REF",
	"Print the object id REF stands for, following symbolic refs (at most\n"
	"5 deep). REF may be abbreviated as Git allows: main finds\n"
	"refs/heads/main, v1.0 refs/tags/v1.0, origin refs/remotes/origin/HEAD\n"
	"(tried in Git's order: REF, refs/REF, refs/tags/REF, refs/heads/REF,\n"
	"refs/remotes/REF, refs/remotes/REF/HEAD).\n"
	"\n"
	"--verbose prints the chain: one 'symref NAME -> TARGET' line per\n"
	"symbolic ref, then 'ref NAME OBJECTID' with the update index, and\n"
	"'peeled OBJECTID' for an annotated tag.\n"
	"\n"
	"Exit code 1 if REF does not exist or leads to a missing ref.",
};

int cmd_show(struct cli *cli, int argc, char **argv)
{
	int verbose = 0, json = 0, code = 0, err;
	struct strlist args = { 0 }, chain = { 0 };
	struct reftable_refdb *db = NULL;
	struct reftable_ref_record ref = { 0 }, link = { 0 };
	struct sbuf o = SBUF_INIT;
	char *dir = NULL, *name = NULL;
	size_t hs;
	const struct opt opts[] = {
		{ "verbose", 'v', OPT_FLAG, &verbose, NULL,
		  "print the chain of symbolic refs" },
		{ "json", 0, OPT_FLAG, &json, NULL, "print a JSON object" },
		{ 0 },
	};

	if (parse_options(cli, argc, argv, opts, &show_help, &args, &code))
		goto out;
	if (args.n != 1) {
		code = cli_usage_error(cli, "wants one REF");
		goto out;
	}
	if ((code = open_refdb(cli, &db, &dir)))
		goto out;
	hs = reftable_refdb_hash_size(db);
	name = dwim_ref(db, args.items[0]);
	if (!name) {
		code = cli_error(cli, EXIT_USAGE, "no such ref: %s",
				 args.items[0]);
		goto out;
	}
	err = reftable_refdb_resolve(db, name, &ref);
	if (err == REFTABLE_SYMREF_ERROR) {
		code = cli_error(cli, EXIT_DATA,
				 "%s: symbolic refs nest deeper than %d "
				 "(a cycle?)",
				 name, REFTABLE_REFDB_SYMREF_MAX_DEPTH);
		goto out;
	}
	if (err < 0) {
		code = cli_lib_error(cli, err, "reading %s", name);
		goto out;
	}
	if (err > 0) {
		code = cli_error(cli, EXIT_USAGE, "%s leads to %s, which does "
						  "not exist",
				 name, ref.refname);
		goto out;
	}
	/* The symrefs on the way, for --verbose and --json. */
	for (const char *cur = name; chain.n <= REFTABLE_REFDB_SYMREF_MAX_DEPTH &&
	     !reftable_refdb_read_ref(db, cur, &link) &&
	     link.value_type == REFTABLE_REF_SYMREF;
	     cur = chain.items[chain.n - 1])
		strlist_add(&chain, xstrdup(link.target));
	if (json) {
		sbuf_addstr(&o, "{\"name\": ");
		json_str(&o, name);
		sbuf_addstr(&o, ", \"chain\": [");
		/* every symref passed: name, then each target but the last */
		for (size_t i = 0; i < chain.n; i++) {
			if (i)
				sbuf_addstr(&o, ", ");
			json_str(&o, i ? chain.items[i - 1] : name);
		}
		sbuf_addstr(&o, "], \"refname\": ");
		json_str(&o, ref.refname);
		sbuf_addf(&o, ", \"update_index\": %llu, \"objectname\": \"",
			  (unsigned long long)ref.update_index);
		add_hex(&o, ref.value, hs);
		sbuf_addch(&o, '"');
		if (ref.value_type == REFTABLE_REF_VAL2) {
			sbuf_addstr(&o, ", \"peeled\": \"");
			add_hex(&o, ref.peeled, hs);
			sbuf_addch(&o, '"');
		}
		sbuf_addstr(&o, "}\n");
	} else if (verbose) {
		for (size_t i = 0; i < chain.n; i++)
			sbuf_addf(&o, "symref %s -> %s\n",
				  i ? chain.items[i - 1] : name,
				  chain.items[i]);
		sbuf_addf(&o, "ref %s ", ref.refname);
		add_hex(&o, ref.value, hs);
		sbuf_addf(&o, " (update index %llu)\n",
			  (unsigned long long)ref.update_index);
		if (ref.value_type == REFTABLE_REF_VAL2) {
			sbuf_addstr(&o, "peeled ");
			add_hex(&o, ref.peeled, hs);
			sbuf_addch(&o, '\n');
		}
	} else {
		add_hex(&o, ref.value, hs);
		sbuf_addch(&o, '\n');
	}
	fwrite(o.buf, 1, o.len, stdout);
	code = cli_finish_output(cli, 0);
out:
	reftable_ref_record_release(&ref);
	reftable_ref_record_release(&link);
	if (db)
		reftable_refdb_close(db);
	free(dir);
	free(name);
	sbuf_release(&o);
	strlist_release_owned(&chain);
	strlist_release(&args);
	return code;
}

/* ---- log ---- */

static const struct cmd_help log_help = {
	"log [-n N] [--oneline | --format=FMT | --json] [--date=MODE] [REF]",
	"Print the reflog of REF (default HEAD), newest entry first (Git's\n"
	"empty 'reflog exists' markers are not entries). REF may be\n"
	"abbreviated as for `show`; as `git reflog show`, the first\n"
	"candidate that resolves and has a reflog (or whose resolved ref\n"
	"has one) is shown, nothing if REF resolves without a reflog, and\n"
	"REF that resolves nowhere (a symbolic ref to a missing ref too)\n"
	"is an error. Each entry shows the old and new\n"
	"object ids, who made the change, when, and the message; dates are\n"
	"shown as Git shows them, in the zone recorded with the entry.\n"
	"\n"
	"--date=MODE: default (Tue Nov 14 16:20:00 2023 -0530), iso\n"
	"(2023-11-14 16:20:00 -0530), raw (1700001000 -0530) or unix.\n"
	"--oneline: 'NEWID REF@{N}: MESSAGE'. --format placeholders:\n"
	"  %(refname) %(selector) (REF@{N}) %(updateindex) %(old) %(new)\n"
	"  %(name) %(email) %(date) %(time) %(tz) %(message)\n"
	"  %(record) (the entry in `dump --records` form), %%, %xx",
};

struct log_ctx {
	const struct reftable_log_record *log;
	size_t hash_size;
	unsigned long n;
	const char *date_mode;
};

static int log_placeholder(struct sbuf *out, const char *name, void *arg)
{
	struct log_ctx *c = arg;
	const struct reftable_log_record *l = c->log;

	if (!strcmp(name, "refname")) {
		if (l)
			sbuf_addstr(out, l->refname);
	} else if (!strcmp(name, "selector")) {
		if (l)
			sbuf_addf(out, "%s@{%lu}", l->refname, c->n);
	} else if (!strcmp(name, "updateindex")) {
		if (l)
			sbuf_addf(out, "%llu",
				  (unsigned long long)l->update_index);
	} else if (!strcmp(name, "old")) {
		if (l)
			add_hex(out, l->old_id, c->hash_size);
	} else if (!strcmp(name, "new")) {
		if (l)
			add_hex(out, l->new_id, c->hash_size);
	} else if (!strcmp(name, "name")) {
		if (l && l->name)
			sbuf_addstr(out, l->name);
	} else if (!strcmp(name, "email")) {
		if (l && l->email)
			sbuf_addstr(out, l->email);
	} else if (!strcmp(name, "date")) {
		if (l)
			format_date(out, l->time, l->tz_offset, c->date_mode);
	} else if (!strcmp(name, "time")) {
		if (l)
			sbuf_addf(out, "%llu", (unsigned long long)l->time);
	} else if (!strcmp(name, "tz")) {
		if (l)
			sbuf_addf(out, "%d", l->tz_offset);
	} else if (!strcmp(name, "message")) {
		if (l && l->message) {
			size_t len = strlen(l->message);
			/* Git ends each message with a newline: drop it */
			if (len && l->message[len - 1] == '\n')
				len--;
			sbuf_add(out, l->message, len);
		}
	} else if (!strcmp(name, "record")) {
		if (l) {
			format_log(out, l, c->hash_size);
			out->buf[--out->len] = '\0';
		}
	} else {
		return -1;
	}
	return 0;
}

static void first_line(struct sbuf *out, const char *msg)
{
	size_t len = msg ? strcspn(msg, "\n") : 0;
	sbuf_add(out, msg ? msg : "", len);
}

static void log_default(struct sbuf *o, struct log_ctx *c)
{
	const struct reftable_log_record *l = c->log;
	const char *m = l->message ? l->message : "";

	sbuf_addf(o, "entry %s@{%lu} (update index %llu)\n", l->refname, c->n,
		  (unsigned long long)l->update_index);
	sbuf_addstr(o, "old     ");
	add_hex(o, l->old_id, c->hash_size);
	sbuf_addstr(o, "\nnew     ");
	add_hex(o, l->new_id, c->hash_size);
	sbuf_addf(o, "\nwho     %s <%s>\ndate    ", l->name ? l->name : "",
		  l->email ? l->email : "");
	format_date(o, l->time, l->tz_offset, c->date_mode);
	sbuf_addstr(o, "\n\n");
	/* The message, indented, each line on its own. */
	while (*m) {
		size_t len = strcspn(m, "\n");
		sbuf_addstr(o, "    ");
		sbuf_add(o, m, len);
		sbuf_addch(o, '\n');
		m += len + (m[len] ? 1 : 0);
	}
	sbuf_addch(o, '\n');
}

static void log_json(struct sbuf *o, struct log_ctx *c)
{
	const struct reftable_log_record *l = c->log;

	sbuf_addstr(o, c->n ? ",\n  {\"refname\": " : "\n  {\"refname\": ");
	json_str(o, l->refname);
	sbuf_addf(o, ", \"index\": %lu, \"update_index\": %llu, \"old\": \"",
		  c->n, (unsigned long long)l->update_index);
	add_hex(o, l->old_id, c->hash_size);
	sbuf_addstr(o, "\", \"new\": \"");
	add_hex(o, l->new_id, c->hash_size);
	sbuf_addstr(o, "\", \"name\": ");
	json_str(o, l->name ? l->name : "");
	sbuf_addstr(o, ", \"email\": ");
	json_str(o, l->email ? l->email : "");
	sbuf_addf(o, ", \"time\": %llu, \"tz\": %d, \"message\": ",
		  (unsigned long long)l->time, l->tz_offset);
	json_str(o, l->message ? l->message : "");
	sbuf_addch(o, '}');
}

int cmd_log(struct cli *cli, int argc, char **argv)
{
	const char *format = NULL, *date = "default";
	int json = 0, oneline = 0, code = 0, err;
	uint64_t limit = UINT64_MAX;
	struct strlist args = { 0 };
	struct reftable_refdb *db = NULL;
	struct reftable_iterator it = { 0 };
	struct reftable_log_record log = { 0 };
	struct sbuf o = SBUF_INIT, bad = SBUF_INIT;
	struct log_ctx c = { 0 };
	char *dir = NULL, *name = NULL, *dangling = NULL;
	const char *wanted;
	int found;
	const struct opt opts[] = {
		{ "max-count", 'n', OPT_U64, &limit, "N",
		  "show at most N entries" },
		{ "oneline", 0, OPT_FLAG, &oneline, NULL,
		  "one line per entry" },
		{ "format", 0, OPT_STRING, &format, "FMT",
		  "print each entry with FMT (see above)" },
		{ "date", 0, OPT_STRING, &date, "MODE",
		  "default, iso, raw or unix" },
		{ "json", 0, OPT_FLAG, &json, NULL,
		  "print a JSON array of entries" },
		{ 0 },
	};

	if (parse_options(cli, argc, argv, opts, &log_help, &args, &code))
		goto out;
	if (args.n > 1 || (!!format + json + oneline) > 1) {
		code = cli_usage_error(cli, args.n > 1 ? "wants at most one REF"
						       : "--format, --oneline "
							 "and --json exclude "
							 "each other");
		goto out;
	}
	if (strcmp(date, "default") && strcmp(date, "iso") &&
	    strcmp(date, "raw") && strcmp(date, "unix")) {
		code = cli_usage_error(cli, "unknown --date mode '%s'", date);
		goto out;
	}
	c.date_mode = date;
	if (format && expand(&o, format, log_placeholder, &c, &bad)) {
		code = cli_usage_error(cli, "unknown placeholder %s in --format",
				       bad.buf);
		goto out;
	}
	sbuf_reset(&o);
	if ((code = open_refdb(cli, &db, &dir)))
		goto out;
	c.hash_size = reftable_refdb_hash_size(db);
	wanted = args.n ? args.items[0] : "HEAD";
	found = dwim_log(db, wanted, &name, &dangling);
	if (found < 0 && dangling) {
		code = cli_error(cli, EXIT_USAGE, "%s leads to %s, which does "
				 "not exist", wanted, dangling);
		goto out;
	}
	if (found < 0) {
		code = cli_error(cli, EXIT_USAGE, "no such ref: %s", wanted);
		goto out;
	}
	if (found > 1)
		cli_warning(cli, "refname '%s' is ambiguous.", wanted);
	/* A ref without a reflog: nothing to show, as in Git. */
	err = name ? reftable_refdb_init_reflog_iterator(db, &it, name) : 1;
	if (json)
		sbuf_addch(&o, '[');
	while (!err && c.n < limit &&
	       !(err = reftable_iterator_next_log(&it, &log))) {
		if (strcmp(log.refname, name))
			break;
		c.log = &log;
		if (json) {
			log_json(&o, &c);
		} else if (format) {
			expand(&o, format, log_placeholder, &c, &bad);
			sbuf_addch(&o, '\n');
		} else if (oneline) {
			add_hex(&o, log.new_id, c.hash_size);
			sbuf_addf(&o, " %s@{%lu}: ", log.refname, c.n);
			first_line(&o, log.message);
			sbuf_addch(&o, '\n');
		} else {
			log_default(&o, &c);
		}
		c.n++;
		fwrite(o.buf, 1, o.len, stdout);
		sbuf_reset(&o);
	}
	if (err < 0) {
		code = cli_lib_error(cli, err, "reading the reflog of %s", name);
	} else if (json) {
		sbuf_addstr(&o, c.n ? "\n]\n" : "]\n");
		fwrite(o.buf, 1, o.len, stdout);
	}
	code = cli_finish_output(cli, code);
out:
	reftable_iterator_destroy(&it);
	reftable_log_record_release(&log);
	if (db)
		reftable_refdb_close(db);
	free(dir);
	free(name);
	free(dangling);
	sbuf_release(&o);
	sbuf_release(&bad);
	strlist_release(&args);
	return code;
}
