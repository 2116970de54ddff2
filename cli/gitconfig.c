/*
 * Git's configuration syntax, read the way Git reads it:
 *   [section]  [section "subsection"]  [section.subsection] (old style,
 *   the subsection lower-cased)   name = value   name (no '=': true)
 * Values: leading and trailing blanks dropped, inner ones kept; "..."
 * quotes keep blanks and ; #; escapes \" \\ \n \t \b; a backslash at the
 * end of a line joins the next; ; and # start a comment outside quotes.
 * CR LF ends a line as LF does; a UTF-8 byte order mark is skipped.
 * Sections: section and name letters, digits and '-' (a name begins with
 * a letter). Anything else is "bad config line N in file F", Git's
 * message.
 *
 * Section map: the parser; the store and lookups; typed values;
 * includes.
 */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gitconfig-internal.h"

/* ---- the parser ---- */

struct source {
	const char *buf;
	size_t len, pos;
	int eof;
	int line; /* 1 + the newlines read, as Git counts */
};

/* The next character; CR LF reads as LF, the end as a final LF. */
static int next_char(struct source *s)
{
	int c;

	if (s->pos >= s->len) {
		s->eof = 1;
		s->line++;
		return '\n';
	}
	c = (unsigned char)s->buf[s->pos++];
	if (c == '\r' && s->pos < s->len && s->buf[s->pos] == '\n')
		c = (unsigned char)s->buf[s->pos++];
	if (c == '\n')
		s->line++;
	return c;
}

static int is_key_char(int c)
{
	return isalnum(c) || c == '-';
}

/* The value after '=' up to the end of its line, into out. 0 or -1. */
static int parse_value(struct source *s, struct sbuf *out)
{
	int quoted = 0, comment = 0, c;
	size_t keep = 0; /* length before trailing blanks; 0: none seen */

	sbuf_reset(out);
	sbuf_addstr(out, "");
	for (;;) {
		c = next_char(s);
		if (c == '\n') {
			if (quoted) {
				s->line--; /* the error is on the line before */
				return -1;
			}
			if (keep)
				out->buf[out->len = keep] = '\0';
			return 0;
		}
		if (comment)
			continue;
		if (isspace(c) && !quoted) {
			if (!keep)
				keep = out->len;
			if (out->len) /* leading blanks are dropped */
				sbuf_addch(out, (char)c);
			continue;
		}
		if (!quoted && (c == ';' || c == '#')) {
			comment = 1;
			continue;
		}
		keep = 0;
		if (c == '\\') {
			c = next_char(s);
			if (c == '\n')
				continue; /* the line goes on */
			if (c == 't')
				c = '\t';
			else if (c == 'b')
				c = '\b';
			else if (c == 'n')
				c = '\n';
			else if (c != '\\' && c != '"')
				return -1;
			sbuf_addch(out, (char)c);
			continue;
		}
		if (c == '"') {
			quoted = !quoted;
			continue;
		}
		sbuf_addch(out, (char)c);
	}
}

/* ' "subsection"]' after the section name; appends ".subsection". */
static int parse_subsection(struct source *s, struct sbuf *name, int c)
{
	do {
		if (c == '\n')
			goto incomplete;
		c = next_char(s);
	} while (isspace(c));
	if (c != '"')
		return -1;
	sbuf_addch(name, '.');
	for (;;) {
		c = next_char(s);
		if (c == '\n')
			goto incomplete;
		if (c == '"')
			break;
		if (c == '\\') {
			c = next_char(s);
			if (c == '\n')
				goto incomplete;
		}
		sbuf_addch(name, (char)c);
	}
	return next_char(s) == ']' ? 0 : -1;
incomplete:
	s->line--;
	return -1;
}

