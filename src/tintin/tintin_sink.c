/*
 * Tintin_reporter's sinks: opening, adding and reopening them, and
 * writing their buffers out, with the accounting of what a failing file
 * loses and when it recovers.  Formatting is tintin.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/falloc.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "tintin/tintin.h"
#include "tintin/tintin_int.h"
#include "tintin/tintin_syslog.h"

int
tintin_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Bytes up to and including the last newline of BUF[0..N), and the count. */
static size_t
whole_records(const char *buf, size_t n, uint64_t *count)
{
	size_t i, keep = 0;

	*count = 0;
	for (i = 0; i < n; i++)
		if (buf[i] == '\n') {
			keep = i + 1;
			(*count)++;
		}
	return keep;
}

static void
sink_failed(Tintin_reporter *r, struct sink *s, int err, uint64_t lost)
{
	char msg[TINTIN_NOTE_MAX];

	s->st.lost += lost;
	s->st.last_errno = err;
	s->lost_run += lost;
	if (s->failing)
		return;
	s->failing = 1;
	snprintf(msg, sizeof(msg), "Cannot write to %s: %s; records are "
	    "being dropped.", s->path ? s->path : "log descriptor",
	    strerror(err));
	if (r->error_cb != NULL)
		r->error_cb(r->error_arg, msg);
	tintin_note(r, TINTIN_ERROR, "%s", msg);
}

static void
sink_recovered(Tintin_reporter *r, struct sink *s)
{
	s->failing = 0;
	tintin_note(r, TINTIN_WARN, "Writing to %s works again: %llu "
	    "records were lost.", s->path ? s->path : "log descriptor",
	    (unsigned long long)s->lost_run);
	s->lost_run = 0;
}

/*
 * Under load (a full buffer to write), allocate the file's blocks ahead,
 * TINTIN_PREALLOC at a time and never past the rotation size: ext4 and XFS
 * then skip their block reservation on every page written, the dearest
 * part of a write after the copy.  The file's size does not change, so
 * readers see nothing of it; trim_prealloc() frees what is left past the
 * end when the file is closed or reopened.  On failure (ENOSPC, say) the
 * writes go on as before.
 */
static void
preallocate(Tintin_reporter *r, struct sink *s, size_t n)
{
	uint64_t end = s->size + TINTIN_PREALLOC;

	if (!s->can_prealloc || n < TINTIN_THRESHOLD ||
	    s->size + n <= s->prealloc)
		return;
	if (r->rot.size > 0 && end > r->rot.size)
		end = r->rot.size;
	if (end <= s->size + n)
		return;
	if (fallocate(s->fd, FALLOC_FL_KEEP_SIZE, (off_t)s->size,
	    (off_t)(end - s->size)) == -1 && errno != ENOSPC)
		s->can_prealloc = 0;
	s->prealloc = end;
}

/*
 * Free the blocks allocated past the end of S's file, if any: not when
 * the file used them all (a rotated one, say), since a truncation costs
 * the file system a journal transaction.
 */
static void
trim_prealloc(struct sink *s)
{
	struct stat st;
	uint64_t used;

	if (s->prealloc > 0 && s->fd >= 0 && fstat(s->fd, &st) == 0) {
		used = ((uint64_t)st.st_size + (uint64_t)st.st_blksize - 1) /
		    (uint64_t)st.st_blksize * (uint64_t)st.st_blksize;
		if ((uint64_t)st.st_blocks * 512 > used)
			(void)ftruncate(s->fd, st.st_size);
	}
	s->prealloc = 0;
}

/* May blocks be allocated ahead for FD?  Only where it pays. */
static int
prealloc_pays(int fd)
{
	struct statfs sf;

	return fstatfs(fd, &sf) == 0 && (sf.f_type == EXT4_SUPER_MAGIC ||
	    sf.f_type == XFS_SUPER_MAGIC);
}

/*
 * Write the buffer.  If the disk fills up half-way, cut the file back to
 * the last complete record so that no torn line is ever left in it.
 */
