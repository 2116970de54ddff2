/*
 * Finding the stack to work on, the way Git finds a repository: -C PATH
 * names it (a reftable directory, a Git directory or a work tree);
 * without -C the current directory and then each parent is tried.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "gitconfig.h"

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

/* extensions.objectFormat of a Git directory's config; 0 if not set.
 * Git reads the repository's format from that file alone. */
static enum reftable_hash config_hash(const char *gitdir)
{
	struct git_config *cfg = git_config_load_repo_file(gitdir);
	const char *v = git_config_get(cfg, "extensions.objectFormat");
	enum reftable_hash h = 0;

	if (v && !strcasecmp(v, "sha256"))
		h = REFTABLE_HASH_SHA256;
	else if (v && !strcasecmp(v, "sha1"))
		h = REFTABLE_HASH_SHA1;
	git_config_free(cfg);
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
static int probe(const char *dir, char **stack, char **gitdir,
		 int *via_worktree)
{
	char *g;

	*gitdir = NULL;
	*via_worktree = 0;
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
	else if ((g = git_dir_of(dir)))
		*via_worktree = 1;
	else
		return 0;
	if (!is_file(g, "reftable/tables.list")) {
		free(g);
		return -1;
	}
	*stack = path_join(g, "reftable");
	*gitdir = g;
	return 1;
}

int repo_find(const struct cli *cli, struct repo *r, int with_config)
{
	char *start, *stack = NULL, *gitdir = NULL;
	int found = 0, via = 0;

	memset(r, 0, sizeof(*r));
	if (cli->chdir_to) {
		if (path_is_dir(cli->chdir_to) != 1)
			return cli_error(cli, EXIT_DATA, "%s: %s", cli->chdir_to,
					 errno ? strerror(errno)
					       : "not a directory");
		found = probe(cli->chdir_to, &stack, &gitdir, &via);
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
			found = probe(cwd, &stack, &gitdir, &via);
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
	r->stack_dir = stack;
	r->gitdir = gitdir;
	r->via_worktree = via;
	r->hash = gitdir ? config_hash(gitdir) : 0;
	if (!r->hash)
		r->hash = stack_hash_from_tables(stack);
	if (!r->hash)
		r->hash = REFTABLE_HASH_SHA1;
	/* A stack outside a Git repository has no Git configuration. */
	if (!gitdir || !with_config)
		return 0;
	r->config = git_config_load(gitdir);
	if (git_config_error(r->config))
		return cli_error(cli, EXIT_USAGE, "%s",
				 git_config_error(r->config));
	return 0;
}

void repo_release(struct repo *r)
{
	free(r->stack_dir);
	free(r->gitdir);
	git_config_free(r->config);
	memset(r, 0, sizeof(*r));
}

int find_stack(const struct cli *cli, char **dir, enum reftable_hash *hash)
{
	struct repo r;
	int code = repo_find(cli, &r, 0);

	if (!code) {
		*dir = r.stack_dir;
		r.stack_dir = NULL;
		if (hash)
			*hash = r.hash;
	}
	repo_release(&r);
	return code;
}
