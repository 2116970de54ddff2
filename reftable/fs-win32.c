/*
 * The real filesystem behind struct reftable_fs on Windows (Win32).
 *
 * Windows refuses to rename over, or remove, a file another handle has
 * open unless every handle to it allows FILE_SHARE_DELETE, and answers a
 * sharing conflict with an error instead of waiting. The protocol renames
 * and removes files that readers may be reading, so:
 *
 *  - every file is opened with FILE_SHARE_READ | FILE_SHARE_WRITE |
 *    FILE_SHARE_DELETE, so that our own handles never block a rename or
 *    a removal (CreateFileW, turned into a C runtime descriptor with
 *    _open_osfhandle to keep the int interface);
 *  - rename and unlink ask for POSIX semantics first (the name is
 *    replaced or gone at once, even while the file is open: Windows 10
 *    1809 and later on NTFS), and fall back to MoveFileExW and DeleteFileW;
 *  - a sharing violation or a refused access (another program's handle
 *    without FILE_SHARE_DELETE, or one of ours in the middle of a read)
 *    is retried a few times with a short backoff, then reported;
 *  - fstat and stat give each file an identity in st_dev and st_ino from
 *    its volume serial number and 64-bit file index, which NTFS never
 *    gives two files at once and changes when a record is reused (the
 *    sequence number); the C runtime's own st_ino is always 0. mingw's
 *    struct stat has 48 bits for it (a 32-bit st_dev, a 16-bit st_ino),
 *    so the 96 bits are hashed into those 48: two files share an
 *    identity with probability 2^-48 (Documentation/windows.md).
 *
 * Paths are UTF-8, converted to UTF-16 for the wide API. Tables are not
 * mapped (fs_is_local() is 0 here): a mapped file cannot be removed, and
 * a compaction must be able to remove what it replaced while readers
 * still use it. mmap is still provided, for callers of the table that
 * ask for it.
 */

#ifdef _WIN32

/* windows.h declares the real one (winsock). */
#undef gethostname

#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

/* Of Windows 10 1809 and later; older headers and systems lack them. */
#define RENAME_INFO_EX_CLASS ((FILE_INFO_BY_HANDLE_CLASS)22)
#define DISPOSITION_INFO_EX_CLASS ((FILE_INFO_BY_HANDLE_CLASS)21)
#define RENAME_FLAG_REPLACE_IF_EXISTS 0x1
#define RENAME_FLAG_POSIX_SEMANTICS 0x2
#define DISPOSITION_FLAG_DELETE 0x1
#define DISPOSITION_FLAG_POSIX_SEMANTICS 0x2

#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

/* Tries of an operation refused by a sharing conflict, and the first
 * pause (doubled each time): 1 + 2 + ... + 64 ms, about 0.13 s at most. */
#define SHARING_TRIES 8
#define SHARING_FIRST_PAUSE_MS 1

static int errno_of(DWORD e)
{
	switch (e) {
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
	case ERROR_INVALID_DRIVE:
	case ERROR_BAD_NETPATH:
	case ERROR_DELETE_PENDING:
		return ENOENT;
	case ERROR_FILE_EXISTS:
	case ERROR_ALREADY_EXISTS:
		return EEXIST;
	case ERROR_ACCESS_DENIED:
	case ERROR_SHARING_VIOLATION:
	case ERROR_LOCK_VIOLATION:
	case ERROR_WRITE_PROTECT:
		return EACCES;
	case ERROR_DISK_FULL:
	case ERROR_HANDLE_DISK_FULL:
		return ENOSPC;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
		return ENOMEM;
	case ERROR_NOT_SAME_DEVICE:
		return EXDEV;
	case ERROR_DIR_NOT_EMPTY:
		return ENOTEMPTY;
	case ERROR_DIRECTORY:
		return ENOTDIR;
	case ERROR_INVALID_NAME:
	case ERROR_INVALID_PARAMETER:
		return EINVAL;
	case ERROR_FILENAME_EXCED_RANGE:
		return ENAMETOOLONG;
	case ERROR_INVALID_HANDLE:
		return EBADF;
	case ERROR_NOT_SUPPORTED:
	case ERROR_INVALID_FUNCTION:
		return ENOSYS;
	default:
		return EIO;
	}
}

