/* Writing and reading single blocks. */

#include "block.h"

#include <stdatomic.h>
#include <stdlib.h>

void block_writer_init(struct block_writer *bw, uint8_t type, uint8_t *buf,
		       uint32_t block_size, uint32_t header_off,
		       uint16_t restart_interval)
{
	bw->buf = buf;
	bw->block_size = block_size;
	bw->header_off = header_off;
	bw->type = type;
	bw->restart_interval = restart_interval;
	bw->next = header_off + 4;
	bw->restart_len = 0;
	bw->entries = 0;
	buf_reset(&bw->last_key);
	buf[header_off] = type;
}

int block_writer_add(struct block_writer *bw, const uint8_t *key,
		     size_t key_len, uint8_t extra, const uint8_t *val,
		     size_t val_len)
{
	/* Every restart_interval records the key is written whole. */
	int force_restart = bw->entries % bw->restart_interval == 0;
	size_t prefix = force_restart ? 0 :
					common_prefix(bw->last_key.data,
						      bw->last_key.len, key,
						      key_len);
	size_t room = bw->block_size - bw->next, restarts = bw->restart_len;
	int is_restart = prefix == 0 && bw->restart_len < MAX_RESTARTS;
	int n;

	n = encode_key(bw->buf + bw->next, room, prefix, key, key_len, extra);
	if (n < 0 || room - n < val_len)
		return 1;
	if (is_restart)
		restarts++;
	/* The restart table and its count must still fit behind. */
	if (2 + 3 * restarts + n + val_len > room)
		return 1;
	if (is_restart) {
		if (REFTABLE_GROW(bw->restarts, bw->restart_cap,
				  bw->restart_len + 1) < 0)
			return REFTABLE_NOMEM_ERROR;
		bw->restarts[bw->restart_len++] = bw->next;
	}
	memcpy(bw->buf + bw->next + n, val, val_len);
	bw->next += n + val_len;
	if (buf_set(&bw->last_key, key, key_len) < 0)
		return REFTABLE_NOMEM_ERROR;
	bw->entries++;
	return 0;
}

/*
 * One spare deflate stream per process, handed from writer to writer.
 * Setting a stream up allocates about 270 KB at level 9, which glibc
 * hands back to the kernel once it is freed: every small table then
 * faulted those pages in again to write its one log block (19 faults,
 * about 300 us in our VM, as much as a transaction's fsyncs). A taken
 * spare is only reset. Exchanged atomically, so threads may write
 * tables at once; a second stream at a time is simply freed.
 */
static _Atomic(z_stream *) spare_deflater;

static z_stream *deflater_take(void)
{
	z_stream *zs = atomic_exchange(&spare_deflater, NULL);

	if (zs && deflateReset(zs) == Z_OK)
		return zs;
	if (zs) {
		deflateEnd(zs);
		free(zs);
	}
	/* Level 9, as Git writes them, so tables match byte for byte.
	 * Plain malloc: zlib's own buffers come from it too, and the spare
	 * outlives any allocator a caller sets. */
	zs = calloc(1, sizeof(*zs));
	if (zs && deflateInit(zs, 9) != Z_OK) {
		free(zs);
		zs = NULL;
	}
	return zs;
}

static void deflater_give_back(z_stream *zs)
{
	z_stream *none = NULL;

	if (!atomic_compare_exchange_strong(&spare_deflater, &none, zs)) {
		deflateEnd(zs);
		free(zs);
	}
}

static int deflate_block(struct block_writer *bw, const uint8_t **out,
			 size_t *out_len)
{
	uint32_t skip = bw->header_off + 4;
	uLong bound;
	int zr;

	if (!bw->zs) {
		if (!(bw->zs = deflater_take()))
			return reftable_fail(REFTABLE_ZLIB_ERROR,
					     "deflateInit failed");
	} else if (deflateReset(bw->zs) != Z_OK) {
		return reftable_fail(REFTABLE_ZLIB_ERROR,
				     "deflateReset failed");
	}
	bound = deflateBound(bw->zs, bw->next - skip);
	if (buf_setlen(&bw->zout, skip + bound) < 0)
		return REFTABLE_NOMEM_ERROR;
	memcpy(bw->zout.data, bw->buf, skip);
	bw->zs->next_in = bw->buf + skip;
	bw->zs->avail_in = bw->next - skip;
	bw->zs->next_out = bw->zout.data + skip;
	bw->zs->avail_out = bound;
	zr = deflate(bw->zs, Z_FINISH);
	if (zr != Z_STREAM_END)
		return reftable_fail(REFTABLE_ZLIB_ERROR, "deflate failed: %d",
				     zr);
	*out = bw->zout.data;
	*out_len = skip + bw->zs->total_out;
	return 0;
}

