/* Encoding and decoding of keys and record values. */

#include "record.h"

size_t reftable_hash_size(enum reftable_hash hash)
{
	switch (hash) {
	case REFTABLE_HASH_SHA1:
		return REFTABLE_HASH_SIZE_SHA1;
	case REFTABLE_HASH_SHA256:
		return REFTABLE_HASH_SIZE_SHA256;
	}
	return 0;
}

int encode_key(uint8_t *dst, size_t cap, size_t prefix, const uint8_t *key,
	       size_t key_len, uint8_t extra)
{
	size_t suffix = key_len - prefix;
	int n, m;

	n = put_varint(dst, cap, prefix);
	if (n < 0)
		return -1;
	m = put_varint(dst + n, cap - n, (uint64_t)suffix << 3 | extra);
	if (m < 0 || cap - n - m < suffix)
		return -1;
	memcpy(dst + n + m, key + prefix, suffix);
	return n + m + (int)suffix;
}

/* Skip a varint-prefixed string; bytes or -1. */
static int skip_string(const uint8_t *src, size_t len)
{
	uint64_t n;
	int m = get_varint(&n, src, len);
	if (m < 0 || n > len - m)
		return -1;
	return m + (int)n;
}

static int log_update_len(const uint8_t *src, size_t len, size_t hash_size)
{
	size_t pos = 2 * hash_size;
	uint64_t time;
	int n, i;

	if (len < pos)
		return -1;
	for (i = 0; i < 2; i++) { /* name, email */
		n = skip_string(src + pos, len - pos);
		if (n < 0)
			return -1;
		pos += n;
	}
	n = get_varint(&time, src + pos, len - pos);
	if (n < 0 || len - pos - n < 2)
		return -1;
	pos += n + 2;
	n = skip_string(src + pos, len - pos);
	if (n < 0)
		return -1;
	return (int)(pos + n);
}

int value_len_any(uint8_t type, uint8_t extra, const uint8_t *src,
		  size_t len, size_t hash_size)
{
	uint64_t v;
	int n;

	switch (type) {
	case BLOCK_TYPE_REF:
		n = get_varint(&v, src, len);
		if (n < 0)
			return -1;
		switch (extra) {
		case REFTABLE_REF_DELETION:
			return n;
		case REFTABLE_REF_VAL1:
			return len - n < hash_size ? -1 : n + (int)hash_size;
		case REFTABLE_REF_VAL2:
			return len - n < 2 * hash_size ? -1 :
							 n + 2 * (int)hash_size;
		case REFTABLE_REF_SYMREF: {
			int m = skip_string(src + n, len - n);
			return m < 0 ? -1 : n + m;
		}
		}
		return -1;
	case BLOCK_TYPE_LOG:
		if (extra == REFTABLE_LOG_DELETION)
			return 0;
		if (extra != REFTABLE_LOG_UPDATE)
			return -1;
		return log_update_len(src, len, hash_size);
	case BLOCK_TYPE_OBJ: {
		uint64_t count = extra;
		size_t pos = 0;
		if (!extra) {
			n = get_varint(&count, src, len);
			if (n < 0)
				return -1;
			pos = n;
		}
		for (; count; count--) {
			n = get_varint(&v, src + pos, len - pos);
			if (n < 0)
				return -1;
			pos += n;
		}
		return (int)pos;
	}
	case BLOCK_TYPE_INDEX:
		if (extra)
			return -1;
		return get_varint(&v, src, len);
	}
	return -1;
}

int ref_value_encode(uint8_t *dst, size_t cap,
		     const struct reftable_ref_record *ref, uint64_t min_ui,
		     size_t hash_size)
{
	int n = put_varint(dst, cap, ref->update_index - min_ui);
	size_t pos, tlen;

	if (n < 0)
		return -1;
	pos = n;
	switch (ref->value_type) {
	case REFTABLE_REF_DELETION:
		break;
	case REFTABLE_REF_VAL1:
		if (cap - pos < hash_size)
			return -1;
		memcpy(dst + pos, ref->value, hash_size);
		pos += hash_size;
		break;
	case REFTABLE_REF_VAL2:
		if (cap - pos < 2 * hash_size)
			return -1;
		memcpy(dst + pos, ref->value, hash_size);
		memcpy(dst + pos + hash_size, ref->peeled, hash_size);
		pos += 2 * hash_size;
		break;
	case REFTABLE_REF_SYMREF:
		tlen = strlen(ref->target);
		n = put_varint(dst + pos, cap - pos, tlen);
		if (n < 0 || cap - pos - n < tlen)
			return -1;
		pos += n;
		memcpy(dst + pos, ref->target, tlen);
		pos += tlen;
		break;
	}
	return (int)pos;
}

