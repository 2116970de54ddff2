/*
 * Which configuration Git reads, in its order: the system file, the
 * global ones, the repository's, then the environment's
 * GIT_CONFIG_COUNT/KEY_n/VALUE_n and GIT_CONFIG_PARAMETERS; and the
 * conditions of includeIf (gitdir:, gitdir/i:, onbranch:).
 */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "gitconfig-internal.h"
#include "reftable-refdb.h"

/* ---- files ---- */

char *config_expand_home(const char *path)
{
	const char *rest, *home;
	struct passwd *pw;
	struct sbuf sb = SBUF_INIT;

	if (path[0] != '~')
		return xstrdup(path);
	rest = strchrnul(path, '/');
	if (rest == path + 1) {
		home = getenv("HOME");
	} else {
		char *user = xstrndup(path + 1, (size_t)(rest - path - 1));
		pw = getpwnam(user);
		free(user);
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home)
		return NULL;
	sbuf_addstr(&sb, home);
	sbuf_addstr(&sb, rest);
	return sbuf_detach(&sb);
}

int config_read_file(struct git_config *cfg, const char *path)
{
	FILE *f = fopen(path, "r");
	struct sbuf text = SBUF_INIT;
	int err;

	if (!f) {
		/* Git skips what is not there and stops at what it cannot
		 * read. */
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return config_fail(cfg, "unable to access '%s': %s", path,
				   strerror(errno));
	}
	if (sbuf_read_stream(&text, f) < 0)
		err = config_fail(cfg, "error reading %s: %s", path,
				  strerror(errno));
	else
		err = config_parse(cfg, text.buf ? text.buf : "", text.len,
				   path);
	fclose(f);
	sbuf_release(&text);
	return err;
}

/* Git's boolean environment variables: unset is dflt. */
static int env_bool(const char *name, int dflt)
{
	const char *v = getenv(name);

	if (!v)
		return dflt;
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
	    !strcasecmp(v, "on"))
		return 1;
	if (!*v || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
	    !strcasecmp(v, "off"))
		return 0;
	return atoi(v) != 0;
}

static int read_global_files(struct git_config *cfg)
{
	const char *global = getenv("GIT_CONFIG_GLOBAL");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	char *path;
	int err = 0;

	if (global)
		return *global ? config_read_file(cfg, global) : 0;
	if (xdg && *xdg) {
		path = path_join(xdg, "git/config");
		err = config_read_file(cfg, path);
		free(path);
	} else if ((path = config_expand_home("~/.config/git/config"))) {
		err = config_read_file(cfg, path);
		free(path);
	}
	if (!err && (path = config_expand_home("~/.gitconfig"))) {
		err = config_read_file(cfg, path);
		free(path);
	}
	return err;
}

/* ---- the environment ---- */

/* "Section.sub.Name" made canonical and checked as Git checks a key
 * given on the command line. malloc'ed, or NULL with cfg->error. */
static char *env_key(struct git_config *cfg, const char *key)
{
	const char *last = strrchr(key, '.'), *first = strchr(key, '.');
	char *k;

	if (!*key)
		return config_fail(cfg, "empty config key"), NULL;
	if (!last || last == key)
		return config_fail(cfg, "key does not contain a section: %s",
				   key), NULL;
	if (!last[1])
		return config_fail(cfg, "key does not contain variable name: "
				   "%s", key), NULL;
	k = xstrdup(key);
	for (size_t i = 0, f = (size_t)(first - key), l = (size_t)(last - key);
	     k[i]; i++) {
		unsigned char c = (unsigned char)k[i];
		if (i > f && i < l) { /* the subsection: kept as it is */
			if (c == '\n')
				goto bad;
			continue;
		}
		if (i == f || i == l)
			continue;
		if (!(isalnum(c) || c == '-') || (i == l + 1 && !isalpha(c)))
			goto bad;
		k[i] = (char)tolower(c);
	}
	return k;
bad:
	free(k);
	return config_fail(cfg, "invalid key: %s", key), NULL;
}

static int env_pair(struct git_config *cfg, const char *key,
		    const char *value)
{
	char *k = env_key(cfg, key);
	int err;

	if (!k)
		return -1;
	err = config_handle_entry(cfg, k, value, NULL);
	free(k);
	return err;
}

