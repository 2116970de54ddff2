/*
 * The stack: additions, reloads, compaction, clean, locks, and the
 * deterministic reproducers of the races the protocol has to survive.
 * Every race is staged from the test (a lock held, a half-finished state,
 * or a filesystem hook that runs "the other process" at the exact step),
 * never left to timing.
 */

#include <check.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#include "stack-internal.h"
#include "test-stack-helpers.h"

/* ---------------------------------------------------------------------- */
/* Unit pieces                                                             */
/* ---------------------------------------------------------------------- */

START_TEST(segment_rule)
{
	/* Already geometric from newest to oldest: nothing to do. */
	uint64_t geo[] = { 64, 32, 16, 8, 4, 2, 1 };
	/* The example of Git's own tests for factor 2. */
	uint64_t git[] = { 512, 64, 17, 16, 9, 9, 9, 16, 2, 16 };
	uint64_t two[] = { 10, 10 };
	uint64_t tail_ok[] = { 100, 10, 10, 4 };
	struct segment s;

	s = suggest_compaction_segment(geo, 7, 2);
	ck_assert_uint_eq(s.end - s.start, 0);
	s = suggest_compaction_segment(geo, 1, 2);
	ck_assert_uint_eq(s.end - s.start, 0);

	s = suggest_compaction_segment(git, 10, 2);
	ck_assert_uint_eq(s.start, 1);
	ck_assert_uint_eq(s.end, 10);

	s = suggest_compaction_segment(two, 2, 2);
	ck_assert_uint_eq(s.start, 0);
	ck_assert_uint_eq(s.end, 2);
	ck_assert_uint_eq(s.bytes, 20);

	/* 4 is fine below 10 (factor 2), the two 10s are not: merge them;
	 * 100 stays since 100 >= 2 * 20. */
	s = suggest_compaction_segment(tail_ok, 4, 2);
	ck_assert_uint_eq(s.start, 1);
	ck_assert_uint_eq(s.end, 3);

	/* With factor 3, 64 vs 32 already breaks the sequence everywhere. */
	s = suggest_compaction_segment(geo, 7, 3);
	ck_assert_uint_eq(s.start, 0);
	ck_assert_uint_eq(s.end, 7);
}
END_TEST

START_TEST(table_names)
{
	char name[80];
	uint64_t min, max;

	table_name_format(name, sizeof(name), 1, 0x2a, 0xdeadbeef);
	ck_assert_str_eq(name, "0x000000000001-0x00000000002a-deadbeef.ref");
	ck_assert_int_eq(table_name_parse(name, &min, &max), 0);
	ck_assert_uint_eq(min, 1);
	ck_assert_uint_eq(max, 0x2a);
	/* The older form without a random part. */
	ck_assert_int_eq(table_name_parse("0x000000000003-0x000000000004.ref",
					  &min, &max), 0);
	ck_assert_uint_eq(max, 4);
	ck_assert_int_eq(table_name_parse("tables.list", &min, &max), -1);
	ck_assert_int_eq(table_name_parse("0x1-0x2-ab.ref.lock", &min, &max), -1);
}
END_TEST

START_TEST(list_parsing)
{
	char **names;
	size_t n;

	CHECK_OK(names_parse(&names, &n, "a.ref\nb.ref\n", 12, "x"));
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(names[1], "b.ref");
	names_free(names, n);
	/* A name leaving the directory is refused. */
	ck_assert_int_eq(names_parse(&names, &n, "../x.ref\n", 9, "x"),
			 REFTABLE_FORMAT_ERROR);
	ck_assert_int_eq(names_parse(&names, &n, "a/b.ref\n", 8, "x"),
			 REFTABLE_FORMAT_ERROR);
	CHECK_OK(names_parse(&names, &n, "", 0, "x"));
	ck_assert_uint_eq(n, 0);
	names_free(names, n);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Basics                                                                  */
/* ---------------------------------------------------------------------- */

START_TEST(open_create)
{
	char *dir = tl_tmpdir();
	char sub[4096];
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;

	snprintf(sub, sizeof(sub), "%s/reftable", dir);
	o.create = 0;
	ck_assert_int_eq(reftable_stack_new(&st, sub, &o),
			 REFTABLE_NOT_EXIST_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), sub));

	o.create = 1;
	CHECK_OK(reftable_stack_new(&st, sub, &o));
	ck_assert(test_exists(test_path(sub, "tables.list")));
	ck_assert_uint_eq(test_table_count(st), 0);
	ck_assert_uint_eq(reftable_stack_next_update_index(st), 1);
	ck_assert_int_eq(reftable_stack_up_to_date(st), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/x"), -1);
	reftable_stack_destroy(st);

	o.auto_compaction_factor = 257;
	ck_assert_int_eq(reftable_stack_new(&st, sub, &o), REFTABLE_RANGE_ERROR);
	o.auto_compaction_factor = 1;
	ck_assert_int_eq(reftable_stack_new(&st, sub, &o), REFTABLE_RANGE_ERROR);

	unlink(test_path(sub, "tables.list"));
	rmdir(sub);
	tl_rmtree(dir);
}
END_TEST

START_TEST(add_and_read)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	char name[80];
	uint64_t min, max;
	char *list;

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));
	CHECK_OK(test_add_ref(st, "refs/heads/b", 2, 0));
	CHECK_OK(test_add_ref(st, "refs/heads/a", 3, 0));
	ck_assert_uint_eq(test_table_count(st), 3);
	ck_assert_uint_eq(reftable_stack_next_update_index(st), 4);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), 3);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/b"), 2);

	/* Names: 0x{min}-0x{max}-{random}.ref, update indexes 1, 2, 3. */
	list = test_read_file(test_path(dir, "tables.list"), NULL);
	ck_assert_uint_eq(strlen(list), 3 * 43);
	memcpy(name, list + 2 * 43, 42);
	name[42] = '\0';
	ck_assert_int_eq(table_name_parse(name, &min, &max), 0);
	ck_assert_uint_eq(min, 3);
	ck_assert_uint_eq(max, 3);
	free(list);

	/* The newest reflog entry of a. */
	{
		struct reftable_log_record log = { 0 };
		CHECK_OK(reftable_stack_read_log(st, "refs/heads/a", &log));
		ck_assert_uint_eq(log.update_index, 3);
		ck_assert_uint_eq(log.new_id[0], 3);
		reftable_log_record_release(&log);
	}

	/* Deleting hides the ref. */
	CHECK_OK(test_del_ref(st, "refs/heads/a"));
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), -1);

	/* No temporary files or locks are left behind. */
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

static int write_nothing(struct reftable_writer *w, void *arg)
{
	return 0;
}

START_TEST(empty_addition_writes_nothing)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct stat before, after;

	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));
	ck_assert_int_eq(stat(test_path(dir, "tables.list"), &before), 0);
	CHECK_OK(reftable_stack_add(st, write_nothing, NULL, 0));
	ck_assert_int_eq(stat(test_path(dir, "tables.list"), &after), 0);
	/* The very same tables.list: not even rewritten. */
	ck_assert_uint_eq(before.st_ino, after.st_ino);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);
	CHECK_NO_LEFTOVERS(dir);
	ck_assert_uint_eq(reftable_stack_next_update_index(st), 2);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

START_TEST(two_tables_in_one_addition)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct reftable_addition *add;
	const char *r1[] = { "refs/heads/one" }, *r2[] = { "refs/heads/two" };
	struct test_write tw = { 0 };

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	ck_assert_uint_eq(reftable_addition_update_index(add), 1);
	tw.add = add;
	tw.refs = r1;
	tw.n = 1;
	tw.fill = 1;
	CHECK_OK(reftable_addition_add(add, test_write_fn, &tw));
	ck_assert_uint_eq(reftable_addition_update_index(add), 2);
	tw.refs = r2;
	tw.fill = 2;
	CHECK_OK(reftable_addition_add(add, test_write_fn, &tw));
	/* Not visible before commit. */
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/one"), -1);
	CHECK_OK(reftable_addition_commit(add));
	reftable_addition_destroy(add);
	ck_assert_uint_eq(test_table_count(st), 2);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/two"), 2);
	ck_assert_uint_eq(reftable_stack_next_update_index(st), 3);

	/* An aborted addition leaves nothing: no table, no lock. */
	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	tw.add = add;
	CHECK_OK(reftable_addition_add(add, test_write_fn, &tw));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 3);
	reftable_addition_destroy(add);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 2);
	ck_assert_int_eq(test_count_suffix(dir, ".lock"), 0);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

