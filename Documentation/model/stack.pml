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
 * CONTENT_READER (readers compare contents, as on Windows).
 * Reintroduced historical defects, each expected to fail: BUG_CLOSE_FD,
 * BUG_AGE_BREAK, BUG_NO_CHECK, BUG_CLEAN_NO_RECHECK, BUG_NO_DIRSYNC,
 * BUG_REMOVE_BEFORE_DIRSYNC, BUG_NO_TABLE_SYNC, BUG_FOLD_IGNORES_CLAIMS.
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

/* --- one change of tables.list (list-change.c) ------------------------- */

/*
 * list_change_begin() (list-change.c:140): lockfile_acquire()
 * (lockfile.c:122) creates the lock with O_EXCL, retrying until the
 * timeout (here: until nothing else can happen); lock_stamp()
 * (lockfile.c:72) writes the evidence in a second call; list_read()
 * (stack-files.c:150) reads the base and keeps its descriptor open.
 * cross_check_base() lists the directory for NFS caches: with one
 * kernel it finds nothing (README.md).
 */
inline lc_begin() {
	res = E_OK;
	if
	:: atomic { dir[N_LOCK] == 0 ->
		fs_create(N_LOCK, K_LOCK, 0, fd_lock, ok);
		lockid = fd_lock; believes[me] = 1;
#if BREAKER || defined(KILL)
		/* lock_stamp(): the evidence comes in a second call */
	};
	d_step {
#endif
		ival[lockid] = me;
#ifdef LOCK_REMOVAL
	};
	d_step {
#endif
		fs_open(N_LIST, fd_base); baseid = fd_base;
		base = ival[fd_base];
		if
		:: ikind[fd_base] != K_LIST -> res = E_FORMAT
		:: else
		fi }
	:: atomic { timeout -> res = E_LOCK }
	fi
}

/*
 * lock_remove_if_same() (lockfile.c:214): stat the path (227), move it
 * aside to a name of our own (237), stat that (241), unlink it (255) or
 * put it back by link (249, put_back 203). r = 1: removed. The steps
 * are separate only where another process can act between them: a
 * breaker, or someone removing locks.
 */
inline remove_if_same(n, id, r, clear) {
	d_step {
		if :: clear -> believes[me] = 0 :: else fi;
		fs_stat(n, hi); r = (hi != 0 && hi == id);
#ifdef LOCK_REMOVAL
	};
	d_step {
#endif
		if
		:: r -> fs_rename(n, N_P(me, GONE), ok); r = ok; check_stack()
		:: else
		fi;
#if BREAKER || defined(LOCK_REMOVAL)
	};
	d_step {
#endif
		if
		:: r ->
			fs_stat(N_P(me, GONE), hi);
			if
			:: hi == 0 -> r = 1 /* a breaker took it */
			:: hi != 0 && hi != id ->
				fs_link(N_P(me, GONE), n, ok);
				fs_unlink(N_P(me, GONE)); r = 0
			:: hi != 0 && hi == id ->
				fs_unlink(N_P(me, GONE)); r = 1
			fi
		:: else
		fi
	}
}

/* list_change_end() (list-change.c:522): lockfile_release()
 * (lockfile.c:161) by identity, then the lock's and the base's
 * descriptors close. A lock that is not ours any more: LOCK_ERROR,
 * COMMITTED_ERROR if we published. Without a lock removed from
 * outside, the lock is always still ours. */
inline lc_end() {
	remove_if_same(N_LOCK, lockid, r, 1);
	d_step {
#ifndef LOCK_REMOVAL
		assert(r);
#endif
		if
		:: !r && pub && res == E_OK -> res = E_COMMITTED
		:: !r && !pub && res == E_OK -> res = E_LOCK
		:: else
		fi;
		fs_close(fd_lock); lockid = 0; fs_close(fd_base); baseid = 0
	}
}

/* Two processes never both believe they hold tables.list.lock when one
 * publishes. With FORCE the lock is removed from outside on purpose:
 * then only the checks protect the stack. */
