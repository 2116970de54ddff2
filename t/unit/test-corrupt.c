/*
 * Bad input never crashes: a small valid table truncated at every length,
 * every byte flipped, random damage; each read gives a corruption code.
 */

#include "test-corrupt-helpers.h"

/* --- (a) truncation --------------------------------------------------------- */

START_TEST(truncated_everywhere)
{
	struct tl_sink s = TL_SINK_INIT;
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	enum reftable_hash h = _i ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1;
	char ctx[64];
	size_t len;

	small_table(&s, h, _i, &refs, &logs);
	/* The whole table is fine. */
	ck_assert_int_eq(exercise(s.data, s.len, &refs, &logs, "intact"), 0);
	for (len = 0; len < s.len; len++) {
		int err;

		snprintf(ctx, sizeof(ctx), "truncated to %zu of %zu", len, s.len);
		err = exercise(s.data, len, &refs, &logs, ctx);
		TL_CHECK(err == REFTABLE_FORMAT_ERROR, "%s: %d (%s), want "
			 "REFTABLE_FORMAT_ERROR", ctx, err,
			 reftable_error_detail());
	}
	tl_sink_release(&s);
	tl_refs_free(&refs);
	tl_logs_free(&logs);
}
END_TEST

/* --- (b) every byte flipped ----------------------------------------------- */

static void flip_all(int variant, int how)
{
	struct tl_sink s = TL_SINK_INIT;
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	enum reftable_hash h = variant ? REFTABLE_HASH_SHA256 : REFTABLE_HASH_SHA1;
	struct layout l;
	uint8_t *d;
	char ctx[96];
	size_t i;
	int errors = 0;

	small_table(&s, h, variant, &refs, &logs);
	parse_layout(s.data, s.len, &l);
	d = malloc(s.len);
	ck_assert_ptr_nonnull(d);
	for (i = 0; i < s.len; i++) {
		int err;

		memcpy(d, s.data, s.len);
		d[i] = how ? (uint8_t)(d[i] + 1) : (uint8_t)(d[i] ^ 0xff);
		snprintf(ctx, sizeof(ctx), "byte %zu of %zu %s", i, s.len,
			 how ? "plus one" : "inverted");
		err = exercise(d, s.len, &refs, &logs, ctx);
		if (err < 0)
			errors++;
		/* The footer is covered by its CRC. */
		if (i >= s.len - 4)
			TL_CHECK(err == REFTABLE_CHECKSUM_ERROR, "%s (the CRC): "
				 "%d", ctx, err);
		else if (i >= l.foot)
			TL_CHECK(err < 0, "%s (in the footer): accepted", ctx);
		/* The magic and the version are checked on open. */
		if (i < 4)
			TL_CHECK(err == REFTABLE_FORMAT_ERROR, "%s (the magic): "
				 "%d", ctx, err);
		if (i == 4)
			TL_CHECK(err < 0, "%s (the version): accepted", ctx);
	}
	/* Sanity: most flips are noticed at all. */
	ck_assert_int_gt(errors, (int)(s.len / 4));
	free(d);
	tl_sink_release(&s);
	tl_refs_free(&refs);
	tl_logs_free(&logs);
}

START_TEST(every_byte_inverted)
{
	flip_all(_i, 0);
}
END_TEST

START_TEST(every_byte_plus_one)
{
	flip_all(_i, 1);
}
END_TEST

/* Random multi-byte damage in the blocks (not the footer). */
START_TEST(random_damage)
{
	struct tl_sink s = TL_SINK_INIT;
	struct tl_refs refs = { 0 };
	struct tl_logs logs = { 0 };
	struct layout l;
	struct tl_rng r;
	uint8_t *d;
	char ctx[64];
	int n;

	small_table(&s, REFTABLE_HASH_SHA1, 0, &refs, &logs);
	parse_layout(s.data, s.len, &l);
	d = malloc(s.len);
	ck_assert_ptr_nonnull(d);
	tl_rng_init(&r, 31337);
	for (n = 0; n < 2000; n++) {
		int k, nbytes = 1 + (int)tl_rng_below(&r, 8);

		memcpy(d, s.data, s.len);
		for (k = 0; k < nbytes; k++)
			d[l.hlen + tl_rng_below(&r, l.foot - l.hlen)] =
				(uint8_t)tl_rng_next(&r);
		snprintf(ctx, sizeof(ctx), "random damage #%d", n);
		exercise(d, s.len, &refs, &logs, ctx);
	}
	free(d);
	tl_sink_release(&s);
	tl_refs_free(&refs);
	tl_logs_free(&logs);
}
END_TEST

static Suite *corrupt_suite(void)
{
	Suite *s = suite_create("corrupt");
	TCase *tc = tcase_create("exhaustive");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, truncated_everywhere, 0, 2);
	tcase_add_loop_test(tc, every_byte_inverted, 0, 2);
	tcase_add_loop_test(tc, every_byte_plus_one, 0, 2);
	tcase_add_test(tc, random_damage);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tl_run_suite(corrupt_suite());
}
