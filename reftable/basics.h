#ifndef BASICS_H
#define BASICS_H

/* Internal: integer encodings, a growable byte buffer, allocation, errors. */

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "reftable-alloc.h"
#include "reftable-error.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *reftable_malloc(size_t n);
void *reftable_realloc(void *p, size_t n);
void *reftable_calloc(size_t nmemb, size_t size);
void reftable_free(void *p);
char *reftable_strdup(const char *s);

/*
 * Grow *arr (of elements of elem_size bytes, capacity *cap) to hold at
 * least want elements. 0 or REFTABLE_NOMEM_ERROR.
 */
int reftable_grow(void **arr, size_t *cap, size_t want, size_t elem_size);
#define REFTABLE_GROW(arr, cap, want) \
	reftable_grow((void **)&(arr), &(cap), (want), sizeof(*(arr)))

/*
 * Record err with a printf-style detail for reftable_error_detail() and
 * return err, so failures read: return reftable_fail(ERR, "...", ...).
 */
int reftable_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* err, a failure after a change was published, as REFTABLE_COMMITTED_ERROR
 * with the original detail after "committed, but then: ". */
int reftable_fail_committed(int err);

/* A cleanup that reports nothing (a destroy) must not replace the detail
 * of the failure its caller is about to print. */
#define REFTABLE_DETAIL_SIZE 512
void error_detail_save(char saved[REFTABLE_DETAIL_SIZE]);
void error_detail_restore(const char saved[REFTABLE_DETAIL_SIZE]);

/* Big-endian fixed-width integers. */
static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}
static inline void put_be24(uint8_t *p, uint32_t v)
{
	p[0] = v >> 16;
	p[1] = v >> 8;
	p[2] = v;
}
static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}
static inline void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, v >> 32);
	put_be32(p + 4, (uint32_t)v);
}
static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}
static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/*
 * The format's varint: big-endian groups of 7 bits, each non-final group
 * with the high bit set and stored minus one, so every value has exactly
 * one encoding. At most 10 bytes.
 */
#define VARINT_MAX_LEN 10

/* Bytes written to dst, or -1 if cap is too small. */
int put_varint_long(uint8_t *dst, size_t cap, uint64_t v);
static inline int put_varint(uint8_t *dst, size_t cap, uint64_t v)
{
	if (v < 0x80 && cap) {
		dst[0] = (uint8_t)v;
		return 1;
	}
	return put_varint_long(dst, cap, v);
}
/* Bytes read from src, or -1 if truncated or the value overflows 64 bits. */
int get_varint_long(uint64_t *v, const uint8_t *src, size_t len);
/* Most varints of a table are one byte: decode those inline. */
static inline int get_varint(uint64_t *v, const uint8_t *src, size_t len)
{
	if (len && !(src[0] & 0x80)) {
		*v = src[0];
		return 1;
	}
	return get_varint_long(v, src, len);
}
/* Bytes the encoding of v takes. */
int varint_len(uint64_t v);

/* A growable byte buffer, always NUL-terminated past len. */
struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};
#define BUF_INIT { NULL, 0, 0 }

int buf_grow(struct buf *b, size_t extra);
int buf_add(struct buf *b, const void *data, size_t len);
int buf_addstr(struct buf *b, const char *s);
int buf_addch(struct buf *b, uint8_t c);
/* Append printf-formatted text. */
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_set_grow(struct buf *b, const void *data, size_t len);
/* Replace the contents with data. */
static inline int buf_set(struct buf *b, const void *data, size_t len)
{
	if (len >= b->cap)
		return buf_set_grow(b, data, len);
	if (len)
		memcpy(b->data, data, len);
	b->len = len;
	b->data[len] = 0;
	return 0;
}
int buf_setlen_grow(struct buf *b, size_t len);
/* Set the length, growing if needed; the new bytes are not cleared. */
static inline int buf_setlen(struct buf *b, size_t len)
{
	if (len >= b->cap)
		return buf_setlen_grow(b, len);
	b->len = len;
	b->data[len] = 0;
	return 0;
}
void buf_reset(struct buf *b);
void buf_release(struct buf *b);
/* Move the contents out; the caller frees with reftable_free(). */
char *buf_detach(struct buf *b);