START_TEST(outdated_and_reload_flag)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *a, *b;

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&a, dir, &o));
	CHECK_OK(reftable_stack_new(&b, dir, &o));
	CHECK_OK(test_add_ref(a, "refs/heads/x", 1, 0));

	/* b's snapshot is older than the stack. */
	ck_assert_int_eq(reftable_stack_up_to_date(b), 0);
	ck_assert_int_eq(test_add_ref(b, "refs/heads/y", 2, 0),
			 REFTABLE_OUTDATED_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), "tables.list"));
	ck_assert_int_eq(test_count_suffix(dir, ".lock"), 0);
	ck_assert_uint_eq(test_list_lines(dir), 1);

	/* With the flag it reloads under the lock and uses index 2. */
	CHECK_OK(test_add_ref(b, "refs/heads/y", 2, REFTABLE_ADDITION_RELOAD));
	ck_assert_uint_eq(reftable_stack_next_update_index(b), 3);
	ck_assert_int_eq(test_ref_fill(b, "refs/heads/x"), 1);
	CHECK_OK(reftable_stack_reload(a));
	ck_assert_int_eq(test_ref_fill(a, "refs/heads/y"), 2);
	reftable_stack_destroy(a);
	reftable_stack_destroy(b);
	tl_rmtree(dir);
}
END_TEST

static int count_reload(void *arg)
{
	(*(int *)arg)++;
	return 0;
}

START_TEST(reload_reuses_tables_and_calls_back)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *w, *r;
	struct reftable_table *first;
	int calls = 0;

	o.disable_auto_compact = 1;
	o.force_content_reload = _i;
	CHECK_OK(reftable_stack_new(&w, dir, &o));
	CHECK_OK(test_add_ref(w, "refs/heads/a", 1, 0));
	o.on_reload = count_reload;
	o.on_reload_arg = &calls;
	CHECK_OK(reftable_stack_new(&r, dir, &o));
	ck_assert_int_eq(calls, 0);
	first = reftable_merged_table(reftable_stack_merged(r), 0);

	CHECK_OK(reftable_stack_reload(r)); /* nothing changed */
	ck_assert_int_eq(calls, 0);

	CHECK_OK(test_add_ref(w, "refs/heads/b", 2, 0));
	ck_assert_int_eq(reftable_stack_up_to_date(r), 0);
	CHECK_OK(reftable_stack_reload(r));
	ck_assert_int_eq(calls, 1);
	ck_assert_int_eq(reftable_stack_up_to_date(r), 1);
	ck_assert_uint_eq(test_table_count(r), 2);
	/* The table already open is the same object, not reopened. */
	ck_assert_ptr_eq(reftable_merged_table(reftable_stack_merged(r), 0),
			 first);
	ck_assert_int_eq(test_ref_fill(r, "refs/heads/b"), 2);

	/* A compaction by w: r sees one table afterwards. */
	CHECK_OK(reftable_stack_compact_all(w, NULL));
	ck_assert_int_eq(reftable_stack_up_to_date(r), 0);
	CHECK_OK(reftable_stack_reload(r));
	ck_assert_uint_eq(test_table_count(r), 1);
	ck_assert_int_eq(calls, 2);
	ck_assert_int_eq(test_ref_fill(r, "refs/heads/a"), 1);
	reftable_stack_destroy(w);
	reftable_stack_destroy(r);
	tl_rmtree(dir);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Reproducer 1: the recycled-inode race                                   */
/* ---------------------------------------------------------------------- */

/*
 * A filesystem that reports its own inode numbers. POSIX only promises
 * that two files alive at the same time (linked, or held open) have
 * different numbers; a freed number may go to any new file. This one
 * plays the worst case for the stack: a freed number is handed, most
 * recent first, to the next new list created (tables.list.XXXXXXXX.tmp),
 * which then becomes tables.list. Real filesystems (ext4, tmpfs, XFS) do recycle numbers,
 * just not this predictably.
 */
#define VINO_MAX 256
struct vino_fs {
	struct reftable_fs fs;
	const struct reftable_fs *real;
	struct { char path[512]; unsigned long ino; int used; } links[VINO_MAX];
	struct { int fd; unsigned long ino; int used; } fds[VINO_MAX];
	unsigned long freed[VINO_MAX];
	int nfreed;
	/* Numbers that were once tables.list's: only those are handed on
	 * (a lock's number going to the next list would test nothing). */
	unsigned char was_list[4096];
	unsigned long fresh;
};

static int vino_in_use(struct vino_fs *v, unsigned long ino)
{
	int i;

	for (i = 0; i < VINO_MAX; i++)
		if ((v->links[i].used && v->links[i].ino == ino) ||
		    (v->fds[i].used && v->fds[i].ino == ino))
			return 1;
	return 0;
}

static void vino_maybe_free(struct vino_fs *v, unsigned long ino)
{
	if (ino && ino - 1000 < sizeof(v->was_list) &&
	    v->was_list[ino - 1000] && !vino_in_use(v, ino)) {
		ck_assert_int_lt(v->nfreed, VINO_MAX);
		v->freed[v->nfreed++] = ino;
	}
}

static int vino_link_slot(struct vino_fs *v, const char *path)
{
	int i;

	for (i = 0; i < VINO_MAX; i++)
		if (v->links[i].used && !strcmp(v->links[i].path, path))
			return i;
	return -1;
}

static unsigned long vino_link(struct vino_fs *v, const char *path,
			       int may_recycle)
{
	int i = vino_link_slot(v, path);
	unsigned long ino;

	if (i >= 0)
		return v->links[i].ino;
	if (may_recycle && v->nfreed && strstr(path, "/tables.list.") &&
	    has_end(path, ".tmp"))
		ino = v->freed[--v->nfreed];
	else
		ino = v->fresh++;
	for (i = 0; i < VINO_MAX; i++)
		if (!v->links[i].used)
			break;
	ck_assert_int_lt(i, VINO_MAX);
	v->links[i].used = 1;
	v->links[i].ino = ino;
	snprintf(v->links[i].path, sizeof(v->links[i].path), "%s", path);
	return ino;
}

static void vino_unlink_path(struct vino_fs *v, const char *path)
{
	int i = vino_link_slot(v, path);

	if (i >= 0) {
		v->links[i].used = 0;
		vino_maybe_free(v, v->links[i].ino);
	}
}

static int vino_open(void *ctx, const char *path, int flags, mode_t mode)
{
	struct vino_fs *v = ctx;
	int fd = v->real->open(v->real->ctx, path, flags, mode), i;

	if (fd < 0)
		return fd;
	for (i = 0; i < VINO_MAX; i++)
		if (!v->fds[i].used)
			break;
	ck_assert_int_lt(i, VINO_MAX);
	v->fds[i].used = 1;
	v->fds[i].fd = fd;
	v->fds[i].ino = vino_link(v, path, (flags & O_CREAT) != 0);
	return fd;
}

static int vino_close(void *ctx, int fd)
{
	struct vino_fs *v = ctx;
	int i;

	for (i = 0; i < VINO_MAX; i++)
		if (v->fds[i].used && v->fds[i].fd == fd) {
			v->fds[i].used = 0;
			vino_maybe_free(v, v->fds[i].ino);
		}
	return v->real->close(v->real->ctx, fd);
}

static int vino_fstat(void *ctx, int fd, struct stat *sb)
{
	struct vino_fs *v = ctx;
	int i, r = v->real->fstat(v->real->ctx, fd, sb);

	for (i = 0; !r && i < VINO_MAX; i++)
		if (v->fds[i].used && v->fds[i].fd == fd)
			sb->st_ino = v->fds[i].ino;
	return r;
}

static int vino_stat(void *ctx, const char *path, struct stat *sb)
{
	struct vino_fs *v = ctx;
	int r = v->real->stat(v->real->ctx, path, sb);

	if (!r)
		sb->st_ino = vino_link(v, path, 0);
	return r;
}

