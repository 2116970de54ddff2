/* What kind of filesystem a file lives on. */

#include "fsinfo.h"

#include <stddef.h>

#if defined(__linux__)
#include <sys/vfs.h>
#endif

int fs_is_local(int fd)
{
#if defined(__linux__)
	static const unsigned long shared[] = {
		0x6969,     /* NFS */
		0x517B,     /* SMB */
		0xFF534D42, /* CIFS */
		0xFE534D42, /* SMB2 */
		0x65735546, /* FUSE */
		0x00C36400, /* Ceph */
		0x5346414F, /* AFS */
		0x01021997, /* 9P */
		0x73757245, /* Coda */
		0x01161970, /* GFS2 */
		0x7461636f, /* OCFS2 */
	};
	struct statfs sf;
	size_t i;

	if (fstatfs(fd, &sf) < 0)
		return 0;
	for (i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
		if ((unsigned long)(unsigned)sf.f_type == shared[i])
			return 0;
	return 1;
#else
	(void)fd;
	return 0;
#endif
}
