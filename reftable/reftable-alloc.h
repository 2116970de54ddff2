#ifndef REFTABLE_ALLOC_H
#define REFTABLE_ALLOC_H

#include "reftable-export.h"

#include <stddef.h>

/*
 * Route every allocation of the library through these functions (NULL
 * restores the C library's). Set them before any other call; tests use
 * this to count allocations and to inject allocation failures. One
 * exception: a table's lookup index of 2 MiB or more is mapped from the
 * system where it can be (mmap), so that it can lie on huge pages.
 */
REFTABLE_API
void reftable_set_alloc(void *(*malloc_fn)(size_t),
			void *(*realloc_fn)(void *, size_t),
			void (*free_fn)(void *));

#endif