static int vino_rename(void *ctx, const char *from, const char *to)
{
	struct vino_fs *v = ctx;
	int r = v->real->rename(v->real->ctx, from, to), i, j;

	if (r)
		return r;
	vino_link(v, from, 0);
	i = vino_link_slot(v, from);
	j = vino_link_slot(v, to);
	snprintf(v->links[i].path, sizeof(v->links[i].path), "%s", to);
	if (has_end(to, "/tables.list") && v->links[i].ino - 1000 < sizeof(v->was_list))
		v->was_list[v->links[i].ino - 1000] = 1;
	if (j >= 0) {
		v->links[j].used = 0;
		vino_maybe_free(v, v->links[j].ino);
	}
	return 0;
}

static int vino_unlink(void *ctx, const char *path)
{
	struct vino_fs *v = ctx;
	int r = v->real->unlink(v->real->ctx, path);

	if (!r)
		vino_unlink_path(v, path);
	return r;
}

static void vino_fs_init(struct vino_fs *v)
{
	memset(v, 0, sizeof(*v));
	v->real = reftable_fs_posix();
	v->fs = *v->real;
	v->fs.ctx = v;
	v->fs.open = vino_open;
	v->fs.close = vino_close;
	v->fs.fstat = vino_fstat;
	v->fs.stat = vino_stat;
	v->fs.rename = vino_rename;
	v->fs.unlink = vino_unlink;
	/* Publish by rename, the one name change it tracks. */
	v->fs.link = NULL;
	v->fs.exchange = NULL;
	v->fresh = 1000;
}

/*
 * The reader caches the stack; a writer appends and compacts, so that
 * the new tables.list has exactly the size of the one the reader loaded.
 * The up-to-date check must still see the change. Run on the real
 * filesystem and on the worst-case one above, with both kinds of check.
 */
static void recycled_inode_race(const struct reftable_fs *fs, int content)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *w, *r;
	struct stat before, after;

	o.disable_auto_compact = 1;
	o.force_content_reload = content;
	o.fs = fs;
	CHECK_OK(reftable_stack_new(&w, dir, &o));
	CHECK_OK(test_add_ref(w, "refs/heads/a", 1, 0));
	CHECK_OK(reftable_stack_new(&r, dir, &o));
	ck_assert_int_eq(fs->stat(fs->ctx, test_path(dir, "tables.list"),
				  &before), 0);

	CHECK_OK(test_add_ref(w, "refs/heads/b", 2, 0));
	CHECK_OK(reftable_stack_compact_all(w, NULL));
	ck_assert_int_eq(fs->stat(fs->ctx, test_path(dir, "tables.list"),
				  &after), 0);
	/* The staging worked: one line of the same length as before. */
	ck_assert_int_eq(after.st_size, before.st_size);
	ck_assert_uint_eq(test_list_lines(dir), 1);

	ck_assert_int_eq(reftable_stack_up_to_date(r), 0);
	CHECK_OK(reftable_stack_reload(r));
	ck_assert_int_eq(reftable_stack_up_to_date(r), 1);
	ck_assert_int_eq(test_ref_fill(r, "refs/heads/b"), 2);
	ck_assert_uint_eq(test_table_count(r), 1);
	reftable_stack_destroy(w);
	reftable_stack_destroy(r);
	tl_rmtree(dir);
}

START_TEST(race1_recycled_inode_real_fs)
{
	recycled_inode_race(reftable_fs_posix(), _i);
}
END_TEST

START_TEST(race1_recycled_inode_worst_case_fs)
{
	struct vino_fs *v = malloc(sizeof(*v));

	vino_fs_init(v);
	recycled_inode_race(&v->fs, _i);
	free(v);
}
END_TEST

/*
 * The companion: why the descriptor is kept. A reader that only
 * remembered (inode, size) of the tables.list it read, and closed it, is
 * fooled by the same sequence: the worst-case filesystem hands the freed
 * inode number to the new tables.list, which has the same size but names
 * other tables. With the kept descriptor (the test above), the number is
 * still in use, so this cannot happen.
 */
START_TEST(race1_companion_closed_descriptor_is_fooled)
{
	struct vino_fs *v = malloc(sizeof(*v));
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *w;
	struct stat before, after;
	char *list_before, *list_after;
	const char *list;

	vino_fs_init(v);
	o.disable_auto_compact = 1;
	o.fs = &v->fs;
	CHECK_OK(reftable_stack_new(&w, dir, &o));
	CHECK_OK(test_add_ref(w, "refs/heads/a", 1, 0));
	list = test_path(dir, "tables.list");
	/* The "reader": one stat, nothing kept open. */
	ck_assert_int_eq(v->fs.stat(v->fs.ctx, list, &before), 0);
	list_before = test_read_file(list, NULL);

	CHECK_OK(test_add_ref(w, "refs/heads/b", 2, 0));
	CHECK_OK(reftable_stack_compact_all(w, NULL));
	ck_assert_int_eq(v->fs.stat(v->fs.ctx, list, &after), 0);
	list_after = test_read_file(list, NULL);

	/* Same identity and size, different stack: a stat cache without
	 * the descriptor would call this reader up to date. */
	ck_assert_uint_eq(after.st_ino, before.st_ino);
	ck_assert_uint_eq(after.st_dev, before.st_dev);
	ck_assert_int_eq(after.st_size, before.st_size);
	ck_assert_str_ne(list_before, list_after);

	free(list_before);
	free(list_after);
	reftable_stack_destroy(w);
	tl_rmtree(dir);
	free(v);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Reproducer 2: a table vanishes between reading the list and opening it  */
/* ---------------------------------------------------------------------- */

struct vanish {
	struct reftable_stack *compactor;
	int armed, fired;
	const char *only_if_not_loaded_by; /* unused marker */
};

/* Right before the reader opens a table, another process compacts the
 * whole stack, which removes that table. */
static void compact_before_open(struct hook_fs *h, const char *path, int flags)
{
	struct vanish *vn = h->data;

	if (!vn->armed || (flags & O_CREAT) || !has_end(path, ".ref"))
		return;
	vn->armed = 0;
	CHECK_OK(reftable_stack_reload(vn->compactor));
	CHECK_OK(reftable_stack_compact_all(vn->compactor, NULL));
	vn->fired = 1;
	ck_assert(!test_exists(path)); /* the reader's table is gone */
}

START_TEST(race2_table_vanishes_on_open)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *w, *r;
	struct hook_fs h;
	struct vanish vn = { 0 };

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&w, dir, &o));
	CHECK_OK(test_add_ref(w, "refs/heads/a", 1, 0));
	CHECK_OK(test_add_ref(w, "refs/heads/b", 2, 0));

	hook_fs_init(&h);
	h.before_open = compact_before_open;
	h.data = &vn;
	vn.compactor = w;
	vn.armed = 1;
	o.fs = &h.fs;
	o.force_content_reload = _i;
	CHECK_OK(reftable_stack_new(&r, dir, &o));
	ck_assert(vn.fired);
	ck_assert_uint_eq(test_table_count(r), 1);
	ck_assert_int_eq(test_ref_fill(r, "refs/heads/a"), 1);
	ck_assert_int_eq(test_ref_fill(r, "refs/heads/b"), 2);
	ck_assert_int_eq(reftable_stack_up_to_date(r), 1);
	reftable_stack_destroy(r);
	reftable_stack_destroy(w);
	tl_rmtree(dir);
}
END_TEST

START_TEST(race2_table_vanishes_on_reload)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *w, *r;
	struct hook_fs h;
	struct vanish vn = { 0 };

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&w, dir, &o));
	CHECK_OK(test_add_ref(w, "refs/heads/a", 1, 0));

	hook_fs_init(&h);
	h.before_open = compact_before_open;
	h.data = &vn;
	vn.compactor = w;
	o.fs = &h.fs;
	o.force_content_reload = _i;
	CHECK_OK(reftable_stack_new(&r, dir, &o));

	/* r reuses the first table and must open the new one, which the
	 * compaction removes first. */
	CHECK_OK(test_add_ref(w, "refs/heads/c", 3, 0));
	vn.armed = 1;
	CHECK_OK(reftable_stack_reload(r));
	ck_assert(vn.fired);
	ck_assert_uint_eq(test_table_count(r), 1);
	ck_assert_int_eq(test_ref_fill(r, "refs/heads/c"), 3);
	ck_assert_int_eq(test_ref_fill(r, "refs/heads/a"), 1);
	reftable_stack_destroy(r);
	reftable_stack_destroy(w);
	tl_rmtree(dir);
}
END_TEST

