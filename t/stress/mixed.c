/*
 * Mixed counters, moved by Git and by our writers (mixed.h): the table
 * of values, the journal of attempts, our writers' step, and the setup
 * of the run directory as a Git repository.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mixed.h"
#include "reftable-error.h"

struct mixed_key {
	uint8_t id[STRESS_OID_LEN];
	int c, n;
};

static int key_cmp(const void *a, const void *b)
{
	return memcmp(((const struct mixed_key *)a)->id,
		      ((const struct mixed_key *)b)->id, STRESS_OID_LEN);
}

const uint8_t *mixed_id(const struct mixed *m, int c, int n)
{
	return m->ids + ((size_t)c * (size_t)(m->max + 1) + (size_t)n) *
			       STRESS_OID_LEN;
}

void mixed_refname(int c, char *buf, size_t cap)
{
	snprintf(buf, cap, MIXED_PREFIX "c%d", c);
}

static int read_table(struct mixed *m, const char *path)
{
	FILE *f = fopen(path, "r");
	char hex[128];
	int c, n, k = 0;

	if (!f) {
		say("open %s: %s", path, strerror(errno));
		return -1;
	}
	while (fscanf(f, "%d %d %127s", &c, &n, hex) == 3) {
		if (c < 0 || c >= m->counters || n < 1 || n > m->max ||
		    hex_decode((uint8_t *)mixed_id(m, c, n), hex,
			       STRESS_OID_LEN) < 0)
			break;
		memcpy(m->sorted[k].id, mixed_id(m, c, n), STRESS_OID_LEN);
		m->sorted[k].c = c;
		m->sorted[k].n = n;
		k++;
	}
	fclose(f);
	if (k != m->counters * m->max) {
		say("%s: %d values, expected %d", path, k,
		    m->counters * m->max);
		return -1;
	}
	qsort(m->sorted, (size_t)k, sizeof(*m->sorted), key_cmp);
	return 0;
}

int mixed_open(struct mixed *m, const struct stress_opts *o, char kind)
{
	char path[4200], name[64];
	size_t slots;

	memset(m, 0, sizeof(*m));
	m->journal = -1;
	m->counters = o->mixed_counters;
	m->max = o->mixed_values;
	m->fsync = o->fsync;
	snprintf(m->tag, sizeof(m->tag), "%c%d.%d", kind, o->index,
		 o->instance);
	slots = (size_t)m->counters * (size_t)(m->max + 1);
	m->ids = calloc(slots, STRESS_OID_LEN);
	m->sorted = calloc(slots, sizeof(*m->sorted));
	if (!m->ids || !m->sorted)
		return -1;
	path_fmt(path, sizeof(path), o->run_dir, "mixed-values");
	if (read_table(m, path) < 0)
		return -1;
	if (!o->role)
		return 0;
	snprintf(name, sizeof(name), "journal/m%d", o->index);
	path_fmt(path, sizeof(path), o->run_dir, name);
	m->journal = open(path, O_WRONLY | O_APPEND | O_CREAT, 0666);
	if (m->journal < 0) {
		say("open %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

void mixed_close(struct mixed *m)
{
	if (!m->ids) /* never opened (a zeroed struct's journal is 0) */
		return;
	if (m->journal >= 0)
		close(m->journal);
	free(m->ids);
	free(m->sorted);
	memset(m, 0, sizeof(*m));
	m->journal = -1;
}

/* Counter and value of an id; -1 if no step writes it. */
static int mixed_lookup(const struct mixed *m, const uint8_t *id, int *c)
{
	struct mixed_key key, *k;

	memcpy(key.id, id, STRESS_OID_LEN);
	k = bsearch(&key, m->sorted, (size_t)m->counters * (size_t)m->max,
		    sizeof(key), key_cmp);
	if (!k)
		return -1;
	*c = k->c;
	return k->n;
}

int mixed_current(const struct mixed *m, struct reftable_refdb *db, int c,
		  struct violation_sink *vs)
{
	struct reftable_ref_record ref = { 0 };
	char name[64];
	int err, n = 0, owner = -1;

	mixed_refname(c, name, sizeof(name));
	err = reftable_refdb_read_ref(db, name, &ref);
	if (err < 0) {
		violation(vs, "%s: read failed: %s: %s", name,
			  reftable_error_str(err), reftable_error_detail());
		n = -1;
	} else if (err == 0) {
		n = ref.value_type == REFTABLE_REF_VAL1 ||
				    ref.value_type == REFTABLE_REF_VAL2 ?
			    mixed_lookup(m, ref.value, &owner) :
			    -1;
		if (n < 0 || owner != c) {
			violation(vs, "%s holds a value no step of it writes",
				  name);
			n = -1;
		}
	}
	reftable_ref_record_release(&ref);
	return n;
}

static void journal(struct mixed *m, const char *line, int sync,
		    struct violation_sink *vs)
{
	size_t len = strlen(line);

	if (write(m->journal, line, len) != (ssize_t)len)
		violation(vs, "mixed journal write: %s", strerror(errno));
	else if (sync && m->fsync && fsync(m->journal) < 0)
		violation(vs, "mixed journal fsync: %s", strerror(errno));
}