static int fail_with(DWORD e)
{
	errno = errno_of(e);
	return -1;
}

/* Whether e is a sharing conflict worth waiting out; pauses if so. */
static int wait_out_sharing(DWORD e, int *tries)
{
	if (e != ERROR_SHARING_VIOLATION && e != ERROR_ACCESS_DENIED &&
	    e != ERROR_LOCK_VIOLATION)
		return 0;
	if (++*tries >= SHARING_TRIES)
		return 0;
	Sleep(SHARING_FIRST_PAUSE_MS << (*tries - 1));
	return 1;
}

/* UTF-8 path to a newly allocated UTF-16 one; NULL with errno set. */
static wchar_t *wide(const char *path)
{
	int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1,
				    NULL, 0);
	wchar_t *w;

	if (n <= 0) {
		errno = EINVAL;
		return NULL;
	}
	w = malloc((size_t)n * sizeof(*w));
	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, w, n);
	return w;
}

static HANDLE handle_of(int fd)
{
	return (HANDLE)_get_osfhandle(fd);
}

/* --- open ------------------------------------------------------------- */

static DWORD disposition(int flags)
{
	if ((flags & O_CREAT) && (flags & O_EXCL))
		return CREATE_NEW;
	if ((flags & O_CREAT) && (flags & O_TRUNC))
		return CREATE_ALWAYS;
	if (flags & O_CREAT)
		return OPEN_ALWAYS;
	if (flags & O_TRUNC)
		return TRUNCATE_EXISTING;
	return OPEN_EXISTING;
}

static int open_wide(const wchar_t *w, int flags)
{
	int acc = flags & (O_RDONLY | O_WRONLY | O_RDWR);
	DWORD access = acc == O_WRONLY ? GENERIC_WRITE :
		       acc == O_RDWR ? GENERIC_READ | GENERIC_WRITE :
				       GENERIC_READ;
	DWORD attrs = FILE_ATTRIBUTE_NORMAL;
	/* Never inherited, as the POSIX layer opens everything O_CLOEXEC:
	 * a child of the embedding program must not keep our files. */
	SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, FALSE };
	HANDLE h;
	int fd, tries = 0;

	if (flags & O_DIRECTORY) {
		/* Only for flock and the no-op directory fsync. */
		access = GENERIC_READ;
		attrs = FILE_FLAG_BACKUP_SEMANTICS;
	}
	for (;;) {
		h = CreateFileW(w, access, SHARE_ALL, &sa, disposition(flags),
				attrs, NULL);
		if (h != INVALID_HANDLE_VALUE)
			break;
		if (!wait_out_sharing(GetLastError(), &tries)) {
			DWORD e = GetLastError();

			/* A lock file being removed (delete pending) is
			 * still there for an exclusive create. */
			if (e == ERROR_ACCESS_DENIED && (flags & O_CREAT) &&
			    (flags & O_EXCL))
				e = ERROR_FILE_EXISTS;
			return fail_with(e);
		}
	}
	if ((flags & O_DIRECTORY) &&
	    !(GetFileAttributesW(w) & FILE_ATTRIBUTE_DIRECTORY)) {
		CloseHandle(h);
		errno = ENOTDIR;
		return -1;
	}
	fd = _open_osfhandle((intptr_t)h, (acc == O_RDONLY ? _O_RDONLY : 0) |
					  (flags & O_APPEND) | _O_BINARY);
	if (fd < 0) {
		CloseHandle(h);
		errno = EMFILE;
	}
	return fd;
}

int win32_open(const char *path, int flags, ...)
{
	wchar_t *w = wide(path);
	int fd;

	if (!w)
		return -1;
	fd = open_wide(w, flags);
	free(w);
	return fd;
}

