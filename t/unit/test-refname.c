/* Ref-name rules: git check-ref-format, and what transactions may write. */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "reftable-error.h"
#include "reftable-refdb.h"

#define ONELEVEL REFTABLE_REFNAME_ALLOW_ONELEVEL
#define PATTERN REFTABLE_REFNAME_REFSPEC_PATTERN

static void valid(const char *name, unsigned flags)
{
	int err = reftable_refname_check_format(name, flags);
	ck_assert_msg(err == 0, "'%s' (flags %u) refused: %s", name, flags,
		      reftable_error_detail());
}

/* Refused, and the detail names the ref and contains why. */
static void invalid(const char *name, unsigned flags, const char *why)
{
	int err = reftable_refname_check_format(name, flags);
	ck_assert_msg(err == REFTABLE_REFNAME_ERROR,
		      "'%s' (flags %u) accepted", name, flags);
	ck_assert_msg(strstr(reftable_error_detail(), why) != NULL,
		      "'%s': detail \"%s\" lacks \"%s\"", name,
		      reftable_error_detail(), why);
}

START_TEST(well_formed_names)
{
	valid("refs/heads/main", 0);
	valid("heads/foo", 0);
	valid("foo/bar/baz", 0);
	valid("foo./bar", 0);         /* only the whole name may not end in "." */
	valid("heads/foo@bar", 0);
	valid("refs/heads/@", 0);     /* "@" alone is only refused as a name */
	valid("refs/heads/a@", 0);
	valid("refs/heads/{x}", 0);
	valid("refs/heads/a.b", 0);
	valid("refs/heads/a.lck", 0);
	valid("refs/heads/lock", 0);
	valid("refs/heads/\xc3\xa9t\xc3\xa9", 0); /* bytes >= 0x80 are fine */
	valid("refs/tags/v1.0-rc+1_x=y,z", 0);
	valid("HEAD", ONELEVEL);
	valid("foo", ONELEVEL);
}
END_TEST

START_TEST(every_rule_refuses)
{
	invalid("", 0, "is empty");
	invalid("@", ONELEVEL, "is \"@\"");
	invalid("foo", 0, "only one component");
	invalid("HEAD", 0, "only one component");
	invalid("heads/foo/", 0, "ends with \"/\"");
	invalid("/heads/foo", 0, "empty component");
	invalid("refs//heads/foo", 0, "empty component");
	invalid("refs///heads/foo", 0, "empty component");
	invalid("./foo", 0, "starting with \".\"");
	invalid(".refs/foo", 0, "starting with \".\"");
	invalid("refs/heads/.hidden", 0, "starting with \".\"");
	invalid("refs/heads/.", 0, "starting with \".\"");
	invalid("refs/heads/..", 0, "\"..\"");
	invalid("heads/foo..bar", 0, "\"..\"");
	invalid("heads/foo.lock", 0, "ending with \".lock\"");
	invalid("refs/heads/x.lock/y", 0, "ending with \".lock\"");
	invalid("refs/heads/.lock", 0, "starting with \".\"");
	invalid("heads/v@{ation", 0, "\"@{\"");
	invalid("refs/heads/@{", 0, "\"@{\"");
	invalid("refs/heads/a.", 0, "ends with \".\"");
	invalid("refs/heads/a\x01", 0, "control character");
	invalid("refs/heads/a\x1f", 0, "control character");
	invalid("refs/heads/a\x7f", 0, "control character");
	invalid("refs/heads/a\tb", 0, "control character");
	invalid("refs/heads/a b", 0, "space");
	invalid("refs/heads/a~1", 0, "space ~");
	invalid("refs/heads/a^", 0, "space ~");
	invalid("refs/heads/a:b", 0, "space ~");
	invalid("heads/foo?bar", 0, "space ~");
	invalid("refs/heads/[x", 0, "space ~");
	invalid("refs/heads/a\\b", 0, "space ~");
	invalid("refs/heads/*", 0, "\"*\"");
	ck_assert_int_eq(reftable_refname_check_format(NULL, 0),
			 REFTABLE_API_ERROR);
	/* The detail names the ref. */
	invalid("refs/heads/bad..name", 0, "refs/heads/bad..name");
}
END_TEST

