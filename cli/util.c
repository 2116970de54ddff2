/* Messages, exit codes, strings and small parsers for the tool. */

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void vreport(const struct cli *cli, const char *fmt, va_list ap)
{
	if (cli && cli->quiet)
		return;
	fflush(stdout); /* keep stdout and stderr in order on a terminal */
	if (cli && cli->cmd)
		fprintf(stderr, "reftable %s: error: ", cli->cmd);
	else
		fprintf(stderr, "reftable: error: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_warning(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;
	if (cli && cli->quiet)
		return;
	fflush(stdout);
	fprintf(stderr, "reftable %s: warning: ",
		cli && cli->cmd ? cli->cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(cli, fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

int cli_error(const struct cli *cli, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(cli, fmt, ap);
	va_end(ap);
	return code;
}

int cli_exit_code(int err)
{
	switch (err) {
	case REFTABLE_OK:
		return EXIT_OK;
	case REFTABLE_API_ERROR:
	case REFTABLE_OUT_OF_ORDER_ERROR:
	case REFTABLE_DUPLICATE_KEY_ERROR:
	case REFTABLE_ENTRY_TOO_BIG_ERROR:
	case REFTABLE_UPDATE_INDEX_ERROR:
	case REFTABLE_REFNAME_ERROR:
	case REFTABLE_RANGE_ERROR:
		/* the input asked for something impossible */
		return EXIT_USAGE;
	case REFTABLE_LOCK_ERROR:
	case REFTABLE_NAME_CONFLICT_ERROR: /* clashes with the stack's state */
	case REFTABLE_OUTDATED_ERROR:
	case REFTABLE_CAS_ERROR:
		return EXIT_CONFLICT;
	default:
		return EXIT_DATA;
	}
}

int cli_lib_error(const struct cli *cli, int err, const char *fmt, ...)
{
	struct sbuf msg = SBUF_INIT;
	const char *detail = reftable_error_detail();
	va_list ap;
	char tmp[512];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	sbuf_addstr(&msg, tmp);
	sbuf_addf(&msg, ": %s", reftable_error_str(err));
	/* The detail says which file and which check; skip it if empty. */
	if (detail && *detail)
		sbuf_addf(&msg, " (%s)", detail);
	cli_error(cli, 0, "%s", msg.buf);
	sbuf_release(&msg);
	return cli_exit_code(err);
}

int cli_finish_output(const struct cli *cli, int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		int e = errno;
		cli_error(cli, 0, "writing to standard output: %s",
			  strerror(e));
		return code ? code : EXIT_DATA;
	}
	return code;
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "reftable: out of memory\n");
		exit(EXIT_DATA);
	}
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		fprintf(stderr, "reftable: out of memory\n");
		exit(EXIT_DATA);
	}
	return q;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *path_join(const char *dir, const char *name)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_addstr(&sb, dir);
	if (sb.len && sb.buf[sb.len - 1] != '/')
		sbuf_addch(&sb, '/');
	sbuf_addstr(&sb, name);
	return sbuf_detach(&sb);
}

static void sbuf_grow(struct sbuf *sb, size_t extra)
{
	size_t want = sb->len + extra + 1;
	if (want <= sb->cap)
		return;
	sb->cap = sb->cap ? sb->cap : 64;
	while (sb->cap < want)
		sb->cap *= 2;
	sb->buf = xrealloc(sb->buf, sb->cap);
}

void sbuf_add(struct sbuf *sb, const void *data, size_t len)
{
	sbuf_grow(sb, len);
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void sbuf_addch(struct sbuf *sb, char c)
{
	sbuf_add(sb, &c, 1);
}

void sbuf_addstr(struct sbuf *sb, const char *s)
{
	sbuf_add(sb, s, strlen(s));
}

void sbuf_addf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sbuf_grow(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

void sbuf_release(struct sbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

int sbuf_read_stream(struct sbuf *sb, FILE *f)
{
	char buf[8192];
	size_t n;

	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sbuf_add(sb, buf, n);
	return ferror(f) ? -1 : 0;
}

char *sbuf_detach(struct sbuf *sb)
{
	char *s;
	if (!sb->buf)
		sbuf_grow(sb, 0);
	sb->buf[sb->len] = '\0';
	s = sb->buf;
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return s;
}

void strlist_add(struct strlist *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
	}
	l->items[l->n++] = s;
}

void strlist_release(struct strlist *l)
{
	free(l->items);
	l->items = NULL;
	l->n = l->cap = 0;
}

void strlist_release_owned(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free((char *)l->items[i]);
	strlist_release(l);
}

int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	/* strtoull would accept "-1" and leading spaces; we do not. */
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s || (*s != '-' && *s != '+' && (*s < '0' || *s > '9')))
		return -1;
	if ((*s == '-' || *s == '+') && (s[1] < '0' || s[1] > '9'))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

void hex_encode(char *out, const uint8_t *bytes, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(uint8_t *bytes, size_t n, const char *hex, size_t hexlen)
{
	if (hexlen != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		bytes[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

ssize_t fd_write_all(void *arg, const void *data, size_t len)
{
	int fd = *(int *)arg;
	const char *p = data;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return (ssize_t)len;
}