inline assert_alone() {
#if !defined(FORCE) && !defined(NO_EXCLUSION_CHECK)
	hi = 1;
	do
	:: hi > NPROC -> break
	:: hi <= NPROC ->
		assert(hi == me || !believes[hi] || killed[hi]);
		hi++
	od
#else
	skip
#endif
}

#ifdef LOCK_REMOVAL
/*
 * restore_replaced() (list-change.c:387): the swap handed back a list
 * R that is not our base, so someone published between our check and
 * our swap (their lock was taken after ours was removed from outside).
 * R goes back only as a change of our own (398-406), else the tables it
 * added are kept (keep_added 361, keep_replaced 327).
 */
inline restore_replaced() {
	d_step { /* list_read_path(tmp) 396 */
		fs_open(N_P(me, TMPL), hi);
		if
		:: hi == 0 -> rmask = 255 /* gone: cannot be read back */
		:: else -> rmask = ival[hi]; ifds[hi]--; ifree(hi)
		fi
	};
	if
	:: rmask == 255 -> /* keep_replaced(NULL): "their list is lost" */
		race_lost = 1; res = E_COMMITTED
	:: else ->
		/* list_change_begin_within(0) 398: no waiting */
		d_step {
			fs_create(N_LOCK, K_LOCK, 0, fd_lock2, ok);
			lockid2 = fd_lock2;
			if
			:: ok -> believes[me] = 1
			:: else
			fi
		};
		if
		:: ok ->
			d_step { ival[lockid2] = me };
			d_step { fs_open(N_LIST, fd_base2); baseid2 = fd_base2;
				 base2 = ival[fd_base2] };
			d_step { /* 399-401: still ours, R's tables all there */
				ok = (base2 == newl);
				hj = 0;
				do
				:: hj >= NT -> break
				:: hj < NT ->
					if
					:: (rmask & (1 << hj)) && dir[N_TAB(hj)] == 0 -> ok = 0
					:: else
					fi;
					hj++
				od
			};
			if
			:: ok -> /* list_change_publish(&undo) 404 */
				d_step { fs_create(N_P(me, TMPL2), K_LIST, rmask, fd_tmp2, ok);
					 assert(ok) };
				d_step { fs_fsync(fd_tmp2) };
				d_step { fs_stat(N_LOCK, hi); ok = (hi == lockid2) };
				if
				:: ok -> d_step { ok = (ival[dir[N_LIST]] == base2) }
				:: else
				fi;
				if
				:: ok ->
					d_step { assert_alone();
						 fs_exchange(N_P(me, TMPL2), N_LIST, ok);
						 check_stack() };
					d_step {
						fs_stat(N_P(me, TMPL2), hi);
						/* a second race needs a second removal */
						assert(hi == baseid2);
						fs_unlink(N_P(me, TMPL2))
					}
				:: else -> d_step { fs_unlink(N_P(me, TMPL2)) }
				fi;
				d_step { fs_close(fd_tmp2) }
			:: else
			fi;
			/* list_change_end(&undo) 406 */
			remove_if_same(N_LOCK, lockid2, r, 1);
			d_step { ok = ok && r; fs_close(fd_lock2); lockid2 = 0;
				 fs_close(fd_base2); baseid2 = 0 }
		:: else
		fi;
		if
		:: ok -> /* R is back: nothing of ours published (415-422) */
			pub = 0; res = E_LOCK;
			d_step { fs_fsync_dir() }
		:: else -> /* keep_added() 361: R's tables that are new */
			d_step {
				fs_create(N_P(me, KEPT), K_LIST,
					  rmask & ~newl & ~base, hj, ok);
				assert(ok); fs_fsync(hj); fs_close(hj)
			};
			res = E_COMMITTED
		fi
	fi
}

#endif

/*
 * list_change_publish() (list-change.c:470): write_list_file() 483 (an
 * exclusive create of tables.list.XXXXXXXX.tmp), sync_files() 485 (the
 * new tables, then the list), list_change_check() 487 (266: the lock
 * still ours 273, tables.list still the base 281), replace_list() 489
 * (434: the swap 453, path_is() 454 of the file swapped out against the
 * base, whose descriptor is open; restore_replaced() 455 if not; unlink
 * 458). The new list's descriptor stays open (keep_published 503).
 */
