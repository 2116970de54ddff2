/*
 * A stack directory built from fuzzed files, opened, changed on disk,
 * reloaded and added to. The input is a series of chunks:
 *
 *   TAG (1 byte) LEN (2 bytes, little-endian) BYTES
 *
 * TAG & 7 names the file (0: tables.list, k: table k, named as Git
 * names tables); TAG & 0x80 writes it after the first open, replacing
 * the file as a writer would (rename); TAG & 0x40 on the first chunk
 * makes it a SHA-256 stack. Properties:
 * - opening and reloading fail only with documented codes;
 * - a view reads refs in strictly increasing order without deletions,
 *   logs in key order, and its lookups agree with its iteration;
 * - after the files change, a reloaded handle (inode or content rule)
 *   reads exactly what a fresh handle reads, unless a loaded table was
 *   rewritten under its name, which the protocol never does;
 * - an addition to the reloaded stack (auto-compaction on) leaves what
 *   was there plus the new ref, as a fresh handle reads it.
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "table.h"

#define MAX_RECORDS 200
#define ADDED_REF "refs/heads/fuzz-added"

static void file_path(char *buf, size_t cap, unsigned slot)
{
	if (!slot)
		snprintf(buf, cap, "%s/tables.list", fuzz_dir());
	else
		snprintf(buf, cap, "%s/0x%012x-0x%012x-0000000%u.ref",
			 fuzz_dir(), slot, slot, slot);
}

/*
 * Write the chunks of one phase, each file through a rename. Returns
 * whether a table of the first phase was replaced: tables never change
 * under their name (a handle keeps the one it loaded), so a reloaded
 * handle may then rightly differ from a fresh one.
 */
static int write_phase(const uint8_t *data, size_t size, int phase)
{
	unsigned written = 0, replaced = 0;
	char path[512], tmp[520];
	size_t i = 0;

	while (i + 3 <= size) {
		uint8_t tag = data[i];
		size_t len = data[i + 1] | (size_t)data[i + 2] << 8;
		int fd;

		i += 3;
		if (len > size - i)
			len = size - i;
		if (!!(tag & 0x80) == phase) {
			written |= 1u << (tag & 7);
			file_path(path, sizeof(path), tag & 7);
			snprintf(tmp, sizeof(tmp), "%s.new", path);
			fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
			FUZZ_CHECK(fd >= 0);
			FUZZ_CHECK(write(fd, data + i, len) == (ssize_t)len);
			close(fd);
			FUZZ_CHECK(!rename(tmp, path));
		}
		i += len;
	}
	if (phase)
		for (i = 0; i + 3 <= size; i += 3 + (data[i + 1] |
						      (size_t)data[i + 2] << 8))
			if (!(data[i] & 0x80) && (data[i] & 7) &&
			    (written & 1u << (data[i] & 7)))
				replaced = 1;
	return replaced;
}

struct view {
	struct fuzz_records refs, logs;
	int ok;
};

/*
 * Lookups trust the tables' indexes, which nothing checks against the
 * blocks (the table target tests them on tables our writer wrote): the
 * view's lookups must find everything only when no table has one.
 */
static int without_indexes(struct reftable_stack *st)
{
	struct reftable_merged *m = reftable_stack_merged(st);

	for (size_t i = 0; i < reftable_merged_table_count(m); i++) {
		struct reftable_table *t = reftable_merged_table(m, i);

		if (t->refs.index_start || t->logs.index_start)
			return 0;
	}
	return 1;
}

/* Read the handle's view and check it against its own lookups. */
static void read_view(struct reftable_stack *st, struct view *v)
{
	size_t hs = reftable_hash_size(reftable_stack_hash(st));
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record ref = { 0 };
	struct reftable_log_record log = { 0 };

	FUZZ_CHECK(!reftable_stack_init_ref_iterator(st, &it));
	fuzz_read_refs(&it, MAX_RECORDS, &v->refs);
	reftable_iterator_destroy(&it);
	FUZZ_CHECK(!reftable_stack_init_log_iterator(st, &it));
	fuzz_read_logs(&it, MAX_RECORDS, &v->logs);
	reftable_iterator_destroy(&it);
	v->ok = !v->refs.err && !v->logs.err && !v->refs.truncated &&
		!v->logs.truncated;
	if (!v->ok || !v->refs.sorted || !v->logs.sorted ||
	    !without_indexes(st))
		return; /* damaged tables: reading them is all we ask */
	for (size_t i = 0; i < v->refs.n; i++) {
		FUZZ_CHECK(v->refs.refs[i].value_type != REFTABLE_REF_DELETION);
		FUZZ_CHECK(!reftable_stack_read_ref(st, v->refs.refs[i].refname,
						    &ref));
		FUZZ_CHECK(reftable_ref_record_equal(&ref, &v->refs.refs[i], hs));
	}
	for (size_t i = 0; i < v->logs.n; i++) {
		const struct reftable_log_record *l = &v->logs.logs[i];

		if (i && !strcmp(l->refname, v->logs.logs[i - 1].refname))
			continue; /* read_log gives the newest of a name */
		FUZZ_CHECK(!reftable_stack_read_log(st, l->refname, &log));
		FUZZ_CHECK(reftable_log_record_equal(&log, l, hs));
	}
	reftable_ref_record_release(&ref);
	reftable_log_record_release(&log);
}