int block_writer_finish(struct block_writer *bw, const uint8_t **out,
			size_t *out_len)
{
	size_t i;

	for (i = 0; i < bw->restart_len; i++) {
		put_be24(bw->buf + bw->next, bw->restarts[i]);
		bw->next += 3;
	}
	put_be16(bw->buf + bw->next, (uint16_t)bw->restart_len);
	bw->next += 2;
	put_be24(bw->buf + bw->header_off + 1, bw->next);
	if (bw->type == BLOCK_TYPE_LOG)
		return deflate_block(bw, out, out_len);
	*out = bw->buf;
	*out_len = bw->next;
	return 0;
}

void block_writer_release(struct block_writer *bw)
{
	reftable_free(bw->restarts);
	bw->restarts = NULL;
	bw->restart_cap = bw->restart_len = 0;
	buf_release(&bw->last_key);
	buf_release(&bw->zout);
	if (bw->zs)
		deflater_give_back(bw->zs);
	bw->zs = NULL;
}

void inflater_release(struct inflater *z)
{
	if (z->ready)
		inflateEnd(&z->zs);
	z->ready = 0;
	buf_release(&z->out);
}

static int inflate_block(struct block *b, const uint8_t *src, size_t avail,
			 struct inflater *z)
{
	uint32_t skip = b->header_off + 4;
	int zr;

	if (!z->ready) {
		memset(&z->zs, 0, sizeof(z->zs));
		if (inflateInit(&z->zs) != Z_OK)
			return reftable_fail(REFTABLE_ZLIB_ERROR,
					     "inflateInit failed");
		z->ready = 1;
	} else if (inflateReset(&z->zs) != Z_OK) {
		return reftable_fail(REFTABLE_ZLIB_ERROR, "inflateReset failed");
	}
	if (buf_setlen(&z->out, b->len) < 0)
		return REFTABLE_NOMEM_ERROR;
	memcpy(z->out.data, src, skip);
	z->zs.next_in = (Bytef *)src + skip;
	z->zs.avail_in = (uInt)(avail - skip);
	z->zs.next_out = z->out.data + skip;
	z->zs.avail_out = b->len - skip;
	zr = inflate(&z->zs, Z_FINISH);
	if (zr != Z_STREAM_END || z->zs.total_out != b->len - skip)
		return reftable_fail(REFTABLE_ZLIB_ERROR,
				     "log block does not inflate to %u bytes",
				     (unsigned)b->len);
	b->data = z->out.data;
	b->full_size = skip + (uint32_t)z->zs.total_in;
	return 0;
}

int block_open(struct block *b, const uint8_t *src, size_t avail,
	       uint32_t header_off, uint32_t block_size, size_t hash_size,
	       struct inflater *z)
{
	uint32_t restart_bytes;
	int err;

	if (avail < header_off + 4 || !is_block_type(src[header_off]))
		return REFTABLE_FORMAT_ERROR;
	b->data = src;
	b->header_off = header_off;
	b->type = src[header_off];
	b->len = get_be24(src + header_off + 1);
	b->hash_size = hash_size;
	if (b->len < header_off + 4 + 2)
		return REFTABLE_FORMAT_ERROR;
	if (b->type == BLOCK_TYPE_LOG) {
		/* Callers reading another section pass no inflater: a log
		 * block there is a corrupt type byte. */
		if (!z)
			return REFTABLE_FORMAT_ERROR;
		if (avail > UINT32_MAX)
			avail = UINT32_MAX;
		err = inflate_block(b, src, avail, z);
		if (err < 0)
			return err;
	} else {
		if (b->len > avail)
			return REFTABLE_FORMAT_ERROR;
		b->full_size = b->len;
		/* A padded block is followed by zeros up to the block size;
		 * an unpadded one by the next block's type byte. */
		if (b->len < block_size && b->len < avail && !src[b->len])
			b->full_size = block_size < avail ? block_size :
							    (uint32_t)avail;
	}
	b->restart_count = get_be16(b->data + b->len - 2);
	restart_bytes = 3 * (uint32_t)b->restart_count;
	if (!b->restart_count ||
	    b->len - 2 - header_off - 4 < restart_bytes)
		return REFTABLE_FORMAT_ERROR;
	b->records_end = b->len - 2 - restart_bytes;
	return 0;
}