/* Copy a key into the record's name: the fast copy of record.h, or a
 * grown name for short keys and keys that do not fit. */
static int set_refname(struct reftable_ref_record *ref, const uint8_t *key,
		       size_t len)
{
	int r = refname_copy_fast(ref, key, len);

	if (r <= 0)
		return r;
	return set_owned_str(&ref->refname, &ref->refname_cap,
			     (const char *)key, len) < 0 ?
		       REFTABLE_NOMEM_ERROR :
		       0;
}

int ref_value_decode_any(struct reftable_ref_record *ref, const uint8_t *key,
			 size_t key_len, uint8_t extra, const uint8_t *src,
			 size_t len, uint64_t min_ui, size_t hash_size)
{
	uint64_t delta, tlen;
	int n = get_varint(&delta, src, len), m;
	size_t pos;

	if (n < 0 || delta > UINT64_MAX - min_ui)
		return REFTABLE_FORMAT_ERROR;
	if ((m = set_refname(ref, key, key_len)) < 0)
		return m;
	ref->update_index = min_ui + delta;
	ref->value_type = extra;
	pos = n;
	switch (extra) {
	case REFTABLE_REF_DELETION:
		break;
	case REFTABLE_REF_VAL1:
		if (len - pos < hash_size)
			return REFTABLE_FORMAT_ERROR;
		copy_id(ref->value, src + pos, hash_size);
		pos += hash_size;
		break;
	case REFTABLE_REF_VAL2:
		if (len - pos < 2 * hash_size)
			return REFTABLE_FORMAT_ERROR;
		copy_id(ref->value, src + pos, hash_size);
		copy_id(ref->peeled, src + pos + hash_size, hash_size);
		pos += 2 * hash_size;
		break;
	case REFTABLE_REF_SYMREF:
		m = get_varint(&tlen, src + pos, len - pos);
		if (m < 0 || tlen > len - pos - m ||
		    memchr(src + pos + m, 0, tlen))
			return REFTABLE_FORMAT_ERROR;
		pos += m;
		if (set_owned_str(&ref->target, &ref->target_cap,
				  (const char *)src + pos, tlen) < 0)
			return REFTABLE_NOMEM_ERROR;
		pos += tlen;
		break;
	default:
		return REFTABLE_FORMAT_ERROR;
	}
	return (int)pos;
}

int log_key(struct buf *key, const char *refname, uint64_t update_index)
{
	uint8_t tail[LOG_KEY_SUFFIX];

	tail[0] = 0;
	put_be64(tail + 1, ~update_index);
	buf_reset(key);
	if (buf_addstr(key, refname) < 0 ||
	    buf_add(key, tail, sizeof(tail)) < 0)
		return REFTABLE_NOMEM_ERROR;
	return 0;
}

static int put_string(uint8_t *dst, size_t cap, const char *s)
{
	size_t len = s ? strlen(s) : 0;
	int n = put_varint(dst, cap, len);

	if (n < 0 || cap - n < len)
		return -1;
	if (len)
		memcpy(dst + n, s, len);
	return n + (int)len;
}

int log_value_encode(uint8_t *dst, size_t cap,
		     const struct reftable_log_record *log, size_t hash_size)
{
	size_t pos = 2 * hash_size;
	int n;

	if (log->value_type == REFTABLE_LOG_DELETION)
		return 0;
	if (cap < pos + 2)
		return -1;
	memcpy(dst, log->old_id, hash_size);
	memcpy(dst + hash_size, log->new_id, hash_size);
	if ((n = put_string(dst + pos, cap - pos, log->name)) < 0)
		return -1;
	pos += n;
	if ((n = put_string(dst + pos, cap - pos, log->email)) < 0)
		return -1;
	pos += n;
	if ((n = put_varint(dst + pos, cap - pos, log->time)) < 0)
		return -1;
	pos += n;
	if (cap - pos < 2)
		return -1;
	put_be16(dst + pos, (uint16_t)log->tz_offset);
	pos += 2;
	if ((n = put_string(dst + pos, cap - pos, log->message)) < 0)
		return -1;
	return (int)(pos + n);
}

