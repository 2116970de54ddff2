/*
 * What the tool reads from Git's configuration, printed for
 * t/cli/test-gitconfig.sh to compare with `git config --get`:
 *   gitconfig-get [--bool] GITDIR|- KEY...
 * prints each key's value (with --bool, true or false) or nothing if it is
 * unset, one line each; exits 1 if a key is unset (as git config does),
 * 128 with Git's message if the configuration does not read.
 */

#include <stdio.h>
#include <string.h>

#include "gitconfig.h"

int main(int argc, char **argv)
{
	int as_bool = 0, i = 1, code = 0;
	struct git_config *cfg;

	if (i < argc && !strcmp(argv[i], "--bool")) {
		as_bool = 1;
		i++;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: gitconfig-get [--bool] GITDIR|- KEY...\n");
		return 2;
	}
	cfg = git_config_load(strcmp(argv[i], "-") ? argv[i] : NULL);
	if (git_config_error(cfg)) {
		fprintf(stderr, "fatal: %s\n", git_config_error(cfg));
		git_config_free(cfg);
		return 128;
	}
	for (i++; i < argc; i++) {
		const char *v = git_config_get(cfg, argv[i]);
		int b;
		if (!v) {
			code = 1;
			continue;
		}
		if (!as_bool) {
			printf("%s\n", v);
		} else if (git_config_get_bool(cfg, argv[i], &b)) {
			fprintf(stderr, "fatal: bad boolean config value '%s' "
				"for '%s'\n", v, argv[i]);
			code = 128;
		} else {
			printf("%s\n", b ? "true" : "false");
		}
	}
	git_config_free(cfg);
	return code;
}
