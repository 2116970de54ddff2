/* reftable: inspect, write and maintain reftable stacks. */

#include <string.h>

#include "cli.h"

#define REFTABLE_TOOL_VERSION "0.1.0"

struct command {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "list", cmd_list, "list refs, like git for-each-ref" },
	{ "show", cmd_show, "print the object id a ref resolves to" },
	{ "log", cmd_log, "print a ref's reflog, newest first" },
	{ "update", cmd_update, "change refs in one all-or-nothing transaction" },
	{ "compact", cmd_compact, "merge tables, optionally expiring reflogs" },
	{ "clean", cmd_clean, "remove tables that tables.list does not name" },
	{ "unlock", cmd_unlock, "remove stale locks, if provably stale" },
	{ "relist", cmd_relist, "put back tables that tables.list lost" },
	{ "init", cmd_init, "create an empty stack" },
	{ "verify", cmd_verify, "check tables and the stack, report problems" },
	{ "dump", cmd_dump, "print records, blocks or statistics" },
	{ "write", cmd_write, "write one table from records in text form" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: reftable [-C PATH] COMMAND [OPTIONS] [ARGS]\n"
		"\n"
		"commands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out,
		"\n"
		"'reftable COMMAND --help' describes a command.\n"
		"Exit codes: 0 success, 1 usage error or bad input, 2 missing\n"
		"or corrupt data or an I/O error, 3 a lock is held or a\n"
		"compare-and-swap failed.\n");
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	int i = 1;

	/* Global options stand before the command. */
	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return EXIT_OK;
		}
		if (!strcmp(a, "--version")) {
			printf("reftable %s\n", REFTABLE_TOOL_VERSION);
			return EXIT_OK;
		}
		if (!strcmp(a, "-C")) {
			if (i + 1 >= argc)
				return cli_usage_error(&cli,
						       "-C needs a PATH");
			cli.chdir_to = argv[i + 1];
			i += 2;
			continue;
		}
		if (!strncmp(a, "-C", 2)) {
			cli.chdir_to = a + 2;
			i++;
			continue;
		}
		cli_usage_error(&cli, "unknown option '%s'", a);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 >= argc) {
			usage(stdout);
			return EXIT_OK;
		}
		/* "help CMD" is "CMD --help". */
		char *args[] = { argv[i + 1], (char *)"--help", NULL };
		for (const struct command *c = commands; c->name; c++)
			if (!strcmp(c->name, argv[i + 1])) {
				cli.cmd = c->name;
				return c->fn(&cli, 2, args);
			}
		return cli_usage_error(&cli, "unknown command '%s'",
				       argv[i + 1]);
	}
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, argv[i])) {
			cli.cmd = c->name;
			return c->fn(&cli, argc - i, argv + i);
		}
	cli_usage_error(&cli, "unknown command '%s'", argv[i]);
	usage(stderr);
	return EXIT_USAGE;
}
