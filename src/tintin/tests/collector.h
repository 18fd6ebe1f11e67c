/*
 * A collector for the tests of the syslog sink: loopback sockets, a
 * reporter that forwards to one and keeps its own notes, readers of what
 * arrives.  Include once per test program, after tmpdir.h.
 */
#ifndef TESTS_COLLECTOR_H
#define TESTS_COLLECTOR_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tintin/tintin.h"

#define CAT_REC		0x2u		/* the tests' records, not notes */

/* What the reporter logs about its sinks ("Forwarding to ..."). */
struct notes {
	char	text[131072];
	size_t	len;
};

/*
 * A unix socket of TYPE bound to NAME in the test directory (tmpdir.h),
 * listening if LISTENING, and its target "unix:PATH" into TARGET.
 */
static inline int
collector_unix(int type, int listening, const char *name, char *target,
    size_t size)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = path_of(name);
	int fd;

	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	if (listening)
		assert_int_equal(listen(fd, 4), 0);
	snprintf(target, size, "unix:%s", path);
	return fd;
}

static void
notes_cb(void *arg, const char *records, size_t len)
{
	struct notes *n = arg;

	if (len > sizeof(n->text) - 1 - n->len)
		len = sizeof(n->text) - 1 - n->len;
	memcpy(n->text + n->len, records, len);
	n->len += len;
	n->text[n->len] = '\0';
}

static int
count_of(const char *s, const char *what)
{
	int n = 0;

	while ((s = strstr(s, what)) != NULL) {
		n++;
		s += strlen(what);
	}
	return n;
}

/* A loopback socket bound to a free port; listening if asked. */
static int
inet_socket(int type, int *port, int listening)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd, small = 4096;

	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (type == SOCK_STREAM)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small,
		    sizeof(small));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	if (listening)
		assert_int_equal(listen(fd, 8), 0);
	return fd;
}

/*
 * A reporter named Matt_daemon: sink 0 forwards to TARGET the records of
 * CATS, sink 1 keeps the library's own notes in N.
 */
static Tintin_reporter *
forwarder(const char *target, uint32_t cats, struct notes *n)
{
	Tintin_reporter *r;
	char err[256];

	r = tintin_create("Matt_daemon");
	assert_non_null(r);
	err[0] = '\0';
	if (tintin_add_syslog(r, target, TINTIN_DEBUG, err, sizeof(err)) != 0)
		fail_msg("%s: %s", target, err);
	assert_int_equal(tintin_set_categories(r, 0, cats), 0);
	n->len = 0;
	n->text[0] = '\0';
	assert_int_equal(tintin_add_callback(r, TINTIN_DEBUG, TINTIN_TEXT,
	    notes_cb, n), 1);
	assert_int_equal(tintin_set_categories(r, 1, TINTIN_CAT_DEFAULT), 0);
	return r;
}

static Tintin_reporter *
forwarder_to(const char *proto, int port, struct notes *n)
{
	char target[128];

	snprintf(target, sizeof(target), "%s://127.0.0.1:%d", proto, port);
	return forwarder(target, CAT_REC, n);
}

/* Records and bytes in sink 0's queue; returns whether it is connected. */
static int
queue_of(const Tintin_reporter *r, uint64_t *records, uint64_t *bytes)
{
	uint64_t rec, b;
	int up;

	assert_int_equal(tintin_sink_queue(r, 0, &rec, &b, &up), 0);
	if (records != NULL)
		*records = rec;
	if (bytes != NULL)
		*bytes = b;
	return up;
}

/* Tick until connected (the connect is non-blocking), at most 2 s. */
static void
wait_connected(Tintin_reporter *r)
{
	int i;

	for (i = 0; i < 200; i++) {
		tintin_tick(r);
		if (queue_of(r, NULL, NULL))
			return;
		usleep(10000);
	}
	fail_msg("never connected");
}

/* Accept a connection on LFD, ticking R meanwhile, within 4 s. */
static int
accept_wait(int lfd, Tintin_reporter *r)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	int fd, i;

	for (i = 0; i < 400; i++) {
		tintin_tick(r);
		if (poll(&pfd, 1, 10) == 1)
			break;
	}
	assert_int_equal(poll(&pfd, 1, 0), 1);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/*
 * Read at least N bytes into BUF within 2 s, flushing R meanwhile; with
 * N 0, what comes within 5 ms.
 */
static size_t
read_some(int fd, Tintin_reporter *r, char *buf, size_t size, size_t n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t k;
	int i;

	for (i = 0; i < 400 && (got < n || i == 0); i++) {
		if (r != NULL)
			tintin_flush(r);
		if (poll(&pfd, 1, 5) != 1)
			continue;
		k = read(fd, buf + got, size - got);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return got;
}

/* Next octet-counted frame of BUF[*off..len): its message, or NULL. */
static const char *
next_frame(const char *buf, size_t len, size_t *off, size_t *mlen)
{
	size_t i = *off, n = 0;

	if (i >= len || buf[i] < '1' || buf[i] > '9')
		return NULL;
	while (i < len && buf[i] >= '0' && buf[i] <= '9')
		n = n * 10 + (size_t)(buf[i++] - '0');
	if (i >= len || buf[i] != ' ' || len - i - 1 < n)
		return NULL;
	*mlen = n;
	*off = i + 1 + n;
	return buf + i + 1;
}

#endif
