/*
 * Ref-name validation from arbitrary bytes, against a plain restatement
 * of Git's rules (check-ref-format) written here component by component.
 * Properties:
 * - reftable_refname_check_format agrees with the restatement under each
 *   flag, and its errors are REFTABLE_REFNAME_ERROR with a detail;
 * - a name accepted without a flag is accepted with it;
 * - check_writable accepts exactly the well-formed one-level-or-more
 *   names (as Git writes them), pseudorefs only when asked to.
 */

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static int bad_byte(unsigned char c)
{
	return c < 0x20 || c == 0x7f || strchr(" ~^:?[\\", c);
}

/* One component, [p, p + len): 0 if good; counts its stars. */
static int component_ok(const char *p, size_t len, int *stars)
{
	if (!len || p[0] == '.')
		return 0;
	if (len >= 5 && !memcmp(p + len - 5, ".lock", 5))
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (bad_byte((unsigned char)p[i]))
			return 0;
		if (i && p[i - 1] == '.' && p[i] == '.')
			return 0;
		if (i && p[i - 1] == '@' && p[i] == '{')
			return 0;
		*stars += p[i] == '*';
	}
	return 1;
}

static int oracle(const char *name, unsigned flags)
{
	size_t len = strlen(name), components = 0;
	const char *p = name, *end = name + len;
	int stars = 0;

	if (!len || !strcmp(name, "@") || name[len - 1] == '.')
		return 0;
	while (1) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *cend = slash ? slash : end;

		if (!component_ok(p, (size_t)(cend - p), &stars))
			return 0;
		components++;
		if (!slash)
			break;
		p = slash + 1;
	}
	if (stars > ((flags & REFTABLE_REFNAME_REFSPEC_PATTERN) ? 1 : 0))
		return 0;
	return components >= 2 || (flags & REFTABLE_REFNAME_ALLOW_ONELEVEL);
}

static int root_ref(const char *name)
{
	return *name && strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_-") ==
				strlen(name);
}

static void check_writable(const char *name)
{
	int pseudo = !strcmp(name, "FETCH_HEAD") || !strcmp(name, "MERGE_HEAD");

	for (int allow = 0; allow < 2; allow++) {
		int want, err = reftable_refname_check_writable(name, allow);

		want = oracle(name, REFTABLE_REFNAME_ALLOW_ONELEVEL) &&
		       (allow || !pseudo);
		FUZZ_CHECK(err == 0 || err == REFTABLE_REFNAME_ERROR);
		FUZZ_CHECK((err == 0) == want);
	}
	FUZZ_CHECK(!reftable_refname_is_root_ref(name) == !root_ref(name));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = malloc(size + 1);
	int ok[4];

	memcpy(name, data, size);
	name[size] = '\0';
	for (unsigned flags = 0; flags < 4; flags++) {
		int err = reftable_refname_check_format(name, flags);

		FUZZ_CHECK(err == 0 || err == REFTABLE_REFNAME_ERROR);
		if (err)
			FUZZ_CHECK(*reftable_error_detail());
		ok[flags] = !err;
		FUZZ_CHECK(ok[flags] == oracle(name, flags));
	}
	FUZZ_CHECK(!ok[0] || (ok[1] && ok[2] && ok[3]));
	FUZZ_CHECK(!ok[1] || ok[3]);
	FUZZ_CHECK(!ok[2] || ok[3]);
	check_writable(name);
	free(name);
	return 0;
}