inline lc_publish(ufd) {
	pub = 0;
	d_step {
		fs_create(N_P(me, TMPL), K_LIST, newl, fd_tmp, ok); assert(ok);
#ifndef BUG_NO_TABLE_SYNC
		if
		:: ufd != 0 -> fs_fsync(ufd)
		:: else
		fi;
#endif
		fs_fsync(fd_tmp);
#ifdef LOCK_REMOVAL
	};
#ifndef BUG_NO_CHECK
	d_step {
		fs_stat(N_LOCK, hi); if :: hi != lockid -> res = E_LOCK :: else fi
	};
	if
	:: res == E_OK ->
		d_step { if :: ival[dir[N_LIST]] != base -> res = E_LOCK :: else fi }
	:: else
	fi;
#endif
	if
	:: res == E_OK ->
#ifdef BUG_NO_CHECK
		/* the older publish: a rename, no check before or after */
		d_step { assert_alone(); fs_rename(N_P(me, TMPL), N_LIST, ok);
			 check_stack() };
		pub = 1
#else
		d_step { assert_alone(); fs_exchange(N_P(me, TMPL), N_LIST, ok);
			 if :: !ok -> res = E_LOCK :: else fi;  /* an I/O error (462) */
			 check_stack() };
		if
		:: res == E_OK ->
			d_step { fs_stat(N_P(me, TMPL), hi); ok = (hi == baseid) };
			if
			:: ok -> d_step { fs_unlink(N_P(me, TMPL)) }; pub = 1
			:: else -> pub = 1; restore_replaced()
			fi
		:: else
		fi
#endif
	:: else
	fi;
#else
		/* Nobody removes a live lock: the check passes, and the swap
		 * hands back the base. */
		assert(dir[N_LOCK] == lockid && ival[dir[N_LIST]] == base);
		assert_alone();
		fs_exchange(N_P(me, TMPL), N_LIST, ok);
		assert(ok && dir[N_P(me, TMPL)] == baseid);
		check_stack()
	};
	d_step { fs_unlink(N_P(me, TMPL)) };
	pub = 1;
#endif
	if
	:: res != E_OK -> /* 490-498 */
		d_step { fs_close(fd_tmp); fs_unlink(N_P(me, TMPL)); check_stack() }
	:: else
	fi
}

/* fsync of the directory (stack_fsync_dir(), stack-files.c:231) */
inline dir_sync() {
	d_step { fs_fsync_dir() }
}

/* The end of a transaction: commit returned res. A transaction whose
 * commit said nothing happened must not be visible (a caller retries it:
 * it would be applied twice). */
inline conclude(tx) {
	if
	:: res == E_OK || res == E_COMMITTED -> acked = acked | tx;
		printf("P%d: the commit of transaction %x returns %d (acknowledged)\n", me, tx, res);
		check_stack()
	:: else ->
		hj = dir[N_LIST]; list_tx(ival[hj], hk);
		assert(crashed || !(hk & tx))
	fi
}

/* finish_publish() (stack-compact.c:490): the directory fsync, then the
 * inputs go (remove_inputs 461); their claims are released after. */
inline remove_inputs() {
	d_step {
#ifndef BUG_REMOVE_BEFORE_DIRSYNC
		fs_fsync_dir();
#endif
		i = 0;
		do
		:: i >= NT -> break
		:: i < NT ->
			if
			:: rn & (1 << i) -> fs_unlink(N_TAB(i)); check_stack()
			:: else
			fi;
			i++
		od;
		i = 0
	};
#ifdef BUG_REMOVE_BEFORE_DIRSYNC
	d_step { fs_fsync_dir() };
#endif
	skip
}

/* --- a library writer: one CAS transaction ---------------------------- */

