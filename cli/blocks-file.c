/* Mapping a table file and reading its header and footer. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "blocks-internal.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAGIC "REFT"
#define HASH_ID_SHA1 0x73686131u   /* "sha1" */
#define HASH_ID_SHA256 0x73323536u /* "s256" */

static int read_header(struct tfile *f, struct problems *p)
{
	const uint8_t *h = f->map;

	if (f->size < 24 || memcmp(h, MAGIC, 4)) {
		problem(p, f, 0, "not a reftable: no \"REFT\" magic");
		return -1;
	}
	f->version = h[4];
	if (f->version != 1 && f->version != 2) {
		problem(p, f, 4, "unknown format version %d", f->version);
		return -1;
	}
	f->header_len = f->version == 1 ? 24 : 28;
	f->footer_len = f->version == 1 ? 68 : 72;
	if (f->size < f->header_len + f->footer_len) {
		problem(p, f, 0, "truncated: %zu bytes, a table has at least %zu",
			f->size, f->header_len + f->footer_len);
		return -1;
	}
	f->block_size = be24(h + 5);
	f->min_ui = be64(h + 8);
	f->max_ui = be64(h + 16);
	f->hash_id = f->version == 1 ? HASH_ID_SHA1 : be32(h + 24);
	if (f->hash_id == HASH_ID_SHA1)
		f->hash_size = REFTABLE_HASH_SIZE_SHA1;
	else if (f->hash_id == HASH_ID_SHA256)
		f->hash_size = REFTABLE_HASH_SIZE_SHA256;
	else {
		problem(p, f, 24, "unknown hash id 0x%08x", f->hash_id);
		return -1;
	}
	if (f->min_ui > f->max_ui)
		problem(p, f, 8, "update index range %llu-%llu is reversed",
			(unsigned long long)f->min_ui,
			(unsigned long long)f->max_ui);
	return 0;
}

static int read_footer(struct tfile *f, struct problems *p)
{
	const uint8_t *ft;
	uint64_t obj_field;

	f->footer_start = f->size - f->footer_len;
	ft = f->map + f->footer_start;
	if (memcmp(ft, f->map, f->header_len)) {
		problem(p, f, f->footer_start,
			"footer does not repeat the header (truncated or "
			"corrupt file)");
		return -1;
	}
	ft += f->header_len;
	f->ref_index_pos = be64(ft);
	obj_field = be64(ft + 8);
	f->obj_pos = obj_field >> 5;
	f->obj_id_len = obj_field & 0x1f;
	f->obj_index_pos = be64(ft + 16);
	f->log_pos = be64(ft + 24);
	f->log_index_pos = be64(ft + 32);
	f->crc_stored = be32(ft + 40);
	f->crc_actual = (uint32_t)crc32(0, f->map + f->footer_start,
					(uInt)(f->footer_len - 4));
	if (f->crc_stored != f->crc_actual)
		problem(p, f, f->size - 4,
			"footer CRC-32 is %08x, the bytes give %08x",
			f->crc_stored, f->crc_actual);
	return 0;
}

static void check_positions(struct tfile *f, struct problems *p)
{
	const struct {
		const char *what;
		uint64_t pos;
	} pos[] = {
		{ "ref index", f->ref_index_pos },
		{ "obj blocks", f->obj_pos },
		{ "obj index", f->obj_index_pos },
		{ "log blocks", f->log_pos },
		{ "log index", f->log_index_pos },
	};
	uint64_t last = 0;

	/* Sections come in this order, each one after the one before. */
	for (size_t i = 0; i < ARRAY_SIZE(pos); i++) {
		if (!pos[i].pos)
			continue;
		if (pos[i].pos < f->header_len || pos[i].pos >= f->footer_start)
			problem(p, f, f->footer_start,
				"%s position %llu lies outside the blocks",
				pos[i].what, (unsigned long long)pos[i].pos);
		else if (pos[i].pos <= last)
			problem(p, f, f->footer_start,
				"%s position %llu is not after the section "
				"before it",
				pos[i].what, (unsigned long long)pos[i].pos);
		last = pos[i].pos;
	}
	if (f->obj_pos && (f->obj_id_len < 1 || f->obj_id_len > f->hash_size))
		problem(p, f, f->footer_start,
			"object id abbreviation length %u is not 1 to %zu",
			f->obj_id_len, f->hash_size);
}

/* The first f->size bytes of fd into f->map (owned). */
static int read_whole(int fd, struct tfile *f)
{
	uint8_t *buf = malloc(f->size);
	size_t got = 0;

	if (!buf)
		return -1;
	while (got < f->size) {
		ssize_t n = read(fd, buf + got, f->size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n)
				errno = EIO; /* shorter than fstat said */
			free(buf);
			return -1;
		}
		got += (size_t)n;
	}
	f->map = buf;
	return 0;
}

int tfile_open(struct tfile *f, const struct cli *cli, const char *path,
	       struct problems *p)
{
	struct stat st;
	const char *slash = strrchr(path, '/');
	int fd;

	memset(f, 0, sizeof(*f));
	f->path = xstrdup(path);
	f->name = slash ? f->path + (slash - path) + 1 : f->path;
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return cli_error(cli, EXIT_DATA, "%s: %s", path, strerror(e));
	}
	f->size = (size_t)st.st_size;
	/* Read, not mapped: on NFS or FUSE a table that another host
	 * removes faults a mapping with SIGBUS, and dump and verify walk
	 * every block anyway. */
	if (f->size && read_whole(fd, f) < 0) {
		int e = errno;
		close(fd);
		return cli_error(cli, EXIT_DATA, "read %s: %s", path,
				 strerror(e));
	}
	close(fd);
	if (read_header(f, p) || read_footer(f, p))
		return 0;
	f->header_ok = 1;
	check_positions(f, p);
	return 0;
}

void tfile_release(struct tfile *f)
{
	for (size_t i = 0; i < f->nblocks; i++) {
		free(f->blocks[i].first.data);
		free(f->blocks[i].last.data);
	}
	free(f->blocks);
	free(f->map);
	free(f->path);
	memset(f, 0, sizeof(*f));
}
