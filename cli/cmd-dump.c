/* reftable dump: print what a table or a stack holds. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "cli.h"

static const struct cmd_help dump_help = {
	"dump --records PATH\n"
	"dump --blocks [--json] PATH\n"
	"dump --stats [--json] PATH",
	"Show what a table or a stack holds. PATH is a .ref file or a stack\n"
	"directory (holding tables.list); without PATH, the stack that -C or\n"
	"the current directory names.\n"
	"\n"
	"--records prints every record in the records text format, one a\n"
	"line, refs first, then logs. For a .ref file a 'table NAME MIN MAX'\n"
	"line comes first and deletions are shown; for a directory it is the\n"
	"merged view of the stack, deletions left out. `reftable write`\n"
	"reads this format back.\n"
	"\n"
	"--blocks lists the blocks of each table in file order: offset of\n"
	"the block's type byte, type, index level, the length field, bytes\n"
	"stored (compressed, for log blocks), padding after it, restart\n"
	"points, records and first key; then the footer and its CRC.\n"
	"\n"
	"--stats counts records by kind, blocks and bytes by kind, bytes per\n"
	"ref and the compression ratio of log blocks (summed over a stack).",
};

static int dump_refs(const struct cli *cli, struct reftable_iterator *it,
		     size_t hash_size)
{
	struct reftable_ref_record ref = { 0 };
	struct sbuf line = SBUF_INIT;
	int err = reftable_iterator_seek_ref(it, "");

	while (err == 0 && (err = reftable_iterator_next_ref(it, &ref)) == 0) {
		format_ref(&line, &ref, hash_size);
		fwrite(line.buf, 1, line.len, stdout);
		sbuf_reset(&line);
	}
	reftable_ref_record_release(&ref);
	sbuf_release(&line);
	if (err < 0)
		return cli_lib_error(cli, err, "reading refs");
	return 0;
}

static int dump_logs(const struct cli *cli, struct reftable_iterator *it,
		     size_t hash_size)
{
	struct reftable_log_record log = { 0 };
	struct sbuf line = SBUF_INIT;
	int err = reftable_iterator_seek_log(it, "");

	while (err == 0 && (err = reftable_iterator_next_log(it, &log)) == 0) {
		format_log(&line, &log, hash_size);
		fwrite(line.buf, 1, line.len, stdout);
		sbuf_reset(&line);
	}
	reftable_log_record_release(&log);
	sbuf_release(&line);
	if (err < 0)
		return cli_lib_error(cli, err, "reading logs");
	return 0;
}

static int dump_table_records(const struct cli *cli, struct reftable_table *t)
{
	struct reftable_iterator it = { 0 };
	size_t hash_size = reftable_hash_size(reftable_table_hash(t));
	int code, err;

	printf("table %s %llu %llu\n", reftable_table_name(t),
	       (unsigned long long)reftable_table_min_update_index(t),
	       (unsigned long long)reftable_table_max_update_index(t));
	err = reftable_table_init_ref_iterator(t, &it);
	if (err < 0)
		return cli_lib_error(cli, err, "%s", reftable_table_name(t));
	code = dump_refs(cli, &it, hash_size);
	reftable_iterator_destroy(&it);
	if (code)
		return code;
	err = reftable_table_init_log_iterator(t, &it);
	if (err < 0)
		return cli_lib_error(cli, err, "%s", reftable_table_name(t));
	code = dump_logs(cli, &it, hash_size);
	reftable_iterator_destroy(&it);
	return code;
}

static int dump_merged_records(const struct cli *cli, struct reftable_merged *m)
{
	struct reftable_iterator it = { 0 };
	size_t hash_size = reftable_hash_size(reftable_merged_hash(m));
	int code, err;

	err = reftable_merged_init_ref_iterator(m, &it);
	if (err < 0)
		return cli_lib_error(cli, err, "merged view");
	code = dump_refs(cli, &it, hash_size);
	reftable_iterator_destroy(&it);
	if (code)
		return code;
	err = reftable_merged_init_log_iterator(m, &it);
	if (err < 0)
		return cli_lib_error(cli, err, "merged view");
	code = dump_logs(cli, &it, hash_size);
	reftable_iterator_destroy(&it);
	return code;
}

/* ---- --blocks and --stats ---- */

