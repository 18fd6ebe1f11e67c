/*
 * Archives of rotated log files: compression with zlib (gzip format) or
 * libzstd, then pruning by count and age.  It runs in a child process, so
 * the event loop never waits for it.  Every archive is written under a
 * temporary name and renamed when complete: an archive under its final
 * name is always whole.  A job that dies half-way is simply redone by the
 * next one (the uncompressed file is removed only after the rename).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "tintin/tintin.h"
#include "tintin/tintin_archive.h"
#include "tintin/tintin_int.h"

#define IOBUF	(128 * 1024)

static int
is_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
tintin_archive_match(const char *base, const char *name, size_t *stem,
    int *compressed, int *tmp)
{
	size_t bl = strlen(base), n = strlen(name), i;
	const char *p;

	*compressed = 0;
	*tmp = 0;
	if (n > 4 && strcmp(name + n - 4, ".tmp") == 0) {
		*tmp = 1;
		n -= 4;
	}
	if (n > 3 && strncmp(name + n - 3, ".gz", 3) == 0) {
		*compressed = 1;
		n -= 3;
	} else if (n > 4 && strncmp(name + n - 4, ".zst", 4) == 0) {
		*compressed = 1;
		n -= 4;
	}
	/* BASE . YYYYMMDD - HHMMSS [ - N ] */
	if (n < bl + 16 || strncmp(name, base, bl) != 0 || name[bl] != '.')
		return 0;
	p = name + bl + 1;
	if (!is_digits(p, 8) || p[8] != '-' || !is_digits(p + 9, 6))
		return 0;
	i = bl + 16;
	if (i < n) {
		if (name[i] != '-' || i + 1 >= n ||
		    !is_digits(name + i + 1, n - i - 1))
			return 0;
	}
	*stem = n;
	return 1;
}

int
tintin_archive_cmp(const char *base, const char *a, const char *b)
{
	size_t sa, sb, bl = strlen(base) + 16;
	int ca, cb, ta, tb, c;
	long na = 0, nb = 0;

	if (!tintin_archive_match(base, a, &sa, &ca, &ta) ||
	    !tintin_archive_match(base, b, &sb, &cb, &tb))
		return strcmp(a, b);
	if ((c = strncmp(a, b, bl)) != 0)
		return c;
	if (sa > bl)
		na = strtol(a + bl + 1, NULL, 10);
	if (sb > bl)
		nb = strtol(b + bl + 1, NULL, 10);
	return na < nb ? -1 : na > nb;
}

