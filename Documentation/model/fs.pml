/*
 * The filesystem of the stack, at the level the protocol depends on
 * (Documentation/model/README.md). Included by stack.pml.
 *
 * A directory maps names to inode numbers (dir[]). An inode has a link
 * count, a count of open descriptors, a kind and a content, and whether
 * that content was fsynced. An inode whose last link and last
 * descriptor are gone is free, and its number goes to the next file
 * created: always the lowest free number, the most eager recycling POSIX
 * allows (the case race1_recycled_inode_* simulates with a hook).
 *
 * Every macro here is one system call and runs inside the d_step or
 * atomic of the process step that calls it: a system call is atomic with
 * respect to the other processes, as the kernel makes it.
 */

/* Kinds of file content. A list holds a mask of table ids (its size, as
 * fstat/stat reports it, is the number of names: names have a fixed
 * length); a lock holds its owner's pid (0: empty, as Git's are); a table
 * holds its table id (tmin/tmax/ttx say what is in it). */
#define K_FREE  0
#define K_LIST  1
#define K_LOCK  2
#define K_TABLE 3

byte dir[NNAMES];          /* name -> inode number, 0: no such name */
byte ilinks[NINO + 1];
byte ifds[NINO + 1];
byte ikind[NINO + 1];
byte ival[NINO + 1];
bit  isync[NINO + 1];      /* content made durable by fsync */

/* Tables, by id: their update indexes and the transactions they hold
 * (one bit each). Table ids are never reused: a table name is unique
 * (update indexes plus a random part, stack_rename_table() checks). */
byte tmin[NT];
byte tmax[NT];
byte ttx[NT];
byte ntab;                 /* next table id */

/* What survived the last fsync of the directory (stack_fsync_dir()):
 * the content of tables.list and the tables whose name and content
 * were durable then. Only the crash reads it. */
#ifdef CRASH
byte dlist;
byte dtabs;
#endif

hidden byte hi, hj, hk;    /* scratch of the macros, not state */

inline ifree(i) {
	if
	:: ilinks[i] == 0 && ifds[i] == 0 ->
		ikind[i] = K_FREE; ival[i] = 0; isync[i] = 0
	:: else
	fi
}

/* The lowest free inode number. */
inline ialloc(i) {
	i = 1;
	do
	:: i > NINO -> assert(false) /* NINO too small for this run */
	:: i <= NINO && ikind[i] == K_FREE -> break
	:: i <= NINO && ikind[i] != K_FREE -> i++
	od
}

/* open(name, O_WRONLY|O_CREAT|O_EXCL) and its first write: ok = 0 is
 * EEXIST. The descriptor (fd = the inode) is open. */
inline fs_create(n, k, v, fd, ok) {
	if
	:: dir[n] != 0 -> ok = 0
	:: else ->
		ialloc(fd);
		ikind[fd] = k; ival[fd] = v; isync[fd] = 0;
		ilinks[fd] = 1; ifds[fd] = 1; dir[n] = fd; ok = 1
	fi
}

/* open(name, O_RDONLY): fd = 0 is ENOENT. */
inline fs_open(n, fd) {
	fd = dir[n];
	if
	:: fd != 0 -> ifds[fd]++
	:: else
	fi
}

inline fs_close(fd) {
	if
	:: fd != 0 -> ifds[fd]--; ifree(fd); fd = 0
	:: else
	fi
}

inline unref(i) {
	ilinks[i]--;
	ifree(i)
}

/* rename(a, b): replaces b atomically; ok = 0 is ENOENT. */
inline fs_rename(a, b, ok) {
	if
	:: dir[a] == 0 -> ok = 0
	:: dir[a] != 0 && dir[a] == dir[b] -> ok = 1 /* same file: no-op */
	:: dir[a] != 0 && dir[a] != dir[b] ->
		hk = dir[b];
		dir[b] = dir[a]; dir[a] = 0;
		if
		:: hk != 0 -> unref(hk)
		:: else
		fi;
		ok = 1
	fi
}

/* renameat2(a, b, RENAME_EXCHANGE). */
inline fs_exchange(a, b, ok) {
	if
	:: dir[a] != 0 && dir[b] != 0 ->
		hk = dir[a]; dir[a] = dir[b]; dir[b] = hk; ok = 1
	:: else -> ok = 0
	fi
}

/* link(a, b): ok = 0 is ENOENT or EEXIST. */
inline fs_link(a, b, ok) {
	if
	:: dir[a] != 0 && dir[b] == 0 ->
		dir[b] = dir[a]; ilinks[dir[b]]++; ok = 1
	:: else -> ok = 0
	fi
}

inline fs_unlink(n) {
	if
	:: dir[n] != 0 -> hk = dir[n]; dir[n] = 0; unref(hk)
	:: else
	fi
}

/* stat(name) and fstat(fd): the inode number (the device is one) and
 * the size. */
inline fs_stat(n, ino) {
	ino = dir[n]
}

inline list_size(mask, sz) {
	sz = 0; hi = 0;
	do
	:: hi >= NT -> break
	:: hi < NT ->
		if
		:: mask & (1 << hi) -> sz++
		:: else
		fi;
		hi++
	od
}

/* fsync(fd) */
inline fs_fsync(fd) {
	isync[fd] = 1
}

/* fsync of the directory: every name and what it names is durable. */
inline fs_fsync_dir() {
#ifdef CRASH
	hi = dir[N_LIST];
	dlist = ival[hi];
	assert(ikind[hi] == K_LIST && isync[hi]);
	dtabs = 0; hj = 0;
	do
	:: hj >= NT -> break
	:: hj < NT ->
		hi = dir[N_TAB(hj)];
		if
		:: hi != 0 && isync[hi] -> dtabs = dtabs | (1 << hj)
		:: else
		fi;
		hj++
	od
#else
	skip
#endif
}
