/*
 * An embedder's first program: open (or create) a ref database, change a
 * branch with compare-and-swap, list the refs and follow the branch's
 * reflog. Only the installed headers and pkg-config are needed:
 *
 *   cc refs-example.c $(pkg-config --cflags --libs reftable)
 *   ./a.out DIR
 *
 * It exits 0 when every step behaved as the API promises, 1 otherwise,
 * so make test builds it against an installed library and runs it.
 */
#include <reftable/reftable.h>

#include <stdio.h>
#include <string.h>

#define BRANCH "refs/heads/main"

static int failed(const char *what, int err)
{
	fprintf(stderr, "%s: %s (%s)\n", what, reftable_error_str(err),
		reftable_error_detail());
	return 1;
}

/* An object id of the database's hash size whose bytes are all c. */
static void fake_oid(uint8_t *oid, size_t len, uint8_t c)
{
	memset(oid, c, len);
}

static void print_oid(const uint8_t *oid, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		printf("%02x", oid[i]);
}

/* One transaction: move BRANCH from old (NULL: it must not exist) to new. */
static int move_branch(struct reftable_refdb *db, const uint8_t *old,
		       const uint8_t *new, const char *message)
{
	struct reftable_refdb_txn *txn = NULL;
	uint8_t null_oid[REFTABLE_HASH_SIZE_MAX] = { 0 };
	int err = reftable_refdb_txn_begin(&txn, db, NULL);

	if (!err)
		err = reftable_refdb_txn_update(txn, BRANCH, new,
						old ? old : null_oid, 0,
						message);
	if (!err)
		err = reftable_refdb_txn_commit(txn);
	reftable_refdb_txn_free(txn);
	return err;
}

static int list_refs(struct reftable_refdb *db)
{
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record ref = { 0 };
	size_t hash_size = reftable_refdb_hash_size(db);
	int err = reftable_refdb_init_ref_iterator(db, &it, "refs/");

	while (!err && !(err = reftable_iterator_next_ref(&it, &ref))) {
		printf("ref %s ", ref.refname);
		if (ref.value_type == REFTABLE_REF_SYMREF)
			printf("-> %s", ref.target);
		else
			print_oid(ref.value, hash_size);
		printf("\n");
	}
	reftable_ref_record_release(&ref);
	reftable_iterator_destroy(&it);
	return err < 0 ? failed("list", err) : 0;
}

/* Print BRANCH's reflog, newest first; each entry's old id must be the
 * new id of the entry before it in time. */
static int follow_reflog(struct reftable_refdb *db, size_t *entries)
{
	struct reftable_iterator it = { 0 };
	struct reftable_log_record log = { 0 };
	uint8_t newer_old[REFTABLE_HASH_SIZE_MAX];
	size_t hash_size = reftable_refdb_hash_size(db);
	int err = reftable_refdb_init_reflog_iterator(db, &it, BRANCH);
	int broken = 0;

	*entries = 0;
	while (!err && !(err = reftable_iterator_next_log(&it, &log))) {
		if (*entries && memcmp(log.new_id, newer_old, hash_size))
			broken = 1;
		memcpy(newer_old, log.old_id, hash_size);
		printf("log %s@{%zu} ", log.refname, *entries);
		print_oid(log.new_id, hash_size);
		/* Messages are stored with a final "\n", as Git writes them. */
		printf(" %.*s\n", (int)strcspn(log.message, "\n"),
		       log.message);
		(*entries)++;
	}
	reftable_log_record_release(&log);
	reftable_iterator_destroy(&it);
	if (err < 0)
		return failed("reflog", err);
	if (broken)
		fprintf(stderr, "reflog: the chain of ids is broken\n");
	return broken;
}

static int run(struct reftable_refdb *db)
{
	uint8_t a[REFTABLE_HASH_SIZE_MAX], b[REFTABLE_HASH_SIZE_MAX];
	size_t n = reftable_refdb_hash_size(db), entries;
	int err;

	fake_oid(a, n, 0xaa);
	fake_oid(b, n, 0xbb);
	if ((err = move_branch(db, NULL, a, "create main")))
		return failed("create " BRANCH, err);
	if ((err = move_branch(db, a, b, "advance main")))
		return failed("advance " BRANCH, err);
	/* A writer that still believes main is at a must be refused. */
	err = move_branch(db, a, a, "stale compare-and-swap");
	if (err != REFTABLE_CAS_ERROR) {
		fprintf(stderr, "stale update: expected a CAS error, got %d\n",
			err);
		return 1;
	}
	printf("refused: %s\n", reftable_error_detail());
	if (list_refs(db) || follow_reflog(db, &entries))
		return 1;
	if (entries != 2) {
		fprintf(stderr, "reflog: %zu entries, expected 2\n", entries);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct reftable_refdb_options opts;
	struct reftable_refdb *db = NULL;
	int err, ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR (a new or empty stack)\n",
			argv[0]);
		return 2;
	}
	reftable_refdb_options_init(&opts);
	opts.stack.create = 1;
	opts.log_policy = REFTABLE_REFDB_LOG_ALWAYS;
	opts.committer.name = "Example";
	opts.committer.email = "example@example.org";
	if ((err = reftable_refdb_open(&db, argv[1], &opts)))
		return failed(argv[1], err);
	ret = run(db);
	reftable_refdb_close(db);
	return ret;
}
