/* reftable relist: put back into tables.list the tables it lost. */

#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const struct cmd_help relist_help = {
	"relist [-n | --dry-run]",
	"Put back into tables.list the tables it no longer names although\n"
	"they hold data: after outside damage (a truncated list, an old copy\n"
	"restored), `verify` reports unlisted tables holding newer data and\n"
	"`clean` refuses to run. Under the list lock, each unlisted table that\n"
	"opens as a table of the stack's hash goes where its update indexes\n"
	"belong: into a gap before, between or after the listed tables, the\n"
	"widest first (a compaction's output rather than its inputs). Listed\n"
	"tables are never moved or dropped. Tables after the newest may be the\n"
	"unfinished addition of a writer that died before it published:\n"
	"relisting them applies that update, so look with -n first.\n"
	"Prints each unlisted table, relisted (or, with -n, that would be) or\n"
	"left, with its update indexes. Exit code 3 if another process holds\n"
	"the list lock.",
};

static void print_relist(void *arg, const struct reftable_relist_report *r)
{
	const int *dry = arg;

	printf("%s %s (update indexes %llu..%llu)%s%s\n",
	       r->listed ? (*dry ? "would relist" : "relisted") : "left",
	       r->name, (unsigned long long)r->min,
	       (unsigned long long)r->max, r->listed ? "" : ": ",
	       r->listed ? "" : r->why);
}

int cmd_relist(struct cli *cli, int argc, char **argv)
{
	struct strlist args = { 0 };
	struct reftable_relist_options ro = { 0 };
	struct reftable_stack *st = NULL;
	char *dir = NULL;
	int dry = 0, code = 0, n;
	const struct opt opts[] = {
		{ "dry-run", 'n', OPT_FLAG, &dry, NULL,
		  "only say what would be relisted" },
		OPT_LOCK_TIMEOUT(cli),
		{ 0 },
	};

	if (parse_options(cli, argc, argv, opts, &relist_help, &args, &code))
		goto out;
	if (args.n) {
		code = cli_usage_error(cli, "takes no arguments (use -C PATH)");
		goto out;
	}
	if ((code = open_stack(cli, &st, &dir, NULL)))
		goto out;
	ro.flags = dry ? REFTABLE_RELIST_DRY_RUN : 0;
	ro.report = print_relist;
	ro.report_arg = &dry;
	n = reftable_stack_relist(st, &ro);
	if (n < 0) {
		code = cli_lib_error(cli, n, "relisting tables in %s", dir);
		goto out;
	}
	if (!n)
		printf("nothing to relist in %s\n", dir);
	code = cli_finish_output(cli, 0);
out:
	if (st)
		reftable_stack_destroy(st);
	free(dir);
	strlist_release(&args);
	return code;
}
