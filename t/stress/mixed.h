#ifndef STRESS_MIXED_H
#define STRESS_MIXED_H

/*
 * Mixed counters (refs/mixed/cK): moved up by one per transaction, with
 * compare-and-swap, by Git (`git update-ref --stdin`, git.c) and by our
 * writers (the library) alike. Git writes only ids of objects that
 * exist, so value n of counter c is a blob the supervisor put into the
 * repository before the run ("mixed c n"); the table of their ids is in
 * the run directory (mixed-values), one line "c n hex" each.
 *
 * Every attempt has a name ("g5.0.17": slot 5, instance 0, attempt 17)
 * that is its reflog message ("mixed g5.0.17"), and is journaled in
 * journal/mSLOT: "T name c n" before it starts (n the value it moves
 * to), then "A name c n" once it was acknowledged or "R name c n" once
 * it was refused. The final check (mixed_final) reads the counter's
 * reflog: one entry per step 1..n, each step taken once, each by an
 * attempt that tried it, none refused, every acknowledged one present.
 */

#include <stdint.h>

#include "stress.h"

#define MIXED_PREFIX "refs/mixed/"

struct mixed {
	int counters, max;  /* values 1..max of each counter */
	uint8_t *ids;       /* [c][n], n = 0 the null id */
	struct mixed_key *sorted; /* every id, for the reverse lookup */
	int journal;        /* journal/mSLOT, append */
	int fsync;
	char tag[32];       /* "o3.1" (ours) or "g5.0" (Git) */
	uint64_t attempts;
};

/* Load the table; open this slot's journal. tag names the process. */
int mixed_open(struct mixed *m, const struct stress_opts *o, char kind);
void mixed_close(struct mixed *m);

const uint8_t *mixed_id(const struct mixed *m, int c, int n);
void mixed_refname(int c, char *buf, size_t cap);

/* The value n of the counter now (0: absent); -1 on a read error or a
 * value no step writes (a violation, reported). */
int mixed_current(const struct mixed *m, struct reftable_refdb *db, int c,
		  struct violation_sink *vs);

/* Name the next attempt and journal "T". */
void mixed_try(struct mixed *m, int c, int n, char *name, size_t cap,
	       struct violation_sink *vs);
/* Journal the outcome: 'A' acknowledged, 'R' refused. */
void mixed_outcome(struct mixed *m, char what, const char *name, int c,
		   int n, struct violation_sink *vs);

/* One step through the library (our writers). */
void mixed_step_ours(struct mixed *m, struct reftable_refdb *db,
		     struct slot *me, struct shm *shm,
		     struct violation_sink *vs, uint64_t *rng);

/* Totals of the final check. */
struct mixed_totals {
	uint64_t steps;        /* steps in the counters' reflogs */
	uint64_t git_acked, ours_acked, refused, unfinished;
	uint64_t lost;         /* acknowledged, not in the reflog */
};

/* Supervisor: the run directory as a bare Git repository with the
 * value blobs (before the stack is opened). 0 or -1. */
int mixed_setup_repo(const struct stress_opts *o, const char *run_dir);

/* After the run: the checks above on db, and Git's view of it. */
void mixed_final(const struct stress_opts *o, const char *run_dir,
		 struct reftable_refdb *db, struct violation_sink *vs,
		 struct mixed_totals *t);

#endif
