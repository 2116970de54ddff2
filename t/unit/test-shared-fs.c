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

/*
 * A cache that still leads the name tables.list to the list another host
 * replaced, even for the holder of the lock: the base it reads misses the
 * other host's table. Publishing on it would drop that table; the
 * cross-check sees an unlisted table newer than the base, reads the list
 * afresh through a new name, and refuses.
 */
START_TEST(stale_list_under_the_lock_is_refused)
{
	char *dir = tl_tmpdir(), *cache = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st, *other, *fresh;
	char stale[4096];
	struct hook_fs h;

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&other, dir, &o));
	CHECK_OK(test_add_ref(other, "refs/heads/base", 1, 0));
	hook_fs_init(&h);
	h.no_exchange = 1; /* as NFS: the swap would catch it too */
	o.fs = &h.fs;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	snprintf(stale, sizeof(stale), "%s/tables.list", cache);
	test_copy_dir(dir, cache);
	CHECK_OK(test_add_ref(other, "refs/heads/from-a", 2, 0));

	h.stale_list = stale;
	ck_assert_int_eq(test_add_ref(st, "refs/heads/from-b", 3,
				      REFTABLE_ADDITION_RELOAD),
			 REFTABLE_OUTDATED_ERROR);
	ck_assert_msg(strstr(reftable_error_detail(), "not the current list"),
		      "%s", reftable_error_detail());
	h.stale_list = NULL;

	o.fs = NULL;
	CHECK_OK(reftable_stack_new(&fresh, dir, &o));
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/base"), 1);
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/from-a"), 2);
	ck_assert_int_eq(test_ref_fill(fresh, "refs/heads/from-b"), -1);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(fresh);
	reftable_stack_destroy(st);
	reftable_stack_destroy(other);
	tl_rmtree(cache);
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
	tcase_add_test(tc, stale_list_under_the_lock_is_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