/* Read a varint-prefixed string into an owned string; bytes or < 0. */
static int get_string(char **dst, size_t *cap, const uint8_t *src, size_t len)
{
	uint64_t n;
	int m = get_varint(&n, src, len);

	if (m < 0 || n > len - m)
		return REFTABLE_FORMAT_ERROR;
	if (set_owned_str(dst, cap, (const char *)src + m, n) < 0)
		return REFTABLE_NOMEM_ERROR;
	return m + (int)n;
}

int log_value_decode(struct reftable_log_record *log, const uint8_t *key,
		     size_t key_len, uint8_t extra, const uint8_t *src,
		     size_t len, size_t hash_size)
{
	size_t pos = 2 * hash_size, name_len;
	int n;

	if (key_len < LOG_KEY_SUFFIX)
		return REFTABLE_FORMAT_ERROR;
	name_len = key_len - LOG_KEY_SUFFIX;
	if (memchr(key, 0, name_len + 1) != key + name_len)
		return REFTABLE_FORMAT_ERROR;
	if (set_owned_str(&log->refname, &log->refname_cap, (const char *)key,
			  name_len) < 0)
		return REFTABLE_NOMEM_ERROR;
	log->update_index = ~get_be64(key + name_len + 1);
	log->value_type = extra;
	if (extra == REFTABLE_LOG_DELETION)
		return 0;
	if (extra != REFTABLE_LOG_UPDATE || len < pos)
		return REFTABLE_FORMAT_ERROR;
	memcpy(log->old_id, src, hash_size);
	memcpy(log->new_id, src + hash_size, hash_size);
	if ((n = get_string(&log->name, &log->name_cap, src + pos,
			    len - pos)) < 0)
		return n;
	pos += n;
	if ((n = get_string(&log->email, &log->email_cap, src + pos,
			    len - pos)) < 0)
		return n;
	pos += n;
	n = get_varint(&log->time, src + pos, len - pos);
	if (n < 0 || len - pos - n < 2)
		return REFTABLE_FORMAT_ERROR;
	pos += n;
	log->tz_offset = (int16_t)get_be16(src + pos);
	pos += 2;
	if ((n = get_string(&log->message, &log->message_cap, src + pos,
			    len - pos)) < 0)
		return n;
	return (int)(pos + n);
}

uint8_t obj_extra(size_t n_offsets)
{
	return n_offsets > 0 && n_offsets < 8 ? (uint8_t)n_offsets : 0;
}

int obj_value_encode(uint8_t *dst, size_t cap, const uint64_t *offsets,
		     size_t n)
{
	size_t pos = 0, i;
	int m;

	if (!obj_extra(n)) {
		if ((m = put_varint(dst, cap, n)) < 0)
			return -1;
		pos = m;
	}
	for (i = 0; i < n; i++) {
		uint64_t v = i ? offsets[i] - offsets[i - 1] : offsets[0];
		if ((m = put_varint(dst + pos, cap - pos, v)) < 0)
			return -1;
		pos += m;
	}
	return (int)pos;
}

int obj_value_decode(struct obj_value *v, uint8_t extra, const uint8_t *src,
		     size_t len)
{
	uint64_t count = extra, delta, last = 0;
	size_t pos = 0, i;
	int m;

	if (!extra) {
		if ((m = get_varint(&count, src, len)) < 0)
			return REFTABLE_FORMAT_ERROR;
		pos = m;
	}
	/* Each offset takes at least one byte. */
	if (count > len - pos)
		return REFTABLE_FORMAT_ERROR;
	if (REFTABLE_GROW(v->offsets, v->cap, count) < 0)
		return REFTABLE_NOMEM_ERROR;
	for (i = 0; i < count; i++) {
		if ((m = get_varint(&delta, src + pos, len - pos)) < 0 ||
		    delta > UINT64_MAX - last)
			return REFTABLE_FORMAT_ERROR;
		pos += m;
		last += delta;
		v->offsets[i] = last;
	}
	v->len = count;
	return (int)pos;
}

int index_value_encode(uint8_t *dst, size_t cap, uint64_t offset)
{
	return put_varint(dst, cap, offset);
}

int index_value_decode(uint64_t *offset, const uint8_t *src, size_t len)
{
	int n = get_varint(offset, src, len);
	return n < 0 ? REFTABLE_FORMAT_ERROR : n;
}

/* The public helpers on records. */

static void free_owned(char **s, size_t *cap)
{
	if (*cap)
		reftable_free(*s);
	*s = NULL;
	*cap = 0;
}

void reftable_ref_record_release(struct reftable_ref_record *ref)
{
	free_owned(&ref->refname, &ref->refname_cap);
	free_owned(&ref->target, &ref->target_cap);
	memset(ref, 0, sizeof(*ref));
}

