#ifndef TEST_REFDB_HELPERS_H
#define TEST_REFDB_HELPERS_H

/*
 * Helpers of the ref database tests. Each test file is its own program,
 * so everything here is static (inline).
 */

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reftable.h"
#include "testlib.h"
#include "reftable-refdb.h"

/* --- files ------------------------------------------------------------- */

/* The whole file, NUL-terminated; *len (may be NULL) without the NUL. */
static inline char *rt_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t n = 0, cap = 0;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	for (;;) {
		size_t got;
		if (n + 4096 + 1 > cap) {
			cap = (n + 4096 + 1) * 2;
			data = realloc(data, cap);
			ck_assert(data != NULL);
		}
		got = fread(data + n, 1, cap - n - 1, f);
		if (!got)
			break;
		n += got;
	}
	fclose(f);
	if (!data)
		data = calloc(1, 1);
	data[n] = '\0';
	if (len)
		*len = n;
	return data;
}

static inline void rt_write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(data, f);
	fclose(f);
}

/* Copy the regular files of src into dst (the copies are writable). */
static inline void rt_copy_dir(const char *src, const char *dst)
{
	DIR *d = opendir(src);
	struct dirent *e;

	ck_assert_msg(d != NULL, "%s: %s", src, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		char from[8192], to[8192];
		size_t len;
		char *data;
		FILE *f;
		int n1, n2;

		if (e->d_name[0] == '.')
			continue;
		n1 = snprintf(from, sizeof(from), "%s/%s", src, e->d_name);
		n2 = snprintf(to, sizeof(to), "%s/%s", dst, e->d_name);
		ck_assert(n1 > 0 && (size_t)n1 < sizeof(from));
		ck_assert(n2 > 0 && (size_t)n2 < sizeof(to));
		data = rt_read_file(from, &len);
		f = fopen(to, "wb");
		ck_assert_msg(f != NULL, "%s: %s", to, strerror(errno));
		ck_assert_uint_eq(fwrite(data, 1, len, f), len);
		fclose(f);
		free(data);
	}
	closedir(d);
}

/* $REFTABLE_TEST_DATA/fixtures/git/<name>/<rest>, or relative to t/. */
static inline void rt_fixture_path(char *buf, size_t cap, const char *name,
				   const char *rest)
{
	const char *base = getenv("REFTABLE_TEST_DATA");
	int n = snprintf(buf, cap, "%s/fixtures/git/%s/%s",
			 base && *base ? base : "t", name, rest);
	ck_assert(n > 0 && (size_t)n < cap);
}

/* Lines of dir/tables.list: the number of tables. */
static inline int rt_table_count(const char *dir)
{
	char path[4096];
	char *data, *p;
	int n = 0;

	snprintf(path, sizeof(path), "%s/tables.list", dir);
	data = rt_read_file(path, NULL);
	for (p = data; *p; p++)
		n += *p == '\n';
	free(data);
	return n;
}

/* --- object ids --------------------------------------------------------- */

/* An id of every byte b (b = 0 is the null id). */
static inline const uint8_t *rt_oid(uint8_t b)
{
	static uint8_t ids[8][REFTABLE_HASH_SIZE_MAX];
	static int next;
	uint8_t *id = ids[next++ % 8];

	memset(id, b, sizeof(ids[0]));
	return id;
}

static inline const char *rt_hex(const uint8_t *id, size_t n)
{
	static char bufs[4][2 * REFTABLE_HASH_SIZE_MAX + 1];
	static int next;
	char *b = bufs[next++ % 4];
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(b + 2 * i, "%02x", id[i]);
	b[2 * n] = '\0';
	return b;
}

