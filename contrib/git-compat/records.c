/*
 * Error codes, hash ids and records: Git's on one side, ours on the
 * other, and the copies between them.
 */

#include "compat.h" /* first: Git's headers set the feature macros */
#include <stdlib.h>
#include <string.h>


/* Git's allocator hooks also become ours, so both free the same way. */
static void *(*git_malloc)(size_t) = malloc;
static void *(*git_realloc)(void *, size_t) = realloc;
static void (*git_free)(void *) = free;

void reftable_set_alloc(void *(*m)(size_t), void *(*r)(void *, size_t),
			void (*f)(void *))
{
	git_malloc = m ? m : malloc;
	git_realloc = r ? r : realloc;
	git_free = f ? f : free;
	lrt_reftable_set_alloc(m, r, f);
}

void *compat_malloc(size_t n)
{
	return git_malloc(n ? n : 1);
}

void *compat_realloc(void *p, size_t n)
{
	return git_realloc(p, n ? n : 1);
}

void compat_free(void *p)
{
	if (p)
		git_free(p);
}

int compat_error(int ours)
{
	switch (ours) {
	case lrt_REFTABLE_IO_ERROR:
	case lrt_REFTABLE_COMMITTED_ERROR:
		return REFTABLE_IO_ERROR;
	case lrt_REFTABLE_FORMAT_ERROR:
	case lrt_REFTABLE_CHECKSUM_ERROR:
	case lrt_REFTABLE_UNSUPPORTED_ERROR:
		return REFTABLE_FORMAT_ERROR;
	case lrt_REFTABLE_NOT_EXIST_ERROR:
		return REFTABLE_NOT_EXIST_ERROR;
	case lrt_REFTABLE_LOCK_ERROR:
		return REFTABLE_LOCK_ERROR;
	case lrt_REFTABLE_ZLIB_ERROR:
		return REFTABLE_ZLIB_ERROR;
	case lrt_REFTABLE_ENTRY_TOO_BIG_ERROR:
		return REFTABLE_ENTRY_TOO_BIG_ERROR;
	case lrt_REFTABLE_REFNAME_ERROR:
	case lrt_REFTABLE_NAME_CONFLICT_ERROR:
		return REFTABLE_REFNAME_ERROR;
	case lrt_REFTABLE_OUTDATED_ERROR:
		return REFTABLE_OUTDATED_ERROR;
	case lrt_REFTABLE_NOMEM_ERROR:
		return REFTABLE_OUT_OF_MEMORY_ERROR;
	default:
		/* API, OUT_OF_ORDER, DUPLICATE_KEY, UPDATE_INDEX, RANGE,
		 * CAS, SYMREF: the caller asked for something invalid. */
		return ours < 0 ? REFTABLE_API_ERROR : ours;
	}
}

/*
 * Git's test suite matches "data is locked" and "entry too large" in
 * its expected output, so those two read exactly as Git prints them.
 */
const char *reftable_error_str(int err)
{
	switch (err) {
	case REFTABLE_IO_ERROR:
		return "I/O error";
	case REFTABLE_FORMAT_ERROR:
		return "corrupt reftable file";
	case REFTABLE_NOT_EXIST_ERROR:
		return "file does not exist";
	case REFTABLE_LOCK_ERROR:
		return "data is locked";
	case REFTABLE_API_ERROR:
		return "invalid use of the reftable API";
	case REFTABLE_ZLIB_ERROR:
		return "zlib failure";
	case REFTABLE_EMPTY_TABLE_ERROR:
		return "table has no records";
	case REFTABLE_REFNAME_ERROR:
		return "invalid refname";
	case REFTABLE_ENTRY_TOO_BIG_ERROR:
		return "entry too large";
	case REFTABLE_OUTDATED_ERROR:
		return "stack changed concurrently";
	case REFTABLE_OUT_OF_MEMORY_ERROR:
		return "out of memory";
	default:
		return "unknown reftable error";
	}
}

enum lrt_reftable_hash compat_hash_to_ours(enum reftable_hash git)
{
	return git == REFTABLE_HASH_SHA256 ? lrt_REFTABLE_HASH_SHA256 :
					     lrt_REFTABLE_HASH_SHA1;
}

enum reftable_hash compat_hash_to_git(enum lrt_reftable_hash ours)
{
	return ours == lrt_REFTABLE_HASH_SHA256 ? REFTABLE_HASH_SHA256 :
						  REFTABLE_HASH_SHA1;
}