/*
 * reftable_stack_add() (stack-addition.c:445) with auto-compaction on,
 * so the addition's table is held in memory and folded where the rule
 * says (compact_with_addition(), stack-compact.c:565). The writer's
 * caller does compare-and-swap: its old values come from the stack it
 * loaded, so a changed base fails with OUTDATED_ERROR
 * (stack-addition.c:50); the caller reloads and tries again.
 * Auto-compaction after the publish (stack-addition.c:401) is left to
 * the compactor process (README.md).
 */
#if NW > 0
proctype Writer(byte me; byte tx) {
	byte fd_lock, lockid, fd_base, baseid, base, fd_tmp, newl, loaded;
	byte fd_lock2, lockid2, fd_base2, baseid2, base2, fd_tmp2, rmask;
	byte fd_tab, newt, mt, rn, todo, tries, next, res, i;
	bit ok, r, pub, fold;
	{
		d_step { loaded = ival[dir[N_LIST]] };  /* reftable_stack_new */
again:
		lc_begin();                             /* addition.c:47 */
		if
		:: res != E_OK -> goto done
		:: res == E_OK && base != loaded ->     /* addition.c:50 */
			res = E_OUTDATED; pub = 0;
			lc_end();
			d_step { loaded = ival[dir[N_LIST]] };   /* the caller reloads */
			tries++;
			if
			:: tries < MAXTRY -> goto again
			:: else -> res = E_OUTDATED; goto done
			fi
		:: else
		fi;
		d_step {                                /* addition.c:68, 239-289 */
			newest(base, next); next++;
			newt = ntab; ntab++; assert(ntab <= NT);
			tmin[newt] = next; tmax[newt] = next; ttx[newt] = tx;
			tsz[newt] = 1;
			segment(base, 1, rn, fold);        /* compact.c:569 */
			/* lock_inputs() with c.unlisted (compact.c:222): a fold
			 * only checks that no input is claimed, newest first
			 * (check_unclaimed 184), and merges the tables above the
			 * first claimed one. Claims are only taken under the list
			 * lock, which we hold: one step. */
			todo = rn;
			do
			:: fold && todo != 0 ->
				pick_newest(todo, i); todo = todo & ~(1 << i);
#ifndef BUG_FOLD_IGNORES_CLAIMS
				if
				:: dir[N_CLAIM(i)] != 0 -> rn = rn & ~todo & ~(1 << i); todo = 0
				:: else
				fi
#else
				skip
#endif
			:: !fold || todo == 0 -> break
			od;
			list_size(rn, hj); fold = fold && hj >= 1; todo = 0; i = 0
		};
		if
		:: fold ->
			d_step { /* write_merged() 334, no fsync in a fold */
				mt = ntab; ntab++; assert(ntab <= NT);
				oldest(rn, tmin[mt]); tmax[mt] = next;
				list_tx(rn, ttx[mt]); ttx[mt] = ttx[mt] | tx;
				tsz[mt] = 1; hj = 0;
				do
				:: hj >= NT -> break
				:: hj < NT ->
					if
					:: rn & (1 << hj) -> tsz[mt] = tsz[mt] + tsz[hj]
					:: else
					fi;
					hj++
				od;
				fs_create(N_P(me, TMPT), K_TABLE, mt, fd_tab, ok); assert(ok);
				fs_rename(N_P(me, TMPT), N_TAB(mt), ok); check_stack() /* publish_at 415 */
			};
			newl = (base & ~rn) | (1 << mt);
			lc_publish(fd_tab);                 /* publish_at 432 */
			if
			:: !pub -> d_step { fs_unlink(N_TAB(mt)); check_stack() }  /* 435 */
			:: else
			fi;
			lc_end();                           /* compact.c:598 */
			if
			:: pub -> /* finish_publish() 490: fsync, then the inputs go */
				remove_inputs()
			:: else
			fi
		:: else ->
			/* unhold() 203: the table to its file, renamed into place */
			d_step { fs_create(N_P(me, TMPT), K_TABLE, newt, fd_tab, ok); assert(ok);
				 fs_rename(N_P(me, TMPT), N_TAB(newt), ok); check_stack() };
			newl = base | (1 << newt);
			lc_publish(fd_tab);                 /* addition.c:343 */
			lc_end();                           /* addition.c:346 */
			if
			:: !pub -> d_step { fs_unlink(N_TAB(newt)); check_stack() } /* destroy 434 */
			:: else
			fi
		fi;
		/* close_new_fds 385, the reload 390 adopts the published list,
		 * the directory fsync 412, and the commit returns */
		d_step {
			fs_close(fd_tab); fs_close(fd_tmp);
#ifndef BUG_NO_DIRSYNC
			if :: pub -> fs_fsync_dir() :: else fi;
#endif
			conclude(tx)
		};
		goto fin;
done:
		skip;
		d_step { conclude(tx) };
fin:
		skip
	} unless { killed[me] };
	/* Dead: the kernel closes what was open. */
	atomic {
		believes[me] = 0;
		fs_close(fd_lock); fs_close(fd_base); fs_close(fd_tmp);
		fs_close(fd_lock2); fs_close(fd_base2); fs_close(fd_tmp2);
		fs_close(fd_tab)
	}
}
#endif

