#ifndef REF_FORMAT_H
#define REF_FORMAT_H

/*
 * `list --format`: the placeholders of `git for-each-ref --format` that
 * need no object database, with Git's modifiers and messages, and the
 * tool's own (%(updateindex), %(type), %(record), %(peeled)).
 */

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

struct ref_format;

/* What the placeholders of one ref ask for. */
struct ref_format_item {
	const struct reftable_ref_record *ref;
	size_t hash_size;
	const uint8_t *oid;  /* the id it resolves to; NULL: dangling */
	const char *symref;  /* a symref: the name at the end of its chain */
	int is_head;         /* HEAD resolves to this ref */
	/* %(refname:short): the shortest unambiguous name, malloc'ed */
	char *(*shorten)(void *arg, const char *refname);
	void *shorten_arg;
	unsigned abbrev;     /* %(objectname:short): digits */
};

/*
 * Parse fmt as git for-each-ref does. 0; or -1 with Git's message in err
 * ("unknown field name: x"); or -2 for a format Git calls malformed
 * (no closing parenthesis), with the message.
 */
int ref_format_parse(const char *fmt, struct ref_format **out,
		     struct sbuf *err);

/* Does the format use %(refname:short) or %(symref:short)? */
int ref_format_wants_short(const struct ref_format *f);

/* Append one ref's line (without newline) to out. 0, or -1 with Git's
 * message in err (a misplaced %(then), %(else) or %(end)). */
int ref_format_expand(const struct ref_format *f,
		      const struct ref_format_item *item, struct sbuf *out,
		      struct sbuf *err);

void ref_format_free(struct ref_format *f);

#endif
