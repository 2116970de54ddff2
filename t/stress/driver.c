/*
 * The supervisor: makes the run directory, starts the workers, kills and
 * restarts writers and compactors, breaks the locks the dead leave, stops
 * everyone and runs the final checks (final.c).
 *
 * Dead processes' locks (Documentation/stress.md explains the choice):
 * by default the "barrier" policy. The supervisor reaps each victim, so
 * it knows it is dead, and reads the phase the victim last published.
 * If the victim died outside the library's locking calls it held no
 * lock. Otherwise the supervisor raises a barrier: every live writer and
 * compactor parks at its next point outside the library, where it holds
 * no lock; readers take no locks. Once all are parked, any lock file in
 * the directory can only belong to the dead, and
 * reftable_stack_break_stale_locks() removes it (break_all_locks). With
 * --lock-policy age:N the supervisor instead breaks locks twice a second,
 * those unchanged for N seconds whose owners the library proves dead
 * from the evidence in the lock: a frozen (SIGSTOPped) owner is alive,
 * and keeps its lock however long it is frozen.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mixed.h"
#include "reftable-error.h"
#include "stress.h"
#include "supervisor.h"

/* --- command lines --------------------------------------------------- */

static void arg_add(struct argv_buf *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void arg_add(struct argv_buf *a, const char *fmt, ...)
{
	va_list ap;

	if (a->n >= ARGV_MAX - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(a->store[a->n], sizeof(a->store[a->n]), fmt, ap);
	va_end(ap);
	a->argv[a->n] = a->store[a->n];
	a->n++;
	a->argv[a->n] = NULL;
}

/* Every knob, so a worker (or a rerun) sees exactly this run's setup. */
void knob_args(struct argv_buf *a, const struct stress_opts *o)
{
	arg_add(a, "--duration");
	arg_add(a, "%g", o->duration);
	arg_add(a, "--writers");
	arg_add(a, "%d", o->writers);
	arg_add(a, "--readers");
	arg_add(a, "%d", o->readers);
	arg_add(a, "--compactors");
	arg_add(a, "%d", o->compactors);
	arg_add(a, "--kill-rate");
	arg_add(a, "%g", o->kill_rate);
	if (o->freeze_rate > 0) {
		arg_add(a, "--freeze-rate");
		arg_add(a, "%g", o->freeze_rate);
	}
	arg_add(a, "--seed");
	arg_add(a, "%llu", (unsigned long long)o->seed);
	arg_add(a, "--dir");
	arg_add(a, "%s", o->dir);
	arg_add(a, "--content-reload");
	arg_add(a, "%s", o->content_reload ? "on" : "off");
	arg_add(a, "--background-close");
	arg_add(a, "%s", o->background_close ? "on" : "off");
	arg_add(a, "--fsync");
	arg_add(a, "%s", o->fsync ? "on" : "off");
	arg_add(a, "--compaction");
	arg_add(a, "%s", o->compaction ? "on" : "off");
	arg_add(a, "--lock-timeout");
	arg_add(a, "%d", o->lock_timeout_ms);
	arg_add(a, "--lock-policy");
	if (o->lock_age < 0)
		arg_add(a, "barrier");
	else
		arg_add(a, "age:%d", o->lock_age);
	arg_add(a, "--private");
	arg_add(a, "%d", o->private_counters);
	arg_add(a, "--shared");
	arg_add(a, "%d", o->shared_counters);
	arg_add(a, "--pairs");
	arg_add(a, "%d", o->pairs);
	arg_add(a, "--block-size");
	arg_add(a, "%u", o->block_size);
	arg_add(a, "--reader-sleep");
	arg_add(a, "%d", o->reader_sleep_us);
	if (o->fail_fast)
		arg_add(a, "--fail-fast");
	if (o->mounts[0]) {
		arg_add(a, "--mounts");
		arg_add(a, "%s,%s", o->mounts[0], o->mounts[1]);
		arg_add(a, "--mount-split");
		arg_add(a, o->readers_apart ? "readers" : "alternate");
	}
	if (o->stale_bound > 0) {
		arg_add(a, "--stale-bound");
		arg_add(a, "%g", o->stale_bound);
	}
	if (o->cli) {
		arg_add(a, "--reftable");
		arg_add(a, "%s", o->cli);
	}
	if (o->git) {
		arg_add(a, "--git");
		arg_add(a, "%s", o->git);
		arg_add(a, "--git-writers");
		arg_add(a, "%d", o->git_writers);
		arg_add(a, "--git-compactors");
		arg_add(a, "%d", o->git_compactors);
		arg_add(a, "--mixed");
		arg_add(a, "%d", o->mixed_counters);
		arg_add(a, "--mixed-values");
		arg_add(a, "%d", o->mixed_values);
	}
	if (o->git_records) {
		arg_add(a, "--git-records");
		arg_add(a, "%s", o->git_records);
	}
}

/* --- workers ----------------------------------------------------------- */

/* Slots in order: writers, readers, compactors, Git writers, Git
 * compactors. */
const char *slot_role(const struct super *s, int i)
{
	const struct stress_opts *o = s->o;

	if (i < o->writers)
		return "writer";
	if (i < o->writers + o->readers)
		return "reader";
	if (i < o->writers + o->readers + o->compactors)
		return "compactor";
	if (i < o->writers + o->readers + o->compactors + o->git_writers)
		return "git-writer";
	return "git-compactor";
}

/* The killer and the freezer pick our writers and compactors only. */
static int killable(const struct super *s, int i)
{
	const char *role = slot_role(s, i);

	return !strcmp(role, "writer") || !strcmp(role, "compactor");
}

/* Everyone but readers parks for a barrier: Git's workers between two
 * Git processes, so a barrier never breaks a live Git lock. */
static int parks(const struct super *s, int i)
{
	return strcmp(slot_role(s, i), "reader") != 0;
}

static void spawn(struct super *s, int i)
{
	struct argv_buf a;
	pid_t pid;

	a.n = 0;
	arg_add(&a, "%s", s->self);
	knob_args(&a, s->o);
	arg_add(&a, "--worker-role");
	arg_add(&a, "%s", slot_role(s, i));
	arg_add(&a, "--worker-index");
	arg_add(&a, "%d", i);
	arg_add(&a, "--worker-instance");
	arg_add(&a, "%d", s->instance[i]);
	arg_add(&a, "--run-dir");
	arg_add(&a, "%s", s->run_dir);

	shm_store_int(&s->shm->slots[i].phase, PHASE_IDLE);
	pid = fork();
	if (pid < 0) {
		say("fork: %s", strerror(errno));
		s->harness_errors++;
		return;
	}
	if (pid == 0) {
		/* Do not outlive the supervisor, whatever kills it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != s->supervisor_pid)
			_exit(3);
		execv(s->self, a.argv);
		_exit(127);
	}
	s->pid[i] = pid;
	shm_store_int(&s->shm->slots[i].pid, (int)pid);
}

static int slot_of(const struct super *s, pid_t pid)
{
	int i;

	for (i = 0; i < s->nslots; i++)
		if (s->pid[i] == pid)
			return i;
	return -1;
}

/* A worker ended without being asked to: that is a failure. */
static void unexpected_exit(struct super *s, int i, int status)
{
	if (WIFEXITED(status))
		say("VIOLATION: %s %d.%d exited on its own with status %d",
		    slot_role(s, i), i, s->instance[i], WEXITSTATUS(status));
	else
		say("VIOLATION: %s %d.%d died of signal %d", slot_role(s, i),
		    i, s->instance[i], WTERMSIG(status));
	s->violations++;
	s->pid[i] = 0;
	if (shm_load_int(&s->shm->slots[i].phase) != PHASE_IDLE)
		s->need_lock_break = 1;
	s->instance[i]++;
	s->restart_pending[i] = 1;
}

/* Collect workers that died by themselves (no blocking). */
static void reap_unexpected(struct super *s)
{
	int status, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		i = slot_of(s, pid);
		if (i >= 0)
			unexpected_exit(s, i, status);
	}
}

/* --- dead processes' locks --------------------------------------------- */

/* age < 0: every lock (all their owners are known to be dead). */
static void break_locks(struct super *s, int age)
{
	struct reftable_break_options bo = { 0 };
	int n;

	bo.min_age_seconds = age < 0 ? 0 : (uint64_t)age;
	n = age < 0 ? break_all_locks(s->st) :
		      reftable_stack_break_stale_locks(s->st, &bo);

	if (n < 0) {
		say("VIOLATION: breaking stale locks failed: %s: %s",
		    reftable_error_str(n), reftable_error_detail());
		s->violations++;
		return;
	}
	s->locks_broken += (uint64_t)n;
	/* Under the age policy the owner may be alive: tell the workers. */
	if (n > 0 && s->o->lock_age >= 0)
		shm_add(&s->shm->lock_breaks, 1);
}

static int all_parked(struct super *s, int gen)
{
	int i;

	for (i = 0; i < s->nslots; i++)
		if (parks(s, i) && s->pid[i] &&
		    shm_load_int(&s->shm->slots[i].parked) != gen)
			return 0;
	return 1;
}

/*
 * Park every live writer and compactor outside the library, then break
 * whatever locks remain: they can only be the dead's.
 */
static void barrier_break(struct super *s)
{
	double deadline = now_seconds() + 120;
	int gen = ++s->barrier_gen;

	shm_store_int(&s->shm->barrier, gen);
	while (!all_parked(s, gen)) {
		reap_unexpected(s);
		if (now_seconds() > deadline) {
			say("VIOLATION: workers did not park within 120 s "
			    "(a call stuck in the library?)");
			s->violations++;
			break;
		}
		sleep_us(200);
	}
	if (all_parked(s, gen))
		break_locks(s, -1);
	shm_store_int(&s->shm->barrier, 0);
	s->barriers++;
	s->need_lock_break = 0;
}

/* --- the killer ---------------------------------------------------------- */

static int pick_victim(struct super *s)
{
	int candidates[STRESS_MAX_WORKERS], n = 0, i;

	for (i = 0; i < s->nslots; i++)
		if (killable(s, i) && s->pid[i])
			candidates[n++] = i;
	return n ? candidates[rng_below(&s->rng, (uint64_t)n)] : -1;
}

/*
 * Half of the kills aim at a victim inside a commit or compaction: wait
 * (up to 300 ms) until it is in one, then a random few microseconds more.
 * The other half strike at once.
 */
static void kill_one(struct super *s)
{
	int i = pick_victim(s), status, phase;
	struct slot *sl;
	pid_t pid;

	if (i < 0)
		return;
	sl = &s->shm->slots[i];
	if (rng_below(&s->rng, 2)) {
		double until = now_seconds() + 0.3;
		while (shm_load_int(&sl->phase) == PHASE_IDLE &&
		       now_seconds() < until)
			sleep_us(100);
		sleep_us((long)rng_below(&s->rng, 3000));
	}
	pid = s->pid[i];
	kill(pid, SIGKILL);
	s->frozen_until[i] = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	s->pid[i] = 0;
	s->kills++;
	/* Dead now: the phase it published last is the one it died in. */
	phase = shm_load_int(&sl->phase);
	if (phase != PHASE_IDLE) {
		s->kills_mid_op++;
		s->need_lock_break = 1;
	}
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		say("VIOLATION: %s %d.%d ended before the kill (status %d)",
		    slot_role(s, i), i, s->instance[i], status);
		s->violations++;
	}
	s->instance[i]++;
	s->restart_pending[i] = 1;
}

/*
 * The freezer (age policy only): stop a writer or compactor for longer
 * than the lock age, as a stalled process would be, so that the age rule
 * breaks a lock whose owner is alive; then let it go on.
 */
static void freeze_one(struct super *s)
{
	int i = pick_victim(s);

	if (i < 0 || s->frozen_until[i])
		return;
	if (rng_below(&s->rng, 2)) {
		double until = now_seconds() + 0.3;
		while (shm_load_int(&s->shm->slots[i].phase) == PHASE_IDLE &&
		       now_seconds() < until)
			sleep_us(100);
		sleep_us((long)rng_below(&s->rng, 3000));
	}
	if (kill(s->pid[i], SIGSTOP) < 0)
		return;
	s->freezes++;
	if (shm_load_int(&s->shm->slots[i].phase) != PHASE_IDLE)
		s->freezes_mid_op++;
	s->frozen_until[i] = now_seconds() + s->o->lock_age + 1.5;
}

static void thaw_due(struct super *s, int all)
{
	int i;

	for (i = 0; i < s->nslots; i++) {
		if (!s->frozen_until[i] ||
		    (!all && now_seconds() < s->frozen_until[i]))
			continue;
		s->frozen_until[i] = 0;
		if (s->pid[i])
			kill(s->pid[i], SIGCONT);
	}
}

static void restart_pending(struct super *s)
{
	int i;

	for (i = 0; i < s->nslots; i++) {
		if (!s->restart_pending[i])
			continue;
		s->restart_pending[i] = 0;
		s->restarts++;
		spawn(s, i);
	}
}

/* Seconds until the next kill: uniform on (0, 2/rate), mean 1/rate. */
static double next_kill_delay(struct super *s)
{
	double u = (double)(rng_below(&s->rng, 1000000) + 1) / 1e6;

	return 2.0 * u / s->o->kill_rate;
}

/* Violations so far, of the workers and the supervisor. */
static uint64_t violations_now(const struct super *s)
{
	uint64_t n = s->violations;
	int i;

	for (i = 0; i < s->nslots; i++)
		n += shm_load(&s->shm->slots[i].violations);
	return n;
}

static void run_phase(struct super *s)
{
	double start = now_seconds(), end = start + s->o->duration;
	double next_kill = s->o->kill_rate > 0 ? start + next_kill_delay(s) :
						 end + 1;
	double next_age_break = start + 0.5;
	double next_freeze = s->o->freeze_rate > 0 ?
		start + 2.0 * (double)(rng_below(&s->rng, 1000000) + 1) / 1e6 /
				s->o->freeze_rate :
		end + 1;

	while (now_seconds() < end) {
		reap_unexpected(s);
		if (now_seconds() >= next_kill) {
			kill_one(s);
			next_kill = now_seconds() + next_kill_delay(s);
		}
		if (now_seconds() >= next_freeze) {
			freeze_one(s);
			next_freeze = now_seconds() + 2.0 *
				(double)(rng_below(&s->rng, 1000000) + 1) /
				1e6 / s->o->freeze_rate;
		}
		thaw_due(s, 0);
		if (s->o->lock_age < 0 && s->need_lock_break)
			barrier_break(s);
		if (s->o->lock_age >= 0 && now_seconds() >= next_age_break) {
			break_locks(s, s->o->lock_age);
			next_age_break = now_seconds() + 0.5;
		}
		restart_pending(s);
		if (!s->first_violation && violations_now(s)) {
			s->first_violation = now_seconds() - start;
			if (s->o->fail_fast)
				break;
		}
		sleep_us(2000);
	}
	s->elapsed = now_seconds() - start;
}

/* Ask everyone to stop; SIGKILL whoever does not within 60 s. */
static void stop_all(struct super *s)
{
	double deadline = now_seconds() + 60;
	int i, status, left;

	shm_store_int(&s->shm->stop, 1);
	shm_store_int(&s->shm->barrier, 0);
	thaw_due(s, 1);
	do {
		left = 0;
		for (i = 0; i < s->nslots; i++) {
			pid_t r;

			if (!s->pid[i])
				continue;
			r = waitpid(s->pid[i], &status, WNOHANG);
			if (r == s->pid[i]) {
				if (!WIFEXITED(status) ||
				    WEXITSTATUS(status) != 0) {
					say("%s %d.%d ended with status %d",
					    slot_role(s, i), i,
					    s->instance[i], status);
					s->worker_failures++;
				}
				s->pid[i] = 0;
				continue;
			}
			left++;
		}
		if (left)
			sleep_us(5000);
	} while (left && now_seconds() < deadline);
	for (i = 0; i < s->nslots; i++) {
		if (!s->pid[i])
			continue;
		say("VIOLATION: %s %d.%d did not stop; killed",
		    slot_role(s, i), i, s->instance[i]);
		s->violations++;
		kill(s->pid[i], SIGKILL);
		waitpid(s->pid[i], &status, 0);
		s->pid[i] = 0;
	}
}

/* --- setup ---------------------------------------------------------------- */

/*
 * Git as a reader needs a Git that reads reftable (2.45 or newer). The
 * harness has no Git reader yet, so it is skipped either way; the note
 * says which of the two reasons applies.
 */
static void git_note(const struct stress_opts *o)
{
	FILE *p = popen("git --version 2>/dev/null", "r");
	char line[256] = "";
	int major = 0, minor = 0;

	if (p) {
		if (!fgets(line, sizeof(line), p))
			line[0] = '\0';
		pclose(p);
	}
	line[strcspn(line, "\n")] = '\0';
	if (o->quiet)
		return;
	if (sscanf(line, "git version %d.%d", &major, &minor) != 2)
		say("git reader: skipped (no git found)");
	else if (major < 2 || (major == 2 && minor < 45))
		say("git reader: skipped (%s cannot read reftable; that "
		    "needs git >= 2.45)", line);
	else
		say("git reader: skipped (%s could read reftable, but the "
		    "harness has no git reader yet)", line);
}

static int make_run_dir(struct super *s)
{
	char journal[4096], stack[4096];
	struct reftable_stack_options so;
	int err;

	snprintf(s->run_dir, sizeof(s->run_dir), "%s/reftable-stress.XXXXXX",
		 s->o->dir);
	if (!mkdtemp(s->run_dir)) {
		say("mkdtemp %s: %s", s->run_dir, strerror(errno));
		return -1;
	}
	if (s->o->git && mixed_setup_repo(s->o, s->run_dir) < 0)
		return -1;
	path_fmt(journal, sizeof(journal), s->run_dir, "journal");
	if (mkdir(journal, 0777) < 0) {
		say("mkdir %s: %s", journal, strerror(errno));
		return -1;
	}
	s->shm = shm_map(s->run_dir, 1);
	if (!s->shm)
		return -1;
	reftable_stack_options_init(&so);
	so.create = 1;
	so.disable_fsync = !s->o->fsync;
	so.force_content_reload = s->o->content_reload;
	so.close_in_background = s->o->background_close;
	stack_dir(stack, sizeof(stack), s->o, s->run_dir);
	err = reftable_stack_new(&s->st, stack, &so);
	if (err) {
		say("create %s: %s: %s", stack, reftable_error_str(err),
		    reftable_error_detail());
		return -1;
	}
	return 0;
}

static int self_path(struct super *s, const char *argv0)
{
	ssize_t n = readlink("/proc/self/exe", s->self, sizeof(s->self) - 1);

	if (n > 0) {
		s->self[n] = '\0';
		return 0;
	}
	snprintf(s->self, sizeof(s->self), "%s", argv0);
	return 0;
}

static void remove_tree(const char *dir)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		say("could not remove %s", dir);
}

int run_supervisor(const struct stress_opts *o, int argc, char **argv)
{
	struct super s;
	int i, rc;

	(void)argc;
	memset(&s, 0, sizeof(s));
	s.o = o;
	s.argv0 = argv[0];
	s.rng = rng_mix(o->seed, 0xfeed);
	s.supervisor_pid = getpid();
	s.nslots = o->writers + o->readers + o->compactors + o->git_writers +
		   o->git_compactors;
	self_path(&s, argv[0]);
	layout_init(&s.l, o);
	if (!o->quiet && !o->git)
		git_note(o);
	if (make_run_dir(&s) < 0) {
		rc = 2;
		goto done;
	}
	for (i = 0; i < s.nslots; i++)
		spawn(&s, i);
	run_phase(&s);
	stop_all(&s);
	rc = final_checks(&s);
done:
	reftable_stack_destroy(s.st);
	shm_unmap(s.shm);
	if (rc == 0 && !o->keep && s.run_dir[0]) {
		char stack[4096];

		stack_dir(stack, sizeof(stack), o, s.run_dir);
		if (o->mounts[0])
			remove_tree(stack);
		remove_tree(s.run_dir);
	}
	else if (s.run_dir[0])
		say("run directory kept: %s", s.run_dir);
	return rc;
}
