#ifndef STRESS_SUPERVISOR_H
#define STRESS_SUPERVISOR_H

/* The supervisor's state, shared by driver.c and final.c. */

#include <sys/types.h>

#include "stress.h"

#define ARGV_MAX 64

struct argv_buf {
	char store[ARGV_MAX][4096];
	char *argv[ARGV_MAX + 1];
	int n;
};

struct super {
	const struct stress_opts *o;
	struct layout l;
	const char *argv0;
	char self[4096];    /* this binary, re-executed for each worker */
	char run_dir[4096];
	pid_t supervisor_pid;
	struct shm *shm;
	struct reftable_stack *st; /* to break locks */
	uint64_t rng;

	int nslots;
	pid_t pid[STRESS_MAX_WORKERS]; /* 0: not running */
	int instance[STRESS_MAX_WORKERS];
	int restart_pending[STRESS_MAX_WORKERS];
	double frozen_until[STRESS_MAX_WORKERS]; /* 0: running */

	int need_lock_break;
	int barrier_gen;
	uint64_t barriers, locks_broken, kills, kills_mid_op, restarts;
	uint64_t freezes, freezes_mid_op;
	uint64_t violations;     /* found by the supervisor itself */
	uint64_t worker_failures;/* workers that ended badly at the stop */
	uint64_t harness_errors;
	double elapsed;
	double first_violation; /* seconds into the run; 0: none */
};

/* The role of slot i. */
const char *slot_role(const struct super *s, int i);

/* Every knob as command-line arguments. */
void knob_args(struct argv_buf *a, const struct stress_opts *o);

/* The checks after all workers stopped, and the summary line; returns
 * the exit code. */
int final_checks(struct super *s);

#endif
