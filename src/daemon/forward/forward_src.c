/*
 * The log file as the forwarder's queue: the live file and its archives
 * (BASE.YYYYMMDD-HHMMSS[-N], maybe .gz or .zst) read in order as one
 * stream, and the checkpoint that says how far it was sent.  A file is
 * named by its device and inode and by its first bytes, which survive
 * compression: an archive compressed while the forwarder was away is
 * found again and read through the decompressor.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/forward/forward_int.h"

#define ZIN	(128 * 1024)

/*
 * Does NAME belong to BASE: the live file (*KEY = "") or an archive
 * (*KEY = "YYYYMMDD-HHMMSS" plus "-N" zero-padded to sort, *COMP its
 * compression)?  Temporary files of the archiver do not.
 */
static int
name_key(const char *base, const char *name, char *key, size_t size,
    int *comp)
{
	size_t bl = strlen(base), n = strlen(name), i;
	const char *p;
	long num = 0;

	*comp = FWD_PLAIN;
	if (strcmp(name, base) == 0) {
		key[0] = '\0';
		return 1;
	}
	if (n > 3 && strcmp(name + n - 3, ".gz") == 0) {
		*comp = FWD_GZIP;
		n -= 3;
	} else if (n > 4 && strcmp(name + n - 4, ".zst") == 0) {
		*comp = FWD_ZSTD;
		n -= 4;
	}
	if (n < bl + 16 || strncmp(name, base, bl) != 0 || name[bl] != '.')
		return 0;
	p = name + bl + 1;
	for (i = 0; i < 15; i++)
		if ((i == 8) != (p[i] == '-') || (i != 8 && (p[i] < '0' ||
		    p[i] > '9')))
			return 0;
	if (n > bl + 16) {
		if (name[bl + 16] != '-' || n == bl + 17)
			return 0;
		for (i = bl + 17; i < n; i++) {
			if (name[i] < '0' || name[i] > '9' || num > 99999999)
				return 0;
			num = num * 10 + (name[i] - '0');
		}
	}
	snprintf(key, size, "%.15s-%09ld", p, num);
	return 1;
}

/* Order of two keys: archives by stamp and number, the live file last. */
static int
key_cmp(const char *a, const char *b)
{
	if (a[0] == '\0' || b[0] == '\0')
		return (a[0] == '\0') - (b[0] == '\0');
	return strcmp(a, b);
}

static void
reset_decoder(struct fwd_src *s)
{
	if (s->comp == FWD_GZIP)
		inflateEnd(&s->z);
	if (s->zs != NULL)
		ZSTD_freeDStream(s->zs);
	s->zs = NULL;
	s->comp = FWD_PLAIN;
	s->zin_len = s->zin_pos = 0;
	s->zeof = 0;
}

void
fwd_src_close(struct fwd_src *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	reset_decoder(s);
}

/* FNV-1a, 64 bits: names a file by its first bytes in the checkpoint. */
static uint64_t
fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* A plain file's first bytes again: it may have grown since. */
static void
refresh_head(struct fwd_src *s)
{
	ssize_t n;

	if (s->fd < 0 || s->comp != FWD_PLAIN || s->pos.headlen == FWD_HEAD)
		return;
	n = pread(s->fd, s->pos.head, FWD_HEAD, 0);
	s->pos.headlen = n > 0 ? (size_t)n : 0;
	s->pos.hash = fnv(s->pos.head, s->pos.headlen);
}

/* A compressed file's first plain bytes, as they come out. */
static void
keep_head(struct fwd_src *s, const char *p, size_t n)
{
	size_t k;

	if (s->zout < FWD_HEAD && s->pos.headlen == s->zout) {
		k = FWD_HEAD - (size_t)s->zout < n ? FWD_HEAD -
		    (size_t)s->zout : n;
		memcpy(s->pos.head + s->pos.headlen, p, k);
		s->pos.headlen += k;
		s->pos.hash = fnv(s->pos.head, s->pos.headlen);
	}
	s->zout += n;
}