/* A section header after '['; name gets "section[.sub]". 0 or -1. */
static int parse_section(struct source *s, struct sbuf *name)
{
	for (;;) {
		int c = next_char(s);
		if (s->eof)
			return -1;
		if (c == ']')
			return name->len ? 0 : -1;
		if (isspace(c))
			return parse_subsection(s, name, c);
		if (!is_key_char(c) && c != '.')
			return -1;
		sbuf_addch(name, (char)tolower(c));
	}
}


/* "name [= value]" whose first letter c was read; key holds "section.". */
static int parse_entry(struct git_config *cfg, struct source *s,
		       struct sbuf *key, int c, struct sbuf *value,
		       const char *fname)
{
	int has_value = 0, line;

	sbuf_addch(key, (char)tolower(c));
	for (;;) {
		c = next_char(s);
		if (s->eof || !is_key_char(c))
			break;
		sbuf_addch(key, (char)tolower(c));
	}
	while (c == ' ' || c == '\t')
		c = next_char(s);
	if (c != '\n') {
		if (c != '=' || parse_value(s, value))
			return -1;
		has_value = 1;
	}
	line = s->line--; /* the entry's own line while it is handled */
	if (config_handle_entry(cfg, key->buf, has_value ? value->buf : NULL, fname))
		return -2; /* the error is already recorded */
	s->line = line;
	return 0;
}

int config_parse(struct git_config *cfg, const char *text, size_t len,
		 const char *fname)
{
	static const char bom[] = "\xef\xbb\xbf";
	struct source s = { text, len, 0, 0, 1 };
	struct sbuf key = SBUF_INIT, value = SBUF_INIT;
	size_t section_len = 0;
	int comment = 0, err = 0;

	if (len >= 3 && !memcmp(text, bom, 3))
		s.pos = 3;
	for (;;) {
		int c = next_char(&s);
		if (c == '\n') {
			if (s.eof)
				break;
			comment = 0;
			continue;
		}
		if (comment || isspace(c))
			continue;
		if (c == '#' || c == ';') {
			comment = 1;
			continue;
		}
		if (c == '[') {
			sbuf_reset(&key);
			if ((err = parse_section(&s, &key)))
				break;
			sbuf_addch(&key, '.');
			section_len = key.len;
			continue;
		}
		if (!isalpha(c)) {
			err = -1;
			break;
		}
		/* before any section, a key has none (Git takes it) */
		sbuf_add(&key, "", 0);
		key.buf[key.len = section_len] = '\0';
		if ((err = parse_entry(cfg, &s, &key, c, &value, fname)))
			break;
	}
	if (err == -1)
		config_fail(cfg, "bad config line %d in file %s", s.line, fname);
	sbuf_release(&key);
	sbuf_release(&value);
	return err ? -1 : 0;
}

/* ---- the store and lookups ---- */

int config_fail(struct git_config *cfg, const char *fmt, ...)
{
	struct sbuf sb = SBUF_INIT;
	va_list ap;
	int n;

	if (cfg->error)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	sb.buf = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(sb.buf, (size_t)n + 1, fmt, ap);
	va_end(ap);
	cfg->error = sb.buf;
	return -1;
}

static const char *intern_origin(struct git_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_origins; i++)
		if (!strcmp(cfg->origins[i], name))
			return cfg->origins[i];
	cfg->origins = xrealloc(cfg->origins,
				(cfg->n_origins + 1) * sizeof(*cfg->origins));
	return cfg->origins[cfg->n_origins++] = xstrdup(name);
}

void config_add(struct git_config *cfg, const char *key, const char *value,
		const char *origin)
{
	struct config_entry *e;

	if (cfg->n == cfg->cap) {
		cfg->cap = cfg->cap ? 2 * cfg->cap : 32;
		cfg->entries = xrealloc(cfg->entries,
					cfg->cap * sizeof(*cfg->entries));
	}
	e = &cfg->entries[cfg->n++];
	e->key = xstrdup(key);
	e->value = value ? xstrdup(value) : NULL;
	e->origin = origin ? intern_origin(cfg, origin) : NULL;
}

