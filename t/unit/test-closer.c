/*
 * The stack option close_in_background: a replaced tables.list is closed
 * on the library's thread, a full queue falls back to closing inline,
 * destroying a handle waits for its closes, and fork leaves the child
 * working. The thread is held inside its first close by a gate in the
 * filesystem, so every interleaving below is staged, not hoped for.
 */
#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

#include "closer.h"
#include "test-stack-helpers.h"

static pthread_t test_thread;
static sem_t entered; /* the thread reached the gate */
static sem_t release; /* let it through */
static atomic_int gate_armed;
/* Descriptors of unlinked files (replaced lists) closed, by who closed. */
static atomic_int closed_inline, closed_by_thread;

static int gate_close(void *ctx, int fd)
{
	const struct reftable_fs *real = reftable_fs_posix();
	int by_thread = !pthread_equal(pthread_self(), test_thread);
	int armed = 1, unlinked, ret;
	struct stat sb;

	if (by_thread &&
	    atomic_compare_exchange_strong(&gate_armed, &armed, 0)) {
		sem_post(&entered);
		while (sem_wait(&release) < 0)
			;
	}
	unlinked = !fstat(fd, &sb) && sb.st_nlink == 0;
	ret = real->close(ctx, fd);
	if (!ret && unlinked)
		atomic_fetch_add(by_thread ? &closed_by_thread : &closed_inline,
				 1);
	return ret;
}

static int closed_total(void)
{
	return atomic_load(&closed_inline) + atomic_load(&closed_by_thread);
}

static struct reftable_fs gate_fs;
static char *dir;
static struct reftable_stack *writer, *reader;

static void setup(void)
{
	struct reftable_stack_options o = test_options();

	test_thread = pthread_self();
	ck_assert_int_eq(sem_init(&entered, 0, 0), 0);
	ck_assert_int_eq(sem_init(&release, 0, 0), 0);
	atomic_store(&gate_armed, 1);
	atomic_store(&closed_inline, 0);
	atomic_store(&closed_by_thread, 0);
	REFTABLE_FS_INIT(&gate_fs);
	gate_fs.close = gate_close;

	dir = tl_tmpdir();
	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&writer, dir, &o));
	CHECK_OK(test_add_ref(writer, "refs/heads/main", 1, 0));
	o.close_in_background = 1;
	o.fs = &gate_fs;
	CHECK_OK(reftable_stack_new(&reader, dir, &o));
}

static void teardown(void)
{
	/* A failed check may have left the thread held at the gate. */
	if (!atomic_load(&gate_armed))
		sem_post(&release);
	reftable_stack_destroy(reader);
	reftable_stack_destroy(writer);
	tl_rmtree(dir);
	sem_destroy(&entered);
	sem_destroy(&release);
}

/* The writer commits; the reader reloads and sees it. */
static void change_and_reload(uint8_t fill)
{
	CHECK_OK(test_add_ref(writer, "refs/heads/main", fill, 0));
	CHECK_OK(reftable_stack_reload(reader));
	ck_assert_int_eq(test_ref_fill(reader, "refs/heads/main"), fill);
}

static void wait_entered(void)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 60;
	ck_assert_msg(sem_timedwait(&entered, &deadline) == 0,
		      "the closer thread never closed the replaced list");
}

struct destroy_arg {
	struct reftable_stack *st;
	int closed_when_done;
};

static void *destroy_reader(void *p)
{
	struct destroy_arg *a = p;

	reftable_stack_destroy(a->st);
	a->closed_when_done = atomic_load(&closed_by_thread);
	return NULL;
}

START_TEST(replaced_list_closed_off_the_reload)
{
	struct destroy_arg a = { reader, -1 };
	pthread_t th;

	change_and_reload(2);
	/* The thread holds the old list's descriptor at the gate. */
	wait_entered();
	ck_assert_int_eq(atomic_load(&closed_inline), 0);
	ck_assert_int_eq(atomic_load(&closed_by_thread), 0);

	/* Destroying the handle must wait for that close to end. */
	ck_assert_int_eq(pthread_create(&th, NULL, destroy_reader, &a), 0);
	sem_post(&release);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	reader = NULL;
	ck_assert_int_eq(a.closed_when_done, 1);
	ck_assert_int_eq(atomic_load(&closed_inline), 0);
}
END_TEST