/* Up to SIZE plain bytes of the open file into DST; 0 at its end. */
static ssize_t
raw_read(struct fwd_src *s, char *dst, size_t size)
{
	ZSTD_outBuffer out = { dst, size, 0 };
	ZSTD_inBuffer in;
	ssize_t n;
	size_t rc;
	int zr;

	if (s->comp == FWD_PLAIN) {
		while ((n = read(s->fd, dst, size)) == -1 && errno == EINTR)
			;
		return n;
	}
	while (out.pos == 0) {
		if (s->zin_pos == s->zin_len && !s->zeof) {
			n = read(s->fd, s->zin, ZIN);
			if (n < 0)
				return -1;
			s->zeof = n == 0;
			s->zin_len = (size_t)n;
			s->zin_pos = 0;
		}
		if (s->zin_pos == s->zin_len && s->zeof)
			return 0;
		if (s->comp == FWD_ZSTD) {
			in.src = s->zin;
			in.size = s->zin_len;
			in.pos = s->zin_pos;
			rc = ZSTD_decompressStream(s->zs, &out, &in);
			s->zin_pos = in.pos;
			if (ZSTD_isError(rc))
				return errno = EIO, -1;
			continue;
		}
		s->z.next_in = s->zin + s->zin_pos;
		s->z.avail_in = (uInt)(s->zin_len - s->zin_pos);
		s->z.next_out = (Bytef *)dst;
		s->z.avail_out = (uInt)size;
		zr = inflate(&s->z, Z_NO_FLUSH);
		s->zin_pos = s->zin_len - s->z.avail_in;
		out.pos = size - s->z.avail_out;
		if (zr == Z_STREAM_END && out.pos == 0)
			return 0;
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
			return errno = EIO, -1;
	}
	keep_head(s, dst, out.pos);
	return (ssize_t)out.pos;
}

/* Open DIR/NAME (compression COMP) at its start; 0 or -1. */
static int
open_file(struct fwd_src *s, const char *name, int comp)
{
	char path[PATH_MAX + NAME_MAX + 2];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", s->dir, name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fwd_src_close(s);
	s->fd = fd;
	s->comp = comp;
	if (comp == FWD_GZIP && inflateInit2(&s->z, 15 + 32) != Z_OK)
		s->comp = FWD_PLAIN;
	if (comp == FWD_ZSTD && (s->zs = ZSTD_createDStream()) == NULL)
		s->comp = FWD_PLAIN;
	if (s->comp != comp) {
		fwd_src_close(s);
		return -1;
	}
	s->pos.dev = st.st_dev;
	s->pos.ino = st.st_ino;
	s->pos.off = 0;
	s->pos.headlen = 0;
	s->len = 0;
	s->draining = 0;
	s->zout = 0;
	refresh_head(s);
	return 0;
}

/* Do the first bytes of DIR/NAME (plain) start with P's head?  1 or 0. */
static int
same_head(struct fwd_src *s, const char *name, int comp,
    const struct fwd_pos *p)
{
	unsigned char got[FWD_HEAD];
	size_t have = 0;
	ssize_t n;
	int ok;

	if (p->headlen == 0)
		return 1;		/* a start offset: the inode says it */
	if (open_file(s, name, comp) == -1)
		return 0;
	while (have < p->headlen && (n = raw_read(s, (char *)got + have,
	    p->headlen - have)) > 0)
		have += (size_t)n;
	ok = have == p->headlen && fnv(got, have) == p->hash;
	fwd_src_close(s);
	return ok;
}

/*
 * The file P names, into NAME/KEY/COMP: same inode and head, else (it was
 * compressed since) an archive with the same head.  1, or 0 if gone.
 */
static int
find_file(struct fwd_src *s, const struct fwd_pos *p, char *key,
    int *comp)
{
	char k[NAME_MAX + 1], name[NAME_MAX + 1];
	struct dirent *de;
	struct stat st;
	int c, pass, found = 0;
	DIR *dp;

	for (pass = 0; pass < 2 && !found; pass++) {
		if ((dp = opendir(s->dir)) == NULL)
			return 0;
		while (!found && (de = readdir(dp)) != NULL) {
			if (!name_key(s->base, de->d_name, k, sizeof(k), &c) ||
			    fstatat(dirfd(dp), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode))
				continue;
			if (pass == 0 && (st.st_ino != p->ino ||
			    st.st_dev != p->dev))
				continue;
			if (pass == 1 && (c == FWD_PLAIN || p->headlen == 0))
				continue;
			snprintf(name, sizeof(name), "%s", de->d_name);
			found = same_head(s, name, c, p);
		}
		closedir(dp);
	}
	if (found) {
		snprintf(key, NAME_MAX + 1, "%s", k);
		*comp = c;
		/* Reopened by the caller: leave its name in the key's place. */
		snprintf(s->note, sizeof(s->note), "%s", name);
	}
	return found;
}