struct dump_problems {
	const struct cli *cli;
};

static void report_to_stderr(void *arg, const char *file, uint64_t off,
			     const char *msg)
{
	struct dump_problems *d = arg;
	cli_error(d->cli, 0, "%s: offset %llu: %s", file,
		  (unsigned long long)off, msg);
}

/* The .ref files PATH stands for, in stack order. Exit code. */
static int table_paths(const struct cli *cli, const char *path,
		       struct strlist *out)
{
	struct strlist names = { 0 };
	int kind = path_is_dir(path), err;

	if (kind < 0)
		return cli_error(cli, EXIT_DATA, "%s: %s", path,
				 strerror(errno));
	if (!kind) {
		strlist_add(out, xstrdup(path));
		return 0;
	}
	err = read_tables_list(cli, path, &names);
	for (size_t i = 0; i < names.n; i++)
		strlist_add(out, path_join(path, names.items[i]));
	strlist_release_owned(&names);
	return err < 0 ? cli_exit_code(err) : 0;
}

static const char *show_key(struct sbuf *tmp, const struct key *k)
{
	/* Keys are bytes, not C strings; escape like ref names. */
	sbuf_reset(tmp);
	for (size_t i = 0; i < k->len; i++) {
		uint8_t c = k->data[i];
		if (c > 0x20 && c < 0x7f && c != '\\')
			sbuf_addch(tmp, (char)c);
		else
			sbuf_addf(tmp, "\\x%02x", c);
	}
	return tmp->buf ? tmp->buf : "";
}

static void blocks_text(struct sbuf *o, const struct tfile *f)
{
	struct sbuf k = SBUF_INIT;

	sbuf_addf(o, "table %s: %zu bytes, version %d, %s, block size %u, "
		     "update index %llu-%llu\n",
		  f->name, f->size, f->version, hash_name(f->hash_size),
		  f->block_size, (unsigned long long)f->min_ui,
		  (unsigned long long)f->max_ui);
	sbuf_addf(o, "%10s  %-6s %5s %8s %8s %7s %8s %7s  %s\n", "offset",
		  "type", "level", "length", "bytes", "padding", "restarts",
		  "records", "first key");
	sbuf_addf(o, "%10d  %-6s %5s %8zu %8zu %7s %8s %7s\n", 0, "header",
		  "-", f->header_len, f->header_len, "-", "-", "-");
	for (size_t i = 0; i < f->nblocks; i++) {
		const struct tblock *b = &f->blocks[i];
		uint64_t bytes = b->stored - (b->type_off - b->start);
		sbuf_addf(o, "%10llu  %-6s %5d %8u %8llu %7llu %8u %7u  %s\n",
			  (unsigned long long)b->type_off,
			  block_type_name(b->type), b->level, b->len,
			  (unsigned long long)bytes,
			  (unsigned long long)(b->span - b->stored),
			  b->restarts, b->records, show_key(&k, &b->first));
	}
	sbuf_addf(o, "%10llu  %-6s %5s %8zu %8zu %7s %8s %7s  crc %08x%s\n",
		  (unsigned long long)f->footer_start, "footer", "-",
		  f->footer_len, f->footer_len, "-", "-", "-", f->crc_stored,
		  f->crc_stored == f->crc_actual ? " (ok)" : " (BAD)");
	sbuf_release(&k);
}

static void json_key(struct sbuf *o, const struct key *k)
{
	json_string(o, (const char *)k->data, k->len);
}

