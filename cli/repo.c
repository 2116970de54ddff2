/*
 * Finding the stack to work on, the way Git finds a repository: -C PATH
 * names it (a reftable directory, a Git directory or a work tree);
 * without -C the current directory and then each parent is tried.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static int is_file(const char *dir, const char *name)
{
	char *p = path_join(dir, name);
	struct stat st;
	int ok = !stat(p, &st) && S_ISREG(st.st_mode);
	free(p);
	return ok;
}

static int is_dir(const char *dir, const char *name)
{
	char *p = path_join(dir, name);
	int ok = path_is_dir(p) == 1;
	free(p);
	return ok;
}

/* The first line of a small file, malloc'ed, or NULL. */
static char *read_line(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!f)
		return NULL;
	len = getline(&line, &cap, f);
	fclose(f);
	if (len < 0) {
		free(line);
		return NULL;
	}
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	return line;
}

/* A path relative to base, or absolute; malloc'ed. */
static char *resolve(const char *base, const char *path)
{
	return path[0] == '/' ? xstrdup(path) : path_join(base, path);
}

/*
 * ".git" as a file ("gitdir: X") points at the real Git directory; a
 * linked work tree's Git directory names the shared one in "commondir",
 * which is where the refs live.
 */
static char *git_dir_of(const char *worktree)
{
	char *dotgit = path_join(worktree, ".git"), *line, *gitdir, *common;
	struct stat st;

	if (stat(dotgit, &st)) {
		free(dotgit);
		return NULL;
	}
	if (S_ISDIR(st.st_mode))
		return dotgit;
	line = read_line(dotgit);
	free(dotgit);
	if (!line || strncmp(line, "gitdir: ", 8)) {
		free(line);
		return NULL;
	}
	gitdir = resolve(worktree, line + 8);
	free(line);
	common = path_join(gitdir, "commondir");
	line = read_line(common);
	free(common);
	if (line) {
		char *shared = resolve(gitdir, line);
		free(line);
		free(gitdir);
		return shared;
	}
	return gitdir;
}

/* Does dir look like a Git directory (HEAD and a config or refs)? */
static int looks_like_git_dir(const char *dir)
{
	return is_file(dir, "HEAD") &&
	       (is_file(dir, "config") || is_dir(dir, "refs"));
}

/* extensions.objectFormat of a Git directory's config; 0 if not set. */
static enum reftable_hash config_hash(const char *gitdir)
{
	char *path = path_join(gitdir, "config");
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int in_ext = 0;
	enum reftable_hash h = 0;

	free(path);
	if (!f)
		return 0;
	while (getline(&line, &cap, f) >= 0) {
		char *p = line, *eq, *end;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '[') {
			/* section names are case-insensitive */
			in_ext = !strncasecmp(p, "[extensions]", 12);
			continue;
		}
		eq = strchr(p, '=');
		if (!in_ext || !eq || strncasecmp(p, "objectformat", 12))
			continue;
		for (end = p + 12; end < eq && isspace((unsigned char)*end);)
			end++;
		if (end != eq)
			continue;
		for (p = eq + 1; isspace((unsigned char)*p);)
			p++;
		if (!strncasecmp(p, "sha256", 6))
			h = REFTABLE_HASH_SHA256;
		else if (!strncasecmp(p, "sha1", 4))
			h = REFTABLE_HASH_SHA1;
	}
	free(line);
	fclose(f);
	return h;
}

enum reftable_hash stack_hash_from_tables(const char *dir)
{
	char *list = path_join(dir, "tables.list"), *first = read_line(list);
	enum reftable_hash h = 0;
	uint8_t hdr[28];
	int fd;

	free(list);
	if (!first || !*first || strchr(first, '/')) {
		free(first);
		return 0;
	}
	list = path_join(dir, first);
	free(first);
	fd = open(list, O_RDONLY);
	free(list);
	if (fd < 0)
		return 0;
	/* Version 1 is SHA-1; version 2 names its hash at byte 24. */
	if (read(fd, hdr, sizeof(hdr)) >= 24 && !memcmp(hdr, "REFT", 4)) {
		if (hdr[4] == 1)
			h = REFTABLE_HASH_SHA1;
		else if (hdr[4] == 2 && !memcmp(hdr + 24, "s256", 4))
			h = REFTABLE_HASH_SHA256;
		else if (hdr[4] == 2 && !memcmp(hdr + 24, "sha1", 4))
			h = REFTABLE_HASH_SHA1;
	}
	close(fd);
	return h;
}

/*
 * What dir stands for: 1 with *stack (and *gitdir, maybe NULL) set, 0 if
 * it is none of the three, -1 if it is a Git repository without reftable.
 */
