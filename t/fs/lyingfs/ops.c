/* Files: attributes, opening, reading and writing, and the handler table. */

#include "lyingfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

static void lying_init(void *data, struct fuse_conn_info *conn)
{
	/* Writes go through at once, as NFS's do by close at the latest. */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

static void do_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct stat st;
	double timeout;
	int err = node_attr(node_of(ino), &st, &timeout);

	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, timeout);
}

static int set_times(const char *path, const struct stat *attr, int to_set)
{
	struct timespec tv[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };

	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		tv[0].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_ATIME)
		tv[0] = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		tv[1].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_MTIME)
		tv[1] = attr->st_mtim;
	return utimensat(AT_FDCWD, path, tv, 0);
}

static void do_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct node *n = node_of(ino);
	char path[64];
	int r = 0;

	if (node_check(n)) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	node_proc_path(path, sizeof(path), n->fd);
	if (to_set & FUSE_SET_ATTR_MODE)
		r = chmod(path, attr->st_mode);
	if (!r && (to_set & FUSE_SET_ATTR_SIZE))
		r = fi ? ftruncate((int)fi->fh, attr->st_size) :
			 truncate(path, attr->st_size);
	if (!r && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
			     FUSE_SET_ATTR_ATIME_NOW |
			     FUSE_SET_ATTR_MTIME_NOW)))
		r = set_times(path, attr, to_set);
	n->attr_until = 0;
	if (r < 0)
		fuse_reply_err(req, errno);
	else
		do_getattr(req, ino, fi);
}

/* Close-to-open: the name the kernel resolved from its cache must still
 * lead to this file, else ESTALE makes the kernel look it up again. */
static int name_leads_here(const struct node *n)
{
	struct stat st;

	if (!n->parent || !n->name)
		return !node_removed((struct node *)n);
	if (fstatat(n->parent->fd, n->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return st.st_dev == n->dev && st.st_ino == n->ino;
}

static void opened(struct node *n, struct fuse_file_info *fi, int fd)
{
	struct stat st;

	n->opens++;
	fi->fh = (uint64_t)fd;
	/* Close-to-open also asks for the attributes afresh, which are
	 * then cached again. */
	if (opts.mode == OPEN_CTO && fstat(fd, &st) == 0)
		node_learnt(n, &st);
	/* nocto trusts what the page cache holds; cto drops it on open. */
	fi->keep_cache = opts.mode == OPEN_NOCTO;
}

static void do_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node *n = node_of(ino);
	char path[64];
	int fd;

	/* A file known stale is looked up again in either mode. */
	if (n->stale || (opts.mode == OPEN_CTO && !name_leads_here(n))) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	node_proc_path(path, sizeof(path), n->fd);
	fd = open(path, fi->flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_NOFOLLOW));
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	opened(n, fi, fd);
	if (fuse_reply_open(req, fi) < 0) {
		close(fd);
		n->opens--;
	}
}

static void do_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct node *p = node_of(parent);
	struct fuse_entry_param e;
	int fd, err;

	fd = openat(p->fd, name, (fi->flags | O_CREAT) & ~O_NOFOLLOW, mode);
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	err = entry_of(p, name, &e);
	if (err) {
		close(fd);
		fuse_reply_err(req, err);
		return;
	}
	opened(node_of(e.ino), fi, fd);
	fuse_reply_create(req, &e, fi);
}

static void do_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	char *buf;
	ssize_t n;

	if (node_check(node_of(ino))) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = pread((int)fi->fh, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void do_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	ssize_t n;

	if (node_check(node_of(ino))) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	node_of(ino)->attr_until = 0;
	n = pwrite((int)fi->fh, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_write(req, (size_t)n);
}

static void do_flush(fuse_req_t req, fuse_ino_t ino,
		     struct fuse_file_info *fi)
{
	fuse_reply_err(req, 0);
}

/* The last close of a hidden file removes it, as NFS's silly rename. */
static void do_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct node *n = node_of(ino);

	close((int)fi->fh);
	if (n->opens)
		n->opens--;
	if (!n->opens && n->hidden && n->parent &&
	    unlinkat(n->parent->fd, n->name, 0) == 0)
		n->hidden = 0;
	node_maybe_free(n);
	fuse_reply_err(req, 0);
}

static void do_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	int r = datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh);
	fuse_reply_err(req, r < 0 ? errno : 0);
}

static void do_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	int fd = openat(node_of(ino)->fd, ".", O_RDONLY | O_DIRECTORY);
	int err = fd < 0 || fsync(fd) < 0 ? errno : 0;

	if (fd >= 0)
		close(fd);
	fuse_reply_err(req, err);
}

static void do_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	if (fstatvfs(node_of(ino)->fd, &sv) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

const struct fuse_lowlevel_ops lying_ops = {
	.init = lying_init,
	.lookup = do_lookup,
	.forget = do_forget,
	.forget_multi = do_forget_multi,
	.getattr = do_getattr,
	.setattr = do_setattr,
	.mkdir = do_mkdir,
	.unlink = do_unlink,
	.rmdir = do_rmdir,
	.rename = do_rename,
	.link = do_link,
	.open = do_open,
	.create = do_create,
	.read = do_read,
	.write = do_write,
	.flush = do_flush,
	.release = do_release,
	.fsync = do_fsync,
	.opendir = do_opendir,
	.readdir = do_readdir,
	.releasedir = do_releasedir,
	.fsyncdir = do_fsyncdir,
	.statfs = do_statfs,
};
