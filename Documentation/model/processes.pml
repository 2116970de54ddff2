/*
 * The processes of the model: library writers, the compactor, clean,
 * the lock breaker, a Git writer, readers. Included by stack.pml.
 */

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
	bit ok, r, pub, fold, back;
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
	bit ok, r, pub, fold, back;
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
	bit ok, r, pub, back;
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
 * reftable_stack_break_stale_locks() (stack-clean.c:484): each lock,
 * and each lock moved aside (.gone), judged by its evidence (break_one
 * 382, owner_judge_booted owner.c:277: a pid that does not run is dead,
 * a lock marked released is stale; an empty lock or other contents are
 * kept), removed by identity; then, once no lock is left, the
 * temporaries listed before the check (remove_temporaries 431). The
 * breaker is alone (flock, 464). BUG_AGE_BREAK: a lock old enough is
 * taken for dead, whoever holds it (what the rules forbid).
 */
inline break_one(n) {
	atomic { fs_open(n, fd); stale = 0;
		 if
		 :: fd != 0 ->
#if defined(BUG_AGE_BREAK) || defined(FORCE_BREAK)
			stale = 1
#else
			stale = (ikind[fd] == K_LOCK &&
				 ((ival[fd] != 0 && killed[ival[fd]]) || imark[fd]))
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

/*
 * `reftable unlock --force` run on tables.list.lock alone: the lock it
 * found is removed by identity whoever holds it (break_one with
 * REFTABLE_BREAK_FORCE). With FORCE, two removers with stale pre-stats:
 * the four actors of the put-back race (lockfile.c, let_go()).
 */
#ifdef FORCE_BREAK
proctype ForceBreaker(byte me) {
	byte fd;
	bit stale, ok, r;
	break_one(N_LOCK)
}
#endif

#if BREAKER
/* What remove_temporaries() takes for a temporary (is_temporary()). */
#ifndef BUG_BREAKER_TEMPS_GONE
#define TEMPORARY(k) ((k) != KEPT && (k) != GONE)
#else
#define TEMPORARY(k) ((k) != KEPT)
#endif

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
#ifndef BUG_BREAKER_TEMPS_GONE
		/* is_lock(): a lock moved aside (.gone) is judged as a lock */
		i = 1;
		do
		:: i > NPF -> break
		:: i <= NPF -> break_one(N_P(i, GONE)); i++
		od;
#endif
		skip;
		/* remove_temporaries(): list the temporaries (new lists,
		 * NAME.ref.tmp; BUG_BREAKER_TEMPS_GONE: .gone too, as the
		 * code did), then the locks; none left: remove them */
		d_step {
			tmps = 0; hj = 0;
			do
			:: hj >= NPF * 5 -> break
			:: hj < NPF * 5 ->
				if
				:: TEMPORARY(hj % 5) && dir[2 + hj] != 0 ->
					tmps = tmps | (1 << hj)
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
			od;
#ifndef BUG_BREAKER_TEMPS_GONE
			hj = 1;
			do
			:: hj > NPF -> break
			:: hj <= NPF -> ok = ok && dir[N_P(hj, GONE)] == 0; hj++
			od
#endif
		};
		i = 0;
		do
		:: i >= NPF * 5 || !ok -> break
		:: i < NPF * 5 && ok ->
			if
			:: tmps & (1 << i) -> d_step {
#ifdef CHECK_BREAKER_TEMPS
				/* a breaker without --force never removes a
				 * lock its owner holds: at a .gone name, only
				 * a releasing, dead or released owner's */
				hk = dir[2 + i];
				assert(i % 5 != GONE || hk == 0 ||
				       !(ikind[hk] == K_LIST ||
					 (ikind[hk] == K_LOCK &&
					  (ival[hk] == 0 ||
					   (!killed[ival[hk]] && !imark[hk] &&
					    believes[ival[hk]])))));
#endif
				fs_unlink(2 + i); check_stack() }
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

