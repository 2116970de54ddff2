/*
 * A writer: counters moved up by one per transaction, with
 * compare-and-swap, through the ref database API.
 *
 * Before each commit it journals its intent ("I refname value": the
 * value may end up in the stack if it is killed mid-commit); after a
 * commit returns success it journals the acknowledged transaction
 * ("A update-index refname value", one line per ref, in one write) and
 * fsyncs the journal. The supervisor checks both at the end. A SIGKILL
 * cannot lose a write() that returned, so the intent needs no fsync.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mixed.h"
#include "reftable-error.h"
#include "stress.h"

struct writer {
	const struct stress_opts *o;
	struct layout l;
	struct shm *shm;
	struct slot *me;
	struct reftable_refdb *db;
	int journal;
	uint64_t rng;
	/* Private counters: the value this writer last committed. */
	struct value *known;
	int *known_valid;
	uint64_t auto_seen; /* compactions already added to the slot */
	struct violation_sink vs;
	struct mixed mixed; /* with --git: counters Git moves too */
};

enum attempt { ATTEMPT_DONE, ATTEMPT_RETRY };

static const uint8_t null_oid[STRESS_OID_LEN];

static void journal_write(struct writer *w, const char *data, size_t len,
			  int sync)
{
	if (write(w->journal, data, len) != (ssize_t)len)
		violation(&w->vs, "journal write: %s", strerror(errno));
	else if (sync && fsync(w->journal) < 0)
		violation(&w->vs, "journal fsync: %s", strerror(errno));
}

/*
 * The counter's current value: 0 with a null id if the ref does not
 * exist. -1 on a read error (reported).
 */
static int read_current(struct writer *w, int c, struct value *v,
			uint8_t *oid)
{
	struct reftable_ref_record ref = { 0 };
	char name[256], key[256];
	int err;

	counter_refname(&w->l, c, 0, name, sizeof(name));
	counter_refname(&w->l, c, -1, key, sizeof(key));
	err = reftable_refdb_read_ref(w->db, name, &ref);
	if (err < 0) {
		violation(&w->vs, "%s: read failed: %s: %s", name,
			  reftable_error_str(err), reftable_error_detail());
		reftable_ref_record_release(&ref);
		return -1;
	}
	memset(v, 0, sizeof(*v));
	memset(oid, 0, STRESS_OID_LEN);
	if (err == 0) {
		memcpy(oid, ref.value, STRESS_OID_LEN);
		if (ref.value_type != REFTABLE_REF_VAL1 ||
		    value_decode(oid, key, v) < 0) {
			violation(&w->vs, "%s: holds a malformed value", name);
			err = -1;
		}
	}
	reftable_ref_record_release(&ref);
	return err < 0 ? -1 : 0;
}

/* The intent or acknowledgement lines of one transaction. */
static size_t format_lines(struct writer *w, int c, uint64_t ui,
			   const uint8_t *oid, char *buf, size_t cap)
{
	int halves = counter_kind(&w->l, c) == COUNTER_PAIR ? 2 : 1, h;
	char name[256], hex[2 * STRESS_OID_LEN + 1];
	size_t len = 0;

	hex_encode(hex, oid, STRESS_OID_LEN);
	for (h = 0; h < halves; h++) {
		counter_refname(&w->l, c, h, name, sizeof(name));
		if (ui)
			len += (size_t)snprintf(buf + len, cap - len,
						"A %llu %s %s\n",
						(unsigned long long)ui, name,
						hex);
		else
			len += (size_t)snprintf(buf + len, cap - len,
						"I %s %s\n", name, hex);
	}
	return len;
}

static int build_txn(struct writer *w, int c, const uint8_t *old,
		     const uint8_t *new_oid, struct reftable_refdb_txn **txn)
{
	int halves = counter_kind(&w->l, c) == COUNTER_PAIR ? 2 : 1, h, err;
	char name[256];

	err = reftable_refdb_txn_begin(txn, w->db, NULL);
	for (h = 0; !err && h < halves; h++) {
		counter_refname(&w->l, c, h, name, sizeof(name));
		/* A null old id: the ref must not exist yet. */
		err = reftable_refdb_txn_update(*txn, name, new_oid, old, 0,
						"stress");
	}
	if (err)
		violation(&w->vs, "queueing an update failed: %s: %s",
			  reftable_error_str(err), reftable_error_detail());
	return err;
}

