/*
 * `test-tool dump-reftable`, for Git built on this library: the same
 * options and output as the command it replaces, from our code.
 *
 *   -b TABLE   the table's block size, then each block: its section
 *              (ref, obj, log, idx), the length of its records (where
 *              its restart offsets begin, counted from the block's
 *              start, which for the first block is the file's start) and
 *              its number of restart points. From our independent walker
 *              of the file layout (cli/blocks*.c, `reftable dump
 *              --blocks`).
 *   -t TABLE   every ref and log record of one table;
 *   -s DIR     the same for a stack's merged view (-6: SHA-256).
 *
 * This file sees only our API: it is linked into the compat object with
 * the library, under the library's renamed symbols.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "blocks.h"
#include "reftable.h"

int cmd__dump_reftable(int argc, const char **argv);

static void print_usage(void)
{
	printf("usage: dump [-bts6] TABLE-OR-DIR\n"
	       "  -b  blocks of a table\n"
	       "  -t  records of a table\n"
	       "  -s  records of a stack\n"
	       "  -6  the stack uses SHA-256\n");
}

static void report_problem(void *arg, const char *file, uint64_t offset,
			   const char *msg)
{
	fprintf(stderr, "%s:%" PRIu64 ": %s\n", file, offset, msg);
}

static const char *section_name(uint8_t type)
{
	switch (type) {
	case 'r':
		return "ref";
	case 'o':
		return "obj";
	case 'g':
		return "log";
	case 'i':
		return "idx";
	default:
		return NULL;
	}
}

static int dump_blocks(const char *path)
{
	struct cli cli = { .cmd = "dump-reftable", .chdir_to = NULL, .quiet = 0 };
	struct problems problems = { report_problem, NULL, 0 };
	struct tfile f;
	uint8_t section = 0;
	size_t i;
	int err = tfile_open(&f, &cli, path, &problems);

	if (!err && f.header_ok)
		tfile_walk(&f, &problems);
	if (err || !f.header_ok || problems.count) {
		tfile_release(&f);
		return -1;
	}
	printf("header:\n  block_size: %u\n", (unsigned)f.block_size);
	for (i = 0; i < f.nblocks; i++) {
		const struct tblock *b = &f.blocks[i];
		/* The records end where the restart offsets and their
		 * count (3 bytes each, then 2) begin. */
		uint32_t records_end = b->len - 2 - 3u * b->restarts;

		if (b->type != section) {
			if (!section_name(b->type)) {
				tfile_release(&f);
				return -1;
			}
			section = b->type;
			printf("%s:\n", section_name(section));
		}
		printf("  - length: %u\n    restarts: %u\n",
		       (unsigned)records_end, (unsigned)b->restarts);
	}
	tfile_release(&f);
	return 0;
}

static void print_hex(const uint8_t *id, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", id[i]);
}

static int dump_refs(struct reftable_merged *m, size_t hash_size)
{
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record ref = { 0 };
	int err = reftable_merged_init_ref_iterator(m, &it);

	if (!err)
		err = reftable_iterator_seek_ref(&it, "");
	while (!err && !(err = reftable_iterator_next_ref(&it, &ref))) {
		printf("ref{%s(%" PRIu64 ") ", ref.refname, ref.update_index);
		switch (ref.value_type) {
		case REFTABLE_REF_SYMREF:
			printf("=> %s", ref.target);
			break;
		case REFTABLE_REF_VAL2:
			printf("val 2 ");
			print_hex(ref.value, hash_size);
			printf("(T ");
			print_hex(ref.peeled, hash_size);
			printf(")");
			break;
		case REFTABLE_REF_VAL1:
			printf("val 1 ");
			print_hex(ref.value, hash_size);
			break;
		default:
			printf("delete");
			break;
		}
		printf("}\n");
	}
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&ref);
	return err < 0 ? err : 0;
}

static int dump_logs(struct reftable_merged *m, size_t hash_size)
{
	struct reftable_iterator it = { 0 };
	struct reftable_log_record log = { 0 };
	int err = reftable_merged_init_log_iterator(m, &it);

	if (!err)
		err = reftable_iterator_seek_log(&it, "");
	while (!err && !(err = reftable_iterator_next_log(&it, &log))) {
		if (log.value_type != REFTABLE_LOG_UPDATE) {
			printf("log{%s(%" PRIu64 ") delete\n", log.refname,
			       log.update_index);
			continue;
		}
		printf("log{%s(%" PRIu64 ") %s <%s> %" PRIu64 " %04d\n",
		       log.refname, log.update_index, log.name, log.email,
		       log.time, log.tz_offset);
		print_hex(log.old_id, hash_size);
		printf(" => ");
		print_hex(log.new_id, hash_size);
		printf("\n\n%s\n}\n", log.message);
	}
	reftable_iterator_destroy(&it);
	reftable_log_record_release(&log);
	return err < 0 ? err : 0;
}

static int dump_merged(struct reftable_merged *m)
{
	size_t hash_size = reftable_hash_size(reftable_merged_hash(m));
	int err = dump_refs(m, hash_size);

	return err ? err : dump_logs(m, hash_size);
}

static int dump_table(const char *path)
{
	struct reftable_table *t = NULL;
	struct reftable_merged *m = NULL;
	int err = reftable_table_open(&t, path);

	if (!err)
		err = reftable_merged_new(&m, &t, 1, reftable_table_hash(t));
	if (!err)
		err = dump_merged(m);
	reftable_merged_free(m);
	if (t)
		reftable_table_decref(t);
	return err;
}

static int dump_stack(const char *dir, enum reftable_hash hash)
{
	struct reftable_stack_options opts;
	struct reftable_stack *st = NULL;
	int err;

	reftable_stack_options_init(&opts);
	opts.write.hash_id = hash;
	err = reftable_stack_new(&st, dir, &opts);
	if (!err)
		err = dump_merged(reftable_stack_merged(st));
	reftable_stack_destroy(st);
	return err;
}

int cmd__dump_reftable(int argc, const char **argv)
{
	enum reftable_hash hash = REFTABLE_HASH_SHA1;
	char mode = 0;
	int i, err = 0;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *opt = argv[i];

		if (!strcmp(opt, "-b") || !strcmp(opt, "-t") ||
		    !strcmp(opt, "-s")) {
			mode = opt[1];
		} else if (!strcmp(opt, "-6")) {
			hash = REFTABLE_HASH_SHA256;
		} else {
			print_usage();
			return 2;
		}
	}
	if (i != argc - 1) {
		fprintf(stderr, "need argument\n");
		print_usage();
		return 2;
	}
	if (mode == 'b')
		err = dump_blocks(argv[i]);
	else if (mode == 't')
		err = dump_table(argv[i]);
	else if (mode == 's')
		err = dump_stack(argv[i], hash);
	if (err) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[i],
			err < 0 && err != -1 ? reftable_error_str(err) :
					       "cannot read the table");
		return 1;
	}
	return 0;
}
