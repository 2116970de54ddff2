/*
 * Reading and writing tables.list: a list read and written back keeps
 * every name byte for byte, and a name ending in a carriage return is
 * refused rather than renamed.
 */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "reftable-error.h"
#include "reftable-stack.h"
#include "reftable-writer.h"
#include "stack-internal.h"
#include "testlib.h"

/* The list, parsed and formatted again, is the same bytes. */
static void check_round_trip(const char *list)
{
	struct buf out = BUF_INIT;
	char **names = NULL;
	size_t n = 0;

	ck_assert_int_eq(names_parse(&names, &n, list, strlen(list), "x"), 0);
	ck_assert_int_eq(names_format(&out, names, n), 0);
	ck_assert_uint_eq(out.len, strlen(list));
	ck_assert_msg(!out.len || !memcmp(out.data, list, out.len),
		      "'%s' came back as '%.*s'", list, (int)out.len,
		      (const char *)out.data);
	buf_release(&out);
	names_free(names, n);
}

START_TEST(list_round_trips)
{
	check_round_trip("");
	check_round_trip("a.ref\n");
	check_round_trip("0x000000000001-0x000000000001-0a1b2c3d.ref\nb.ref\n");
	/* A carriage return inside a name is part of it, as in Git. */
	check_round_trip("a\rb.ref\nc.ref\n");
}
END_TEST

/* names_parse refuses list, naming path and the line. */
static void check_refused(const char *list, const char *line,
			  const char *why)
{
	char **names = NULL;
	size_t n = 0;

	ck_assert_int_eq(names_parse(&names, &n, list, strlen(list),
				     "d/tables.list"),
			 REFTABLE_FORMAT_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), "d/tables.list"));
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), line));
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), why));
}

/* What a lock of ours holds, renamed over the list by a writer that
 * renames its lock by path (Git) after someone removed its lock and we
 * took it: not read as a table name, and said what it is. */
START_TEST(list_refuses_a_lock_owner_line)
{
	check_refused("reftable-lock v1 pid=12 start=34 boot=x ns=y host=z\n",
		      "line 1", "the owner line of a lock");
	check_refused("a.ref\nreftable-lock v1 pid=1\n", "line 2", "lock");
}
END_TEST

START_TEST(list_refuses_trailing_cr)
{
	check_refused("a.ref\r\n", "line 1", "carriage return");
	check_refused("a.ref\nb.ref\r\n", "line 2", "carriage return");
	/* Empty lines count. */
	check_refused("a.ref\n\nb.ref\r", "line 3", "carriage return");
}
END_TEST

static int write_one_ref(struct reftable_writer *w, void *arg)
{
	struct reftable_ref_record ref = { 0 };

	ref.refname = (char *)"refs/heads/main";
	ref.update_index = reftable_stack_next_update_index(arg);
	ref.value_type = REFTABLE_REF_VAL1;
	memset(ref.value, 1, sizeof(ref.value));
	return reftable_writer_add_ref(w, &ref);
}

/* A stack whose list has CRLF line endings does not open, and opening
 * it changes no file. */
START_TEST(stack_refuses_crlf_list)
{
	char *dir = tl_tmpdir(), *list = tl_path(dir, "tables.list");
	struct reftable_stack *st = NULL;
	uint8_t *before, *after;
	size_t len, len2;

	ck_assert_int_eq(reftable_stack_new(&st, dir, NULL), 0);
	ck_assert_int_eq(reftable_stack_add(st, write_one_ref, st, 0), 0);
	reftable_stack_destroy(st);
	st = NULL;

	before = tl_read_file(list, &len);
	ck_assert_ptr_nonnull(before);
	ck_assert_uint_gt(len, 1);
	before = realloc(before, len + 2);
	ck_assert_ptr_nonnull(before);
	memcpy(before + len - 1, "\r\n", 2);
	tl_write_file(list, before, len + 1);

	ck_assert_int_eq(reftable_stack_new(&st, dir, NULL),
			 REFTABLE_FORMAT_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), "line 1"));
	after = tl_read_file(list, &len2);
	ck_assert_uint_eq(len2, len + 1);
	ck_assert(!memcmp(after, before, len2));
	free(before);
	free(after);
	free(list);
	tl_rmtree(dir);
}
END_TEST

static Suite *tables_list_suite(void)
{
	Suite *s = suite_create("tables.list");
	TCase *tc = tcase_create("names");

	tcase_add_test(tc, list_round_trips);
	tcase_add_test(tc, list_refuses_trailing_cr);
	tcase_add_test(tc, list_refuses_a_lock_owner_line);
	tcase_add_test(tc, stack_refuses_crlf_list);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tables_list_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
