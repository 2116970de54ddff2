/*
 * The format's integer encodings and the byte buffer (reftable/basics.h),
 * plus the small public helpers of reftable-record.h and reftable-error.h.
 *
 * The varint tests compare with an encoder written here from the format
 * description, so a wrong encoder in the library cannot agree with itself.
 */

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basics.h"
#include "testlib.h"

/* --- a reference varint encoder ------------------------------------ */

/*
 * Big-endian 7-bit groups; every group but the last has the high bit set
 * and stores its value minus one. Returns the length.
 */
static int ref_encode(uint8_t out[16], uint64_t v)
{
	uint8_t tmp[16];
	int n = 0, i;

	tmp[n++] = v & 0x7f;
	while (v >>= 7) {
		v--;
		tmp[n++] = 0x80 | (v & 0x7f);
	}
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* The smallest value whose encoding takes n bytes (n in 1..10). */
static uint64_t first_of_len(int n)
{
	uint64_t f = 0;
	int i;
	for (i = 1; i < n; i++)
		f = (f + 1) * 128;
	return f;
}

static void check_varint(uint64_t v)
{
	uint8_t want[16], got[VARINT_MAX_LEN + 6];
	int wn = ref_encode(want, v), gn;
	uint64_t back = 0;

	memset(got, 0xaa, sizeof(got));
	gn = put_varint(got, sizeof(got), v);
	ck_assert_msg(gn == wn, "put_varint(%llu) = %d bytes, want %d",
		      (unsigned long long)v, gn, wn);
	ck_assert_msg(!memcmp(got, want, (size_t)wn),
		      "put_varint(%llu): wrong bytes", (unsigned long long)v);
	/* Nothing written past the encoding. */
	ck_assert_int_eq(got[wn], 0xaa);
	ck_assert_int_eq(varint_len(v), wn);

	ck_assert_int_eq(get_varint(&back, want, (size_t)wn), wn);
	ck_assert_msg(back == v, "get_varint: %llu, want %llu",
		      (unsigned long long)back, (unsigned long long)v);
	/* Trailing bytes are not consumed. */
	memcpy(got, want, (size_t)wn);
	got[wn] = 0x7f;
	ck_assert_int_eq(get_varint(&back, got, (size_t)wn + 1), wn);
	ck_assert(back == v);

	/* Too little room: refused, never a partial write past cap. */
	if (wn > 1) {
		memset(got, 0xaa, sizeof(got));
		ck_assert_int_eq(put_varint(got, (size_t)wn - 1, v), -1);
		ck_assert_int_eq(got[wn - 1], 0xaa);
	}
	/* Truncated input: every shorter prefix is refused. */
	for (gn = 0; gn < wn; gn++)
		ck_assert_msg(get_varint(&back, want, (size_t)gn) == -1,
			      "get_varint(%llu) accepted %d of %d bytes",
			      (unsigned long long)v, gn, wn);
}

START_TEST(varint_boundaries)
{
	static const uint64_t vals[] = {
		0, 1, 126, 127, 128, 129, 255, 256, 16511, 16512, 16513,
		2113663, 2113664, (uint64_t)1 << 32, ((uint64_t)1 << 63) - 1,
		(uint64_t)1 << 63, ((uint64_t)1 << 63) + 1, UINT64_MAX - 1,
		UINT64_MAX,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vals); i++)
		check_varint(vals[i]);
	ck_assert_int_eq(varint_len(0), 1);
	ck_assert_int_eq(varint_len(127), 1);
	ck_assert_int_eq(varint_len(128), 2);
	ck_assert_int_eq(varint_len(16511), 2);
	ck_assert_int_eq(varint_len(16512), 3);
	ck_assert_int_eq(varint_len(UINT64_MAX), VARINT_MAX_LEN);
}
END_TEST

