/* Owner evidence in lock files, and proving an owner dead. */

#include "owner.h"
#include "fsinfo.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* What identifies a process across machines, boots and pid reuse. */
struct identity {
	long pid;
	char start[24]; /* clock ticks after boot; "-" if unknown */
	char boot[40];  /* the kernel's boot id; "-" if unknown */
	char ns[40];    /* the pid namespace; "-" if unknown */
	char host[72];  /* the host name; "-" if unknown */
};

#ifdef _WIN32
/* The same evidence from Win32 (owner-win32.c). */
#include "owner-win32.h"
#else
static void read_word(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "re");

	snprintf(out, cap, "-");
	if (!f)
		return;
	if (!fgets(out, (int)cap, f))
		snprintf(out, cap, "-");
	fclose(f);
	out[strcspn(out, " \t\r\n")] = '\0';
	if (!*out)
		snprintf(out, cap, "-");
}

/* Field 22 of /proc/PID/stat: when the process started, in clock ticks
 * after boot. Together with the pid it names one process for good.
 * *state (if not NULL): field 3, 'Z' for a process that exited and
 * waits to be reaped. */
static int process_start(long pid, char *out, size_t cap, char *state)
{
	char path[64], line[1024], *p;
	FILE *f;
	int field;

	snprintf(out, cap, "-");
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	/* The command name may hold spaces and ')': skip to the last ')'. */
	if (!p || !(p = strrchr(line, ')')))
		return -1;
	if (state)
		*state = p[1] == ' ' ? p[2] : '?';
	for (field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -1;
	snprintf(out, cap, "%.*s", (int)strcspn(p + 1, " \n"), p + 1);
	return *out ? 0 : -1;
}

static void boot_id(char *out, size_t cap)
{
	read_word("/proc/sys/kernel/random/boot_id", out, cap);
}

static void pid_namespace(char *out, size_t cap)
{
	char link[64];
	ssize_t n = readlink("/proc/self/ns/pid", link, sizeof(link) - 1);

	link[n > 0 ? n : 0] = '\0';
	snprintf(out, cap, "%.39s", n > 0 ? link : "-");
}
#endif

static void identity_of_self(struct identity *id)
{
	id->pid = (long)getpid();
	process_start(id->pid, id->start, sizeof(id->start), NULL);
	boot_id(id->boot, sizeof(id->boot));
	pid_namespace(id->ns, sizeof(id->ns));
	if (gethostname(id->host, sizeof(id->host)) < 0 || !*id->host)
		snprintf(id->host, sizeof(id->host), "-");
	id->host[sizeof(id->host) - 1] = '\0';
	id->host[strcspn(id->host, " \t\r\n")] = '\0';
}

static pthread_mutex_t self_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct identity self;
static char self_line[256];

/* Our identity, computed again in a forked child (its pid differs). */
static void self_identity(struct identity *out)
{
	pthread_mutex_lock(&self_mutex);
	if (self.pid != (long)getpid()) {
		identity_of_self(&self);
		snprintf(self_line, sizeof(self_line),
			 OWNER_EVIDENCE_TAG "pid=%ld start=%s boot=%s ns=%s host=%s\n",
			 self.pid, self.start, self.boot, self.ns, self.host);
	}
	*out = self;
	pthread_mutex_unlock(&self_mutex);
}

const char *owner_evidence(void)
{
	struct identity id;

	self_identity(&id);
	return self_line;
}

/* "key=value" from a line of evidence into out; -1 if absent. */
static int field(const char *line, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[klen] == '=') {
			p += klen + 1;
			snprintf(out, cap, "%.*s", (int)strcspn(p, " \n"), p);
			return *out ? 0 : -1;
		}
		p += klen;
	}
	return -1;
}

static int parse_evidence(const char *data, size_t len, struct identity *id)
{
	char line[256], pid[24];

	if (len >= sizeof(line) || len < strlen(OWNER_EVIDENCE_TAG) ||
	    memcmp(data, OWNER_EVIDENCE_TAG, strlen(OWNER_EVIDENCE_TAG)) ||
	    memchr(data, '\0', len))
		return -1;
	memcpy(line, data, len);
	line[len] = '\0';
	if (field(line, "pid", pid, sizeof(pid)) ||
	    field(line, "start", id->start, sizeof(id->start)) ||
	    field(line, "boot", id->boot, sizeof(id->boot)) ||
	    field(line, "ns", id->ns, sizeof(id->ns)) ||
	    field(line, "host", id->host, sizeof(id->host)))
		return -1;
	id->pid = strtol(pid, NULL, 10);
	return id->pid > 0 ? 0 : -1;
}

int owner_released(const char *data, size_t len)
{
	const char *nl = memchr(data, '\n', len);
	size_t rest = nl ? len - (size_t)(nl + 1 - data) : 0;

	return nl && len > strlen(OWNER_EVIDENCE_TAG) &&
	       !memcmp(data, OWNER_EVIDENCE_TAG, strlen(OWNER_EVIDENCE_TAG)) &&
	       rest == strlen(OWNER_RELEASED_MARK) &&
	       !memcmp(nl + 1, OWNER_RELEASED_MARK, rest);
}

