/*
 * `list --format`, read and expanded as `git for-each-ref --format`:
 *   %(refname) %(symref)  [:short | :lstrip=N | :strip=N | :rstrip=N]
 *   %(objectname)         [:short | :short=N]
 *   %(HEAD)  %(if[:equals=S|:notequals=S]) %(then) %(else) %(end)
 *   %(align:WIDTH[,POSITION]) ... %(end)   %%   %xx (a byte in hex)
 * and the tool's own %(updateindex) %(type) %(record) %(peeled)
 * (= %(*objectname)). Placeholders that need objects are refused with a
 * message that says so; unknown ones get Git's "unknown field name".
 *
 * Section map: placeholder parsing; the format; expansion.
 */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ref-format.h"

enum atom_kind {
	A_REFNAME, A_SYMREF, A_OBJECTNAME, A_PEELED, A_HEAD, A_IF, A_THEN,
	A_ELSE, A_END, A_ALIGN, A_UPDATEINDEX, A_TYPE, A_RECORD,
};
enum name_opt { N_FULL, N_SHORT, N_LSTRIP, N_RSTRIP };
enum cmp { CMP_NONE, CMP_EQUAL, CMP_UNEQUAL };
enum position { POS_LEFT, POS_MIDDLE, POS_RIGHT };

struct atom {
	enum atom_kind kind;
	enum name_opt name_opt;
	int strip;            /* N of lstrip/rstrip */
	int oid_len;          /* 0: full; -1: :short; else :short=N */
	enum cmp cmp;
	char *cmp_str;
	unsigned width;
	enum position pos;
};

/* A literal run of the format (still with %% and %xx), or an atom. */
struct piece {
	char *literal; /* NULL for an atom */
	struct atom atom;
};

struct ref_format {
	struct piece *pieces;
	size_t n;
};

/* ---- placeholder parsing ---- */

/* Placeholders of git for-each-ref that read objects. */
static const char *const object_atoms[] = {
	"objecttype", "objectsize", "deltabase", "tree", "parent",
	"numparent", "object", "tag", "author", "authorname", "authoremail",
	"authordate", "committer", "committername", "committeremail",
	"committerdate", "tagger", "taggername", "taggeremail", "taggerdate",
	"creator", "creatordate", "describe", "subject", "body", "trailers",
	"contents", "signature", "raw", "ahead-behind", "is-base",
};

/* Placeholders of Git that need what the tool does not read. */
static const struct {
	const char *name, *why;
} other_atoms[] = {
	{ "upstream", "Git's branch configuration" },
	{ "push", "Git's branch configuration" },
	{ "worktreepath", "the repository's work trees" },
	{ "flag", "Git's ref flags" },
	{ "color", "colours" },
};

