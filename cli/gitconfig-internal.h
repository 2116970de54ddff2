#ifndef GITCONFIG_INTERNAL_H
#define GITCONFIG_INTERNAL_H

/* Between the parser (gitconfig.c) and the loader (gitconfig-load.c). */

#include <stddef.h>

#include "gitconfig.h"

/* One key = value, key canonical: section and name lower-case. */
struct config_entry {
	char *key;
	char *value;        /* NULL: written without '=' */
	const char *origin; /* the file (interned in origins), NULL: env */
};

struct git_config {
	struct config_entry *entries;
	size_t n, cap;
	char **origins; /* file names, owned */
	size_t n_origins;
	char *error;      /* the first failure, owned */
	char *gitdir;     /* for includeIf conditions; NULL: none */
	int include_depth;
	int no_includes; /* read include.path as a plain key */
};

/* Git gives up beyond this many nested includes. */
#define CONFIG_MAX_INCLUDE_DEPTH 10

/* Add key (already canonical) = value (NULL allowed) from origin. */
void config_add(struct git_config *cfg, const char *key, const char *value,
		const char *origin);

/* Add an entry read from fname (NULL: the environment) and follow it if
 * it is an include. 0, or -1 with cfg->error set. */
int config_handle_entry(struct git_config *cfg, const char *key,
			const char *value, const char *fname);

/* Record the first error; later ones are dropped. Always returns -1. */
int config_fail(struct git_config *cfg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Read and parse the file at path (origin names it in messages: Git
 * prints the path as given). A file that does not exist is skipped (0);
 * one that cannot be read is an error. 0 or -1.
 */
int config_read_file(struct git_config *cfg, const char *path);

/* The parser, on a file's text. 0 or -1 (with cfg->error). */
int config_parse(struct git_config *cfg, const char *text, size_t len,
		 const char *fname);

/* Is includeIf's condition (cond, len bytes) true? fname is the file
 * that holds it. 1, 0, or -1 with cfg->error set. */
int config_condition(struct git_config *cfg, const char *cond, size_t len,
		     const char *fname);

/* ~/x and ~user/x expanded; malloc'ed, or NULL if it cannot be. */
char *config_expand_home(const char *path);

#endif
