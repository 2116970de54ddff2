/*
 * What shared filesystems (NFS, SMB, FUSE) do to tables.list, staged
 * through the filesystem hooks: t/fs runs the same through real FUSE
 * mounts where it can mount them.
 */
#include <check.h>
#include <stdio.h>

#include "test-stack-helpers.h"

/* Opens of tables.list seen, and at which ones the list is moved aside
 * (as libfuse and NFS hide a busy rename target) and put back. */
struct hide {
	int opens, hide_at, back_at;
	char list[4096], aside[4096];
};

static void hide_before_open(struct hook_fs *h, const char *path, int flags)
{
	struct hide *x = h->data;

	if (!has_end(path, "/tables.list"))
		return;
	x->opens++;
	if (x->opens == x->hide_at)
		ck_assert_int_eq(rename(x->list, x->aside), 0);
	if (x->opens == x->back_at)
		ck_assert_int_eq(rename(x->aside, x->list), 0);
}

/*
 * Another host replaces tables.list with a rename whose target it first
 * moves aside; a reload that opens the list in between finds no file. A
 * handle that had loaded tables must read the list again, not take the
 * missing list for an empty stack and lose every ref.
 */
START_TEST(reload_in_the_hidden_window_keeps_the_refs)
{
	int content = _i;
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st, *other;
	struct hook_fs h;
	struct hide x = { 0 };

	hook_fs_init(&h);
	h.before_open = hide_before_open;
	h.data = &x;
	snprintf(x.list, sizeof(x.list), "%s/tables.list", dir);
	snprintf(x.aside, sizeof(x.aside), "%s/.fuse_hidden0000000100000001",
		 dir);
	o.disable_auto_compact = 1;
	o.force_content_reload = content;
	CHECK_OK(reftable_stack_new(&other, dir, &o));
	CHECK_OK(test_add_ref(other, "refs/heads/a", 1, 0));
	o.fs = &h.fs;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(other, "refs/heads/b", 2, 0));

	/* The content check opens the list once more than the stat check. */
	x.opens = 0;
	x.hide_at = 1;
	x.back_at = content ? 3 : 2;
	CHECK_OK(reftable_stack_reload(st));
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/b"), 2);
	ck_assert_int_ge(x.opens, x.back_at);

	reftable_stack_destroy(st);
	reftable_stack_destroy(other);
	tl_rmtree(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shared-fs");
	TCase *tc = tcase_create("shared-fs");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, reload_in_the_hidden_window_keeps_the_refs, 0,
			    2);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
