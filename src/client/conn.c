/* One session with the daemon: TCP connect with a timeout, optional TLS,
 * or its local unix socket; non-blocking reads split into lines, writes
 * with a deadline. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client/afk.h"

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Poll one fd until DEADLINE (ms, monotonic): >0 ready, 0 timeout, -1. */
static int
poll_until(int fd, short events, long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left < 0)
			left = 0;
		n = poll(&pfd, 1, (int)left);
		if (n == -1 && errno == EINTR)
			continue;
		return n;
	}
}

/* Try one address: 0 connected, -1 with errno (ETIMEDOUT on timeout). */
static int
try_addr(const struct addrinfo *ai, long deadline)
{
	socklen_t len = sizeof(int);
	int fd, soerr = 0, n;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS)
		goto fail;
	n = poll_until(fd, POLLOUT, deadline);
	if (n == 0) {
		errno = ETIMEDOUT;
		goto fail;
	}
	if (n == -1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) ==
	    -1)
		goto fail;
	if (soerr != 0) {
		errno = soerr;
		goto fail;
	}
	return fd;
fail:
	n = errno;
	close(fd);
	errno = n;
	return -1;
}

int
conn_open(struct conn *c, const char *host, const char *port, int timeout_ms)
{
	struct addrinfo hints = { 0 }, *res, *ai;
	long deadline = now_ms() + timeout_ms;
	int rc, fd = -1, saved = 0;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		if (rc == EAI_NONAME || rc == EAI_NODATA)
			snprintf(c->err, sizeof(c->err), "%s: host not found",
			    host);
		else if (rc == EAI_SERVICE)
			snprintf(c->err, sizeof(c->err), "%s: bad port", port);
		else
			snprintf(c->err, sizeof(c->err), "%s: %s", host,
			    rc == EAI_SYSTEM ? strerror(errno) :
			    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		if ((fd = try_addr(ai, deadline)) == -1)
			saved = errno;
		if (saved == ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		snprintf(c->err, sizeof(c->err), "cannot connect to %s port "
		    "%s: %s", host, port, saved == ETIMEDOUT ?
		    "timed out" : strerror(saved));
		if (saved == ECONNREFUSED)
			snprintf(c->err + strlen(c->err),
			    sizeof(c->err) - strlen(c->err),
			    " (is Matt_daemon running?)");
		return -1;
	}
	c->fd = fd;
	return 0;
}

int
conn_open_local(struct conn *c, const char *path, int timeout_ms)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	long deadline = now_ms() + timeout_ms;
	int fd, rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(c->err, sizeof(c->err), "%s: path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(c->err, sizeof(c->err), "socket: %s",
		    strerror(errno));
		return -1;
	}
	/* A full backlog says EAGAIN, not EINPROGRESS: wait and retry. */
	while ((rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun))) ==
	    -1 && (errno == EAGAIN || errno == EINTR) && now_ms() < deadline)
		(void)poll(NULL, 0, 10);
	if (rc == -1) {
		snprintf(c->err, sizeof(c->err), "cannot connect to %s: %s%s",
		    path, errno == EAGAIN ? "timed out" : strerror(errno),
		    errno == ECONNREFUSED || errno == ENOENT ?
		    " (is Matt_daemon running?)" : errno == EACCES ?
		    " (root and the socket's group only)" : "");
		close(fd);
		return -1;
	}
	c->fd = fd;
	c->local = 1;
	return 0;
}

int
conn_start_tls(struct conn *c, const char *host, const char *keyfile,
    int timeout_ms)
{
	c->tls = tls_connect(c->fd, host, keyfile, timeout_ms, c->err,
	    sizeof(c->err));
	return c->tls ? 0 : -1;
}

ssize_t
conn_write_some(struct conn *c, const void *buf, size_t len)
{
	ssize_t n;

	if (c->tls != NULL) {
		n = tls_write(c->tls, buf, len);
		if (n == -1)
			snprintf(c->err, sizeof(c->err), "%s",
			    tls_error(c->tls));
		return n;
	}
	n = send(c->fd, buf, len, MSG_NOSIGNAL);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return -2;
	snprintf(c->err, sizeof(c->err), "send: %s", strerror(errno));
	return -1;
}

short
conn_events(struct conn *c)
{
	return c->tls != NULL ? tls_wants(c->tls) : POLLOUT;
}

int
conn_write(struct conn *c, const void *buf, size_t len, int timeout_ms)
{
	const char *p = buf;
	long deadline = now_ms() + timeout_ms;
	ssize_t n;

	while (len > 0) {
		n = conn_write_some(c, p, len);
		if (n == -1)
			return -1;
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (poll_until(c->fd, conn_events(c), deadline) <= 0) {
			snprintf(c->err, sizeof(c->err), "send: timed out");
			return -1;
		}
	}
	return 0;
}

int
conn_fill(struct conn *c)
{
	size_t room = sizeof(c->buf) - c->len;
	ssize_t n;

	if (room == 0)
		return 1;
	if (c->tls != NULL) {
		n = tls_read(c->tls, c->buf + c->len, room);
		if (n == -1)
			snprintf(c->err, sizeof(c->err), "%s",
			    tls_error(c->tls));
	} else {
		n = recv(c->fd, c->buf + c->len, room, 0);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			n = -2;
		else if (n == -1)
			snprintf(c->err, sizeof(c->err), "recv: %s",
			    strerror(errno));
	}
	if (n == -2)
		return 0;
	if (n == 0) {
		c->eof = 1;
		snprintf(c->err, sizeof(c->err), "connection closed by the "
		    "daemon");
		return -1;
	}
	if (n < 0)
		return -1;
	c->len += (size_t)n;
	return 1;
}

int
conn_line(struct conn *c, char *line, size_t size)
{
	char *nl = memchr(c->buf, '\n', c->len);
	size_t n, take;

	if (nl == NULL && c->len < sizeof(c->buf) && !(c->eof && c->len))
		return 0;
	n = nl ? (size_t)(nl - c->buf) : c->len;
	take = nl ? n + 1 : n;
	if (n >= size) {	/* a piece of an overlong line */
		n = size - 1;
		take = n;
	}
	memcpy(line, c->buf, n);
	if (n > 0 && line[n - 1] == '\r' && nl != NULL)
		n--;
	line[n] = '\0';
	memmove(c->buf, c->buf + take, c->len - take);
	c->len -= take;
	return 1;
}

int
conn_pending(struct conn *c)
{
	return c->tls != NULL && tls_pending(c->tls);
}

int
conn_read_line(struct conn *c, char *line, size_t size, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	int n;

	for (;;) {
		if (conn_line(c, line, size))
			return 1;
		if (c->eof)
			return -1;
		n = conn_fill(c);
		if (n == -1)
			return conn_line(c, line, size) ? 1 : -1;
		if (n == 1 || conn_pending(c))
			continue;
		n = poll_until(c->fd, POLLIN, deadline);
		if (n == 0)
			return 0;
		if (n == -1) {
			snprintf(c->err, sizeof(c->err), "poll: %s",
			    strerror(errno));
			return -1;
		}
	}
}

void
conn_close(struct conn *c)
{
	tls_free(c->tls);
	c->tls = NULL;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}
