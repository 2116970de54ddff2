/*
 * Git's reftable library API on top of this project's library.
 *
 * Every translation unit of the layer sees both APIs: Git's public
 * headers (from the Git tree being built, on the include path) under
 * their own names, and ours through ours.h, where every name carries the
 * prefix lrt_ (struct lrt_reftable_stack, lrt_REFTABLE_LOCK_ERROR, ...).
 * The objects of our library are renamed the same way when they are
 * linked into the layer, so the two never meet in Git's link.
 *
 * The types Git's headers leave opaque (struct reftable_stack, _addition,
 * _writer, _iterator_vtable) are defined here, as wrappers of ours.
 */
#ifndef GIT_COMPAT_H
#define GIT_COMPAT_H

#include "reftable/reftable-basics.h"
#include "reftable/reftable-error.h"
#include "reftable/reftable-fsck.h"
#include "reftable/reftable-iterator.h"
#include "reftable/reftable-record.h"
#include "reftable/reftable-stack.h"
#include "reftable/reftable-writer.h"

#include "ours.h"

/* A Git stack: our stack, opened with the options Git gave last. */
struct reftable_stack {
	struct lrt_reftable_stack *st;
	char *dir;
	struct reftable_stack_options git_opts;
	struct lrt_reftable_stack_options opts;
	struct lrt_reftable_fs fs; /* ours, with Git's fsync and modes */
	unsigned default_permissions;
	/*
	 * Handles replaced because Git asked for other write options
	 * (compat_stack_configure): iterators Git still holds may read
	 * through them, so they live until the stack is destroyed.
	 */
	struct lrt_reftable_stack **retired;
	size_t retired_len;
	struct reftable_compaction_stats stats;
};

/* Our error code in Git's terms (0 and positive values pass through). */
int compat_error(int ours);
/* Git's hash id (89, 247 or 0) in ours, and back. */
enum lrt_reftable_hash compat_hash_to_ours(enum reftable_hash git);
enum reftable_hash compat_hash_to_git(enum lrt_reftable_hash ours);
size_t compat_hash_size(enum lrt_reftable_hash ours);

/* Records: fill Git's from ours, reusing Git's buffers (0 or < 0). */
int compat_ref_to_git(struct reftable_ref_record *git,
		      const struct lrt_reftable_ref_record *ours, size_t hash_size);
int compat_log_to_git(struct reftable_log_record *git,
		      const struct lrt_reftable_log_record *ours, size_t hash_size);
/* Ours from Git's: the strings are borrowed, not copied. */
void compat_ref_from_git(struct lrt_reftable_ref_record *ours,
			 const struct reftable_ref_record *git, size_t hash_size);
void compat_log_from_git(struct lrt_reftable_log_record *ours,
			 const struct reftable_log_record *git, size_t hash_size,
			 char *message);

/* Make it a Git iterator over ours; takes over *ours (zeroed). */
int compat_iterator_wrap(struct reftable_iterator *it,
			 struct lrt_reftable_iterator *ours, size_t hash_size);

/* Apply Git's write options to the stack (reopening it if they changed). */
int compat_stack_configure(struct reftable_stack *st,
			   const struct reftable_write_options *opts);

/* Our filesystem with Git's fsync policy and default_permissions. */
void compat_fs_init(struct reftable_stack *st);

/* Run a writer callback of Git's on a writer of ours. */
struct compat_write_arg {
	int (*write_table)(struct reftable_writer *wr, void *arg);
	void *arg;
	size_t hash_size;
	int exact_log_message;
};
int compat_write_table(struct lrt_reftable_writer *w, void *arg);

void *compat_malloc(size_t n);
void *compat_realloc(void *p, size_t n);
void compat_free(void *p);

#endif
