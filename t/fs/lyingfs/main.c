/*
 * lyingfs [-f] [-d] [--mode cto|nocto] [--timeout SECONDS] BACKING MOUNT
 *
 * Mounts BACKING at MOUNT as one NFS client would see it (lyingfs.h).
 * Without -f it returns once the mount is in place and serves it in the
 * background until unmounted (fusermount3 -u MOUNT).
 */

#include "lyingfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct options opts = { .timeout = 30, .mode = OPEN_CTO };

static void usage(void)
{
	fprintf(stderr, "usage: lyingfs [-f] [-d] [--mode cto|nocto] "
			"[--timeout SECONDS] BACKING MOUNTPOINT\n");
	exit(2);
}

static void parse(int argc, char **argv)
{
	int i, pos = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-f"))
			opts.foreground = 1;
		else if (!strcmp(a, "-d"))
			opts.debug = opts.foreground = 1;
		else if (!strcmp(a, "--mode") && i + 1 < argc)
			opts.mode = !strcmp(argv[++i], "nocto") ? OPEN_NOCTO :
				    !strcmp(argv[i], "cto") ? OPEN_CTO :
							      (usage(), 0);
		else if (!strcmp(a, "--timeout") && i + 1 < argc)
			opts.timeout = atof(argv[++i]);
		else if (a[0] == '-' || pos == 2)
			usage();
		else if (pos++ == 0)
			opts.backing = a;
		else
			opts.mountpoint = a;
	}
	if (pos != 2)
		usage();
}

static int serve(struct fuse_args *args, int root_fd)
{
	struct fuse_session *se;
	int err = 1;

	se = fuse_session_new(args, &lying_ops, sizeof(lying_ops), NULL);
	if (!se)
		return 1;
	if (fuse_set_signal_handlers(se) == 0) {
		if (fuse_session_mount(se, opts.mountpoint) == 0) {
			fuse_daemonize(opts.foreground);
			err = fuse_session_loop(se) ? 1 : 0;
			fuse_session_unmount(se);
		}
		fuse_remove_signal_handlers(se);
	}
	fuse_session_destroy(se);
	close(root_fd);
	return err;
}

int main(int argc, char **argv)
{
	char fsname[PATH_MAX + 64];
	struct stat st;
	int fd;

	parse(argc, argv);
	fd = open(opts.backing, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "lyingfs: %s: %s\n", opts.backing,
			strerror(errno));
		return 1;
	}
	nodes_init_root(fd, &st);
	snprintf(fsname, sizeof(fsname), "fsname=lyingfs,subtype=lyingfs-%s",
		 opts.mode == OPEN_CTO ? "cto" : "nocto");
	{
		char *av[] = { argv[0], "-o", fsname, "-d", NULL };
		struct fuse_args args = FUSE_ARGS_INIT(opts.debug ? 4 : 3, av);
		return serve(&args, fd);
	}
}