int block_iter_start(struct block_iter *it, const struct block *b)
{
	it->blk = *b;
	it->off = b->header_off + 4;
	buf_reset(&it->key);
	it->valid = 0;
	if (it->off >= b->records_end)
		return REFTABLE_FORMAT_ERROR;
	return block_iter_decode(it);
}

/* The key of restart point i, in place: restart keys are stored whole. */
static int restart_key(const struct block *b, uint32_t i, const uint8_t **key,
		       size_t *key_len)
{
	uint32_t off = get_be24(b->data + b->records_end + 3 * i);
	uint64_t prefix, suffix;
	uint8_t extra;
	int n;

	if (off < b->header_off + 4 || off >= b->records_end)
		return REFTABLE_FORMAT_ERROR;
	n = decode_key_header(b->data + off, b->records_end - off, &prefix,
			      &suffix, &extra);
	if (n < 0 || prefix)
		return REFTABLE_FORMAT_ERROR;
	*key = b->data + off + n;
	*key_len = suffix;
	return 0;
}

/*
 * Find the first record with key >= want without rebuilding keys: m is
 * how many leading bytes the previous key shares with want. A record
 * sharing more than m bytes with its predecessor is still before want;
 * one sharing at most m holds want's first prefix bytes, so its suffix
 * is compared with the rest of want. The found key is want[0:prefix] +
 * suffix.
 */
int block_find(const struct block *b, const uint8_t *want, size_t want_len,
	       struct block_pos *pos)
{
	uint32_t lo = 0, hi = b->restart_count, off;
	size_t m = 0, prev_len = 0;
	uint64_t prefix, suffix;
	int err;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const uint8_t *key;
		size_t key_len;

		err = restart_key(b, mid, &key, &key_len);
		if (err < 0)
			return err;
		if (key_cmp(key, key_len, want, want_len) > 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	off = lo ? get_be24(b->data + b->records_end + 3 * (lo - 1)) :
		   b->header_off + 4;

	for (;;) {
		const uint8_t *sfx;
		struct ref_head h;
		uint8_t extra;
		int n, v, c;

		if (off >= b->records_end) {
			pos->off = b->records_end;
			pos->exact = 0;
			return 0;
		}
		/* Most records of the run share more than m bytes: skip them
		 * in straight-line code. */
		if (b->type == BLOCK_TYPE_REF &&
		    ref_head_common(b->data + off, b->records_end - off,
				    b->hash_size, &h) &&
		    h.prefix > m && h.prefix <= prev_len) {
			prev_len = h.prefix + h.suffix;
			off += (uint32_t)h.len;
			continue;
		}
		n = decode_key_header(b->data + off, b->records_end - off,
				      &prefix, &suffix, &extra);
		if (n < 0 || prefix > prev_len)
			return REFTABLE_FORMAT_ERROR;
		sfx = b->data + off + n;
		if (prefix <= m) {
			/* Shorter than m, the prefix is usually where the key
			 * left want behind; but nothing obliges a writer to
			 * share all it could, so compare. */
			c = key_cmp(sfx, suffix, want + prefix,
				    want_len - prefix);
			if (c >= 0) {
				pos->exact = c == 0;
				break;
			}
			m = prefix + common_prefix(sfx, suffix, want + prefix,
						   want_len - prefix);
		}
		v = value_len(b->type, extra, sfx + suffix,
			      b->records_end - off - n - suffix, b->hash_size);
		if (v < 0)
			return REFTABLE_FORMAT_ERROR;
		prev_len = prefix + suffix;
		off += n + (uint32_t)suffix + v;
	}
	pos->off = off;
	pos->prefix = (size_t)prefix; /* <= m: shared with want */
	return 0;
}

int block_iter_seek(struct block_iter *it, const struct block *b,
		    const uint8_t *want, size_t want_len)
{
	struct block_pos pos;
	int err = block_find(b, want, want_len, &pos);

	if (err < 0)
		return err;
	it->blk = *b;
	it->off = pos.off;
	it->valid = 0;
	if (pos.off >= b->records_end)
		return 0;
	/* block_iter_decode applies the record's prefix to the key we hold. */
	if (buf_set(&it->key, want, pos.prefix) < 0)
		return REFTABLE_NOMEM_ERROR;
	return block_iter_decode(it);
}

void block_iter_release(struct block_iter *it)
{
	buf_release(&it->key);
}