/* After success: journal, publish for the readers' freshness check. */
static void acknowledge(struct writer *w, int c, uint64_t ui,
			const struct value *nv, const uint8_t *new_oid)
{
	const struct reftable_compaction_stats *cs =
		reftable_stack_compaction_stats(reftable_refdb_stack(w->db));
	uint64_t done = cs->attempts - cs->failures;
	char lines[1024];
	size_t len;

	if (!ui) {
		violation(&w->vs, "commit succeeded but wrote no update index");
		return;
	}
	len = format_lines(w, c, ui, new_oid, lines, sizeof(lines));
	journal_write(w, lines, len, w->o->fsync);
	shm_add(&w->me->acked, 1);
	/* In this order, and readers read them backwards: a reader that
	 * sees the value also sees its update index and when it came. */
	ack_time_note(w->shm, ui);
	shm_max(&w->shm->acked_max_ui, ui);
	shm_max(&w->shm->acked_n[c], nv->n);
	if (done > w->auto_seen) {
		shm_add(&w->me->auto_compactions, done - w->auto_seen);
		w->auto_seen = done;
	}
}

/* A failed commit must have written nothing. */
static void check_not_applied(struct writer *w, int c, int err,
			      const uint8_t *new_oid)
{
	struct value v;
	uint8_t cur[STRESS_OID_LEN];
	char name[256];

	if (read_current(w, c, &v, cur) < 0)
		return;
	if (!memcmp(cur, new_oid, STRESS_OID_LEN)) {
		counter_refname(&w->l, c, 0, name, sizeof(name));
		violation(&w->vs, "%s: commit failed (%s) but its value n=%llu "
				  "is in the stack",
			  name, reftable_error_str(err),
			  (unsigned long long)v.n);
	}
}

static enum attempt attempt_once(struct writer *w, int c)
{
	int priv = counter_kind(&w->l, c) == COUNTER_PRIVATE;
	int k = priv ? c % w->l.private_counters : 0;
	struct reftable_refdb_txn *txn = NULL;
	uint8_t old[STRESS_OID_LEN], new_oid[STRESS_OID_LEN];
	struct value cur, nv;
	char key[256], lines[1024];
	uint64_t ui, breaks;
	int err;

	if (priv && w->known_valid[k]) {
		cur = w->known[k];
		counter_refname(&w->l, c, -1, key, sizeof(key));
		if (cur.n)
			value_encode(old, &cur, key);
		else
			memcpy(old, null_oid, sizeof(old));
	} else if (read_current(w, c, &cur, old) < 0) {
		return ATTEMPT_RETRY;
	}
	nv.n = cur.n + 1;
	nv.writer = (uint32_t)w->o->index;
	nv.instance = (uint32_t)w->o->instance;
	counter_refname(&w->l, c, -1, key, sizeof(key));
	value_encode(new_oid, &nv, key);

	if (build_txn(w, c, old, new_oid, &txn)) {
		reftable_refdb_txn_free(txn);
		return ATTEMPT_DONE;
	}
	journal_write(w, lines, format_lines(w, c, 0, new_oid, lines,
					     sizeof(lines)), 0);
	breaks = shm_load(&w->shm->lock_breaks);
	shm_store_int(&w->me->phase, PHASE_COMMIT);
	err = reftable_refdb_txn_commit(txn);
	shm_store_int(&w->me->phase, PHASE_IDLE);
	ui = reftable_refdb_txn_update_index(txn);
	reftable_refdb_txn_free(txn);