static void blocks_json(struct sbuf *o, const struct tfile *f)
{
	sbuf_addstr(o, "{\"table\": ");
	json_str(o, f->name);
	sbuf_addf(o, ", \"size\": %zu, \"version\": %d, \"hash\": \"%s\", "
		     "\"block_size\": %u, \"min_update_index\": %llu, "
		     "\"max_update_index\": %llu, \"header_length\": %zu,\n"
		     "  \"blocks\": [",
		  f->size, f->version, hash_name(f->hash_size), f->block_size,
		  (unsigned long long)f->min_ui, (unsigned long long)f->max_ui,
		  f->header_len);
	for (size_t i = 0; i < f->nblocks; i++) {
		const struct tblock *b = &f->blocks[i];
		sbuf_addf(o, "%s\n    {\"offset\": %llu, \"type\": \"%s\", "
			     "\"level\": %d, \"length\": %u, \"bytes\": %llu, "
			     "\"padding\": %llu, \"restarts\": %u, "
			     "\"records\": %u, \"first_key\": ",
			  i ? "," : "", (unsigned long long)b->type_off,
			  block_type_name(b->type), b->level, b->len,
			  (unsigned long long)(b->stored -
					       (b->type_off - b->start)),
			  (unsigned long long)(b->span - b->stored),
			  b->restarts, b->records);
		json_key(o, &b->first);
		sbuf_addstr(o, ", \"last_key\": ");
		json_key(o, &b->last);
		sbuf_addstr(o, "}");
	}
	sbuf_addf(o, "\n  ],\n  \"footer\": {\"offset\": %llu, \"length\": "
		     "%zu, \"crc\": \"%08x\", \"crc_ok\": %s, "
		     "\"ref_index_position\": %llu, \"obj_position\": %llu, "
		     "\"obj_id_length\": %u, \"obj_index_position\": %llu, "
		     "\"log_position\": %llu, \"log_index_position\": %llu}}",
		  (unsigned long long)f->footer_start, f->footer_len,
		  f->crc_stored, f->crc_stored == f->crc_actual ? "true" : "false",
		  (unsigned long long)f->ref_index_pos,
		  (unsigned long long)f->obj_pos, f->obj_id_len,
		  (unsigned long long)f->obj_index_pos,
		  (unsigned long long)f->log_pos,
		  (unsigned long long)f->log_index_pos);
}

/* Sum of the stats of every table. */
struct totals {
	struct tstats s;
	uint64_t size, tables;
	unsigned obj_id_len;
};

static void add_stats(struct totals *t, const struct tfile *f)
{
	const struct tstats *s = &f->stats;
	for (int i = 0; i < 4; i++) {
		t->s.refs[i] += s->refs[i];
		t->s.blocks[i] += s->blocks[i];
		t->s.bytes[i] += s->bytes[i];
	}
	for (int i = 0; i < 3; i++)
		if (s->max_level[i] > t->s.max_level[i])
			t->s.max_level[i] = s->max_level[i];
	t->s.logs[0] += s->logs[0];
	t->s.logs[1] += s->logs[1];
	t->s.obj_records += s->obj_records;
	t->s.index_records += s->index_records;
	t->s.padding += s->padding;
	t->s.restarts += s->restarts;
	t->s.log_inflated += s->log_inflated;
	t->size += f->size;
	t->tables++;
	if (f->obj_id_len > t->obj_id_len)
		t->obj_id_len = f->obj_id_len;
}

static uint64_t sum4(const uint64_t *a)
{
	return a[0] + a[1] + a[2] + a[3];
}

