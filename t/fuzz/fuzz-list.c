/*
 * tables.list from arbitrary bytes, read by the library and by the
 * tool. Properties:
 * - an accepted list names only plain files of the directory (no path,
 *   no dot file, no NUL, no trailing carriage return);
 * - formatting it gives the input without its empty lines, each name
 *   ending in a newline; parsing that again gives the same names;
 * - the tool (cli/tables.c, for dump and verify) accepts exactly the
 *   lists the library accepts, and reads the same names.
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fuzz.h"
#include "stack-internal.h"

static int plain(const char *name)
{
	size_t len = strlen(name);

	return len && name[0] != '.' && !strchr(name, '/') &&
	       !strchr(name, '\\') && name[len - 1] != '\r';
}

/* The input without empty lines, each line ending in '\n'. */
static void expected_format(const uint8_t *data, size_t size,
			    struct buf *out)
{
	size_t i = 0;

	while (i < size) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t len = nl ? (size_t)(nl - data - i) : size - i;

		if (len) {
			FUZZ_CHECK(!buf_add(out, data + i, len));
			FUZZ_CHECK(!buf_addch(out, '\n'));
		}
		i += len + 1;
	}
}

static void write_list(const uint8_t *data, size_t size)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/tables.list", fuzz_dir());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	close(fd);
}

/* The tool reads the same list as the library, or refuses it too. */
static void check_tool(const uint8_t *data, size_t size, char **names,
		       size_t n, int lib_err)
{
	struct cli cli = { .cmd = "fuzz", .quiet = 1 };
	struct strlist got = { 0 };
	int err;

	write_list(data, size);
	err = read_tables_list(&cli, fuzz_dir(), &got);
	FUZZ_CHECK(!err == !lib_err);
	if (!err) {
		FUZZ_CHECK(got.n == n);
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(!strcmp(got.items[i], names[i]));
	}
	strlist_release_owned(&got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT, want = BUF_INIT;
	char **names = NULL, **again = NULL;
	size_t n = 0, n2 = 0;
	int err;

	err = names_parse(&names, &n, (const char *)data, size, "fuzz/list");
	FUZZ_CHECK(!err || err == REFTABLE_FORMAT_ERROR);
	if (err)
		FUZZ_CHECK(strstr(reftable_error_detail(), "fuzz/list"));
	check_tool(data, size, names, n, err);
	if (err)
		return 0;
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(plain(names[i]));
	FUZZ_CHECK(!names_format(&out, names, n));
	expected_format(data, size, &want);
	FUZZ_CHECK(out.len == want.len &&
		   (!out.len || !memcmp(out.data, want.data, out.len)));
	FUZZ_CHECK(!names_parse(&again, &n2, (const char *)out.data, out.len,
				"again"));
	FUZZ_CHECK(names_equal(names, n, again, n2));
	names_free(names, n);
	names_free(again, n2);
	buf_release(&out);
	buf_release(&want);
	return 0;
}
