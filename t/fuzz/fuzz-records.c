/*
 * The records text format of `reftable write` from arbitrary bytes,
 * through the command's own reader (cli/records-input.c). Properties:
 * - input the reader accepts, formatted as `dump --records` formats it
 *   and read again, gives the same records and update-index range;
 * - whatever the writer accepts (default layout, then small blocks with
 *   short restart runs) reads back from the table as the same records
 *   in the same order, and dumps as the same text.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzz.h"

static struct cli quiet = { .cmd = "write", .quiet = 1 };

static int read_text(const void *data, size_t size, size_t hash_size,
		     struct records_input *in)
{
	FILE *f;
	int code;

	memset(in, 0, sizeof(*in));
	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "r");
	FUZZ_CHECK(f);
	code = records_read(&quiet, f, "fuzz", hash_size, in);
	fclose(f);
	return code;
}

static void format_input(const struct records_input *in, size_t hash_size,
			 struct sbuf *out)
{
	sbuf_addf(out, "table t %llu %llu\n", (unsigned long long)in->min_ui,
		  (unsigned long long)in->max_ui);
	for (size_t i = 0; i < in->n; i++) {
		if (in->lines[i].kind == LINE_REF)
			format_ref(out, &in->lines[i].ref, hash_size);
		else
			format_log(out, &in->lines[i].log, hash_size);
	}
}

static int line_equal(const struct text_line *a, const struct text_line *b,
		      size_t hash_size)
{
	if (a->kind != b->kind)
		return 0;
	return a->kind == LINE_REF ?
		       reftable_ref_record_equal(&a->ref, &b->ref, hash_size) :
		       reftable_log_record_equal(&a->log, &b->log, hash_size);
}

static void check_reparse(const struct records_input *in, size_t hash_size,
			  struct sbuf *text)
{
	struct records_input again;

	format_input(in, hash_size, text);
	FUZZ_CHECK(!read_text(text->buf, text->len, hash_size, &again));
	FUZZ_CHECK(again.n == in->n);
	FUZZ_CHECK(again.min_ui == in->min_ui && again.max_ui == in->max_ui);
	for (size_t i = 0; i < in->n; i++)
		FUZZ_CHECK(line_equal(&in->lines[i], &again.lines[i], hash_size));
	records_release(&again);
}

/* The table's records, dumped as `dump --records` dumps a table. */
static void dump_table(struct reftable_table *t, size_t hash_size,
		       struct sbuf *out)
{
	struct fuzz_records refs, logs;
	struct reftable_iterator it = { 0 };

	sbuf_addf(out, "table t %llu %llu\n",
		  (unsigned long long)reftable_table_min_update_index(t),
		  (unsigned long long)reftable_table_max_update_index(t));
	FUZZ_CHECK(!reftable_table_init_ref_iterator(t, &it));
	fuzz_read_refs(&it, SIZE_MAX, &refs);
	reftable_iterator_destroy(&it);
	FUZZ_CHECK(!reftable_table_init_log_iterator(t, &it));
	fuzz_read_logs(&it, SIZE_MAX, &logs);
	reftable_iterator_destroy(&it);
	FUZZ_CHECK(!refs.err && !logs.err);
	for (size_t i = 0; i < refs.n; i++)
		format_ref(out, &refs.refs[i], hash_size);
	for (size_t i = 0; i < logs.n; i++)
		format_log(out, &logs.logs[i], hash_size);
	fuzz_records_release(&refs);
	fuzz_records_release(&logs);
}

static void check_written(const struct records_input *in,
			  enum reftable_hash hash, uint32_t block_size,
			  uint16_t restarts, const struct sbuf *text)
{
	struct reftable_write_options o = { .block_size = block_size,
					    .restart_interval = restarts,
					    .hash_id = hash };
	size_t hash_size = reftable_hash_size(hash);
	struct fuzz_buf out = { 0 };
	struct reftable_table *t = NULL;
	struct sbuf dumped = SBUF_INIT;

	if (records_write(&quiet, "fuzz", in, fuzz_buf_write, &out, &o)) {
		free(out.data);
		return;
	}
	FUZZ_CHECK(!reftable_table_from_buffer(&t, out.data, out.len, "t"));
	dump_table(t, hash_size, &dumped);
	FUZZ_CHECK(dumped.len == text->len &&
		   !memcmp(dumped.buf, text->buf, text->len));
	reftable_table_decref(t);
	sbuf_release(&dumped);
	free(out.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum reftable_hash hash = REFTABLE_HASH_SHA1;
	struct records_input in;
	struct sbuf text = SBUF_INIT;

	/* Ids of 40 hex digits or, failing that, of 64. */
	if (read_text(data, size, REFTABLE_HASH_SIZE_SHA1, &in)) {
		records_release(&in);
		hash = REFTABLE_HASH_SHA256;
		if (read_text(data, size, REFTABLE_HASH_SIZE_SHA256, &in)) {
			records_release(&in);
			return 0;
		}
	}
	check_reparse(&in, reftable_hash_size(hash), &text);
	check_written(&in, hash, 0, 0, &text);
	check_written(&in, hash, 256, 2, &text);
	records_release(&in);
	sbuf_release(&text);
	return 0;
}