/* A whole decimal int / unsigned, as Git's strtol_i / strtoul_ui. */
static int whole_int(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < INT_MIN || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

static int whole_unsigned(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > UINT_MAX)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int name_args(struct atom *a, const char *arg, const char *name,
		     struct sbuf *err)
{
	if (!arg) {
		a->name_opt = N_FULL;
	} else if (!strcmp(arg, "short")) {
		a->name_opt = N_SHORT;
	} else if (!strncmp(arg, "lstrip=", 7) || !strncmp(arg, "strip=", 6)) {
		a->name_opt = N_LSTRIP;
		arg = strchr(arg, '=') + 1;
		if (whole_int(arg, &a->strip))
			return sbuf_addf(err, "Integer value expected "
					 "refname:lstrip=%s", arg), -1;
	} else if (!strncmp(arg, "rstrip=", 7)) {
		a->name_opt = N_RSTRIP;
		if (whole_int(arg + 7, &a->strip))
			return sbuf_addf(err, "Integer value expected "
					 "refname:rstrip=%s", arg + 7), -1;
	} else {
		return sbuf_addf(err, "unrecognized %%(%s) argument: %s", name,
				 arg), -1;
	}
	return 0;
}

static int oid_args(struct atom *a, const char *arg, const char *whole,
		    struct sbuf *err)
{
	unsigned n;

	if (!arg) {
		a->oid_len = 0;
	} else if (!strcmp(arg, "short")) {
		a->oid_len = -1;
	} else if (!strncmp(arg, "short=", 6)) {
		if (whole_unsigned(arg + 6, &n) || !n)
			return sbuf_addf(err, "positive value expected '%s' in "
					 "%%(%s)", arg + 6, whole), -1;
		a->oid_len = n < 4 ? 4 : n > 64 ? 64 : (int)n;
	} else {
		return sbuf_addf(err, "unrecognized %%(objectname) argument: "
				 "%s", arg), -1;
	}
	return 0;
}

static int if_args(struct atom *a, const char *arg, struct sbuf *err)
{
	if (!arg)
		a->cmp = CMP_NONE;
	else if (!strncmp(arg, "equals=", 7))
		a->cmp = CMP_EQUAL, a->cmp_str = xstrdup(arg + 7);
	else if (!strncmp(arg, "notequals=", 10))
		a->cmp = CMP_UNEQUAL, a->cmp_str = xstrdup(arg + 10);
	else
		return sbuf_addf(err, "unrecognized %%(if) argument: %s", arg),
		       -1;
	return 0;
}

static int position_of(const char *s, enum position *pos)
{
	if (!strcmp(s, "left"))
		*pos = POS_LEFT;
	else if (!strcmp(s, "middle"))
		*pos = POS_MIDDLE;
	else if (!strcmp(s, "right"))
		*pos = POS_RIGHT;
	else
		return -1;
	return 0;
}

/* "WIDTH[,POSITION]", either order, or width=N and position=P. */
static int align_args(struct atom *a, const char *arg, struct sbuf *err)
{
	char *list, *s, *next;
	int found_width = 0, code = 0;

	if (!arg)
		return sbuf_addstr(err, "expected format: "
				   "%(align:<width>,<position>)"), -1;
	a->pos = POS_LEFT;
	list = xstrdup(arg);
	for (s = list; s && !code; s = next) {
		if ((next = strchr(s, ',')))
			*next++ = '\0';
		if (!strncmp(s, "position=", 9)) {
			if (position_of(s + 9, &a->pos))
				code = -1, sbuf_addf(err, "unrecognized "
						     "position:%s", s + 9);
		} else if (!strncmp(s, "width=", 6)) {
			if (whole_unsigned(s + 6, &a->width))
				code = -1, sbuf_addf(err, "unrecognized "
						     "width:%s", s + 6);
			found_width = !code;
		} else if (!whole_unsigned(s, &a->width)) {
			found_width = 1;
		} else if (position_of(s, &a->pos)) {
			code = -1;
			sbuf_addf(err, "unrecognized %%(align) argument: %s", s);
		}
	}
	free(list);
	if (!code && !found_width) {
		sbuf_addstr(err, "positive width expected with the %(align) "
				 "atom");
		code = -1;
	}
	return code;
}

static int no_args(const char *name, const char *arg, struct sbuf *err)
{
	if (arg)
		return sbuf_addf(err, "%%(%s) does not take arguments", name),
		       -1;
	return 0;
}

/* What the tool says of a placeholder it knows but cannot expand. */
static int unsupported(const char *name, const char *whole, struct sbuf *err)
{
	for (size_t i = 0; i < sizeof(object_atoms) / sizeof(*object_atoms);
	     i++)
		if (!strcmp(name, object_atoms[i]))
			return sbuf_addf(err, "%%(%s) needs the object database, "
					 "which the tool does not read",
					 whole), -1;
	for (size_t i = 0; i < sizeof(other_atoms) / sizeof(*other_atoms);
	     i++)
		if (!strcmp(name, other_atoms[i].name))
			return sbuf_addf(err, "%%(%s) needs %s, which the tool "
					 "does not read", whole,
					 other_atoms[i].why), -1;
	if (!strcmp(name, "rest"))
		return sbuf_addstr(err, "this command reject atom %(rest)"), -1;
	return sbuf_addf(err, "unknown field name: %s", whole), -1;
}

/* One placeholder's text (between "%(" and ")"), as Git parses it. */
static int parse_atom(struct atom *a, const char *text, struct sbuf *err)
{
	const char *sp = text + (*text == '*'), *colon = strchr(sp, ':');
	char *name = colon ? xstrndup(sp, (size_t)(colon - sp)) : xstrdup(sp);
	const char *arg = colon && colon[1] ? colon + 1 : NULL;
	int deref = *text == '*', code = 0;

	memset(a, 0, sizeof(*a));
	if (!*sp) {
		sbuf_addf(err, "malformed field name: %s", text);
		code = -1;
	} else if (!strcmp(name, "objectname")) {
		a->kind = deref ? A_PEELED : A_OBJECTNAME;
		code = oid_args(a, arg, text, err);
	} else if (deref) {
		sbuf_addf(err, "%%(%s): the object a tag points at needs the "
			       "object database (only %%(*objectname) is "
			       "known)", text);
		code = -1;
	} else if (!strcmp(name, "refname") || !strcmp(name, "symref")) {
		a->kind = *name == 'r' ? A_REFNAME : A_SYMREF;
		code = name_args(a, arg, name, err);
	} else if (!strcmp(name, "if")) {
		a->kind = A_IF;
		code = if_args(a, arg, err);
	} else if (!strcmp(name, "align")) {
		a->kind = A_ALIGN;
		code = align_args(a, arg, err);
	} else if (!strcmp(name, "then") || !strcmp(name, "else") ||
		   !strcmp(name, "end")) {
		/* Git ignores their arguments */
		a->kind = *name == 't' ? A_THEN : *name == 'e' && name[1] == 'l'
						  ? A_ELSE : A_END;
	} else {
		static const struct {
			const char *name;
			enum atom_kind kind;
		} plain[] = {
			{ "HEAD", A_HEAD }, { "peeled", A_PEELED },
			{ "updateindex", A_UPDATEINDEX }, { "type", A_TYPE },
			{ "record", A_RECORD },
		};
		size_t i;
		for (i = 0; i < sizeof(plain) / sizeof(*plain); i++)
			if (!strcmp(name, plain[i].name))
				break;
		if (i < sizeof(plain) / sizeof(*plain)) {
			a->kind = plain[i].kind;
			code = no_args(name, arg, err);
		} else {
			code = unsupported(name, text, err);
		}
	}
	free(name);
	return code;
}

/* ---- the format ---- */

static void add_piece(struct ref_format *f, char *literal)
{
	f->pieces = xrealloc(f->pieces, (f->n + 1) * sizeof(*f->pieces));
	memset(&f->pieces[f->n], 0, sizeof(*f->pieces));
	f->pieces[f->n++].literal = literal;
}

/* The next "%(" not part of a "%%"; NULL if none. */
static const char *next_atom(const char *p)
{
	for (; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '(')
			return p;
		if (p[1] == '%')
			p++;
	}
	return NULL;
}