/* Every length 1..10 at both of its ends. */
START_TEST(varint_every_length)
{
	int n;

	for (n = 1; n <= VARINT_MAX_LEN; n++) {
		uint64_t lo = first_of_len(n);
		ck_assert_int_eq(varint_len(lo), n);
		check_varint(lo);
		if (n > 1) {
			ck_assert_int_eq(varint_len(lo - 1), n - 1);
			check_varint(lo - 1);
		}
	}
}
END_TEST

START_TEST(varint_known_bytes)
{
	static const struct {
		uint64_t v;
		const char *hex;
	} cases[] = {
		{ 0, "00" },
		{ 127, "7f" },
		{ 128, "8000" },
		{ 16511, "ff7f" },
		{ 16512, "808000" },
		{ (uint64_t)1 << 63, "fefefefefefefeff00" },
		{ UINT64_MAX, "80fefefefefefefefe7f" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t got[VARINT_MAX_LEN];
		struct tl_str hex = TL_STR_INIT;
		int n = put_varint(got, sizeof(got), cases[i].v);

		ck_assert_int_gt(n, 0);
		tl_hex(&hex, got, (size_t)n);
		ck_assert_str_eq(tl_str_get(&hex), cases[i].hex);
		tl_str_release(&hex);
	}
}
END_TEST

START_TEST(varint_random)
{
	struct tl_rng r;
	int i;

	tl_rng_init(&r, 42);
	for (i = 0; i < 20000; i++) {
		/* Random magnitudes, so every length gets many values. */
		uint64_t v = tl_rng_next(&r) >> tl_rng_below(&r, 64);
		check_varint(v);
	}
}
END_TEST

START_TEST(varint_refuses_overflow)
{
	/* 2^64: one more than the largest value, in 10 bytes. */
	static const uint8_t two64[] = { 0x80, 0xfe, 0xfe, 0xfe, 0xfe,
					 0xfe, 0xfe, 0xfe, 0xff, 0x00 };
	/* The largest 10-byte pattern, far beyond 64 bits. */
	static const uint8_t big10[] = { 0xff, 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xff, 0xff, 0xff, 0x7f };
	/* 11 bytes: longer than any 64-bit value can need. */
	static const uint8_t eleven[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
					  0x80, 0x80, 0x80, 0x80, 0x00 };
	uint8_t endless[64];
	uint64_t v = 12345;

	ck_assert_int_eq(get_varint(&v, two64, sizeof(two64)), -1);
	ck_assert_int_eq(get_varint(&v, big10, sizeof(big10)), -1);
	ck_assert_int_eq(get_varint(&v, eleven, sizeof(eleven)), -1);
	/* Continuation bytes without end, with or without room. */
	memset(endless, 0x80, sizeof(endless));
	ck_assert_int_eq(get_varint(&v, endless, sizeof(endless)), -1);
	ck_assert_int_eq(get_varint(&v, endless, 1), -1);
	ck_assert_int_eq(get_varint(&v, endless, 0), -1);
	memset(endless, 0xff, sizeof(endless));
	ck_assert_int_eq(get_varint(&v, endless, sizeof(endless)), -1);
}
END_TEST

START_TEST(varint_no_overread)
{
	/* Exactly-sized heap buffers: the sanitizer build sees any overread. */
	uint8_t *p = malloc(1);
	uint64_t v;

	ck_assert_ptr_nonnull(p);
	p[0] = 0x80;
	ck_assert_int_eq(get_varint(&v, p, 1), -1);
	p[0] = 0x05;
	ck_assert_int_eq(get_varint(&v, p, 1), 1);
	ck_assert(v == 5);
	free(p);
}
END_TEST

/* --- big-endian --------------------------------------------------------- */

START_TEST(big_endian)
{
	uint8_t b[8];
	struct tl_rng r;
	int i;

	put_be16(b, 0x1234);
	ck_assert(b[0] == 0x12 && b[1] == 0x34);
	ck_assert_uint_eq(get_be16(b), 0x1234);
	put_be24(b, 0xabcdef);
	ck_assert(b[0] == 0xab && b[1] == 0xcd && b[2] == 0xef);
	ck_assert_uint_eq(get_be24(b), 0xabcdef);
	put_be32(b, 0xdeadbeef);
	ck_assert(b[0] == 0xde && b[3] == 0xef);
	ck_assert_uint_eq(get_be32(b), 0xdeadbeefu);
	put_be64(b, 0x0102030405060708ull);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(b[i], i + 1);
	ck_assert(get_be64(b) == 0x0102030405060708ull);

	/* Extremes: sign bits must not leak through promotions. */
	put_be16(b, 0xffff);
	ck_assert_uint_eq(get_be16(b), 0xffff);
	put_be24(b, 0xffffff);
	ck_assert_uint_eq(get_be24(b), 0xffffff);
	put_be32(b, 0xffffffffu);
	ck_assert_uint_eq(get_be32(b), 0xffffffffu);
	put_be64(b, UINT64_MAX);
	ck_assert(get_be64(b) == UINT64_MAX);

	tl_rng_init(&r, 7);
	for (i = 0; i < 1000; i++) {
		uint64_t v = tl_rng_next(&r);
		put_be64(b, v);
		ck_assert(get_be64(b) == v);
		put_be32(b, (uint32_t)v);
		ck_assert(get_be32(b) == (uint32_t)v);
		put_be24(b, (uint32_t)v & 0xffffff);
		ck_assert(get_be24(b) == ((uint32_t)v & 0xffffff));
		put_be16(b, (uint16_t)v);
		ck_assert(get_be16(b) == (uint16_t)v);
	}
}
END_TEST

/* --- struct buf ------------------------------------------------------- */

START_TEST(buf_basics)
{
	struct buf b = BUF_INIT;
	char *s;
	int i;

	ck_assert_int_eq(buf_addstr(&b, "hello"), 0);
	ck_assert_uint_eq(b.len, 5);
	ck_assert_str_eq((char *)b.data, "hello");
	ck_assert_int_eq(buf_addch(&b, ' '), 0);
	ck_assert_int_eq(buf_add(&b, "world!!", 5), 0);
	ck_assert_uint_eq(b.len, 11);
	ck_assert_str_eq((char *)b.data, "hello world");
	ck_assert(b.cap > b.len);

	ck_assert_int_eq(buf_setlen(&b, 5), 0);
	ck_assert_str_eq((char *)b.data, "hello");

	ck_assert_int_eq(buf_set(&b, "abc", 3), 0);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_str_eq((char *)b.data, "abc");

	/* Binary data, including NULs, is kept. */
	ck_assert_int_eq(buf_add(&b, "\0x", 2), 0);
	ck_assert_uint_eq(b.len, 5);
	ck_assert(!memcmp(b.data, "abc\0x", 6));

	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert(b.data == NULL || b.data[0] == 0);

	/* Growth over many appends keeps every byte. */
	for (i = 0; i < 10000; i++)
		ck_assert_int_eq(buf_addch(&b, (uint8_t)('a' + i % 26)), 0);
	ck_assert_uint_eq(b.len, 10000);
	for (i = 0; i < 10000; i++)
		ck_assert_int_eq(b.data[i], 'a' + i % 26);
	ck_assert_int_eq(b.data[10000], 0);

	ck_assert_int_eq(buf_grow(&b, 100000), 0);
	ck_assert(b.cap >= b.len + 100000);
	ck_assert_uint_eq(b.len, 10000);

	s = buf_detach(&b);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(strlen(s), 10000);
	ck_assert(b.data == NULL && b.len == 0);
	reftable_free(s);

	buf_release(&b);
	buf_release(&b); /* twice is harmless */
}
END_TEST

START_TEST(buf_detach_empty)
{
	struct buf b = BUF_INIT;
	char *s = buf_detach(&b);

	/* An empty buffer still gives a C string (or NULL, documented as a
	 * string: accept both, but it must be freeable). */
	if (s)
		ck_assert_str_eq(s, "");
	reftable_free(s);
	buf_release(&b);
}
END_TEST

/* --- public helpers --------------------------------------------------- */

/*
 * The short copies a scan makes of names: every length, a NUL at every
 * place or none. The copy must hold the first n bytes and report a NUL
 * among them, and only among them (the bytes past n, which copy_16 also
 * reads, belong to the record's value, where zeros are common).
 */
START_TEST(short_copies_find_nul)
{
	uint8_t src[48], dst[48];
	size_t n, nul;

	for (n = 0; n <= 40; n++) {
		for (nul = 0; nul <= sizeof(src); nul++) {
			int want = nul < n, got16 = -1, got;

			memset(src, 'a', sizeof(src));
			if (nul < sizeof(src))
				src[nul] = 0;
			memset(dst, 'z', sizeof(dst));
			got = copy_short(dst, src, n) != 0;
			TL_CHECK(got == want && !memcmp(dst, src, n),
				 "copy_short(%zu), NUL at %zu: %d", n, nul,
				 got);
			if (n > 16)
				continue;
			memset(dst, 'z', sizeof(dst));
			got16 = copy_16(dst, src, n) != 0;
			TL_CHECK(got16 == want && !memcmp(dst, src, n),
				 "copy_16(%zu), NUL at %zu: %d", n, nul, got16);
		}
	}
}
END_TEST

START_TEST(error_strings)
{
	int codes[] = {
		REFTABLE_IO_ERROR, REFTABLE_FORMAT_ERROR,
		REFTABLE_CHECKSUM_ERROR, REFTABLE_UNSUPPORTED_ERROR,
		REFTABLE_NOT_EXIST_ERROR, REFTABLE_LOCK_ERROR,
		REFTABLE_API_ERROR, REFTABLE_ZLIB_ERROR,
		REFTABLE_OUT_OF_ORDER_ERROR, REFTABLE_DUPLICATE_KEY_ERROR,
		REFTABLE_ENTRY_TOO_BIG_ERROR, REFTABLE_UPDATE_INDEX_ERROR,
		REFTABLE_REFNAME_ERROR, REFTABLE_NAME_CONFLICT_ERROR,
		REFTABLE_OUTDATED_ERROR, REFTABLE_CAS_ERROR,
		REFTABLE_SYMREF_ERROR, REFTABLE_NOMEM_ERROR,
		REFTABLE_RANGE_ERROR,
	};
	size_t i, j;

	ck_assert_ptr_nonnull(reftable_error_str(0));
	ck_assert_ptr_nonnull(reftable_error_str(-1000));
	for (i = 0; i < ARRAY_SIZE(codes); i++) {
		const char *s = reftable_error_str(codes[i]);
		ck_assert_ptr_nonnull(s);
		ck_assert_uint_gt(strlen(s), 0);
		/* Each code has its own message. */
		for (j = 0; j < i; j++)
			ck_assert_str_ne(s, reftable_error_str(codes[j]));
	}
	ck_assert_ptr_nonnull(reftable_error_detail());
	ck_assert_int_eq(reftable_fail(REFTABLE_FORMAT_ERROR, "detail %d", 42),
			 REFTABLE_FORMAT_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), "detail 42"));
}
END_TEST

