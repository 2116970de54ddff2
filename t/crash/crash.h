#ifndef CRASH_H
#define CRASH_H

/*
 * What survives a power loss, as the rules of Documentation/faults.md
 * allow: a file's data only up to its last fsync, a directory entry
 * (create, rename, unlink, link) only once its directory was fsynced.
 * The model follows the calls of one operation on the real filesystem
 * (through a fault_observer) and builds the directories a crash at the
 * current call may leave.
 */

#include <stddef.h>
#include <stdint.h>

#include "fault.h"

struct crash_model;

/* Start from the files of dir, all durable; observe through *obs. */
struct crash_model *crash_model_new(const char *dir, struct fault_observer *obs);
void crash_model_free(struct crash_model *m);
/* Bumped by every change of what a crash could leave. */
unsigned long crash_model_generation(const struct crash_model *m);

/* How the file contents of an image are chosen. */
enum crash_data {
	DATA_SYNCED,    /* only what was fsynced */
	DATA_ALL,       /* everything written */
	DATA_CUT_FIRST, /* the unsynced tail cut at its first block boundary */
	DATA_CUT_LAST,  /* ... at its last */
};

/* One image: which unsynced directory changes survive and which data. */
struct crash_image {
	int keep_creates;   /* entries of new files */
	uint64_t keep_mask; /* bit i: the i-th unsynced rename/unlink/link */
	enum crash_data data;
};

/* How many unsynced renames, unlinks and links there are. */
size_t crash_model_choices(const struct crash_model *m);
/* Write the image into dir (emptied first); returns a hash of it. */
uint64_t crash_model_write(const struct crash_model *m,
			   const struct crash_image *img, const char *dir);

#endif
