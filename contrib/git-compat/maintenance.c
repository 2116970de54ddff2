/*
 * Whether a stack needs compacting, and Git's consistency check of a
 * stack (`git refs verify`), from what our stack has loaded.
 */

#include "compat.h" /* first: Git's headers set the feature macros */
#include <stdio.h>
#include <string.h>


/*
 * Our geometric rule (reftable/stack-compact.c), the one our additions
 * follow, so that "required" means what our auto-compaction would do.
 * It is internal to the library: declared here, linked from it.
 */
struct segment {
	size_t start, end;
	uint64_t bytes;
};
struct segment suggest_compaction_segment(const uint64_t *sizes, size_t n,
					  unsigned factor);

/* What Git and we leave out of a table's size: the footer, and the
 * header but one byte. */
static uint64_t size_overhead(enum lrt_reftable_hash hash)
{
	return hash == lrt_REFTABLE_HASH_SHA256 ? 72 + 28 - 1 : 68 + 24 - 1;
}

int reftable_stack_compaction_required(struct reftable_stack *st,
				       const struct reftable_write_options *opts,
				       bool use_heuristics, bool *required)
{
	struct lrt_reftable_merged *m;
	struct segment seg;
	uint64_t *sizes, overhead;
	size_t i, n;
	int err = compat_stack_configure(st, opts);

	if (err)
		return err;
	m = lrt_reftable_stack_merged(st->st);
	n = lrt_reftable_merged_table_count(m);
	*required = n > 1;
	if (n < 2 || !use_heuristics)
		return 0;
	sizes = compat_malloc(n * sizeof(*sizes));
	if (!sizes)
		return REFTABLE_OUT_OF_MEMORY_ERROR;
	overhead = size_overhead(lrt_reftable_stack_hash(st->st));
	for (i = 0; i < n; i++) {
		uint64_t sz = lrt_reftable_table_size(lrt_reftable_merged_table(m, i));

		sizes[i] = sz > overhead ? sz - overhead : 0;
	}
	seg = suggest_compaction_segment(sizes, n, st->opts.auto_compaction_factor);
	compat_free(sizes);
	*required = seg.end > seg.start;
	return 0;
}

static int is_hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* [0x]HEX: one or more hex digits after an optional 0x. */
static const char *skip_hex(const char *p)
{
	const char *start;

	if (p[0] == '0' && p[1] == 'x')
		p += 2;
	start = p;
	while (is_hex_digit(*p))
		p++;
	return p > start ? p : NULL;
}

/* MIN-MAX-RANDOM.ref (or .log), each part hexadecimal. */
static int table_name_is_valid(const char *name)
{
	const char *p = skip_hex(name);

	if (!p || *p++ != '-' || !(p = skip_hex(p)) || *p++ != '-' ||
	    !(p = skip_hex(p)))
		return 0;
	return !strcmp(p, ".ref") || !strcmp(p, ".log");
}

int reftable_fsck_check(struct reftable_stack *stack,
			reftable_fsck_report_fn report_fn,
			reftable_fsck_verbose_fn verbose_fn, void *cb_data)
{
	struct lrt_reftable_merged *m = lrt_reftable_stack_merged(stack->st);
	size_t i, n = lrt_reftable_merged_table_count(m);
	int err = 0;

	for (i = 0; i < n; i++) {
		const char *name =
			lrt_reftable_table_name(lrt_reftable_merged_table(m, i));
		char line[512];

		snprintf(line, sizeof(line), "Checking table: %s", name);
		verbose_fn(line, cb_data);
		if (!table_name_is_valid(name)) {
			/* Git's message, which its tests compare. */
			struct reftable_fsck_info info = {
				.error = REFTABLE_FSCK_ERROR_TABLE_NAME,
				.msg = "invalid reftable table name",
				.path = name,
			};

			err |= report_fn(&info, cb_data);
		}
	}
	return err;
}
