/*
 * The final checks, run by the supervisor once every worker has stopped:
 *   - the last snapshot passes the readers' checks, and every counter's
 *     reflog is its complete history (one entry per value, chained);
 *   - every acknowledged transaction is there: the counter is at least
 *     at the acknowledged value and its reflog has the entry, at the
 *     acknowledged update index, with that value (else it is "lost");
 *   - every value in the stack (refs and reflogs) was journaled as an
 *     intent by some writer: nobody invented it;
 *   - after clean, no table is left that tables.list does not name
 *     (files FUSE or NFS keep for an open descriptor aside: two are
 *     planted to show they are told apart);
 *   - a staged addition whose lock is broken keeps its table through
 *     clean and cannot publish (probe.c);
 *   - `reftable verify` passes on the directory.
 * Then the summary line.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reftable-error.h"
#include "git.h"
#include "mixed.h"
#include "stress.h"
#include "supervisor.h"

struct intent {
	int c;
	uint8_t oid[STRESS_OID_LEN];
};

struct ack {
	int c;
	uint64_t ui;
	uint8_t oid[STRESS_OID_LEN];
};

struct journal {
	struct intent *intents;
	size_t n_intents, cap_intents;
	struct ack *acks;
	size_t n_acks, cap_acks;
};

struct final {
	struct super *s;
	struct reftable_refdb *db;
	struct seen *seen;
	struct log_entry **entries;
	size_t *n_entries;
	struct journal j;
	struct violation_sink vs;
	uint64_t violations, lost, committed, end_locks;
};

static int intent_cmp(const void *a, const void *b)
{
	const struct intent *x = a, *y = b;

	if (x->c != y->c)
		return x->c < y->c ? -1 : 1;
	return memcmp(x->oid, y->oid, STRESS_OID_LEN);
}

static void *grow(void *p, size_t *cap, size_t len, size_t size)
{
	void *np;

	if (len < *cap)
		return p;
	*cap = *cap ? 2 * *cap : 1024;
	np = realloc(p, *cap * size);
	if (!np) {
		perror("realloc");
		exit(2);
	}
	return np;
}

/* One journal line; a torn last line (no newline) is not passed here. */
static void journal_line(struct final *f, const char *line, const char *path)
{
	char refname[256], hex[2 * STRESS_OID_LEN + 2];
	unsigned long long ui;
	uint8_t oid[STRESS_OID_LEN];
	int half, c;

	if (sscanf(line, "I %255s %41s", refname, hex) == 2) {
		ui = 0;
	} else if (sscanf(line, "A %llu %255s %41s", &ui, refname, hex) != 3) {
		violation(&f->vs, "%s: unreadable line '%s'", path, line);
		return;
	}
	c = counter_parse(&f->s->l, refname, &half);
	if (c < 0 || strlen(hex) != 2 * STRESS_OID_LEN ||
	    hex_decode(oid, hex, STRESS_OID_LEN) < 0) {
		violation(&f->vs, "%s: bad line '%s'", path, line);
		return;
	}
	if (half)
		return; /* a pair is checked through its first ref */
	if (!ui) {
		f->j.intents = grow(f->j.intents, &f->j.cap_intents,
				    f->j.n_intents, sizeof(struct intent));
		f->j.intents[f->j.n_intents].c = c;
		memcpy(f->j.intents[f->j.n_intents++].oid, oid, sizeof(oid));
	} else {
		f->j.acks = grow(f->j.acks, &f->j.cap_acks, f->j.n_acks,
				 sizeof(struct ack));
		f->j.acks[f->j.n_acks].c = c;
		f->j.acks[f->j.n_acks].ui = ui;
		memcpy(f->j.acks[f->j.n_acks++].oid, oid, sizeof(oid));
	}
}

/* The whole of a small file, NUL-terminated; "" if it cannot be read. */
static char *slurp(const char *path)
{
	struct stat sb;
	size_t len = 0;
	ssize_t n = 0;
	char *data;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &sb) < 0)
		sb.st_size = 0;
	data = malloc((size_t)sb.st_size + 1);
	if (!data) {
		perror("malloc");
		exit(2);
	}
	while (fd >= 0 && len < (size_t)sb.st_size &&
	       (n = read(fd, data + len, (size_t)sb.st_size - len)) > 0)
		len += (size_t)n;
	if (fd >= 0)
		close(fd);
	data[len] = '\0';
	return data;
}

