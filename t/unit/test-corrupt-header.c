/* Damaged headers and footers, and files that are no table, are refused. */

#include "test-corrupt-helpers.h"

/* --- (c) targeted corruptions: header and footer ------------------------- */

START_TEST(bad_crc)
{
	struct victim v;
	victim_init(&v, _i ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1, 0);

	v.d[v.s.len - 1] ^= 1;
	EXPECT(&v, REFTABLE_CHECKSUM_ERROR, "CRC off by one bit");
	victim_reset(&v);
	/* A position changed without updating the CRC. */
	v.d[v.l.foot + v.l.hlen + 7] ^= 0x10;
	EXPECT(&v, REFTABLE_CHECKSUM_ERROR, "ref index position, old CRC");
	victim_reset(&v);
	v.d[v.l.foot + 10] ^= 0x01; /* min update index in the footer copy */
	{
		/* Both checks see it: either code is right. */
		int err = victim_try(&v, "footer header copy, old CRC");
		ck_assert_msg(err == REFTABLE_CHECKSUM_ERROR ||
				      err == REFTABLE_FORMAT_ERROR,
			      "footer's header copy changed: %d", err);
	}
	victim_free(&v);
}
END_TEST

START_TEST(bad_magic)
{
	struct victim v;
	victim_init(&v, _i ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1, 0);

	v.d[3] = 'X';
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "header magic REFX");
	victim_reset(&v);
	v.d[v.l.foot + 0] = 'r';
	fix_crc(v.d, v.s.len);
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "footer magic rEFT, CRC fixed");
	victim_reset(&v);
	memcpy(v.d, "GIT!", 4);
	memcpy(v.d + v.l.foot, "GIT!", 4);
	fix_crc(v.d, v.s.len);
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "both magics GIT!, CRC fixed");
	victim_free(&v);
}
END_TEST

START_TEST(unknown_version)
{
	static const uint8_t versions[] = { 0, 3, 4, 255 };
	struct victim v;
	size_t i;

	victim_init(&v, _i ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1, 0);
	for (i = 0; i < sizeof(versions); i++) {
		char what[64];

		victim_reset(&v);
		v.d[4] = versions[i];
		v.d[v.l.foot + 4] = versions[i];
		fix_crc(v.d, v.s.len);
		snprintf(what, sizeof(what), "version %d in both, CRC fixed",
			 versions[i]);
		EXPECT(&v, REFTABLE_UNSUPPORTED_ERROR, what);
	}
	victim_free(&v);
}
END_TEST

START_TEST(unknown_hash_id)
{
	struct victim v;

	victim_init(&v, REFTABLE_HASH_SHA256, 0);
	ck_assert(!memcmp(v.d + 24, "s256", 4));
	memcpy(v.d + 24, "xxxx", 4);
	memcpy(v.d + v.l.foot + 24, "xxxx", 4);
	fix_crc(v.d, v.s.len);
	EXPECT(&v, REFTABLE_UNSUPPORTED_ERROR, "hash id xxxx, CRC fixed");
	victim_reset(&v);
	memset(v.d + 24, 0, 4);
	memset(v.d + v.l.foot + 24, 0, 4);
	fix_crc(v.d, v.s.len);
	EXPECT(&v, REFTABLE_UNSUPPORTED_ERROR, "hash id 0, CRC fixed");
	victim_free(&v);
}
END_TEST

/* The header and the footer's copy of it disagree. */
START_TEST(header_footer_mismatch)
{
	struct victim v;
	victim_init(&v, REFTABLE_HASH_SHA1, 0);

	v.d[15] ^= 0x01; /* min update index */
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "min update indexes differ");
	victim_reset(&v);
	v.d[20] ^= 0x80; /* max update index */
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "max update indexes differ");
	victim_reset(&v);
	v.d[4] = 2; /* header says version 2, footer says 1 */
	{
		/* Read as version 2, block bytes are taken for a hash id. */
		int err = victim_try(&v, "header version 2, footer 1");
		ck_assert_msg(err == REFTABLE_FORMAT_ERROR ||
				      err == REFTABLE_UNSUPPORTED_ERROR,
			      "header version 2, footer 1: %d", err);
	}
	victim_reset(&v);
	v.d[7] ^= 0x40; /* block size */
	EXPECT(&v, REFTABLE_FORMAT_ERROR, "block sizes differ");
	victim_free(&v);
}
END_TEST

