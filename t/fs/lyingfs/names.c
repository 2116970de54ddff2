/* Lookups, directories and changes of names. */

#include "lyingfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int entry_of(struct node *parent, const char *name, struct fuse_entry_param *e)
{
	struct node *n;
	struct stat st;
	int fd;

	memset(e, 0, sizeof(*e));
	fd = openat(parent->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) < 0) {
		int err = errno;
		close(fd);
		return err;
	}
	n = node_get(fd, &st);
	if (!n)
		return ENOMEM;
	n->nlookup++;
	node_set_name(n, parent, name);
	node_learnt(n, &st);
	e->ino = node_id(n);
	e->attr = st;
	e->attr_timeout = opts.timeout;
	e->entry_timeout = opts.timeout;
	return 0;
}

/* Names are never cached as absent: a missing name is asked again. */
void do_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	int err = entry_of(node_of(parent), name, &e);

	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

void do_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	node_unref(node_of(ino), nlookup);
	fuse_reply_none(req);
}

void do_forget_multi(fuse_req_t req, size_t count,
		     struct fuse_forget_data *forgets)
{
	size_t i;

	for (i = 0; i < count; i++)
		node_unref(node_of(forgets[i].ino), forgets[i].nlookup);
	fuse_reply_none(req);
}

void do_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
	      mode_t mode)
{
	if (mkdirat(node_of(parent)->fd, name, mode) < 0)
		fuse_reply_err(req, errno);
	else
		do_lookup(req, parent, name);
}

/*
 * A file removed or replaced through this mount while this mount has it
 * open is renamed aside, as NFS clients do (.nfsXXXX) and libfuse's
 * hard_remove off does: this host's descriptors keep working until the
 * last is closed. The other mount does not know, so its descriptors go
 * stale.
 */
static int hide_if_open(struct node *parent, const char *name, int *hid)
{
	static unsigned counter;
	struct node *n;
	struct stat st;
	char hidden[64];

	if (fstatat(parent->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : errno;
	n = node_find(st.st_dev, st.st_ino);
	if (!n || !n->opens)
		return 0;
	do {
		snprintf(hidden, sizeof(hidden), ".fuse_hidden%08x%08x",
			 (unsigned)st.st_ino, ++counter);
	} while (faccessat(parent->fd, hidden, F_OK, AT_SYMLINK_NOFOLLOW) == 0);
	if (renameat(parent->fd, name, parent->fd, hidden) < 0)
		return errno;
	node_set_name(n, parent, hidden);
	n->hidden = 1;
	*hid = 1;
	return 0;
}

void do_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct node *p = node_of(parent);
	int hid = 0, err;

	err = hide_if_open(p, name, &hid);
	if (!err && !hid && unlinkat(p->fd, name, 0) < 0)
		err = errno;
	fuse_reply_err(req, err);
}

void do_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	int r = unlinkat(node_of(parent)->fd, name, AT_REMOVEDIR);
	fuse_reply_err(req, r < 0 ? errno : 0);
}

void do_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
	       fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct node *from = node_of(parent), *to = node_of(newparent), *n;
	struct stat st;
	int hid = 0, err = 0;

	/* NFS has no atomic swap: the Linux client refuses rename flags. */
	if (flags & RENAME_EXCHANGE) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (fstatat(from->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	if (!(flags & RENAME_NOREPLACE))
		err = hide_if_open(to, newname, &hid);
	if (!err && renameat2(from->fd, name, to->fd, newname, flags) < 0)
		err = errno;
	n = err ? NULL : node_find(st.st_dev, st.st_ino);
	if (n)
		node_set_name(n, to, newname);
	fuse_reply_err(req, err);
}

void do_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
	     const char *newname)
{
	struct fuse_entry_param e;
	char path[64];
	int err;

	node_proc_path(path, sizeof(path), node_of(ino)->fd);
	if (linkat(AT_FDCWD, path, node_of(newparent)->fd, newname,
		   AT_SYMLINK_FOLLOW) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	err = entry_of(node_of(newparent), newname, &e);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

/* A directory's entries as they were at opendir: the kernel pages
 * through them by offset. */
struct listing {
	size_t len;
	struct dirent *entries;
};

void do_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct listing *l = calloc(1, sizeof(*l));
	struct dirent *e;
	size_t cap = 0;
	DIR *d;
	int fd;

	fd = openat(node_of(ino)->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!l || !d) {
		int err = l ? errno : ENOMEM;
		if (fd >= 0 && !d)
			close(fd);
		if (d)
			closedir(d);
		free(l);
		fuse_reply_err(req, err);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (l->len == cap) {
			struct dirent *grown;
			cap = cap ? 2 * cap : 64;
			grown = realloc(l->entries, cap * sizeof(*grown));
			if (!grown)
				break;
			l->entries = grown;
		}
		l->entries[l->len++] = *e;
	}
	closedir(d);
	fi->fh = (uint64_t)(uintptr_t)l;
	fuse_reply_open(req, fi);
}

void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	struct listing *l = (struct listing *)(uintptr_t)fi->fh;
	char *buf = malloc(size);
	size_t used = 0;
	size_t i;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (i = (size_t)off; i < l->len; i++) {
		struct stat st = { 0 };
		size_t n;

		st.st_ino = l->entries[i].d_ino;
		st.st_mode = (mode_t)l->entries[i].d_type << 12;
		n = fuse_add_direntry(req, buf + used, size - used,
				      l->entries[i].d_name, &st, (off_t)i + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

void do_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct listing *l = (struct listing *)(uintptr_t)fi->fh;

	free(l->entries);
	free(l);
	fuse_reply_err(req, 0);
}
