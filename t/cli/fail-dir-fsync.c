/*
 * Preloaded into the tool by the command-line tests: with
 * REFTABLE_TEST_FAIL_DIR_FSYNC=N, the Nth fsync of a directory and every
 * later one fail with EIO (a value that is not a number: from the
 * first). A commit fsyncs the directory twice: before the list names the
 * new table, and right after the list is published; failing the second
 * one, the tool must say the update is committed, not that nothing
 * changed.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int fsync(int fd)
{
	static int (*real_fsync)(int);
	static long dir_fsyncs;
	const char *from = getenv("REFTABLE_TEST_FAIL_DIR_FSYNC");
	struct stat sb;

	if (from && fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    ++dir_fsyncs >= atol(from)) {
		errno = EIO;
		return -1;
	}
	if (!real_fsync)
		real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	return real_fsync(fd);
}
