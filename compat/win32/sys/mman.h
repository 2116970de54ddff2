/* No mmap(2) here: tables are read, or mapped by reftable/fs-win32.c. */
