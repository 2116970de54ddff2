#ifndef LYINGFS_H
#define LYINGFS_H

/*
 * lyingfs: a FUSE passthrough filesystem that behaves like one host's
 * view of an NFS export. Two instances mounting one backing directory
 * are two hosts sharing it: each caches names and attributes for a set
 * time, files removed by the other instance turn into ESTALE, and files
 * removed while open here become .fuse_hidden* until closed. README.md
 * in this directory says what each mode models.
 */

#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

enum open_mode {
	OPEN_CTO,   /* open revalidates the name (close-to-open) */
	OPEN_NOCTO, /* open trusts the cached name and page cache */
};

struct options {
	const char *backing;
	const char *mountpoint;
	double timeout; /* seconds names and attributes stay cached */
	enum open_mode mode;
	int foreground;
	int debug;
};

/* One backing file or directory the kernel knows by a node id. */
struct node {
	struct node *next;    /* in its hash bucket */
	int fd;               /* O_PATH: keeps the backing inode alive */
	dev_t dev;
	ino_t ino;
	uint64_t nlookup;     /* the kernel's references */
	int opens;            /* descriptors open on this mount */
	struct node *parent;  /* where it was last named, for cto checks */
	char *name;
	int hidden;           /* name is a .fuse_hidden* we gave it */
	int is_dir;
	int stale;            /* we answered ESTALE for it */
	struct stat attr;     /* what this host last learnt of it */
	double attr_until;    /* ... trusted until then (now_s()) */
};

extern struct options opts;

/* nodes.c: the node table. */
void nodes_init_root(int fd, const struct stat *st);
struct node *node_of(fuse_ino_t ino);
fuse_ino_t node_id(struct node *n);
struct node *node_find(dev_t dev, ino_t ino);
struct node *node_get(int fd, const struct stat *st);
void node_set_name(struct node *n, struct node *parent, const char *name);
void node_unref(struct node *n, uint64_t nlookup);
void node_maybe_free(struct node *n);
int node_removed(struct node *n);
/* ESTALE if n was removed, marking it so that the next open of its
 * cached name looks the name up again, as NFS marks a stale inode. */
int node_check(struct node *n);
int node_proc_path(char *buf, size_t cap, int fd);
double now_s(void);
/* This host's attributes of n: cached for opts.timeout after they were
 * learnt, as an NFS client's attribute cache; ESTALE once it has to ask
 * and the file is gone. 0 or an errno. */
int node_attr(struct node *n, struct stat *st, double *timeout);
void node_learnt(struct node *n, const struct stat *st);

/* ops.c: files; the table of every handler. */
extern const struct fuse_lowlevel_ops lying_ops;

/* names.c: lookups, directories and changes of names. */
void do_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void do_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void do_forget_multi(fuse_req_t req, size_t count,
		     struct fuse_forget_data *forgets);
void do_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
	      mode_t mode);
void do_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void do_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void do_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
	       fuse_ino_t newparent, const char *newname, unsigned int flags);
void do_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
	     const char *newname);
void do_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi);
void do_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
/* Fill e for the node parent/name now names (a reference for the
 * kernel); 0 or an errno. */
int entry_of(struct node *parent, const char *name, struct fuse_entry_param *e);

#endif
