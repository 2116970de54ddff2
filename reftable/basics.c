/* Allocation hooks, varints, byte buffers and error details. */

#include "basics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void *(*malloc_ptr)(size_t) = malloc;
static void *(*realloc_ptr)(void *, size_t) = realloc;
static void (*free_ptr)(void *) = free;

void reftable_set_alloc(void *(*malloc_fn)(size_t),
			void *(*realloc_fn)(void *, size_t),
			void (*free_fn)(void *))
{
	malloc_ptr = malloc_fn ? malloc_fn : malloc;
	realloc_ptr = realloc_fn ? realloc_fn : realloc;
	free_ptr = free_fn ? free_fn : free;
}

/*
 * Every REFTABLE_NOMEM_ERROR starts here: at an allocation of this file
 * that failed, or at a size that does not fit a size_t. Recording the
 * detail at that one point means no return of the code, however far up,
 * reports an older failure's detail (reftable-error.h).
 */
static int out_of_memory(size_t bytes)
{
	if (bytes == SIZE_MAX)
		return reftable_fail(REFTABLE_NOMEM_ERROR,
				     "out of memory (a size beyond size_t)");
	return reftable_fail(REFTABLE_NOMEM_ERROR,
			     "out of memory (allocating %zu bytes)", bytes);
}

void *reftable_malloc(size_t n)
{
	void *p = malloc_ptr(n ? n : 1);

	if (!p)
		out_of_memory(n);
	return p;
}

void *reftable_realloc(void *p, size_t n)
{
	void *q = realloc_ptr(p, n ? n : 1);

	if (!q)
		out_of_memory(n);
	return q;
}

void *reftable_calloc(size_t nmemb, size_t size)
{
	void *p;
	if (size && nmemb > SIZE_MAX / size) {
		out_of_memory(SIZE_MAX);
		return NULL;
	}
	p = reftable_malloc(nmemb * size);
	if (p)
		memset(p, 0, nmemb * size);
	return p;
}

void reftable_free(void *p)
{
	if (p)
		free_ptr(p);
}

char *reftable_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = reftable_malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

int reftable_grow(void **arr, size_t *cap, size_t want, size_t elem_size)
{
	size_t ncap;
	void *p;

	if (want <= *cap)
		return 0;
	ncap = *cap < 8 ? 8 : *cap;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2)
			return out_of_memory(SIZE_MAX);
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / elem_size)
		return out_of_memory(SIZE_MAX);
	p = reftable_realloc(*arr, ncap * elem_size);
	if (!p)
		return REFTABLE_NOMEM_ERROR;
	*arr = p;
	*cap = ncap;
	return 0;
}

static _Thread_local char error_detail[REFTABLE_DETAIL_SIZE];

int reftable_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(error_detail, sizeof(error_detail), fmt, ap);
	va_end(ap);
	return err;
}

int reftable_fail_committed(int err)
{
	char why[sizeof(error_detail)];

	if (err >= 0 || err == REFTABLE_COMMITTED_ERROR)
		return err;
	memcpy(why, error_detail, sizeof(why));
	return reftable_fail(REFTABLE_COMMITTED_ERROR,
			     "committed, but then: %s", why);
}

void error_detail_save(char saved[REFTABLE_DETAIL_SIZE])
{
	memcpy(saved, error_detail, sizeof(error_detail));
}

void error_detail_restore(const char saved[REFTABLE_DETAIL_SIZE])
{
	memcpy(error_detail, saved, sizeof(error_detail));
}

const char *reftable_error_detail(void)
{
	return error_detail;
}