static int
gzip_fd(int in, int out, int level)
{
	static unsigned char ibuf[IOBUF], obuf[IOBUF];
	z_stream z;
	ssize_t n;
	int flush, rc = -1;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, level > 0 ? level : 6, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	do {
		n = read(in, ibuf, sizeof(ibuf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
		z.next_in = ibuf;
		z.avail_in = (uInt)n;
		do {
			z.next_out = obuf;
			z.avail_out = sizeof(obuf);
			if (deflate(&z, flush) == Z_STREAM_ERROR)
				goto out;
			if (tintin_write_all(out, obuf, sizeof(obuf) - z.avail_out))
				goto out;
		} while (z.avail_out == 0);
	} while (flush != Z_FINISH);
	rc = 0;
out:
	deflateEnd(&z);
	return rc;
}

static int
zstd_fd(int in, int out, int level)
{
	static unsigned char ibuf[IOBUF], obuf[IOBUF];
	ZSTD_inBuffer zi;
	ZSTD_outBuffer zo;
	ZSTD_CCtx *cx;
	size_t left;
	ssize_t n;
	int rc = -1, last;

	if ((cx = ZSTD_createCCtx()) == NULL)
		return -1;
	ZSTD_CCtx_setParameter(cx, ZSTD_c_compressionLevel,
	    level > 0 ? level : 3);
	ZSTD_CCtx_setParameter(cx, ZSTD_c_checksumFlag, 1);
	for (;;) {
		n = read(in, ibuf, sizeof(ibuf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		last = n == 0;
		zi.src = ibuf;
		zi.size = (size_t)n;
		zi.pos = 0;
		do {
			zo.dst = obuf;
			zo.size = sizeof(obuf);
			zo.pos = 0;
			left = ZSTD_compressStream2(cx, &zo, &zi,
			    last ? ZSTD_e_end : ZSTD_e_continue);
			if (ZSTD_isError(left))
				goto out;
			if (tintin_write_all(out, obuf, zo.pos) == -1)
				goto out;
		} while (last ? left != 0 : zi.pos < zi.size);
		if (last)
			break;
	}
	rc = 0;
out:
	ZSTD_freeCCtx(cx);
	return rc;
}

/* Compress DIR/NAME into DIR/NAME.EXT via a temporary file. */
static int
compress_one(const char *dir, const char *name, int method, int level)
{
	char src[PATH_MAX], dst[PATH_MAX], tmp[PATH_MAX];
	const char *ext = method == TINTIN_COMPRESS_ZSTD ? ".zst" : ".gz";
	struct timespec times[2];
	struct stat st;
	int in, out, rc;

	if (snprintf(src, sizeof(src), "%s/%s", dir, name) >= PATH_MAX ||
	    snprintf(dst, sizeof(dst), "%s%s", src, ext) >= PATH_MAX ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", dst) >= PATH_MAX)
		return -1;
	if ((in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(in, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(in);
		return -1;
	}
	(void)unlink(tmp);
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    st.st_mode & 0777);
	if (out == -1) {
		close(in);
		return -1;
	}
	if (method == TINTIN_COMPRESS_ZSTD)
		rc = zstd_fd(in, out, level);
	else
		rc = gzip_fd(in, out, level);
	if (rc == 0)
		rc = fsync(out);
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	(void)futimens(out, times);
	close(in);
	if (close(out) == -1)
		rc = -1;
	if (rc == 0 && rename(tmp, dst) == 0)
		return unlink(src);
	(void)unlink(tmp);
	return -1;
}

struct entry {
	char	*name;
	time_t	 mtime;
	int	 compressed;
};

static const char *cmp_base;

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return tintin_archive_cmp(cmp_base, x->name, y->name);
}

/* The archives of BASE in DIR, oldest first; -1 on error. */
static int
list_archives(const char *dir, const char *base, struct entry **out,
    size_t *count)
{
	struct entry *v = NULL, *nv;
	size_t n = 0, cap = 0, stem;
	struct dirent *de;
	struct stat st;
	int comp, tmp;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(dp)) != NULL) {
		if (!tintin_archive_match(base, de->d_name, &stem, &comp, &tmp))
			continue;
		if (tmp) {
			/* Left by a job that died: it will be redone. */
			(void)unlinkat(dirfd(dp), de->d_name, 0);
			continue;
		}
		if (fstatat(dirfd(dp), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				break;
			v = nv;
		}
		if ((v[n].name = strdup(de->d_name)) == NULL)
			break;
		v[n].mtime = st.st_mtime;
		v[n].compressed = comp;
		n++;
	}
	closedir(dp);
	cmp_base = base;
	qsort(v, n, sizeof(*v), entry_cmp);
	*out = v;
	*count = n;
	return 0;
}

static void
free_entries(struct entry *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static int
run_job(const struct tintin_archive_job *job)
{
	char dcopy[PATH_MAX], bcopy[PATH_MAX], path[PATH_MAX];
	const char *dir, *base;
	struct entry *v;
	size_t n, i, gone = 0;
	time_t now = time(NULL);
	int rc = 0;

	snprintf(dcopy, sizeof(dcopy), "%s", job->path);
	snprintf(bcopy, sizeof(bcopy), "%s", job->path);
	dir = dirname(dcopy);
	base = basename(bcopy);
	if (list_archives(dir, base, &v, &n) == -1)
		return -1;
	if (job->compress != TINTIN_COMPRESS_NONE)
		for (i = 0; i < n; i++)
			if (!v[i].compressed &&
			    compress_one(dir, v[i].name, job->compress,
			    job->level) == -1)
				rc = -1;
	free_entries(v, n);
	if (job->keep == 0 && job->max_age == 0)
		return rc;
	if (list_archives(dir, base, &v, &n) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((job->keep > 0 && n - i > job->keep) ||
		    (job->max_age > 0 && now - v[i].mtime >
		    (time_t)job->max_age)) {
			snprintf(path, sizeof(path), "%s/%s", dir, v[i].name);
			if (unlink(path) == 0)
				gone++;
		}
	}
	free_entries(v, n);
	return rc;
}

int
tintin_archive_run(const struct tintin_archive_job *jobs, int njobs)
{
	int i, rc = 0;

	for (i = 0; i < njobs; i++)
		if (run_job(&jobs[i]) == -1)
			rc = -1;
	return rc;
}
