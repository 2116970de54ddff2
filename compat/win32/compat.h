/*
 * Windows (mingw-w64) compatibility, force-included (-include) into every
 * file of the Windows build (mk/windows.mk) and never seen by the POSIX
 * build. It maps the few POSIX calls the library, the tool and the tests
 * make outside struct reftable_fs onto the Win32 filesystem layer
 * (reftable/fs-win32.c), so that every open, rename and removal of the
 * program shares files as the protocol needs (FILE_SHARE_DELETE, retries
 * on sharing violations; Documentation/windows.md), and fills in what
 * mingw-w64's C runtime lacks.
 */
#ifndef COMPAT_WIN32_H
#define COMPAT_WIN32_H

#ifdef _WIN32

/* C99 printf (%zu, %lld) instead of msvcrt's; 64-bit st_size and off_t;
 * gmtime_r and localtime_r. */
#define __USE_MINGW_ANSI_STDIO 1
#define _FILE_OFFSET_BITS 64
#define _POSIX_THREAD_SAFE_FUNCTIONS 200112L

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <pthread.h>
#include <process.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Replaced by another host: never raised here, but compared against. */
#ifndef ESTALE
#define ESTALE 10116
#endif
/* Our own flag: the Win32 open opens directories (for flock and the
 * directory fsync, which is then a no-op). */
#define O_DIRECTORY 0x10000000
#define O_CLOEXEC _O_NOINHERIT

/* The Win32 filesystem layer: UTF-8 paths, share modes that let others
 * rename and remove, bounded retries on sharing violations. */
int win32_open(const char *path, int flags, ...);
int win32_rename(const char *from, const char *to);
int win32_unlink(const char *path);
int win32_mkdir(const char *path, int mode);
int win32_stat(const char *path, struct stat *st);
int win32_fstat(int fd, struct stat *st);
int win32_fsync(int fd);
int win32_flock(int fd, int op);
int win32_kill(long pid, int sig);
int win32_gethostname(char *name, int len);
char *win32_realpath(const char *path, char *resolved);
ssize_t win32_getdelim(char **line, size_t *cap, int delim, FILE *f);
/* With '/' for '\\', as the tool splits paths. */
char *win32_getcwd(char *buf, size_t size);

#define open win32_open
#define rename win32_rename
#define unlink win32_unlink
#define mkdir win32_mkdir
#define lstat(path, st) win32_stat(path, st)
/* The C runtime's fstat knows no file identity and no directory opened
 * by the Win32 open (stat stays the runtime's: the name is its struct's
 * too). */
#undef fstat
#define fstat win32_fstat
#define fsync win32_fsync
#define flock win32_flock
#define kill(pid, sig) win32_kill((long)(pid), sig)
#define gethostname win32_gethostname
#define realpath win32_realpath
#define getdelim win32_getdelim
#define getcwd win32_getcwd
#define getline(l, c, f) win32_getdelim(l, c, '\n', f)

#define LOCK_SH 1
#define LOCK_EX 2
#define LOCK_NB 4
#define LOCK_UN 8

/* No symbolic links or sockets, owners or permission bits to set. */
#define S_ISLNK(m) 0
#define S_ISSOCK(m) 0
#define fchmod(fd, mode) 0
#define readlink(path, buf, len) (errno = ENOSYS, -1)
#define getuid() 0

/* Signals do not reach threads here, so the closer thread's mask is
 * moot, and there is no fork to prepare for. winpthreads has both as
 * macros that drop their arguments: functions use them. */
typedef _sigset_t sigset_t;
static inline int sigfillset(sigset_t *set)
{
	*set = 0;
	return 0;
}
#undef pthread_sigmask
static inline int pthread_sigmask(int how, const sigset_t *set,
				  sigset_t *old)
{
	(void)how;
	(void)set;
	if (old)
		*old = 0;
	return 0;
}
#undef pthread_atfork
static inline int pthread_atfork(void (*prepare)(void), void (*parent)(void),
				 void (*child)(void))
{
	(void)prepare;
	(void)parent;
	(void)child;
	return 0;
}
#ifndef SIG_SETMASK
#define SIG_SETMASK 2
#endif

static inline char *strchrnul(const char *s, int c)
{
	while (*s && *s != (char)c)
		s++;
	return (char *)s;
}

static inline char *strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = malloc(len + 1);

	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

static inline void *memmem(const void *hay, size_t hlen, const void *needle,
			   size_t nlen)
{
	const char *h = hay;
	size_t i;

	if (!nlen)
		return (void *)h;
	for (i = 0; i + nlen <= hlen; i++)
		if (!memcmp(h + i, needle, nlen))
			return (void *)(h + i);
	return NULL;
}

/* The tests' temporary directories. */
static inline char *mkdtemp(char *tmpl)
{
	int tries;

	for (tries = 0; tries < 100; tries++) {
		size_t n = strlen(tmpl);
		size_t i;

		if (n < 6)
			break;
		for (i = n - 6; i < n; i++)
			tmpl[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[rand() % 36];
		if (win32_mkdir(tmpl, 0700) == 0)
			return tmpl;
		if (errno != EEXIST)
			break;
	}
	return NULL;
}

#define _SC_PAGESIZE 30
static inline long sysconf(int name)
{
	return name == _SC_PAGESIZE ? 4096 : -1;
}

/* struct tm has no tm_gmtoff here: the local zone's offset from UTC, in
 * seconds, at now. */
static inline long win32_gmtoff(time_t now)
{
	struct tm local, utc;

	if (!localtime_r(&now, &local) || !gmtime_r(&now, &utc))
		return 0;
	utc.tm_isdst = local.tm_isdst;
	return (long)difftime(mktime(&local), mktime(&utc));
}

/* The "e" (close-on-exec) of fopen modes is O_CLOEXEC's; msvcrt refuses
 * the letter. Only /proc files are opened so, and there is no /proc. */
static inline FILE *win32_fopen(const char *path, const char *mode)
{
	return !strcmp(mode, "re") ? fopen(path, "r") : fopen(path, mode);
}
#define fopen win32_fopen

#endif /* _WIN32 */
#endif