static int read_env_count(struct git_config *cfg)
{
	const char *count = getenv("GIT_CONFIG_COUNT");
	char *end, name[64];
	unsigned long n;

	if (!count)
		return 0;
	n = strtoul(count, &end, 10);
	if (*end)
		return config_fail(cfg, "bogus count in GIT_CONFIG_COUNT");
	if (n > INT_MAX)
		return config_fail(cfg, "too many entries in GIT_CONFIG_COUNT");
	for (unsigned long i = 0; i < n; i++) {
		const char *key, *value;
		snprintf(name, sizeof(name), "GIT_CONFIG_KEY_%lu", i);
		if (!(key = getenv(name)))
			return config_fail(cfg, "missing config key %s", name);
		snprintf(name, sizeof(name), "GIT_CONFIG_VALUE_%lu", i);
		if (!(value = getenv(name)))
			return config_fail(cfg, "missing config value %s",
					   name);
		if (env_pair(cfg, key, value))
			return -1;
	}
	return 0;
}

/* One '...' word of GIT_CONFIG_PARAMETERS at *p, unquoted into out
 * ('\'' and '\!' between quoted parts stand for ' and !). 0 or -1. */
static int sq_word(const char **p, struct sbuf *out)
{
	const char *s = *p;

	sbuf_reset(out);
	sbuf_addstr(out, "");
	if (*s != '\'')
		return -1;
	for (;;) {
		char c = *++s;
		if (!c)
			return -1;
		if (c != '\'') {
			sbuf_addch(out, c);
			continue;
		}
		if (s[1] == '\\' && (s[2] == '\'' || s[2] == '!') &&
		    s[3] == '\'') {
			sbuf_addch(out, s[2]);
			s += 3;
			continue;
		}
		*p = s + 1;
		return 0;
	}
}

/* An old-style 'key=value' word (or 'key' alone). */
static int env_old_pair(struct git_config *cfg, char *text)
{
	char *eq = strchr(text, '=');

	if (eq)
		*eq = '\0';
	if (!*text)
		return config_fail(cfg, "bogus config parameter: %s", text);
	return env_pair(cfg, text, eq ? eq + 1 : NULL);
}

static int read_env_parameters(struct git_config *cfg)
{
	const char *p = getenv("GIT_CONFIG_PARAMETERS");
	struct sbuf key = SBUF_INIT, value = SBUF_INIT;
	int err = 0;

	while (p && *p && !err) {
		if (sq_word(&p, &key)) {
			err = -1;
		} else if (!*p || isspace((unsigned char)*p)) {
			err = env_old_pair(cfg, key.buf);
		} else if (*p == '=' && p[1] == '\'') {
			p++;
			err = sq_word(&p, &value);
			if (!err && *p && !isspace((unsigned char)*p))
				err = -1;
			if (!err)
				err = env_pair(cfg, key.buf, value.buf);
		} else if (*p == '=' && (!p[1] || isspace((unsigned char)p[1]))) {
			p++;
			err = env_pair(cfg, key.buf, NULL);
		} else {
			err = -1;
		}
		while (p && isspace((unsigned char)*p))
			p++;
	}
	if (err && !cfg->error)
		config_fail(cfg, "bogus format in GIT_CONFIG_PARAMETERS");
	sbuf_release(&key);
	sbuf_release(&value);
	return err;
}

struct git_config *git_config_load(const char *gitdir)
{
	struct git_config *cfg = xmalloc(sizeof(*cfg));
	const char *system = getenv("GIT_CONFIG_SYSTEM");
	int err = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->gitdir = gitdir ? xstrdup(gitdir) : NULL;
	if (!env_bool("GIT_CONFIG_NOSYSTEM", 0))
		err = config_read_file(cfg, system ? system : "/etc/gitconfig");
	if (!err)
		err = read_global_files(cfg);
	if (!err && gitdir) {
		char *path = path_join(gitdir, "config");
		int b = 0;
		err = config_read_file(cfg, path);
		free(path);
		/* The main work tree's own file, as Git reads it. */
		if (!err && !git_config_get_bool(cfg, "extensions.worktreeConfig",
						 &b) && b) {
			path = path_join(gitdir, "config.worktree");
			err = config_read_file(cfg, path);
			free(path);
		}
	}
	if (!err)
		err = read_env_count(cfg);
	if (!err)
		read_env_parameters(cfg);
	return cfg;
}

struct git_config *git_config_load_repo_file(const char *gitdir)
{
	struct git_config *cfg = xmalloc(sizeof(*cfg));
	char *path = path_join(gitdir, "config");

	memset(cfg, 0, sizeof(*cfg));
	cfg->no_includes = 1;
	config_read_file(cfg, path);
	free(path);
	return cfg;
}

/* ---- includeIf conditions ---- */

/* The pattern of gitdir:PAT as Git completes it: ~ expanded, ./ relative
 * to the including file, **'/' before a relative one, ** after a '/'. */
