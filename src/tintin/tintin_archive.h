/* Internal: archives of rotated log files (compression and pruning). */
#ifndef TINTIN_ARCHIVE_H
#define TINTIN_ARCHIVE_H

#include <stddef.h>

struct tintin_archive_job {
	const char	*path;		/* the live log file */
	int		 compress;	/* TINTIN_COMPRESS_* */
	int		 level;		/* compression level, 0 = default */
	unsigned	 keep;		/* archives kept, 0 = all */
	unsigned	 max_age;	/* seconds, 0 = forever */
};

/*
 * Is NAME an archive of the log file named BASE ("BASE.YYYYMMDD-HHMMSS",
 * optionally "-N", optionally ".gz"/".zst")?  If so return 1 and set
 * *STEM to the length without the compression suffix, *COMPRESSED to
 * whether it has one and *TMP to whether it is an unfinished ".tmp".
 */
int	tintin_archive_match(const char *base, const char *name, size_t *stem,
	    int *compressed, int *tmp);

/* Order two archive names of one log chronologically (strcmp-like). */
int	tintin_archive_cmp(const char *base, const char *a, const char *b);

/*
 * Compress every rotated, uncompressed archive of each job's log, then
 * prune old archives.  Meant for a child process.  0, or -1 if a step
 * failed (it is retried by the next job).
 */
int	tintin_archive_run(const struct tintin_archive_job *jobs, int njobs);

#endif /* TINTIN_ARCHIVE_H */
