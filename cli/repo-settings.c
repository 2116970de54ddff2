/*
 * The settings Git's configuration gives a stack in a Git repository, read
 * as Git's reftable backend reads them, so that the tool writes tables as
 * Git would in the same repository and waits for locks as long.
 */

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "gitconfig.h"

static int bad_number(const struct cli *cli, const struct git_config *cfg,
		      const char *key)
{
	char *msg = git_config_bad_number(cfg, key);
	int code = cli_error(cli, EXIT_USAGE, "%s", msg);

	free(msg);
	return code;
}

static int bad_bool(const struct cli *cli, const struct git_config *cfg,
		    const char *key)
{
	return cli_error(cli, EXIT_USAGE, "bad boolean config value '%s' "
			 "for '%s'", git_config_get(cfg, key), key);
}

/* An unsigned setting at most max; 1 if unset, 0 set, else exit code. */
static int get_ulong(const struct cli *cli, const struct git_config *cfg,
		     const char *key, uint64_t max, const char *too_big,
		     uint64_t *out)
{
	int r = git_config_get_ulong(cfg, key, ULONG_MAX, out);

	if (r < 0)
		return -bad_number(cli, cfg, key);
	if (!r && *out > max)
		return -cli_error(cli, EXIT_USAGE, "%s", too_big);
	return r;
}

static int layout_settings(const struct cli *cli, const struct git_config *cfg,
			   struct reftable_stack_options *opts)
{
	uint64_t n;
	int r, b;

	r = get_ulong(cli, cfg, "reftable.blockSize", REFTABLE_MAX_BLOCK_SIZE,
		      "reftable block size cannot exceed 16MB", &n);
	if (r < 0)
		return -r;
	if (!r && n && n < REFTABLE_MIN_BLOCK_SIZE)
		return cli_error(cli, EXIT_USAGE, "reftable.blockSize %llu is "
				 "below the smallest block the library writes "
				 "(%u)", (unsigned long long)n,
				 REFTABLE_MIN_BLOCK_SIZE);
	if (!r)
		opts->write.block_size = (uint32_t)n;
	r = get_ulong(cli, cfg, "reftable.restartInterval", UINT16_MAX,
		      "reftable restart interval cannot exceed 65535", &n);
	if (r < 0)
		return -r;
	if (!r)
		opts->write.restart_interval = (uint16_t)n;
	r = git_config_get_bool(cfg, "reftable.indexObjects", &b);
	if (r < 0)
		return bad_bool(cli, cfg, "reftable.indexobjects");
	if (!r)
		opts->write.skip_index_objects = !b;
	r = get_ulong(cli, cfg, "reftable.geometricFactor", UINT8_MAX,
		      "reftable geometric factor cannot exceed 255", &n);
	if (r < 0)
		return -r;
	if (!r && n == 1)
		return cli_error(cli, EXIT_USAGE, "reftable.geometricFactor 1 "
				 "would compact after every change; the "
				 "library takes 2 to 255 (0: 2)");
	if (!r)
		opts->auto_compaction_factor = n ? (unsigned)n : 2;
	return 0;
}

/* -1 waits forever; other negative values are refused, as by Git. */
static int lock_timeout(const struct cli *cli, const struct git_config *cfg,
			struct reftable_stack_options *opts)
{
	int64_t ms;
	int r;

	if (cli->lock_timeout) {
		if (parse_i64(cli->lock_timeout, &ms) || ms < -1)
			return cli_usage_error(cli, "bad --lock-timeout '%s' "
					       "(milliseconds, or -1 to wait "
					       "forever)",
					       cli->lock_timeout);
		opts->lock_timeout_ms = ms;
		return 0;
	}
	if (!cfg)
		return 0;
	r = git_config_get_int64(cfg, "reftable.lockTimeout", INT64_MAX, &ms);
	if (r < 0)
		return bad_number(cli, cfg, "reftable.locktimeout");
	if (!r && ms < -1)
		return cli_error(cli, EXIT_USAGE, "reftable lock timeout does "
				 "not support negative values other than -1");
	if (!r)
		opts->lock_timeout_ms = ms;
	return 0;
}