static int win_open(void *ctx, const char *path, int flags, mode_t mode)
{
	/* Permission bits have no meaning here; a read-only attribute
	 * would only keep the file from being removed. */
	return win32_open(path, flags);
}

static int win_close(void *ctx, int fd)
{
	return _close(fd);
}

static ssize_t win_read(void *ctx, int fd, void *buf, size_t len)
{
	return _read(fd, buf, len > INT_MAX ? INT_MAX : (unsigned)len);
}

static ssize_t win_write(void *ctx, int fd, const void *buf, size_t len)
{
	return _write(fd, buf, len > INT_MAX ? INT_MAX : (unsigned)len);
}

/* --- identity and stat ------------------------------------------------ */

static uint64_t mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static time_t unix_time(FILETIME ft)
{
	uint64_t t = (uint64_t)ft.dwHighDateTime << 32 | ft.dwLowDateTime;

	/* 100 ns ticks since 1601 to seconds since 1970. */
	return (time_t)(t / 10000000u) - (time_t)11644473600ll;
}

static int stat_handle(HANDLE h, struct stat *st)
{
	BY_HANDLE_FILE_INFORMATION fi;
	uint64_t index, id;

	if (!GetFileInformationByHandle(h, &fi))
		return fail_with(GetLastError());
	memset(st, 0, sizeof(*st));
	index = (uint64_t)fi.nFileIndexHigh << 32 | fi.nFileIndexLow;
	id = mix64(mix64(index) ^ fi.dwVolumeSerialNumber);
	st->st_dev = (dev_t)(uint32_t)(id >> 16);
	st->st_ino = (ino_t)(uint16_t)id;
	st->st_mode = (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ?
			      _S_IFDIR | 0777 :
			      _S_IFREG | 0666;
	if (fi.dwFileAttributes & FILE_ATTRIBUTE_READONLY)
		st->st_mode &= ~0222;
	st->st_nlink = (short)fi.nNumberOfLinks;
	st->st_size = (off_t)((uint64_t)fi.nFileSizeHigh << 32 |
			      fi.nFileSizeLow);
	st->st_atime = unix_time(fi.ftLastAccessTime);
	st->st_mtime = unix_time(fi.ftLastWriteTime);
	/* Windows has no change time; creation is what a lock's age
	 * needs. */
	st->st_ctime = unix_time(fi.ftCreationTime);
	return 0;
}

int win32_fstat(int fd, struct stat *st)
{
	HANDLE h = handle_of(fd);

	if (h == INVALID_HANDLE_VALUE) {
		errno = EBADF;
		return -1;
	}
	return stat_handle(h, st);
}

int win32_stat(const char *path, struct stat *st)
{
	wchar_t *w = wide(path);
	HANDLE h;
	int r, tries = 0;

	if (!w)
		return -1;
	/* Attributes only: no sharing check applies to the access. */
	while ((h = CreateFileW(w, FILE_READ_ATTRIBUTES, SHARE_ALL, NULL,
				OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS,
				NULL)) == INVALID_HANDLE_VALUE &&
	       GetLastError() == ERROR_SHARING_VIOLATION &&
	       wait_out_sharing(GetLastError(), &tries))
		;
	free(w);
	if (h == INVALID_HANDLE_VALUE) {
		DWORD e = GetLastError();

		/* A file being removed (delete pending) is gone. */
		return fail_with(e == ERROR_ACCESS_DENIED ? ERROR_DELETE_PENDING
							  : e);
	}
	r = stat_handle(h, st);
	CloseHandle(h);
	return r;
}

static int win_fstat(void *ctx, int fd, struct stat *st)
{
	return win32_fstat(fd, st);
}

static int win_stat(void *ctx, const char *path, struct stat *st)
{
	return win32_stat(path, st);
}

/* --- fsync ------------------------------------------------------------ */

int win32_fsync(int fd)
{
	HANDLE h = handle_of(fd);
	BY_HANDLE_FILE_INFORMATION fi;

	if (h == INVALID_HANDLE_VALUE) {
		errno = EBADF;
		return -1;
	}
	DWORD e;

	if (FlushFileBuffers(h))
		return 0;
	e = GetLastError();
	/* A directory cannot be flushed, nor needs to be: NTFS journals
	 * its metadata, renames included. */
	if (GetFileInformationByHandle(h, &fi) &&
	    (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY))
		return 0;
	/* Flushing needs write access, which POSIX's fsync does not (relist
	 * syncs the tables it opened to read): flush a writable handle of
	 * the same file. */
	if (e == ERROR_ACCESS_DENIED) {
		HANDLE w = ReOpenFile(h, GENERIC_WRITE, SHARE_ALL, 0);
		BOOL ok;

		if (w == INVALID_HANDLE_VALUE)
			return fail_with(GetLastError());
		ok = FlushFileBuffers(w);
		CloseHandle(w);
		return ok ? 0 : fail_with(GetLastError());
	}
	return fail_with(e);
}

static int win_fsync(void *ctx, int fd)
{
	return win32_fsync(fd);
}

/* --- rename and unlink ------------------------------------------------ */

/* 1 while POSIX-semantics renames and removals may work here; 0 once
 * the system said it has none. */
static atomic_int posix_semantics = 1;

static int no_posix_semantics(DWORD e)
{
	return e == ERROR_INVALID_PARAMETER || e == ERROR_NOT_SUPPORTED ||
	       e == ERROR_INVALID_FUNCTION || e == ERROR_CALL_NOT_IMPLEMENTED;
}

/* Rename the open file h to to, replacing it even while it is open
 * (where every handle to it shares deletion). */
static BOOL rename_posix(HANDLE h, const wchar_t *to)
{
	size_t n = wcslen(to) * sizeof(wchar_t);
	size_t size = sizeof(FILE_RENAME_INFO) + n;
	FILE_RENAME_INFO *ri = calloc(1, size);
	DWORD flags = RENAME_FLAG_REPLACE_IF_EXISTS |
		      RENAME_FLAG_POSIX_SEMANTICS;
	BOOL ok;

	if (!ri) {
		SetLastError(ERROR_NOT_ENOUGH_MEMORY);
		return FALSE;
	}
	/* FileRenameInfoEx reads Flags where ReplaceIfExists is. */
	memcpy(ri, &flags, sizeof(flags));
	ri->FileNameLength = (DWORD)n;
	memcpy(ri->FileName, to, n);
	ok = SetFileInformationByHandle(h, RENAME_INFO_EX_CLASS, ri, (DWORD)size);
	free(ri);
	return ok;
}

/* One attempt at renaming from to to. */
static BOOL rename_once(const wchar_t *from, const wchar_t *to)
{
	if (atomic_load(&posix_semantics)) {
		HANDLE h = CreateFileW(from, DELETE, SHARE_ALL, NULL,
				       OPEN_EXISTING,
				       FILE_FLAG_BACKUP_SEMANTICS, NULL);
		BOOL ok;
		DWORD e;

		if (h == INVALID_HANDLE_VALUE)
			return FALSE;
		ok = rename_posix(h, to);
		e = GetLastError();
		CloseHandle(h);
		if (ok || !no_posix_semantics(e)) {
			SetLastError(e);
			return ok;
		}
		atomic_store(&posix_semantics, 0);
	}
	return MoveFileExW(from, to, MOVEFILE_REPLACE_EXISTING);
}

int win32_rename(const char *from, const char *to)
{
	wchar_t *wf = wide(from), *wt = wf ? wide(to) : NULL;
	int tries = 0;
	BOOL ok;

	if (!wt) {
		free(wf);
		return -1;
	}
	while (!(ok = rename_once(wf, wt)) &&
	       wait_out_sharing(GetLastError(), &tries))
		;
	free(wf);
	free(wt);
	return ok ? 0 : fail_with(GetLastError());
}

static BOOL unlink_once(const wchar_t *path)
{
	if (atomic_load(&posix_semantics)) {
		DWORD di = DISPOSITION_FLAG_DELETE |
			   DISPOSITION_FLAG_POSIX_SEMANTICS;
		HANDLE h = CreateFileW(path, DELETE, SHARE_ALL, NULL,
				       OPEN_EXISTING, 0, NULL);
		BOOL ok;
		DWORD e;

		if (h == INVALID_HANDLE_VALUE)
			return FALSE;
		ok = SetFileInformationByHandle(h, DISPOSITION_INFO_EX_CLASS, &di,
						sizeof(di));
		e = GetLastError();
		CloseHandle(h);
		if (ok || !no_posix_semantics(e)) {
			SetLastError(e);
			return ok;
		}
		atomic_store(&posix_semantics, 0);
	}
	return DeleteFileW(path);
}

int win32_unlink(const char *path)
{
	wchar_t *w = wide(path);
	int tries = 0;
	BOOL ok;

	if (!w)
		return -1;
	while (!(ok = unlink_once(w)) &&
	       wait_out_sharing(GetLastError(), &tries))
		;
	free(w);
	return ok ? 0 : fail_with(GetLastError());
}

static int win_rename(void *ctx, const char *from, const char *to)
{
	return win32_rename(from, to);
}

static int win_unlink(void *ctx, const char *path)
{
	return win32_unlink(path);
}

static int win_link(void *ctx, const char *from, const char *to)
{
	wchar_t *wf = wide(from), *wt = wf ? wide(to) : NULL;
	BOOL ok;

	if (!wt) {
		free(wf);
		return -1;
	}
	ok = CreateHardLinkW(wt, wf, NULL);
	free(wf);
	free(wt);
	return ok ? 0 : fail_with(GetLastError());
}

/* --- directories ------------------------------------------------------ */

int win32_mkdir(const char *path, int mode)
{
	wchar_t *w = wide(path);
	BOOL ok;

	if (!w)
		return -1;
	ok = CreateDirectoryW(w, NULL);
	free(w);
	return ok ? 0 : fail_with(GetLastError());
}

static int win_mkdir(void *ctx, const char *path, mode_t mode)
{
	return win32_mkdir(path, (int)mode);
}

static char *narrow(const wchar_t *w)
{
	int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
	char *s = n > 0 ? malloc((size_t)n) : NULL;

	if (s)
		WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
	return s;
}

static int win_list_dir(void *ctx, const char *dir,
			int (*fn)(void *arg, const char *name), void *arg)
{
	size_t n = strlen(dir);
	char *pattern = malloc(n + 3);
	wchar_t *w;
	WIN32_FIND_DATAW fd;
	HANDLE h;
	int ret = 0;

	if (!pattern) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(pattern, dir, n);
	memcpy(pattern + n, "/*", 3);
	w = wide(pattern);
	free(pattern);
	if (!w)
		return -1;
	h = FindFirstFileW(w, &fd);
	free(w);
	if (h == INVALID_HANDLE_VALUE)
		return fail_with(GetLastError());
	do {
		char *name;

		if (!wcscmp(fd.cFileName, L".") || !wcscmp(fd.cFileName, L".."))
			continue;
		if (!(name = narrow(fd.cFileName))) {
			errno = ENOMEM;
			ret = -1;
			break;
		}
		ret = fn(arg, name);
		free(name);
	} while (!ret && FindNextFileW(h, &fd));
	FindClose(h);
	return ret;
}

/* --- mapping ---------------------------------------------------------- */

static void *win_mmap(void *ctx, int fd, size_t len)
{
	HANDLE m = CreateFileMappingW(handle_of(fd), NULL, PAGE_READONLY, 0, 0,
				      NULL);
	void *p;

	if (!m) {
		fail_with(GetLastError());
		return NULL;
	}
	p = MapViewOfFile(m, FILE_MAP_READ, 0, 0, len);
	if (!p)
		fail_with(GetLastError());
	CloseHandle(m); /* the view keeps the mapping */
	return p;
}

static int win_munmap(void *ctx, void *addr, size_t len)
{
	return UnmapViewOfFile(addr) ? 0 : fail_with(GetLastError());
}

/* --- small POSIX calls the compat header maps here -------------------- */

int win32_flock(int fd, int op)
{
	HANDLE h = handle_of(fd);
	OVERLAPPED ov = { 0 };
	DWORD flags = 0;

	if (op & 8 /* LOCK_UN */)
		return UnlockFileEx(h, 0, 1, 0, &ov) ? 0 :
						      fail_with(GetLastError());
	if (op & 2 /* LOCK_EX */)
		flags |= LOCKFILE_EXCLUSIVE_LOCK;
	if (op & 4 /* LOCK_NB */)
		flags |= LOCKFILE_FAIL_IMMEDIATELY;
	if (LockFileEx(h, flags, 0, 1, 0, &ov))
		return 0;
	if (GetLastError() == ERROR_LOCK_VIOLATION ||
	    GetLastError() == ERROR_IO_PENDING) {
		errno = EWOULDBLOCK;
		return -1;
	}
	/* Directories may not take byte-range locks (ERROR_INVALID_FUNCTION
	 * on some filesystems): then there is no flock here. */
	return fail_with(GetLastError());
}

int win32_kill(long pid, int sig)
{
	HANDLE p = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE,
			       (DWORD)pid);
	DWORD code;

	if (!p) {
		errno = GetLastError() == ERROR_INVALID_PARAMETER ? ESRCH :
								    EPERM;
		return -1;
	}
	if (sig != 0 || !GetExitCodeProcess(p, &code) || code != STILL_ACTIVE) {
		/* Only the existence probe is supported; an exited process
		 * whose handle lingers is gone. */
		CloseHandle(p);
		errno = sig ? EINVAL : ESRCH;
		return -1;
	}
	CloseHandle(p);
	return 0;
}