int
tintin_sink_flush(Tintin_reporter *r, struct sink *s)
{
	const char *p = s->buf;
	size_t n = s->len, done = 0, keep;
	uint64_t kept;
	struct stat st;
	ssize_t w;
	int err;

	if (s->fwd != NULL) {
		tintin_fwd_flush(s->fwd);
		return 0;
	}
	if (n == 0 || s->in_cb)
		return 0;
	if (s->cb != NULL) {
		/* Records logged by the callback itself are not given to it
		 * (they would overwrite the buffer it is reading). */
		s->st.records += s->pending;
		s->st.bytes += n;
		s->pending = 0;
		s->in_cb = 1;
		s->cb(s->cb_arg, p, n);
		s->in_cb = 0;
		s->len = 0;
		return 0;
	}
	preallocate(r, s, n);
	while (done < n) {
		w = write(s->fd, p + done, n - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		done += (size_t)w;
	}
	if (done < n) {
		err = errno;
		keep = whole_records(p, done, &kept);
		if (done > keep && s->owned && fstat(s->fd, &st) == 0 &&
		    (uint64_t)st.st_size >= done - keep)
			(void)ftruncate(s->fd, st.st_size - (off_t)(done - keep));
		s->st.records += kept;
		s->st.bytes += keep;
		s->size += keep;
		s->len = 0;
		sink_failed(r, s, err, s->pending - kept);
		s->pending = 0;
		return -1;
	}
	s->st.records += s->pending;
	s->st.bytes += n;
	s->size += n;
	s->len = 0;
	s->pending = 0;
	if (s->failing)
		sink_recovered(r, s);
	if (s->owned && r->rot.size > 0 && s->size >= r->rot.size)
		(void)tintin_rotate_sink(r, s, r->cached_sec);
	return 0;
}

int
tintin_flush(Tintin_reporter *r)
{
	int i, rc = 0;

	for (i = 0; i < r->nsinks; i++)
		if (tintin_sink_flush(r, &r->sinks[i]) == -1)
			rc = -1;
	if (r->depth == 0)
		tintin_emit_notes(r);
	return rc;
}

void
tintin_sink_close(Tintin_reporter *r, struct sink *s)
{
	tintin_sink_flush(r, s);
	if (s->owned && s->fd >= 0) {
		trim_prealloc(s);
		close(s->fd);
	}
	s->fd = -1;
	tintin_fwd_free(s->fwd);
	s->fwd = NULL;
	free(s->buf);
	free(s->path);
	s->buf = NULL;
	s->path = NULL;
}

static void
update_min_level(Tintin_reporter *r)
{
	int i;

	r->min_level = TINTIN_NLEVELS;
	for (i = 0; i < r->nsinks; i++)
		if (!r->sinks[i].disabled &&
		    r->sinks[i].min_level < r->min_level)
			r->min_level = r->sinks[i].min_level;
}

static int
add_sink(Tintin_reporter *r, int fd, int owned, const char *path,
    int min_level, int format)
{
	struct sink *s;

	if (r->nsinks >= TINTIN_MAX_SINKS || min_level < 0 ||
	    min_level >= TINTIN_NLEVELS ||
	    (format != TINTIN_TEXT && format != TINTIN_JSON)) {
		errno = EINVAL;
		return -1;
	}
	s = &r->sinks[r->nsinks];
	memset(s, 0, sizeof(*s));
	s->cap = TINTIN_THRESHOLD + 4096;
	if ((s->buf = malloc(s->cap)) == NULL)
		return -1;
	if (path != NULL && (s->path = strdup(path)) == NULL) {
		free(s->buf);
		return -1;
	}
	s->fd = fd;
	s->owned = owned;
	s->min_level = min_level;
	s->format = format;
	s->cats = TINTIN_CAT_ALL;
	r->nsinks++;
	update_min_level(r);
	return r->nsinks - 1;
}

/* Open a log file for appending; refuses links and non-regular files. */
int
tintin_open_log(const char *path)
{
	struct stat st;
	int fd, saved;

	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0640);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	if (fcntl(fd, F_SETFL, O_APPEND) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * A writer killed half-way through a write (SIGKILL, power loss) can
 * leave a last line without its newline: cut the file back to its last
 * complete record, so that what we append starts a line of its own.
 */
static void
repair_tail(Tintin_reporter *r, struct sink *s)
{
	char buf[4096];
	off_t end = (off_t)s->size, pos;
	ssize_t n, i;

	if (end == 0 || pread(s->fd, buf, 1, end - 1) != 1 || buf[0] == '\n')
		return;
	for (pos = end; pos > 0; pos -= n) {
		n = pos < (off_t)sizeof(buf) ? (ssize_t)pos :
		    (ssize_t)sizeof(buf);
		if (pread(s->fd, buf, (size_t)n, pos - n) != n)
			return;
		for (i = n - 1; i >= 0; i--) {
			if (buf[i] != '\n')
				continue;
			if (ftruncate(s->fd, pos - n + i + 1) == 0) {
				s->size = (uint64_t)(pos - n + i + 1);
				tintin_note(r, TINTIN_WARN, "%s ended with an "
				    "incomplete record (%lld bytes, left by a "
				    "writer that was killed): removed it.",
				    s->path, (long long)(end - (pos - n + i +
				    1)));
			}
			return;
		}
		if (end - pos > 1024 * 1024)
			return;	/* no newline in the last MiB: leave it */
	}
}

int
tintin_add_file(Tintin_reporter *r, const char *path, int min_level,
    int format)
{
	int fd, idx, saved;

	struct stat st;

	if ((fd = tintin_open_log(path)) == -1)
		return -1;
	if ((idx = add_sink(r, fd, 1, path, min_level, format)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) == 0)
		r->sinks[idx].size = (uint64_t)st.st_size;
	r->sinks[idx].can_prealloc = prealloc_pays(fd);
	repair_tail(r, &r->sinks[idx]);
	return idx;
}

int
tintin_add_fd(Tintin_reporter *r, int fd, int min_level, int format)
{
	return add_sink(r, fd, 0, NULL, min_level, format);
}

int
tintin_add_callback(Tintin_reporter *r, int min_level, int format,
    tintin_record_cb cb, void *arg)
{
	int idx;

	if ((idx = add_sink(r, -1, 0, NULL, min_level, format)) == -1)
		return -1;
	r->sinks[idx].cb = cb;
	r->sinks[idx].cb_arg = arg;
	return idx;
}

int
tintin_add_hook(Tintin_reporter *r, int min_level, tintin_hook_cb cb,
    void *arg)
{
	int idx;

	if ((idx = add_sink(r, -1, 0, NULL, min_level, TINTIN_TEXT)) == -1)
		return -1;
	r->sinks[idx].hook = cb;
	r->sinks[idx].cb_arg = arg;
	return idx;
}

int
tintin_set_enabled(Tintin_reporter *r, int sink, int on)
{
	if (sink < 0 || sink >= r->nsinks) {
		errno = EINVAL;
		return -1;
	}
	if (!on)
		tintin_sink_flush(r, &r->sinks[sink]);
	r->sinks[sink].disabled = !on;
	update_min_level(r);
	return 0;
}

int
tintin_add_syslog(Tintin_reporter *r, const char *target, int min_level,
    char *err, size_t errlen)
{
	struct tintin_fwd *f;
	struct sink *s;

	if (r->nsinks >= TINTIN_MAX_SINKS || min_level < 0 ||
	    min_level >= TINTIN_NLEVELS) {
		snprintf(err, errlen, "%s", r->nsinks >= TINTIN_MAX_SINKS ?
		    "too many sinks" : "bad level");
		errno = EINVAL;
		return -1;
	}
	if ((f = tintin_fwd_new(target, r->name, err, errlen)) == NULL) {
		errno = EINVAL;
		return -1;
	}
	s = &r->sinks[r->nsinks];
	memset(s, 0, sizeof(*s));
	s->fd = -1;		/* the file code skips it */
	s->fwd = f;
	s->min_level = min_level;
	s->cats = TINTIN_CAT_ALL;
	r->nsinks++;
	update_min_level(r);
	return r->nsinks - 1;
}

int
tintin_set_level(Tintin_reporter *r, int sink, int min_level)
{
	if (sink < 0 || sink >= r->nsinks || min_level < 0 ||
	    min_level >= TINTIN_NLEVELS) {
		errno = EINVAL;
		return -1;
	}
	r->sinks[sink].min_level = min_level;
	update_min_level(r);
	return 0;
}

int
tintin_sink_count(const Tintin_reporter *r)
{
	return r->nsinks;
}

int
tintin_sink_stats(const Tintin_reporter *r, int sink,
    struct tintin_sink_stats *st)
{
	if (sink < 0 || sink >= r->nsinks) {
		errno = EINVAL;
		return -1;
	}
	*st = r->sinks[sink].st;
	if (r->sinks[sink].fwd != NULL) {
		struct tintin_fwd_stats fs;

		tintin_fwd_stats(r->sinks[sink].fwd, &fs);
		st->records = fs.sent;
		st->bytes = fs.bytes;
		st->lost = fs.dropped;
		st->last_errno = fs.last_errno;
	}
	return 0;
}

int
tintin_sink_queue(const Tintin_reporter *r, int sink, uint64_t *records,
    uint64_t *bytes, int *connected)
{
	struct tintin_fwd_stats fs;

	if (sink < 0 || sink >= r->nsinks || r->sinks[sink].fwd == NULL) {
		errno = EINVAL;
		return -1;
	}
	tintin_fwd_stats(r->sinks[sink].fwd, &fs);
	*records = fs.queued;
	*bytes = fs.queued_bytes;
	*connected = fs.connected;
	return 0;
}

int
tintin_set_categories(Tintin_reporter *r, int sink, uint32_t mask)
{
	if (sink < 0 || sink >= r->nsinks || mask == 0) {
		errno = EINVAL;
		return -1;
	}
	r->sinks[sink].cats = mask;
	return 0;
}

/* mkdir -p of the directory holding PATH (it may have been removed). */
static void
make_parent(const char *path)
{
	char buf[4096], *p;

	if (strlen(path) >= sizeof(buf))
		return;
	strcpy(buf, path);
	if ((p = strrchr(buf, '/')) == NULL || p == buf)
		return;
	*p = '\0';
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)mkdir(buf, 0755);
		*p = '/';
	}
	(void)mkdir(buf, 0755);
}

/* Reopen sink S by its path, keeping its descriptor number. */
int
tintin_reopen_sink(Tintin_reporter *r, struct sink *s)
{
	struct stat st;
	int fd;

	if (!s->owned || s->path == NULL)
		return 0;
	tintin_sink_flush(r, s);
	if ((fd = tintin_open_log(s->path)) == -1 && errno == ENOENT) {
		make_parent(s->path);
		fd = tintin_open_log(s->path);
	}
	if (fd == -1) {
		s->st.last_errno = errno;
		return -1;
	}
	trim_prealloc(s);
	/* Keep the descriptor number: a crash handler may use it. */
	if (dup3(fd, s->fd, O_CLOEXEC) == -1) {
		s->st.last_errno = errno;
		close(fd);
		return -1;
	}
	close(fd);
	s->size = fstat(s->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	s->can_prealloc = prealloc_pays(s->fd);
	return 0;
}

int
tintin_reopen(Tintin_reporter *r)
{
	int i, rc = 0;

	for (i = 0; i < r->nsinks; i++)
		if (tintin_reopen_sink(r, &r->sinks[i]) == -1)
			rc = -1;
	return rc;
}
