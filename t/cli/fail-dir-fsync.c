/*
 * Preloaded into the tool by the command-line tests: with
 * REFTABLE_TEST_FAIL_DIR_FSYNC set, fsync of a directory fails with EIO.
 * That is the step right after a transaction is published, so the tool
 * must say the update is committed, not that nothing changed.
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
	struct stat sb;

	if (getenv("REFTABLE_TEST_FAIL_DIR_FSYNC") && fstat(fd, &sb) == 0 &&
	    S_ISDIR(sb.st_mode)) {
		errno = EIO;
		return -1;
	}
	if (!real_fsync)
		real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	return real_fsync(fd);
}
