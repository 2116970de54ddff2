/*
 * The stack protocol as implemented (Documentation/protocol.md), as a
 * Promela model for Spin: readers, writers doing compare-and-swap
 * additions, a compactor, clean, a lock breaker, a Git writer, process
 * deaths, a machine crash, and (as configurations) a lock removed from
 * outside. Documentation/model/README.md says how to rn it, what each
 * configuration checks, and what Spin found.
 *
 * Every step of a process is one system call (or a few that no other
 * process can tell apart from one: see README.md, "Abstractions"), and
 * each is marked with the function of the library that does it, as
 * file:line of reftable/ at the time of writing.
 *
 * Configuration (-D): NW (library writers, 0..2), NR (readers, 0..2),
 * COMPACTOR (0 none, 1 auto, 2 full), CLEANER, BREAKER, GIT, KILL (one
 * process, any, dies at any step), CRASH (the machine, at any step),
 * FORCE (someone removes tables.list.lock once, whoever holds it),
 * CONTENT_READER (readers compare contents, as on Windows),
 * FORCE_BREAK (`reftable unlock --force` of tables.list.lock, once).
 * CHECK_BREAKER_TEMPS: a breaker's removal of a .gone name must not take
 * a lock its owner holds (a known defect with FORCE and BREAKER: see
 * t/unit/test-locks-review4.c).
 * Reintroduced historical defects, each expected to fail: BUG_CLOSE_FD,
 * BUG_AGE_BREAK, BUG_NO_CHECK, BUG_CLEAN_NO_RECHECK, BUG_NO_DIRSYNC,
 * BUG_REMOVE_BEFORE_DIRSYNC, BUG_NO_TABLE_SYNC, BUG_FOLD_IGNORES_CLAIMS,
 * BUG_NO_WITHDRAW, BUG_NO_MARK, BUG_UNDO_BY_RELEASE, BUG_PUTBACK_UNPINNED.
 */

#ifndef NW
#define NW 2
#endif
#if defined(FORCE) || defined(BUG_AGE_BREAK)
#define LOCK_REMOVAL     /* a live lock may be removed */
#endif
#ifndef NR
#define NR 1
#endif
#ifndef COMPACTOR
#define COMPACTOR 0
#endif
#ifndef CLEANER
#define CLEANER 0
#endif
#ifndef BREAKER
#define BREAKER 0
#endif
#ifndef GIT
#define GIT 0
#endif
#ifndef NCHECK
#define NCHECK 2         /* up-to-date checks per reader */
#endif
#ifndef MAXTRY
#define MAXTRY 2         /* attempts of a CAS transaction */
#endif

/* Process ids (the pid in a lock's evidence). */
#define P_W1 1
#define P_W2 2
#define P_C  3           /* compactor */
#define P_CL 4           /* clean */
#define P_B  5           /* lock breaker */
#define P_G  6           /* Git writer */
#define P_R1 7
#define P_R2 8
#define NPROC 8
#define NPF 6            /* processes that create files: pids 1..6 */

#define NT 8             /* table ids (bits of a list's mask) */
#ifndef NINO
#define NINO 18
#endif

/* Names of the directory. Each file-creating process has its own
 * random-named files (the random part makes them distinct). */
#define N_LIST 0         /* tables.list */
#define N_LOCK 1         /* tables.list.lock */
#define TMPL  0          /* tables.list.XXXXXXXX.tmp, a new list */
#define TMPL2 1          /* another, for the change that puts one back */
#define KEPT  2          /* tables.list.XXXXXXXX.kept */
#define GONE  3          /* tables.list.lock.PID-X-N.gone (or a claim's) */
#define TMPT  4          /* NAME.ref.tmp, a table being written */
#define N_P(p, k) (2 + ((p) - 1) * 5 + (k))
#define N_TAB(t) (2 + NPF * 5 + (t))
#define N_CLAIM(t) (2 + NPF * 5 + NT + (t))
#define NNAMES (2 + NPF * 5 + 2 * NT)

#include "fs.pml"