START_TEST(full_queue_closes_inline)
{
	int i, changes = CLOSER_SLOTS + 2;

	change_and_reload(2);
	wait_entered();
	/* The held close keeps its slot; the other slots fill, then the
	 * reloads close inline. */
	for (i = 1; i < changes; i++)
		change_and_reload((uint8_t)(3 + i));
	ck_assert_int_eq(atomic_load(&closed_inline), changes - CLOSER_SLOTS);

	/* Destroying closes the rest, on the thread or itself. */
	sem_post(&release);
	reftable_stack_destroy(reader);
	reader = NULL;
	ck_assert_int_eq(closed_total(), changes);
}
END_TEST

/* Open descriptors of replaced (unlinked) tables.list files. */
static int replaced_list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char path[300], target[PATH_MAX];
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		/* Replaced by a swap, it was unlinked under its swap name. */
		n += has_end(target, "/tables.list (deleted)") ||
		     (strstr(target, "/tables.list.") &&
		      has_end(target, ".tmp (deleted)"));
	}
	closedir(d);
	return n;
}

/* Exit codes of the child, each a check that failed. */
static int child_after_fork(void)
{
	alarm(60); /* a deadlock fails the test instead of hanging it */
	/* The copy of the descriptor held at the gate stays (close-on-exec);
	 * the copy of the queued one is closed. */
	if (replaced_list_fds() != 1)
		return 2;
	/* The child's own closes go through its own thread. */
	if (test_add_ref(writer, "refs/heads/main", 9, 0) ||
	    reftable_stack_reload(reader) ||
	    test_ref_fill(reader, "refs/heads/main") != 9)
		return 3;
	reftable_stack_destroy(reader);
	if (replaced_list_fds() != 1)
		return 4;
	return 0;
}

START_TEST(fork_with_closes_pending)
{
	int status;
	pid_t pid;

	if (replaced_list_fds() < 0)
		return; /* no /proc to count descriptors with */
	change_and_reload(2);
	wait_entered();
	change_and_reload(3); /* queued behind the held one */

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid)
		_exit(child_after_fork());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child failed: status %d", status);

	sem_post(&release);
	reftable_stack_destroy(reader);
	reader = NULL;
	/* The two handed over, and the list the child's commit replaced,
	 * which destroying the handle closes. */
	ck_assert_int_eq(closed_total(), 3);
	/* The writer's copy is the last one. */
	ck_assert_int_eq(replaced_list_fds(), 1);
	reftable_stack_destroy(writer);
	writer = NULL;
	ck_assert_int_eq(replaced_list_fds(), 0);
}
END_TEST

/*
 * A compaction's replaced tables are removed on the thread too: with the
 * thread held, they are still there, unlisted, after the commit that
 * folded them (and a forked child does not remove them); destroying the
 * handle waits until they are gone.
 */
START_TEST(replaced_tables_removed_off_the_commit)
{
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct destroy_arg a;
	pthread_t th;
	pid_t pid;
	int status;

	change_and_reload(2); /* two tables now */
	wait_entered();

	o.close_in_background = 1;
	o.fs = &gate_fs;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/next", 3, 0));
	/* Folded into one table; the two it replaced wait in the queue. */
	ck_assert_uint_eq(test_list_lines(dir), 1);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 3);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/main"), 2);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/next"), 3);

	/* A child leaves the queued removals to the parent. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		alarm(60);
		reftable_stack_destroy(st);
		_exit(test_count_suffix(dir, ".ref") == 3 ? 0 : 2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child failed: status %d", status);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 3);

	a.st = st;
	ck_assert_int_eq(pthread_create(&th, NULL, destroy_reader, &a), 0);
	sem_post(&release);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);
	ck_assert_uint_eq(test_list_lines(dir), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("closer");
	TCase *tc = tcase_create("closer");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, replaced_list_closed_off_the_reload);
	tcase_add_test(tc, full_queue_closes_inline);
	tcase_add_test(tc, fork_with_closes_pending);
	tcase_add_test(tc, replaced_tables_removed_off_the_commit);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