void reftable_log_record_release(struct reftable_log_record *log)
{
	free_owned(&log->refname, &log->refname_cap);
	free_owned(&log->name, &log->name_cap);
	free_owned(&log->email, &log->email_cap);
	free_owned(&log->message, &log->message_cap);
	memset(log, 0, sizeof(*log));
}

static int copy_str(char **dst, size_t *cap, const char *src)
{
	if (!src) {
		if (*cap)
			(*dst)[0] = 0;
		else
			*dst = NULL;
		return 0;
	}
	return set_owned_str(dst, cap, src, strlen(src));
}

int reftable_ref_record_copy(struct reftable_ref_record *dst,
			     const struct reftable_ref_record *src)
{
	if (copy_str(&dst->refname, &dst->refname_cap, src->refname) < 0 ||
	    copy_str(&dst->target, &dst->target_cap,
		     src->value_type == REFTABLE_REF_SYMREF ? src->target :
							      NULL) < 0)
		return REFTABLE_NOMEM_ERROR;
	dst->update_index = src->update_index;
	dst->value_type = src->value_type;
	memcpy(dst->value, src->value, sizeof(dst->value));
	memcpy(dst->peeled, src->peeled, sizeof(dst->peeled));
	return 0;
}

int reftable_log_record_copy(struct reftable_log_record *dst,
			     const struct reftable_log_record *src)
{
	if (copy_str(&dst->refname, &dst->refname_cap, src->refname) < 0 ||
	    copy_str(&dst->name, &dst->name_cap, src->name) < 0 ||
	    copy_str(&dst->email, &dst->email_cap, src->email) < 0 ||
	    copy_str(&dst->message, &dst->message_cap, src->message) < 0)
		return REFTABLE_NOMEM_ERROR;
	dst->update_index = src->update_index;
	dst->value_type = src->value_type;
	memcpy(dst->old_id, src->old_id, sizeof(dst->old_id));
	memcpy(dst->new_id, src->new_id, sizeof(dst->new_id));
	dst->time = src->time;
	dst->tz_offset = src->tz_offset;
	return 0;
}

static int str_eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

int reftable_ref_record_equal(const struct reftable_ref_record *a,
			      const struct reftable_ref_record *b,
			      size_t hash_size)
{
	if (!str_eq(a->refname, b->refname) ||
	    a->update_index != b->update_index ||
	    a->value_type != b->value_type)
		return 0;
	switch (a->value_type) {
	case REFTABLE_REF_VAL2:
		if (memcmp(a->peeled, b->peeled, hash_size))
			return 0;
		/* fall through */
	case REFTABLE_REF_VAL1:
		return !memcmp(a->value, b->value, hash_size);
	case REFTABLE_REF_SYMREF:
		return str_eq(a->target, b->target);
	default:
		return 1;
	}
}

int reftable_log_record_equal(const struct reftable_log_record *a,
			      const struct reftable_log_record *b,
			      size_t hash_size)
{
	if (!str_eq(a->refname, b->refname) ||
	    a->update_index != b->update_index ||
	    a->value_type != b->value_type)
		return 0;
	if (a->value_type == REFTABLE_LOG_DELETION)
		return 1;
	return !memcmp(a->old_id, b->old_id, hash_size) &&
	       !memcmp(a->new_id, b->new_id, hash_size) &&
	       str_eq(a->name, b->name) && str_eq(a->email, b->email) &&
	       str_eq(a->message, b->message) && a->time == b->time &&
	       a->tz_offset == b->tz_offset;
}

const uint8_t *reftable_ref_record_val1(const struct reftable_ref_record *ref)
{
	return ref->value_type == REFTABLE_REF_VAL1 ||
			       ref->value_type == REFTABLE_REF_VAL2 ?
		       ref->value :
		       NULL;
}

const uint8_t *reftable_ref_record_val2(const struct reftable_ref_record *ref)
{
	return ref->value_type == REFTABLE_REF_VAL2 ? ref->peeled : NULL;
}

int reftable_ref_record_compare(const struct reftable_ref_record *a,
				const struct reftable_ref_record *b)
{
	return strcmp(a->refname, b->refname);
}

int reftable_log_record_compare(const struct reftable_log_record *a,
				const struct reftable_log_record *b)
{
	int c = strcmp(a->refname, b->refname);
	if (c)
		return c;
	return (a->update_index < b->update_index) -
	       (a->update_index > b->update_index);
}