static void stats_text(struct sbuf *o, const struct totals *t)
{
	const struct tstats *s = &t->s;
	uint64_t refs = sum4(s->refs), logs = s->logs[0] + s->logs[1];
	static const char *kinds[] = { "ref", "obj", "log", "index" };

	sbuf_addf(o, "%-22s %llu\n", "tables", (unsigned long long)t->tables);
	sbuf_addf(o, "%-22s %llu\n", "bytes", (unsigned long long)t->size);
	sbuf_addf(o, "%-22s %llu (val1 %llu, val2 %llu, symref %llu, "
		     "deletions %llu)\n",
		  "refs", (unsigned long long)refs,
		  (unsigned long long)s->refs[1], (unsigned long long)s->refs[2],
		  (unsigned long long)s->refs[3], (unsigned long long)s->refs[0]);
	sbuf_addf(o, "%-22s %llu (updates %llu, deletions %llu)\n", "logs",
		  (unsigned long long)logs, (unsigned long long)s->logs[1],
		  (unsigned long long)s->logs[0]);
	sbuf_addf(o, "%-22s %llu\n", "obj records",
		  (unsigned long long)s->obj_records);
	for (int i = 0; i < 4; i++)
		sbuf_addf(o, "%-22s %llu (%llu bytes)\n",
			  i == 3 ? "index blocks" : i == 0 ? "ref blocks" :
			  i == 1 ? "obj blocks" : "log blocks",
			  (unsigned long long)s->blocks[i],
			  (unsigned long long)s->bytes[i]);
	for (int i = 0; i < 3; i++)
		sbuf_addf(o, "%-22s %d\n",
			  i == 0 ? "ref index levels" :
			  i == 1 ? "obj index levels" : "log index levels",
			  s->max_level[i]);
	(void)kinds;
	sbuf_addf(o, "%-22s %llu\n", "restart points",
		  (unsigned long long)s->restarts);
	sbuf_addf(o, "%-22s %llu\n", "padding bytes",
		  (unsigned long long)s->padding);
	if (refs)
		sbuf_addf(o, "%-22s %.1f\n", "bytes per ref",
			  (double)s->bytes[0] / (double)refs);
	if (s->blocks[2]) {
		sbuf_addf(o, "%-22s %llu\n", "log bytes inflated",
			  (unsigned long long)s->log_inflated);
		sbuf_addf(o, "%-22s %.2f\n", "log compression",
			  (double)s->log_inflated / (double)s->bytes[2]);
	}
	if (t->obj_id_len)
		sbuf_addf(o, "%-22s %u\n", "object id prefix", t->obj_id_len);
}

static void stats_json(struct sbuf *o, const struct totals *t)
{
	const struct tstats *s = &t->s;
	uint64_t refs = sum4(s->refs);

	sbuf_addf(o, "{\"tables\": %llu, \"bytes\": %llu, \"refs\": %llu, "
		     "\"val1\": %llu, \"val2\": %llu, \"symrefs\": %llu, "
		     "\"ref_deletions\": %llu, \"logs\": %llu, "
		     "\"log_updates\": %llu, \"log_deletions\": %llu, "
		     "\"obj_records\": %llu,\n",
		  (unsigned long long)t->tables, (unsigned long long)t->size,
		  (unsigned long long)refs, (unsigned long long)s->refs[1],
		  (unsigned long long)s->refs[2], (unsigned long long)s->refs[3],
		  (unsigned long long)s->refs[0],
		  (unsigned long long)(s->logs[0] + s->logs[1]),
		  (unsigned long long)s->logs[1], (unsigned long long)s->logs[0],
		  (unsigned long long)s->obj_records);
	sbuf_addf(o, " \"blocks\": {\"ref\": %llu, \"obj\": %llu, \"log\": "
		     "%llu, \"index\": %llu},\n",
		  (unsigned long long)s->blocks[0], (unsigned long long)s->blocks[1],
		  (unsigned long long)s->blocks[2], (unsigned long long)s->blocks[3]);
	sbuf_addf(o, " \"block_bytes\": {\"ref\": %llu, \"obj\": %llu, \"log\": "
		     "%llu, \"index\": %llu},\n",
		  (unsigned long long)s->bytes[0], (unsigned long long)s->bytes[1],
		  (unsigned long long)s->bytes[2], (unsigned long long)s->bytes[3]);
	sbuf_addf(o, " \"index_levels\": {\"ref\": %d, \"obj\": %d, \"log\": %d},"
		     " \"restarts\": %llu, \"padding\": %llu, "
		     "\"bytes_per_ref\": %.1f, \"log_bytes_inflated\": %llu, "
		     "\"log_compression\": %.2f, \"object_id_prefix\": %u}",
		  s->max_level[0], s->max_level[1], s->max_level[2],
		  (unsigned long long)s->restarts, (unsigned long long)s->padding,
		  refs ? (double)s->bytes[0] / (double)refs : 0.0,
		  (unsigned long long)s->log_inflated,
		  s->bytes[2] ? (double)s->log_inflated / (double)s->bytes[2] : 0.0,
		  t->obj_id_len);
}

