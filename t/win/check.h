/*
 * A stand-in for the part of Check (libcheck) the unit tests use, for the
 * Windows build: Check has no mingw-w64 package, and building it for
 * Wine would mean fetching and cross-building its autotools tree in CI.
 * The unit tests compile unchanged against this header (t/win is on the
 * include path before any system directory).
 *
 * Differences from Check: every test runs in the runner's process (as
 * with CK_FORK=no), a failed assertion ends its test with longjmp (so a
 * failing test may leak what it allocated), timeouts are not enforced,
 * and CK_RUN_CASE / CK_RUN_SUITE select what runs as with Check.
 */
#ifndef TWIN_CHECK_H
#define TWIN_CHECK_H

#include <stdint.h>
#include <string.h>

struct ck_test {
	const char *name;
	void (*fn)(int _i);
};

typedef struct ck_suite Suite;
typedef struct ck_tcase TCase;
typedef struct ck_runner SRunner;
typedef void (*SFun)(void);

enum print_output { CK_SILENT, CK_MINIMAL, CK_NORMAL, CK_VERBOSE, CK_ENV };

#define START_TEST(n)                                                   \
	static void n##_fn(int _i);                                     \
	static const struct ck_test n##_def = { #n, n##_fn };           \
	static const struct ck_test *const n = &n##_def;                \
	static void n##_fn(int _i)
#define END_TEST

Suite *suite_create(const char *name);
TCase *tcase_create(const char *name);
void suite_add_tcase(Suite *s, TCase *tc);
void tcase_add_test(TCase *tc, const struct ck_test *t);
void tcase_add_loop_test(TCase *tc, const struct ck_test *t, int start,
			 int end);
void tcase_add_checked_fixture(TCase *tc, SFun setup, SFun teardown);
void tcase_set_timeout(TCase *tc, double seconds);
SRunner *srunner_create(Suite *s);
void srunner_add_suite(SRunner *sr, Suite *s);
void srunner_run_all(SRunner *sr, enum print_output mode);
int srunner_ntests_failed(SRunner *sr);
void srunner_free(SRunner *sr);

/* Ends the running test as failed; the message says where and why. */
_Noreturn void ck_fail_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(gnu_printf, 3, 4)));

#define ck_abort_msg(...) ck_fail_at(__FILE__, __LINE__, __VA_ARGS__)
#define ck_assert_msg(cond, ...)                                        \
	do {                                                            \
		if (!(cond))                                            \
			ck_fail_at(__FILE__, __LINE__, __VA_ARGS__);     \
	} while (0)
#define ck_assert(cond) \
	ck_assert_msg(cond, "Assertion '%s' failed", #cond)

#define CK_CMP_(T, fmt, a, op, b)                                           \
	do {                                                                \
		T ck_a_ = (a), ck_b_ = (b);                                 \
		if (!(ck_a_ op ck_b_))                                      \
			ck_fail_at(__FILE__, __LINE__,                      \
				   "Assertion '%s " #op " %s' failed: %s == " \
				   fmt ", %s == " fmt, #a, #b, #a, ck_a_,   \
				   #b, ck_b_);                              \
	} while (0)
#define ck_assert_int_eq(a, b) CK_CMP_(intmax_t, "%jd", a, ==, b)
#define ck_assert_int_ne(a, b) CK_CMP_(intmax_t, "%jd", a, !=, b)
#define ck_assert_int_lt(a, b) CK_CMP_(intmax_t, "%jd", a, <, b)
#define ck_assert_int_le(a, b) CK_CMP_(intmax_t, "%jd", a, <=, b)
#define ck_assert_int_gt(a, b) CK_CMP_(intmax_t, "%jd", a, >, b)
#define ck_assert_int_ge(a, b) CK_CMP_(intmax_t, "%jd", a, >=, b)
#define ck_assert_uint_eq(a, b) CK_CMP_(uintmax_t, "%ju", a, ==, b)
#define ck_assert_uint_ne(a, b) CK_CMP_(uintmax_t, "%ju", a, !=, b)
#define ck_assert_uint_lt(a, b) CK_CMP_(uintmax_t, "%ju", a, <, b)
#define ck_assert_uint_le(a, b) CK_CMP_(uintmax_t, "%ju", a, <=, b)
#define ck_assert_uint_gt(a, b) CK_CMP_(uintmax_t, "%ju", a, >, b)
#define ck_assert_uint_ge(a, b) CK_CMP_(uintmax_t, "%ju", a, >=, b)
#define ck_assert_ptr_eq(a, b) \
	ck_assert_msg((const void *)(a) == (const void *)(b), \
		      "Assertion '%s == %s' failed", #a, #b)
#define ck_assert_ptr_ne(a, b) \
	ck_assert_msg((const void *)(a) != (const void *)(b), \
		      "Assertion '%s != %s' failed", #a, #b)
#define ck_assert_ptr_null(a) ck_assert_ptr_eq(a, NULL)
#define ck_assert_ptr_nonnull(a) ck_assert_ptr_ne(a, NULL)

#define CK_STR_(a, op, b)                                                  \
	do {                                                               \
		const char *ck_a_ = (a), *ck_b_ = (b);                     \
		if (!ck_a_ || !ck_b_ || !(strcmp(ck_a_, ck_b_) op 0))      \
			ck_fail_at(__FILE__, __LINE__,                     \
				   "Assertion '%s " #op " %s' failed: "    \
				   "%s == \"%s\", %s == \"%s\"", #a, #b,   \
				   #a, ck_a_ ? ck_a_ : "(null)", #b,       \
				   ck_b_ ? ck_b_ : "(null)");              \
	} while (0)
#define ck_assert_str_eq(a, b) CK_STR_(a, ==, b)
#define ck_assert_str_ne(a, b) CK_STR_(a, !=, b)
#define ck_assert_mem_eq(a, b, n) \
	ck_assert_msg(!memcmp((a), (b), (n)), \
		      "Assertion 'memcmp(%s, %s, %s) == 0' failed", #a, #b, #n)

#endif
