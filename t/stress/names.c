/*
 * The refs the harness writes and the values it stores in them.
 *
 * Counter ids: the private counters of writer 0, of writer 1, ..., then
 * the shared counters, then the pairs.
 *   private  refs/stress/w<N>/c<K>
 *   shared   refs/stress/shared/c<K>
 *   pair     refs/stress/pair/<K>/a and refs/stress/pair/<K>/b
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stress.h"

void layout_init(struct layout *l, const struct stress_opts *o)
{
	l->writers = o->writers;
	l->private_counters = o->private_counters;
	l->shared_counters = o->shared_counters;
	l->pairs = o->pairs;
	l->n = o->writers * o->private_counters + o->shared_counters +
	       o->pairs;
}

static int private_end(const struct layout *l)
{
	return l->writers * l->private_counters;
}

enum counter_kind counter_kind(const struct layout *l, int c)
{
	if (c < private_end(l))
		return COUNTER_PRIVATE;
	if (c < private_end(l) + l->shared_counters)
		return COUNTER_SHARED;
	return COUNTER_PAIR;
}

int counter_owner(const struct layout *l, int c)
{
	if (counter_kind(l, c) != COUNTER_PRIVATE)
		return -1;
	return c / l->private_counters;
}

void counter_refname(const struct layout *l, int c, int half, char *buf,
		     size_t cap)
{
	switch (counter_kind(l, c)) {
	case COUNTER_PRIVATE:
		snprintf(buf, cap, STRESS_PREFIX "w%d/c%d",
			 c / l->private_counters, c % l->private_counters);
		break;
	case COUNTER_SHARED:
		snprintf(buf, cap, STRESS_PREFIX "shared/c%d",
			 c - private_end(l));
		break;
	case COUNTER_PAIR:
		if (half < 0)
			snprintf(buf, cap, STRESS_PREFIX "pair/%d",
				 c - private_end(l) - l->shared_counters);
		else
			snprintf(buf, cap, STRESS_PREFIX "pair/%d/%c",
				 c - private_end(l) - l->shared_counters,
				 half ? 'b' : 'a');
		break;
	}
}

/* A decimal number at *p, advancing p; -1 if none. */
static long parse_num(const char **p)
{
	char *end;
	long v;

	if (**p < '0' || **p > '9')
		return -1;
	v = strtol(*p, &end, 10);
	*p = end;
	return v;
}

int counter_parse(const struct layout *l, const char *name, int *half)
{
	const char *p;
	long a, b;

	*half = 0;
	if (strncmp(name, STRESS_PREFIX, strlen(STRESS_PREFIX)))
		return -1;
	p = name + strlen(STRESS_PREFIX);
	if (p[0] == 'w') {
		p++;
		a = parse_num(&p);
		if (a < 0 || a >= l->writers || strncmp(p, "/c", 2))
			return -1;
		p += 2;
		b = parse_num(&p);
		if (b < 0 || b >= l->private_counters || *p)
			return -1;
		return (int)(a * l->private_counters + b);
	}
	if (!strncmp(p, "shared/c", 8)) {
		p += 8;
		a = parse_num(&p);
		if (a < 0 || a >= l->shared_counters || *p)
			return -1;
		return private_end(l) + (int)a;
	}
	if (!strncmp(p, "pair/", 5)) {
		p += 5;
		a = parse_num(&p);
		if (a < 0 || a >= l->pairs || p[0] != '/' ||
		    (p[1] != 'a' && p[1] != 'b') || p[2])
			return -1;
		*half = p[1] == 'b';
		return private_end(l) + l->shared_counters + (int)a;
	}
	return -1;
}

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
	int i;

	for (i = bytes - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

/* FNV-1a over the first 16 bytes of the id and the ref name. */
static uint32_t value_checksum(const uint8_t *oid, const char *refname)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < 16; i++)
		h = (h ^ oid[i]) * 16777619u;
	for (; *refname; refname++)
		h = (h ^ (uint8_t)*refname) * 16777619u;
	return h;
}

void value_encode(uint8_t *oid, const struct value *v, const char *refname)
{
	put_be(oid, v->n, 8);
	put_be(oid + 8, v->writer, 4);
	put_be(oid + 12, v->instance, 4);
	put_be(oid + 16, value_checksum(oid, refname), 4);
}

int value_decode(const uint8_t *oid, const char *refname, struct value *v)
{
	v->n = get_be(oid, 8);
	v->writer = (uint32_t)get_be(oid + 8, 4);
	v->instance = (uint32_t)get_be(oid + 12, 4);
	if (get_be(oid + 16, 4) != value_checksum(oid, refname) || !v->n)
		return -1;
	return 0;
}

void hex_encode(char *out, const uint8_t *oid, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[oid[i] >> 4];
		out[2 * i + 1] = digits[oid[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int hex_decode(uint8_t *out, const char *hex, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
