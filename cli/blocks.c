/* What the table walker shares: byte order, varints, keys, names, problems. */

#include <stdarg.h>
#include <string.h>

#include "blocks-internal.h"

uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/*
 * The format's varint: 7 bits a byte, most significant group first; each
 * byte but the last has its high bit set and its group stored minus one.
 * Bytes read, or 0 if truncated or too large for 64 bits.
 */
size_t varint(const uint8_t *p, size_t len, uint64_t *out)
{
	uint64_t v;
	size_t i = 0;

	if (!len)
		return 0;
	v = p[0] & 0x7f;
	while (p[i] & 0x80) {
		if (++i >= len || v > (UINT64_MAX >> 7) - 1)
			return 0;
		v = ((v + 1) << 7) | (p[i] & 0x7f);
	}
	*out = v;
	return i + 1;
}

const char *block_type_name(uint8_t type)
{
	switch (type) {
	case 'r':
		return "ref";
	case 'o':
		return "obj";
	case 'g':
		return "log";
	case 'i':
		return "index";
	}
	return "?";
}

const char *hash_name(size_t hash_size)
{
	return hash_size == REFTABLE_HASH_SIZE_SHA256 ? "sha256" : "sha1";
}

void problem(struct problems *p, const struct tfile *f, uint64_t off,
	     const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->count++;
	if (p->report)
		p->report(p->arg, f->path, off, msg);
}

void key_set(struct key *k, const uint8_t *data, size_t len)
{
	k->data = xrealloc(k->data, len ? len : 1);
	if (len)
		memcpy(k->data, data, len);
	k->len = len;
}

int key_cmp(const struct key *a, const struct key *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->data, b->data, n) : 0;
	if (c)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

/* A printable, shortened form of a key for messages. */
const char *show_key(const struct key *k, char *buf, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < k->len && o + 5 < cap; i++) {
		uint8_t c = k->data[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
	}
	buf[o < cap ? o : cap - 1] = '\0';
	return buf;
}

int data_slot(uint8_t type)
{
	return type == 'r' ? 0 : type == 'o' ? 1 : type == 'g' ? 2 : -1;
}
