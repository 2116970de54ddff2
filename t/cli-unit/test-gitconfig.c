/*
 * The tool's reader of Git's configuration (cli/gitconfig.c) and its glob
 * matcher (cli/wildmatch.c). Each expectation is what Git 2.55 reads from
 * the same text (checked against `git config` by t/cli/test-gitconfig.sh
 * where Git is present).
 */

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gitconfig.h"

static struct git_config *parse(const char *text)
{
	return git_config_parse_text(text, strlen(text), "t.config");
}

static void expect(const struct git_config *cfg, const char *key,
		   const char *want)
{
	const char *got = git_config_get(cfg, key);

	if (!want)
		ck_assert_msg(!got, "%s: want unset, got '%s'", key, got);
	else
		ck_assert_msg(got && !strcmp(got, want),
			      "%s: want '%s', got '%s'", key, want,
			      got ? got : "(unset)");
}

static void expect_error(const char *text, const char *want)
{
	struct git_config *cfg = parse(text);
	const char *got = git_config_error(cfg);

	ck_assert_msg(got && !strcmp(got, want), "'%s': want error '%s', "
		      "got '%s'", text, want, got ? got : "(none)");
	git_config_free(cfg);
}

START_TEST(values_are_read_as_git_reads_them)
{
	struct git_config *cfg = parse(
		"# comment\n"
		"; another\n"
		"[core]\n"
		"\tbare = false ; trailing comment\n"
		"\tPlain=  two  words  \n"
		"\tquoted = \" keep  spaces \" # c\n"
		"\tescapes = a\\tb\\\\c\\\"d\\ne\\bf\n"
		"\tjoined = one \\\n"
		"two\n"
		"\thash = \"a#b;c\"\n"
		"\tnovalue\n"
		"\tempty =\n"
		"[core]\tlast = x\n"
		"[Section \"Sub.Dot\"] key = 1\n"
		"[old.Legacy]\n"
		"\tkey = 2\n"
		"[crlf]\r\n"
		"\tkey = v\r\n");

	ck_assert_msg(!git_config_error(cfg), "%s", git_config_error(cfg));
	expect(cfg, "core.bare", "false");
	expect(cfg, "CORE.PLAIN", "two  words");
	expect(cfg, "core.quoted", " keep  spaces ");
	expect(cfg, "core.escapes", "a\tb\\c\"d\ne\bf");
	expect(cfg, "core.joined", "one two");
	expect(cfg, "core.hash", "a#b;c");
	expect(cfg, "core.novalue", "true");
	expect(cfg, "core.empty", "");
	expect(cfg, "core.last", "x");
	expect(cfg, "section.Sub.Dot.key", "1");
	expect(cfg, "SECTION.Sub.Dot.KEY", "1");
	expect(cfg, "section.sub.dot.key", NULL); /* subsection exact */
	expect(cfg, "old.legacy.key", "2");        /* [old.Legacy]: lower */
	expect(cfg, "old.Legacy.key", NULL);
	expect(cfg, "crlf.key", "v");
	expect(cfg, "core.missing", NULL);
	git_config_free(cfg);
}
END_TEST

START_TEST(the_last_value_wins)
{
	struct git_config *cfg = parse("[a]\nk = 1\n[b]\nk = 2\n[a]\nK = 3\n");

	expect(cfg, "a.k", "3");
	expect(cfg, "b.k", "2");
	git_config_free(cfg);
}
END_TEST

START_TEST(a_key_before_any_section_has_none)
{
	struct git_config *cfg = parse("K = 1\n[a]\nk = 2\n");

	ck_assert(!git_config_error(cfg));
	expect(cfg, "k", "1");
	expect(cfg, "a.k", "2");
	git_config_free(cfg);
}
END_TEST

START_TEST(byte_order_mark_is_skipped)
{
	struct git_config *cfg = parse("\xef\xbb\xbf[a]\nk = 1\n");

	ck_assert(!git_config_error(cfg));
	expect(cfg, "a.k", "1");
	git_config_free(cfg);
}
END_TEST

START_TEST(bad_lines_give_git_s_message)
{
	expect_error("[core]\n\tbad line\n", "bad config line 2 in file t.config");
	expect_error("[core\nx = 1\n", "bad config line 1 in file t.config");
	expect_error("[a]\nk = \"open\n", "bad config line 2 in file t.config");
	expect_error("[a]\nk = \\q\n", "bad config line 2 in file t.config");
	expect_error("[a]\n1k = 1\n", "bad config line 2 in file t.config");
	expect_error("[a \"sub]\n", "bad config line 1 in file t.config");
	expect_error("[a \"s\" ]\n", "bad config line 1 in file t.config");
	expect_error("[]\n", "bad config line 1 in file t.config");
	expect_error("[a]\nk ; c\n", "bad config line 2 in file t.config");
}
END_TEST

START_TEST(booleans)
{
	struct git_config *cfg = parse(
		"[b]\nt1 = yes\nt2 = On\nt3 = TRUE\nt4 = 1\nt5 = 7\nt6\n"
		"f1 = no\nf2 = off\nf3 = False\nf4 = 0\nf5 =\n"
		"bad = maybe\n");
	const char *t[] = { "b.t1", "b.t2", "b.t3", "b.t4", "b.t5", "b.t6" };
	const char *f[] = { "b.f1", "b.f2", "b.f3", "b.f4", "b.f5" };
	int v;

	for (size_t i = 0; i < 6; i++) {
		v = -1;
		ck_assert_int_eq(git_config_get_bool(cfg, t[i], &v), 0);
		ck_assert_msg(v == 1, "%s not true", t[i]);
	}
	for (size_t i = 0; i < 5; i++) {
		v = -1;
		ck_assert_int_eq(git_config_get_bool(cfg, f[i], &v), 0);
		ck_assert_msg(v == 0, "%s not false", f[i]);
	}
	ck_assert_int_eq(git_config_get_bool(cfg, "b.bad", &v), -1);
	ck_assert_int_eq(git_config_get_bool(cfg, "b.none", &v), 1);
	git_config_free(cfg);
}
END_TEST