/* A table missing while the list stays the same is damage, reported at
 * once (no waiting for the deadline) and naming the file. */
START_TEST(missing_table_with_unchanged_list_fails)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *w, *r;
	char *list, name[64];

	o.disable_auto_compact = 1;
	o.force_content_reload = _i;
	CHECK_OK(reftable_stack_new(&w, dir, &o));
	CHECK_OK(test_add_ref(w, "refs/heads/a", 1, 0));
	CHECK_OK(test_add_ref(w, "refs/heads/b", 2, 0));
	list = test_read_file(test_path(dir, "tables.list"), NULL);
	memcpy(name, list, 42);
	name[42] = '\0';
	free(list);
	ck_assert_int_eq(unlink(test_path(dir, name)), 0);

	ck_assert_int_eq(reftable_stack_new(&r, dir, &o),
			 REFTABLE_NOT_EXIST_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), name));
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), "damaged"));
	reftable_stack_destroy(w);
	tl_rmtree(dir);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Reproducer 3: clean against an addition in flight                       */
/* ---------------------------------------------------------------------- */

static ssize_t file_write(void *arg, const void *buf, size_t len)
{
	return fwrite(buf, 1, len, arg) == len ? (ssize_t)len : -1;
}

/* A complete table of one ref at update index idx, written to path. */
static void write_table_file(const char *path, uint64_t idx,
			     const char *refname, uint8_t fill)
{
	struct reftable_write_options wo = { 0 };
	struct reftable_writer *w;
	struct reftable_ref_record ref = { 0 };
	FILE *f = fopen(path, "wb");

	ck_assert(f != NULL);
	CHECK_OK(reftable_writer_new(&w, file_write, f, &wo));
	CHECK_OK(reftable_writer_set_limits(w, idx, idx));
	ref.refname = (char *)refname;
	ref.update_index = idx;
	ref.value_type = REFTABLE_REF_VAL1;
	memset(ref.value, fill, sizeof(ref.value));
	CHECK_OK(reftable_writer_add_ref(w, &ref));
	CHECK_OK(reftable_writer_close(w));
	reftable_writer_free(w);
	fclose(f);
}

START_TEST(race3_clean_spares_addition_in_flight)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	const char *inflight = "0x000000000003-0x000000000003-0badf00d.ref";
	const char *stale = "0x000000000002-0x000000000002-deadbeef.ref";
	char *list, buf[4096];

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));
	CHECK_OK(test_add_ref(st, "refs/heads/b", 2, 0));

	/*
	 * The half-finished state: an addition at update index 3 has been
	 * renamed into place, and its writer has not yet rewritten
	 * tables.list. Beside it, leftovers that nobody will list: a table
	 * of an update index already used, and the same under names of
	 * another form (read from their headers).
	 */
	write_table_file(test_path(dir, inflight), 3, "refs/heads/new", 7);
	write_table_file(test_path(dir, stale), 2, "refs/heads/old", 8);
	write_table_file(test_path(dir, "legacy-old.ref"), 1, "refs/x", 9);
	write_table_file(test_path(dir, "legacy-new.ref"), 5, "refs/y", 9);
	test_write_file(test_path(dir, "notes.txt"), "not a table\n");

	CHECK_OK(reftable_stack_clean(st));
	ck_assert(test_exists(test_path(dir, inflight)));
	ck_assert(!test_exists(test_path(dir, stale)));
	ck_assert(!test_exists(test_path(dir, "legacy-old.ref")));
	ck_assert(test_exists(test_path(dir, "legacy-new.ref")));
	ck_assert(test_exists(test_path(dir, "notes.txt")));
	ck_assert_int_eq(test_count_suffix(dir, ".lock"), 0);
	/* The listed tables are untouched. */
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), 1);

	/* The addition finishes: it lists its table, and it is intact. */
	list = test_read_file(test_path(dir, "tables.list"), NULL);
	snprintf(buf, sizeof(buf), "%s%s\n", list, inflight);
	free(list);
	test_write_file(test_path(dir, "tables.list.lock"), buf);
	ck_assert_int_eq(rename(test_path(dir, "tables.list.lock"),
				test_path(dir, "tables.list")), 0);
	CHECK_OK(reftable_stack_reload(st));
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/new"), 7);
	ck_assert_uint_eq(reftable_stack_next_update_index(st), 4);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* clean takes the list lock, so a live addition of our own protocol is
 * never raced: clean waits (here: fails at once), and the addition
 * commits its table afterwards. */
START_TEST(clean_waits_for_the_list_lock)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st, *cleaner;
	struct reftable_addition *add;
	const char *refs[] = { "refs/heads/pending" };
	struct test_write tw = { 0 };

	o.disable_auto_compact = 1;
	o.lock_timeout_ms = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(reftable_stack_new(&cleaner, dir, &o));
	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	tw.add = add;
	tw.refs = refs;
	tw.n = 1;
	tw.fill = 5;
	CHECK_OK(reftable_addition_add(add, test_write_fn, &tw));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);

	ck_assert_int_eq(reftable_stack_clean(cleaner), REFTABLE_LOCK_ERROR);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);

	CHECK_OK(reftable_addition_commit(add));
	reftable_addition_destroy(add);
	CHECK_OK(reftable_stack_clean(cleaner));
	CHECK_OK(reftable_stack_reload(cleaner));
	ck_assert_int_eq(test_ref_fill(cleaner, "refs/heads/pending"), 5);
	reftable_stack_destroy(st);
	reftable_stack_destroy(cleaner);
	tl_rmtree(dir);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Reproducer 4: compaction against a concurrent addition                  */
/* ---------------------------------------------------------------------- */

struct concurrent {
	struct reftable_stack *adder, *other_compactor;
	int armed, fired;
	int other_err;
	char other_detail[512];
};

/*
 * Runs while the compactor creates its temporary table: it holds the
 * locks of its input tables and has released tables.list.lock (step 3).
 * Another compactor must not wait for the inputs; an addition must land.
 */
static void add_during_merge(struct hook_fs *h, const char *path, int flags)
{
	struct concurrent *cc = h->data;

	if (!cc->armed || !(flags & O_CREAT) || !has_end(path, ".tmp"))
		return;
	cc->armed = 0;
	ck_assert(!test_exists(test_path(reftable_stack_dir(cc->adder),
					 "tables.list.lock")));

	CHECK_OK(reftable_stack_reload(cc->other_compactor));
	cc->other_err = reftable_stack_compact_all(cc->other_compactor, NULL);
	snprintf(cc->other_detail, sizeof(cc->other_detail), "%s",
		 reftable_error_detail());

	/* a gets a new value: newer than what is being compacted. */
	CHECK_OK(test_add_ref(cc->adder, "refs/heads/a", 9,
			      REFTABLE_ADDITION_RELOAD));
	CHECK_OK(test_add_ref(cc->adder, "refs/heads/c", 3,
			      REFTABLE_ADDITION_RELOAD));
	cc->fired = 1;
}

