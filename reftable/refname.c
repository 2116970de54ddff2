/*
 * Ref-name validation: the rules of `git check-ref-format`, and what the
 * ref database lets a transaction write.
 */

#include <string.h>

#include "basics.h"
#include "refname.h"
#include "reftable-refdb.h"

/* How each byte behaves inside a component. */
enum byte_class {
	B_OK,      /* an ordinary byte */
	B_BAD,     /* never allowed */
	B_DOT,     /* "." : bad after another "." */
	B_BRACE,   /* "{" : bad after "@" */
	B_STAR,    /* "*" : only once, and only in refspec patterns */
};

static enum byte_class classify(unsigned char c)
{
	if (c < 0x20 || c == 0x7f)
		return B_BAD;
	switch (c) {
	case ' ': case '~': case '^': case ':':
	case '?': case '[': case '\\':
		return B_BAD;
	case '.':
		return B_DOT;
	case '{':
		return B_BRACE;
	case '*':
		return B_STAR;
	default:
		return B_OK;
	}
}

static int bad_name(const char *name, const char *why)
{
	return reftable_fail(REFTABLE_REFNAME_ERROR, "'%s': %s", name, why);
}

/*
 * Check the component starting at p (ending at "/" or the end). Returns its
 * length, or -1 after recording why it is bad. *star_ok is cleared once a
 * pattern "*" was used.
 */
static int check_component(const char *name, const char *p, int *star_ok)
{
	static const char lock[] = ".lock";
	const size_t lock_len = sizeof(lock) - 1;
	unsigned char prev = 0;
	size_t len = 0;

	for (; p[len] && p[len] != '/'; len++) {
		unsigned char c = (unsigned char)p[len];

		switch (classify(c)) {
		case B_BAD:
			if (c < 0x20 || c == 0x7f)
				return bad_name(name, "contains a control character");
			return bad_name(name, "contains one of space ~ ^ : ? [ \\");
		case B_DOT:
			if (prev == '.')
				return bad_name(name, "contains \"..\"");
			break;
		case B_BRACE:
			if (prev == '@')
				return bad_name(name, "contains \"@{\"");
			break;
		case B_STAR:
			if (!*star_ok)
				return bad_name(name, "contains \"*\"");
			*star_ok = 0;
			break;
		case B_OK:
			break;
		}
		prev = c;
	}
	if (!len)
		return bad_name(name, "has an empty component (a leading "
				      "or double \"/\")");
	if (p[0] == '.')
		return bad_name(name, "has a component starting with \".\"");
	if (len >= lock_len && !memcmp(p + len - lock_len, lock, lock_len))
		return bad_name(name, "has a component ending with \".lock\"");
	return (int)len;
}

int reftable_refname_check_format(const char *name, unsigned flags)
{
	int star_ok = !!(flags & REFTABLE_REFNAME_REFSPEC_PATTERN);
	const char *p = name;
	size_t components = 0;

	if (!name)
		return reftable_fail(REFTABLE_API_ERROR, "ref name is NULL");
	if (!*name)
		return bad_name(name, "is empty");
	if (!strcmp(name, "@"))
		return bad_name(name, "is \"@\"");
	for (;;) {
		int len = check_component(name, p, &star_ok);

		if (len < 0)
			return REFTABLE_REFNAME_ERROR;
		components++;
		p += len;
		if (!*p)
			break;
		p++; /* the "/" */
		if (!*p)
			return bad_name(name, "ends with \"/\"");
	}
	if (p[-1] == '.')
		return bad_name(name, "ends with \".\"");
	if (components < 2 && !(flags & REFTABLE_REFNAME_ALLOW_ONELEVEL))
		return bad_name(name, "has only one component");
	return 0;
}

int reftable_refname_is_root_ref(const char *name)
{
	const char *p;

	if (!name || !*name)
		return 0;
	for (p = name; *p; p++)
		if (!(*p >= 'A' && *p <= 'Z') && *p != '_' && *p != '-')
			return 0;
	return 1;
}

int refname_is_pseudoref(const char *name)
{
	return !strcmp(name, "FETCH_HEAD") || !strcmp(name, "MERGE_HEAD");
}

static int check_pseudoref(const char *name, int allow_pseudorefs)
{
	if (refname_is_pseudoref(name) && !allow_pseudorefs)
		return bad_name(name, "is a pseudoref, which Git keeps "
				      "outside the ref database");
	return 0;
}

int reftable_refname_check_writable(const char *name, int allow_pseudorefs)
{
	int err;

	if (!name)
		return reftable_fail(REFTABLE_API_ERROR, "ref name is NULL");
	err = reftable_refname_check_format(name,
					    REFTABLE_REFNAME_ALLOW_ONELEVEL);
	return err ? err : check_pseudoref(name, allow_pseudorefs);
}

/* 1 if the component of len bytes at p is "", "." or "..". */
static int is_dot_component(const char *p, size_t len)
{
	return !len || (len == 1 && p[0] == '.') ||
	       (len == 2 && p[0] == '.' && p[1] == '.');
}

int reftable_refname_check_safe(const char *name, int allow_pseudorefs)
{
	const char *p;

	if (!name)
		return reftable_fail(REFTABLE_API_ERROR, "ref name is NULL");
	if (!strncmp(name, "refs/", 5)) {
		for (p = name + 5;; p++) {
			size_t len = strcspn(p, "/");
			if (is_dot_component(p, len))
				return bad_name(name, "has an empty, \".\" or "
						      "\"..\" component");
			p += len;
			if (!*p)
				break;
		}
		return check_pseudoref(name, allow_pseudorefs);
	}
	if (!*name || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") !=
			      strlen(name))
		return bad_name(name, "outside refs/, only upper-case letters "
				      "and \"_\" are allowed here");
	return check_pseudoref(name, allow_pseudorefs);
}

int refname_is_below(const char *name, const char *dir, size_t dir_len)
{
	return !strncmp(name, dir, dir_len) && name[dir_len] == '/';
}