static inline void rt_unhex(uint8_t *out, const char *hex, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned v;
		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* --- databases ---------------------------------------------------------- */

/* Test options: no fsync, no auto-compaction (tables can be counted),
 * a fixed committer, lock timeout 0 (a held lock fails at once). */
static inline void rt_options(struct reftable_refdb_options *o)
{
	reftable_refdb_options_init(o);
	o->stack.create = 1;
	o->stack.disable_fsync = 1;
	o->stack.disable_auto_compact = 1;
	o->stack.lock_timeout_ms = 0;
	o->committer.name = "C O Mitter";
	o->committer.email = "committer@example.com";
	o->committer.time = 1700000000;
	o->committer.tz_offset = -530;
}

static inline struct reftable_refdb *rt_open(const char *dir)
{
	struct reftable_refdb_options o;
	struct reftable_refdb *db = NULL;
	int err;

	rt_options(&o);
	err = reftable_refdb_open(&db, dir, &o);
	ck_assert_msg(err == 0, "open %s: %s (%s)", dir, reftable_error_str(err),
		      reftable_error_detail());
	return db;
}

static inline uint64_t rt_next_index(struct reftable_refdb *db)
{
	ck_assert_int_eq(reftable_refdb_reload(db), 0);
	return reftable_stack_next_update_index(reftable_refdb_stack(db));
}

#define rt_ok(expr)                                                       \
	do {                                                              \
		int rt_err_ = (expr);                                     \
		ck_assert_msg(rt_err_ == 0, "%s: %d %s (%s)", #expr,      \
			      rt_err_, reftable_error_str(rt_err_),       \
			      reftable_error_detail());                   \
	} while (0)

#define rt_fails(expr, code)                                              \
	do {                                                              \
		int rt_err_ = (expr);                                     \
		ck_assert_msg(rt_err_ == (code),                          \
			      "%s: got %d (%s), want %d; detail: %s", #expr, \
			      rt_err_, reftable_error_str(rt_err_), (code), \
			      reftable_error_detail());                   \
	} while (0)

/* The detail of the last error contains s. */
#define rt_detail_has(s)                                                  \
	ck_assert_msg(strstr(reftable_error_detail(), (s)) != NULL,       \
		      "detail \"%s\" lacks \"%s\"", reftable_error_detail(), \
		      (s))

/* One update in its own transaction. */
static inline int rt_update(struct reftable_refdb *db, const char *name,
			    const uint8_t *new_oid, const uint8_t *old_oid,
			    const char *msg)
{
	struct reftable_refdb_txn *txn = NULL;
	int err;

	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	err = reftable_refdb_txn_update(txn, name, new_oid, old_oid, 0, msg);
	if (!err)
		err = reftable_refdb_txn_commit(txn);
	reftable_refdb_txn_free(txn);
	return err;
}

static inline int rt_symref(struct reftable_refdb *db, const char *name,
			    const char *target)
{
	struct reftable_refdb_txn *txn = NULL;
	int err;

	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	err = reftable_refdb_txn_symref(txn, name, target, NULL, 0, NULL);
	if (!err)
		err = reftable_refdb_txn_commit(txn);
	reftable_refdb_txn_free(txn);
	return err;
}

static inline int rt_delete(struct reftable_refdb *db, const char *name,
			    const uint8_t *old_oid)
{
	struct reftable_refdb_txn *txn = NULL;
	int err;

	rt_ok(reftable_refdb_txn_begin(&txn, db, NULL));
	err = reftable_refdb_txn_delete(txn, name, old_oid, 0, NULL);
	if (!err)
		err = reftable_refdb_txn_commit(txn);
	reftable_refdb_txn_free(txn);
	return err;
}

/* The value of name (VAL1 or VAL2) must be the id of bytes b. */
static inline void rt_assert_ref(struct reftable_refdb *db, const char *name,
				 uint8_t b)
{
	struct reftable_ref_record ref = { 0 };
	size_t hs = reftable_refdb_hash_size(db);

	rt_ok(reftable_refdb_read_ref(db, name, &ref));
	ck_assert_msg(ref.value_type == REFTABLE_REF_VAL1 ||
			      ref.value_type == REFTABLE_REF_VAL2,
		      "%s: type %d", name, (int)ref.value_type);
	ck_assert_msg(!memcmp(ref.value, rt_oid(b), hs), "%s is at %s", name,
		      rt_hex(ref.value, hs));
	reftable_ref_record_release(&ref);
}

static inline void rt_assert_absent(struct reftable_refdb *db,
				    const char *name)
{
	struct reftable_ref_record ref = { 0 };

	ck_assert_int_eq(reftable_refdb_read_ref(db, name, &ref), 1);
	reftable_ref_record_release(&ref);
}

/* Log records of the newest table, deletions included, as text lines
 * "NAME IDX delete" or "NAME IDX OLDBYTE NEWBYTE [MESSAGE]|" where "|"
 * stands for the stored message's final newline. */
static inline char *rt_newest_table_logs(struct reftable_refdb *db)
{
	struct reftable_merged *m = reftable_stack_merged(reftable_refdb_stack(db));
	size_t n = reftable_merged_table_count(m);
	struct reftable_log_record log = { 0 };
	struct reftable_iterator it = { 0 };
	static char out[1 << 16];
	size_t len = 0;
	int err;

	out[0] = '\0';
	ck_assert(n > 0);
	rt_ok(reftable_table_init_log_iterator(reftable_merged_table(m, n - 1),
					       &it));
	rt_ok(reftable_iterator_seek_log(&it, ""));
	while ((err = reftable_iterator_next_log(&it, &log)) == 0) {
		int w;
		if (log.value_type == REFTABLE_LOG_DELETION)
			w = snprintf(out + len, sizeof(out) - len,
				     "%s %llu delete\n", log.refname,
				     (unsigned long long)log.update_index);
		else {
			/* The stored message ends in "\n": show it as "|". */
			size_t ml = strlen(log.message);
			int nl = ml && log.message[ml - 1] == '\n';
			w = snprintf(out + len, sizeof(out) - len,
				     "%s %llu %02x %02x [%.*s]%s\n", log.refname,
				     (unsigned long long)log.update_index,
				     log.old_id[0], log.new_id[0],
				     (int)(ml - nl), log.message, nl ? "|" : "");
		}
		ck_assert(w > 0 && (size_t)w < sizeof(out) - len);
		len += (size_t)w;
	}
	ck_assert_int_eq(err, 1);
	reftable_iterator_destroy(&it);
	reftable_log_record_release(&log);
	return out;
}

/* --- the fixture -------------------------------------------------------- */

/*
 * A fresh directory and a database in it for each test, as dir and db: a
 * test program that wants them defines RT_DB_FIXTURE before including
 * this file, and adds setup and teardown as its checked fixture.
 */
#ifdef RT_DB_FIXTURE
static char *dir;
static struct reftable_refdb *db;

static void setup(void)
{
	dir = tl_tmpdir();
	db = rt_open(dir);
}

static void teardown(void)
{
	reftable_refdb_close(db);
	db = NULL;
	tl_rmtree(dir);
	dir = NULL;
}
#endif

#endif