START_TEST(race4_compaction_vs_addition)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *c, *adder, *other, *check;
	struct concurrent cc = { 0 };
	struct hook_fs h;
	uint64_t min, max, prev_max;
	char **names;
	size_t n, i;

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&adder, dir, &o));
	CHECK_OK(test_add_ref(adder, "refs/heads/a", 1, 0));
	CHECK_OK(test_add_ref(adder, "refs/heads/b", 2, 0));
	CHECK_OK(reftable_stack_new(&other, dir, &o));
	/* The adder auto-compacts: it must skip the locked tables. */
	reftable_stack_destroy(adder);
	o.disable_auto_compact = 0;
	CHECK_OK(reftable_stack_new(&adder, dir, &o));

	hook_fs_init(&h);
	h.before_open = add_during_merge;
	h.data = &cc;
	cc.adder = adder;
	cc.other_compactor = other;
	cc.armed = 1;
	o.fs = &h.fs;
	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&c, dir, &o));
	CHECK_OK(reftable_stack_compact_all(c, NULL));
	ck_assert(cc.fired);

	/* The other compactor failed at once on the locked inputs. */
	ck_assert_int_eq(cc.other_err, REFTABLE_LOCK_ERROR);
	ck_assert_ptr_nonnull(strstr(cc.other_detail, ".ref.lock"));

	/* Both landed: the compacted table first, the additions after it,
	 * update indexes increasing, nothing lost, the newest value wins. */
	o.fs = NULL;
	CHECK_OK(reftable_stack_new(&check, dir, &o));
	ck_assert_int_eq(test_ref_fill(check, "refs/heads/a"), 9);
	ck_assert_int_eq(test_ref_fill(check, "refs/heads/b"), 2);
	ck_assert_int_eq(test_ref_fill(check, "refs/heads/c"), 3);
	CHECK_OK(list_read_names(check, &names, &n));
	ck_assert_uint_ge(n, 2);
	ck_assert_int_eq(table_name_parse(names[0], &min, &max), 0);
	ck_assert_uint_eq(min, 1);
	ck_assert_uint_eq(max, 2);
	prev_max = max;
	for (i = 1; i < n; i++) {
		ck_assert_int_eq(table_name_parse(names[i], &min, &max), 0);
		ck_assert_uint_eq(min, prev_max + 1);
		prev_max = max;
	}
	ck_assert_uint_eq(prev_max, 4);
	names_free(names, n);
	ck_assert_int_eq(test_count_suffix(dir, ".lock"), 0);
	ck_assert_int_eq(test_count_suffix(dir, ".tmp"), 0);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), (int)n);
	ck_assert_uint_gt(reftable_stack_compaction_stats(c)->bytes, 0);
	ck_assert_uint_eq(reftable_stack_compaction_stats(c)->entries_written,
			  4); /* two refs, two log entries */

	reftable_stack_destroy(c);
	reftable_stack_destroy(adder);
	reftable_stack_destroy(other);
	reftable_stack_destroy(check);
	tl_rmtree(dir);
}
END_TEST

/* A table locked by another compactor is skipped by auto-compaction: the
 * newer tables above it are merged, nothing waits. */
START_TEST(auto_compaction_skips_locked_tables)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	char **names;
	size_t n;
	uint64_t min, max;
	char lock[4096], second[64];

	o.disable_auto_compact = 1;
	o.lock_timeout_ms = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/x1", 1, 0));
	CHECK_OK(test_add_ref(st, "refs/heads/x2", 2, 0));
	CHECK_OK(test_add_ref(st, "refs/heads/x3", 3, 0));
	CHECK_OK(test_add_ref(st, "refs/heads/x4", 4, 0));
	CHECK_OK(list_read_names(st, &names, &n));
	snprintf(second, sizeof(second), "%s", names[1]);
	names_free(names, n);
	snprintf(lock, sizeof(lock), "%s/%s.lock", dir, second);
	test_write_file(lock, "");

	CHECK_OK(reftable_stack_auto_compact(st));
	CHECK_OK(list_read_names(st, &names, &n));
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(names[1], second);
	ck_assert_int_eq(table_name_parse(names[2], &min, &max), 0);
	ck_assert_uint_eq(min, 3);
	ck_assert_uint_eq(max, 4);
	names_free(names, n);

	/* An explicit full compaction reports the lock, naming it. */
	ck_assert_int_eq(reftable_stack_compact_all(st, NULL),
			 REFTABLE_LOCK_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), second));
	ck_assert_uint_eq(test_list_lines(dir), 3);
	ck_assert(test_exists(lock));

	unlink(lock);
	CHECK_OK(reftable_stack_compact_all(st, NULL));
	ck_assert_uint_eq(test_list_lines(dir), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/x2"), 2);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Waiting for tables.list.lock (the lock protocol: test-locks.c)         */
/* ---------------------------------------------------------------------- */

/* Waiting forever (negative timeout) ends when the holder goes: the hook
 * plays the holder, removing the lock after three refused attempts. */
START_TEST(lock_wait_forever_ends_when_released)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct hook_fs h;

	hook_fs_init(&h);
	h.unlock_after_busy = 3;
	o.fs = &h.fs;
	o.lock_timeout_ms = -1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	test_write_file(test_path(dir, "tables.list.lock"), "");
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));
	ck_assert_int_eq(h.lock_busy, 3);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), 1);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST


/* ---------------------------------------------------------------------- */
/* Compaction semantics                                                    */
/* ---------------------------------------------------------------------- */

static int count_deletions(struct reftable_table *t, int *refs, int *logs)
{
	struct reftable_iterator it = { 0 };
	struct reftable_ref_record ref = { 0 };
	struct reftable_log_record log = { 0 };
	int err;

	*refs = *logs = 0;
	CHECK_OK(reftable_table_init_ref_iterator(t, &it));
	CHECK_OK(reftable_iterator_seek_ref(&it, ""));
	while ((err = reftable_iterator_next_ref(&it, &ref)) == 0)
		*refs += ref.value_type == REFTABLE_REF_DELETION;
	ck_assert_int_eq(err, 1);
	reftable_iterator_destroy(&it);
	CHECK_OK(reftable_table_init_log_iterator(t, &it));
	CHECK_OK(reftable_iterator_seek_log(&it, ""));
	while ((err = reftable_iterator_next_log(&it, &log)) == 0)
		*logs += log.value_type == REFTABLE_LOG_DELETION;
	ck_assert_int_eq(err, 1);
	reftable_iterator_destroy(&it);
	reftable_ref_record_release(&ref);
	reftable_log_record_release(&log);
	return 0;
}

/* A table deleting ref "refs/heads/gone" and its reflog entry at 1. */
static int write_tombstones(struct reftable_writer *w, void *arg)
{
	struct reftable_stack *st = arg;
	uint64_t idx = reftable_stack_next_update_index(st);
	struct reftable_ref_record ref = { 0 };
	struct reftable_log_record log = { 0 };
	int err;

	ref.refname = (char *)"refs/heads/gone";
	ref.update_index = idx;
	ref.value_type = REFTABLE_REF_DELETION;
	err = reftable_writer_add_ref(w, &ref);
	if (err)
		return err;
	log.refname = (char *)"refs/heads/gone";
	log.update_index = 1;
	log.value_type = REFTABLE_LOG_DELETION;
	return reftable_writer_add_log(w, &log);
}

