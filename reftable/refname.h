#ifndef REFNAME_H
#define REFNAME_H

/* Internal: ref-name rules shared by the ref database. The public checks
 * are declared in reftable-refdb.h. */

#include <stddef.h>

/* 1 if name is FETCH_HEAD or MERGE_HEAD, which Git keeps as files. */
int refname_is_pseudoref(const char *name);

/* 1 if name lies below the directory dir: "refs/a/b" below "refs/a". */
int refname_is_below(const char *name, const char *dir, size_t dir_len);

#endif