static int probe(const char *dir, char **stack, char **gitdir)
{
	char *g;

	*gitdir = NULL;
	if (is_file(dir, "tables.list")) {
		*stack = xstrdup(dir);
		/* A stack inside a Git directory: remember it for config. */
		g = path_join(dir, "..");
		if (looks_like_git_dir(g))
			*gitdir = g;
		else
			free(g);
		return 1;
	}
	if (looks_like_git_dir(dir))
		g = xstrdup(dir);
	else if (!(g = git_dir_of(dir)))
		return 0;
	if (!is_file(g, "reftable/tables.list")) {
		free(g);
		return -1;
	}
	*stack = path_join(g, "reftable");
	*gitdir = g;
	return 1;
}

int find_stack(const struct cli *cli, char **dir, enum reftable_hash *hash)
{
	char *start, *stack = NULL, *gitdir = NULL;
	int found = 0;

	if (cli->chdir_to) {
		if (path_is_dir(cli->chdir_to) != 1)
			return cli_error(cli, EXIT_DATA, "%s: %s", cli->chdir_to,
					 errno ? strerror(errno)
					       : "not a directory");
		found = probe(cli->chdir_to, &stack, &gitdir);
		start = xstrdup(cli->chdir_to);
	} else {
		char *cwd = getcwd(NULL, 0);
		if (!cwd)
			return cli_error(cli, EXIT_DATA, "getcwd: %s",
					 strerror(errno));
		start = xstrdup(cwd);
		/* Try each directory up to the root. */
		for (;;) {
			char *slash;
			found = probe(cwd, &stack, &gitdir);
			if (found)
				break;
			slash = strrchr(cwd, '/');
			if (!slash || slash == cwd) {
				if (!slash || !cwd[1])
					break;
				cwd[1] = '\0';
				continue;
			}
			*slash = '\0';
		}
		free(cwd);
	}
	if (found <= 0) {
		int code = cli_error(
			cli, EXIT_USAGE,
			found < 0 ? "%s: the Git repository does not use "
				    "reftable (no reftable/tables.list)"
				  : "%s: not a reftable stack or Git repository "
				    "(use -C PATH)",
			start);
		free(start);
		return code;
	}
	free(start);
	if (hash) {
		*hash = gitdir ? config_hash(gitdir) : 0;
		if (!*hash)
			*hash = stack_hash_from_tables(stack);
		if (!*hash)
			*hash = REFTABLE_HASH_SHA1;
	}
	free(gitdir);
	*dir = stack;
	return 0;
}

/*
 * ---- core.logAllRefUpdates and core.bare ----
 *
 * A minimal reading of the repository's own config file, for the reflog
 * policy of `update`. TO BE REPLACED by the config reader (cli/gitconfig.c,
 * which handles includes, quoting and the global and system files): only
 * repo_log_policy() below calls it.
 */

/* The last value of key in section [section] of gitdir/config:
 * *present 0 if absent; *value NULL for a key without "=" (true). */
static char *config_core_value(const char *gitdir, const char *key,
			       int *present)
{
	char *path = path_join(gitdir, "config");
	FILE *f = fopen(path, "r");
	char *line = NULL, *value = NULL;
	size_t cap = 0, klen = strlen(key);
	int in_core = 0;

	free(path);
	*present = 0;
	if (!f)
		return NULL;
	while (getline(&line, &cap, f) >= 0) {
		char *p = line, *end;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '[') {
			in_core = !strncasecmp(p, "[core]", 6);
			continue;
		}
		if (!in_core || strncasecmp(p, key, klen))
			continue;
		p += klen;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && *p != '=' && *p != '\n' && *p != '#' && *p != ';')
			continue; /* a longer key */
		free(value);
		value = NULL;
		*present = 1;
		if (*p != '=')
			continue;
		for (p++; *p == ' ' || *p == '\t';)
			p++;
		end = p + strcspn(p, "#;\r\n");
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end - p >= 2 && *p == '"' && end[-1] == '"')
			p++, end--;
		value = xstrndup(p, (size_t)(end - p));
	}
	free(line);
	fclose(f);
	return value;
}

int repo_log_policy(const struct cli *cli, const char *stack_dir,
		    enum reftable_refdb_log_policy *policy)
{
	char *gitdir = path_join(stack_dir, ".."), *log, *bare;
	int log_set, bare_set, err, is_bare = 0;

	*policy = REFTABLE_REFDB_LOG_NORMAL;
	if (!looks_like_git_dir(gitdir)) {
		free(gitdir); /* a plain stack: Git's non-bare default */
		return 0;
	}
	log = config_core_value(gitdir, "logallrefupdates", &log_set);
	bare = config_core_value(gitdir, "bare", &bare_set);
	if (bare_set && !bare)
		is_bare = 1;
	else if (bare_set)
		is_bare = !strcasecmp(bare, "true") || !strcasecmp(bare, "yes") ||
			  !strcasecmp(bare, "on") || !strcmp(bare, "1");
	err = reftable_refdb_log_policy_from_config(policy, log_set, log,
						    is_bare);
	free(log);
	free(bare);
	free(gitdir);
	return err ? cli_lib_error(cli, err, "%s/../config", stack_dir) : 0;
}