START_TEST(deletions_kept_above_bottom_dropped_at_bottom)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct reftable_log_record log = { 0 };
	const char *many[40];
	char names[40][32];
	struct test_write tw = { 0 };
	int drefs, dlogs, i;

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	/* A big bottom table, so that auto-compaction leaves it alone. */
	CHECK_OK(test_add_ref(st, "refs/heads/gone", 1, 0));
	for (i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "refs/tags/t%02d", i);
		many[i] = names[i];
	}
	tw.st = st;
	tw.refs = many;
	tw.n = 40;
	tw.fill = 4;
	tw.logs = 1;
	CHECK_OK(reftable_stack_add(st, test_write_fn, &tw, 0));
	CHECK_OK(reftable_stack_compact_all(st, NULL));
	ck_assert_uint_eq(test_table_count(st), 1);

	CHECK_OK(reftable_stack_add(st, write_tombstones, st, 0));
	CHECK_OK(test_add_ref(st, "refs/heads/other", 5, 0));
	ck_assert_uint_eq(test_table_count(st), 3);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/gone"), -1);
	ck_assert_int_eq(reftable_stack_read_log(st, "refs/heads/gone", &log), 1);

	/* Above the bottom: the two small tables merge, tombstones stay
	 * (they still hide the records of the bottom table). */
	CHECK_OK(reftable_stack_auto_compact(st));
	ck_assert_uint_eq(test_table_count(st), 2);
	count_deletions(reftable_merged_table(reftable_stack_merged(st), 1),
			&drefs, &dlogs);
	ck_assert_int_eq(drefs, 1);
	ck_assert_int_eq(dlogs, 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/gone"), -1);
	ck_assert_int_eq(reftable_stack_read_log(st, "refs/heads/gone", &log), 1);

	/* At the bottom: nothing below to hide, the tombstones go, and what
	 * they hid is gone too. */
	CHECK_OK(reftable_stack_compact_all(st, NULL));
	ck_assert_uint_eq(test_table_count(st), 1);
	count_deletions(reftable_merged_table(reftable_stack_merged(st), 0),
			&drefs, &dlogs);
	ck_assert_int_eq(drefs, 0);
	ck_assert_int_eq(dlogs, 0);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/gone"), -1);
	ck_assert_int_eq(reftable_stack_read_log(st, "refs/heads/gone", &log), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/other"), 5);
	ck_assert_int_eq(test_ref_fill(st, "refs/tags/t39"), 4);
	reftable_log_record_release(&log);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

static int count_logs(struct reftable_stack *st)
{
	struct reftable_iterator it = { 0 };
	struct reftable_log_record log = { 0 };
	int n = 0, err;

	CHECK_OK(reftable_stack_init_log_iterator(st, &it));
	CHECK_OK(reftable_iterator_seek_log(&it, ""));
	while ((err = reftable_iterator_next_log(&it, &log)) == 0)
		n++;
	ck_assert_int_eq(err, 1);
	reftable_iterator_destroy(&it);
	reftable_log_record_release(&log);
	return n;
}

START_TEST(log_expiry)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct reftable_log_expiry ex = { 0 };
	int i;

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	/* Update i (1..6) writes a log entry of time 1700000000 + i. */
	for (i = 1; i <= 6; i++)
		CHECK_OK(test_add_ref(st, "refs/heads/a", (uint8_t)i, 0));
	ck_assert_int_eq(count_logs(st), 6);

	ex.time = 1700000000 + 3; /* drops the entries of times +1, +2 */
	CHECK_OK(reftable_stack_compact_all(st, &ex));
	ck_assert_int_eq(count_logs(st), 4);

	/* A single table is rewritten too, to expire by update index. */
	ex.time = 0;
	ex.min_update_index = 5;
	CHECK_OK(reftable_stack_compact_all(st, &ex));
	ck_assert_uint_eq(test_table_count(st), 1);
	ck_assert_int_eq(count_logs(st), 2);
	/* The refs are untouched, and the update index keeps counting. */
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), 6);
	ck_assert_uint_eq(reftable_stack_next_update_index(st), 7);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

START_TEST(auto_compaction_factor)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	char name[64];
	int i;

	o.auto_compaction_factor = _i ? 256 : 2;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "refs/heads/b%03d", i);
		CHECK_OK(test_add_ref(st, name, (uint8_t)i, 0));
		/* After every addition the sizes form the sequence. */
		{
			struct reftable_merged *m = reftable_stack_merged(st);
			size_t k, n = reftable_merged_table_count(m);
			for (k = 1; k < n; k++) {
				uint64_t older = reftable_table_size(
					reftable_merged_table(m, k - 1)) - 23;
				uint64_t newer = reftable_table_size(
					reftable_merged_table(m, k)) - 23;
				ck_assert_uint_ge(older,
						  newer * o.auto_compaction_factor);
			}
		}
	}
	ck_assert_uint_le(test_table_count(st), _i ? 2 : 7);
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "refs/heads/b%03d", i);
		ck_assert_int_eq(test_ref_fill(st, name), i);
	}
	ck_assert_uint_gt(reftable_stack_compaction_stats(st)->attempts, 0);
	ck_assert_uint_eq(reftable_stack_compaction_stats(st)->failures, 0);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Fsync and errors                                                        */
/* ---------------------------------------------------------------------- */

/*
 * With auto-compaction, a commit makes three fsyncs, the directory last:
 * the addition's table and the new list, or, where the addition triggers
 * a compaction, the merged table (the addition folded in, never synced
 * on its own) and the one list that replaces the merged tables.
 */
START_TEST(fsync_once_per_dir)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct hook_fs h;
	int i;

	hook_fs_init(&h);
	o.fs = &h.fs;
	o.disable_fsync = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	for (i = 0; i < 16; i++) {
		char name[32];

		snprintf(name, sizeof(name), "refs/heads/b%02d", i);
		h.fsyncs = h.dir_fsyncs = 0;
		CHECK_OK(test_add_ref(st, name, 1, 0));
		ck_assert_int_eq(h.dir_fsyncs, 1);
		ck_assert(h.last_fsync_dir);
		ck_assert_msg(h.fsyncs == 3, "addition %d: %d fsyncs", i,
			      h.fsyncs);
	}
	/* The additions were folded: few tables, all of them merged. */
	ck_assert_uint_gt(reftable_stack_compaction_stats(st)->bytes, 0);
	ck_assert_uint_le(test_table_count(st), 5);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"),
			 (int)test_table_count(st));
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/*
 * Folding an addition into the compaction it triggers: the tables below
 * it are merged with it above the bottom, so its tombstones stay; a
 * table locked by another compactor, or a run too large to merge under
 * the list lock, leaves the addition to be published on its own.
 */
START_TEST(fold_keeps_tombstones_above_bottom)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st, *auto_st;
	struct reftable_log_record log = { 0 };
	const char *many[40];
	char names[40][32];
	struct test_write tw = { 0 };
	struct hook_fs h;
	int drefs, dlogs, i;

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/gone", 1, 0));
	for (i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "refs/tags/t%02d", i);
		many[i] = names[i];
	}
	tw.st = st;
	tw.refs = many;
	tw.n = 40;
	tw.fill = 4;
	tw.logs = 1;
	CHECK_OK(reftable_stack_add(st, test_write_fn, &tw, 0));
	CHECK_OK(reftable_stack_compact_all(st, NULL));
	CHECK_OK(test_add_ref(st, "refs/heads/other", 5, 0));
	ck_assert_uint_eq(test_table_count(st), 2);

	hook_fs_init(&h);
	o.fs = &h.fs;
	o.disable_auto_compact = 0;
	o.disable_fsync = 0;
	CHECK_OK(reftable_stack_new(&auto_st, dir, &o));
	CHECK_OK(reftable_stack_add(auto_st, write_tombstones, auto_st, 0));
	/* One merged table, one list, the directory; and no claims: the
	 * fold holds the list lock, so checking for others' is enough. */
	ck_assert_int_eq(h.fsyncs, 3);
	ck_assert_int_eq(h.table_lock_opens, 0);
	ck_assert_uint_eq(test_table_count(auto_st), 2);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 2);
	count_deletions(reftable_merged_table(reftable_stack_merged(auto_st),
					      1),
			&drefs, &dlogs);
	ck_assert_int_eq(drefs, 1);
	ck_assert_int_eq(dlogs, 1);
	ck_assert_int_eq(test_ref_fill(auto_st, "refs/heads/gone"), -1);
	ck_assert_int_eq(reftable_stack_read_log(auto_st, "refs/heads/gone",
						 &log),
			 1);
	ck_assert_int_eq(test_ref_fill(auto_st, "refs/heads/other"), 5);
	ck_assert_int_eq(test_ref_fill(auto_st, "refs/tags/t07"), 4);
	reftable_log_record_release(&log);
	reftable_stack_destroy(auto_st);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* Two tables, x1 then x2, written without compaction; the newest one's
 * name into newest (may be NULL). */
static void two_tables(const char *dir, char *newest, size_t size)
{
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;

	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/x1", 1, 0));
	CHECK_OK(test_add_ref(st, "refs/heads/x2", 2, 0));
	ck_assert_uint_eq(test_table_count(st), 2);
	if (newest)
		snprintf(newest, size, "%s",
			 reftable_table_name(reftable_merged_table(
				 reftable_stack_merged(st), 1)));
	reftable_stack_destroy(st);
}

START_TEST(fold_skips_locked_tables)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	char newest[256], lock[4096];

	/* Another compactor holds the newest table. */
	two_tables(dir, newest, sizeof(newest));
	snprintf(lock, sizeof(lock), "%s/%s.lock", dir, newest);
	test_write_file(lock, "");

	o.lock_timeout_ms = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/x3", 3, 0));
	/* Published on its own, nothing merged, the lock left alone. */
	ck_assert_uint_eq(test_list_lines(dir), 3);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 3);
	ck_assert(test_exists(lock));
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/x3"), 3);

	/* Released: the next addition folds all of them. */
	unlink(lock);
	CHECK_OK(test_add_ref(st, "refs/heads/x4", 4, 0));
	ck_assert_uint_eq(test_list_lines(dir), 1);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/x1"), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/x4"), 4);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/*
 * A fold whose directory fsync fails has renamed the new list, but the
 * list on disk may still be the old one after a crash: the tables it
 * merged must stay until a clean finds them unlisted.
 */
