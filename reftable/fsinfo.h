#ifndef FSINFO_H
#define FSINFO_H

/*
 * Internal: what kind of filesystem a file lives on. Network and FUSE
 * filesystems share files between machines (or with a daemon), so a
 * file removed elsewhere does not stay readable through a descriptor or
 * a mapping here, and a file's ctime says nothing about this machine's
 * boots (Documentation/protocol.md, "Filesystems that share files").
 */

/* 1 if fd is on a filesystem only this kernel serves (ext4, xfs, btrfs,
 * tmpfs, ...); 0 on NFS, SMB/CIFS, FUSE and other shared filesystems,
 * and when it cannot be told. */
int fs_is_local(int fd);

#endif