START_TEST(hash_sizes)
{
	ck_assert_uint_eq(reftable_hash_size(REFTABLE_HASH_SHA1), 20);
	ck_assert_uint_eq(reftable_hash_size(REFTABLE_HASH_SHA256), 32);
	ck_assert_uint_eq(reftable_hash_size((enum reftable_hash)7), 0);
}
END_TEST

START_TEST(record_helpers)
{
	struct reftable_ref_record a = { 0 }, b = { 0 }, c = { 0 };
	struct reftable_log_record la = { 0 }, lb = { 0 };

	a.refname = "refs/heads/main";
	a.update_index = 3;
	a.value_type = REFTABLE_REF_VAL2;
	memset(a.value, 1, sizeof(a.value));
	memset(a.peeled, 2, sizeof(a.peeled));
	ck_assert_int_eq(reftable_ref_record_copy(&b, &a), 0);
	ck_assert_ptr_ne(b.refname, a.refname);
	ck_assert(reftable_ref_record_equal(&a, &b, 20));
	ck_assert_ptr_nonnull(reftable_ref_record_val1(&b));
	ck_assert_ptr_nonnull(reftable_ref_record_val2(&b));
	ck_assert_int_eq(reftable_ref_record_val2(&b)[0], 2);
	b.peeled[19] = 9;
	ck_assert(!reftable_ref_record_equal(&a, &b, 20));
	/* Bytes past hash_size are not compared. */
	b.peeled[19] = 2;
	b.peeled[25] = 9;
	ck_assert(reftable_ref_record_equal(&a, &b, 20));
	ck_assert(!reftable_ref_record_equal(&a, &b, 32));

	c.refname = "refs/heads/main2";
	c.value_type = REFTABLE_REF_SYMREF;
	c.target = "refs/heads/x";
	ck_assert_ptr_null(reftable_ref_record_val1(&c));
	ck_assert_ptr_null(reftable_ref_record_val2(&c));
	ck_assert_int_lt(reftable_ref_record_compare(&a, &c), 0);
	ck_assert_int_gt(reftable_ref_record_compare(&c, &a), 0);
	ck_assert_int_eq(reftable_ref_record_compare(&a, &b), 0);
	/* Copying into a library-owned record reuses it. */
	ck_assert_int_eq(reftable_ref_record_copy(&b, &c), 0);
	ck_assert_str_eq(b.target, "refs/heads/x");
	ck_assert(reftable_ref_record_equal(&b, &c, 20));
	reftable_ref_record_release(&b);
	ck_assert_ptr_null(b.refname);

	la.refname = "refs/heads/main";
	la.update_index = 5;
	la.value_type = REFTABLE_LOG_UPDATE;
	la.name = "A U Thor";
	la.email = "a@example.com";
	la.message = "msg\n";
	la.time = 1700000000;
	la.tz_offset = -530;
	ck_assert_int_eq(reftable_log_record_copy(&lb, &la), 0);
	ck_assert(reftable_log_record_equal(&la, &lb, 20));
	ck_assert_int_eq(reftable_log_record_compare(&la, &lb), 0);
	lb.update_index = 6;
	/* Newer entries sort first. */
	ck_assert_int_gt(reftable_log_record_compare(&la, &lb), 0);
	ck_assert(!reftable_log_record_equal(&la, &lb, 20));
	reftable_log_record_release(&lb);
}
END_TEST

static Suite *basics_suite(void)
{
	Suite *s = suite_create("basics");
	TCase *tc = tcase_create("varint");

	tcase_add_test(tc, varint_boundaries);
	tcase_add_test(tc, varint_every_length);
	tcase_add_test(tc, varint_known_bytes);
	tcase_add_test(tc, varint_random);
	tcase_add_test(tc, varint_refuses_overflow);
	tcase_add_test(tc, varint_no_overread);
	suite_add_tcase(s, tc);

	tc = tcase_create("encodings");
	tcase_add_test(tc, big_endian);
	tcase_add_test(tc, buf_basics);
	tcase_add_test(tc, buf_detach_empty);
	tcase_add_test(tc, short_copies_find_nul);
	suite_add_tcase(s, tc);

	tc = tcase_create("public helpers");
	tcase_add_test(tc, error_strings);
	tcase_add_test(tc, hash_sizes);
	tcase_add_test(tc, record_helpers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(basics_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