/* --- the compactor ------------------------------------------------------ */

/*
 * compact() (stack-compact.c:503), automatic (COMPACTOR 1, the
 * geometric rule) or full (COMPACTOR 2): the list lock, the rn chosen
 * on the current stack, claims NAME.ref.lock newest first without
 * waiting, the list lock released while merging, then published under
 * the list lock again.
 */
#if COMPACTOR
proctype Compactor(byte me) {
	byte fd_lock, lockid, fd_base, baseid, base, fd_tmp, newl, loaded;
	byte fd_lock2, lockid2, fd_base2, baseid2, base2, fd_tmp2, rmask;
	byte fd_tab, mt, rn, todo, got, res, i, u;
	byte cfd[NT];            /* claims held: descriptor = identity */
	bit ok, r, pub, fold;
	{
		d_step { loaded = ival[dir[N_LIST]] };
		lc_begin();                             /* compact.c:515 */
		if
		:: res != E_OK -> goto cdone
		:: else
		fi;
		loaded = base;                          /* 517: reload under it */
		d_step {                                /* choose_range() 153 */
#if COMPACTOR == 2
			list_size(base, hj);
			if
			:: hj >= 2 -> rn = base
			:: else -> rn = 0
			fi
#else
			segment(base, 0, rn, fold)
#endif
		};
		/* lock_inputs() 201: claims newest first, without waiting,
		 * each created and stamped (lock_stamp). Claims are only
		 * created under the list lock, which we hold: one step. */
		d_step {
			todo = rn; got = 0;
			do
			:: todo != 0 ->
				pick_newest(todo, i); todo = todo & ~(1 << i);
				fs_create(N_CLAIM(i), K_LOCK, me, cfd[i], ok);
				if
				:: ok -> got = got | (1 << i)
				:: else ->
					cfd[i] = 0;
#if COMPACTOR == 2
					got = 0;         /* 233: a full compaction fails */
#endif
					break
				fi
			:: todo == 0 -> break
			od;
			todo = 0; i = 0;
			list_size(got, u); if :: u < 2 -> rn = 0 :: else -> rn = got fi
		};
		if
		:: rn == 0 -> pub = 0; lc_end(); goto unclaim   /* 238 */
		:: else
		fi;
		pub = 0;
		lc_end();                               /* 531: merging unlocked */
		d_step {                                /* write_merged() 334 */
			mt = ntab; ntab++; assert(ntab <= NT);
			oldest(rn, tmin[mt]); newest(rn, tmax[mt]);
			list_tx(rn, ttx[mt]); tsz[mt] = 0; hj = 0;
			do
			:: hj >= NT -> break
			:: hj < NT ->
				if
				:: rn & (1 << hj) -> tsz[mt] = tsz[mt] + tsz[hj]
				:: else
				fi;
				hj++
			od;
			fs_create(N_P(me, TMPT), K_TABLE, mt, fd_tab, ok); assert(ok);
			fs_fsync(fd_tab); fs_close(fd_tab)      /* 365-369 */
		};
		lc_begin();                             /* publish() 448 */
		if
		:: res != E_OK -> goto unclaim
		:: else
		fi;
		if
		:: (base & rn) != rn ->               /* locate_inputs() 384 */
			res = E_OUTDATED; lc_end(); goto unclaim
		:: else
		fi;
		d_step { fs_rename(N_P(me, TMPT), N_TAB(mt), ok); check_stack() }; /* 415 */
		newl = (base & ~rn) | (1 << mt);
		lc_publish(0);                          /* 432 */
		if
		:: !pub -> d_step { fs_unlink(N_TAB(mt)); check_stack() }     /* 435 */
		:: else
		fi;
		lc_end();                               /* 454 */
		if
		:: pub -> remove_inputs()                 /* finish_publish() 490 */
		:: else
		fi;
unclaim:
		/* the claims, by identity (remove_inputs 476, compaction_release 141) */
		i = 0;
		do
		:: i >= NT -> break
		:: i < NT ->
			if
			:: cfd[i] != 0 ->
				remove_if_same(N_CLAIM(i), cfd[i], r, 0);
				d_step { fs_close(cfd[i]) }
			:: else
			fi;
			i++
		od;
		skip;
		d_step { fs_close(fd_tmp); fs_unlink(N_P(me, TMPT)) }; /* 136 */
cdone:
		skip
	} unless { killed[me] };
	atomic {
		believes[me] = 0;
		fs_close(fd_lock); fs_close(fd_base); fs_close(fd_tmp);
		fs_close(fd_lock2); fs_close(fd_base2); fs_close(fd_tmp2);
		fs_close(fd_tab);
		i = 0;
		do
		:: i >= NT -> break
		:: i < NT -> fs_close(cfd[i]); i++
		od;
		i = 0
	}
}
#endif