static void view_release(struct view *v)
{
	fuzz_records_release(&v->refs);
	fuzz_records_release(&v->logs);
}

static int open_stack(struct reftable_stack **st, enum reftable_hash hash,
		      int content_reload)
{
	struct reftable_stack_options o;
	int err;

	reftable_stack_options_init(&o);
	o.disable_fsync = 1;
	o.lock_timeout_ms = 0;
	o.write.hash_id = hash;
	o.force_content_reload = content_reload;
	err = reftable_stack_new(st, fuzz_dir(), &o);
	FUZZ_CHECK(!err || fuzz_known_error(err));
	if (err)
		*st = NULL;
	return err;
}

/* A handle that reloaded reads what a fresh one reads. */
static void check_reloaded(struct reftable_stack *st, const struct view *fresh,
			   int replaced)
{
	size_t hs = reftable_hash_size(reftable_stack_hash(st));
	struct view v;
	int err = reftable_stack_reload(st);

	FUZZ_CHECK(!err || fuzz_known_error(err));
	read_view(st, &v);
	if (!err && fresh && !replaced) {
		FUZZ_CHECK(v.ok == fresh->ok);
		FUZZ_CHECK(fuzz_records_equal(&v.refs, &fresh->refs, hs));
		FUZZ_CHECK(fuzz_records_equal(&v.logs, &fresh->logs, hs));
	}
	view_release(&v);
}

static int add_ref(struct reftable_writer *w, void *arg)
{
	struct reftable_ref_record ref = {
		.refname = ADDED_REF,
		.update_index = *(uint64_t *)arg,
		.value_type = REFTABLE_REF_VAL1,
		.value = { 0xf0 },
	};

	return reftable_writer_add_ref(w, &ref);
}

/* Add a ref; a fresh handle then reads the old refs plus it. */
static void check_addition(struct reftable_stack *st, const struct view *before)
{
	size_t hs = reftable_hash_size(reftable_stack_hash(st));
	struct reftable_stack *st2;
	uint64_t ui = reftable_stack_next_update_index(st);
	struct view after;
	size_t j = 0;
	int err = reftable_stack_add(st, add_ref, &ui, 0);

	FUZZ_CHECK(!err || fuzz_known_error(err));
	if (err || open_stack(&st2, reftable_stack_hash(st), 0))
		return;
	read_view(st2, &after);
	FUZZ_CHECK(after.ok);
	for (size_t i = 0; i < after.refs.n; i++) {
		const char *name = after.refs.refs[i].refname;

		if (!strcmp(name, ADDED_REF)) {
			if (j < before->refs.n &&
			    !strcmp(before->refs.refs[j].refname, name))
				j++;
			continue;
		}
		FUZZ_CHECK(j < before->refs.n);
		FUZZ_CHECK(reftable_ref_record_equal(&after.refs.refs[i],
						     &before->refs.refs[j++],
						     hs));
	}
	FUZZ_CHECK(j == before->refs.n);
	view_release(&after);
	reftable_stack_destroy(st2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum reftable_hash hash = size && (data[0] & 0x40) ?
					  REFTABLE_HASH_SHA256 :
					  REFTABLE_HASH_SHA1;
	struct reftable_stack *st = NULL, *stc = NULL, *fresh = NULL;
	struct view v, vf;
	int replaced;

	fuzz_dir_clear();
	write_phase(data, size, 0);
	if (open_stack(&st, hash, 0) || open_stack(&stc, hash, 1))
		goto out;
	read_view(st, &v);
	view_release(&v);
	replaced = write_phase(data, size, 1);
	if (!open_stack(&fresh, hash, 0)) {
		read_view(fresh, &vf);
		check_reloaded(st, &vf, replaced);
		check_reloaded(stc, &vf, replaced);
		if (vf.ok && vf.refs.sorted)
			check_addition(fresh, &vf);
		view_release(&vf);
	} else {
		check_reloaded(st, NULL, 0);
		check_reloaded(stc, NULL, 0);
	}
out:
	reftable_stack_destroy(st);
	reftable_stack_destroy(stc);
	reftable_stack_destroy(fresh);
	return 0;
}