byte tsz[NT];            /* a table's size (what the geometric rule reads) */
bit killed[NPROC + 1];   /* the process died (kill -9, or the crash) */
bit believes[NPROC + 1]; /* the process believes it holds tables.list.lock */
bit crashed;
byte pbk[NPROC + 1];     /* a released lock put back, to remove again */
byte acked;              /* transactions whose commit said they happened */
bit race_lost;           /* a writer reported "their list is lost" */

/* Errors, as the library returns them. */
#define E_OK        0
#define E_LOCK      1    /* REFTABLE_LOCK_ERROR */
#define E_OUTDATED  2    /* REFTABLE_OUTDATED_ERROR */
#define E_COMMITTED 3    /* REFTABLE_COMMITTED_ERROR: visible, not all done */
#define E_FORMAT    4    /* REFTABLE_FORMAT_ERROR */

/* --- the properties that hold in every state -------------------------- */

/*
 * tables.list exists and is a list; every table it names exists (no
 * table named by a published list is ever deleted); every transaction
 * whose commit returned is in it (no acknowledged transaction is lost);
 * every table a kept list names exists. Checked after every system call
 * that can change one of them. With FORCE (a live lock removed from
 * outside) an acknowledged change may be hidden, and kept for the user
 * (protocol.md, "Locks removed from outside", 6): checked at the end.
 */
inline check_stack() {
	if
	:: crashed -> skip
	:: else ->
		hi = dir[N_LIST];
		assert(hi != 0);
#if !(defined(FORCE) && GIT)
		assert(ikind[hi] == K_LIST); /* never a lock renamed over it */
#endif
		hj = 0; hk = 0;
		do
		:: hj >= NT -> break
		:: hj < NT ->
			if
			:: (ival[hi] & (1 << hj)) && ikind[hi] == K_LIST ->
				assert(dir[N_TAB(hj)] != 0);
				hk = hk | ttx[hj]
			:: else
			fi;
			hj++
		od;
#ifndef FORCE
		assert((acked & ~hk) == 0);
#endif
		hi = 1;
		do
		:: hi > NPF -> break
		:: hi <= NPF ->
			hj = dir[N_P(hi, KEPT)];
			if
			:: hj != 0 ->
				hk = 0;
				do
				:: hk >= NT -> break
				:: hk < NT ->
					assert(!(ival[hj] & (1 << hk)) ||
					       dir[N_TAB(hk)] != 0);
					hk++
				od
			:: else
			fi;
			hi++
		od
	fi
}

/* The transactions in the tables of a list. */
inline list_tx(mask, tx) {
	tx = 0; hi = 0;
	do
	:: hi >= NT -> break
	:: hi < NT ->
		if
		:: mask & (1 << hi) -> tx = tx | ttx[hi]
		:: else
		fi;
		hi++
	od
}

/* The newest update index of a list (0 for an empty one). */
inline newest(mask, u) {
	u = 0; hi = 0;
	do
	:: hi >= NT -> break
	:: hi < NT ->
		if
		:: (mask & (1 << hi)) && tmax[hi] > u -> u = tmax[hi]
		:: else
		fi;
		hi++
	od
}

inline oldest(mask, u) {
	u = 255; hi = 0;
	do
	:: hi >= NT -> break
	:: hi < NT ->
		if
		:: (mask & (1 << hi)) && tmin[hi] < u -> u = tmin[hi]
		:: else
		fi;
		hi++
	od
}

/* The table of mask with the highest update index. */
inline pick_newest(mask, t) {
	t = 0; hi = 0;
	do
	:: hi >= NT -> break
	:: hi < NT ->
		if
		:: (mask & (1 << hi)) && (!(mask & (1 << t)) || tmin[hi] > tmin[t]) -> t = hi
		:: else
		fi;
		hi++
	od
}

/*
 * The geometric rule, suggest_compaction_segment() (stack-compact.c:23),
 * factor 2, on the tables of mask by update index, with a table of size
 * 1 on top if extra: rn = the tables of the segment (the extra one is
 * not in the mask), fold = the segment ends at the extra table.
 */
hidden byte ord[NT + 1];
hidden byte osz[NT + 1];
hidden byte on, oi, oacc, oabove;

