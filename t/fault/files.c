/* Files and directories of the fault sweep and the crash images. */

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "owner.h"

void fault_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fault: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (!p)
		fault_die("out of memory");
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

char *fault_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	struct stat sb;
	char *p;

	/* tmpfs: the sweep fsyncs for real, and only calls matter here. */
	if (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    access("/dev/shm", W_OK) == 0)
		base = "/dev/shm";
	if (!base)
		base = "/tmp";
	p = path_join(base, "reftable-XXXXXX");
	(void)tag;
	if (!mkdtemp(p))
		fault_die("mkdtemp %s: %s", p, strerror(errno));
	return p;
}

void fault_empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char *p;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = path_join(dir, e->d_name);
		if (unlink(p) < 0 && errno == EISDIR)
			fault_rmtree(p);
		free(p);
	}
	closedir(d);
}

void fault_rmtree(const char *dir)
{
	fault_empty_dir(dir);
	rmdir(dir);
}

char *fault_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t n = 0, cap = 0, got;

	if (!f)
		return NULL;
	do {
		if (n + 4097 > cap) {
			cap = (n + 4097) * 2;
			data = realloc(data, cap);
			if (!data)
				fault_die("out of memory");
		}
		got = fread(data + n, 1, cap - n - 1, f);
		n += got;
	} while (got);
	fclose(f);
	data[n] = '\0';
	if (len)
		*len = n;
	return data;
}

void fault_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		fault_die("write %s: %s", path, strerror(errno));
}

void fault_copy_dir(const char *src, const char *dst)
{
	DIR *d = opendir(src);
	struct dirent *e;

	if (!d)
		fault_die("opendir %s: %s", src, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		char *from, *to, *data;
		size_t len;

		if (e->d_name[0] == '.')
			continue;
		from = path_join(src, e->d_name);
		to = path_join(dst, e->d_name);
		data = fault_read_file(from, &len);
		if (!data)
			fault_die("read %s: %s", from, strerror(errno));
		fault_write_file(to, data, len);
		free(data);
		free(from);
		free(to);
	}
	closedir(d);
}

static void add_line(char **out, size_t *len, const char *s)
{
	size_t n = strlen(s);

	*out = realloc(*out, *len + n + 2);
	if (!*out)
		fault_die("out of memory");
	memcpy(*out + *len, s, n);
	(*out)[*len + n] = '\n';
	*len += n + 1;
	(*out)[*len] = '\0';
}

/* Whether name is a line of the list text. */
static int listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (list && (p = strstr(p, name)) != NULL) {
		if ((p == list || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p += n;
	}
	return 0;
}

char *fault_leftovers(const char *dir)
{
	char *lp = path_join(dir, "tables.list");
	char *list = fault_read_file(lp, NULL);
	char *out = calloc(1, 1);
	size_t len = 0;
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, "tables.list") || listed(list, e->d_name))
			continue;
		add_line(&out, &len, e->d_name);
	}
	if (d)
		closedir(d);
	free(list);
	free(lp);
	return out;
}

static int is_lock_name(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && !strcmp(name + n - 5, ".lock");
}

char *fault_our_locks(const char *dir)
{
	const char *mine = owner_evidence();
	char *out = calloc(1, 1);
	size_t len = 0;
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		char *p, *data;

		if (!is_lock_name(e->d_name))
			continue;
		p = path_join(dir, e->d_name);
		data = fault_read_file(p, NULL);
		/* Empty: created, the evidence not yet written; only a
		 * writer of this process can have left it here. */
		if (data && (!*data || !strcmp(data, mine)))
			add_line(&out, &len, e->d_name);
		free(data);
		free(p);
	}
	if (d)
		closedir(d);
	return out;
}
