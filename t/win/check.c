/* The runner of t/win/check.h: see there. */

#include "check.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

struct ck_entry {
	const struct ck_test *test;
	int start, end; /* loop bounds: _i from start to end - 1 */
};

struct ck_tcase {
	const char *name;
	struct ck_entry *tests;
	size_t len;
	SFun setup, teardown;
	struct ck_tcase *next;
};

struct ck_suite {
	const char *name;
	struct ck_tcase *first, **last;
	struct ck_suite *next;
};

struct ck_runner {
	struct ck_suite *suites;
	int run, failed;
};

static jmp_buf failed_test;

static void *ck_alloc(size_t n)
{
	void *p = calloc(1, n);

	if (!p) {
		fputs("check stand-in: out of memory\n", stderr);
		exit(2);
	}
	return p;
}

Suite *suite_create(const char *name)
{
	Suite *s = ck_alloc(sizeof(*s));

	s->name = name;
	s->last = &s->first;
	return s;
}

TCase *tcase_create(const char *name)
{
	TCase *tc = ck_alloc(sizeof(*tc));

	tc->name = name;
	return tc;
}

void suite_add_tcase(Suite *s, TCase *tc)
{
	*s->last = tc;
	s->last = &tc->next;
}

void tcase_add_loop_test(TCase *tc, const struct ck_test *t, int start,
			 int end)
{
	struct ck_entry *e = realloc(tc->tests, (tc->len + 1) * sizeof(*e));

	if (!e) {
		fputs("check stand-in: out of memory\n", stderr);
		exit(2);
	}
	tc->tests = e;
	tc->tests[tc->len++] = (struct ck_entry){ t, start, end };
}

void tcase_add_test(TCase *tc, const struct ck_test *t)
{
	tcase_add_loop_test(tc, t, 0, 1);
}

void tcase_add_checked_fixture(TCase *tc, SFun setup, SFun teardown)
{
	tc->setup = setup;
	tc->teardown = teardown;
}

void tcase_set_timeout(TCase *tc, double seconds)
{
	(void)tc;
	(void)seconds;
}

SRunner *srunner_create(Suite *s)
{
	SRunner *sr = ck_alloc(sizeof(*sr));

	sr->suites = s;
	return sr;
}

void srunner_add_suite(SRunner *sr, Suite *s)
{
	Suite **p = &sr->suites;

	while (*p)
		p = &(*p)->next;
	*p = s;
}

_Noreturn void ck_fail_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	longjmp(failed_test, 1);
}

static int selected(const char *env, const char *name)
{
	const char *want = getenv(env);

	return !want || !*want || !strcmp(want, name);
}

/* Whether t is named in CK_EXCLUDE (comma-separated test names): the
 * tests that cannot run on this platform (t/win/units says why). */
static int excluded(const char *name)
{
	const char *list = getenv("CK_EXCLUDE");
	size_t n = strlen(name);

	while (list && *list) {
		size_t len = strcspn(list, ",");

		if (len == n && !strncmp(list, name, n))
			return 1;
		list += len + (list[len] == ',');
	}
	return 0;
}

/* One run of one test, with its fixture; 1 if it passed. */
static int run_one(const TCase *tc, const struct ck_test *t, int i)
{
	/* volatile: read after longjmp. */
	volatile int ok = 0;

	if (tc->setup)
		tc->setup();
	if (!setjmp(failed_test)) {
		t->fn(i);
		ok = 1;
	}
	if (tc->teardown)
		tc->teardown();
	if (!ok)
		fprintf(stderr, "FAIL: %s:%s iteration %d\n", tc->name,
			t->name, i);
	return ok;
}

void srunner_run_all(SRunner *sr, enum print_output mode)
{
	const Suite *s;

	for (s = sr->suites; s; s = s->next) {
		const TCase *tc;
		int run = 0, failed = 0, skipped = 0;

		if (!selected("CK_RUN_SUITE", s->name))
			continue;
		for (tc = s->first; tc; tc = tc->next) {
			size_t k;

			if (!selected("CK_RUN_CASE", tc->name))
				continue;
			for (k = 0; k < tc->len; k++) {
				const struct ck_entry *e = &tc->tests[k];
				int i;

				if (excluded(e->test->name)) {
					skipped += e->end - e->start;
					continue;
				}
				for (i = e->start; i < e->end; i++) {
					run++;
					failed += !run_one(tc, e->test, i);
				}
			}
		}
		if (mode != CK_SILENT)
			printf("%d%%: Checks: %d, Failures: %d, Skipped: %d "
			       "(%s)\n",
			       run ? 100 * (run - failed) / run : 100, run,
			       failed, skipped, s->name);
		sr->run += run;
		sr->failed += failed;
	}
	fflush(stdout);
}

int srunner_ntests_failed(SRunner *sr)
{
	return sr->failed;
}

void srunner_free(SRunner *sr)
{
	Suite *s = sr->suites;

	while (s) {
		Suite *ns = s->next;
		TCase *tc = s->first;

		while (tc) {
			TCase *nt = tc->next;

			free(tc->tests);
			free(tc);
			tc = nt;
		}
		free(s);
		s = ns;
	}
	free(sr);
}
