/* Walking a table's blocks from the header to the footer. */

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "blocks-internal.h"

static struct tblock *new_block(struct tfile *f)
{
	struct tblock *b;
	if (f->nblocks == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 64;
		f->blocks = xrealloc(f->blocks, f->cap * sizeof(*f->blocks));
	}
	b = &f->blocks[f->nblocks++];
	memset(b, 0, sizeof(*b));
	return b;
}

/*
 * Inflate a log block into a buffer holding the whole block. Sets
 * *consumed to the compressed bytes; NULL with a problem on failure.
 */
static uint8_t *inflate_log(struct walk *w, struct tblock *b, size_t hdr,
			    size_t *consumed)
{
	struct tfile *f = w->f;
	uint8_t *out;
	z_stream zs;
	int ret;

	if (b->len < hdr + 4) {
		problem(w->p, f, b->type_off, "log block length %u too short",
			b->len);
		return NULL;
	}
	out = xmalloc(b->len);
	memcpy(out, f->map + b->start, hdr + 4);
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK) {
		free(out);
		problem(w->p, f, b->type_off, "zlib init failed");
		return NULL;
	}
	zs.next_in = f->map + b->type_off + 4;
	zs.avail_in = (uInt)(f->footer_start - b->type_off - 4);
	zs.next_out = out + hdr + 4;
	zs.avail_out = (uInt)(b->len - hdr - 4);
	ret = inflate(&zs, Z_FINISH);
	*consumed = zs.total_in;
	inflateEnd(&zs);
	if (ret != Z_STREAM_END || zs.avail_out) {
		problem(w->p, f, b->type_off + 4,
			"log block does not inflate to its %u bytes (%s)",
			b->len, ret == Z_STREAM_END ? "too short" :
			zs.msg ? zs.msg : "truncated or corrupt data");
		free(out);
		return NULL;
	}
	return out;
}

/* Skip zero padding after a block; returns where the next block starts. */
static uint64_t skip_padding(struct walk *w, struct tblock *b, uint64_t end)
{
	struct tfile *f = w->f;
	uint64_t next = end;

	while (next < f->footer_start && f->map[next] == 0)
		next++;
	if (next != end) {
		f->stats.padding += next - end;
		if (b->type == 'g')
			problem(w->p, f, end, "padding after a log block");
		else if (next != b->start + f->block_size)
			problem(w->p, f, end,
				"padding of the %s block at %llu ends at %llu, "
				"not at the block size boundary %llu",
				block_type_name(b->type),
				(unsigned long long)b->start,
				(unsigned long long)next,
				(unsigned long long)(b->start + f->block_size));
	}
	return next;
}

/* Read the block at start; returns the next block's start, or 0 to stop. */
static uint64_t walk_block(struct walk *w, uint64_t start)
{
	struct tfile *f = w->f;
	size_t hdr = start ? 0 : f->header_len, consumed = 0;
	struct tblock *b;
	uint64_t end;
	uint8_t *inflated = NULL;

	if (f->footer_start - start < hdr + 4) {
		problem(w->p, f, start, "truncated block header");
		return 0;
	}
	b = new_block(f);
	b->start = start;
	b->type_off = start + hdr;
	b->type = f->map[b->type_off];
	b->len = be24(f->map + b->type_off + 1);
	if (data_slot(b->type) < 0 && b->type != 'i') {
		problem(w->p, f, b->type_off, "unknown block type 0x%02x",
			b->type);
		f->nblocks--;
		return 0;
	}
	if (b->type != 'g' && f->block_size && b->len > f->block_size)
		problem(w->p, f, b->type_off,
			"%s block length %u exceeds the block size %u",
			block_type_name(b->type), b->len, f->block_size);
	if (b->type == 'g') {
		inflated = inflate_log(w, b, hdr, &consumed);
		if (!inflated) {
			f->nblocks--;
			return 0;
		}
		end = b->type_off + 4 + consumed;
		f->stats.log_inflated += b->len;
	} else {
		end = start + b->len;
		if (end > f->footer_start || b->len < hdr + 4) {
			problem(w->p, f, b->type_off,
				"%s block length %u runs past the footer at "
				"%llu",
				block_type_name(b->type), b->len,
				(unsigned long long)f->footer_start);
			f->nblocks--;
			return 0;
		}
	}
	b->stored = end - start;
	walk_records(w, (size_t)(b - f->blocks),
		     inflated ? inflated : f->map + start, b->len, hdr);
	free(inflated);
	/* walk_records may have grown f->blocks: find b again. */
	b = &f->blocks[f->nblocks - 1];
	end = skip_padding(w, b, end);
	b->span = end - start;
	return end;
}

static void count_blocks(struct tfile *f)
{
	for (size_t i = 0; i < f->nblocks; i++) {
		struct tblock *b = &f->blocks[i];
		int k = b->type == 'r' ? 0 : b->type == 'o' ? 1 :
			b->type == 'g' ? 2 : 3;
		f->stats.blocks[k]++;
		f->stats.bytes[k] += b->span;
	}
}

void tfile_walk(struct tfile *f, struct problems *p)
{
	struct walk w = { 0 };
	uint64_t start = 0;

	if (!f->header_ok)
		return;
	w.f = f;
	w.p = p;
	/* An empty table is a header and a footer. */
	if (f->footer_start > f->header_len) {
		do
			start = walk_block(&w, start);
		while (start && start < f->footer_start);
	}
	/*
	 * A walk that stopped early saw only part of the blocks: checks
	 * across blocks would only repeat that damage in other words.
	 */
	if (!start && f->footer_start > f->header_len) {
		problem(p, f, f->nblocks ? f->blocks[f->nblocks - 1].start : 0,
			"cannot find the blocks after this one; the rest of "
			"the table was not checked");
	} else {
		check_blocks(&w);
	}
	count_blocks(f);

	for (size_t i = 0; i < w.nidx; i++)
		free(w.idx[i].key.data);
	for (int i = 0; i < 3; i++)
		free(w.last_data_key[i].data);
	free(w.idx);
	free(w.from_refs);
	free(w.from_objs);
}