/* --- clean -------------------------------------------------------------- */

/*
 * reftable_stack_clean_with() (stack-clean.c:253): under the list lock,
 * the tables named by lists aside are kept (read_lists_aside 211, which
 * lists again until it reads a listing whole: one step here), the
 * unlisted tables judged (judge_unlisted 142: only those within the
 * listed update indexes go), the lock and the list checked again
 * (list_change_check 281), then each removed (285).
 */
#if CLEANER
proctype Clean(byte me) {
	byte fd_lock, lockid, fd_base, baseid, base, fd_tmp, newl, loaded;
	byte keep, gone, res, i, lo, hi2;
	bit ok, r, pub;
	{
		lc_begin();                              /* 265 */
		if
		:: res != E_OK -> goto cldone
		:: else
		fi;
		loaded = base;                           /* 266-267 */
		d_step {                                 /* read_lists_aside 269 */
			keep = 0; hj = 1;
			do
			:: hj > NPF -> break
			:: hj <= NPF ->
				hi = dir[N_P(hj, TMPL)];
				if :: hi != 0 -> keep = keep | ival[hi] :: else fi;
				hi = dir[N_P(hj, TMPL2)];
				if :: hi != 0 -> keep = keep | ival[hi] :: else fi;
				hi = dir[N_P(hj, KEPT)];
				if :: hi != 0 -> keep = keep | ival[hi] :: else fi;
				hj++
			od
		};
		d_step {                                 /* list_matching 271, judge 276 */
			newest(loaded, hi2); oldest(loaded, lo);
			gone = 0; hj = 0;
			do
			:: hj >= NT -> break
			:: hj < NT ->
				if
				:: dir[N_TAB(hj)] != 0 && !(loaded & (1 << hj)) &&
				   !(keep & (1 << hj)) && tmax[hj] <= hi2 &&
				   tmin[hj] >= lo -> gone = gone | (1 << hj)
				:: else
				fi;
				hj++
			od
		};
#ifndef BUG_CLEAN_NO_RECHECK
		d_step { fs_stat(N_LOCK, hi); if :: hi != lockid -> res = E_LOCK :: else fi };
		if
		:: res == E_OK ->
			d_step { if :: ival[dir[N_LIST]] != base -> res = E_LOCK :: else fi }
		:: else
		fi;
#endif
		i = 0;
		do
		:: i >= NT || res != E_OK -> break
		:: i < NT && res == E_OK ->
			if
			:: gone & (1 << i) -> d_step { fs_unlink(N_TAB(i)); check_stack() }
			:: else
			fi;
			i++
		od;
		pub = 0;
		lc_end();                                /* 293 */
cldone:
		skip
	} unless { killed[me] };
	atomic {
		believes[me] = 0;
		fs_close(fd_lock); fs_close(fd_base)
	}
}
#endif

