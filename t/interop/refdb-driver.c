/*
 * The library's own changes for t/interop, where the tool has no command
 * or one process per change would be slow:
 *
 *   refdb-driver steps DIR REF N ID1 ID2   N transactions moving REF
 *       between ID1 and ID2, each with compare-and-swap, message
 *       "step I", committer time 1700000000 + I (a long reflog)
 *   refdb-driver expire DIR REF TIME       expire REF's reflog entries
 *       older than TIME (reftable_refdb_reflog_expire)
 *   refdb-driver delete-entry DIR REF UI   delete one reflog entry
 *
 * fsync is off: Git reads the files either way.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reftable.h"

static int hex_to_id(uint8_t *out, const char *hex, size_t len)
{
	size_t i;

	if (strlen(hex) != 2 * len)
		return -1;
	for (i = 0; i < len; i++)
		if (sscanf(hex + 2 * i, "%2hhx", &out[i]) != 1)
			return -1;
	return 0;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "refdb-driver: %s: %s: %s\n", what,
		reftable_error_str(err), reftable_error_detail());
	return 1;
}

static int steps(struct reftable_refdb *db, char **argv)
{
	uint8_t ids[2][REFTABLE_HASH_SIZE_MAX];
	size_t hs = reftable_refdb_hash_size(db);
	long n = atol(argv[1]), i;
	char msg[64];

	if (hex_to_id(ids[0], argv[2], hs) || hex_to_id(ids[1], argv[3], hs))
		return fail("bad id", REFTABLE_API_ERROR);
	for (i = 0; i < n; i++) {
		struct reftable_refdb_ident who = { "Lib Rary", "lib@example.com",
						    1700000000 + (uint64_t)i,
						    100 };
		struct reftable_refdb_txn *txn = NULL;
		int err = reftable_refdb_txn_begin(&txn, db, &who);

		snprintf(msg, sizeof(msg), "step %ld", i);
		if (!err)
			err = reftable_refdb_txn_update(txn, argv[0],
							ids[(i + 1) % 2],
							i ? ids[i % 2] : NULL,
							0, msg);
		if (!err)
			err = reftable_refdb_txn_commit(txn);
		reftable_refdb_txn_free(txn);
		if (err)
			return fail(msg, err);
	}
	return 0;
}

static int expire(struct reftable_refdb *db, char **argv)
{
	struct reftable_reflog_expiry ex = { 0 };
	int err;

	ex.expire_time = strtoull(argv[1], NULL, 10);
	err = reftable_refdb_reflog_expire(db, argv[0], &ex, NULL);
	return err < 0 ? fail("expire", err) : 0;
}

static int delete_entry(struct reftable_refdb *db, char **argv)
{
	int err = reftable_refdb_reflog_delete_entry(db, argv[0],
						     strtoull(argv[1], NULL, 10),
						     0);

	return err ? fail("delete-entry", err) : 0;
}

int main(int argc, char **argv)
{
	struct reftable_refdb_options o;
	struct reftable_refdb *db = NULL;
	int err, rc;

	if (argc < 4) {
		fprintf(stderr, "usage: refdb-driver steps|expire|delete-entry "
				"DIR REF ...\n");
		return 2;
	}
	reftable_refdb_options_init(&o);
	o.stack.disable_fsync = 1;
	err = reftable_refdb_open(&db, argv[2], &o);
	if (err)
		return fail(argv[2], err);
	if (!strcmp(argv[1], "steps") && argc == 7)
		rc = steps(db, argv + 3);
	else if (!strcmp(argv[1], "expire") && argc == 5)
		rc = expire(db, argv + 3);
	else if (!strcmp(argv[1], "delete-entry") && argc == 5)
		rc = delete_entry(db, argv + 3);
	else
		rc = fail("bad arguments", REFTABLE_API_ERROR);
	reftable_refdb_close(db);
	return rc;
}
