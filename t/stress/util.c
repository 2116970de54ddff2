/* Small helpers of the stress harness: randomness, time, the shared page. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "reftable-error.h"
#include "stress.h"

char stress_who[64] = "stress";

uint64_t rng_next(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

uint64_t rng_below(uint64_t *state, uint64_t n)
{
	return n ? rng_next(state) % n : 0;
}

/* splitmix64 of a and b: distinct, well-spread seeds for each process. */
uint64_t rng_mix(uint64_t a, uint64_t b)
{
	uint64_t z = a + 0x9e3779b97f4a7c15ull * (b + 1);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 1;
}

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t now_us(void)
{
	return (uint64_t)(now_seconds() * 1e6);
}

void ack_time_note(struct shm *s, uint64_t ui)
{
	size_t i = (size_t)(ui % ACK_RING);

	__atomic_store_n(&s->ack_us[i], now_us(), __ATOMIC_SEQ_CST);
	__atomic_store_n(&s->ack_ui[i], ui, __ATOMIC_SEQ_CST);
}

uint64_t ack_time_oldest(struct shm *s, uint64_t from, uint64_t to)
{
	uint64_t ui, oldest = 0;

	if (to - from > ACK_RING)
		from = to - ACK_RING;
	for (ui = from + 1; ui <= to; ui++) {
		size_t i = (size_t)(ui % ACK_RING);
		uint64_t us = shm_load(&s->ack_us[i]);

		if (shm_load(&s->ack_ui[i]) == ui && us &&
		    (!oldest || us < oldest))
			oldest = us;
	}
	return oldest;
}

void sleep_us(long us)
{
	struct timespec ts;

	if (us <= 0)
		return;
	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (us % 1000000) * 1000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

uint64_t shm_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

void shm_add(uint64_t *p, uint64_t v)
{
	__atomic_add_fetch(p, v, __ATOMIC_SEQ_CST);
}

void shm_max(uint64_t *p, uint64_t v)
{
	uint64_t cur = __atomic_load_n(p, __ATOMIC_SEQ_CST);

	while (cur < v && !__atomic_compare_exchange_n(
				  p, &cur, v, 0, __ATOMIC_SEQ_CST,
				  __ATOMIC_SEQ_CST))
		;
}

int shm_load_int(const int *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

void shm_store_int(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

void path_fmt(char *buf, size_t cap, const char *dir, const char *name)
{
	snprintf(buf, cap, "%s/%s", dir, name);
}

void stack_dir(char *buf, size_t cap, const struct stress_opts *o,
	       const char *run_dir)
{
	const char *base = strrchr(run_dir, '/');
	int host = o->role ? o->index % 2 : 0;

	if (o->readers_apart)
		host = o->role && !strcmp(o->role, "reader");

	if (!o->mounts[0]) {
		path_fmt(buf, cap, run_dir, "reftable");
		return;
	}
	/* The run directory stays local (journals, the shared page); the
	 * stack is named after it on the mounts. */
	path_fmt(buf, cap, o->mounts[host], base ? base + 1 : run_dir);
}

/* The page lives in a file of the run directory, so re-executed workers
 * can map it by name. */
struct shm *shm_map(const char *run_dir, int create)
{
	char path[4096];
	struct shm *s;
	int fd;

	path_fmt(path, sizeof(path), run_dir, "shm");
	fd = open(path, create ? O_RDWR | O_CREAT | O_TRUNC : O_RDWR, 0666);
	if (fd < 0) {
		say("open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (create && ftruncate(fd, sizeof(struct shm)) < 0) {
		say("ftruncate %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (s == MAP_FAILED) {
		say("mmap %s: %s", path, strerror(errno));
		return NULL;
	}
	if (create)
		s->magic = SHM_MAGIC;
	else if (s->magic != SHM_MAGIC) {
		say("%s: not a stress page", path);
		munmap(s, sizeof(*s));
		return NULL;
	}
	return s;
}

void shm_unmap(struct shm *s)
{
	if (s)
		munmap(s, sizeof(*s));
}

void refdb_opts_from(struct reftable_refdb_options *ro,
		     const struct stress_opts *o, const char *who)
{
	reftable_refdb_options_init(ro);
	ro->stack.disable_fsync = !o->fsync;
	ro->stack.lock_timeout_ms = o->lock_timeout_ms;
	ro->stack.force_content_reload = o->content_reload;
	ro->stack.close_in_background = o->background_close;
	ro->stack.disable_auto_compact = !o->compaction;
	ro->stack.write.block_size = o->block_size;
	/* Every stress ref gets a reflog, which the checks read. */
	ro->log_policy = REFTABLE_REFDB_LOG_ALWAYS;
	ro->committer.name = who;
	ro->committer.email = "stress@example.com";
}

void say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "[%s] ", stress_who);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line, so lines of many processes do not mix. */
	n = (int)strlen(line);
	if (n < (int)sizeof(line) - 1)
		line[n++] = '\n';
	if (write(2, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
}

void violation(struct violation_sink *vs, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	shm_add(vs->count, 1);
	if (vs->printed >= vs->max_print)
		return;
	vs->printed++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say("VIOLATION: %s", msg);
}

/*
 * The barrier is a generation number, so a worker still leaving one
 * barrier is never taken as parked at the next: parked must equal the
 * generation the supervisor waits for.
 */
void worker_park_if_asked(struct shm *s, struct slot *me)
{
	for (;;) {
		int gen = shm_load_int(&s->barrier);

		if (!gen || shm_load_int(&s->stop))
			return;
		shm_store_int(&me->parked, gen);
		while (shm_load_int(&s->barrier) == gen &&
		       !shm_load_int(&s->stop))
			sleep_us(500);
	}
}

int lock_was_broken(const struct shm *s, uint64_t before, int err)
{
	if (shm_load(&s->lock_breaks) == before)
		return 0;
	/* Lock gone at commit, table claims taken over, temporary file
	 * removed: what the owner of a broken lock runs into. */
	return err == REFTABLE_LOCK_ERROR || err == REFTABLE_OUTDATED_ERROR ||
	       err == REFTABLE_NOT_EXIST_ERROR;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Lock and temporary files in dir: what breaking stale locks removes. */
static int lock_files_left(const char *dir)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (ends_with(de->d_name, ".lock") ||
		    ends_with(de->d_name, ".ref.tmp"))
			n++;
	closedir(d);
	return n;
}

int break_all_locks(struct reftable_stack *st)
{
	/* The caller knows every owner is dead, even one killed between
	 * creating its lock and writing its evidence into it. */
	struct reftable_break_options force = { REFTABLE_BREAK_FORCE, 0, NULL,
						 NULL };
	double deadline = now_seconds() + 3;
	int total = 0, n;

	for (;;) {
		n = reftable_stack_break_stale_locks(st, &force);
		if (n < 0)
			return n;
		total += n;
		if (lock_files_left(reftable_stack_dir(st)) <= 0 ||
		    now_seconds() > deadline)
			return total;
		sleep_us(5000);
	}
}
