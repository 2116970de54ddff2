/*
 * Linked into the Windows tool and tests (not the library, whose callers
 * choose for themselves): every file and the standard streams in binary
 * mode, so that "\n" stays "\n" as the POSIX build writes it. mingw-w64's
 * binmode.o does not reach the streams msvcrt set up before it.
 */
#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((constructor)) static void binary_mode(void)
{
	_fmode = _O_BINARY;
	_setmode(_fileno(stdin), _O_BINARY);
	_setmode(_fileno(stdout), _O_BINARY);
	_setmode(_fileno(stderr), _O_BINARY);
}
#endif