inline segment(mask, extra, rn, fold) {
	/* order the tables by update index */
	on = 0; oi = 0;
	do
	:: oi >= NT -> break
	:: oi < NT ->
		if
		:: mask & (1 << oi) ->
			hj = on;
			do
			:: hj > 0 && tmin[ord[hj - 1]] > tmin[oi] ->
				ord[hj] = ord[hj - 1]; osz[hj] = osz[hj - 1];
				hj--
			:: else -> break
			od;
			ord[hj] = oi; osz[hj] = tsz[oi]; on++
		:: else
		fi;
		oi++
	od;
	if
	:: extra -> ord[on] = 255; osz[on] = 1; on++
	:: else
	fi;
	rn = 0; fold = 0;
	if
	:: on >= 2 ->
		oi = on - 1;
		do
		:: oi > 0 && !(osz[oi - 1] < 2 * osz[oi]) -> oi--
		:: else -> break
		od;
		if
		:: oi > 0 ->
			fold = (extra && oi == on - 1);
			hk = oi;       /* the newest table of the rn */
			oacc = osz[oi];
			hj = oi;       /* the oldest so far */
			do
			:: oi == 0 -> break
			:: oi > 0 ->
				oabove = oacc;
				oacc = oacc + osz[oi - 1];
				if
				:: osz[oi - 1] < 2 * oabove -> hj = oi - 1
				:: else
				fi;
				oi--
			od;
			oi = hj;
			do
			:: oi > hk -> break
			:: oi <= hk ->
				if
				:: ord[oi] != 255 -> rn = rn | (1 << ord[oi])
				:: else
				fi;
				oi++
			od
		:: else
		fi
	:: else
	fi
}

#include "change.pml"
#include "processes.pml"

/* --- what goes wrong from outside --------------------------------------- */

/* One process dies (kill -9) at any step. */
proctype Killer() {
	byte me = 0;
	if
	:: killed[P_W1] = 1; printf("P%d dies\n", P_W1)
#if NW > 1
	:: killed[P_W2] = 1; printf("P%d dies\n", P_W2)
#endif
#if COMPACTOR
	:: killed[P_C] = 1; printf("P%d dies\n", P_C)
#endif
#if CLEANER
	:: killed[P_CL] = 1; printf("P%d dies\n", P_CL)
#endif
#if GIT
	:: killed[P_G] = 1; printf("P%d dies\n", P_G)
#endif
	fi
}

/* Someone removes tables.list.lock once, whoever holds it (rm, unlock
 * --force, another implementation). */
proctype Force() {
	byte me = 0;
	if
	:: d_step { dir[N_LOCK] != 0 -> printf("someone removes the lock:\n");
		    fs_unlink(N_LOCK); check_stack() }
	:: timeout
	fi
}

/*
 * The machine crashes at any step: every process dies, and what was not
 * made durable is lost. Metadata operations persist in order (a
 * journaling filesystem): the durable state is the state at some point
 * after the last fsync of the directory: now, or right after that
 * fsync (anything between is the "now" of an earlier crash). Content
 * that was not fsynced is garbage. What a fresh handle then reads must
 * name only tables whose content survived, and hold every acknowledged
 * transaction.
 */
#ifdef CRASH
proctype Crash() {
	byte l, tabs, tx, me = 0, ci, cj;
	atomic {
		crashed = 1;
		printf("the machine crashes\n");
		ci = 1;
		do
		:: ci > NPROC -> break
		:: ci <= NPROC -> killed[ci] = 1; ci++
		od;
		if
		:: ci = dir[N_LIST]; assert(ikind[ci] == K_LIST && isync[ci]);
		   l = ival[ci]; tabs = 0; cj = 0;
		   do
		   :: cj >= NT -> break
		   :: cj < NT ->
			ci = dir[N_TAB(cj)];
			if
			:: ci != 0 && isync[ci] -> tabs = tabs | (1 << cj)
			:: else
			fi;
			cj++
		   od
		:: l = dlist; tabs = dtabs
#ifdef CRASH_UNORDERED
		/* Metadata persisted in any order: each name as now or as at
		 * the last directory fsync, whichever is worse. */
		:: l = ival[dir[N_LIST]]; tabs = dtabs
#endif
		fi;
		printf("after the crash: tables.list names %x, whole tables %x\n", l, tabs);
		assert((l & ~tabs) == 0);    /* every listed table is whole */
		tx = 0; ci = 0;
		do
		:: ci >= NT -> break
		:: ci < NT -> if :: l & (1 << ci) -> tx = tx | ttx[ci] :: else fi; ci++
		od;
		assert((acked & ~tx) == 0)   /* no acknowledged transaction lost */
	}
}
#endif

