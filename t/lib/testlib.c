/* Shared helpers of the table-format unit tests; see testlib.h. */

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"

/* --- PRNG ------------------------------------------------------------ */

void tl_rng_init(struct tl_rng *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t tl_rng_next(struct tl_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t tl_rng_below(struct tl_rng *r, uint64_t n)
{
	/* The modulo bias is irrelevant for test data. */
	return tl_rng_next(r) % n;
}

void tl_rng_bytes(struct tl_rng *r, uint8_t *dst, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		dst[i] = (uint8_t)tl_rng_next(r);
}

/* --- strings ---------------------------------------------------------- */

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	TL_CHECK(p != NULL, "out of memory");
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	TL_CHECK(p != NULL, "out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = xmalloc(n);
	memcpy(d, s, n);
	return d;
}

static void str_grow(struct tl_str *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	b->cap = (b->len + extra + 1) * 2;
	b->s = xrealloc(b->s, b->cap);
}

void tl_str_addn(struct tl_str *b, const char *s, size_t n)
{
	str_grow(b, n);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void tl_str_add(struct tl_str *b, const char *s)
{
	tl_str_addn(b, s, strlen(s));
}

void tl_str_addf(struct tl_str *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	TL_CHECK(n >= 0, "%s", "n >= 0");
	str_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void tl_str_reset(struct tl_str *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

void tl_str_release(struct tl_str *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

const char *tl_str_get(const struct tl_str *b)
{
	return b->s ? b->s : "";
}

/* --- sink ------------------------------------------------------------- */

ssize_t tl_sink_write(void *arg, const void *buf, size_t len)
{
	struct tl_sink *s = arg;

	s->writes++;
	if (s->fail_at && s->len + len > s->fail_at)
		return -1;
	if (s->len + len > s->cap) {
		s->cap = (s->len + len) * 2;
		s->data = xrealloc(s->data, s->cap);
	}
	if (len)
		memcpy(s->data + s->len, buf, len);
	s->len += len;
	return (ssize_t)len;
}

void tl_sink_release(struct tl_sink *s)
{
	free(s->data);
	memset(s, 0, sizeof(*s));
}

/* --- model records ---------------------------------------------------- */

size_t tl_hash_size(enum reftable_hash hash)
{
	return hash == REFTABLE_HASH_SHA256 ? REFTABLE_HASH_SIZE_SHA256
					    : REFTABLE_HASH_SIZE_SHA1;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void tl_ref_copy(struct reftable_ref_record *dst,
		 const struct reftable_ref_record *src)
{
	*dst = *src;
	dst->refname = dup_or_null(src->refname);
	dst->target = dup_or_null(src->target);
	dst->refname_cap = dst->target_cap = 0;
}

void tl_log_copy(struct reftable_log_record *dst,
		 const struct reftable_log_record *src)
{
	*dst = *src;
	dst->refname = dup_or_null(src->refname);
	dst->name = dup_or_null(src->name);
	dst->email = dup_or_null(src->email);
	dst->message = dup_or_null(src->message);
	dst->refname_cap = dst->name_cap = 0;
	dst->email_cap = dst->message_cap = 0;
}

void tl_ref_clear(struct reftable_ref_record *r)
{
	free(r->refname);
	free(r->target);
	memset(r, 0, sizeof(*r));
}

void tl_log_clear(struct reftable_log_record *l)
{
	free(l->refname);
	free(l->name);
	free(l->email);
	free(l->message);
	memset(l, 0, sizeof(*l));
}

void tl_refs_add(struct tl_refs *a, const struct reftable_ref_record *r)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	tl_ref_copy(&a->v[a->n++], r);
}

void tl_logs_add(struct tl_logs *a, const struct reftable_log_record *l)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	tl_log_copy(&a->v[a->n++], l);
}

int tl_ref_key_cmp(const char *a, const char *b)
{
	/* Bytewise, as unsigned; strcmp already compares as unsigned char. */
	int c = strcmp(a, b);
	return (c > 0) - (c < 0);
}

int tl_log_key_cmp(const char *an, uint64_t aui, const char *bn, uint64_t bui)
{
	int c = tl_ref_key_cmp(an, bn);
	if (c)
		return c;
	/* Newest first. */
	return (aui < bui) - (aui > bui);
}

static int ref_sort_cmp(const void *a, const void *b)
{
	const struct reftable_ref_record *x = a, *y = b;
	return tl_ref_key_cmp(x->refname, y->refname);
}

static int log_sort_cmp(const void *a, const void *b)
{
	const struct reftable_log_record *x = a, *y = b;
	return tl_log_key_cmp(x->refname, x->update_index, y->refname,
			      y->update_index);
}

void tl_refs_sort(struct tl_refs *a)
{
	if (a->n)
		qsort(a->v, a->n, sizeof(*a->v), ref_sort_cmp);
}

void tl_logs_sort(struct tl_logs *a)
{
	if (a->n)
		qsort(a->v, a->n, sizeof(*a->v), log_sort_cmp);
}

void tl_refs_free(struct tl_refs *a)
{
	size_t i;
	for (i = 0; i < a->n; i++)
		tl_ref_clear(&a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

void tl_logs_free(struct tl_logs *a)
{
	size_t i;
	for (i = 0; i < a->n; i++)
		tl_log_clear(&a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

int tl_ref_points_at(const struct reftable_ref_record *r, const uint8_t *oid,
		     size_t hash_size)
{
	if (r->value_type == REFTABLE_REF_VAL1 ||
	    r->value_type == REFTABLE_REF_VAL2) {
		if (!memcmp(r->value, oid, hash_size))
			return 1;
	}
	if (r->value_type == REFTABLE_REF_VAL2 &&
	    !memcmp(r->peeled, oid, hash_size))
		return 1;
	return 0;
}

/* --- the records text format ----------------------------------------- */

void tl_hex(struct tl_str *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	str_grow(out, 2 * n);
	for (i = 0; i < n; i++) {
		out->s[out->len++] = digits[p[i] >> 4];
		out->s[out->len++] = digits[p[i] & 15];
	}
	out->s[out->len] = '\0';
}

/* Backslash, newline, tab and other control bytes escaped (README). */
static void add_escaped(struct tl_str *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	for (; *p; p++) {
		if (*p == '\\')
			tl_str_add(out, "\\\\");
		else if (*p == '\n')
			tl_str_add(out, "\\n");
		else if (*p == '\t')
			tl_str_add(out, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			tl_str_addf(out, "\\x%02x", *p);
		else
			tl_str_addn(out, (const char *)p, 1);
	}
}

void tl_format_ref(struct tl_str *out, const struct reftable_ref_record *r,
		   size_t hash_size)
{
	tl_str_add(out, "ref ");
	add_escaped(out, r->refname);
	tl_str_addf(out, " %llu ", (unsigned long long)r->update_index);
	switch (r->value_type) {
	case REFTABLE_REF_DELETION:
		tl_str_add(out, "delete");
		break;
	case REFTABLE_REF_VAL1:
		tl_str_add(out, "val1 ");
		tl_hex(out, r->value, hash_size);
		break;
	case REFTABLE_REF_VAL2:
		tl_str_add(out, "val2 ");
		tl_hex(out, r->value, hash_size);
		tl_str_add(out, " ");
		tl_hex(out, r->peeled, hash_size);
		break;
	case REFTABLE_REF_SYMREF:
		tl_str_add(out, "symref ");
		add_escaped(out, r->target);
		break;
	default:
		tl_str_addf(out, "type%d", (int)r->value_type);
	}
}

void tl_format_log(struct tl_str *out, const struct reftable_log_record *l,
		   size_t hash_size)
{
	tl_str_add(out, "log ");
	add_escaped(out, l->refname);
	tl_str_addf(out, " %llu ", (unsigned long long)l->update_index);
	if (l->value_type == REFTABLE_LOG_DELETION) {
		tl_str_add(out, "delete");
		return;
	}
	if (l->value_type != REFTABLE_LOG_UPDATE) {
		tl_str_addf(out, "type%d", (int)l->value_type);
		return;
	}
	tl_str_add(out, "update ");
	tl_hex(out, l->old_id, hash_size);
	tl_str_add(out, " ");
	tl_hex(out, l->new_id, hash_size);
	tl_str_add(out, " ");
	add_escaped(out, l->name);
	tl_str_add(out, " <");
	add_escaped(out, l->email);
	tl_str_addf(out, "> %llu %d ", (unsigned long long)l->time,
		    (int)l->tz_offset);
	add_escaped(out, l->message);
}

char *tl_ref_line(const struct reftable_ref_record *r, size_t hash_size)
{
	struct tl_str s = TL_STR_INIT;
	tl_format_ref(&s, r, hash_size);
	return s.s;
}

char *tl_log_line(const struct reftable_log_record *l, size_t hash_size)
{
	struct tl_str s = TL_STR_INIT;
	tl_format_log(&s, l, hash_size);
	return s.s;
}

void tl_assert_ref_eq(const struct reftable_ref_record *want,
		      const struct reftable_ref_record *got, size_t hash_size,
		      const char *ctx)
{
	char *a = tl_ref_line(want, hash_size);
	char *b = tl_ref_line(got, hash_size);
	int same = !strcmp(a, b);

	if (!same) {
		/* ck_assert_msg does not return: print, free, then fail. */
		fprintf(stderr, "%s:\n  want %s\n  got  %s\n", ctx, a, b);
	}
	free(a);
	free(b);
	TL_CHECK(same, "%s: ref records differ (see stderr)", ctx);
}

void tl_assert_log_eq(const struct reftable_log_record *want,
		      const struct reftable_log_record *got, size_t hash_size,
		      const char *ctx)
{
	char *a = tl_log_line(want, hash_size);
	char *b = tl_log_line(got, hash_size);
	int same = !strcmp(a, b);

	if (!same)
		fprintf(stderr, "%s:\n  want %s\n  got  %s\n", ctx, a, b);
	free(a);
	free(b);
	TL_CHECK(same, "%s: log records differ (see stderr)", ctx);
}

/* --- writing and opening tables -------------------------------------- */

int tl_write_table(struct tl_sink *out, const struct reftable_write_options *opts,
		   uint64_t min, uint64_t max, const struct tl_refs *refs,
		   const struct tl_logs *logs, struct reftable_write_stats *stats)
{
	struct reftable_writer *w = NULL;
	size_t i;
	int err;

	err = reftable_writer_new(&w, tl_sink_write, out, opts);
	if (err < 0)
		return err;
	err = reftable_writer_set_limits(w, min, max);
	for (i = 0; !err && refs && i < refs->n; i++)
		err = reftable_writer_add_ref(w, &refs->v[i]);
	for (i = 0; !err && logs && i < logs->n; i++)
		err = reftable_writer_add_log(w, &logs->v[i]);
	if (!err)
		err = reftable_writer_close(w);
	if (!err && stats)
		*stats = *reftable_writer_stats(w);
	reftable_writer_free(w);
	return err;
}

struct reftable_table *tl_open_buffer(const void *data, size_t len,
				      const char *name)
{
	struct reftable_table *t = NULL;
	int err = reftable_table_from_buffer(&t, data, len, name);

	TL_CHECK(err == 0, "open %s: %s (%s)", name,
		      reftable_error_str(err), reftable_error_detail());
	TL_CHECK(t != NULL, "no table");
	return t;
}

/* --- reading back ------------------------------------------------------ */

int tl_read_all_refs(struct reftable_iterator *it, struct tl_refs *out)
{
	struct reftable_ref_record r = { 0 };
	int err;

	while ((err = reftable_iterator_next_ref(it, &r)) == 0)
		tl_refs_add(out, &r);
	reftable_ref_record_release(&r);
	return err;
}

int tl_read_all_logs(struct reftable_iterator *it, struct tl_logs *out)
{
	struct reftable_log_record l = { 0 };
	int err;

	while ((err = reftable_iterator_next_log(it, &l)) == 0)
		tl_logs_add(out, &l);
	reftable_log_record_release(&l);
	return err;
}

int tl_table_refs(struct reftable_table *t, struct tl_refs *out)
{
	struct reftable_iterator it = { 0 };
	int err = reftable_table_init_ref_iterator(t, &it);

	if (!err)
		err = reftable_iterator_seek_ref(&it, "");
	if (!err)
		err = tl_read_all_refs(&it, out);
	reftable_iterator_destroy(&it);
	return err;
}

int tl_table_logs(struct reftable_table *t, struct tl_logs *out)
{
	struct reftable_iterator it = { 0 };
	int err = reftable_table_init_log_iterator(t, &it);

	if (!err)
		err = reftable_iterator_seek_log(&it, "");
	if (!err)
		err = tl_read_all_logs(&it, out);
	reftable_iterator_destroy(&it);
	return err;
}

/* --- files and directories ------------------------------------------- */

char *tl_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];
	char *dir;

	snprintf(tmpl, sizeof(tmpl), "%s/reftable-unit-XXXXXX",
		 base && *base ? base : "/tmp");
	dir = mkdtemp(tmpl);
	TL_CHECK(dir != NULL, "mkdtemp: %s", strerror(errno));
	return xstrdup(dir);
}

static void rmtree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char *p;
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = tl_path(dir, e->d_name);
		if (!lstat(p, &st) && S_ISDIR(st.st_mode))
			rmtree(p);
		else
			unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

void tl_rmtree(char *dir)
{
	if (dir)
		rmtree(dir);
	free(dir);
}

char *tl_path(const char *dir, const char *name)
{
	struct tl_str s = TL_STR_INIT;
	tl_str_addf(&s, "%s/%s", dir, name);
	return s.s;
}

void tl_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	TL_CHECK(f != NULL, "%s: %s", path, strerror(errno));
	TL_CHECK(len == 0 || fwrite(data, 1, len, f) == len, "%s", "len == 0 || fwrite(data, 1, len, f) == len");
	TL_CHECK(fclose(f) == 0, "%s", "fclose(f) == 0");
}

uint8_t *tl_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t n = 0, cap = 0, got;

	if (!f)
		return NULL;
	do {
		if (cap - n < 65536) {
			cap = cap * 2 + 65536;
			data = xrealloc(data, cap + 1);
		}
		got = fread(data + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	/* Exactly n bytes (plus a NUL), so overreads hit the sanitizer. */
	data = xrealloc(data, n + 1);
	data[n] = '\0';
	*len = n;
	return data;
}

char **tl_read_lines(const char *path, size_t *n)
{
	size_t len, i, start = 0, cnt = 0, cap = 16;
	uint8_t *data = tl_read_file(path, &len);
	char **lines;

	TL_CHECK(data != NULL, "cannot read %s", path);
	lines = xmalloc(cap * sizeof(*lines));
	for (i = 0; i <= len; i++) {
		if (i < len && data[i] != '\n')
			continue;
		if (i == len && start == len)
			break; /* no partial last line */
		if (cnt == cap) {
			cap *= 2;
			lines = xrealloc(lines, cap * sizeof(*lines));
		}
		lines[cnt] = xmalloc(i - start + 1);
		memcpy(lines[cnt], data + start, i - start);
		lines[cnt][i - start] = '\0';
		cnt++;
		start = i + 1;
	}
	free(data);
	*n = cnt;
	return lines;
}

void tl_free_lines(char **lines, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

const char *tl_test_data(void)
{
	const char *d = getenv("REFTABLE_TEST_DATA");
	return d && *d ? d : "t";
}

int tl_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
