/*
 * The alert mail spool.  One file per mail, named so that names sort in
 * the order the mails were made ("SECONDS-PID-SEQ.mail": a mail keeps its
 * name when it is loaded and spooled again), written under a ".tmp" name
 * and renamed once whole.  A head names the rule and the
 * envelope recipients; a blank line; then the message as it will be sent:
 *
 *	Matt_daemon alert mail
 *	rule intrusion
 *	to ops@example.org
 *
 *	Date: Wed, 25 Nov 2026 10:20:00 +0000
 *	...
 *
 * The directory and its files belong to the daemon's user and nobody else
 * may write there: a spooled mail is sent as it is, so the spool is read
 * only when that holds.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/mkdirs.h"
#include "daemon/alert/mail_spool.h"

#define SPOOL_MAGIC	"Matt_daemon alert mail\n"
#define SPOOL_MAX	(16 * 1024 * 1024)	/* bytes of one file */

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void
spool_name(struct spooled *m)
{
	static long long last;
	static unsigned seq;
	long long t = (long long)time(NULL);

	if (t < last)		/* the clock went back: keep the order */
		t = last;
	last = t;
	snprintf(m->name, sizeof(m->name), "%lld-%d-%010u.mail", t,
	    (int)getpid(), seq++);
}

/* The spool's head of M into HEAD (SIZE bytes): its length, or 0. */
static size_t
make_head(char *head, size_t size, const struct spooled *m)
{
	size_t hlen;
	int i;

	hlen = (size_t)snprintf(head, size, "%srule %s\n", SPOOL_MAGIC,
	    m->rule);
	for (i = 0; i < m->nto && hlen < size; i++)
		hlen += (size_t)snprintf(head + hlen, size - hlen, "to %s\n",
		    m->to[i]);
	if (hlen + 1 >= size)
		return 0;
	head[hlen++] = '\n';
	return hlen;
}

int
spool_write(const char *dir, struct spooled *m)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], head[5120];
	size_t hlen;
	int fd, n, saved, tries;

	if (mkdirs(dir, 0700) == -1)
		return -1;
	if ((hlen = make_head(head, sizeof(head), m)) == 0) {
		errno = EOVERFLOW;
		return -1;
	}
	if (m->name[0] == '\0')
		spool_name(m);
	n = snprintf(path, sizeof(path), "%s/%s", dir, m->name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return -1;
	if (write_all(fd, head, hlen) == -1 ||
	    write_all(fd, m->msg, m->len) == -1 || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		(void)unlink(tmp);
		errno = saved;
		return -1;
	}
	close(fd);
	/* Never over another mail: a name taken makes a new one. */
	for (tries = 0; renameat2(AT_FDCWD, tmp, AT_FDCWD, path,
	    RENAME_NOREPLACE) == -1; tries++) {
		saved = errno;
		if (saved != EEXIST || tries == 3) {
			(void)unlink(tmp);
			errno = saved;
			return -1;
		}
		spool_name(m);
		snprintf(path, sizeof(path), "%s/%s", dir, m->name);
	}
	return 0;
}

/* A plain address: 3..255 bytes, an '@', no space or control byte. */
static int
plain_address(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 3 || n >= 256 || strchr(s, '@') == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* Parse the head of BUF[0..LEN) into M; the offset of the message, or 0. */
static size_t
parse_head(char *buf, size_t len, struct spooled *m)
{
	char *p = buf + strlen(SPOOL_MAGIC), *end = buf + len, *nl;

	if (len <= strlen(SPOOL_MAGIC) ||
	    memcmp(buf, SPOOL_MAGIC, strlen(SPOOL_MAGIC)) != 0)
		return 0;
	for (;;) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return 0;
		if (nl == p)
			break;			/* the blank line */
		*nl = '\0';
		if (strncmp(p, "rule ", 5) == 0 && m->rule[0] == '\0' &&
		    strlen(p + 5) < sizeof(m->rule) && p[5] != '\0')
			strcpy(m->rule, p + 5);
		else if (strncmp(p, "to ", 3) == 0 &&
		    m->nto < CONFIG_MAX_RCPTS && plain_address(p + 3))
			strcpy(m->to[m->nto++], p + 3);
		else
			return 0;
		p = nl + 1;
	}
	p++;
	if (m->rule[0] == '\0' || m->nto == 0 || p >= end)
		return 0;
	return (size_t)(p - buf);
}

/* Read spooled mail NAME of directory DFD into M; 0 or -1. */
static int
read_mail(int dfd, const char *name, struct spooled *m)
{
	struct stat st;
	size_t got = 0, off;
	ssize_t r;
	char *buf;
	int fd;

	memset(m, 0, sizeof(*m));
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || st.st_size <= 0 ||
	    st.st_size > SPOOL_MAX || (buf = malloc((size_t)st.st_size)) ==
	    NULL) {
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != (size_t)st.st_size || (off = parse_head(buf, got, m)) ==
	    0) {
		free(buf);
		return -1;
	}
	if (strlen(name) < sizeof(m->name))	/* its place in the order */
		strcpy(m->name, name);
	m->len = got - off;
	memmove(buf, buf + off, m->len);
	m->msg = buf;
	return 0;
}

static int
is_mail(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 5 &&
	    strcmp(e->d_name + n - 5, ".mail") == 0;
}

int
spool_count(const char *dir, int max)
{
	struct dirent *e;
	DIR *dp;
	int fd, n = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return 0;
	if ((dp = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	while (n < max && (e = readdir(dp)) != NULL)
		n += is_mail(e);
	closedir(dp);
	return n;
}

int
spool_load(const char *dir, int max, void (*cb)(void *, struct spooled *),
    void (*bad)(void *, const char *), void *arg, int *left)
{
	struct dirent **ents;
	struct spooled m;
	struct stat st;
	int dfd, n, i, count = 0, skipped = 0;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd == -1)
		return -1;
	if (fstat(dfd, &st) == -1 || st.st_uid != geteuid() ||
	    (st.st_mode & 022) != 0) {
		close(dfd);
		errno = EPERM;		/* others could make us send mail */
		return -1;
	}
	if ((n = scandirat(dfd, ".", &ents, is_mail, alphasort)) == -1) {
		close(dfd);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (count >= max)
			skipped++;
		else if (read_mail(dfd, ents[i]->d_name, &m) == 0) {
			cb(arg, &m);
			(void)unlinkat(dfd, ents[i]->d_name, 0);
			count++;
		} else if (bad != NULL)
			bad(arg, ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	close(dfd);
	if (left != NULL)
		*left = skipped;
	return count;
}
