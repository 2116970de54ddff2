#ifndef CONSTANTS_H
#define CONSTANTS_H

/* Internal: the file-level layout of a table. */

#define REFTABLE_MAGIC "REFT"
#define HEADER_SIZE_V1 24
#define HEADER_SIZE_V2 28
#define FOOTER_SIZE_V1 68
#define FOOTER_SIZE_V2 72
#define HASH_ID_SHA1 0x73686131u   /* "sha1" */
#define HASH_ID_SHA256 0x73323536u /* "s256" */
#define DEFAULT_BLOCK_SIZE 4096
#define DEFAULT_RESTART_INTERVAL 16

static inline int header_size(int version)
{
	return version == 1 ? HEADER_SIZE_V1 : HEADER_SIZE_V2;
}

static inline int footer_size(int version)
{
	return version == 1 ? FOOTER_SIZE_V1 : FOOTER_SIZE_V2;
}

#endif