START_TEST(refspec_patterns)
{
	valid("refs/heads/*", PATTERN);
	valid("refs/heads/a*b", PATTERN);
	valid("refs/*/main", PATTERN);
	invalid("refs/*/*", PATTERN, "\"*\"");
	invalid("refs/heads/**", PATTERN, "\"*\"");
	valid("*", PATTERN | ONELEVEL);
}
END_TEST

static void writable(const char *name, int allow_pseudo)
{
	int err = reftable_refname_check_writable(name, allow_pseudo);
	ck_assert_msg(err == 0, "'%s' not writable: %s", name,
		      reftable_error_detail());
}

static void not_writable(const char *name, int allow_pseudo, const char *why)
{
	int err = reftable_refname_check_writable(name, allow_pseudo);
	ck_assert_msg(err == REFTABLE_REFNAME_ERROR, "'%s' writable", name);
	ck_assert_msg(strstr(reftable_error_detail(), why) != NULL,
		      "'%s': detail \"%s\" lacks \"%s\"", name,
		      reftable_error_detail(), why);
}

START_TEST(what_transactions_write)
{
	writable("refs/heads/main", 0);
	writable("refs/x", 0);
	writable("HEAD", 0);
	writable("ORIG_HEAD", 0);
	writable("CHERRY_PICK_HEAD", 0);
	writable("AUTO_MERGE", 0);
	writable("BISECT-EXPECTED", 0);
	/* Git keeps these two as files and refuses to write them. */
	not_writable("FETCH_HEAD", 0, "pseudoref");
	not_writable("MERGE_HEAD", 0, "pseudoref");
	writable("FETCH_HEAD", 1);
	writable("MERGE_HEAD", 1);
	/* Git 2.55 writes one-level and outside-refs/ names with an id
	 * (`update foo ID`, `update foo/bar ID` both succeed). */
	writable("foo", 0);
	writable("Head", 0);
	writable("refs", 0);
	writable("foo/bar", 0);
	writable("HEAD/x", 0);
	not_writable("refs/heads/a..b", 0, "\"..\"");
	not_writable("refs/", 0, "ends with \"/\"");
	not_writable("@", 0, "is \"@\"");
	not_writable("", 0, "is empty");
}
END_TEST

static void safe(const char *name)
{
	ck_assert_msg(reftable_refname_check_safe(name, 0) == 0,
		      "'%s' not safe: %s", name, reftable_error_detail());
}

static void not_safe(const char *name)
{
	ck_assert_msg(reftable_refname_check_safe(name, 0) ==
			      REFTABLE_REFNAME_ERROR,
		      "'%s' safe", name);
}

/* Git 2.55 refuses `delete lower`, `verify lower ID` and `option
 * no-deref` + `symref-update lower2 refs/heads/master` ("refusing to
 * update ref with bad name") but deletes ORIG_HEAD and refs/x. */
START_TEST(what_transactions_delete)
{
	safe("refs/heads/main");
	safe("refs/x");
	safe("HEAD");
	safe("ORIG_HEAD");
	safe("refs/heads/a b"); /* the format check is separate */
	not_safe("lower");
	not_safe("foo/bar");
	not_safe("Foo-x");
	not_safe("BISECT-EXPECTED");
	not_safe("refs/");
	not_safe("refs/a//b");
	not_safe("refs/a/./b");
	not_safe("refs/a/../b");
	not_safe("refs/a/..");
	not_safe("");
	not_safe("FETCH_HEAD");
	ck_assert_int_eq(reftable_refname_check_safe("MERGE_HEAD", 1), 0);
}
END_TEST

START_TEST(root_ref_syntax)
{
	ck_assert(reftable_refname_is_root_ref("HEAD"));
	ck_assert(reftable_refname_is_root_ref("ORIG_HEAD"));
	ck_assert(reftable_refname_is_root_ref("A-B"));
	ck_assert(!reftable_refname_is_root_ref("head"));
	ck_assert(!reftable_refname_is_root_ref("refs/heads/x"));
	ck_assert(!reftable_refname_is_root_ref(""));
	ck_assert(!reftable_refname_is_root_ref(NULL));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("refname");
	TCase *tc = tcase_create("refname");

	tcase_add_test(tc, well_formed_names);
	tcase_add_test(tc, every_rule_refuses);
	tcase_add_test(tc, refspec_patterns);
	tcase_add_test(tc, what_transactions_write);
	tcase_add_test(tc, root_ref_syntax);
	tcase_add_test(tc, what_transactions_delete);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
