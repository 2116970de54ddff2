/*
 * Git in the stress run (--git-writers, --git-compactors): worker roles
 * that run Git 2.55 on the run directory, a bare Git repository whose
 * reftable stack is the one every other worker uses.
 *
 * A Git writer moves a mixed counter (mixed.h) up by one per `git
 * update-ref --stdin`, with compare-and-swap on the old value, reading
 * the current value through the library first. A Git compactor runs
 * `git pack-refs` (all tables into one) or `git pack-refs --auto`. Git
 * processes are never killed (the killer picks only our writers and
 * compactors); their workers park for the barrier between two Git
 * processes, so a barrier never breaks a live Git lock.
 *
 * A Git failure is a refusal; it is one of: the compare-and-swap failed
 * (another writer moved the counter), a lock was busy past Git's
 * timeout, or (pack-refs) the stack changed under the compaction ("data
 * concurrently modified"). Anything else is a violation. `git pack-refs
 * --auto` reports the last two by its exit status alone, without a
 * message: 251 and 244 are REFTABLE_LOCK_ERROR (-5) and
 * REFTABLE_OUTDATED_ERROR (-12) of Git's library, truncated.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "git.h"
#include "mixed.h"
#include "reftable-error.h"

static void git_env(void)
{
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	setenv("GIT_COMMITTER_NAME", "git-stress", 1);
	setenv("GIT_COMMITTER_EMAIL", "git@example.com", 1);
	unsetenv("GIT_DIR");
}

int git_run(const char *const *argv, const char *input, char *out,
	    size_t cap)
{
	int in[2], err[2], status;
	size_t len = 0;
	ssize_t r;
	pid_t pid;

	if (pipe(in) < 0 || pipe(err) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(in[0], 0);
		dup2(err[1], 2);
		dup2(err[1], 1);
		if (null >= 0 && !out)
			dup2(null, 1);
		close(in[1]);
		close(err[0]);
		git_env();
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(err[1]);
	/* Input fits the pipe. A Git that died before reading it fails the
	 * write with EPIPE (SIGPIPE is ignored): its status says why. */
	if (input && write(in[1], input, strlen(input)) < 0 && errno != EPIPE)
		say("writing to git: %s", strerror(errno));
	close(in[1]);
	while (out && (r = read(err[0], out + len, cap - 1 - len)) > 0)
		len += (size_t)r;
	if (out)
		out[len] = '\0';
	close(err[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* "-c name=value" pairs every Git process of the run gets. */
static int git_base_args(const struct stress_opts *o, const char **argv,
			 char *timeout, size_t cap)
{
	int n = 0;

	snprintf(timeout, cap, "reftable.lockTimeout=%d", o->lock_timeout_ms);
	argv[n++] = o->git;
	argv[n++] = "-C";
	argv[n++] = o->run_dir;
	argv[n++] = "-c";
	argv[n++] = timeout;
	argv[n++] = "-c";
	argv[n++] = "core.logAllRefUpdates=always";
	argv[n++] = "-c";
	argv[n++] = o->fsync ? "core.fsync=reference" : "core.fsync=none";
	return n;
}

static int is_conflict(const char *err)
{
	return strstr(err, "but expected") || strstr(err, "already exists") ||
	       strstr(err, "unable to resolve reference");
}

static int is_lock_busy(int rc, const char *err)
{
	return rc == 251 || strstr(err, "lock") || strstr(err, "Lock");
}

static int is_outdated(int rc, const char *err)
{
	return rc == 244 || strstr(err, "data concurrently modified");
}

struct git_worker {
	const struct stress_opts *o;
	struct shm *shm;
	struct slot *me;
	struct violation_sink vs;
	uint64_t rng;
};

static int worker_init(struct git_worker *g, const struct stress_opts *o)
{
	signal(SIGPIPE, SIG_IGN);
	memset(g, 0, sizeof(*g));
	g->o = o;
	g->rng = rng_mix(o->seed, (uint64_t)o->index << 32 | (uint32_t)o->instance);
	g->shm = shm_map(o->run_dir, 0);
	if (!g->shm)
		return -1;
	g->me = &g->shm->slots[o->index];
	g->vs.count = &g->me->violations;
	g->vs.max_print = 20;
	return 0;
}

/* A failure of Git that is not a refusal by the rules above. */
static void git_failed(struct git_worker *g, const char *what, int rc,
		       const char *err)
{
	violation(&g->vs, "%s failed (exit %d) for a reason other than a "
			  "compare-and-swap or a busy lock: %.300s",
		  what, rc, err);
}

static void git_step(struct git_worker *g, struct mixed *m,
		     struct reftable_refdb *db)
{
	int c = (int)rng_below(&g->rng, (uint64_t)m->counters);
	int n = mixed_current(m, db, c, &g->vs), rc, k;
	char refname[64], name[64], msg[80], input[512], err[4096];
	char newhex[2 * STRESS_OID_LEN + 1], oldhex[2 * STRESS_OID_LEN + 1];
	char timeout[64];
	const char *argv[24];

	if (n < 0 || n >= m->max) {
		sleep_us(10000);
		return;
	}
	mixed_refname(c, refname, sizeof(refname));
	hex_encode(newhex, mixed_id(m, c, n + 1), STRESS_OID_LEN);
	hex_encode(oldhex, mixed_id(m, c, n), STRESS_OID_LEN);
	mixed_try(m, c, n + 1, name, sizeof(name), &g->vs);
	snprintf(msg, sizeof(msg), "mixed %s", name);
	/* A third of the steps as an explicit transaction. */
	if (rng_below(&g->rng, 3))
		snprintf(input, sizeof(input), "update %s %s %s\n", refname,
			 newhex, oldhex);
	else
		snprintf(input, sizeof(input),
			 "start\nupdate %s %s %s\nprepare\ncommit\n",
			 refname, newhex, oldhex);
	k = git_base_args(g->o, argv, timeout, sizeof(timeout));
	argv[k++] = "update-ref";
	argv[k++] = "-m";
	argv[k++] = msg;
	argv[k++] = "--stdin";
	argv[k] = NULL;
	rc = git_run(argv, input, err, sizeof(err));
	if (rc == 0) {
		mixed_outcome(m, 'A', name, c, n + 1, &g->vs);
		shm_add(&g->me->mixed_acked, 1);
		shm_add(&g->me->commits, 1);
		return;
	}
	mixed_outcome(m, 'R', name, c, n + 1, &g->vs);
	shm_add(&g->me->mixed_refused, 1);
	if (is_conflict(err))
		shm_add(&g->me->conflicts, 1);
	else if (is_outdated(rc, err))
		shm_add(&g->me->outdated, 1);
	else if (is_lock_busy(rc, err))
		shm_add(&g->me->lock_retries, 1);
	else
		git_failed(g, "git update-ref", rc, err);
}

int run_git_writer(const struct stress_opts *o)
{
	struct reftable_refdb_options ro;
	struct reftable_refdb *db = NULL;
	struct git_worker g;
	struct mixed m;
	char dir[4200];
	int rc = 0;

	if (worker_init(&g, o) < 0)
		return 2;
	refdb_opts_from(&ro, o, "git-writer-reader");
	stack_dir(dir, sizeof(dir), o, o->run_dir);
	if (mixed_open(&m, o, 'g') < 0 || reftable_refdb_open(&db, dir, &ro)) {
		rc = 2;
		goto done;
	}
	while (!shm_load_int(&g.shm->stop)) {
		worker_park_if_asked(g.shm, g.me);
		git_step(&g, &m, db);
	}
done:
	reftable_refdb_close(db);
	mixed_close(&m);
	if (g.vs.printed)
		rc = 1;
	shm_unmap(g.shm);
	return rc;
}

int run_git_compactor(const struct stress_opts *o)
{
	struct git_worker g;
	char timeout[64], err[4096];
	const char *argv[24];
	int k, rc;

	if (worker_init(&g, o) < 0)
		return 2;
	while (!shm_load_int(&g.shm->stop)) {
		worker_park_if_asked(g.shm, g.me);
		k = git_base_args(o, argv, timeout, sizeof(timeout));
		argv[k++] = "pack-refs";
		if (rng_below(&g.rng, 2))
			argv[k++] = "--auto";
		argv[k] = NULL;
		rc = git_run(argv, NULL, err, sizeof(err));
		if (rc == 0)
			shm_add(&g.me->compactions, 1);
		else if (is_outdated(rc, err))
			shm_add(&g.me->outdated, 1);
		else if (is_lock_busy(rc, err))
			shm_add(&g.me->lock_retries, 1);
		else
			git_failed(&g, "git pack-refs", rc, err);
		sleep_us((long)rng_below(&g.rng, 20000));
	}
	rc = g.vs.printed ? 1 : 0;
	shm_unmap(g.shm);
	return rc;
}