const char *reftable_error_str(int err)
{
	switch (err) {
	case REFTABLE_OK:
		return "success";
	case REFTABLE_IO_ERROR:
		return "I/O error";
	case REFTABLE_FORMAT_ERROR:
		return "corrupt reftable";
	case REFTABLE_CHECKSUM_ERROR:
		return "footer checksum mismatch";
	case REFTABLE_UNSUPPORTED_ERROR:
		return "unsupported reftable version or hash";
	case REFTABLE_NOT_EXIST_ERROR:
		return "file does not exist";
	case REFTABLE_LOCK_ERROR:
		return "lock held by another process";
	case REFTABLE_API_ERROR:
		return "invalid use of the API";
	case REFTABLE_ZLIB_ERROR:
		return "log block (de)compression failed";
	case REFTABLE_OUT_OF_ORDER_ERROR:
		return "records added out of order";
	case REFTABLE_DUPLICATE_KEY_ERROR:
		return "duplicate record key";
	case REFTABLE_ENTRY_TOO_BIG_ERROR:
		return "record too large for a block";
	case REFTABLE_UPDATE_INDEX_ERROR:
		return "update index outside the table's limits";
	case REFTABLE_REFNAME_ERROR:
		return "invalid ref name";
	case REFTABLE_NAME_CONFLICT_ERROR:
		return "ref name conflicts with an existing ref";
	case REFTABLE_OUTDATED_ERROR:
		return "stack changed concurrently";
	case REFTABLE_CAS_ERROR:
		return "ref does not have the expected value";
	case REFTABLE_SYMREF_ERROR:
		return "symbolic ref chain too deep or cyclic";
	case REFTABLE_NOMEM_ERROR:
		return "out of memory";
	case REFTABLE_RANGE_ERROR:
		return "value out of range";
	case REFTABLE_COMMITTED_ERROR:
		return "committed, but a step after the commit failed";
	}
	return "unknown error";
}

int put_varint_long(uint8_t *dst, size_t cap, uint64_t v)
{
	uint8_t tmp[VARINT_MAX_LEN];
	int pos = VARINT_MAX_LEN - 1, n;

	tmp[pos] = v & 0x7f;
	while ((v >>= 7) != 0) {
		v--;
		tmp[--pos] = 0x80 | (v & 0x7f);
	}
	n = VARINT_MAX_LEN - pos;
	if ((size_t)n > cap)
		return -1;
	memcpy(dst, tmp + pos, n);
	return n;
}

int get_varint_long(uint64_t *v, const uint8_t *src, size_t len)
{
	uint64_t val;
	size_t i = 0;

	if (!len)
		return -1;
	val = src[0] & 0x7f;
	while (src[i] & 0x80) {
		if (++i >= len)
			return -1;
		/* val + 1 shifted by 7 must still fit in 64 bits. */
		if (val >= (UINT64_MAX >> 7))
			return -1;
		val = ((val + 1) << 7) | (src[i] & 0x7f);
	}
	*v = val;
	return (int)i + 1;
}

int varint_len(uint64_t v)
{
	int n = 1;
	while ((v >>= 7) != 0) {
		v--;
		n++;
	}
	return n;
}

int buf_grow(struct buf *b, size_t extra)
{
	size_t want = b->len + extra + 1;

	if (want <= b->cap)
		return 0;
	/* Most buffers hold a key or a name: one allocation fits them. */
	return reftable_grow((void **)&b->data, &b->cap, want < 64 ? 64 : want,
			     1);
}

int buf_add(struct buf *b, const void *data, size_t len)
{
	if (buf_grow(b, len) < 0)
		return REFTABLE_NOMEM_ERROR;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = 0;
	return 0;
}

int buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addch(struct buf *b, uint8_t c)
{
	return buf_add(b, &c, 1);
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return reftable_fail(REFTABLE_NOMEM_ERROR, "vsnprintf failed");
	if (buf_grow(b, (size_t)n + 1) < 0)
		return REFTABLE_NOMEM_ERROR;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int buf_set_grow(struct buf *b, const void *data, size_t len)
{
	b->len = 0;
	return buf_add(b, data, len);
}

int buf_setlen_grow(struct buf *b, size_t len)
{
	/* Even an empty buffer gets storage: callers copy into data. */
	if (buf_grow(b, len > b->len ? len - b->len : 0) < 0)
		return REFTABLE_NOMEM_ERROR;
	b->len = len;
	b->data[len] = 0;
	return 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

void buf_release(struct buf *b)
{
	reftable_free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *buf_detach(struct buf *b)
{
	char *p = (char *)b->data;
	if (!p)
		p = reftable_calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

int owned_str_reserve(char **dst, size_t *cap, size_t want)
{
	size_t ncap = *cap ? *cap : 16;
	char *p;

	if (want <= *cap)
		return 0;
	while (ncap < want)
		ncap *= 2;
	/* A record the caller filled points to memory we do not own. */
	p = reftable_realloc(*cap ? *dst : NULL, ncap);
	if (!p)
		return REFTABLE_NOMEM_ERROR;
	*dst = p;
	*cap = ncap;
	return 0;
}

int set_owned_str_grow(char **dst, size_t *cap, const char *src,
		       size_t len)
{
	if (owned_str_reserve(dst, cap, len + 1) < 0)
		return REFTABLE_NOMEM_ERROR;
	memcpy(*dst, src, len);
	(*dst)[len] = 0;
	return 0;
}