START_TEST(positions_past_end)
{
	static const int fields[] = { 0, 8, 16, 24, 32 };
	static const char *const names[] = { "ref index", "obj", "obj index",
					     "log", "log index" };
	struct victim v;
	size_t i;

	victim_init(&v, _i ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1, _i);
	for (i = 0; i < 5; i++) {
		uint8_t *p;
		char what[96];
		int k;

		/* Past the end, and inside the footer. */
		for (k = 0; k < 2; k++) {
			uint64_t pos = k ? v.l.foot + 2 : v.s.len + 1000;

			victim_reset(&v);
			p = v.d + v.l.foot + v.l.hlen + fields[i];
			put(p, fields[i] == 8 ? pos << 5 | (be(p, 8) & 31) : pos, 8);
			fix_crc(v.d, v.s.len);
			snprintf(what, sizeof(what), "%s position %llu of a %zu-byte "
				 "table, CRC fixed", names[i],
				 (unsigned long long)pos, v.s.len);
			EXPECT(&v, REFTABLE_FORMAT_ERROR, what);
		}
	}
	/* Abbreviation lengths no object index can have: 0, and longer
	 * than the hash. */
	victim_reset(&v);
	{
		uint8_t *p = v.d + v.l.foot + v.l.hlen + 8;
		put(p, be(p, 8) & ~(uint64_t)31, 8);
		fix_crc(v.d, v.s.len);
		EXPECT(&v, REFTABLE_FORMAT_ERROR, "object id length 0");
		if (!_i) {
			victim_reset(&v);
			put(p, (be(p, 8) & ~(uint64_t)31) | 25, 8);
			fix_crc(v.d, v.s.len);
			EXPECT(&v, REFTABLE_FORMAT_ERROR,
			       "object id length 25 for SHA-1");
		}
	}
	victim_free(&v);
}
END_TEST

/* --- files ------------------------------------------------------------------ */

START_TEST(bad_files)
{
	char *dir = tl_tmpdir();
	char *missing = tl_path(dir, "missing.ref");
	char *empty = tl_path(dir, "empty.ref");
	char *junk = tl_path(dir, "junk.ref");
	struct reftable_table *t = NULL;
	uint8_t bytes[200];

	ck_assert_int_eq(reftable_table_open(&t, missing),
			 REFTABLE_NOT_EXIST_ERROR);
	tl_write_file(empty, "", 0);
	ck_assert_int_eq(reftable_table_open(&t, empty), REFTABLE_FORMAT_ERROR);
	memset(bytes, 'R', sizeof(bytes));
	tl_write_file(junk, bytes, sizeof(bytes));
	ck_assert_int_eq(reftable_table_open(&t, junk), REFTABLE_FORMAT_ERROR);
	ck_assert_int_lt(reftable_table_open(&t, dir), 0);
	free(missing);
	free(empty);
	free(junk);
	tl_rmtree(dir);
}
END_TEST

static Suite *header_suite(void)
{
	Suite *s = suite_create("corrupt-header");
	TCase *tc = tcase_create("targeted");

	tcase_add_loop_test(tc, bad_crc, 0, 2);
	tcase_add_loop_test(tc, bad_magic, 0, 2);
	tcase_add_loop_test(tc, unknown_version, 0, 2);
	tcase_add_test(tc, unknown_hash_id);
	tcase_add_test(tc, header_footer_mismatch);
	tcase_add_loop_test(tc, positions_past_end, 0, 2);
	tcase_add_test(tc, bad_files);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tl_run_suite(header_suite());
}