/*
 * The first file after KEY in the stream (the live file last), into
 * NAME/NKEY/COMP.  1, or 0 if KEY is the live file.
 */
static int
next_file(struct fwd_src *s, const char *key, char *name, char *nkey,
    int *comp)
{
	char k[NAME_MAX + 1], best[NAME_MAX + 1];
	struct dirent *de;
	int c, found = 0;
	DIR *dp;

	if (key[0] == '\0')
		return 0;
	snprintf(name, NAME_MAX + 1, "%s", s->base);
	nkey[0] = '\0';
	*comp = FWD_PLAIN;
	if ((dp = opendir(s->dir)) == NULL)
		return 1;
	while ((de = readdir(dp)) != NULL) {
		if (!name_key(s->base, de->d_name, k, sizeof(k), &c) ||
		    k[0] == '\0' || key_cmp(k, key) <= 0)
			continue;
		/* The compressed one wins a tie: the plain one is going. */
		if (found && (key_cmp(k, best) > 0 || (key_cmp(k, best) == 0 &&
		    c == FWD_PLAIN)))
			continue;
		snprintf(best, sizeof(best), "%s", k);
		snprintf(name, NAME_MAX + 1, "%s", de->d_name);
		snprintf(nkey, NAME_MAX + 1, "%s", k);
		*comp = c;
		found = 1;
	}
	closedir(dp);
	return 1;
}

/* Skip to plain offset OFF of the open file; 0 or -1. */
static int
seek_to(struct fwd_src *s, uint64_t off)
{
	char junk[16384];
	uint64_t at = 0;
	ssize_t n;

	if (s->comp == FWD_PLAIN) {
		if (lseek(s->fd, (off_t)off, SEEK_SET) == -1)
			return -1;
		at = off;
	}
	while (at < off && (n = raw_read(s, junk, off - at < sizeof(junk) ?
	    (size_t)(off - at) : sizeof(junk))) > 0)
		at += (uint64_t)n;
	s->pos.off = at;
	return 0;
}

int
fwd_src_open(struct fwd_src *s, const char *log_path, const struct fwd_pos *at)
{
	const char *slash = strrchr(log_path, '/');
	char key[NAME_MAX + 1];
	int comp;

	s->fd = -1;
	s->zs = NULL;
	s->comp = FWD_PLAIN;
	s->note[0] = '\0';
	s->len = 0;
	if (slash == NULL || (s->buf == NULL &&
	    (s->buf = malloc(FWD_BLOCK)) == NULL) || (s->zin == NULL &&
	    (s->zin = malloc(ZIN)) == NULL))
		return -1;
	snprintf(s->dir, sizeof(s->dir), "%.*s", (int)(slash - log_path),
	    log_path);
	snprintf(s->base, sizeof(s->base), "%s", slash + 1);
	if (at->ino != 0 && find_file(s, at, key, &comp)) {
		char name[sizeof(s->note)];

		memcpy(name, s->note, sizeof(name));
		s->note[0] = '\0';
		if (open_file(s, name, comp) == 0) {
			snprintf(s->key, sizeof(s->key), "%s", key);
			return seek_to(s, at->off);
		}
	}
	if (at->ino != 0)
		snprintf(s->note, sizeof(s->note), "the file of the "
		    "checkpoint is gone; starting with %s", s->base);
	s->key[0] = '\0';
	if (open_file(s, s->base, FWD_PLAIN) == -1)
		return -1;
	/* A start offset only means something in the same file. */
	if (at->ino == s->pos.ino && at->dev == s->pos.dev && at->headlen == 0)
		return seek_to(s, at->off);
	return 0;
}

ssize_t
fwd_src_fill(struct fwd_src *s)
{
	ssize_t n;

	if (s->fd < 0 || s->len == FWD_BLOCK)
		return 0;
	n = raw_read(s, s->buf + s->len, FWD_BLOCK - s->len);
	if (n <= 0)
		return n;
	s->len += (size_t)n;
	return n;
}

void
fwd_src_consume(struct fwd_src *s, size_t n)
{
	memmove(s->buf, s->buf + n, s->len - n);
	s->len -= n;
	s->pos.off += n;
}

