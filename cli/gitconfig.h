#ifndef GITCONFIG_H
#define GITCONFIG_H

/*
 * Git's configuration as Git reads it: the system file, the global
 * files, the repository's config, then GIT_CONFIG_COUNT/KEY_n/VALUE_n and
 * GIT_CONFIG_PARAMETERS, with include.path and includeIf.COND.path
 * followed where they stand. The last value of a key wins.
 *
 * Files (Git's rules): $GIT_CONFIG_SYSTEM or /etc/gitconfig unless
 * GIT_CONFIG_NOSYSTEM is true; $GIT_CONFIG_GLOBAL, or else
 * $XDG_CONFIG_HOME/git/config (~/.config/git/config) and ~/.gitconfig;
 * GITDIR/config, then GITDIR/config.worktree if extensions.worktreeConfig
 * is true (the main work tree's; a linked work tree's own file is not
 * read: the tool works on the shared Git directory). Conditions understood: gitdir:, gitdir/i: and onbranch:
 * (HEAD read from GITDIR/reftable, or from the HEAD file); others are
 * false, as Git takes conditions it does not know.
 */

#include <stdint.h>

struct git_config;

/* Read the configuration; gitdir NULL reads no repository file. Never
 * NULL; a syntax error or a bad include is kept for git_config_error(),
 * with the values read before it. */
struct git_config *git_config_load(const char *gitdir);

/* GITDIR/config alone, its includes not followed: what Git reads to learn
 * the repository's format (extensions.objectFormat). Never NULL. */
struct git_config *git_config_load_repo_file(const char *gitdir);

/* Git's message for what stopped the reading ("bad config line 3 in file
 * X"), or NULL if everything was read. */
const char *git_config_error(const struct git_config *cfg);

/*
 * The last value of key: "section.name" or "section.sub.name"; section
 * and name in any case, the subsection exact. NULL if unset. A key
 * written without '=' ("[core] bare") reads as "true", which Git takes
 * as true wherever it wants a boolean.
 */
const char *git_config_get(const struct git_config *cfg, const char *key);

/* Git's booleans: true yes on / false no off "" in any case, or an
 * integer (non-zero is true). 0 ok, 1 unset, -1 bad value. */
int git_config_get_bool(const struct git_config *cfg, const char *key,
			int *out);

/*
 * Git's integers: decimal, 0x hex or 0 octal, then an optional unit k, m
 * or g (1024, 1024^2, 1024^3). _ulong refuses a '-' anywhere. Values
 * above max (or below -max-1) are out of range. 0 ok, 1 unset, -1 bad
 * value (see git_config_bad_number for Git's message).
 */
int git_config_get_ulong(const struct git_config *cfg, const char *key,
			 uint64_t max, uint64_t *out);
int git_config_get_int64(const struct git_config *cfg, const char *key,
			 int64_t max, int64_t *out);

/* Git's message for a key whose number did not parse: "bad numeric config
 * value 'V' for 'KEY' in file F: invalid unit" (or ": out of range");
 * malloc'ed. Call right after the failed git_config_get_* (it reads
 * errno). */
char *git_config_bad_number(const struct git_config *cfg, const char *key);

void git_config_free(struct git_config *cfg);

/* Parse one file's text as Git would, into a fresh configuration (for
 * tests and for files named outside a repository). fname names it in
 * messages and is where relative includes are resolved. */
struct git_config *git_config_parse_text(const char *text, size_t len,
					 const char *fname);

#endif