/* --- breaking stale locks ----------------------------------------------- */

/*
 * reftable_stack_break_stale_locks() (stack-clean.c:469): each lock
 * judged by its evidence (break_one 367, owner_judge_booted owner.c:253:
 * a pid that does not rn is dead; an empty lock or other contents are
 * kept), removed by identity; then, once no lock is left, the
 * temporaries listed before the check (remove_temporaries 416). The
 * breaker is alone (flock, 440). BUG_AGE_BREAK: a lock old enough is
 * taken for dead, whoever holds it (what the rules forbid).
 */
inline break_one(n) {
	atomic { fs_open(n, fd); stale = 0;
		 if
		 :: fd != 0 ->
#ifdef BUG_AGE_BREAK
			stale = 1
#else
			stale = (ikind[fd] == K_LOCK && ival[fd] != 0 && killed[ival[fd]])
#endif
		 :: else
		 fi };
	if
	:: stale -> remove_if_same(n, fd, r, 0)
	:: else
	fi;
	skip;
	d_step { fs_close(fd) }
}

#if BREAKER
proctype Breaker(byte me) {
	byte fd, i;
	int tmps;
	bit stale, ok, r;
	{
		break_one(N_LOCK);
		i = 0;
		do
		:: i >= NT -> break
		:: i < NT -> break_one(N_CLAIM(i)); i++
		od;
		skip;
		/* remove_temporaries(): list the temporaries (new lists,
		 * NAME.ref.tmp, .gone), then the locks; none left: remove them */
		d_step {
			tmps = 0; hj = 0;
			do
			:: hj >= NPF * 5 -> break
			:: hj < NPF * 5 ->
				if
				:: (hj % 5) != KEPT && dir[2 + hj] != 0 -> tmps = tmps | (1 << hj)
				:: else
				fi;
				hj++
			od
		};
		d_step {
			ok = (dir[N_LOCK] == 0); hj = 0;
			do
			:: hj >= NT -> break
			:: hj < NT -> ok = ok && dir[N_CLAIM(hj)] == 0; hj++
			od
		};
		i = 0;
		do
		:: i >= NPF * 5 || !ok -> break
		:: i < NPF * 5 && ok ->
			if
			:: tmps & (1 << i) -> d_step { fs_unlink(2 + i); check_stack() }
			:: else
			fi;
			i++
		od
	} unless { killed[me] };
	atomic { fs_close(fd) }
}
#endif

/* --- Git ---------------------------------------------------------------- */

/*
 * A Git writer (Git's reftable/stack.c, by its rules): an empty lock
 * taken with O_EXCL, the list read under it, the table written and
 * renamed into place, the new list written into the lock file, which is
 * renamed over tables.list by path. No ownership check. Git fsyncs the
 * table and the list here (core.fsync=reference).
 */