/* key with its section and name lower-cased, the subsection kept. */
static char *canonical_key(const char *key)
{
	char *k = xstrdup(key), *first = strchr(k, '.'), *last = strrchr(k, '.');

	for (char *p = k; *p; p++)
		if (!first || p < first || p > last)
			*p = (char)tolower((unsigned char)*p);
	return k;
}

static const struct config_entry *find_last(const struct git_config *cfg,
					    const char *key)
{
	char *k = canonical_key(key);
	const struct config_entry *found = NULL;

	for (size_t i = cfg->n; i-- > 0 && !found;)
		if (!strcmp(cfg->entries[i].key, k))
			found = &cfg->entries[i];
	free(k);
	return found;
}

const char *git_config_get(const struct git_config *cfg, const char *key)
{
	const struct config_entry *e = find_last(cfg, key);

	if (!e)
		return NULL;
	return e->value ? e->value : "true";
}

const char *git_config_error(const struct git_config *cfg)
{
	return cfg->error;
}

struct git_config *git_config_parse_text(const char *text, size_t len,
					 const char *fname)
{
	struct git_config *cfg = xmalloc(sizeof(*cfg));

	memset(cfg, 0, sizeof(*cfg));
	config_parse(cfg, text, len, fname);
	return cfg;
}

void git_config_free(struct git_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n; i++) {
		free(cfg->entries[i].key);
		free(cfg->entries[i].value);
	}
	for (size_t i = 0; i < cfg->n_origins; i++)
		free(cfg->origins[i]);
	free(cfg->entries);
	free(cfg->origins);
	free(cfg->error);
	free(cfg->gitdir);
	free(cfg);
}

/* ---- typed values ---- */

static int parse_bool_text(const char *v)
{
	if (!*v)
		return 0;
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
	    !strcasecmp(v, "on"))
		return 1;
	if (!strcasecmp(v, "false") || !strcasecmp(v, "no") ||
	    !strcasecmp(v, "off"))
		return 0;
	return -1;
}

/* k, m or g (either case), or nothing; 0 for anything else. */
static uint64_t unit_factor(const char *end)
{
	if (!*end)
		return 1;
	if (!strcasecmp(end, "k"))
		return 1024;
	if (!strcasecmp(end, "m"))
		return 1024 * 1024;
	if (!strcasecmp(end, "g"))
		return 1024 * 1024 * 1024;
	return 0;
}

/* Git's signed integer with a unit; errno EINVAL or ERANGE on failure. */
static int parse_signed(const char *v, int64_t max, int64_t *out)
{
	char *end;
	intmax_t n;
	int64_t f;

	errno = EINVAL;
	if (!v || !*v)
		return -1;
	errno = 0;
	n = strtoimax(v, &end, 0);
	if (errno == ERANGE)
		return -1;
	if (end == v || !(f = (int64_t)unit_factor(end))) {
		errno = EINVAL;
		return -1;
	}
	if ((n < 0 && (-max - 1) / f > n) || (n > 0 && max / f < n)) {
		errno = ERANGE;
		return -1;
	}
	*out = (int64_t)n * f;
	return 0;
}

static int parse_unsigned(const char *v, uint64_t max, uint64_t *out)
{
	char *end;
	uintmax_t n;
	uint64_t f;

	errno = EINVAL;
	if (!v || !*v || strchr(v, '-'))
		return -1;
	errno = 0;
	n = strtoumax(v, &end, 0);
	if (errno == ERANGE)
		return -1;
	if (end == v || !(f = unit_factor(end))) {
		errno = EINVAL;
		return -1;
	}
	if (n > max / f) {
		errno = ERANGE;
		return -1;
	}
	*out = (uint64_t)n * f;
	return 0;
}

