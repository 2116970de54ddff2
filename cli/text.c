/*
 * The records text format (t/fixtures/git/README.md): one record a line,
 * written by `dump --records` and read back by `write`.
 *
 * Fields are separated by single spaces. Messages, names and emails are
 * escaped so a record always fits on one line. Ref names and symref
 * targets use the same escapes plus \x20 for a space, so that a name that
 * Git would refuse still round-trips; names Git accepts never change.
 * Likewise committer names and emails escape '<' and '>' (\x3c, \x3e),
 * which Git strips from them, so "NAME <EMAIL>" splits where it joined.
 */

#include <stdlib.h>
#include <string.h>

#include "cli.h"

void text_escape(struct sbuf *out, const char *s, const char *also)
{
	static const char digits[] = "0123456789abcdef";

	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		unsigned char c = *p;
		if (c == '\\')
			sbuf_addstr(out, "\\\\");
		else if (c == '\n')
			sbuf_addstr(out, "\\n");
		else if (c == '\t')
			sbuf_addstr(out, "\\t");
		else if (c < 0x20 || c == 0x7f || strchr(also, c)) {
			char esc[4] = { '\\', 'x', digits[c >> 4],
					digits[c & 0xf] };
			sbuf_add(out, esc, 4);
		} else
			sbuf_addch(out, (char)c);
	}
}

static int hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int text_unescape(struct sbuf *out, const char *s, size_t len,
		  const char **why)
{
	sbuf_reset(out);
	sbuf_add(out, "", 0);
	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		if (s[i] != '\\') {
			sbuf_addch(out, s[i]);
			continue;
		}
		if (++i >= len) {
			*why = "a backslash ends the field";
			return -1;
		}
		switch (s[i]) {
		case '\\':
			sbuf_addch(out, '\\');
			break;
		case 'n':
			sbuf_addch(out, '\n');
			break;
		case 't':
			sbuf_addch(out, '\t');
			break;
		case 'x':
			if (i + 2 >= len) {
				*why = "\\x needs two hex digits";
				return -1;
			}
			hi = hexdigit(s[i + 1]);
			lo = hexdigit(s[i + 2]);
			if (hi < 0 || lo < 0) {
				*why = "\\x needs two hex digits";
				return -1;
			}
			if (!hi && !lo) {
				*why = "\\x00 cannot be stored (strings end at NUL)";
				return -1;
			}
			sbuf_addch(out, (char)(hi << 4 | lo));
			i += 2;
			break;
		default:
			*why = "unknown escape (use \\\\, \\n, \\t or \\xHH)";
			return -1;
		}
	}
	return 0;
}

static void add_oid(struct sbuf *out, const uint8_t *oid, size_t hash_size)
{
	char hex[2 * REFTABLE_HASH_SIZE_MAX + 1];
	hex_encode(hex, oid, hash_size);
	sbuf_add(out, hex, 2 * hash_size);
}

void format_ref(struct sbuf *out, const struct reftable_ref_record *ref,
		size_t hash_size)
{
	sbuf_addstr(out, "ref ");
	text_escape(out, ref->refname, " ");
	sbuf_addf(out, " %llu ", (unsigned long long)ref->update_index);
	switch (ref->value_type) {
	case REFTABLE_REF_DELETION:
		sbuf_addstr(out, "delete");
		break;
	case REFTABLE_REF_VAL1:
		sbuf_addstr(out, "val1 ");
		add_oid(out, ref->value, hash_size);
		break;
	case REFTABLE_REF_VAL2:
		sbuf_addstr(out, "val2 ");
		add_oid(out, ref->value, hash_size);
		sbuf_addch(out, ' ');
		add_oid(out, ref->peeled, hash_size);
		break;
	case REFTABLE_REF_SYMREF:
		sbuf_addstr(out, "symref ");
		text_escape(out, ref->target, " ");
		break;
	default:
		sbuf_addf(out, "unknown-type-%d", (int)ref->value_type);
	}
	sbuf_addch(out, '\n');
}

void format_log(struct sbuf *out, const struct reftable_log_record *log,
		size_t hash_size)
{
	sbuf_addstr(out, "log ");
	text_escape(out, log->refname, " ");
	sbuf_addf(out, " %llu ", (unsigned long long)log->update_index);
	if (log->value_type == REFTABLE_LOG_DELETION) {
		sbuf_addstr(out, "delete\n");
		return;
	}
	sbuf_addstr(out, "update ");
	add_oid(out, log->old_id, hash_size);
	sbuf_addch(out, ' ');
	add_oid(out, log->new_id, hash_size);
	sbuf_addch(out, ' ');
	text_escape(out, log->name, "<>");
	sbuf_addstr(out, " <");
	text_escape(out, log->email, "<>");
	sbuf_addf(out, "> %llu %d ", (unsigned long long)log->time,
		  (int)log->tz_offset);
	text_escape(out, log->message, "");
	sbuf_addch(out, '\n');
}

/* ---- parsing ---- */

/* A cursor over the fields of one line. */
struct fields {
	const char *p, *end;
};

