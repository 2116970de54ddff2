/* No user database: the tool falls back to its environment variables. */
#ifndef COMPAT_WIN32_PWD_H
#define COMPAT_WIN32_PWD_H
struct passwd {
	char *pw_name;
	char *pw_gecos;
	char *pw_dir;
};
#define getpwuid(uid) ((struct passwd *)NULL)
#define getpwnam(name) ((struct passwd *)NULL)
#endif