/* --- the system --------------------------------------------------------- */

/*
 * At the start: tables.list names T0 (update indexes 1-2, size 2) and
 * T1 (3, size 1), all durable; transactions 0 and 1 are in them.
 * Writers' transactions are bits 2 and 3, Git's bit 4.
 */
init {
	byte p, t, tx, me = 0;
	d_step {
		tmin[0] = 1; tmax[0] = 2; ttx[0] = 1; tsz[0] = 2;
		tmin[1] = 3; tmax[1] = 3; ttx[1] = 2; tsz[1] = 1;
		ntab = 2;
		ikind[1] = K_TABLE; ival[1] = 0; ilinks[1] = 1; isync[1] = 1;
		ikind[2] = K_TABLE; ival[2] = 1; ilinks[2] = 1; isync[2] = 1;
		ikind[3] = K_LIST; ival[3] = 3; ilinks[3] = 1; isync[3] = 1;
		dir[N_TAB(0)] = 1; dir[N_TAB(1)] = 2; dir[N_LIST] = 3;
		acked = 3;
#ifdef CRASH
		dlist = 3; dtabs = 3;
#endif
		skip
	};
	atomic {
#if NW > 0
		run Writer(P_W1, 4);
#endif
#if NW > 1
		run Writer(P_W2, 8);
#endif
#if COMPACTOR
		run Compactor(P_C);
#endif
#if CLEANER
		run Clean(P_CL);
#endif
#if BREAKER
		run Breaker(P_B);
#endif
#ifdef FORCE_BREAK
		run ForceBreaker(P_B);
#endif
#if GIT
		run Git(P_G, 16);
#endif
#if NR > 0
		run Reader(P_R1);
#endif
#if NR > 1
		run Reader(P_R2);
#endif
#ifdef KILL
		run Killer();
#endif
#ifdef FORCE
		run Force();
#endif
#ifdef CRASH
		run Crash();
#endif
		skip
	};
	/* The end: every process is done. */
	_nr_pr == 1;
	d_step {
		if
		:: crashed -> skip
		:: else ->
			check_stack();
			list_tx(ival[dir[N_LIST]], tx);
#ifdef FORCE
			/* An acknowledged change hidden by a race past a removed
			 * lock is kept for the user, or reported lost. */
			p = 1;
			do
			:: p > NPF -> break
			:: p <= NPF ->
				if
				:: dir[N_P(p, KEPT)] != 0 ->
					list_tx(ival[dir[N_P(p, KEPT)]], t); tx = tx | t
				:: else
				fi;
				p++
			od;
			assert(race_lost || (acked & ~tx) == 0);
#endif
#ifndef NO_LOCK_END_CHECK
			/* Every lock left has a dead owner, so a breaker removes
			 * it (an empty one needs --force or a reboot: README). */
			p = dir[N_LOCK];
			assert(p == 0 || ikind[p] != K_LOCK ||
			       (ival[p] != 0 && killed[ival[p]])
#ifndef STRICT_LOCKS
			       || ival[p] == 0
#endif
			       );
			t = 0;
			do
			:: t >= NT -> break
			:: t < NT ->
				p = dir[N_CLAIM(t)];
				assert(p == 0 || (ival[p] != 0 && killed[ival[p]])
#ifndef STRICT_LOCKS
				       || ival[p] == 0
#endif
				       );
				t++
			od;
#endif
			skip
		fi
	}
}
