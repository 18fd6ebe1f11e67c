/*
 * The listening sockets: TCP (dual-stack by default) and the local unix
 * socket whose clients the kernel identifies, non-blocking, and the
 * accept loop, which refuses clients beyond max_clients with one line
 * (when authentication is required, it first closes the oldest client
 * that holds a slot without logging in).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/mkdirs.h"
#include "daemon/session/auth.h"
#include "daemon/session/client.h"
#include "daemon/session/command_auth.h"
#include "daemon/server.h"

#define SERVER_BACKLOG	128
#define ACCEPT_BATCH	32
#define PEER_GROUPS	64	/* supplementary groups read at once */

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

/*
 * Only we run (the lock is ours), so whatever socket sits at PATH is a
 * dead daemon's: remove it.  Anything else there is left alone and is an
 * error; lstat, so a symbolic link is never followed.
 */
static int
clear_stale(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (S_ISLNK(st.st_mode)) {
		errno = ELOOP;
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	return unlink(path);
}

int
server_listen_local(const char *path, gid_t gid)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd, saved, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (mkdirs_for(path, 0755) == -1 || clear_stale(path) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* Born 0660: never a moment when others may connect. */
	old = umask(0117);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc == -1)
		goto fail;
	if (fchownat(AT_FDCWD, path, 0, gid, AT_SYMLINK_NOFOLLOW) == -1 ||
	    listen(fd, SERVER_BACKLOG) == -1) {
		saved = errno;
		(void)unlink(path);
		errno = saved;
		goto fail;
	}
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* Is GID among the peer's groups (its primary one or the others)? */
static int
peer_in_group(int fd, const struct ucred *cr, gid_t gid)
{
	gid_t small[PEER_GROUPS], *g = small;
	socklen_t len = sizeof(small);
	size_t i, n;
	int found = 0;

	if (cr->gid == gid)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == -1) {
		if (errno != ERANGE || (g = malloc(len)) == NULL)
			return 0;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == -1) {
			free(g);
			return 0;
		}
	}
	n = len / sizeof(gid_t);
	for (i = 0; i < n && !found; i++)
		found = g[i] == gid;
	if (g != small)
		free(g);
	return found;
}

/* The name of UID for logs: [A-Za-z0-9._-] kept, the rest as '?'. */
static void
peer_name(uid_t uid, char *buf, size_t size)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	size_t i;

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) != 0 || res == NULL) {
		snprintf(buf, size, "uid%lu", (unsigned long)uid);
		return;
	}
	snprintf(buf, size, "%s", pw.pw_name);
	for (i = 0; buf[i] != '\0'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._-", buf[i]) == NULL)
			buf[i] = '?';
}

/*
 * Who connected to the unix socket: uid 0 is an admin, a member of the
 * socket's group a reader, anyone else anonymous.  The groups come from
 * SO_PEERGROUPS: those of the connecting process, as the kernel checked
 * them for the socket's permissions, without asking NSS in the loop.
 */
static int
peer_identity(const struct server *sv, int fd, struct client_peer *p, char *addr,
    size_t size)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	memset(p, 0, sizeof(*p));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1)
		return -1;
	p->uid = cr.uid;
	peer_name(cr.uid, p->name, sizeof(p->name));
	if (cr.uid == 0)
		p->role = ROLE_ADMIN;
	else if (peer_in_group(fd, &cr, sv->local_gid))
		p->role = ROLE_USER;
	else
		p->role = ROLE_NONE;
	/* A long name is cut, never the numbers: the uid says who it is. */
	return snprintf(addr, size, "local:uid=%lu(%.20s),pid=%ld",
	    (unsigned long)cr.uid, p->name, (long)cr.pid) < 0 ? -1 : 0;
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
 * MSG, one line, to FD, a connection not taken; then close it.  Shutting
 * down our side first and discarding what the client already sent avoids
 * a reset that could destroy the line before the client reads it.
 */
static void
turn_away(int fd, const char *msg)
{
	char junk[512];
	int i;

	(void)send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)shutdown(fd, SHUT_WR);
	for (i = 0; i < 4 && recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0;
	    i++)
		;
	close(fd);
}

/*
 * Every slot taken: FD from ADDR gets its one line.  With auth required,
 * a TCP connection turned away ends without a login like any other, and
 * charges its network NET (so that hammering full slots is not logged
 * without end); NET is NULL otherwise.
 */
static void
refuse(struct sessions *d, int fd, const char *addr,
    const struct auth_net *net)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "-ERR too many clients (max %d)\n",
	    d->cfg->max_clients);
	turn_away(fd, msg);
	d->m->refused[METRICS_REFUSED_FULL]++;
	tintin_log_cat(d->log, TINTIN_WARN, CAT_CONN, "Client refused: %s: "
	    "too many clients (%d/%d).", addr, d->nclients,
	    d->cfg->max_clients);
	if (net != NULL)
		command_auth_charge(d, net);
}

/*
 * A network NET penalized for its connections without a login is turned
 * away at once, each connection counted but not logged (the penalty's
 * start and end are).  1 if FD was.
 */
static int
penalized(struct sessions *d, int fd, const struct auth_net *net)
{
	unsigned left;
	char msg[128];

	if (!command_auth_penalized(d, net, &left))
		return 0;
	snprintf(msg, sizeof(msg), "-ERR too many connections without a "
	    "login from this network, try again in %us\n", left);
	turn_away(fd, msg);
	d->m->refused[METRICS_REFUSED_PENALTY]++;
	return 1;
}