#if GIT
proctype Git(byte me; byte tx) {
	byte fd_lock, base, fd_tab, newt, next, res;
	bit ok;
	{
		if
		:: atomic { dir[N_LOCK] == 0 ->
			fs_create(N_LOCK, K_LOCK, 0, fd_lock, ok); believes[me] = 1 }
		:: atomic { timeout -> res = E_LOCK }
		fi;
		if
		:: res != E_OK -> goto gdone
		:: else
		fi;
		d_step { base = ival[dir[N_LIST]];
			 if :: ikind[dir[N_LIST]] != K_LIST -> res = E_FORMAT :: else fi };
		if
		:: res != E_OK -> goto gunlock
		:: else
		fi;
		d_step {
			newest(base, next); next++;
			newt = ntab; ntab++; assert(ntab <= NT);
			tmin[newt] = next; tmax[newt] = next; ttx[newt] = tx; tsz[newt] = 1;
			fs_create(N_P(me, TMPT), K_TABLE, newt, fd_tab, ok); assert(ok);
			fs_fsync(fd_tab)
		};
		d_step { fs_rename(N_P(me, TMPT), N_TAB(newt), ok); fs_close(fd_tab); check_stack() };
		d_step { ikind[fd_lock] = K_LIST; ival[fd_lock] = base | (1 << newt);
			 fs_fsync(fd_lock) };
		d_step { assert_alone(); fs_rename(N_LOCK, N_LIST, ok); believes[me] = 0;
			 check_stack() };
		if
		:: ok -> d_step { fs_close(fd_lock); fs_fsync_dir(); conclude(tx) }; goto gdone
		:: else -> res = E_LOCK
		fi;
gunlock:
		atomic { believes[me] = 0; fs_close(fd_lock) }
gdone:
		skip
	} unless { killed[me] };
	atomic { believes[me] = 0; fs_close(fd_lock); fs_close(fd_tab) }
}
#endif

/* --- readers ------------------------------------------------------------ */

/*
 * A long-lived handle: stack_reload_now() (stack.c:408) reads the list
 * (list_read, open + fstat + read, stack-files.c:157-176), opens its
 * tables (open_tables 238; a missing table with the list unchanged is a
 * damaged stack, 448), and install() (296) keeps the descriptor and the
 * (dev, ino, size) of the fstat, closing the old descriptor only after
 * the new one is open (321). reftable_stack_up_to_date() (488) is one
 * stat of the path compared with them. CONTENT_READER: the names are
 * compared (content_up_to_date 469) and no descriptor is kept (333).
 * The property: a reader told "up to date" has loaded the list that is
 * there (no stale stack served after a change).
 */
#if NR > 0
proctype Reader(byte me) {
	byte fd_list, fd_new, rino, rsize, loaded, snap, n, sino, ssize;
	bit ok, up;
	{
		skip;
reload:
		atomic {
			fs_open(N_LIST, fd_new); snap = ival[fd_new]
		};
		d_step {                                 /* open_tables 238 */
			ok = 1; hj = 0;
			do
			:: hj >= NT -> break
			:: hj < NT ->
				if
				:: (snap & (1 << hj)) && dir[N_TAB(hj)] == 0 -> ok = 0
				:: else
				fi;
				hj++
			od;
			if
			:: ok ->                             /* install() 320-336 */
				fs_close(fd_list); fd_list = fd_new; fd_new = 0;
				rino = fd_list; list_size(snap, rsize); loaded = snap;
				printf("P%d: loaded tables %x from inode %d\n", me, snap, rino);
#if defined(BUG_CLOSE_FD) || defined(CONTENT_READER)
				fs_close(fd_list);
#endif
				skip
			:: else
			fi
		};
		if
		:: !ok ->
			d_step {                             /* 439-448 */
				/* the list did not change: the stack is damaged */
				assert(ival[dir[N_LIST]] != snap);
				fs_close(fd_new)
			};
			goto reload
		:: else
		fi;
		do
		:: n >= NCHECK -> break
		:: n < NCHECK ->
			n++;
#ifdef CONTENT_READER
			d_step { up = (ival[dir[N_LIST]] == loaded) };
#else
			d_step {                             /* up_to_date 492-502 */
				fs_stat(N_LIST, sino); list_size(ival[sino], ssize);
				up = (sino == rino && ssize == rsize);
				printf("P%d: cached (ino %d, size %d), stat says (ino %d, size %d): %d; loaded %x, tables.list holds %x\n",
				       me, rino, rsize, sino, ssize, up, loaded, ival[sino]);
				assert(!up || ival[sino] == loaded);
				sino = 0; ssize = 0
			};
#endif
			if
			:: !up -> goto reload
			:: else
			fi
		od
	} unless { killed[me] };
	atomic { fs_close(fd_list); fs_close(fd_new) }
}
#endif

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
