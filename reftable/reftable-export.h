#ifndef REFTABLE_EXPORT_H
#define REFTABLE_EXPORT_H

/*
 * REFTABLE_API marks the functions of the public API. The library is
 * built with hidden visibility, so these are the only symbols the shared
 * library exports (reftable.map gives them their version node): a program
 * that links it and defines its own buf_add or list_read keeps its own.
 */
#if defined(__GNUC__) || defined(__clang__)
#define REFTABLE_API __attribute__((visibility("default")))
#else
#define REFTABLE_API
#endif

#endif
