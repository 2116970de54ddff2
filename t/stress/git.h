#ifndef STRESS_GIT_H
#define STRESS_GIT_H

/* Git processes in the stress run (git.c) and Git's view at the end
 * (git-final.c). */

#include <stddef.h>

#include "stress.h"

/*
 * Run argv (argv[0] the Git binary) with input on its stdin; its stdout
 * and stderr go to out (cap bytes, NUL-terminated) if out is not NULL.
 * Returns the exit status, 128 + the signal, or -1 if it could not run.
 */
int git_run(const char *const *argv, const char *input, char *out,
	    size_t cap);

int run_git_writer(const struct stress_opts *o);
int run_git_compactor(const struct stress_opts *o);

/*
 * After the run, with every worker stopped: Git and the library read the
 * same refs (`git for-each-ref` against the merged view), `git refs
 * verify` finds nothing, and with --git-records Git's library prints the
 * records `reftable dump --records` prints. Violations go to vs.
 */
void git_final_views(const struct stress_opts *o, const char *run_dir,
		     struct reftable_refdb *db, struct violation_sink *vs);

#endif