/* --blocks or --stats over the tables of path. Exit code. */
static int dump_layout(const struct cli *cli, const char *path, int blocks,
		       int json)
{
	struct strlist paths = { 0 };
	struct dump_problems dp = { cli };
	struct problems p = { report_to_stderr, &dp, 0 };
	struct totals tot = { 0 };
	struct sbuf o = SBUF_INIT;
	int code = table_paths(cli, path, &paths);

	if (blocks && json)
		sbuf_addstr(&o, "[");
	for (size_t i = 0; !code && i < paths.n; i++) {
		struct tfile f;
		code = tfile_open(&f, cli, paths.items[i], &p);
		if (!code) {
			tfile_walk(&f, &p);
			if (blocks && json) {
				sbuf_addstr(&o, i ? ",\n" : "\n");
				blocks_json(&o, &f);
			} else if (blocks) {
				blocks_text(&o, &f);
			}
			add_stats(&tot, &f);
		}
		tfile_release(&f);
		fwrite(o.buf ? o.buf : "", 1, o.len, stdout);
		sbuf_reset(&o);
	}
	if (!code && blocks && json)
		sbuf_addstr(&o, "\n]\n");
	if (!code && !blocks) {
		if (json)
			stats_json(&o, &tot);
		else
			stats_text(&o, &tot);
		if (json)
			sbuf_addch(&o, '\n');
	}
	fwrite(o.buf ? o.buf : "", 1, o.len, stdout);
	sbuf_release(&o);
	strlist_release_owned(&paths);
	if (!code && p.count)
		code = cli_error(cli, EXIT_DATA,
				 "%lu problem%s found; see `reftable verify`",
				 p.count, p.count == 1 ? "" : "s");
	return code;
}

int cmd_dump(struct cli *cli, int argc, char **argv)
{
	int records = 0, blocks = 0, stats = 0, json = 0, code = 0;
	struct strlist args = { 0 };
	struct opened o;
	const char *path;
	char *stack_dir = NULL;
	const struct opt opts[] = {
		{ "records", 0, OPT_FLAG, &records, NULL,
		  "every record, in the records text format" },
		{ "blocks", 0, OPT_FLAG, &blocks, NULL,
		  "the blocks of each table, in file order" },
		{ "stats", 0, OPT_FLAG, &stats, NULL,
		  "counts of records, blocks and bytes" },
		{ "json", 0, OPT_FLAG, &json, NULL,
		  "JSON output (with --blocks or --stats)" },
		{ 0 },
	};

	if (parse_options(cli, argc, argv, opts, &dump_help, &args, &code))
		goto out;
	if (records + blocks + stats != 1) {
		code = cli_usage_error(cli, "say what to dump: one of "
					    "--records, --blocks, --stats");
		goto out;
	}
	if (json && records) {
		code = cli_usage_error(cli, "--json goes with --blocks or "
					    "--stats (see `list --json` and "
					    "`log --json` for records)");
		goto out;
	}
	if (args.n > 1) {
		code = cli_usage_error(cli, "wants one PATH (a .ref file or "
					    "a stack directory)");
		goto out;
	}
	if (args.n == 1) {
		path = args.items[0];
	} else {
		code = find_stack(cli, &stack_dir, NULL);
		if (code)
			goto out;
		path = stack_dir;
	}
	if (!records) {
		code = dump_layout(cli, path, blocks, json);
	} else {
		code = open_path(cli, path, &o);
		if (!code) {
			if (o.is_dir)
				code = dump_merged_records(cli, o.merged);
			else
				code = dump_table_records(cli, o.tables[0]);
		}
		opened_release(&o);
	}
	code = cli_finish_output(cli, code);
out:
	free(stack_dir);
	strlist_release(&args);
	return code;
}
