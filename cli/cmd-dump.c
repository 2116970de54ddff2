/* reftable dump: print what a table or a stack holds. */

#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct cmd_help dump_help = {
	"dump --records PATH",
	"Print every record of PATH in the records text format, one a line:\n"
	"refs first, then logs. PATH is a .ref file (a 'table NAME MIN MAX'\n"
	"line comes first and deletions are shown) or a stack directory\n"
	"holding tables.list (the merged view, deletions left out).",
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

int cmd_dump(struct cli *cli, int argc, char **argv)
{
	int records = 0, code = 0;
	struct strlist args = { 0 };
	struct opened o;
	const struct opt opts[] = {
		{ "records", 0, OPT_FLAG, &records, NULL,
		  "every record, in the records text format" },
		{ 0 },
	};

	if (parse_options(cli, argc, argv, opts, &dump_help, &args, &code))
		goto out;
	if (!records) {
		code = cli_usage_error(cli, "say what to dump: --records");
		goto out;
	}
	if (args.n != 1) {
		code = cli_usage_error(cli, "wants exactly one PATH (a .ref "
					    "file or a stack directory)");
		goto out;
	}
	code = open_path(cli, args.items[0], &o);
	if (!code) {
		if (o.is_dir)
			code = dump_merged_records(cli, o.merged);
		else
			code = dump_table_records(cli, o.tables[0]);
	}
	opened_release(&o);
	code = cli_finish_output(cli, code);
out:
	strlist_release(&args);
	return code;
}
