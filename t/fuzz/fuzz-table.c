/*
 * A table from arbitrary bytes. Every reading call runs on it: ref and
 * log iteration, seeks, lookups through the block directory and through
 * the name index (built from these bytes, as a table builds it after
 * enough lookups), and object-id lookups. Properties:
 * - errors are the library's codes, never a crash or a sanitizer report;
 * - a lookup or a seek that finds a name finds the record the iteration
 *   read; on a table whose keys are in order, every one is found;
 * - the records read, if a writer accepts them, read back identically
 *   from the table it writes, and every lookup finds them there.
 */

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "table.h"

/* Bounds the work of one input. */
#define MAX_RECORDS 300

static struct reftable_table *open_copy(const uint8_t *data, size_t size,
					uint8_t **copy)
{
	struct reftable_table *t = NULL;
	int err;

	/* An exactly sized copy: a read past the end is a sanitizer report. */
	*copy = malloc(size ? size : 1);
	memcpy(*copy, data, size);
	err = reftable_table_from_buffer(&t, *copy, size, "fuzz.ref");
	FUZZ_CHECK(!err || fuzz_known_error(err));
	return err ? NULL : t;
}

/* The table builds its name index on its first lookup. */
static void index_at_first_lookup(struct reftable_table *t)
{
	t->index_after = 1;
	atomic_store(&t->ref_lookups, 0);
}

/* Look up and seek each ref read; exact: the table's keys are in order. */
static void check_ref_lookups(struct reftable_table *t,
			      const struct fuzz_records *refs, int exact)
{
	size_t hs = reftable_hash_size(reftable_table_hash(t));
	struct reftable_ref_record ref = { 0 };
	struct reftable_iterator it = { 0 };
	int unique = refs->sorted && !refs->truncated && !refs->err, err;

	FUZZ_CHECK(!reftable_table_init_ref_iterator(t, &it));
	for (size_t i = 0; i < refs->n; i++) {
		const struct reftable_ref_record *want = &refs->refs[i];

		/* Exact: found, or the damage met reported; never absent. A
		 * lookup reads what a scan does not (the restart table). */
		err = reftable_table_read_ref(t, want->refname, &ref);
		FUZZ_CHECK(err >= 0 || fuzz_known_error(err));
		FUZZ_CHECK(!exact || err <= 0);
		if (!err && unique)
			FUZZ_CHECK(reftable_ref_record_equal(&ref, want, hs));
		err = reftable_iterator_seek_ref(&it, want->refname);
		if (!err)
			err = reftable_iterator_next_ref(&it, &ref);
		FUZZ_CHECK(err >= 0 || fuzz_known_error(err));
		FUZZ_CHECK(!exact || err <= 0);
		if (exact && !err)
			FUZZ_CHECK(reftable_ref_record_equal(&ref, want, hs));
	}
	/* A name just past the last one is absent. */
	if (exact && refs->n && !refs->truncated) {
		char *past = malloc(strlen(refs->refs[refs->n - 1].refname) + 2);
		int found;

		strcpy(past, refs->refs[refs->n - 1].refname);
		strcat(past, "~");
		found = reftable_table_read_ref(t, past, &ref);
		FUZZ_CHECK(found == 1 || fuzz_known_error(found));
		free(past);
	}
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&ref);
}

static void check_log_seeks(struct reftable_table *t,
			    const struct fuzz_records *logs, int exact)
{
	size_t hs = reftable_hash_size(reftable_table_hash(t));
	struct reftable_log_record log = { 0 };
	struct reftable_iterator it = { 0 };
	int err;

	FUZZ_CHECK(!reftable_table_init_log_iterator(t, &it));
	for (size_t i = 0; i < logs->n; i++) {
		const struct reftable_log_record *want = &logs->logs[i];

		err = reftable_iterator_seek_log_at(&it, want->refname,
						    want->update_index);
		if (!err)
			err = reftable_iterator_next_log(&it, &log);
		FUZZ_CHECK(err >= 0 || fuzz_known_error(err));
		FUZZ_CHECK(!exact || err <= 0); /* as for refs */
		if (exact && !err)
			FUZZ_CHECK(reftable_log_record_equal(&log, want, hs));
	}
	reftable_iterator_destroy(&it);
	reftable_log_record_release(&log);
}

static int has_oid(const struct reftable_ref_record *r, const uint8_t *oid,
		   size_t hs)
{
	const uint8_t *v1 = reftable_ref_record_val1(r);
	const uint8_t *v2 = reftable_ref_record_val2(r);

	return (v1 && !memcmp(v1, oid, hs)) || (v2 && !memcmp(v2, oid, hs));
}

/*
 * The refs of each object id in the refs read. Every ref returned has
 * the id; exact: they are all the refs read that have it, in order.
 */
static void check_refs_for(struct reftable_table *t,
			   const struct fuzz_records *refs, int exact)
{
	size_t hs = reftable_hash_size(reftable_table_hash(t));
	struct reftable_ref_record ref = { 0 };

	for (size_t i = 0; i < refs->n && i < 32; i++) {
		const uint8_t *oid = reftable_ref_record_val1(&refs->refs[i]);
		struct reftable_iterator it = { 0 };
		size_t j = 0;
		int err;

		if (!oid)
			continue;
		err = reftable_table_refs_for(t, oid, &it);
		FUZZ_CHECK(!err || fuzz_known_error(err));
		while (!err && !(err = reftable_iterator_next_ref(&it, &ref))) {
			FUZZ_CHECK(has_oid(&ref, oid, hs));
			if (!exact)
				continue;
			while (j < refs->n && !has_oid(&refs->refs[j], oid, hs))
				j++;
			FUZZ_CHECK(j < refs->n);
			FUZZ_CHECK(reftable_ref_record_equal(&ref,
							     &refs->refs[j++], hs));
		}
		FUZZ_CHECK(err >= 0 || fuzz_known_error(err));
		if (exact) {
			FUZZ_CHECK(err == 1);
			while (j < refs->n && !has_oid(&refs->refs[j], oid, hs))
				j++;
			FUZZ_CHECK(j == refs->n);
		}
		reftable_iterator_destroy(&it);
	}
	reftable_ref_record_release(&ref);
}