/* Next space-separated field; 0 ok, -1 at the end of the line. */
static int next_field(struct fields *f, const char **start, size_t *len)
{
	const char *sp;
	if (f->p > f->end || (f->p == f->end))
		return -1;
	sp = memchr(f->p, ' ', (size_t)(f->end - f->p));
	*start = f->p;
	*len = sp ? (size_t)(sp - f->p) : (size_t)(f->end - f->p);
	f->p = sp ? sp + 1 : f->end;
	return 0;
}

static int at_end(const struct fields *f)
{
	return f->p >= f->end;
}

static int field_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && !memcmp(s, word, len);
}

static int parse_u64_field(const char *s, size_t len, uint64_t *out)
{
	char tmp[32];
	if (!len || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return parse_u64(tmp, out);
}

/* An escaped string field into a fresh malloc'ed string. */
static int unescape_field(char **out, const char *s, size_t len,
			  const char *what, struct sbuf *why)
{
	struct sbuf tmp = SBUF_INIT;
	const char *reason;
	if (text_unescape(&tmp, s, len, &reason)) {
		sbuf_addf(why, "%s: %s", what, reason);
		sbuf_release(&tmp);
		return -1;
	}
	*out = sbuf_detach(&tmp);
	return 0;
}

static int oid_field(struct fields *f, uint8_t *oid, size_t hash_size,
		     const char *what, struct sbuf *why)
{
	const char *s;
	size_t len;
	if (next_field(f, &s, &len)) {
		sbuf_addf(why, "missing %s", what);
		return -1;
	}
	if (hex_decode(oid, hash_size, s, len)) {
		sbuf_addf(why, "%s '%.*s' is not %zu hex digits", what,
			  (int)len, s, 2 * hash_size);
		return -1;
	}
	return 0;
}

/* "REFNAME UPDATE_INDEX", common to refs and logs. */
static int name_and_index(struct fields *f, char **refname, uint64_t *ui,
			  struct sbuf *why)
{
	const char *s;
	size_t len;
	if (next_field(f, &s, &len) || !len) {
		sbuf_addstr(why, "missing ref name");
		return -1;
	}
	if (unescape_field(refname, s, len, "ref name", why))
		return -1;
	if (next_field(f, &s, &len) || parse_u64_field(s, len, ui)) {
		sbuf_addstr(why, "missing or bad update index");
		return -1;
	}
	return 0;
}

static int parse_table(struct text_line *out, struct fields *f,
		       struct sbuf *why)
{
	const char *s;
	size_t len;
	if (next_field(f, &s, &len) || !len) {
		sbuf_addstr(why, "table line: missing name");
		return -1;
	}
	out->table_name = xstrndup(s, len);
	if (next_field(f, &s, &len) || parse_u64_field(s, len, &out->min_ui) ||
	    next_field(f, &s, &len) || parse_u64_field(s, len, &out->max_ui)) {
		sbuf_addstr(why, "table line: wants NAME MIN_UPDATE_INDEX "
				 "MAX_UPDATE_INDEX");
		return -1;
	}
	return 0;
}

static int parse_ref(struct reftable_ref_record *ref, struct fields *f,
		     size_t hash_size, struct sbuf *why)
{
	const char *s;
	size_t len;

	if (name_and_index(f, &ref->refname, &ref->update_index, why))
		return -1;
	if (next_field(f, &s, &len)) {
		sbuf_addstr(why, "missing value type (delete, val1, val2 or "
				 "symref)");
		return -1;
	}
	if (field_is(s, len, "delete")) {
		ref->value_type = REFTABLE_REF_DELETION;
	} else if (field_is(s, len, "val1")) {
		ref->value_type = REFTABLE_REF_VAL1;
		if (oid_field(f, ref->value, hash_size, "object id", why))
			return -1;
	} else if (field_is(s, len, "val2")) {
		ref->value_type = REFTABLE_REF_VAL2;
		if (oid_field(f, ref->value, hash_size, "object id", why) ||
		    oid_field(f, ref->peeled, hash_size, "peeled id", why))
			return -1;
	} else if (field_is(s, len, "symref")) {
		ref->value_type = REFTABLE_REF_SYMREF;
		if (next_field(f, &s, &len) || !len) {
			sbuf_addstr(why, "missing symref target");
			return -1;
		}
		if (unescape_field(&ref->target, s, len, "symref target", why))
			return -1;
	} else {
		sbuf_addf(why, "unknown ref value type '%.*s'", (int)len, s);
		return -1;
	}
	if (!at_end(f)) {
		sbuf_addstr(why, "unexpected text after the ref record");
		return -1;
	}
	return 0;
}

static int is_digits(const char *s, const char *end)
{
	if (s >= end)
		return 0;
	for (; s < end; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/*
 * If s (up to end) starts with "> TIME TZ" followed by a space or the end
 * of the line, return where TIME starts; NULL otherwise.
 */
static const char *time_tz_at(const char *s, const char *end)
{
	const char *t, *sp1, *z, *zend;
	if (end - s < 5 || s[0] != '>' || s[1] != ' ')
		return NULL;
	t = s + 2;
	sp1 = memchr(t, ' ', (size_t)(end - t));
	if (!sp1 || !is_digits(t, sp1))
		return NULL;
	z = sp1 + 1;
	zend = memchr(z, ' ', (size_t)(end - z));
	if (!zend)
		zend = end;
	if (z < zend && (*z == '-' || *z == '+'))
		z++;
	return is_digits(z, zend) ? t : NULL;
}

/*
 * "NAME <EMAIL> TIME TZ MESSAGE". The email ends at the first '>' that
 * is followed by a time and a zone; it starts at the last '<' before
 * that. The dump escapes '<' and '>' in both, so that is exact; hand
 * written lines may still have a raw '<' in the name.
 */
static int parse_ident(struct reftable_log_record *log, struct fields *f,
		       struct sbuf *why)
{
	const char *rest = f->p, *end = f->end, *gt = NULL, *lt = NULL;
	const char *t = NULL, *sp, *zend;
	uint64_t time;
	int64_t tz;

	for (const char *p = rest; p < end; p++)
		if (*p == '>' && (t = time_tz_at(p, end))) {
			gt = p;
			break;
		}
	for (const char *p = rest; gt && p < gt; p++)
		if (*p == '<')
			lt = p;
	if (!gt || !lt || (lt > rest && lt[-1] != ' ')) {
		sbuf_addstr(why, "wants NAME <EMAIL> TIME TZ MESSAGE after "
				 "the object ids");
		return -1;
	}
	/* The space before '<' separates; it is not part of the name. */
	if (unescape_field(&log->name, rest,
			   (size_t)(lt - rest) - (lt > rest ? 1 : 0), "name",
			   why) ||
	    unescape_field(&log->email, lt + 1, (size_t)(gt - lt - 1),
			   "email", why))
		return -1;
	sp = memchr(t, ' ', (size_t)(end - t));
	if (parse_u64_field(t, (size_t)(sp - t), &time)) {
		sbuf_addstr(why, "bad time");
		return -1;
	}
	zend = memchr(sp + 1, ' ', (size_t)(end - sp - 1));
	if (!zend)
		zend = end;
	{
		char tmp[16];
		size_t n = (size_t)(zend - sp - 1);
		if (n >= sizeof(tmp)) {
			sbuf_addstr(why, "time zone out of range");
			return -1;
		}
		memcpy(tmp, sp + 1, n);
		tmp[n] = '\0';
		if (parse_i64(tmp, &tz) || tz < INT16_MIN || tz > INT16_MAX) {
			sbuf_addf(why, "time zone '%s' is not a 16-bit number",
				  tmp);
			return -1;
		}
	}
	log->time = time;
	log->tz_offset = (int16_t)tz;
	/* The message is the rest after one space; none means empty. */
	if (zend < end)
		zend++;
	return unescape_field(&log->message, zend, (size_t)(end - zend),
			      "message", why);
}

static int parse_log(struct reftable_log_record *log, struct fields *f,
		     size_t hash_size, struct sbuf *why)
{
	const char *s;
	size_t len;

	if (name_and_index(f, &log->refname, &log->update_index, why))
		return -1;
	if (next_field(f, &s, &len)) {
		sbuf_addstr(why, "missing log type (delete or update)");
		return -1;
	}
	if (field_is(s, len, "delete")) {
		log->value_type = REFTABLE_LOG_DELETION;
		if (!at_end(f)) {
			sbuf_addstr(why, "unexpected text after 'delete'");
			return -1;
		}
		return 0;
	}
	if (!field_is(s, len, "update")) {
		sbuf_addf(why, "unknown log type '%.*s'", (int)len, s);
		return -1;
	}
	log->value_type = REFTABLE_LOG_UPDATE;
	if (oid_field(f, log->old_id, hash_size, "old object id", why) ||
	    oid_field(f, log->new_id, hash_size, "new object id", why))
		return -1;
	return parse_ident(log, f, why);
}

int parse_line(struct text_line *out, const char *line, size_t hash_size,
	       struct sbuf *why)
{
	struct fields f = { line, line + strlen(line) };
	const char *s;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (next_field(&f, &s, &len)) {
		sbuf_addstr(why, "empty line");
		return -1;
	}
	if (field_is(s, len, "table")) {
		out->kind = LINE_TABLE;
		if (parse_table(out, &f, why))
			return -1;
		if (!at_end(&f)) {
			sbuf_addstr(why, "unexpected text after the table line");
			return -1;
		}
		return 0;
	}
	if (field_is(s, len, "ref")) {
		out->kind = LINE_REF;
		return parse_ref(&out->ref, &f, hash_size, why);
	}
	if (field_is(s, len, "log")) {
		out->kind = LINE_LOG;
		return parse_log(&out->log, &f, hash_size, why);
	}
	sbuf_addf(why, "unknown record kind '%.*s' (want table, ref or log)",
		  (int)len, s);
	return -1;
}

void text_line_release(struct text_line *l)
{
	free(l->table_name);
	free(l->ref.refname);
	free(l->ref.target);
	free(l->log.refname);
	free(l->log.name);
	free(l->log.email);
	free(l->log.message);
	memset(l, 0, sizeof(*l));
}