size_t compat_hash_size(enum lrt_reftable_hash ours)
{
	return ours == lrt_REFTABLE_HASH_SHA256 ? REFTABLE_HASH_SIZE_SHA256 :
						  REFTABLE_HASH_SIZE_SHA1;
}

const unsigned char *reftable_ref_record_val1(const struct reftable_ref_record *rec)
{
	switch (rec->value_type) {
	case REFTABLE_REF_VAL1:
		return rec->value.val1;
	case REFTABLE_REF_VAL2:
		return rec->value.val2.value;
	default:
		return NULL;
	}
}

const unsigned char *reftable_ref_record_val2(const struct reftable_ref_record *rec)
{
	return rec->value_type == REFTABLE_REF_VAL2 ?
		       rec->value.val2.target_value : NULL;
}

int reftable_ref_record_is_deletion(const struct reftable_ref_record *ref)
{
	return ref->value_type == REFTABLE_REF_DELETION;
}

void reftable_ref_record_release(struct reftable_ref_record *ref)
{
	if (ref->value_type == REFTABLE_REF_SYMREF)
		compat_free(ref->value.symref);
	compat_free(ref->refname);
	memset(ref, 0, sizeof(*ref));
}

static int strings_equal(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

int reftable_ref_record_equal(const struct reftable_ref_record *a,
			      const struct reftable_ref_record *b,
			      uint32_t hash_size)
{
	if (!strings_equal(a->refname, b->refname) ||
	    a->update_index != b->update_index ||
	    a->value_type != b->value_type)
		return 0;
	switch (a->value_type) {
	case REFTABLE_REF_SYMREF:
		return strings_equal(a->value.symref, b->value.symref);
	case REFTABLE_REF_VAL2:
		return !memcmp(a->value.val2.value, b->value.val2.value,
			       hash_size) &&
		       !memcmp(a->value.val2.target_value,
			       b->value.val2.target_value, hash_size);
	case REFTABLE_REF_VAL1:
		return !memcmp(a->value.val1, b->value.val1, hash_size);
	default:
		return 1;
	}
}

int reftable_log_record_is_deletion(const struct reftable_log_record *log)
{
	return log->value_type == REFTABLE_LOG_DELETION;
}

void reftable_log_record_release(struct reftable_log_record *log)
{
	compat_free(log->refname);
	if (log->value_type == REFTABLE_LOG_UPDATE) {
		compat_free(log->value.update.name);
		compat_free(log->value.update.email);
		compat_free(log->value.update.message);
	}
	memset(log, 0, sizeof(*log));
}

int reftable_log_record_equal(const struct reftable_log_record *a,
			      const struct reftable_log_record *b,
			      uint32_t hash_size)
{
	const __typeof__(a->value.update) *u = &a->value.update, *v = &b->value.update;

	if (!strings_equal(a->refname, b->refname) ||
	    a->update_index != b->update_index ||
	    a->value_type != b->value_type)
		return 0;
	if (a->value_type == REFTABLE_LOG_DELETION)
		return 1;
	return strings_equal(u->name, v->name) &&
	       strings_equal(u->email, v->email) &&
	       strings_equal(u->message, v->message) && u->time == v->time &&
	       u->tz_offset == v->tz_offset &&
	       !memcmp(u->new_hash, v->new_hash, hash_size) &&
	       !memcmp(u->old_hash, v->old_hash, hash_size);
}

/* Copy src into *dst, growing it (whose capacity is *cap) as needed. */
static int copy_into(char **dst, size_t *cap, const char *src)
{
	size_t len = strlen(src ? src : "");

	if (!*dst || *cap < len + 1) {
		char *p = compat_realloc(*dst, len + 1);

		if (!p)
			return REFTABLE_OUT_OF_MEMORY_ERROR;
		*dst = p;
		*cap = len + 1;
	}
	memcpy(*dst, src ? src : "", len + 1);
	return 0;
}

static char *duplicate(const char *s)
{
	size_t len = strlen(s ? s : "");
	char *p = compat_malloc(len + 1);

	if (p)
		memcpy(p, s ? s : "", len + 1);
	return p;
}

int compat_ref_to_git(struct reftable_ref_record *git,
		      const struct lrt_reftable_ref_record *ours,
		      size_t hash_size)
{
	char *old_symref = git->value_type == REFTABLE_REF_SYMREF ?
				   git->value.symref : NULL;
	int err = copy_into(&git->refname, &git->refname_cap, ours->refname);

	if (err)
		return err;
	memset(&git->value, 0, sizeof(git->value));
	git->update_index = ours->update_index;
	switch (ours->value_type) {
	case lrt_REFTABLE_REF_VAL1:
		git->value_type = REFTABLE_REF_VAL1;
		memcpy(git->value.val1, ours->value, hash_size);
		break;
	case lrt_REFTABLE_REF_VAL2:
		git->value_type = REFTABLE_REF_VAL2;
		memcpy(git->value.val2.value, ours->value, hash_size);
		memcpy(git->value.val2.target_value, ours->peeled, hash_size);
		break;
	case lrt_REFTABLE_REF_SYMREF:
		git->value_type = REFTABLE_REF_SYMREF;
		git->value.symref = duplicate(ours->target);
		if (!git->value.symref)
			err = REFTABLE_OUT_OF_MEMORY_ERROR;
		break;
	default:
		git->value_type = REFTABLE_REF_DELETION;
		break;
	}
	compat_free(old_symref);
	return err;
}

static void release_log_strings(struct reftable_log_record *git)
{
	if (git->value_type != REFTABLE_LOG_UPDATE)
		return;
	compat_free(git->value.update.name);
	compat_free(git->value.update.email);
	compat_free(git->value.update.message);
}

int compat_log_to_git(struct reftable_log_record *git,
		      const struct lrt_reftable_log_record *ours,
		      size_t hash_size)
{
	__typeof__(git->value.update) *u = &git->value.update;
	int err = copy_into(&git->refname, &git->refname_cap, ours->refname);

	release_log_strings(git);
	memset(&git->value, 0, sizeof(git->value));
	if (err)
		return err;
	git->update_index = ours->update_index;
	if (ours->value_type != lrt_REFTABLE_LOG_UPDATE) {
		git->value_type = REFTABLE_LOG_DELETION;
		return 0;
	}
	git->value_type = REFTABLE_LOG_UPDATE;
	memcpy(u->new_hash, ours->new_id, hash_size);
	memcpy(u->old_hash, ours->old_id, hash_size);
	u->time = ours->time;
	u->tz_offset = ours->tz_offset;
	u->name = duplicate(ours->name);
	u->email = duplicate(ours->email);
	u->message = duplicate(ours->message);
	if (!u->name || !u->email || !u->message)
		return REFTABLE_OUT_OF_MEMORY_ERROR;
	u->message_cap = strlen(u->message) + 1;
	return 0;
}

void compat_ref_from_git(struct lrt_reftable_ref_record *ours,
			 const struct reftable_ref_record *git, size_t hash_size)
{
	memset(ours, 0, sizeof(*ours));
	ours->refname = git->refname;
	ours->update_index = git->update_index;
	switch (git->value_type) {
	case REFTABLE_REF_VAL1:
		ours->value_type = lrt_REFTABLE_REF_VAL1;
		memcpy(ours->value, git->value.val1, hash_size);
		break;
	case REFTABLE_REF_VAL2:
		ours->value_type = lrt_REFTABLE_REF_VAL2;
		memcpy(ours->value, git->value.val2.value, hash_size);
		memcpy(ours->peeled, git->value.val2.target_value, hash_size);
		break;
	case REFTABLE_REF_SYMREF:
		ours->value_type = lrt_REFTABLE_REF_SYMREF;
		ours->target = git->value.symref;
		break;
	default:
		ours->value_type = lrt_REFTABLE_REF_DELETION;
		break;
	}
}

void compat_log_from_git(struct lrt_reftable_log_record *ours,
			 const struct reftable_log_record *git, size_t hash_size,
			 char *message)
{
	const __typeof__(git->value.update) *u = &git->value.update;

	memset(ours, 0, sizeof(*ours));
	ours->refname = git->refname;
	ours->update_index = git->update_index;
	if (git->value_type != REFTABLE_LOG_UPDATE) {
		ours->value_type = lrt_REFTABLE_LOG_DELETION;
		return;
	}
	ours->value_type = lrt_REFTABLE_LOG_UPDATE;
	memcpy(ours->new_id, u->new_hash, hash_size);
	memcpy(ours->old_id, u->old_hash, hash_size);
	ours->name = u->name ? u->name : (char *)"";
	ours->email = u->email ? u->email : (char *)"";
	ours->time = u->time;
	ours->tz_offset = u->tz_offset;
	ours->message = message ? message : (char *)"";
}
