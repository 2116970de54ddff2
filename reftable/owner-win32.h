#ifndef OWNER_WIN32_H
#define OWNER_WIN32_H

/*
 * Internal: a lock owner's evidence on Windows (owner-win32.c), in the
 * shape owner.c's POSIX functions give it. A Windows process is named
 * for good by its pid and its creation time, an absolute time in 100 ns
 * ticks: no boot or pid namespace is needed to tell a reused pid apart,
 * so both fields hold "windows" (never "-", which means unknown), and a
 * lock of an earlier boot is judged by its pid and start like any other.
 */

#include <stddef.h>

/* The creation time of process pid, in decimal 100 ns ticks since 1601;
 * *state (if not NULL): 'R' while it runs, 'X' once it exited (a handle
 * still keeps it, as a zombie). -1 if there is no such process. */
int owner_process_start(long pid, char *out, size_t cap, char *state);
void owner_platform_word(char *out, size_t cap);

#define process_start owner_process_start
#define boot_id owner_platform_word
#define pid_namespace owner_platform_word

#endif
