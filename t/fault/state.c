/* The state a stack holds, as text: what "old" and "new" are compared by. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "testlib.h"

static int dump_refs(struct reftable_stack *st, struct tl_str *out,
		     size_t hs)
{
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record ref = { 0 };
	int err = reftable_stack_init_ref_iterator(st, &it);

	if (!err)
		err = reftable_iterator_seek_ref(&it, "");
	while (!err && (err = reftable_iterator_next_ref(&it, &ref)) == 0) {
		tl_format_ref(out, &ref, hs);
		tl_str_add(out, "\n");
	}
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&ref);
	return err < 0 ? err : 0;
}

static int dump_logs(struct reftable_stack *st, struct tl_str *out,
		     size_t hs)
{
	struct reftable_iterator it = { 0 };
	struct reftable_log_record log = { 0 };
	int err = reftable_stack_init_log_iterator(st, &it);

	if (!err)
		err = reftable_iterator_seek_log(&it, "");
	while (!err && (err = reftable_iterator_next_log(&it, &log)) == 0) {
		tl_format_log(out, &log, hs);
		tl_str_add(out, "\n");
	}
	reftable_iterator_destroy(&it);
	reftable_log_record_release(&log);
	return err < 0 ? err : 0;
}

/* The records only, in the format of git-reftable-records; NULL if the
 * tables cannot be read through. */
static char *records_of(struct reftable_stack *st)
{
	struct tl_str out = TL_STR_INIT;
	size_t hs = tl_hash_size(reftable_stack_hash(st));

	if (dump_refs(st, &out, hs) < 0 || dump_logs(st, &out, hs) < 0) {
		tl_str_release(&out);
		return NULL;
	}
	tl_str_add(&out, "");
	return out.s;
}

char *state_of_stack(struct reftable_stack *st, int structural)
{
	char *recs = records_of(st);
	struct tl_str out = TL_STR_INIT;

	if (!recs)
		return NULL;
	if (structural)
		tl_str_addf(&out, "tables %zu\n",
			    reftable_merged_table_count(reftable_stack_merged(st)));
	tl_str_add(&out, recs);
	free(recs);
	return out.s;
}

char *state_of_dir(const char *dir, int structural, char **why)
{
	struct reftable_stack_options o;
	struct reftable_stack *st = NULL;
	char *s;
	int err;

	reftable_stack_options_init(&o);
	o.disable_fsync = 1;
	o.disable_auto_compact = 1;
	err = reftable_stack_new(&st, dir, &o);
	if (err) {
		if (why)
			*why = strdup(reftable_error_detail());
		return NULL;
	}
	s = state_of_stack(st, structural);
	if (!s && why)
		*why = strdup(reftable_error_detail());
	reftable_stack_destroy(st);
	return s;
}

/* Drop the update index: the third field of a record line. */
static void add_without_index(struct tl_str *out, const char *line, size_t n)
{
	const char *sp1 = memchr(line, ' ', n);
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line)) : NULL;
	const char *sp3 = sp2 ? memchr(sp2 + 1, ' ', n - (size_t)(sp2 + 1 - line)) : NULL;

	if (!sp3) {
		tl_str_addn(out, line, n);
		return;
	}
	tl_str_addn(out, line, (size_t)(sp2 - line));
	tl_str_addn(out, sp3, n - (size_t)(sp3 - line));
}

char *state_without(const char *state, const char *ref)
{
	struct tl_str out = TL_STR_INIT;
	size_t rlen = strlen(ref);
	const char *p = state;

	tl_str_add(&out, "");
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
		const char *sp = memchr(p, ' ', n);

		/* Another writer's table changes the count too. */
		if (strncmp(p, "tables ", 7) &&
		    !(sp && !strncmp(sp + 1, ref, rlen) && sp[1 + rlen] == ' '))
			add_without_index(&out, p, n);
		p += n;
	}
	return out.s;
}