static void read_journal(struct final *f, int w)
{
	char name[64], path[4200];
	char *data, *line, *nl;

	snprintf(name, sizeof(name), "journal/w%d", w);
	path_fmt(path, sizeof(path), f->s->run_dir, name);
	data = slurp(path); /* "" if the writer never got to write */
	/* Lines end with a newline; a torn last one is left out. */
	for (line = data; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		if (*line)
			journal_line(f, line, path);
	}
	free(data);
}

/* The entry of e (newest first) at update index ui, or NULL. */
static const struct log_entry *find_entry(const struct log_entry *e,
					  size_t n, uint64_t ui)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (e[mid].update_index == ui)
			return &e[mid];
		if (e[mid].update_index > ui)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void check_acks(struct final *f)
{
	size_t i;

	for (i = 0; i < f->j.n_acks; i++) {
		const struct ack *a = &f->j.acks[i];
		const struct seen *s = &f->seen[a->c];
		const struct log_entry *e;
		char name[256];
		struct value v;

		counter_refname(&f->s->l, a->c, -1, name, sizeof(name));
		if (value_decode(a->oid, name, &v) < 0) {
			violation(&f->vs, "journal: bad value for %s", name);
			continue;
		}
		e = find_entry(f->entries[a->c], f->n_entries[a->c], a->ui);
		if (s->present && s->v.n >= v.n && e &&
		    !memcmp(e->new_id, a->oid, STRESS_OID_LEN))
			continue;
		f->lost++;
		violation(&f->vs,
			  "LOST: %s n=%llu acknowledged at update index %llu "
			  "by writer %u.%u: ref at n=%llu, reflog entry %s",
			  name, (unsigned long long)v.n,
			  (unsigned long long)a->ui, v.writer, v.instance,
			  (unsigned long long)(s->present ? s->v.n : 0),
			  !e ? "missing" : "holds another value");
	}
}

/* Every value in a ref or reflog was some writer's intent. */
static void check_origins(struct final *f)
{
	int c;

	qsort(f->j.intents, f->j.n_intents, sizeof(struct intent), intent_cmp);
	for (c = 0; c < f->s->l.n; c++) {
		size_t i;

		for (i = 0; i < f->n_entries[c]; i++) {
			struct intent key;
			char name[256];

			key.c = c;
			memcpy(key.oid, f->entries[c][i].new_id, STRESS_OID_LEN);
			if (bsearch(&key, f->j.intents, f->j.n_intents,
				    sizeof(key), intent_cmp))
				continue;
			counter_refname(&f->s->l, c, -1, name, sizeof(name));
			violation(&f->vs, "%s: value at update index %llu was "
					  "never written by any writer",
				  name,
				  (unsigned long long)f->entries[c][i].update_index);
		}
	}
}

static int check_stack(struct final *f)
{
	struct reftable_refdb_options ro;
	struct reftable_stack *st;
	char dir[4200];
	int c, err;

	refdb_opts_from(&ro, f->s->o, "stress-final");
	stack_dir(dir, sizeof(dir), f->s->o, f->s->run_dir);
	err = reftable_refdb_open(&f->db, dir, &ro);
	if (err) {
		violation(&f->vs, "open %s: %s: %s", dir,
			  reftable_error_str(err), reftable_error_detail());
		return -1;
	}
	st = reftable_refdb_stack(f->db);
	if (snapshot_read(st, &f->s->l, f->seen, &f->vs) < 0)
		return -1;
	for (c = 0; c < f->s->l.n; c++) {
		if (f->seen[c].present)
			f->committed += f->seen[c].v.n;
		if (reflog_check(st, &f->s->l, c, &f->seen[c], &f->vs,
				 &f->entries[c], &f->n_entries[c]) < 0)
			return -1;
	}
	return 0;
}

/* --- clean: nothing unlisted may remain ------------------------------- */

static int list_contains(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p += n;
	}
	return 0;
}