START_TEST(integers_with_units)
{
	struct git_config *cfg = parse(
		"[n]\na = 4096\nb = 1k\nc = 2M\nd = 1g\ne = 0x10\nf = 010\n"
		"g = 12x\nh = -1\ni = \nj = 99999999999999999999\n"
		"k = 17g\n");
	uint64_t u;
	int64_t s;
	char *msg;

	ck_assert_int_eq(git_config_get_ulong(cfg, "n.a", UINT64_MAX, &u), 0);
	ck_assert_uint_eq(u, 4096);
	ck_assert_int_eq(git_config_get_ulong(cfg, "n.b", UINT64_MAX, &u), 0);
	ck_assert_uint_eq(u, 1024);
	ck_assert_int_eq(git_config_get_ulong(cfg, "n.c", UINT64_MAX, &u), 0);
	ck_assert_uint_eq(u, 2 * 1024 * 1024);
	ck_assert_int_eq(git_config_get_ulong(cfg, "n.d", UINT64_MAX, &u), 0);
	ck_assert_uint_eq(u, 1024 * 1024 * 1024);
	ck_assert_int_eq(git_config_get_ulong(cfg, "n.e", UINT64_MAX, &u), 0);
	ck_assert_uint_eq(u, 16);
	ck_assert_int_eq(git_config_get_ulong(cfg, "n.f", UINT64_MAX, &u), 0);
	ck_assert_uint_eq(u, 8);
	ck_assert_int_eq(git_config_get_ulong(cfg, "n.g", UINT64_MAX, &u), -1);
	msg = git_config_bad_number(cfg, "n.g");
	ck_assert_str_eq(msg, "bad numeric config value '12x' for 'n.g' in "
			      "file t.config: invalid unit");
	free(msg);
	/* unsigned refuses a '-', signed takes it */
	ck_assert_int_eq(git_config_get_ulong(cfg, "n.h", UINT64_MAX, &u), -1);
	ck_assert_int_eq(git_config_get_int64(cfg, "n.h", INT64_MAX, &s), 0);
	ck_assert_int_eq(s, -1);
	ck_assert_int_eq(git_config_get_ulong(cfg, "n.i", UINT64_MAX, &u), -1);
	ck_assert_int_eq(git_config_get_ulong(cfg, "n.j", UINT64_MAX, &u), -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_int_eq(git_config_get_int64(cfg, "n.k", INT32_MAX, &s), -1);
	msg = git_config_bad_number(cfg, "n.k");
	ck_assert_str_eq(msg, "bad numeric config value '17g' for 'n.k' in "
			      "file t.config: out of range");
	free(msg);
	ck_assert_int_eq(git_config_get_ulong(cfg, "n.none", 1, &u), 1);
	git_config_free(cfg);
}
END_TEST

START_TEST(globs_match_as_git_s_wildmatch)
{
	static const struct {
		const char *pat, *text;
		int icase, want;
	} cases[] = {
		{ "refs/heads/*", "refs/heads/main", 0, 1 },
		{ "refs/heads/*", "refs/heads/a/b", 0, 0 },
		{ "refs/**", "refs/heads/a/b", 0, 1 },
		{ "**/main", "refs/heads/main", 0, 1 },
		{ "**/main", "main", 0, 1 },
		{ "refs/**/main", "refs/main", 0, 1 },
		{ "refs/**/main", "refs/heads/x/main", 0, 1 },
		{ "refs/**/v*", "refs/tags/v1", 0, 1 },
		{ "refs/h**s/x", "refs/heads/x", 0, 1 }, /* ** inside: as * */
		{ "refs/h**/x", "refs/he/ads/x", 0, 0 },
		{ "r?fs/*", "refs/a", 0, 1 },
		{ "refs?heads", "refs/heads", 0, 0 },
		{ "refs/[a-c]*", "refs/bob", 0, 1 },
		{ "refs/[!a-c]*", "refs/bob", 0, 0 },
		{ "refs/[[:digit:]]x", "refs/7x", 0, 1 },
		{ "refs/\\*", "refs/*", 0, 1 },
		{ "refs/\\*", "refs/a", 0, 0 },
		{ "REFS/HEADS/**", "refs/heads/m", 1, 1 },
		{ "REFS/HEADS/**", "refs/heads/m", 0, 0 },
		{ "/home/**", "/home/u/.git", 0, 1 },
		{ "**/work/**", "/home/u/work/r/.git", 0, 1 },
		{ "*", "", 0, 1 },
		{ "a*", "abc/d", 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		ck_assert_msg(wildmatch_path(cases[i].pat, cases[i].text,
					     cases[i].icase) == cases[i].want,
			      "'%s' on '%s' (icase %d): want %d", cases[i].pat,
			      cases[i].text, cases[i].icase, cases[i].want);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("gitconfig");
	TCase *tc = tcase_create("gitconfig");

	tcase_add_test(tc, values_are_read_as_git_reads_them);
	tcase_add_test(tc, the_last_value_wins);
	tcase_add_test(tc, a_key_before_any_section_has_none);
	tcase_add_test(tc, byte_order_mark_is_skipped);
	tcase_add_test(tc, bad_lines_give_git_s_message);
	tcase_add_test(tc, booleans);
	tcase_add_test(tc, integers_with_units);
	tcase_add_test(tc, globs_match_as_git_s_wildmatch);
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