static char *gitdir_pattern(struct git_config *cfg, const char *cond,
			    size_t len, const char *fname, size_t *literal)
{
	char *raw = xstrndup(cond, len), *exp = config_expand_home(raw);
	struct sbuf pat = SBUF_INIT;

	*literal = 0;
	free(raw);
	if (!exp)
		return NULL;
	if (exp[0] == '.' && exp[1] == '/') {
		char *real = fname ? realpath(fname, NULL) : NULL;
		char *slash = real ? strrchr(real, '/') : NULL;
		if (!slash) {
			free(real);
			free(exp);
			config_fail(cfg, "relative config include conditionals "
					 "must come from files");
			return NULL;
		}
		sbuf_add(&pat, real, (size_t)(slash - real));
		*literal = pat.len + 1; /* no wildcards in the file's path */
		sbuf_addstr(&pat, exp + 1);
		free(real);
	} else {
		if (exp[0] != '/')
			sbuf_addstr(&pat, "**/");
		sbuf_addstr(&pat, exp);
	}
	free(exp);
	if (pat.len && pat.buf[pat.len - 1] == '/')
		sbuf_addstr(&pat, "**");
	return sbuf_detach(&pat);
}

static int path_matches(const char *pat, size_t literal, const char *text,
			int icase)
{
	if (strlen(text) < literal)
		return 0;
	if (literal && (icase ? strncasecmp(pat, text, literal)
			      : strncmp(pat, text, literal)))
		return 0;
	return wildmatch_path(pat + literal, text + literal, icase);
}

/* Git matches the real path of the Git directory, then as given. */
static int include_by_gitdir(struct git_config *cfg, const char *cond,
			     size_t len, const char *fname, int icase)
{
	size_t literal;
	char *pat, *real;
	int hit;

	if (!cfg->gitdir)
		return 0;
	if (!(pat = gitdir_pattern(cfg, cond, len, fname, &literal)))
		return cfg->error ? -1 : 0;
	real = realpath(cfg->gitdir, NULL);
	hit = real && path_matches(pat, literal, real, icase);
	if (!hit) {
		char *abs = cfg->gitdir[0] == '/' ? xstrdup(cfg->gitdir) : NULL;
		if (!abs) {
			char *cwd = getcwd(NULL, 0);
			abs = cwd ? path_join(cwd, cfg->gitdir) : NULL;
			free(cwd);
		}
		hit = abs && path_matches(pat, literal, abs, icase);
		free(abs);
	}
	free(real);
	free(pat);
	return hit;
}

/* The branch HEAD names (refs/heads/ taken off), malloc'ed, or NULL. */
static char *current_branch(const char *gitdir)
{
	char *stack = path_join(gitdir, "reftable"), *list;
	struct reftable_refdb_options opts;
	struct reftable_refdb *db = NULL;
	struct reftable_ref_record head = { 0 };
	char *branch = NULL;
	struct stat st;

	list = path_join(stack, "tables.list");
	reftable_refdb_options_init(&opts);
	opts.stack.write.hash_id = stack_hash_from_tables(stack);
	if (!opts.stack.write.hash_id)
		opts.stack.write.hash_id = REFTABLE_HASH_SHA1;
	if (!stat(list, &st) && !reftable_refdb_open(&db, stack, &opts) &&
	    !reftable_refdb_read_ref(db, "HEAD", &head) &&
	    head.value_type == REFTABLE_REF_SYMREF &&
	    !strncmp(head.target, "refs/heads/", 11))
		branch = xstrdup(head.target + 11);
	reftable_ref_record_release(&head);
	if (db)
		reftable_refdb_close(db);
	free(list);
	free(stack);
	return branch;
}

static int include_by_branch(struct git_config *cfg, const char *cond,
			     size_t len)
{
	char *branch, *pat;
	int hit;

	if (!cfg->gitdir || !(branch = current_branch(cfg->gitdir)))
		return 0;
	pat = xmalloc(len + 3);
	memcpy(pat, cond, len);
	strcpy(pat + len, len && cond[len - 1] == '/' ? "**" : "");
	hit = wildmatch_path(pat, branch, 0);
	free(pat);
	free(branch);
	return hit;
}

int config_condition(struct git_config *cfg, const char *cond, size_t len,
		     const char *fname)
{
	static const struct {
		const char *prefix;
		int kind; /* 0 gitdir, 1 gitdir/i, 2 onbranch */
	} kinds[] = {
		{ "gitdir:", 0 }, { "gitdir/i:", 1 }, { "onbranch:", 2 },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++) {
		size_t n = strlen(kinds[i].prefix);
		if (len < n || strncmp(cond, kinds[i].prefix, n))
			continue;
		if (kinds[i].kind == 2)
			return include_by_branch(cfg, cond + n, len - n);
		return include_by_gitdir(cfg, cond + n, len - n, fname,
					 kinds[i].kind);
	}
	return 0; /* Git takes unknown conditions as false */
}