int
fwd_src_next(struct fwd_src *s)
{
	char name[NAME_MAX + 1], key[NAME_MAX + 1];
	char path[PATH_MAX + NAME_MAX + 2];
	struct fwd_pos was;
	struct stat st;
	int comp;

	if (s->key[0] == '\0') {
		snprintf(path, sizeof(path), "%s/%s", s->dir, s->base);
		if (stat(path, &st) == 0 && st.st_ino == s->pos.ino &&
		    st.st_dev == s->pos.dev)
			return 0;		/* the live file: wait */
		if (!s->draining) {
			s->draining = 1;	/* read again after the rename */
			return 1;
		}
	}
	if (s->len > 0)
		return 2;		/* a last piece of a line: send it */
	if (s->key[0] == '\0') {
		/* Renamed: which archive it is now says what comes next. */
		refresh_head(s);
		was = s->pos;
		if (!find_file(s, &was, key, &comp)) {
			snprintf(s->note, sizeof(s->note), "the rotated log "
			    "is gone before it was forwarded; going on with "
			    "%s", s->base);
			goto live;
		}
		s->note[0] = '\0';
		snprintf(s->key, sizeof(s->key), "%s", key);
	}
	if (!next_file(s, s->key, name, key, &comp))
		return 0;
	if (open_file(s, name, comp) == 0) {
		snprintf(s->key, sizeof(s->key), "%s", key);
		return 1;
	}
live:
	if (open_file(s, s->base, FWD_PLAIN) == -1)
		return -1;
	s->key[0] = '\0';
	return 1;
}

/* Bytes on disk of FD from plain offset OFF (compressed: all of it). */
static uint64_t
rest_of(int fd, int comp, uint64_t off)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) == -1)
		return 0;
	if (comp != FWD_PLAIN)
		return (uint64_t)st.st_size;
	return (uint64_t)st.st_size > off ? (uint64_t)st.st_size - off : 0;
}

uint64_t
fwd_src_backlog(struct fwd_src *s)
{
	char k[NAME_MAX + 1];
	struct dirent *de;
	struct stat st;
	uint64_t total;
	int c;
	DIR *dp;

	total = rest_of(s->fd, s->comp, s->pos.off);
	if (s->key[0] == '\0' && !s->draining)
		return total;
	if ((dp = opendir(s->dir)) == NULL)
		return total;
	while ((de = readdir(dp)) != NULL) {
		if (!name_key(s->base, de->d_name, k, sizeof(k), &c) ||
		    (s->key[0] != '\0' && key_cmp(k, s->key) <= 0) ||
		    fstatat(dirfd(dp), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode) ||
		    (st.st_ino == s->pos.ino && st.st_dev == s->pos.dev))
			continue;
		/* The live file's own archive, renamed: counted already. */
		total += (uint64_t)st.st_size;
	}
	closedir(dp);
	return total;
}

const struct fwd_pos *
fwd_src_pos(struct fwd_src *s)
{
	refresh_head(s);
	return &s->pos;
}

int
fwd_src_save(struct fwd_src *s, const char *path)
{
	return fwd_src_save_pos(fwd_src_pos(s), path);
}

int
fwd_src_save_pos(const struct fwd_pos *p, const char *path)
{
	char tmp[PATH_MAX + 8], line[128];
	int fd, n, rc;

	n = fwd_pos_format(line, sizeof(line) - 1, p);
	line[n++] = '\n';
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return -1;
	rc = write(fd, line, (size_t)n) == n && fsync(fd) == 0 ? 0 : -1;
	if (close(fd) == -1 || rc == -1 || rename(tmp, path) == -1) {
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

int
fwd_pos_format(char *buf, size_t size, const struct fwd_pos *p)
{
	int n;

	n = snprintf(buf, size, "%ju %ju %ju %zu %016" PRIx64,
	    (uintmax_t)p->dev, (uintmax_t)p->ino, (uintmax_t)p->off,
	    p->headlen, p->hash);
	return n < 0 ? 0 : (size_t)n >= size ? (int)size - 1 : n;
}

int
fwd_pos_parse(struct fwd_pos *p, const char *line, int *end)
{
	uintmax_t dev, ino, off;
	uint64_t hash;
	size_t headlen;

	if (sscanf(line, "%ju %ju %ju %zu %" SCNx64 "%n", &dev, &ino, &off,
	    &headlen, &hash, end) != 5 || headlen > FWD_HEAD)
		return -1;
	memset(p, 0, sizeof(*p));
	p->dev = (dev_t)dev;
	p->ino = (ino_t)ino;
	p->off = off;
	p->headlen = headlen;
	p->hash = hash;
	return 0;
}

int
fwd_src_load(struct fwd_pos *p, const char *path)
{
	char line[128];
	ssize_t n;
	int fd, end;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	line[n] = '\0';
	return fwd_pos_parse(p, line, &end);
}
