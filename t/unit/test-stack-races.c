/*
 * The races the stack protocol has to survive, each staged from the test
 * (a lock held, a half-finished state, or a filesystem hook that runs
 * "the other process" at the exact step), never left to timing.
 */

#include <check.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#include "stack-internal.h"
#include "test-stack-helpers.h"


/* ---------------------------------------------------------------------- */
/* Reproducer 1: the recycled-inode race                                   */
/* ---------------------------------------------------------------------- */

/*
 * A filesystem that reports its own inode numbers. POSIX only promises
 * that two files alive at the same time (linked, or held open) have
 * different numbers; a freed number may go to any new file. This one
 * plays the worst case for the stack: a freed number is handed, most
 * recent first, to the next new list created (tables.list.XXXXXXXX.tmp),
 * which then becomes tables.list. Real filesystems (ext4, tmpfs, XFS) do
 * recycle numbers, just not this predictably.
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
	if (has_end(to, "/tables.list") &&
	    v->links[i].ino - 1000 < sizeof(v->was_list))
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
	REFTABLE_FS_INIT(&v->fs);
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

/*
 * A table clean cannot remove (on Windows: a reader of another program
 * holds it without sharing deletion; here the unlink fails) does not
 * stop it: the other unlisted tables go, the failure is returned, and
 * the table stays for the next clean.
 */
START_TEST(clean_goes_on_past_a_table_it_cannot_remove)
{
	char *dir = tl_tmpdir();
	struct reftable_stack_options o = test_options();
	struct reftable_stack *st;
	struct hook_fs h;
	const char *held = "0x000000000001-0x000000000001-0000beef.ref";
	const char *other = "0x000000000002-0x000000000002-deadbeef.ref";

	hook_fs_init(&h);
	o.fs = &h.fs;
	o.disable_auto_compact = 1;
	CHECK_OK(reftable_stack_new(&st, dir, &o));
	CHECK_OK(test_add_ref(st, "refs/heads/a", 1, 0));
	CHECK_OK(test_add_ref(st, "refs/heads/b", 2, 0));
	write_table_file(test_path(dir, held), 1, "refs/heads/old", 8);
	write_table_file(test_path(dir, other), 2, "refs/heads/old", 9);

	h.fail_unlink_substr = "0000beef";
	ck_assert_int_eq(reftable_stack_clean(st), REFTABLE_IO_ERROR);
	ck_assert_ptr_nonnull(strstr(reftable_error_detail(), "0000beef"));
	ck_assert(test_exists(test_path(dir, held)));
	ck_assert(!test_exists(test_path(dir, other)));
	ck_assert_int_eq(test_count_suffix(dir, ".lock"), 0);

	h.fail_unlink_substr = NULL;
	CHECK_OK(reftable_stack_clean(st));
	ck_assert(!test_exists(test_path(dir, held)));
	ck_assert_int_eq(test_ref_fill(st, "refs/heads/b"), 2);
	reftable_stack_destroy(st);
	tl_rmtree(dir);
}
END_TEST

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

static Suite *stack_suite(void)
{
	Suite *s = suite_create("stack races");
	TCase *tc = tcase_create("races");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, race1_recycled_inode_real_fs, 0, 2);
	tcase_add_loop_test(tc, race1_recycled_inode_worst_case_fs, 0, 2);
	tcase_add_test(tc, race1_companion_closed_descriptor_is_fooled);
	tcase_add_loop_test(tc, race2_table_vanishes_on_open, 0, 2);
	tcase_add_loop_test(tc, race2_table_vanishes_on_reload, 0, 2);
	tcase_add_loop_test(tc, missing_table_with_unchanged_list_fails, 0, 2);
	tcase_add_test(tc, race3_clean_spares_addition_in_flight);
	tcase_add_test(tc, clean_goes_on_past_a_table_it_cannot_remove);
	tcase_add_test(tc, clean_waits_for_the_list_lock);
	tcase_add_test(tc, race4_compaction_vs_addition);
	tcase_add_test(tc, auto_compaction_skips_locked_tables);
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
