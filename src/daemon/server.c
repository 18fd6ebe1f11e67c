/*
 * The listening socket: dual-stack by default, non-blocking, and the
 * accept loop, which refuses clients beyond max_clients with one line
 * (when authentication is required, it first closes the oldest client
 * that holds a slot without logging in).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/client.h"
#include "daemon/daemon.h"
#include "daemon/server.h"

#define SERVER_BACKLOG	128
#define ACCEPT_BATCH	32

static int
bind_listen(int family, const struct sockaddr *sa, socklen_t len, int v6only)
{
	int fd, one = 1, saved;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		    sizeof(v6only));
	if (bind(fd, sa, len) == -1 || listen(fd, SERVER_BACKLOG) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
server_listen(const char *addr, int port)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	int fd;

	memset(&s6, 0, sizeof(s6));
	memset(&s4, 0, sizeof(s4));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons((uint16_t)port);
	s4.sin_family = AF_INET;
	s4.sin_port = htons((uint16_t)port);
	if (strcmp(addr, "*") == 0) {
		s6.sin6_addr = in6addr_any;
		fd = bind_listen(AF_INET6, (struct sockaddr *)&s6,
		    sizeof(s6), 0);
		if (fd == -1 && (errno == EAFNOSUPPORT ||
		    errno == EADDRNOTAVAIL)) {
			s4.sin_addr.s_addr = htonl(INADDR_ANY);
			fd = bind_listen(AF_INET, (struct sockaddr *)&s4,
			    sizeof(s4), 0);
		}
		return fd;
	}
	if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1)
		return bind_listen(AF_INET, (struct sockaddr *)&s4,
		    sizeof(s4), 0);
	if (inet_pton(AF_INET6, addr, &s6.sin6_addr) == 1)
		return bind_listen(AF_INET6, (struct sockaddr *)&s6,
		    sizeof(s6), 1);
	errno = EINVAL;
	return -1;
}

void
server_format_addr(const struct sockaddr *sa, char *buf, size_t size)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(s6->sin6_port));
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(s4->sin_port));
	} else
		snprintf(buf, size, "unknown");
}

/*
 * One line, then close.  Shutting down our side first and discarding what
 * the client already sent avoids a reset that could destroy the line
 * before the client reads it.
 */
static void
refuse(struct daemon *d, int fd, const char *addr)
{
	char msg[64], junk[512];
	int n, i;

	n = snprintf(msg, sizeof(msg), "-ERR too many clients (max %d)\n",
	    d->cfg->max_clients);
	(void)send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)shutdown(fd, SHUT_WR);
	for (i = 0; i < 4 && recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0;
	    i++)
		;
	close(fd);
	tintin_log_cat(d->log, TINTIN_WARN, CAT_CONN, "Client refused: %s: "
	    "too many clients (%d/%d).", addr, d->nclients,
	    d->cfg->max_clients);
}

/* Out of descriptors: accept with the spare one and drop the connection. */
static void
shed(struct daemon *d)
{
	int fd;

	if (d->spare_fd < 0)
		return;
	close(d->spare_fd);
	fd = accept4(d->listen_io.fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	d->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	tintin_log(d->log, TINTIN_ERROR, "Out of file descriptors: "
	    "connection dropped.");
}

/*
 * Slots full and authentication required: a client that has not logged
 * in gives its slot to the newcomer, so that clients that never log in
 * cannot keep an admin out.  A logged-in client is never displaced.
 */
static void
make_room(struct daemon *d)
{
	struct client *c;

	if (d->cfg->auth_mode != MODE_REQUIRED ||
	    (c = client_displaceable(d)) == NULL)
		return;
	(void)client_reply(c, "-ERR closed to make room: not logged in\n");
	client_close(c, "displaced: not logged in, slots full");
}

static void
on_accept(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct daemon *d = io->arg;
	struct sockaddr_storage ss;
	socklen_t slen;
	char addr[INET6_ADDRSTRLEN + 16];
	int fd, i;

	(void)l;
	(void)events;
	for (i = 0; i < ACCEPT_BATCH && !d->stopping; i++) {
		slen = sizeof(ss);
		fd = accept4(io->fd, (struct sockaddr *)&ss, &slen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE)
				shed(d);
			else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				tintin_log(d->log, TINTIN_ERROR, "accept: %s.",
				    strerror(errno));
			return;
		}
		server_format_addr((struct sockaddr *)&ss, addr, sizeof(addr));
		if (d->nclients >= d->cfg->max_clients)
			make_room(d);
		if (d->nclients >= d->cfg->max_clients)
			refuse(d, fd, addr);
		else if (client_new(d, fd, addr) == NULL) {
			tintin_log(d->log, TINTIN_ERROR, "Client %s dropped: "
			    "%s.", addr, strerror(errno));
			close(fd);
		}
	}
}

int
server_start(struct daemon *d, int fd)
{
	d->listen_io.fd = fd;
	d->listen_io.cb = on_accept;
	d->listen_io.arg = d;
	d->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return loop_add(&d->loop, &d->listen_io, EPOLLIN);
}

void
server_stop(struct daemon *d)
{
	if (d->listen_io.fd >= 0)
		close(d->listen_io.fd);
	d->listen_io.fd = -1;
	if (d->spare_fd >= 0)
		close(d->spare_fd);
	d->spare_fd = -1;
}
