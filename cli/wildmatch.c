/*
 * Glob matching of paths with Git's rules (wildmatch with WM_PATHNAME),
 * used by `list` patterns and by includeIf.gitdir: conditions:
 *   ?        one byte other than '/'
 *   *        any run of bytes without '/'
 *   **       as a whole component ("**" + "/", "/" + "**", or "/" + "**" + "/"),
 *            any run of components, none included; elsewhere the same as *
 *   [...]    a class: ranges a-z, [:alpha:] and the like, ! or ^ negates;
 *            it never matches '/'
 *   \c       c itself
 */

#include <ctype.h>
#include <string.h>

#include "cli.h"

enum { WM_NO = 0, WM_YES = 1, WM_GIVE_UP = 2, WM_GIVE_UP_TO_STARSTAR = 3 };

static int fold(int c, int icase)
{
	return icase ? tolower(c) : c;
}

static int named_class(const char *name, size_t len, int c)
{
	static const struct {
		const char *name;
		int (*is)(int);
	} classes[] = {
		{ "alnum", isalnum }, { "alpha", isalpha }, { "blank", isblank },
		{ "cntrl", iscntrl }, { "digit", isdigit }, { "graph", isgraph },
		{ "lower", islower }, { "print", isprint }, { "punct", ispunct },
		{ "space", isspace }, { "upper", isupper },
		{ "xdigit", isxdigit },
	};
	for (size_t i = 0; i < sizeof(classes) / sizeof(*classes); i++)
		if (strlen(classes[i].name) == len &&
		    !strncmp(classes[i].name, name, len))
			return classes[i].is(c) ? 1 : 0;
	return -1; /* not a class name: the pattern is malformed */
}

/*
 * Match text's byte t against the class at *pp (just past '['); moves
 * *pp past the closing ']'. 1 match, 0 none, -1 malformed class.
 */
static int match_class(const char **pp, int t, int icase)
{
	const char *p = *pp;
	int negate = 0, hit = 0, first = 1;

	if (*p == '!' || *p == '^') {
		negate = 1;
		p++;
	}
	for (; *p && (first || *p != ']'); p++, first = 0) {
		int lo = (unsigned char)*p, hi;
		if (*p == '[' && p[1] == ':') {
			const char *end = strstr(p + 2, ":]");
			int r;
			if (!end)
				return -1;
			r = named_class(p + 2, (size_t)(end - p - 2), t);
			if (r < 0)
				return -1;
			hit |= r || (icase && !strncmp(p + 2, "upper", 5) &&
				     islower(t));
			p = end + 1;
			continue;
		}
		if (*p == '\\' && p[1])
			lo = (unsigned char)*++p;
		hi = lo;
		if (p[1] == '-' && p[2] && p[2] != ']') {
			p += 2;
			if (*p == '\\' && p[1])
				p++;
			hi = (unsigned char)*p;
		}
		if ((t >= lo && t <= hi) ||
		    (icase && tolower(t) >= tolower(lo) &&
		     tolower(t) <= tolower(hi)))
			hit = 1;
	}
	if (*p != ']')
		return -1;
	*pp = p + 1;
	return t != '/' && hit != negate;
}

/* Is the "**" at p (start) a whole component of the pattern pat? */
static int starstar_alone(const char *pat, const char *p, const char *after)
{
	return (p == pat || p[-1] == '/') &&
	       (!*after || *after == '/' || (after[0] == '\\' && after[1] == '/'));
}

static int match_star(const char *pat, const char *p, const char *t,
		      int icase);

static int match_from(const char *pat, const char *p, const char *t,
		      int icase)
{
	for (; *p; p++, t++) {
		int r;
		if (*p == '*')
			return match_star(pat, p, t, icase);
		if (!*t)
			return WM_GIVE_UP;
		switch (*p) {
		case '?':
			if (*t == '/')
				return WM_NO;
			break;
		case '[':
			p++;
			r = match_class(&p, (unsigned char)*t, icase);
			if (r <= 0)
				return r < 0 ? WM_GIVE_UP : WM_NO;
			p--; /* the loop steps past the class */
			break;
		case '\\':
			if (p[1])
				p++;
			/* fall through */
		default:
			if (fold((unsigned char)*p, icase) !=
			    fold((unsigned char)*t, icase))
				return WM_NO;
		}
	}
	return *t ? WM_NO : WM_YES;
}

static int match_star(const char *pat, const char *p, const char *t,
		      int icase)
{
	const char *star = p;
	int cross = 0, r;

	while (*++p == '*')
		;
	if (p - star >= 2 && starstar_alone(pat, star, p)) {
		/* "**" + "/" may also stand for no directory at all */
		if (*p == '/' && match_from(pat, p + 1, t, icase) == WM_YES)
			return WM_YES;
		cross = 1;
	}
	if (!*p)
		return cross || !strchr(t, '/') ? WM_YES
						: WM_GIVE_UP_TO_STARSTAR;
	if (!cross && *p == '/') {
		/* "*" + "/": the rest of this component, then go on */
		const char *slash = strchr(t, '/');
		return slash ? match_from(pat, p, slash, icase) : WM_GIVE_UP;
	}
	for (;; t++) {
		r = match_from(pat, p, t, icase);
		if (r != WM_NO) {
			if (!cross || r != WM_GIVE_UP_TO_STARSTAR)
				return r;
		}
		if (!*t)
			return WM_GIVE_UP;
		if (!cross && *t == '/')
			return WM_GIVE_UP_TO_STARSTAR;
	}
}

int wildmatch_path(const char *pattern, const char *text, int icase)
{
	return match_from(pattern, pattern, text, icase) == WM_YES;
}