void mixed_try(struct mixed *m, int c, int n, char *name, size_t cap,
	       struct violation_sink *vs)
{
	char line[128];

	snprintf(name, cap, "%s.%llu", m->tag,
		 (unsigned long long)++m->attempts);
	snprintf(line, sizeof(line), "T %s %d %d\n", name, c, n);
	/* No fsync: a kill cannot undo a write that returned. */
	journal(m, line, 0, vs);
}

void mixed_outcome(struct mixed *m, char what, const char *name, int c,
		   int n, struct violation_sink *vs)
{
	char line[128];

	snprintf(line, sizeof(line), "%c %s %d %d\n", what, name, c, n);
	journal(m, line, what == 'A', vs);
}

void mixed_step_ours(struct mixed *m, struct reftable_refdb *db,
		     struct slot *me, struct shm *shm,
		     struct violation_sink *vs, uint64_t *rng)
{
	int c = (int)rng_below(rng, (uint64_t)m->counters);
	int n = mixed_current(m, db, c, vs), err;
	static const uint8_t null_id[STRESS_OID_LEN];
	struct reftable_refdb_txn *txn = NULL;
	char refname[64], name[64], msg[80];
	uint64_t breaks = shm_load(&shm->lock_breaks);

	if (n < 0 || n >= m->max)
		return;
	mixed_refname(c, refname, sizeof(refname));
	mixed_try(m, c, n + 1, name, sizeof(name), vs);
	snprintf(msg, sizeof(msg), "mixed %s", name);
	err = reftable_refdb_txn_begin(&txn, db, NULL);
	if (!err)
		err = reftable_refdb_txn_update(txn, refname,
						mixed_id(m, c, n + 1),
						n ? mixed_id(m, c, n) : null_id,
						0, msg);
	if (!err) {
		shm_store_int(&me->phase, PHASE_COMMIT);
		err = reftable_refdb_txn_commit(txn);
		shm_store_int(&me->phase, PHASE_IDLE);
	}
	reftable_refdb_txn_free(txn);
	if (!err) {
		mixed_outcome(m, 'A', name, c, n + 1, vs);
		shm_add(&me->mixed_acked, 1);
		return;
	}
	mixed_outcome(m, 'R', name, c, n + 1, vs);
	shm_add(&me->mixed_refused, 1);
	if (err == REFTABLE_CAS_ERROR)
		shm_add(&me->conflicts, 1);
	else if (err == REFTABLE_LOCK_ERROR)
		shm_add(&me->lock_retries, 1);
	else if (lock_was_broken(shm, breaks, err))
		shm_add(&me->lock_lost, 1);
	else
		violation(vs, "%s: commit failed: %s: %s", refname,
			  reftable_error_str(err), reftable_error_detail());
}

/* --- the supervisor's setup -------------------------------------------- */

static int run_git(const struct stress_opts *o, const char *run_dir,
		   const char *args)
{
	char cmd[9000];

	snprintf(cmd, sizeof(cmd),
		 "GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null '%s' %s",
		 o->git, args);
	if (system(cmd) != 0) {
		say("failed: %s (in %s)", cmd, run_dir);
		return -1;
	}
	return 0;
}

/* The value blobs, by fast-import; their ids from its marks file. */
static int write_values(const struct stress_opts *o, const char *run_dir)
{
	char cmd[9000], marks[4200], table[4200], hex[128];
	FILE *p, *in, *out;
	int c, n, mark;

	path_fmt(marks, sizeof(marks), run_dir, "mixed-marks");
	path_fmt(table, sizeof(table), run_dir, "mixed-values");
	snprintf(cmd, sizeof(cmd),
		 "GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null '%s' -C "
		 "'%s' fast-import --quiet --export-marks='%s'",
		 o->git, run_dir, marks);
	p = popen(cmd, "w");
	if (!p)
		return -1;
	for (c = 0; c < o->mixed_counters; c++)
		for (n = 1; n <= o->mixed_values; n++) {
			char data[64];
			int len = snprintf(data, sizeof(data), "mixed %d %d\n",
					   c, n);

			fprintf(p, "blob\nmark :%d\ndata %d\n%s\n",
				c * o->mixed_values + n, len, data);
		}
	if (pclose(p) != 0) {
		say("failed: %s", cmd);
		return -1;
	}
	in = fopen(marks, "r");
	out = fopen(table, "w");
	while (in && out && fscanf(in, " :%d %127s", &mark, hex) == 2)
		fprintf(out, "%d %d %s\n", (mark - 1) / o->mixed_values,
			(mark - 1) % o->mixed_values + 1, hex);
	if (in)
		fclose(in);
	if (!out || fclose(out) != 0) {
		say("write %s: %s", table, strerror(errno));
		return -1;
	}
	return 0;
}

int mixed_setup_repo(const struct stress_opts *o, const char *run_dir)
{
	char args[4300];

	snprintf(args, sizeof(args),
		 "init -q --bare --template= --ref-format=reftable '%s'",
		 run_dir);
	if (run_git(o, run_dir, args) < 0)
		return -1;
	return write_values(o, run_dir);
}