int git_config_get_bool(const struct git_config *cfg, const char *key,
			int *out)
{
	const struct config_entry *e = find_last(cfg, key);
	int64_t n;
	int b;

	if (!e)
		return 1;
	if (!e->value) {
		*out = 1;
		return 0;
	}
	if ((b = parse_bool_text(e->value)) >= 0) {
		*out = b;
		return 0;
	}
	if (parse_signed(e->value, INT32_MAX, &n))
		return -1;
	*out = n != 0;
	return 0;
}

int git_config_get_ulong(const struct git_config *cfg, const char *key,
			 uint64_t max, uint64_t *out)
{
	const struct config_entry *e = find_last(cfg, key);

	if (!e)
		return 1;
	return parse_unsigned(e->value, max, out);
}

int git_config_get_int64(const struct git_config *cfg, const char *key,
			 int64_t max, int64_t *out)
{
	const struct config_entry *e = find_last(cfg, key);

	if (!e)
		return 1;
	return parse_signed(e->value, max, out);
}

char *git_config_bad_number(const struct git_config *cfg, const char *key)
{
	const char *why = errno == ERANGE ? "out of range" : "invalid unit";
	const struct config_entry *e = find_last(cfg, key);
	const char *v = e && e->value ? e->value : "";
	struct sbuf sb = SBUF_INIT;

	sbuf_addf(&sb, "bad numeric config value '%s' for '%s'", v,
		  e ? e->key : key);
	if (e && e->origin)
		sbuf_addf(&sb, " in file %s", e->origin);
	sbuf_addf(&sb, ": %s", why);
	return sbuf_detach(&sb);
}

/* ---- includes ---- */

/* An include's path: ~ expanded, relative to the including file. */
static char *include_path(struct git_config *cfg, const char *value,
			  const char *fname)
{
	char *expanded = config_expand_home(value), *path;
	const char *slash;

	if (!expanded) {
		config_fail(cfg, "could not expand include path '%s'", value);
		return NULL;
	}
	if (expanded[0] == '/')
		return expanded;
	if (!fname) {
		free(expanded);
		config_fail(cfg, "relative config includes must come from "
				 "files");
		return NULL;
	}
	slash = strrchr(fname, '/');
	if (!slash)
		return expanded;
	path = xmalloc((size_t)(slash - fname) + 2 + strlen(expanded));
	memcpy(path, fname, (size_t)(slash - fname) + 1);
	strcpy(path + (slash - fname) + 1, expanded);
	free(expanded);
	return path;
}

static int include_file(struct git_config *cfg, const char *value,
			const char *fname)
{
	char *path;
	int err;

	if (!value)
		return config_fail(cfg, "missing value for 'include.path'");
	if (!(path = include_path(cfg, value, fname)))
		return -1;
	if (++cfg->include_depth > CONFIG_MAX_INCLUDE_DEPTH) {
		config_fail(cfg,
			    "exceeded maximum include depth (%d) while "
			    "including\n\t%s\nfrom\n\t%s\nThis might be due "
			    "to circular includes.",
			    CONFIG_MAX_INCLUDE_DEPTH, path,
			    fname ? fname : "the command line");
		free(path);
		return -1;
	}
	err = config_read_file(cfg, path);
	cfg->include_depth--;
	free(path);
	return err;
}

/* Every entry goes in; include.path and a true includeIf.COND.path then
 * read their file in place, as Git does. */
int config_handle_entry(struct git_config *cfg, const char *key,
			const char *value, const char *fname)
{
	const char *cond, *dot;
	int r;

	config_add(cfg, key, value, fname);
	if (cfg->no_includes)
		return 0;
	if (!strcmp(key, "include.path"))
		return include_file(cfg, value, fname);
	if (strncmp(key, "includeif.", 10))
		return 0;
	cond = key + 10;
	dot = strrchr(cond, '.');
	if (dot == cond - 1 || dot <= cond || strcmp(dot, ".path"))
		return 0;
	r = config_condition(cfg, cond, (size_t)(dot - cond), fname);
	if (r < 0)
		return -1;
	return r ? include_file(cfg, value, fname) : 0;
}