	if (!err) {
		shm_add(&w->me->commits, 1);
		acknowledge(w, c, ui, &nv, new_oid);
		if (priv) {
			w->known[k] = nv;
			w->known_valid[k] = 1;
		}
		return ATTEMPT_DONE;
	}
	if (priv)
		w->known_valid[k] = 0;
	if (err == REFTABLE_CAS_ERROR) {
		shm_add(&w->me->conflicts, 1);
		/* Nobody else writes our private counters. */
		if (priv)
			violation(&w->vs, "private counter %d: compare-and-swap "
					  "failed: %s",
				  c, reftable_error_detail());
	} else if (err == REFTABLE_LOCK_ERROR) {
		shm_add(&w->me->lock_retries, 1);
		sleep_us((long)rng_below(&w->rng, 2000));
	} else if (lock_was_broken(w->shm, breaks, err)) {
		shm_add(&w->me->lock_lost, 1);
	} else {
		violation(&w->vs, "commit failed: %s: %s",
			  reftable_error_str(err), reftable_error_detail());
	}
	check_not_applied(w, c, err, new_oid);
	return ATTEMPT_RETRY;
}

static int pick_counter(struct writer *w)
{
	const struct layout *l = &w->l;
	uint64_t r = rng_below(&w->rng, 100);

	if (r < 40 && l->private_counters)
		return w->o->index * l->private_counters +
		       (int)rng_below(&w->rng, (uint64_t)l->private_counters);
	if (r < 70 && l->shared_counters)
		return l->writers * l->private_counters +
		       (int)rng_below(&w->rng, (uint64_t)l->shared_counters);
	if (l->pairs)
		return l->writers * l->private_counters + l->shared_counters +
		       (int)rng_below(&w->rng, (uint64_t)l->pairs);
	return w->o->index * l->private_counters;
}

static int writer_open(struct writer *w)
{
	struct reftable_refdb_options ro;
	char dir[4096], path[4096], who[64];
	int err;

	snprintf(who, sizeof(who), "w%d", w->o->index);
	refdb_opts_from(&ro, w->o, who);
	stack_dir(dir, sizeof(dir), w->o, w->o->run_dir);
	err = reftable_refdb_open(&w->db, dir, &ro);
	if (err) {
		violation(&w->vs, "open %s: %s: %s", dir,
			  reftable_error_str(err), reftable_error_detail());
		return -1;
	}
	snprintf(who, sizeof(who), "journal/w%d", w->o->index);
	path_fmt(path, sizeof(path), w->o->run_dir, who);
	w->journal = open(path, O_WRONLY | O_APPEND | O_CREAT, 0666);
	if (w->journal < 0) {
		say("open %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int run_writer(const struct stress_opts *o)
{
	struct writer w;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	w.o = o;
	w.journal = -1;
	layout_init(&w.l, o);
	w.rng = rng_mix(o->seed, (uint64_t)o->index << 32 | (uint32_t)o->instance);
	w.shm = shm_map(o->run_dir, 0);
	if (!w.shm)
		return 2;
	w.me = &w.shm->slots[o->index];
	w.vs.count = &w.me->violations;
	w.vs.max_print = 20;
	w.known = calloc((size_t)o->private_counters + 1, sizeof(*w.known));
	w.known_valid = calloc((size_t)o->private_counters + 1, sizeof(int));
	if (!w.known || !w.known_valid || writer_open(&w) < 0) {
		rc = 2;
		goto done;
	}
	if (o->git && mixed_open(&w.mixed, o, 'o') < 0) {
		rc = 2;
		goto done;
	}
	while (!shm_load_int(&w.shm->stop)) {
		int c = pick_counter(&w);

		worker_park_if_asked(w.shm, w.me);
		/* One step in 20 on a counter Git writers move too (ours
		 * are much faster than a Git process each). */
		if (o->git && !rng_below(&w.rng, 20)) {
			mixed_step_ours(&w.mixed, w.db, w.me, w.shm, &w.vs,
					&w.rng);
			continue;
		}
		while (!shm_load_int(&w.shm->stop) &&
		       attempt_once(&w, c) == ATTEMPT_RETRY)
			worker_park_if_asked(w.shm, w.me);
	}
done:
	if (o->git)
		mixed_close(&w.mixed);
	if (w.journal >= 0)
		close(w.journal);
	reftable_refdb_close(w.db);
	free(w.known);
	free(w.known_valid);
	if (w.vs.printed)
		rc = 1;
	shm_unmap(w.shm);
	return rc;
}
