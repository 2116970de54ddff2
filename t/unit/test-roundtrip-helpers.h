#ifndef TEST_ROUNDTRIP_HELPERS_H
#define TEST_ROUNDTRIP_HELPERS_H

/*
 * Helpers of the round-trip tests: write a model, read it back, verify.
 * Each test file is its own program, so everything here is static inline.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

/* Check a table's metadata against what was written. */
static inline void check_meta(struct reftable_table *t,
			      const struct reftable_write_options *o,
			      uint64_t min, uint64_t max, size_t len,
			      const char *ctx)
{
	int sha256 = o->hash_id == REFTABLE_HASH_SHA256;

	ck_assert_msg(reftable_table_min_update_index(t) == min, "%s", ctx);
	ck_assert_msg(reftable_table_max_update_index(t) == max, "%s", ctx);
	ck_assert_msg(reftable_table_hash(t) ==
			      (sha256 ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1),
		      "%s: hash", ctx);
	ck_assert_msg(reftable_table_version(t) == (sha256 ? 2 : 1),
		      "%s: version", ctx);
	ck_assert_msg(reftable_table_block_size(t) ==
			      (o->block_size ? o->block_size : 4096),
		      "%s: block size %u", ctx,
		      (unsigned)reftable_table_block_size(t));
	ck_assert_msg(reftable_table_size(t) == len, "%s: size", ctx);
}

/* Write the model, read it back from memory and from a file, verify. */
static inline void roundtrip(const struct reftable_write_options *o,
			     uint64_t min, uint64_t max,
			     const struct tl_refs *refs,
			     const struct tl_logs *logs, size_t stride,
			     struct reftable_write_stats *stats_out,
			     const char *ctx)
{
	struct tl_sink sink = TL_SINK_INIT;
	struct reftable_write_stats stats;
	struct reftable_table *t;
	struct tl_source src;
	size_t hs = tl_hash_size(o->hash_id);
	char *dir, *path;
	char msg[256];
	uint8_t *copy;
	int err;

	err = tl_write_table(&sink, o, min, max, refs, logs, &stats);
	ck_assert_msg(err == 0, "%s: write: %s (%s)", ctx,
		      reftable_error_str(err), reftable_error_detail());
	ck_assert_msg(stats.ref.entries == refs->n, "%s: ref entries", ctx);
	ck_assert_msg(stats.log.entries == logs->n, "%s: log entries", ctx);
	if (stats_out)
		*stats_out = stats;

	/* An exactly-sized copy, so overreads hit the sanitizer. */
	copy = malloc(sink.len ? sink.len : 1);
	ck_assert(copy != NULL);
	memcpy(copy, sink.data, sink.len);
	t = tl_open_buffer(copy, sink.len, "mem.ref");
	check_meta(t, o, min, max, sink.len, ctx);
	snprintf(msg, sizeof(msg), "%s (buffer)", ctx);
	tl_source_table(&src, t);
	tl_verify(&src, refs, logs, hs, stride, msg);
	reftable_table_decref(t);
	free(copy);

	/* The same bytes through a file. */
	dir = tl_tmpdir();
	path = tl_path(dir, "0x000000000001-0x000000000002-00000000.ref");
	tl_write_file(path, sink.data, sink.len);
	t = NULL;
	err = reftable_table_open(&t, path);
	ck_assert_msg(err == 0, "%s: open %s: %s (%s)", ctx, path,
		      reftable_error_str(err), reftable_error_detail());
	ck_assert_str_eq(reftable_table_name(t),
			 "0x000000000001-0x000000000002-00000000.ref");
	check_meta(t, o, min, max, sink.len, ctx);
	snprintf(msg, sizeof(msg), "%s (file)", ctx);
	tl_source_table(&src, t);
	tl_verify(&src, refs, logs, hs, stride * 4, msg);
	reftable_table_decref(t);
	free(path);
	tl_rmtree(dir);
	tl_sink_release(&sink);
}

#endif
