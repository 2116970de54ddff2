#ifndef REFTABLE_ERROR_H
#define REFTABLE_ERROR_H

#include "reftable-export.h"

/*
 * Every library function that can fail returns an int: 0 (or a positive
 * value documented by the function, such as 1 for "not found" or "end of
 * iteration") on success, or one of these negative codes.
 *
 * Besides the code, the library records a one-line description of the most
 * recent failure in this thread (which file, which ref, which check), read
 * with reftable_error_detail().
 */
enum reftable_error {
	REFTABLE_OK = 0,
	REFTABLE_IO_ERROR = -2,            /* a system call failed */
	REFTABLE_FORMAT_ERROR = -3,        /* the bytes are not a valid reftable */
	REFTABLE_CHECKSUM_ERROR = -4,      /* the footer's CRC-32 does not match */
	REFTABLE_UNSUPPORTED_ERROR = -5,   /* unknown format version or hash id */
	REFTABLE_NOT_EXIST_ERROR = -6,     /* a file or directory does not exist */
	REFTABLE_LOCK_ERROR = -7,          /* a lock is held by someone else */
	REFTABLE_API_ERROR = -8,           /* the caller broke the API contract */
	REFTABLE_ZLIB_ERROR = -9,          /* a log block failed to (de)compress */
	REFTABLE_OUT_OF_ORDER_ERROR = -10, /* records added out of key order */
	REFTABLE_DUPLICATE_KEY_ERROR = -11,/* the same key added twice */
	REFTABLE_ENTRY_TOO_BIG_ERROR = -12,/* a record larger than a block */
	REFTABLE_UPDATE_INDEX_ERROR = -13, /* update index outside the limits */
	REFTABLE_REFNAME_ERROR = -14,      /* a ref name that is not valid */
	REFTABLE_NAME_CONFLICT_ERROR = -15,/* refs/a beside refs/a/b */
	REFTABLE_OUTDATED_ERROR = -16,     /* the stack changed under the caller */
	REFTABLE_CAS_ERROR = -17,          /* an expected old value did not match */
	REFTABLE_SYMREF_ERROR = -18,       /* symref chain too deep or a cycle */
	REFTABLE_NOMEM_ERROR = -19,        /* out of memory */
	REFTABLE_RANGE_ERROR = -20,        /* an option or argument out of range */
	/*
	 * The change is committed (readers see it), but a step after the
	 * publishing rename failed: the directory fsync (the change may not
	 * survive a power loss), reloading the handle (reload it), or our
	 * lock was removed by someone else while we held it (a writer that
	 * took it meanwhile may still replace the change). The detail says
	 * which. Do not retry the change: it would be applied twice.
	 */
	REFTABLE_COMMITTED_ERROR = -21,
};

/* A short static description of an error code. */
REFTABLE_API
const char *reftable_error_str(int err);

/*
 * The detail of the last failure reported by the library in this thread,
 * for example "tables.list.lock: held by another process (waited 100 ms)".
 * Empty when nothing failed yet. Valid until the next library call.
 *
 * Every negative return of every function leaves the detail of that very
 * failure, never an earlier one's: REFTABLE_NOMEM_ERROR's is recorded
 * where the allocation failed ("out of memory (allocating N bytes)"), a
 * table's corruption names the table, a REFTABLE_COMMITTED_ERROR's starts
 * with "committed, but then:". After a success (0 or a positive value)
 * the detail means nothing: it may hold a failure the library recovered
 * from on the way.
 */
REFTABLE_API
const char *reftable_error_detail(void);

#endif
