/*
 * One change of tables.list (list-change.c), as the processes of
 * stack.pml run it. Included by stack.pml.
 */

/* --- one change of tables.list (list-change.c) ------------------------- */

/*
 * list_change_begin() (list-change.c:136): lockfile_acquire()
 * (lockfile.c:129) creates the lock with O_EXCL, retrying until the
 * timeout (here: until nothing else can happen); lock_stamp()
 * (lockfile.c:74) writes the evidence in a second call; list_read()
 * (stack-files.c:206) reads the base and keeps its descriptor open.
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
 * lock_remove_if_same() (lockfile.c:280): stat the path (295), move it
 * aside to a name of our own (307), stat that (310), unlink it (320) or
 * put it back (316, lock_put_back 252). r = 1: removed. The steps
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
				/* lock_put_back(): open the file aside (held
				 * until its removal below), link it back, read
				 * the mark through that descriptor, unlink the
				 * aside name */
				fs_link(N_P(me, GONE), n, ok);
				if
				:: ok && imark[hi] -> pbk[me] = hi;
#ifndef BUG_PUTBACK_UNPINNED
				   ifds[hi]++;
#endif
				   skip
				:: else
				fi;
				fs_unlink(N_P(me, GONE)); r = 0
			:: hi != 0 && hi == id ->
				fs_unlink(N_P(me, GONE)); r = 1
			fi
		:: else
		fi
	};
	/* lock_put_back()'s lock_remove_if_same(path, dev, ino) of the
	 * released lock it put back (one step: generous to the code, whose
	 * steps are those of any removal by identity) */
	if
	:: pbk[me] != 0 ->
		d_step {
			fs_stat(n, hi);
			if
			:: hi == pbk[me] ->
				printf("P%d: removes lock %d again (marked %d)\n", me, hi, imark[hi]);
				assert(imark[hi]); /* only a released lock */
				fs_unlink(n); check_stack()
			:: else
			fi;
#ifndef BUG_PUTBACK_UNPINNED
			hi = pbk[me]; fs_close(hi);
#endif
			pbk[me] = 0
		}
	:: else
	fi
}

/* list_change_end() (list-change.c:534): lockfile_release()
 * (lockfile.c:207) by identity, then the lock's and the base's
 * descriptors close. A lock that is not ours any more: LOCK_ERROR,
 * COMMITTED_ERROR if we published. Without a lock removed from
 * outside, the lock is always still ours. */
/*
 * let_go() (lockfile.c), after its first look: our lock is not at
 * its path, so it may be aside, about to be put back by a remover that
 * found another file there. Mark the file released (a write through our
 * descriptor), then look at the path again: a put-back before the mark
 * is found there; a remover that puts it back later reads the mark and
 * removes it again. What happens between the remover's link and its
 * read is our mark (then the read sees it) or our second look (then it
 * finds the lock at the path and removes it, and the remover's removal
 * by identity finds nothing: it holds the file open from before its
 * link, so the inode number cannot pass to a new lock meanwhile;
 * BUG_PUTBACK_UNPINNED, without that descriptor, fails).
 */
inline mark_and_look_again(n, id, r) {
#ifndef BUG_NO_WITHDRAW
#ifndef BUG_NO_MARK
	d_step { imark[id] = 1; printf("P%d: marks lock %d released\n", me, id) };
#endif
	remove_if_same(n, id, r, 0)
#else
	skip
#endif
}

inline lc_end() {
	remove_if_same(N_LOCK, lockid, r, 1);
	if
	:: !r -> mark_and_look_again(N_LOCK, lockid, r)
	:: else
	fi;
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
 * restore_replaced() (list-change.c:396): the swap handed back a list
 * R that is not our base, so someone published between our check and
 * our swap (their lock was taken after ours was removed from outside).
 * R goes back only as a change of our own (408-420), else the tables it
 * added are kept (keep_added 370, keep_replaced 336).
 */
inline restore_replaced() {
	d_step { /* list_read_path(tmp) 406 */
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
		/* list_change_begin_within(0) 408: no waiting */
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
			d_step { /* 409-411: still ours, R's tables all there */
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
			:: ok -> /* list_change_publish(&undo) 413 */
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
			/* list_change_end(&undo): R is back if the undo was
			 * published, whatever the release says (back) */
			back = ok;
			remove_if_same(N_LOCK, lockid2, r, 1);
#ifdef BUG_UNDO_BY_RELEASE
			/* the older code: a lost undo lock meant R not back */
			if :: !r -> back = 0 :: else fi;
#endif
			if
			:: !r -> mark_and_look_again(N_LOCK, lockid2, r)
			:: else
			fi;
			d_step { ok = back; fs_close(fd_lock2); lockid2 = 0;
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
 * list_change_publish() (list-change.c:482): write_list_file() 495 (an
 * exclusive create of tables.list.XXXXXXXX.tmp), sync_files() 497 (the
 * new tables, then the list, then the directory), list_change_check() 499 (275: the lock
 * still ours 282, tables.list still the base 290), replace_list() 501
 * (446: the swap 465, path_is() 466 of the file swapped out against the
 * base, whose descriptor is open; restore_replaced() 467 if not; unlink
 * 470). The new list's descriptor stays open (keep_published 515).
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
#ifndef BUG_NO_DIRSYNC_BEFORE_SWAP
		/* sync_files(): the directory, once tables were renamed in
		 * (st->dir_sync_pending), before the list's swap */
		fs_fsync_dir();
#endif
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
			 if :: !ok -> res = E_LOCK :: else fi;  /* an I/O error (474) */
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

/* fsync of the directory (stack_fsync_dir(), stack-files.c:246) */
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