int ref_format_parse(const char *fmt, struct ref_format **out,
		     struct sbuf *err)
{
	struct ref_format *f = xmalloc(sizeof(*f));
	const char *p = fmt, *sp, *ep;

	memset(f, 0, sizeof(*f));
	*out = f;
	while (*p && (sp = next_atom(p))) {
		char *text;
		int r;
		if (!(ep = strchr(sp, ')'))) {
			sbuf_addf(err, "malformed format string %s", sp);
			return -2;
		}
		if (sp > p)
			add_piece(f, xstrndup(p, (size_t)(sp - p)));
		add_piece(f, NULL);
		text = xstrndup(sp + 2, (size_t)(ep - sp - 2));
		r = parse_atom(&f->pieces[f->n - 1].atom, text, err);
		free(text);
		if (r)
			return -1;
		p = ep + 1;
	}
	if (*p)
		add_piece(f, xstrdup(p));
	return 0;
}

int ref_format_wants_short(const struct ref_format *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (!f->pieces[i].literal &&
		    (f->pieces[i].atom.kind == A_REFNAME ||
		     f->pieces[i].atom.kind == A_SYMREF) &&
		    f->pieces[i].atom.name_opt == N_SHORT)
			return 1;
	return 0;
}

void ref_format_free(struct ref_format *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->pieces[i].literal);
		free(f->pieces[i].atom.cmp_str);
	}
	free(f->pieces);
	free(f);
}

/* ---- expansion ---- */

struct if_state {
	const struct atom *atom;
	int then_seen, else_seen, satisfied;
};

/* Output being built: the line, or what an %(if) or %(align) holds. */
struct frame {
	struct sbuf out;
	const struct atom *align; /* an %(align) frame */
	struct if_state *cond;    /* an %(if) frame, or its %(else) part */
	int is_else;
};

struct expansion {
	struct frame *frames;
	size_t depth;
	struct sbuf *err;
};

static struct frame *top(struct expansion *x)
{
	return &x->frames[x->depth - 1];
}

static struct frame *push(struct expansion *x)
{
	struct frame *fr = &x->frames[x->depth++];

	memset(fr, 0, sizeof(*fr));
	sbuf_addstr(&fr->out, "");
	return fr;
}