int win32_gethostname(char *name, int len)
{
	DWORD n = (DWORD)len;

	/* The DNS host name keeps its case, as gethostname(2) gives it;
	 * GetComputerNameA gives the NetBIOS name, in capitals. */
	if (!GetComputerNameExA(ComputerNameDnsHostname, name, &n))
		return fail_with(GetLastError());
	return 0;
}

char *win32_realpath(const char *path, char *resolved)
{
	char *r = _fullpath(resolved, path, resolved ? _MAX_PATH : 0);
	struct stat st;

	if (r && win32_stat(r, &st) < 0) {
		if (!resolved)
			free(r);
		return NULL;
	}
	return r;
}

char *win32_getcwd(char *buf, size_t size)
{
	char *cwd = _getcwd(buf, (int)size);
	char *p;

	for (p = cwd; p && *p; p++)
		if (*p == '\\')
			*p = '/';
	return cwd;
}

ssize_t win32_getdelim(char **line, size_t *cap, int delim, FILE *f)
{
	size_t len = 0;
	int c;

	while ((c = getc(f)) != EOF) {
		if (len + 2 > *cap) {
			size_t n = *cap ? 2 * *cap : 128;
			char *p = realloc(*line, n);

			if (!p) {
				errno = ENOMEM;
				return -1;
			}
			*line = p;
			*cap = n;
		}
		(*line)[len++] = (char)c;
		if (c == delim)
			break;
	}
	if (!len)
		return -1;
	(*line)[len] = '\0';
	return (ssize_t)len;
}

const struct reftable_fs fs_platform = {
	.size = sizeof(struct reftable_fs),
	.ctx = NULL,
	.open = win_open,
	.close = win_close,
	.read = win_read,
	.write = win_write,
	.fsync = win_fsync,
	.fstat = win_fstat,
	.stat = win_stat,
	.rename = win_rename,
	.unlink = win_unlink,
	.mkdir = win_mkdir,
	.list_dir = win_list_dir,
	.mmap = win_mmap,
	.munmap = win_munmap,
	.start_writeback = NULL,
	.link = win_link,
	.exchange = NULL, /* no atomic swap of two names */
};

#endif /* _WIN32 */
