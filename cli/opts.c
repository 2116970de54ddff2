/*
 * Option parsing shared by every command: --long, --long=VALUE,
 * --long VALUE, -s VALUE, -sVALUE, --no-long for booleans, and "--" to
 * end options. Options and positional arguments may be mixed.
 */

#include <string.h>

#include "cli.h"

static const struct opt *find_long(const struct opt *opts, const char *name,
				   size_t len, int *negated)
{
	*negated = 0;
	for (const struct opt *o = opts; o && o->long_name; o++)
		if (strlen(o->long_name) == len &&
		    !strncmp(o->long_name, name, len))
			return o;
	/* --no-NAME turns a boolean off. */
	if (len > 3 && !strncmp(name, "no-", 3)) {
		for (const struct opt *o = opts; o && o->long_name; o++)
			if (o->type == OPT_BOOL &&
			    strlen(o->long_name) == len - 3 &&
			    !strncmp(o->long_name, name + 3, len - 3)) {
				*negated = 1;
				return o;
			}
	}
	return NULL;
}

static const struct opt *find_short(const struct opt *opts, char c)
{
	for (const struct opt *o = opts; o && o->long_name; o++)
		if (o->short_name && o->short_name == c)
			return o;
	return NULL;
}

static int takes_value(const struct opt *o)
{
	return o->type == OPT_STRING || o->type == OPT_U64 ||
	       o->type == OPT_LIST;
}

/* Store value into o. Exit code: 0 or EXIT_USAGE with a message. */
static int set_value(const struct cli *cli, const struct opt *o,
		     const char *value, int negated)
{
	switch (o->type) {
	case OPT_FLAG:
	case OPT_BOOL:
		*(int *)o->value = !negated;
		return 0;
	case OPT_COUNT:
		(*(int *)o->value)++;
		return 0;
	case OPT_STRING:
		*(const char **)o->value = value;
		return 0;
	case OPT_LIST:
		strlist_add(o->value, value);
		return 0;
	case OPT_U64:
		if (parse_u64(value, o->value))
			return cli_usage_error(
				cli, "option --%s wants a number, not '%s'",
				o->long_name, value);
		return 0;
	}
	return 0;
}

static int parse_long(const struct cli *cli, const struct opt *opts,
		      char *arg, int argc, char **argv, int *i)
{
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	int negated;
	const struct opt *o = find_long(opts, name, len, &negated);

	if (!o)
		return cli_usage_error(cli, "unknown option '--%.*s'",
				       (int)len, name);
	if (!takes_value(o)) {
		if (eq)
			return cli_usage_error(cli, "option --%s takes no value",
					       o->long_name);
		return set_value(cli, o, NULL, negated);
	}
	if (eq)
		return set_value(cli, o, eq + 1, 0);
	if (*i + 1 >= argc)
		return cli_usage_error(cli, "option --%s needs a value",
				       o->long_name);
	return set_value(cli, o, argv[++*i], 0);
}

static int parse_short(const struct cli *cli, const struct opt *opts,
		       char *arg, int argc, char **argv, int *i)
{
	/* Flags may be bundled (-vq); a value ends the bundle (-n5). */
	for (char *p = arg + 1; *p; p++) {
		const struct opt *o = find_short(opts, *p);
		int ret;
		if (!o)
			return cli_usage_error(cli, "unknown option '-%c'", *p);
		if (!takes_value(o)) {
			if ((ret = set_value(cli, o, NULL, 0)))
				return ret;
			continue;
		}
		if (p[1])
			return set_value(cli, o, p + 1, 0);
		if (*i + 1 >= argc)
			return cli_usage_error(cli, "option -%c needs a value",
					       *p);
		return set_value(cli, o, argv[++*i], 0);
	}
	return 0;
}

int parse_options(const struct cli *cli, int argc, char **argv,
		  const struct opt *opts, const struct cmd_help *help,
		  struct strlist *args, int *code)
{
	int only_args = 0;

	for (int i = 1; i < argc; i++) {
		char *arg = argv[i];
		int ret = 0;

		if (only_args || arg[0] != '-' || !arg[1]) {
			strlist_add(args, arg); /* "-" alone means stdin */
			continue;
		}
		if (!strcmp(arg, "--")) {
			only_args = 1;
			continue;
		}
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			print_help(stdout, cli, opts, help);
			*code = EXIT_OK;
			return -1;
		}
		if (arg[1] == '-')
			ret = parse_long(cli, opts, arg, argc, argv, &i);
		else
			ret = parse_short(cli, opts, arg, argc, argv, &i);
		if (ret) {
			fprintf(stderr, "Try 'reftable %s --help'.\n",
				cli->cmd);
			*code = ret;
			return -1;
		}
	}
	return 0;
}

void print_help(FILE *out, const struct cli *cli, const struct opt *opts,
		const struct cmd_help *help)
{
	const char *u = help->usage;
	int first = 1;

	/* One "usage:" line per form, aligned under each other. */
	while (*u) {
		const char *nl = strchr(u, '\n');
		size_t len = nl ? (size_t)(nl - u) : strlen(u);
		fprintf(out, "%s reftable %.*s\n", first ? "usage:" : "   or:",
			(int)len, u);
		first = 0;
		u += len + (nl ? 1 : 0);
	}
	if (help->description)
		fprintf(out, "\n%s\n", help->description);
	if (!opts || !opts->long_name)
		return;
	fprintf(out, "\noptions:\n");
	for (const struct opt *o = opts; o->long_name; o++) {
		char left[80];
		int n;
		if (o->short_name)
			n = snprintf(left, sizeof(left), "-%c, --%s",
				     o->short_name, o->long_name);
		else
			n = snprintf(left, sizeof(left), "    --%s%s",
				     o->type == OPT_BOOL ? "[no-]" : "",
				     o->long_name);
		if (takes_value(o) && n > 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n, " %s",
				 o->arg_name ? o->arg_name : "VALUE");
		fprintf(out, "  %-28s %s\n", left, o->help);
	}
	(void)cli;
}