/* Out of descriptors: accept with the spare one and drop the connection. */
static void
shed(struct server *sv, int lfd)
{
	int fd;

	if (sv->spare_fd < 0)
		return;
	close(sv->spare_fd);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	sv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	tintin_log(sv->s->log, TINTIN_ERROR, "Out of file descriptors: "
	    "connection dropped.");
}

/*
 * The connections a newcomer may find in place: max_clients, and with
 * auth required the admin slots too for one that may still log in as an
 * admin (a TCP client, or root on the local socket); client_login_fits()
 * keeps those for admins.
 */
static int
capacity(const struct sessions *d, const struct client_peer *pp)
{
	if (d->cfg->auth_mode != MODE_REQUIRED ||
	    (pp != NULL && pp->role != ROLE_ADMIN))
		return d->cfg->max_clients;
	return d->cfg->max_clients + (int)d->cfg->auth_admin_slots;
}

/*
 * Slots full and authentication required: a client that has not logged
 * in gives its slot to the newcomer from NET, so that clients that never
 * log in cannot keep an admin out, nor one network that reconnects
 * faster than the head start.  A logged-in client is never displaced.
 */
static void
make_room(struct sessions *d, const struct auth_net *net)
{
	struct client *c;

	if (d->cfg->auth_mode != MODE_REQUIRED ||
	    (c = client_displaceable(d, net)) == NULL)
		return;
	(void)client_reply(c, "-ERR closed to make room: not logged in\n");
	client_close(c, "displaced: not logged in, slots full");
}

static void
on_accept(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct server *sv = io->arg;
	struct sessions *d = sv->s;
	struct sockaddr_storage ss;
	struct client_peer peer, *pp = NULL;
	socklen_t slen;
	struct auth_net net;
	char addr[CLIENT_ADDR_MAX];
	int fd, i, tcp;

	(void)l;
	(void)events;
	for (i = 0; i < ACCEPT_BATCH && !d->stopping; i++) {
		slen = sizeof(ss);
		fd = accept4(io->fd, (struct sockaddr *)&ss, &slen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE)
				shed(sv, io->fd);
			else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				tintin_log(d->log, TINTIN_ERROR, "accept: %s.",
				    strerror(errno));
			return;
		}
		if (io == &sv->local_io) {
			pp = &peer;
			if (peer_identity(sv, fd, pp, addr, sizeof(addr)) == -1) {
				tintin_log(d->log, TINTIN_ERROR, "Local client "
				    "dropped: SO_PEERCRED: %s.",
				    strerror(errno));
				close(fd);
				continue;
			}
		} else
			server_format_addr((struct sockaddr *)&ss, addr,
			    sizeof(addr));
		/* Auth required: its source network, once, for the slots'
		 * rules and, over TCP, the penalties (local: all zero). */
		tcp = pp == NULL && d->cfg->auth_mode == MODE_REQUIRED;
		memset(&net, 0, sizeof(net));
		if (d->cfg->auth_mode == MODE_REQUIRED)
			client_net_of(d, addr, &net);
		if (tcp && penalized(d, fd, &net))
			continue;
		if (d->nclients >= capacity(d, pp))
			make_room(d, &net);
		if (d->nclients >= capacity(d, pp))
			refuse(d, fd, addr, tcp ? &net : NULL);
		else if (client_new(d, fd, addr, pp) == NULL) {
			tintin_log(d->log, TINTIN_ERROR, "Client %s dropped: "
			    "%s.", addr, strerror(errno));
			close(fd);
		} else {
			d->m->accepted++;
			if (pp != NULL && pp->role != ROLE_NONE)
				d->m->logins[METRICS_LOGIN_LOCAL][1]++;
			if (pp != NULL)
				tintin_log_cat(d->log, TINTIN_INFO, CAT_AUTH,
				    "Local client %s is %s (%s), by its kernel "
				    "credentials.", addr, pp->name,
				    auth_role_name(pp->role));
		}
	}
}

int
server_start(struct server *sv, int fd, int local_fd)
{
	sv->listen_io.fd = fd;
	sv->listen_io.cb = on_accept;
	sv->listen_io.arg = sv;
	sv->local_io.fd = local_fd;
	sv->local_io.cb = on_accept;
	sv->local_io.arg = sv;
	sv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (local_fd >= 0 && loop_add(sv->s->loop, &sv->local_io, EPOLLIN) == -1)
		return -1;
	return loop_add(sv->s->loop, &sv->listen_io, EPOLLIN);
}

void
server_stop(struct server *sv)
{
	struct stat st;

	if (sv->listen_io.fd >= 0)
		close(sv->listen_io.fd);
	sv->listen_io.fd = -1;
	if (sv->local_io.fd >= 0) {
		close(sv->local_io.fd);
		/* Ours (we hold the lock), unless something replaced it. */
		if (lstat(sv->local_path, &st) == 0 && S_ISSOCK(st.st_mode))
			(void)unlink(sv->local_path);
	}
	sv->local_io.fd = -1;
	if (sv->spare_fd >= 0)
		close(sv->spare_fd);
	sv->spare_fd = -1;
}