START_TEST(fold_keeps_inputs_when_dir_fsync_fails)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct hook_fs h;

	two_tables(dir, NULL, 0);
	hook_fs_init(&h);
	h.fail_dir_fsync = 1;
	o.fs = &h.fs;
	o.disable_fsync = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	/* Published, and said so: a retry would apply it twice. */
	ck_assert_int_eq(test_add_ref(st, "refs/heads/x3", 3, 0),
			 REFTABLE_COMMITTED_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), "committed"));
	/* Listed: the merged table alone. On disk: it and the two inputs;
	 * the addition's own table, never listed, is gone. */
	ck_assert_uint_eq(test_list_lines(dir), 1);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 3);
	reftable_stack_destroy(st);

	h.fail_dir_fsync = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(reftable_stack_clean(st));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/x1"), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/x3"), 3);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* One table of n refs named prefix%06d. */
static void add_many(struct reftable_stack *st, const char *prefix, int n)
{
	char **names = calloc((size_t)n, sizeof(*names));
	struct test_write tw = { 0 };
	int i;

	ck_assert_ptr_nonnull(names);
	for (i = 0; i < n; i++) {
		names[i] = malloc(64);
		ck_assert_ptr_nonnull(names[i]);
		snprintf(names[i], 64, "%s%06d", prefix, i);
	}
	tw.st = st;
	tw.refs = (const char *const *)names;
	tw.n = (size_t)n;
	tw.fill = 7;
	CHECK_OK(reftable_stack_add(st, test_write_fn, &tw, 0));
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

START_TEST(fold_only_small_runs)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct hook_fs h;

	hook_fs_init(&h);
	o.fs = &h.fs;
	o.disable_fsync = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	add_many(st, "refs/heads/a", 30000);
	/* Over half the bound of a fold (1 MiB). */
	ck_assert_uint_gt(reftable_table_size(reftable_merged_table(
				  reftable_stack_merged(st), 0)),
			  512 << 10);
	/* As large again: merging both is over the bound, so the addition
	 * is published first and compacted after, with its own fsyncs. */
	h.fsyncs = 0;
	add_many(st, "refs/heads/b", 30000);
	ck_assert_int_eq(h.fsyncs, 5);
	ck_assert_uint_eq(test_table_count(st), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a000017"), 7);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/b029999"), 7);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/*
 * With auto-compaction on, an addition's first small table is held in
 * memory until the commit: a fold merges it without it ever being a file.
 */
START_TEST(fold_writes_no_addition_file)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct hook_fs h;

	two_tables(dir, NULL, 0);
	hook_fs_init(&h);
	o.fs = &h.fs;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/x3", 3, 0));
	ck_assert_uint_eq(test_table_count(st), 1);
	/* Only the merged table was ever written to a file. */
	ck_assert_uint_eq(h.tmp_bytes,
			  reftable_table_size(reftable_merged_table(
				  reftable_stack_merged(st), 0)));
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/x1"), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/x3"), 3);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* What a commit makes durable, in order: 'w' the writeback asked for of
 * a table or the list, 't' a table's fsync ('T' once the new list is
 * written), 'l' the list's, 'R' the rename of the list into place. */
struct sync_order {
	char seen[16];
	size_t len;
	char dir[4096];
};

static int is_new_list(const char *path)
{
	return strstr(path, "/tables.list.") && has_end(path, ".tmp");
}

/* Whether the new list (tables.list.XXXXXXXX.tmp) is written already. */
static int new_list_written(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat sb;
	char path[8192];
	int found = 0;

	while (d && !found && (e = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		found = is_new_list(path) && !stat(path, &sb) && sb.st_size;
	}
	if (d)
		closedir(d);
	return found;
}

static void note_event(struct hook_fs *h, char what)
{
	struct sync_order *o = h->data;

	if (o->len + 1 < sizeof(o->seen))
		o->seen[o->len++] = what;
}

static void order_after_fsync(struct hook_fs *h, const char *path)
{
	struct sync_order *o = h->data;

	if (has_end(path, ".ref.tmp") || has_end(path, ".ref"))
		note_event(h, new_list_written(o->dir) ? 'T' : 't');
	else if (is_new_list(path))
		note_event(h, 'l');
}

static void order_before_writeback(struct hook_fs *h, const char *path)
{
	note_event(h, has_end(path, ".ref.tmp") || has_end(path, ".ref") ||
				      is_new_list(path) ?
			      'w' :
			      '?');
}

static void order_before_rename(struct hook_fs *h, const char *from,
				const char *to)
{
	(void)from;
	if (has_end(to, "tables.list"))
		note_event(h, 'R');
}

/*
 * The tables a commit adds are fsynced before the list that names them,
 * and that list before its rename: after the list is written, so that
 * the filesystem may write them out together (all writeback started at
 * once), in a plain addition and in a fold alike.
 */
START_TEST(tables_synced_before_their_list)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct sync_order order = { { 0 }, 0, { 0 } };
	struct hook_fs h;

	snprintf(order.dir, sizeof(order.dir), "%s", dir);
	hook_fs_init(&h);
	h.data = &order;
	h.after_fsync = order_after_fsync;
	h.before_writeback = order_before_writeback;
	h.before_rename = order_before_rename;
	o.fs = &h.fs;
	o.disable_fsync = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	/* Nothing to fold into: the table itself. */
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));
	ck_assert_str_eq(order.seen, "wwTlR");
	ck_assert_int_eq(h.writebacks, 2);
	/* Folded: the merged table. */
	order.len = 0;
	memset(order.seen, 0, sizeof(order.seen));
	h.writebacks = 0;
	CHECK_OK(test_add_ref(st, "refs/heads/b", 2, 0));
	ck_assert_uint_eq(test_table_count(st), 1);
	ck_assert_str_eq(order.seen, "wwTlR");
	ck_assert_int_eq(h.writebacks, 2);

	/* A writeback that fails fails the commit, as an fsync would. */
	h.fail_writeback = 1;
	ck_assert_int_eq(test_add_ref(st, "refs/heads/c", 3, 0),
			 REFTABLE_IO_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), "writeback"));
	h.fail_writeback = 0;
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/c"), -1);
	CHECK_OK(test_add_ref(st, "refs/heads/c", 4, 0));
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/c"), 4);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), 1);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* Add one ref in its own table to add. */
static int add_one(struct reftable_addition *add, const char *name,
		   uint8_t fill)
{
	const char *refs[1];
	struct test_write tw = { 0 };

	refs[0] = name;
	tw.add = add;
	tw.refs = refs;
	tw.n = 1;
	tw.fill = fill;
	return reftable_addition_add(add, test_write_fn, &tw);
}

/* A held table that is not folded reaches its file at the commit; a
 * second table sends the first there before it is written. */
START_TEST(held_table_written_when_not_folded)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct reftable_addition *add;
	struct hook_fs h;

	hook_fs_init(&h);
	o.fs = &h.fs;
	o.disable_fsync = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));

	/* Nothing to fold into: published alone, durable as ever. */
	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	CHECK_OK(add_one(add, "refs/heads/a", 1));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 0);
	ck_assert_int_eq(test_count_suffix(dir, ".tmp"), 0);
	h.fsyncs = 0;
	CHECK_OK(reftable_addition_commit(add));
	reftable_addition_destroy(add);
	ck_assert_int_eq(h.fsyncs, 3);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), 1);

	/* Two tables: both on disk before the commit, both published. */
	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	CHECK_OK(add_one(add, "refs/heads/b", 2));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);
	CHECK_OK(add_one(add, "refs/heads/c", 3));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 3);
	ck_assert_uint_eq(reftable_addition_update_index(add), 4);
	CHECK_OK(reftable_addition_commit(add));
	reftable_addition_destroy(add);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/b"), 2);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/c"), 3);
	ck_assert_uint_eq(reftable_stack_next_update_index(st), 4);

	/* Aborted while held: nothing to remove, nothing left. */
	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	CHECK_OK(add_one(add, "refs/heads/d", 4));
	reftable_addition_destroy(add);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/d"), -1);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/*
 * A held table whose file cannot be made stays held: a commit that fails
 * so names the file, publishes nothing and leaves nothing behind, and can
 * be retried; a second add that fails so leaves the first to be
 * published; an addition given up after such a failure leaves nothing.
 */
