/* The node table: backing inodes the kernel holds by node id. */

#include "lyingfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BUCKETS 4096

static struct node root;
static struct node *table[BUCKETS];

static size_t bucket(dev_t dev, ino_t ino)
{
	return (size_t)((ino ^ (ino >> 12) ^ dev) % BUCKETS);
}

void nodes_init_root(int fd, const struct stat *st)
{
	root.fd = fd;
	root.dev = st->st_dev;
	root.ino = st->st_ino;
	root.nlookup = 2; /* never forgotten */
}

struct node *node_of(fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? &root : (struct node *)(uintptr_t)ino;
}

fuse_ino_t node_id(struct node *n)
{
	return n == &root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}

struct node *node_find(dev_t dev, ino_t ino)
{
	struct node *n;

	if (dev == root.dev && ino == root.ino)
		return &root;
	for (n = table[bucket(dev, ino)]; n; n = n->next)
		if (n->dev == dev && n->ino == ino)
			return n;
	return NULL;
}

/* The node of fd's inode, taking fd over (closed if the node exists);
 * NULL when out of memory. */
struct node *node_get(int fd, const struct stat *st)
{
	struct node *n = node_find(st->st_dev, st->st_ino);
	size_t b;

	if (n) {
		close(fd);
		return n;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		close(fd);
		return NULL;
	}
	n->fd = fd;
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->is_dir = S_ISDIR(st->st_mode);
	b = bucket(n->dev, n->ino);
	n->next = table[b];
	table[b] = n;
	return n;
}

void node_set_name(struct node *n, struct node *parent, const char *name)
{
	char *copy;

	if (n == &root)
		return;
	copy = strdup(name);
	if (!copy)
		return; /* keeps the old name: a later open may say ESTALE */
	free(n->name);
	n->name = copy;
	n->parent = parent;
	n->hidden = 0;
}

void node_maybe_free(struct node *n)
{
	struct node **p;
	size_t i;

	if (n == &root || n->nlookup || n->opens)
		return;
	for (p = &table[bucket(n->dev, n->ino)]; *p; p = &(*p)->next)
		if (*p == n) {
			*p = n->next;
			break;
		}
	/* Children name it as their parent: forget that name. */
	for (i = 0; n->is_dir && i < BUCKETS; i++) {
		struct node *c;
		for (c = table[i]; c; c = c->next)
			if (c->parent == n)
				c->parent = NULL;
	}
	close(n->fd);
	free(n->name);
	free(n);
}

void node_unref(struct node *n, uint64_t nlookup)
{
	n->nlookup = nlookup > n->nlookup ? 0 : n->nlookup - nlookup;
	node_maybe_free(n);
}

/* Removed from the backing directory by someone else: what NFS calls
 * a stale file handle. */
int node_removed(struct node *n)
{
	struct stat st;

	if (n == &root)
		return 0;
	if (fstat(n->fd, &st) < 0)
		return 1;
	return st.st_nlink == 0;
}

int node_check(struct node *n)
{
	if (!node_removed(n))
		return 0;
	n->stale = 1;
	return ESTALE;
}

int node_proc_path(char *buf, size_t cap, int fd)
{
	int len = snprintf(buf, cap, "/proc/self/fd/%d", fd);
	return len < 0 || (size_t)len >= cap ? -1 : 0;
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void node_learnt(struct node *n, const struct stat *st)
{
	n->attr = *st;
	n->attr_until = now_s() + opts.timeout;
}

/*
 * The kernel asks again whenever a read has marked the access time
 * stale, long before its own timeout: answering from this cache keeps
 * attributes as sticky as NFS keeps them.
 */
int node_attr(struct node *n, struct stat *st, double *timeout)
{
	double now = now_s();

	if (n->attr_until > now) {
		*st = n->attr;
		*timeout = n->attr_until - now;
		return 0;
	}
	if (node_check(n))
		return ESTALE;
	if (fstat(n->fd, st) < 0)
		return errno;
	node_learnt(n, st);
	*timeout = opts.timeout;
	return 0;
}
