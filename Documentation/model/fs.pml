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
bit  imark[NINO + 1];      /* a lock's released mark (let_go()) */

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

/* The trail (spin -t) says each system call: P<me> call(name) = inode. */
inline pname(n) {
	if
	:: n == N_LIST -> printf("tables.list")
	:: n == N_LOCK -> printf("tables.list.lock")
	:: n >= N_TAB(0) && n < N_CLAIM(0) -> printf("T%d.ref", n - N_TAB(0))
	:: n >= N_CLAIM(0) -> printf("T%d.ref.lock", n - N_CLAIM(0))
	:: n > N_LOCK && n < N_TAB(0) && (n - 2) % 5 == TMPL ->
		printf("tables.list.P%d.tmp", (n - 2) / 5 + 1)
	:: n > N_LOCK && n < N_TAB(0) && (n - 2) % 5 == TMPL2 ->
		printf("tables.list.P%d-2.tmp", (n - 2) / 5 + 1)
	:: n > N_LOCK && n < N_TAB(0) && (n - 2) % 5 == KEPT ->
		printf("tables.list.P%d.kept", (n - 2) / 5 + 1)
	:: n > N_LOCK && n < N_TAB(0) && (n - 2) % 5 == GONE ->
		printf("lock.P%d.gone", (n - 2) / 5 + 1)
	:: n > N_LOCK && n < N_TAB(0) && (n - 2) % 5 == TMPT ->
		printf("P%d.ref.tmp", (n - 2) / 5 + 1)
	fi
}

inline trace1(n) {
	pname(n); printf(") = %d\n", dir[n])
}

inline trace2(a, b) {
	pname(a); printf(", "); pname(b); printf(") ok=%d\n", ok)
}

inline ifree(i) {
	if
	:: ilinks[i] == 0 && ifds[i] == 0 ->
		ikind[i] = K_FREE; ival[i] = 0; isync[i] = 0; imark[i] = 0
	:: else
	fi
}

/* The lowest free inode number. */
inline ialloc(i) {
	i = 1;
	do
	:: i > NINO -> assert(false); break /* NINO too small for this run */
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
		ikind[fd] = k; ival[fd] = v; isync[fd] = 0; imark[fd] = 0;
		ilinks[fd] = 1; ifds[fd] = 1; dir[n] = fd; ok = 1
	fi;
	printf("P%d create(", me); trace1(n);
	if
	:: k == K_LIST -> printf("   (a list of tables %x)\n", v)
	:: else
	fi
}

/* open(name, O_RDONLY): fd = 0 is ENOENT. */
inline fs_open(n, fd) {
	fd = dir[n];
	if
	:: fd != 0 -> ifds[fd]++
	:: else
	fi;
	printf("P%d open(", me); trace1(n)
}

inline fs_close(fd) {
	if
	:: fd != 0 ->
		ifds[fd]--;
		if
		:: ilinks[fd] == 0 && ifds[fd] == 0 -> printf("P%d close(%d): inode %d is free\n", me, fd, fd)
		:: else
		fi;
		ifree(fd); fd = 0
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
	fi;
	printf("P%d rename(", me); trace2(a, b)
}

/* renameat2(a, b, RENAME_EXCHANGE). */
inline fs_exchange(a, b, ok) {
	if
	:: dir[a] != 0 && dir[b] != 0 ->
		hk = dir[a]; dir[a] = dir[b]; dir[b] = hk; ok = 1
	:: else -> ok = 0
	fi;
	printf("P%d exchange(", me); trace2(a, b)
}

/* link(a, b): ok = 0 is ENOENT or EEXIST. */
inline fs_link(a, b, ok) {
	if
	:: dir[a] != 0 && dir[b] == 0 ->
		dir[b] = dir[a]; ilinks[dir[b]]++; ok = 1
	:: else -> ok = 0
	fi;
	printf("P%d link(", me); trace2(a, b)
}

inline fs_unlink(n) {
	if
	:: dir[n] != 0 -> hk = dir[n]; dir[n] = 0; unref(hk)
	:: else
	fi;
	printf("P%d unlink(", me); pname(n); printf(")\n")
}

/* stat(name) and fstat(fd): the inode number (the device is one) and
 * the size. */
inline fs_stat(n, ino) {
	ino = dir[n];
	printf("P%d stat(", me); trace1(n)
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
	printf("P%d fsync(directory)\n", me);
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