START_TEST(held_table_survives_failed_write_to_file)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct reftable_addition *add;
	struct hook_fs h;

	hook_fs_init(&h);
	o.fs = &h.fs;
	CHECK_OK(reftable_stack_new(&st, dir, &o));

	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	CHECK_OK(add_one(add, "refs/heads/a", 1));
	h.fail_write_suffix = ".tmp";
	ck_assert_int_eq(reftable_addition_commit(add), REFTABLE_IO_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), ".tmp"));
	ck_assert_int_eq(test_count_suffix(dir, ".tmp"), 0);
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 0);
	ck_assert_uint_eq(test_list_lines(dir), 0);
	h.fail_write_suffix = NULL;
	CHECK_OK(reftable_addition_commit(add));
	reftable_addition_destroy(add);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), 1);

	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	CHECK_OK(add_one(add, "refs/heads/b", 2));
	h.fail_write_suffix = ".tmp";
	ck_assert_int_eq(add_one(add, "refs/heads/c", 3), REFTABLE_IO_ERROR);
	h.fail_write_suffix = NULL;
	CHECK_OK(reftable_addition_commit(add));
	reftable_addition_destroy(add);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/b"), 2);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/c"), -1);

	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	CHECK_OK(add_one(add, "refs/heads/d", 4));
	h.fail_write_suffix = ".tmp";
	ck_assert_int_eq(reftable_addition_commit(add), REFTABLE_IO_ERROR);
	h.fail_write_suffix = NULL;
	reftable_addition_destroy(add);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/d"), -1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a"), 1);
	CHECK_NO_LEFTOVERS(dir);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

/* A table that outgrows what a fold may merge goes to its file while it
 * is written, what was held first. */
START_TEST(large_table_written_while_added)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct reftable_addition *add;
	struct test_write tw = { 0 };
	char **names = calloc(60000, sizeof(*names));
	struct hook_fs h;
	int i;

	ck_assert_ptr_nonnull(names);
	for (i = 0; i < 60000; i++) {
		names[i] = malloc(32);
		ck_assert_ptr_nonnull(names[i]);
		snprintf(names[i], 32, "refs/heads/a%06d", i);
	}
	hook_fs_init(&h);
	o.fs = &h.fs;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(reftable_stack_new_addition(&add, st, 0));
	tw.add = add;
	tw.refs = (const char *const *)names;
	tw.n = 60000;
	tw.fill = 9;
	CHECK_OK(reftable_addition_add(add, test_write_fn, &tw));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);
	ck_assert_uint_gt(h.tmp_bytes, 1 << 20);
	CHECK_OK(reftable_addition_commit(add));
	reftable_addition_destroy(add);
	ck_assert_uint_eq(h.tmp_bytes, reftable_table_size(reftable_merged_table(
					       reftable_stack_merged(st), 0)));
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a000000"), 9);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/a059999"), 9);
	for (i = 0; i < 60000; i++)
		free(names[i]);
	free(names);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

START_TEST(fsync_option)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct hook_fs h;

	hook_fs_init(&h);
	o.fs = &h.fs;
	o.disable_auto_compact = 1;
	o.disable_fsync = 0;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	h.fsyncs = 0;
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));
	/* The table, the new list, the directory. */
	ck_assert_int_eq(h.fsyncs, 3);
	h.fsyncs = 0;
	CHECK_OK(test_add_ref(st, "refs/heads/b", 1, 0));
	CHECK_OK(reftable_stack_compact_all(st, NULL));
	ck_assert_int_eq(h.fsyncs, 6);
	reftable_stack_destroy(st);

	o.disable_fsync = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	h.fsyncs = 0;
	CHECK_OK(test_add_ref(st, "refs/heads/c", 1, 0));
	CHECK_OK(reftable_stack_compact_all(st, NULL));
	ck_assert_int_eq(h.fsyncs, 0);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

START_TEST(write_error_names_the_file)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct hook_fs h;
	int err;

	hook_fs_init(&h);
	o.fs = &h.fs;
	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));

	h.fail_write_suffix = ".tmp";
	err = test_add_ref(st, "refs/heads/b", 2, 0);
	ck_assert_int_eq(err, REFTABLE_IO_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), ".tmp"));
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), dir));
	CHECK_NO_LEFTOVERS(dir);
	ck_assert_uint_eq(test_list_lines(dir), 1);

	/* The list itself cannot be written: nothing changes either. */
	h.fail_write_suffix = "tables.list.lock";
	err = test_add_ref(st, "refs/heads/b", 2, 0);
	ck_assert_int_eq(err, REFTABLE_IO_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(),
				     "tables.list.lock"));
	ck_assert_int_eq(test_count_suffix(dir, ".ref"), 1);
	ck_assert_int_eq(test_count_suffix(dir, ".lock"), 0);

	/* A failed compaction leaves the stack as it was. */
	h.fail_write_suffix = NULL;
	CHECK_OK(test_add_ref(st, "refs/heads/b", 2, 0));
	h.fail_write_suffix = ".tmp";
	ck_assert_int_eq(reftable_stack_compact_all(st, NULL),
			 REFTABLE_IO_ERROR);
	ck_assert_uint_eq(test_list_lines(dir), 2);
	CHECK_NO_LEFTOVERS(dir);
	ck_assert_uint_eq(reftable_stack_compaction_stats(st)->failures, 1);
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/b"), 2);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

static Suite *stack_suite(void)
{
	Suite *s = suite_create("stack");
	TCase *tc = tcase_create("units");

	tcase_add_test(tc, segment_rule);
	tcase_add_test(tc, table_names);
	tcase_add_test(tc, list_parsing);
	suite_add_tcase(s, tc);

	tc = tcase_create("basics");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, open_create);
	tcase_add_test(tc, add_and_read);
	tcase_add_test(tc, empty_addition_writes_nothing);
	tcase_add_test(tc, two_tables_in_one_addition);
	tcase_add_test(tc, outdated_and_reload_flag);
	/* Loop index 1: the content-comparison reload (reproducer 6). */
	tcase_add_loop_test(tc, reload_reuses_tables_and_calls_back, 0, 2);
	tcase_add_test(tc, fsync_once_per_dir);
	tcase_add_test(tc, fsync_option);
	tcase_add_test(tc, write_error_names_the_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("races");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, race1_recycled_inode_real_fs, 0, 2);
	tcase_add_loop_test(tc, race1_recycled_inode_worst_case_fs, 0, 2);
	tcase_add_test(tc, race1_companion_closed_descriptor_is_fooled);
	tcase_add_loop_test(tc, race2_table_vanishes_on_open, 0, 2);
	tcase_add_loop_test(tc, race2_table_vanishes_on_reload, 0, 2);
	tcase_add_loop_test(tc, missing_table_with_unchanged_list_fails, 0, 2);
	tcase_add_test(tc, race3_clean_spares_addition_in_flight);
	tcase_add_test(tc, clean_waits_for_the_list_lock);
	tcase_add_test(tc, race4_compaction_vs_addition);
	tcase_add_test(tc, auto_compaction_skips_locked_tables);
	tcase_add_test(tc, lock_wait_forever_ends_when_released);
	suite_add_tcase(s, tc);

	tc = tcase_create("compaction");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, deletions_kept_above_bottom_dropped_at_bottom);
	tcase_add_test(tc, fold_keeps_tombstones_above_bottom);
	tcase_add_test(tc, fold_skips_locked_tables);
	tcase_add_test(tc, fold_only_small_runs);
	tcase_add_test(tc, fold_writes_no_addition_file);
	tcase_add_test(tc, held_table_written_when_not_folded);
	tcase_add_test(tc, held_table_survives_failed_write_to_file);
	tcase_add_test(tc, tables_synced_before_their_list);
	tcase_add_test(tc, large_table_written_while_added);
	tcase_add_test(tc, fold_keeps_inputs_when_dir_fsync_fails);
	tcase_add_test(tc, log_expiry);
	tcase_add_loop_test(tc, auto_compaction_factor, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stack_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
