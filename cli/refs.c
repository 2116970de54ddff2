/* Helpers for the commands that work on a stack's refs. */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "reftable-refdb.h"

int open_stack(const struct cli *cli, struct reftable_stack **st,
	       char **dir, const struct reftable_stack_options *base)
{
	struct reftable_stack_options opts;
	struct repo r;
	int code = repo_find(cli, &r, 1), err;

	*st = NULL;
	if (base)
		opts = *base;
	else
		reftable_stack_options_init(&opts);
	if (!code)
		code = repo_stack_options(cli, &r, &opts);
	if (code)
		goto out;
	opts.write.hash_id = r.hash;
	err = reftable_stack_new(st, r.stack_dir, &opts);
	if (err < 0) {
		*st = NULL;
		code = cli_lib_error(cli, err, "cannot open the stack in %s",
				     r.stack_dir);
	}
out:
	*dir = r.stack_dir;
	r.stack_dir = NULL;
	repo_release(&r);
	return code;
}

int open_refdb_with(const struct cli *cli, struct reftable_refdb **db,
		    struct repo *r, struct reftable_refdb_options *opts)
{
	int code = repo_stack_options(cli, r, &opts->stack), err;

	*db = NULL;
	if (code)
		return code;
	opts->stack.write.hash_id = r->hash;
	err = reftable_refdb_open(db, r->stack_dir, opts);
	if (err < 0) {
		*db = NULL;
		return cli_lib_error(cli, err, "cannot open the stack in %s",
				     r->stack_dir);
	}
	return 0;
}

int open_refdb_read(const struct cli *cli, struct reftable_refdb **db,
		    const struct repo *r)
{
	struct reftable_refdb_options opts;
	int err;

	/* Reading takes none of the write settings: like Git, a bad
	 * reftable.blockSize does not stop a read. */
	reftable_refdb_options_init(&opts);
	opts.stack.write.hash_id = r->hash;
	err = reftable_refdb_open(db, r->stack_dir, &opts);
	if (err < 0) {
		*db = NULL;
		return cli_lib_error(cli, err, "cannot open the stack in %s",
				     r->stack_dir);
	}
	return 0;
}

int open_refdb(const struct cli *cli, struct reftable_refdb **db,
	       char **dir)
{
	struct repo r;
	int code = repo_find(cli, &r, 1);

	*db = NULL;
	if (!code)
		code = open_refdb_read(cli, db, &r);
	*dir = r.stack_dir;
	r.stack_dir = NULL;
	repo_release(&r);
	return code;
}

char *dwim_ref(struct reftable_refdb *db, const char *name)
{
	static const char *rules[] = {
		"%s", "refs/%s", "refs/tags/%s", "refs/heads/%s",
		"refs/remotes/%s", "refs/remotes/%s/HEAD",
	};
	struct reftable_ref_record ref = { 0 };
	char *found = NULL;

	for (size_t i = 0; i < sizeof(rules) / sizeof(*rules) && !found; i++) {
		struct sbuf sb = SBUF_INIT;
		sbuf_addf(&sb, rules[i], name);
		/* A ref, or a name that only has a reflog left, counts. */
		if (!reftable_refdb_read_ref(db, sb.buf, &ref) ||
		    reftable_refdb_reflog_exists(db, sb.buf) == 1)
			found = sbuf_detach(&sb);
		sbuf_release(&sb);
	}
	reftable_ref_record_release(&ref);
	return found;
}

int dwim_log(struct reftable_refdb *db, const char *name, char **log,
	     char **dangling)
{
	static const char *rules[] = {
		"%s", "refs/%s", "refs/tags/%s", "refs/heads/%s",
		"refs/remotes/%s", "refs/remotes/%s/HEAD",
	};
	struct reftable_ref_record ref = { 0 };
	char *leftover = NULL;
	int resolves = 0;

	*log = *dangling = NULL;
	for (size_t i = 0; i < sizeof(rules) / sizeof(*rules); i++) {
		struct sbuf sb = SBUF_INIT;
		const char *it = NULL;
		int r;
		sbuf_addf(&sb, rules[i], name);
		r = reftable_refdb_resolve(db, sb.buf, &ref);
		if (!r && reftable_refdb_reflog_exists(db, sb.buf) == 1)
			it = sb.buf;
		else if (!r && strcmp(ref.refname, sb.buf) &&
			 reftable_refdb_reflog_exists(db, ref.refname) == 1)
			it = ref.refname;
		resolves += !r;
		if (r > 0 && strcmp(ref.refname, sb.buf) && !*dangling)
			*dangling = xstrdup(ref.refname);
		if (r && !leftover &&
		    reftable_refdb_reflog_exists(db, sb.buf) == 1)
			leftover = xstrdup(sb.buf);
		if (it && !*log)
			*log = xstrdup(it);
		sbuf_release(&sb);
	}
	reftable_ref_record_release(&ref);
	if (*log || resolves) {
		free(leftover);
		free(*dangling);
		*dangling = NULL;
		return *log ? resolves : 0;
	}
	/* Not Git's: a reflog whose ref is gone is still shown. */
	if ((*log = leftover)) {
		free(*dangling);
		*dangling = NULL;
		return 1;
	}
	return -1;
}

void format_date(struct sbuf *out, uint64_t time, int16_t tz,
		 const char *mode)
{
	static const char *days[] = { "Sun", "Mon", "Tue", "Wed",
				      "Thu", "Fri", "Sat" };
	static const char *months[] = { "Jan", "Feb", "Mar", "Apr",
					"May", "Jun", "Jul", "Aug",
					"Sep", "Oct", "Nov", "Dec" };
	/* The zone is stored the way Git writes it: -0530 as -530. */
	int a = tz < 0 ? -tz : tz;
	long off = (long)(a / 100 * 3600 + a % 100 * 60) * (tz < 0 ? -1 : 1);
	time_t t = (time_t)time + off;
	struct tm tm;

	if (!strcmp(mode, "unix")) {
		sbuf_addf(out, "%llu", (unsigned long long)time);
		return;
	}
	if (!strcmp(mode, "raw")) {
		sbuf_addf(out, "%llu %c%04d", (unsigned long long)time,
			  tz < 0 ? '-' : '+', a);
		return;
	}
	if (!gmtime_r(&t, &tm)) {
		sbuf_addf(out, "%llu %c%04d", (unsigned long long)time,
			  tz < 0 ? '-' : '+', a);
		return;
	}
	if (!strcmp(mode, "iso"))
		sbuf_addf(out, "%04d-%02d-%02d %02d:%02d:%02d %c%04d",
			  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			  tm.tm_hour, tm.tm_min, tm.tm_sec, tz < 0 ? '-' : '+',
			  a);
	else
		sbuf_addf(out, "%s %s %d %02d:%02d:%02d %d %c%04d",
			  days[tm.tm_wday], months[tm.tm_mon], tm.tm_mday,
			  tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900,
			  tz < 0 ? '-' : '+', a);
}