/*
 * FUSE and NFS keep a removed or replaced file that some process still
 * has open under such a name until it is closed: not a stray.
 */
static int kept_open(const char *name)
{
	return !strncmp(name, ".fuse_hidden", 12) || !strncmp(name, ".nfs", 4);
}

/* Files that should not be there: unlisted tables, locks, temporaries. */
static int count_strays(struct final *f, int report)
{
	char dir[4200], path[4300];
	struct dirent *de;
	int strays = 0;
	char *list;
	DIR *d;

	stack_dir(dir, sizeof(dir), f->s->o, f->s->run_dir);
	path_fmt(path, sizeof(path), dir, "tables.list");
	d = opendir(dir);
	if (!d)
		return -1;
	list = slurp(path);
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		size_t len = strlen(name);
		int is_ref = len > 4 && !strcmp(name + len - 4, ".ref");

		if (!strcmp(name, ".") || !strcmp(name, "..") ||
		    !strcmp(name, "tables.list") || kept_open(name) ||
		    (is_ref && list_contains(list, name)))
			continue;
		strays++;
		if (report)
			violation(&f->vs, "after clean: %s is in the stack "
					  "directory but not in tables.list",
				  name);
	}
	closedir(d);
	free(list);
	return strays;
}

/* One more transaction: tables of an addition killed between renaming
 * its table and listing it lie beyond the newest update index, which
 * clean must spare; the next addition puts them below it. */
static void marker_transaction(struct final *f)
{
	struct reftable_refdb_txn *txn = NULL;
	uint8_t oid[STRESS_OID_LEN];
	int err;

	memset(oid, 0x5a, sizeof(oid));
	err = reftable_refdb_txn_begin(&txn, f->db, NULL);
	if (!err)
		err = reftable_refdb_txn_update(txn, "refs/stress-end", oid,
						NULL, 0, "stress end");
	if (!err)
		err = reftable_refdb_txn_commit(txn);
	reftable_refdb_txn_free(txn);
	if (err)
		violation(&f->vs, "final transaction failed: %s: %s",
			  reftable_error_str(err), reftable_error_detail());
}

/*
 * Such files appear by themselves on a FUSE or NFS mount; plant two so
 * that every run shows that clean, the stray check and verify take them
 * for what they are.
 */
static void plant_kept_open(struct final *f)
{
	static const char *const names[] = { ".fuse_hidden0000000600000001",
					      ".nfs000000000000000100000001" };
	char dir[4200], path[4300];
	int fd;

	stack_dir(dir, sizeof(dir), f->s->o, f->s->run_dir);
	for (size_t i = 0; i < 2; i++) {
		path_fmt(path, sizeof(path), dir, names[i]);
		fd = open(path, O_WRONLY | O_CREAT, 0644);
		if (fd < 0)
			violation(&f->vs, "cannot create %s: %s", path,
				  strerror(errno));
		else
			close(fd);
	}
}

static void clean_and_check(struct final *f)
{
	struct reftable_stack *st = reftable_refdb_stack(f->db);
	int err, round;

	plant_kept_open(f);
	for (round = 0; round < 2; round++) {
		err = reftable_stack_clean(st);
		if (err < 0) {
			violation(&f->vs, "clean failed: %s: %s",
				  reftable_error_str(err),
				  reftable_error_detail());
			return;
		}
		if (count_strays(f, round == 1) == 0)
			return;
		if (round == 0)
			marker_transaction(f);
	}
}

