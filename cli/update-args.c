/*
 * The arguments of one `update --stdin` command, split as Git splits
 * them: without -z, arguments are separated by exactly one space, an
 * empty argument is allowed (and means the zero id where an id goes),
 * and an argument that begins with a double quote is C-quoted; with -z,
 * each argument ends at its NUL and nothing is quoted. See update.h.
 */

#include <stdlib.h>
#include <string.h>

#include "update.h"

/* Git's own whitespace set (not the locale's): space, tab, LF, CR. */
static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int refuse(struct cursor *cur, const char *fmt, const char *arg)
{
	sbuf_reset(cur->err);
	sbuf_addf(cur->err, fmt, arg);
	return ARG_ERROR;
}

/* The value of one backslash escape at *p (after the "\"), moving *p
 * past it; -1 if it is not one Git reads. */
static int unescape_one(const char **p)
{
	static const char simple[] = "abfnrtv\\\"";
	static const char value[] = "\a\b\f\n\r\t\v\\\"";
	const char *s = *p;
	const char *hit;
	int v;

	if (*s && (hit = strchr(simple, *s))) {
		*p = s + 1;
		return (unsigned char)value[hit - simple];
	}
	/* Three octal digits, the first 0 to 3 (so the value fits a byte). */
	if (*s < '0' || *s > '3' || s[1] < '0' || s[1] > '7' || s[2] < '0' ||
	    s[2] > '7')
		return -1;
	v = (s[0] - '0') << 6 | (s[1] - '0') << 3 | (s[2] - '0');
	*p = s + 3;
	return v;
}

/* A C-quoted argument at cur->p (on its opening quote) into out. */
static int unquote(struct cursor *cur, struct sbuf *out)
{
	const char *start = cur->p, *s = cur->p + 1;

	for (;;) {
		size_t len = strcspn(s, "\"\\");
		int c;

		sbuf_add(out, s, len);
		s += len;
		if (*s == '"')
			break;
		if (*s != '\\')
			return refuse(cur, "badly quoted argument: %s", start);
		s++;
		c = unescape_one(&s);
		if (c < 0)
			return refuse(cur, "badly quoted argument: %s", start);
		sbuf_addch(out, (char)c);
	}
	cur->p = s + 1;
	if (*cur->p && !is_space(*cur->p))
		return refuse(cur, "unexpected character after the quoted "
				   "argument: %s", start);
	return ARG_FOUND;
}

/* The argument at cur->p, to its end: a C-quoted one or up to the
 * next whitespace without -z, up to its NUL with -z. */
static int take_arg(struct cursor *cur, struct sbuf *out)
{
	size_t len;

	if (!cur->nul && *cur->p == '"')
		return unquote(cur, out);
	if (cur->nul) {
		len = strlen(cur->p);
	} else {
		for (len = 0; cur->p[len] && !is_space(cur->p[len]); len++)
			;
	}
	sbuf_add(out, cur->p, len);
	cur->p += len;
	return ARG_FOUND;
}

/*
 * Step over the separator before a further argument. ARG_NONE if the
 * command ends here (the line's end without -z; a byte that is not the
 * NUL ending the previous argument with -z, which Git reads as "no
 * argument" too).
 */
static int skip_separator(struct cursor *cur)
{
	/* The input may end without a terminator: nothing follows. */
	if (cur->p >= cur->end)
		return ARG_NONE;
	if (cur->nul) {
		if (*cur->p)
			return ARG_NONE;
	} else {
		if (!*cur->p || *cur->p == '\n')
			return ARG_NONE;
		if (*cur->p != ' ')
			return refuse(cur, "expected a space but got: %s",
				      cur->p);
	}
	cur->p++;
	return ARG_FOUND;
}

/* An argument after skip_separator; empty is ARG_NONE. */
static int arg_after_separator(struct cursor *cur, char **out)
{
	struct sbuf arg = SBUF_INIT;
	int ret = skip_separator(cur);

	*out = NULL;
	if (ret == ARG_FOUND)
		ret = take_arg(cur, &arg);
	if (ret == ARG_FOUND && arg.len)
		*out = sbuf_detach(&arg);
	else if (ret == ARG_FOUND)
		ret = ARG_NONE;
	sbuf_release(&arg);
	return ret;
}

static int check_refname(struct cursor *cur, char **name)
{
	if (reftable_refname_check_format(*name,
					  REFTABLE_REFNAME_ALLOW_ONELEVEL)) {
		refuse(cur, "invalid ref name: %s", *name);
		free(*name);
		*name = NULL;
		return ARG_ERROR;
	}
	return ARG_FOUND;
}

int cursor_next_arg(struct cursor *cur, char **out)
{
	return arg_after_separator(cur, out);
}

int cursor_next_refname(struct cursor *cur, char **out)
{
	int ret = arg_after_separator(cur, out);
	return ret == ARG_FOUND ? check_refname(cur, out) : ret;
}

int cursor_first_refname(struct cursor *cur, char **out)
{
	struct sbuf arg = SBUF_INIT;
	int ret = take_arg(cur, &arg);

	*out = NULL;
	if (ret == ARG_FOUND && arg.len) {
		*out = sbuf_detach(&arg);
		ret = check_refname(cur, out);
	} else if (ret == ARG_FOUND) {
		ret = ARG_NONE;
	}
	sbuf_release(&arg);
	return ret;
}

static int decode_oid(struct cursor *cur, const char *arg, uint8_t *oid,
		      size_t hash_size, const char *cmd, const char *ref,
		      unsigned flags)
{
	if (!hex_decode(oid, hash_size, arg, strlen(arg)))
		return ARG_FOUND;
	sbuf_reset(cur->err);
	sbuf_addf(cur->err, "%s %s: invalid %s '%s' (want %zu hex digits)",
		  cmd, ref, flags & OID_OLD ? "old id" : "new id", arg,
		  2 * hash_size);
	return ARG_ERROR;
}

static int unexpected_end(struct cursor *cur, const char *cmd,
			  const char *ref, unsigned flags)
{
	sbuf_reset(cur->err);
	sbuf_addf(cur->err, "%s %s: the input ends where the %s should be",
		  cmd, ref, flags & OID_OLD ? "old id" : "new id");
	return ARG_ERROR;
}

int cursor_next_oid(struct cursor *cur, uint8_t *oid, size_t hash_size,
		    const char *cmd, const char *ref, unsigned flags)
{
	struct sbuf arg = SBUF_INIT;
	int ret;

	if (cur->p == cur->end)
		return unexpected_end(cur, cmd, ref, flags);
	if (cur->nul && *cur->p) {
		sbuf_reset(cur->err);
		sbuf_addf(cur->err, "%s %s: expected NUL but got: %s", cmd, ref,
			  cur->p);
		return ARG_ERROR;
	}
	ret = skip_separator(cur);
	if (ret != ARG_FOUND)
		goto out;
	if (cur->nul && cur->p == cur->end) {
		ret = unexpected_end(cur, cmd, ref, flags);
		goto out;
	}
	ret = take_arg(cur, &arg);
	if (ret != ARG_FOUND)
		goto out;
	if (arg.len)
		ret = decode_oid(cur, arg.buf, oid, hash_size, cmd, ref, flags);
	else if (!cur->nul || (flags & OID_ALLOW_EMPTY))
		memset(oid, 0, hash_size); /* empty: the zero id */
	else
		ret = ARG_NONE; /* -z: an empty optional id is no id */
out:
	sbuf_release(&arg);
	return ret;
}

int cursor_at_end(const struct cursor *cur)
{
	return *cur->p == (cur->nul ? '\0' : '\n');
}