/* Whether s ends in suffix. */
static inline int str_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* memcmp of the common part, then the shorter first. */
static inline int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b,
			  size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;
	if (c)
		return c;
	return (alen > blen) - (alen < blen);
}

/* Leading bytes two big-endian 8-byte words share (8 if equal). */
static inline size_t common_prefix_be64(uint64_t a, uint64_t b)
{
	uint64_t x = a ^ b;
	size_t n = 0;

	if (!x)
		return 8;
#if defined(__GNUC__)
	n = (size_t)__builtin_clzll(x) >> 3;
#else
	while (!(x & 0xff00000000000000ull)) {
		x <<= 8;
		n++;
	}
#endif
	return n;
}

/* Ask for the len bytes at p, a cache line at a time, without waiting:
 * reads that would follow one another then overlap. */
static inline void prefetch_bytes(const void *p, size_t len)
{
	const uint8_t *at = p;
	size_t off;

	for (off = 0; off < len; off += 64)
		__builtin_prefetch(at + off);
}

/* Whether any byte of the 8 in w is zero. */
static inline uint64_t has_zero_byte(uint64_t w)
{
	return (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull;
}

/*
 * memcpy for the short copies of keys and names a scan makes per record:
 * no call, and for most lengths no loop (the last word overlaps). Nonzero
 * if a byte copied is NUL, which a ref name must not hold; callers that
 * copy other bytes ignore it, and the compiler drops the test.
 */
static inline uint64_t copy_short(uint8_t *dst, const uint8_t *src, size_t n)
{
	uint64_t w, zero = 0;
	uint32_t a, b;
	size_t i;

	if (n >= 8) {
		for (i = 0; i + 8 < n; i += 8) {
			memcpy(&w, src + i, 8);
			memcpy(dst + i, &w, 8);
			zero |= has_zero_byte(w);
		}
		memcpy(&w, src + n - 8, 8);
		memcpy(dst + n - 8, &w, 8);
		return zero | has_zero_byte(w);
	}
	if (n >= 4) {
		memcpy(&a, src, 4);
		memcpy(&b, src + n - 4, 4);
		memcpy(dst, &a, 4);
		memcpy(dst + n - 4, &b, 4);
		return has_zero_byte(a | (uint64_t)b << 32);
	}
	if (n) {
		dst[0] = src[0];
		dst[n / 2] = src[n / 2];
		dst[n - 1] = src[n - 1];
		return !src[0] | !src[n / 2] | !src[n - 1];
	}
	return 0;
}

/*
 * copy_short for n <= 16 where 16 bytes can be read at src and written
 * at dst: on SSE2 all 16 are copied, one load and one store, and one
 * compare finds a NUL. Nonzero if one of the first n bytes is NUL.
 */
static inline uint64_t copy_16(uint8_t *dst, const uint8_t *src, size_t n)
{
#ifdef __SSE2__
	__m128i x = _mm_loadu_si128((const __m128i *)src);
	unsigned nul = (unsigned)_mm_movemask_epi8(
		_mm_cmpeq_epi8(x, _mm_setzero_si128()));

	_mm_storeu_si128((__m128i *)dst, x);
	return nul & ((1u << n) - 1);
#else
	return copy_short(dst, src, n);
#endif
}

/* Bytes a and b share at the start; eight at a time where loads allow. */
static inline size_t common_prefix(const uint8_t *a, size_t alen,
				   const uint8_t *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen, i = 0;

#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y) /* the lowest set bit marks the first byte */
			return i + (size_t)(__builtin_ctzll(x ^ y) >> 3);
	}
#endif
	while (i < n && a[i] == b[i])
		i++;
	return i;
}

/* Room for want bytes in a record's owned string (cap 0: the pointer is
 * not ours, and is replaced). The contents are kept. */
int owned_str_reserve(char **dst, size_t *cap, size_t want);
int set_owned_str_grow(char **dst, size_t *cap, const char *src, size_t len);
/* Copy a C string into a record's owned string, reusing its storage. */
static inline int set_owned_str(char **dst, size_t *cap, const char *src,
				size_t len)
{
	if (len >= *cap)
		return set_owned_str_grow(dst, cap, src, len);
	memcpy(*dst, src, len);
	(*dst)[len] = 0;
	return 0;
}

#endif