/* `reftable verify -q DIR`, its output on stderr. */
static void run_verify(struct final *f)
{
	char dir[4200];
	int status;
	pid_t pid;

	if (!f->s->o->cli) {
		if (!f->s->o->quiet)
			say("verify: skipped (no --reftable tool given)");
		return;
	}
	stack_dir(dir, sizeof(dir), f->s->o, f->s->run_dir);
	pid = fork();
	if (pid == 0) {
		dup2(2, 1);
		execl(f->s->o->cli, f->s->o->cli, "verify", "-q", dir,
		      (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		violation(&f->vs, "cannot run %s: %s", f->s->o->cli,
			  strerror(errno));
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		violation(&f->vs, "cannot run %s (not an executable?)",
			  f->s->o->cli);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		violation(&f->vs, "reftable verify %s failed (status %d)", dir,
			  status);
	}
}

/* --- summary ---------------------------------------------------------------- */

struct totals {
	uint64_t commits, conflicts, lock_retries, reloads, snapshots;
	uint64_t compactions, auto_compactions, cleans, violations, max_tables;
	uint64_t lock_lost, stale_reloads, max_stale_us;
};

static void sum_slots(const struct super *s, struct totals *t)
{
	int i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < s->nslots; i++) {
		const struct slot *sl = &s->shm->slots[i];

		t->commits += sl->commits;
		t->conflicts += sl->conflicts;
		t->lock_retries += sl->lock_retries;
		t->reloads += sl->reloads;
		t->snapshots += sl->snapshots;
		t->compactions += sl->compactions;
		t->auto_compactions += sl->auto_compactions;
		t->cleans += sl->cleans;
		t->violations += sl->violations;
		t->lock_lost += sl->lock_lost;
		t->stale_reloads += sl->stale_reloads;
		if (sl->max_stale_us > t->max_stale_us)
			t->max_stale_us = sl->max_stale_us;
		if (sl->max_tables > t->max_tables)
			t->max_tables = sl->max_tables;
	}
}

static void rerun_line(const struct super *s)
{
	struct argv_buf *a = calloc(1, sizeof(*a));
	char line[8192];
	size_t len = 0;
	int i;

	if (!a)
		return;
	knob_args(a, s->o);
	len += (size_t)snprintf(line, sizeof(line), "%s", s->argv0);
	for (i = 0; i < a->n && len < sizeof(line); i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s",
					a->argv[i]);
	say("rerun: %s", line);
	free(a);
}

/* The figures of Git's part: its writers' and compactors' slots, the
 * mixed counters' steps by who made them. */
static void git_summary(const struct super *s, const struct mixed_totals *mt)
{
	uint64_t refused = 0, conflicts = 0, busy = 0, packs = 0, busy_packs = 0;
	uint64_t outdated = 0;
	int i;

	for (i = 0; i < s->nslots; i++) {
		const struct slot *sl = &s->shm->slots[i];

		if (!strcmp(slot_role(s, i), "git-writer")) {
			refused += shm_load(&sl->mixed_refused);
			conflicts += shm_load(&sl->conflicts);
			busy += shm_load(&sl->lock_retries);
		} else if (!strcmp(slot_role(s, i), "git-compactor")) {
			packs += shm_load(&sl->compactions);
			busy_packs += shm_load(&sl->lock_retries);
			outdated += shm_load(&sl->outdated);
		}
	}
	printf(" git-writers=%d git-txns=%llu git-refused=%llu (cas %llu, "
	       "lock %llu) ours-mixed=%llu git-compactors=%d "
	       "git-compactions=%llu (lock-busy %llu, outdated %llu) "
	       "mixed-steps=%llu "
	       "mixed-refused=%llu mixed-unfinished=%llu mixed-lost=%llu",
	       s->o->git_writers, (unsigned long long)mt->git_acked,
	       (unsigned long long)refused, (unsigned long long)conflicts,
	       (unsigned long long)busy, (unsigned long long)mt->ours_acked,
	       s->o->git_compactors, (unsigned long long)packs,
	       (unsigned long long)busy_packs, (unsigned long long)outdated,
	       (unsigned long long)mt->steps,
	       (unsigned long long)mt->refused,
	       (unsigned long long)mt->unfinished,
	       (unsigned long long)mt->lost);
}

int final_checks(struct super *s)
{
	struct final f;
	struct mixed_totals mt = { 0 };
	struct totals t;
	uint64_t violations;
	int w, c, ok, err;

	memset(&f, 0, sizeof(f));
	f.s = s;
	f.vs.count = &f.violations;
	f.vs.max_print = 30;
	f.seen = calloc((size_t)s->l.n, sizeof(*f.seen));
	f.entries = calloc((size_t)s->l.n, sizeof(*f.entries));
	f.n_entries = calloc((size_t)s->l.n, sizeof(*f.n_entries));
	if (!f.seen || !f.entries || !f.n_entries)
		return 2;

	/* Everyone is dead: any lock left is a dead process's. */
	err = break_all_locks(s->st);
	if (err < 0)
		violation(&f.vs, "breaking the locks of the dead failed: %s: %s",
			  reftable_error_str(err), reftable_error_detail());
	else
		f.end_locks = (uint64_t)err;
	for (w = 0; w < s->o->writers; w++)
		read_journal(&f, w);
	if (!check_stack(&f)) {
		check_acks(&f);
		check_origins(&f);
		clean_and_check(&f);
		probe_broken_lock(reftable_refdb_stack(f.db), s->st, &f.vs);
		if (s->o->git) {
			mixed_final(s->o, s->run_dir, f.db, &f.vs, &mt);
			git_final_views(s->o, s->run_dir, f.db, &f.vs);
		}
	} else {
		/* The stack cannot be read: no acknowledged transaction
		 * can be shown to be there. */
		f.lost = f.j.n_acks;
	}
	reftable_refdb_close(f.db);
	run_verify(&f);

	sum_slots(s, &t);
	violations = f.violations + t.violations + s->violations +
		     s->worker_failures + s->harness_errors;
	ok = !violations;
	printf("reftable-stress: %s txns=%llu acked=%llu conflicts=%llu "
	       "lock-retries=%llu reloads=%llu snapshots=%llu "
	       "compactions=%llu (auto %llu, compactors %llu) cleans=%llu "
	       "kills=%llu (mid-op %llu) locks-broken=%llu max-tables=%llu "
	       "violations=%llu lost=%llu seconds=%.1f seed=%llu "
	       "content-reload=%s background-close=%s fsync=%s dir=%s",
	       ok ? "PASS" : "FAIL", (unsigned long long)f.committed,
	       (unsigned long long)f.j.n_acks,
	       (unsigned long long)t.conflicts,
	       (unsigned long long)t.lock_retries,
	       (unsigned long long)t.reloads, (unsigned long long)t.snapshots,
	       (unsigned long long)(t.compactions + t.auto_compactions),
	       (unsigned long long)t.auto_compactions,
	       (unsigned long long)t.compactions,
	       (unsigned long long)t.cleans, (unsigned long long)s->kills,
	       (unsigned long long)s->kills_mid_op,
	       (unsigned long long)(s->locks_broken + f.end_locks),
	       (unsigned long long)t.max_tables,
	       (unsigned long long)violations, (unsigned long long)f.lost,
	       s->elapsed, (unsigned long long)s->o->seed,
	       s->o->content_reload ? "on" : "off",
	       s->o->background_close ? "on" : "off",
	       s->o->fsync ? "on" : "off", s->o->dir);
	if (s->o->mounts[0])
		printf(" mounts=%s,%s mount-split=%s", s->o->mounts[0],
		       s->o->mounts[1],
		       s->o->readers_apart ? "readers" : "alternate");
	if (s->o->mounts[0] || s->o->stale_bound > 0)
		printf(" stale-reloads=%llu max-stale=%.3fs stale-bound=%gs",
		       (unsigned long long)t.stale_reloads,
		       (double)t.max_stale_us / 1e6, s->o->stale_bound);
	if (s->o->git)
		git_summary(s, &mt);
	printf("\n");
	fflush(stdout);
	if (s->o->lock_age >= 0)
		say("age policy: freezes=%llu (mid-op %llu), operations "
		    "failed because their live lock was broken: %llu",
		    (unsigned long long)s->freezes,
		    (unsigned long long)s->freezes_mid_op,
		    (unsigned long long)t.lock_lost);
	if (s->first_violation)
		say("first violation %.3f s into the run",
		    s->first_violation);
	else if (!ok)
		say("first violation: in the final checks (none while the "
		    "workers ran)");
	if (!ok)
		rerun_line(s);

	for (c = 0; c < s->l.n; c++)
		free(f.entries[c]);
	free(f.entries);
	free(f.n_entries);
	free(f.seen);
	free(f.j.intents);
	free(f.j.acks);
	return ok ? 0 : 1;
}
