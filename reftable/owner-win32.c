/* Owner evidence on Windows: see owner-win32.h. */

#ifdef _WIN32

#include "owner-win32.h"

#include <stdint.h>
#include <stdio.h>
#include <windows.h>

int owner_process_start(long pid, char *out, size_t cap, char *state)
{
	HANDLE p = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE,
			       (DWORD)pid);
	FILETIME created, exited, kernel, user;
	DWORD code;
	int ok;

	snprintf(out, cap, "-");
	if (!p)
		return -1;
	ok = GetProcessTimes(p, &created, &exited, &kernel, &user);
	if (ok && state)
		*state = GetExitCodeProcess(p, &code) && code == STILL_ACTIVE ?
				 'R' :
				 'X';
	CloseHandle(p);
	if (!ok)
		return -1;
	snprintf(out, cap, "%llu",
		 (unsigned long long)((uint64_t)created.dwHighDateTime << 32 |
				      created.dwLowDateTime));
	return 0;
}

void owner_platform_word(char *out, size_t cap)
{
	snprintf(out, cap, "windows");
}

#endif /* _WIN32 */
