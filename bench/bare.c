/*
 * bare: the least a single-threaded logger can do with the flood, as a
 * yardstick for Matt_daemon.  It reads every connection, puts a prefix of
 * Matt_daemon's exact shape and length before each line, and appends the
 * records to a file with one write per 128 KiB: no escaping, no line limit,
 * no levels, no sinks, no commands.  It is about as fast as one thread
 * can log these records here: the ceiling of Matt_daemon's design.
 */

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define READ_SIZE	(256 * 1024)
#define OUT_SIZE	(128 * 1024)
#define CARRY_MAX	4096		/* a partial line kept between reads */
#define MAX_FD		1024
#define PREFIX_MAX	96

struct conn {
	size_t	len;			/* bytes of a partial line in carry */
	char	carry[CARRY_MAX];
};

static char		 rbuf[READ_SIZE];
static char		 obuf[OUT_SIZE + PREFIX_MAX + CARRY_MAX + READ_SIZE];
static size_t		 olen;
static int		 out = -1;
static struct conn	*conns[MAX_FD];
static char		 prefix[PREFIX_MAX];
static size_t		 prefix_len;
static time_t		 prefix_sec = -1;

static void usage(FILE *, int) __attribute__((noreturn));

static void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: bare -p port -o file\n"
	    "  -o, --output FILE  append the records to FILE\n"
	    "  -p, --port N       listen on 127.0.0.1:N\n");
	exit(status);
}

static void
flush(void)
{
	size_t off = 0;
	ssize_t n;

	while (off < olen) {
		n = write(out, obuf + off, olen - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			bench_die(1, "write: %s", strerror(errno));
		off += (size_t)n;
	}
	olen = 0;
}

/* "[DD/MM/YYYY-HH:MM:SS] [ LOG ] - Matt_daemon: User input: ", per second. */
static void
refresh_prefix(void)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	if (ts.tv_sec == prefix_sec)
		return;
	prefix_sec = ts.tv_sec;
	localtime_r(&ts.tv_sec, &tm);
	prefix_len = strftime(prefix, sizeof(prefix), "[%d/%m/%Y-%H:%M:%S] "
	    "[ LOG ] - Matt_daemon: User input: ", &tm);
}

static void
record(const char *a, size_t alen, const char *b, size_t blen)
{
	char *p = obuf + olen;

	memcpy(p, prefix, prefix_len);
	p += prefix_len;
	memcpy(p, a, alen);
	p += alen;
	memcpy(p, b, blen);
	p += blen;
	*p++ = '\n';
	olen = (size_t)(p - obuf);
	if (olen >= OUT_SIZE)
		flush();
}

/* Frame N bytes read from C into records; the last partial line waits. */
static void
frame(struct conn *c, const char *p, size_t n)
{
	const char *end = p + n, *nl;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		record(c->carry, c->len, p, (size_t)(nl - p));
		c->len = 0;
		p = nl + 1;
	}
	if ((size_t)(end - p) > CARRY_MAX - c->len)
		bench_die(1, "a line longer than %d bytes", CARRY_MAX);
	memcpy(c->carry + c->len, p, (size_t)(end - p));
	c->len += (size_t)(end - p);
}

static void
on_readable(int ep, int fd)
{
	struct conn *c = conns[fd];
	ssize_t n;

	n = read(fd, rbuf, sizeof(rbuf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		refresh_prefix();
		frame(c, rbuf, (size_t)n);
		return;
	}
	if (c->len > 0)
		record(c->carry, c->len, "", 0);
	(void)epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	free(c);
	conns[fd] = NULL;
}

static void
on_accept(int ep, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (fd >= MAX_FD || (conns[fd] = calloc(1, sizeof(**conns))) == NULL) {
		close(fd);
		return;
	}
	ev.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		bench_die(1, "epoll_ctl: %s", strerror(errno));
}

static int
listen_on(unsigned long port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd, one = 1;

	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 64) < 0)
		bench_die(1, "127.0.0.1:%lu: %s", port, strerror(errno));
	return fd;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' },
		{ "port", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	struct epoll_event ev = { .events = EPOLLIN }, evs[16];
	const char *path = NULL;
	unsigned long port = 0;
	int ch, ep, lfd, i, n;

	bench_prog = "bare";
	while ((ch = getopt_long(argc, argv, "ho:p:", lopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout, 0);
		case 'o':
			path = optarg;
			break;
		case 'p':
			port = bench_num(optarg, "port", 1, 65535);
			break;
		default:
			usage(stderr, 2);
		}
	}
	if (path == NULL || port == 0 || optind != argc)
		usage(stderr, 2);
	out = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
	    0640);
	if (out < 0)
		bench_die(1, "%s: %s", path, strerror(errno));
	lfd = listen_on(port);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		bench_die(1, "epoll_create1: %s", strerror(errno));
	ev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		bench_die(1, "epoll_ctl: %s", strerror(errno));
	for (;;) {
		n = epoll_wait(ep, evs, 16, -1);
		if (n < 0 && errno != EINTR)
			bench_die(1, "epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == lfd)
				on_accept(ep, lfd);
			else
				on_readable(ep, evs[i].data.fd);
		}
		flush();
	}
}