static void read_all(struct reftable_table *t, struct fuzz_records *refs,
		     struct fuzz_records *logs)
{
	struct reftable_iterator it = { 0 };

	FUZZ_CHECK(!reftable_table_init_ref_iterator(t, &it));
	fuzz_read_refs(&it, MAX_RECORDS, refs);
	reftable_iterator_destroy(&it);
	FUZZ_CHECK(!reftable_table_init_log_iterator(t, &it));
	fuzz_read_logs(&it, MAX_RECORDS, logs);
	reftable_iterator_destroy(&it);
}

/*
 * Every reading call, with the name index (as after many lookups) or
 * not. exact: the records must all be found when they are in order;
 * trusted: the table's indexes are our writer's, so they match too.
 */
static void exercise(struct reftable_table *t, int with_index, int exact,
		     int trusted, struct fuzz_records *refs,
		     struct fuzz_records *logs)
{
	if (with_index)
		index_at_first_lookup(t);
	else
		reftable_table_set_lookup_index(t, 0);
	read_all(t, refs, logs);
	exact = exact && !refs->err && !logs->err && !refs->truncated &&
		!logs->truncated;
	/* Seeks trust an index; nothing checks that it matches the blocks
	 * (nor does Git's reader), so a damaged one may hide records. */
	check_ref_lookups(t, refs, exact && refs->sorted &&
					   (!t->refs.index_start || trusted));
	check_log_seeks(t, logs, exact && logs->sorted &&
					 (!t->logs.index_start || trusted));
	check_refs_for(t, refs, exact && refs->sorted &&
					(!t->objs.present || trusted));
}

/* Write the records again; non-zero if the writer refuses them. */
static int rewrite(struct reftable_table *t, const struct fuzz_records *refs,
		   const struct fuzz_records *logs, struct fuzz_buf *out)
{
	struct reftable_write_options o = {
		.block_size = reftable_table_block_size(t),
		.hash_id = reftable_table_hash(t),
	};
	struct reftable_writer *w = NULL;
	int err;

	if (o.block_size < REFTABLE_MIN_BLOCK_SIZE)
		o.block_size = REFTABLE_MIN_BLOCK_SIZE;
	err = reftable_writer_new(&w, fuzz_buf_write, out, &o);
	FUZZ_CHECK(!err);
	err = reftable_writer_set_limits(w,
					 reftable_table_min_update_index(t),
					 reftable_table_max_update_index(t));
	for (size_t i = 0; !err && i < refs->n; i++)
		err = reftable_writer_add_ref(w, &refs->refs[i]);
	for (size_t i = 0; !err && i < logs->n; i++)
		err = reftable_writer_add_log(w, &logs->logs[i]);
	if (!err)
		err = reftable_writer_close(w);
	FUZZ_CHECK(err >= 0 || fuzz_known_error(err));
	reftable_writer_free(w);
	return err;
}

static void check_rewritten(struct reftable_table *t,
			    const struct fuzz_records *refs,
			    const struct fuzz_records *logs)
{
	size_t hs = reftable_hash_size(reftable_table_hash(t));
	struct fuzz_buf out = { 0 };
	struct fuzz_records refs2, logs2;
	struct reftable_table *t2;
	uint8_t *copy;

	if (refs->err || logs->err || refs->truncated || logs->truncated ||
	    rewrite(t, refs, logs, &out)) {
		free(out.data);
		return;
	}
	t2 = open_copy(out.data, out.len, &copy);
	FUZZ_CHECK(t2);
	for (int with_index = 0; with_index < 2; with_index++) {
		exercise(t2, with_index, 1, 1, &refs2, &logs2);
		FUZZ_CHECK(!refs2.err && !logs2.err);
		FUZZ_CHECK(fuzz_records_equal(refs, &refs2, hs));
		FUZZ_CHECK(fuzz_records_equal(logs, &logs2, hs));
		fuzz_records_release(&refs2);
		fuzz_records_release(&logs2);
	}
	reftable_table_decref(t2);
	free(copy);
	free(out.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_records refs, logs, irefs, ilogs;
	struct reftable_table *t;
	uint8_t *copy;
	size_t hs;

	if (!(t = open_copy(data, size, &copy))) {
		free(copy);
		return 0;
	}
	hs = reftable_hash_size(reftable_table_hash(t));
	exercise(t, 0, 1, 0, &refs, &logs);
	/* A second table on the same bytes, looked up through its index. */
	{
		struct reftable_table *ti = NULL;

		FUZZ_CHECK(!reftable_table_from_buffer(&ti, copy, size, "i"));
		exercise(ti, 1, 1, 0, &irefs, &ilogs);
		FUZZ_CHECK(fuzz_records_equal(&refs, &irefs, hs));
		FUZZ_CHECK(fuzz_records_equal(&logs, &ilogs, hs));
		reftable_table_decref(ti);
	}
	check_rewritten(t, &refs, &logs);
	fuzz_records_release(&refs);
	fuzz_records_release(&logs);
	fuzz_records_release(&irefs);
	fuzz_records_release(&ilogs);
	reftable_table_decref(t);
	free(copy);
	return 0;
}