/* When this machine booted (seconds since the epoch), 0 if unknown. */
static time_t boot_time(void)
{
	char line[256];
	long long t = 0;
	FILE *f = fopen("/proc/stat", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lld", &t) == 1)
			break;
	fclose(f);
	return (time_t)t;
}

/* Whether a process of this machine other than us has the file open.
 * A lock held open is alive, whatever the clock says. */
static int held_open_here(const struct stat *sb)
{
	DIR *procs = opendir("/proc");
	struct dirent *p;
	int found = 0;

	if (!procs)
		return 0;
	while (!found && (p = readdir(procs)) != NULL) {
		char dir[64];
		DIR *fds;
		struct dirent *f;
		long pid = strtol(p->d_name, NULL, 10);

		if (pid <= 0 || pid == (long)getpid())
			continue;
		snprintf(dir, sizeof(dir), "/proc/%ld/fd", pid);
		if (!(fds = opendir(dir)))
			continue; /* gone, or not ours to look at */
		while (!found && (f = readdir(fds)) != NULL) {
			char fd_path[sizeof(dir) + sizeof(f->d_name) + 1];
			struct stat there;

			snprintf(fd_path, sizeof(fd_path), "%s/%s", dir, f->d_name);
			found = f->d_name[0] != '.' && stat(fd_path, &there) == 0 &&
				there.st_dev == sb->st_dev &&
				there.st_ino == sb->st_ino;
		}
		closedir(fds);
	}
	closedir(procs);
	return found;
}

/*
 * Created before this machine last booted, on a filesystem only this
 * machine writes: whoever created it died with the old boot. Both times
 * are wall-clock times, and a clock stepped forward after boot (a
 * machine without a real-time clock, set by NTP) makes a lock of this
 * boot look older than the boot: one that a process here holds open is
 * therefore alive (Git holds its lock open until it commits).
 */
static int predates_boot(const struct stat *sb, int fd, time_t booted)
{
	return booted && sb->st_ctime < booted && fs_is_local(fd) &&
	       !held_open_here(sb);
}

static enum owner_verdict judge_process(const struct identity *id,
					struct buf *why)
{
	char start[24], state = '?';

	if (kill((pid_t)id->pid, 0) < 0 && errno == ESRCH) {
		buf_addf(why, "process %ld is gone", id->pid);
		return OWNER_DEAD;
	}
	if (process_start(id->pid, start, sizeof(start), &state) < 0 ||
	    !strcmp(id->start, "-")) {
		buf_addf(why, "a process %ld exists and cannot be told apart "
			 "from the owner", id->pid);
		return OWNER_UNKNOWN;
	}
	if (strcmp(start, id->start)) {
		buf_addf(why, "process %ld is gone (its pid now belongs to "
			 "another process)", id->pid);
		return OWNER_DEAD;
	}
	/* A zombie answers kill(pid, 0) but will never run again. */
	if (state == 'Z' || state == 'X') {
		buf_addf(why, "process %ld has exited (not yet reaped)",
			 id->pid);
		return OWNER_DEAD;
	}
	buf_addf(why, "held by process %ld, which is running", id->pid);
	return OWNER_ALIVE;
}

enum owner_verdict owner_judge(const char *data, size_t len,
			       const struct stat *sb, int fd, struct buf *why)
{
	return owner_judge_booted(data, len, sb, fd, why, boot_time());
}

enum owner_verdict owner_judge_booted(const char *data, size_t len,
				      const struct stat *sb, int fd,
				      struct buf *why, time_t booted)
{
	struct identity me, id;

	buf_reset(why);
	if (parse_evidence(data, len, &id) < 0) {
		if (predates_boot(sb, fd, booted)) {
			buf_addf(why, "created before this machine last booted");
			return OWNER_DEAD;
		}
		buf_addf(why, len ? "no owner evidence in it (not written by "
				    "this library)" :
				    "empty: Git's, an older reftable's, or one "
				    "being created; only --force removes it");
		return OWNER_UNKNOWN;
	}
	if (owner_released(data, len)) {
		/* Left where a remover put it back or moved it aside, or
		 * where an acquire that failed could not remove it. */
		buf_addf(why, "released by process %ld, its owner", id.pid);
		return OWNER_DEAD;
	}
	self_identity(&me);
	if (strcmp(id.host, me.host) || !strcmp(id.host, "-")) {
		buf_addf(why, "held by process %ld on host %s, which cannot "
			 "be checked from here", id.pid, id.host);
		return OWNER_UNKNOWN;
	}
	if (strcmp(id.boot, me.boot) || !strcmp(id.boot, "-")) {
		if (strcmp(id.boot, "-") && predates_boot(sb, fd, booted)) {
			buf_addf(why, "process %ld ran before this machine "
				 "last booted", id.pid);
			return OWNER_DEAD;
		}
		buf_addf(why, "held by process %ld of another boot of host "
			 "%s, which cannot be checked", id.pid, id.host);
		return OWNER_UNKNOWN;
	}
	if (strcmp(id.ns, me.ns) || !strcmp(id.ns, "-")) {
		buf_addf(why, "held by process %ld of another pid namespace",
			 id.pid);
		return OWNER_UNKNOWN;
	}
	return judge_process(&id, why);
}
