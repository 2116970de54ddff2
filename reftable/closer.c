#include "closer.h"

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * No lock is shared with the thread: a lock it held while descheduled
 * would stall the reader it exists to spare. Handing over goes through
 * slots claimed by compare-and-swap.
 */

enum slot_state { SLOT_FREE, SLOT_FILLING, SLOT_QUEUED, SLOT_CLOSING };

struct slot {
	atomic_int state;
	const struct reftable_fs *fs;
	int fd;                      /* to close, or -1: */
	char path[CLOSER_PATH_MAX];  /* to remove */
};

enum thread_state { THREAD_NONE, THREAD_STARTING, THREAD_RUNNING };

static struct slot slots[CLOSER_SLOTS];
static sem_t queued; /* posted once per slot queued */
static atomic_int thread_state;
static int initialized; /* semaphore and fork handlers; set by the starter */

/* Take slot s for doing (its close or removal) if it is queued. */
static int claim(struct slot *s)
{
	int expected = SLOT_QUEUED;

	return atomic_compare_exchange_strong(&s->state, &expected,
					      SLOT_CLOSING);
}

static void do_claimed(struct slot *s)
{
	if (s->fd >= 0)
		s->fs->close(s->fs->ctx, s->fd);
	else
		s->fs->unlink(s->fs->ctx, s->path);
	atomic_store(&s->state, SLOT_FREE);
}

static void *closer_main(void *arg)
{
	(void)arg;
#ifdef SCHED_BATCH
	/*
	 * Woken as an ordinary thread, it tends to preempt the reader that
	 * woke it, on the reader's CPU, and the close lands back on the
	 * reload's path. A batch thread does not preempt on waking, yet gets
	 * its fair share of CPU: not idle priority, since a close that frees
	 * an inode holds filesystem locks, and a thread starved while
	 * holding them would stall every process's fsync on that
	 * filesystem. (glibc's thread attributes cannot ask for this.)
	 */
	{
		struct sched_param param = { 0 };

		pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
	}
#endif
	for (;;) {
		size_t i;

		if (sem_wait(&queued) < 0)
			continue; /* EINTR */
		for (i = 0; i < CLOSER_SLOTS; i++)
			if (claim(&slots[i]))
				do_claimed(&slots[i]);
	}
	return NULL;
}

/*
 * fork() copies the slots but not the thread. The child closes its copies
 * of the descriptors queued itself, with plain close(): a child of a
 * threaded process may only make async-signal-safe calls. A slot the
 * parent was filling or closing at that moment is dropped; its
 * descriptor, if the child has a copy, is close-on-exec
 * (reftable_fs_posix() opens all files so). Removals stay the parent's.
 */
static void after_fork_child(void)
{
	size_t i;

	for (i = 0; i < CLOSER_SLOTS; i++) {
		if (atomic_load(&slots[i].state) == SLOT_QUEUED &&
		    slots[i].fd >= 0)
			close(slots[i].fd);
		atomic_store(&slots[i].state, SLOT_FREE);
	}
	atomic_store(&thread_state, THREAD_NONE);
}

static int start_thread(void)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t thread;
	int err;

	if (!initialized) {
		if (sem_init(&queued, 0, 0) < 0 ||
		    pthread_atfork(NULL, NULL, after_fork_child))
			return 0;
		initialized = 1;
	}
	if (pthread_attr_init(&attr))
		return 0;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Signals meant for the program must not land on our thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&thread, &attr, closer_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return !err;
}

/* Is the thread there (starting it if nobody is)? */
static int have_thread(void)
{
	int state = THREAD_NONE;

	if (atomic_compare_exchange_strong(&thread_state, &state,
					   THREAD_STARTING)) {
		state = start_thread() ? THREAD_RUNNING : THREAD_NONE;
		atomic_store(&thread_state, state);
	}
	return state == THREAD_RUNNING;
}

/* Queue fd, or path if fd < 0; 0 if there was no room or no thread. */
static int submit(const struct reftable_fs *fs, int fd, const char *path)
{
	size_t i;

	if (!have_thread())
		return 0;
	for (i = 0; i < CLOSER_SLOTS; i++) {
		struct slot *s = &slots[i];
		int expected = SLOT_FREE;

		if (!atomic_compare_exchange_strong(&s->state, &expected,
						    SLOT_FILLING))
			continue;
		s->fs = fs;
		s->fd = fd;
		if (path)
			strcpy(s->path, path);
		atomic_store(&s->state, SLOT_QUEUED);
		sem_post(&queued);
		return 1;
	}
	return 0;
}

void closer_submit(const struct reftable_fs *fs, int fd)
{
	if (!submit(fs, fd, NULL))
		fs->close(fs->ctx, fd);
}

void closer_submit_unlink(const struct reftable_fs *fs, const char *path)
{
	if (strlen(path) >= CLOSER_PATH_MAX || !submit(fs, -1, path))
		fs->unlink(fs->ctx, path);
}

void closer_drain(void)
{
	const struct timespec pause = { 0, 50 * 1000 };
	size_t i;

	/* Do what is still queued here; wait out what the thread holds. */
	for (i = 0; i < CLOSER_SLOTS; i++) {
		if (claim(&slots[i]))
			do_claimed(&slots[i]);
		while (atomic_load(&slots[i].state) == SLOT_CLOSING)
			nanosleep(&pause, NULL);
	}
}