/* Drop the top frame, its output going to the one below. */
static void pop(struct expansion *x)
{
	struct frame *fr = top(x);

	x->depth--;
	sbuf_add(&top(x)->out, fr->out.buf, fr->out.len);
	sbuf_release(&fr->out);
	if (fr->cond && !fr->is_else)
		free(fr->cond);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A literal run: %% is %, %xx the byte, any other % itself. */
static void add_literal(struct sbuf *out, const char *p)
{
	for (; *p; p++) {
		if (*p == '%' && p[1] == '%') {
			p++;
		} else if (*p == '%' && p[1] && p[2] && hexval(p[1]) >= 0 &&
			   hexval(p[2]) >= 0) {
			sbuf_addch(out, (char)(hexval(p[1]) << 4 | hexval(p[2])));
			p += 2;
			continue;
		}
		sbuf_addch(out, *p);
	}
}

/* Components to strip, Git's way: a negative N keeps -N of them. */
static int strip_count(const char *name, int n)
{
	int slashes = 0;

	if (n >= 0)
		return n;
	for (const char *p = name; *p; p++)
		slashes += *p == '/';
	return slashes + n + 1;
}

static void add_name(struct sbuf *out, const struct atom *a, const char *name,
		     const struct ref_format_item *it)
{
	int n = strip_count(name, a->strip);
	const char *p = name, *end = name + strlen(name);
	char *s;

	switch (a->name_opt) {
	case N_FULL:
		sbuf_addstr(out, name);
		return;
	case N_SHORT:
		s = it->shorten ? it->shorten(it->shorten_arg, name)
				: xstrdup(name);
		sbuf_addstr(out, s);
		free(s);
		return;
	case N_LSTRIP:
		for (; n > 0 && *p; p++)
			n -= *p == '/';
		if (n <= 0)
			sbuf_addstr(out, p);
		return;
	case N_RSTRIP:
		while (n > 0 && end > name)
			n -= *--end == '/';
		if (n <= 0)
			sbuf_add(out, name, (size_t)(end - name));
		return;
	}
}

static void add_oid(struct sbuf *out, const uint8_t *oid,
		    const struct atom *a, const struct ref_format_item *it)
{
	char hex[2 * REFTABLE_HASH_SIZE_MAX + 1];
	size_t len = 2 * it->hash_size;

	hex_encode(hex, oid, it->hash_size);
	if (a->oid_len < 0)
		len = it->abbrev;
	else if (a->oid_len > 0)
		len = (size_t)a->oid_len;
	if (len > 2 * it->hash_size)
		len = 2 * it->hash_size;
	sbuf_add(out, hex, len);
}

static const char *type_name(enum reftable_ref_value_type t)
{
	switch (t) {
	case REFTABLE_REF_DELETION:
		return "deletion";
	case REFTABLE_REF_VAL1:
		return "val1";
	case REFTABLE_REF_VAL2:
		return "val2";
	case REFTABLE_REF_SYMREF:
		return "symref";
	}
	return "unknown";
}

/* A placeholder that prints a value. */
static void add_value(struct sbuf *out, const struct atom *a,
		      const struct ref_format_item *it)
{
	const struct reftable_ref_record *r = it->ref;

	switch (a->kind) {
	case A_REFNAME:
		add_name(out, a, r->refname, it);
		break;
	case A_SYMREF:
		if (it->symref)
			add_name(out, a, it->symref, it);
		break;
	case A_OBJECTNAME:
		if (it->oid)
			add_oid(out, it->oid, a, it);
		break;
	case A_PEELED:
		if (r->value_type == REFTABLE_REF_VAL2)
			add_oid(out, r->peeled, a, it);
		break;
	case A_HEAD:
		sbuf_addstr(out, it->is_head ? "*" : " ");
		break;
	case A_UPDATEINDEX:
		sbuf_addf(out, "%llu", (unsigned long long)r->update_index);
		break;
	case A_TYPE:
		sbuf_addstr(out, type_name(r->value_type));
		break;
	case A_RECORD:
		format_ref(out, r, it->hash_size);
		out->buf[--out->len] = '\0'; /* no newline */
		break;
	default:
		break;
	}
}

static int fail(struct expansion *x, const char *msg)
{
	sbuf_addstr(x->err, msg);
	return -1;
}

static int on_then(struct expansion *x)
{
	struct frame *fr = top(x);
	struct if_state *c = fr->cond;
	const char *s = fr->out.buf;
	size_t len = fr->out.len, i;

	if (!c)
		return fail(x, "format: %(then) atom used without a %(if) atom");
	if (c->then_seen)
		return fail(x, "format: %(then) atom used more than once");
	if (c->else_seen)
		return fail(x, "format: %(then) atom used after %(else)");
	c->then_seen = 1;
	if (c->atom->cmp == CMP_NONE) {
		for (i = 0; i < len && isspace((unsigned char)s[i]); i++)
			;
		c->satisfied = i < len;
	} else {
		int same = strlen(c->atom->cmp_str) == len &&
			   !memcmp(c->atom->cmp_str, s, len);
		c->satisfied = c->atom->cmp == CMP_EQUAL ? same : !same;
	}
	sbuf_reset(&fr->out);
	sbuf_addstr(&fr->out, "");
	return 0;
}

static int on_else(struct expansion *x)
{
	struct if_state *c = top(x)->cond;
	struct frame *fr;

	if (!c)
		return fail(x, "format: %(else) atom used without a %(if) atom");
	if (!c->then_seen)
		return fail(x, "format: %(else) atom used without a %(then) "
			       "atom");
	if (c->else_seen)
		return fail(x, "format: %(else) atom used more than once");
	c->else_seen = 1;
	fr = push(x);
	fr->cond = c;
	fr->is_else = 1;
	return 0;
}

/* Pad an %(align) frame's text to its width, counting UTF-8 characters. */
static void align_frame(struct frame *fr)
{
	const struct atom *a = fr->align;
	size_t chars = 0, pad, left;
	struct sbuf s = SBUF_INIT;

	for (size_t i = 0; i < fr->out.len; i++)
		chars += ((unsigned char)fr->out.buf[i] & 0xc0) != 0x80;
	if (chars >= a->width)
		return;
	pad = a->width - chars;
	left = a->pos == POS_RIGHT ? pad : a->pos == POS_MIDDLE ? pad / 2 : 0;
	sbuf_addf(&s, "%*s", (int)left, "");
	sbuf_add(&s, fr->out.buf, fr->out.len);
	sbuf_addf(&s, "%*s", (int)(pad - left), "");
	sbuf_release(&fr->out);
	fr->out = s;
}

static int on_end(struct expansion *x)
{
	struct frame *fr = top(x);
	struct if_state *c = fr->cond;

	if (!fr->align && !c)
		return fail(x, "format: %(end) atom used without corresponding "
			       "atom");
	if (fr->align) {
		align_frame(fr);
	} else if (!c->then_seen) {
		return fail(x, "format: %(if) atom used without a %(then) atom");
	} else if (c->else_seen) {
		/* keep one branch: the %(then) text below, or this one */
		if (c->satisfied)
			sbuf_reset(&fr->out);
		else
			sbuf_reset(&x->frames[x->depth - 2].out);
		sbuf_addstr(&fr->out, "");
		pop(x);
	} else if (!c->satisfied) {
		sbuf_reset(&fr->out);
		sbuf_addstr(&fr->out, "");
	}
	pop(x);
	return 0;
}

static int on_atom(struct expansion *x, const struct atom *a,
		   const struct ref_format_item *it)
{
	struct frame *fr;

	switch (a->kind) {
	case A_IF:
		fr = push(x);
		fr->cond = xmalloc(sizeof(*fr->cond));
		memset(fr->cond, 0, sizeof(*fr->cond));
		fr->cond->atom = a;
		return 0;
	case A_THEN:
		return on_then(x);
	case A_ELSE:
		return on_else(x);
	case A_END:
		return on_end(x);
	case A_ALIGN:
		push(x)->align = a;
		return 0;
	default:
		add_value(&top(x)->out, a, it);
		return 0;
	}
}

int ref_format_expand(const struct ref_format *f,
		      const struct ref_format_item *item, struct sbuf *out,
		      struct sbuf *err)
{
	struct expansion x = { NULL, 0, err };
	int code = 0;

	x.frames = xmalloc((f->n + 2) * sizeof(*x.frames));
	push(&x);
	for (size_t i = 0; i < f->n && !code; i++) {
		if (f->pieces[i].literal)
			add_literal(&top(&x)->out, f->pieces[i].literal);
		else
			code = on_atom(&x, &f->pieces[i].atom, item);
	}
	if (!code && x.depth > 1)
		code = fail(&x, "format: %(end) atom missing");
	while (x.depth > 1)
		pop(&x);
	if (!code)
		sbuf_add(out, x.frames[0].out.buf, x.frames[0].out.len);
	sbuf_release(&x.frames[0].out);
	free(x.frames);
	return code;
}