/* core.sharedRepository as Git reads it: 0 (umask), a positive mode to
 * add (group 0660, everybody 0664), or a negative one to set exactly.
 * 0 ok, else exit code. */
static int shared_perm(const struct cli *cli, const struct git_config *cfg,
		       const char *v, int *perm)
{
	char *end;
	long n;

	if (!strcmp(v, "umask"))
		return *perm = 0, 0;
	if (!strcmp(v, "group"))
		return *perm = 0660, 0;
	if (!strcmp(v, "all") || !strcmp(v, "world") ||
	    !strcmp(v, "everybody"))
		return *perm = 0664, 0;
	n = strtol(v, &end, 8);
	if (*end) { /* not octal: a boolean, true meaning group */
		int b;
		if (git_config_get_bool(cfg, "core.sharedRepository", &b))
			return bad_bool(cli, cfg, "core.sharedrepository");
		*perm = b ? 0660 : 0;
		return 0;
	}
	if (n == 0 || n == 1 || n == 2)
		return *perm = n == 0 ? 0 : n == 1 ? 0660 : 0664, 0;
	if ((n & 0600) != 0600)
		return cli_error(cli, EXIT_USAGE, "problem with "
				 "core.sharedRepository filemode value "
				 "(0%.3lo).\nThe owner of files must always "
				 "have read and write permissions.", n);
	*perm = -(int)(n & 0666);
	return 0;
}

/* The mode Git gives new tables and tables.list (its calc_shared_perm on
 * 0666 less the umask), and a umask that lets open(2) give exactly it. */
static int shared_mode(const struct cli *cli, const struct git_config *cfg,
		       struct reftable_stack_options *opts)
{
	const char *v = git_config_get(cfg, "core.sharedRepository");
	mode_t mask;
	int perm = 0, tweak, mode, code;

	if (!v)
		return 0;
	if ((code = shared_perm(cli, cfg, v, &perm)) || !perm)
		return code;
	mask = umask(0);
	mode = 0666 & ~(int)mask;
	tweak = perm < 0 ? -perm : perm;
	if (!(mode & S_IWUSR))
		tweak &= ~0222;
	mode = perm < 0 ? (mode & ~0777) | tweak : mode | tweak;
	umask(mask & ~(mode_t)mode);
	opts->file_mode = (unsigned)mode;
	return 0;
}

int repo_stack_options(const struct cli *cli, const struct repo *r,
		       struct reftable_stack_options *opts)
{
	int code = lock_timeout(cli, r->config, opts);

	if (code || !r->config)
		return code;
	if ((code = layout_settings(cli, r->config, opts)))
		return code;
	return shared_mode(cli, r->config, opts);
}

int repo_log_policy(const struct cli *cli, const struct repo *r,
		    enum reftable_refdb_log_policy *out)
{
	const char *v = r->config ? git_config_get(r->config,
						   "core.logAllRefUpdates")
				  : NULL;
	int b, unset, bare = 0;

	/* Git's messages for bad booleans; the policy is the library's. */
	if (v && strcasecmp(v, "always") &&
	    git_config_get_bool(r->config, "core.logAllRefUpdates", &b))
		return bad_bool(cli, r->config, "core.logallrefupdates");
	if (!v && r->gitdir) {
		/* Unset: Git logs by default only where there is a work
		 * tree. */
		unset = git_config_get_bool(r->config, "core.bare", &b);
		if (unset < 0)
			return bad_bool(cli, r->config, "core.bare");
		bare = unset ? !r->via_worktree : b;
	}
	return reftable_refdb_log_policy_from_config(out, v != NULL, v, bare)
		       ? cli_lib_error(cli, REFTABLE_API_ERROR,
				       "core.logAllRefUpdates")
		       : 0;
}
