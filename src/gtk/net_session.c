/* Ben_AFK-gtk: a session's start, in its worker thread: connect, TLS and
 * the server's pinned fingerprint, login, then the role's first command
 * (/whoami, /follow or /shell) and its reply. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "gtk/net.h"
#include "gtk/net_int.h"

static int
check_host(struct net *n)
{
	char path[4096], key[512], fp[AFK_FPLEN], old[AFK_FPLEN] = "";
	const char *file = n->p.known_hosts;
	struct net_event *ev;
	char *msg;
	int lineno = 0;

	if (tls_fingerprint(n->c.tls, fp) == -1)
		return net_fail(n, "the server sent no certificate");
	if (file == NULL) {
		if (known_hosts_default(path, sizeof(path), "known_hosts") ==
		    -1)
			return net_fail(n, "no HOME for the known hosts file (use "
			    "--known-hosts)");
		file = path;
	}
	if (known_hosts_key(key, sizeof(key), n->p.host, n->p.port) == -1)
		return net_fail(n, "host name too long");
	switch (known_hosts_check(file, key, fp, old, &lineno)) {
	case KNOWN_HOSTS_MATCH:
		return 0;
	case KNOWN_HOSTS_ERROR:
		msg = g_strdup_printf("%s: %s", file, strerror(errno));
		net_fail(n, msg);
		g_free(msg);
		return -1;
	case KNOWN_HOSTS_CHANGED:
		msg = g_strdup_printf("WARNING: THE SERVER'S IDENTITY HAS "
		    "CHANGED!\nThe fingerprint pinned for %s is\n%s\nbut the "
		    "server now presents\n%s\nSomeone could be eavesdropping "
		    "on you (man-in-the-middle attack), or the daemon's "
		    "certificate was replaced.  Check the new one on the server "
		    "with 'Matt_daemon --fingerprint'; if it is right, remove "
		    "line %d of %s and connect again.\nConnection refused: "
		    "nothing was sent.", key, old, fp, lineno, file);
		net_post(n, NET_EV_CHANGED_HOST, msg);
		g_free(msg);
		return -1;
	case KNOWN_HOSTS_UNKNOWN:
		break;
	}
	ev = net_event_new(n, NET_EV_UNKNOWN_HOST, fp);
	ev->key = g_strdup(key);
	ev->file = g_strdup(file);
	net_event_post(ev);
	return -1;
}

static int
login(struct net *n)
{
	char reply[AFK_LINE_MAX];
	enum proto_reply kind;

	if (n->p.user == NULL || *n->p.user == '\0')
		return 0;
	if (n->p.keyfile == NULL && !n->p.tls && !n->p.plaintext)
		return net_fail(n, "refusing to send a password over a plain "
		    "connection: turn TLS on");
	if (n->p.keyfile == NULL && n->p.password == NULL)
		return net_fail(n, "a password is needed to log in");
	kind = proto_auth(&n->c, n->p.user, n->p.keyfile ? NULL :
	    n->p.password, reply, sizeof(reply), n->p.timeout_ms);
	if (kind == PROTO_NONE)
		return net_fail(n, n->c.err);
	if (kind != PROTO_OK)
		return net_fail(n, reply);
	return 0;
}

/* The local port of the socket, which the daemon's records name. */
static int
local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

/* Read one reply line (skipping anything else): its kind, or -1 once
 * the failure is posted. */
static int
read_reply(struct net *n, char *line, size_t size)
{
	enum proto_reply kind;
	int rc;

	do {
		rc = conn_read_line(&n->c, line, size, n->p.timeout_ms);
		if (rc == 0)
			return net_fail(n, "no answer from the daemon");
		if (rc == -1)
			return net_fail(n, n->c.err);
	} while ((kind = proto_classify(line)) == PROTO_NONE);
	return (int)kind;
}

/* NET_FOLLOW: the last records first (/tail), posted as history lines. */
static int
tail_first(struct net *n)
{
	char line[AFK_LINE_MAX];
	struct net_event *ev;
	int kind, count = 0, rc;

	snprintf(line, sizeof(line), "/tail %d", n->p.tail);
	if (proto_send(&n->c, line, n->p.timeout_ms) == -1)
		return net_fail(n, n->c.err);
	if ((kind = read_reply(n, line, sizeof(line))) == -1)
		return -1;
	if (kind != PROTO_OK)
		return net_fail(n, line);
	if (sscanf(line, "+OK %d", &count) != 1)
		count = 0;
	for (; count > 0; count--) {
		rc = conn_read_line(&n->c, line, sizeof(line),
		    n->p.timeout_ms);
		if (rc <= 0)
			return net_fail(n, rc == 0 ? "no answer from the daemon"
			    : n->c.err);
		ev = net_event_new(n, NET_EV_LINE, line);
		ev->data_line = 1;
		net_event_post(ev);
	}
	return 0;
}

/*
 * NET_COMMAND: one connection for everything (docs/PROTOCOL.md, 7.1);
 * the live log and the terminal then go through it.  0 (n->mux says if
 * the daemon agreed), or -1 once the failure is posted.
 */
static int
mux(struct net *n)
{
	char line[AFK_LINE_MAX];
	int kind;

	if (proto_send(&n->c, "/mux", n->p.timeout_ms) == -1)
		return net_fail(n, n->c.err);
	if ((kind = read_reply(n, line, sizeof(line))) == -1)
		return -1;
	if (kind == PROTO_OK)
		g_atomic_int_set(&n->mux, 1);
	return 0;
}

/* Send the role's first command and wait for its reply. */
static int
first_reply(struct net *n)
{
	char line[AFK_LINE_MAX];
	struct net_event *ev;
	int kind;

	if (n->role == NET_FOLLOW && n->p.tail > 0 && tail_first(n) == -1)
		return -1;
	if (n->role == NET_COMMAND)
		snprintf(line, sizeof(line), "/whoami");
	else if (n->role == NET_FOLLOW)
		snprintf(line, sizeof(line), "/follow");
	else
		snprintf(line, sizeof(line), "/shell xterm-256color %d %d",
		    n->p.rows > 0 ? n->p.rows : 24,
		    n->p.cols > 0 ? n->p.cols : 80);
	if (proto_send(&n->c, line, n->p.timeout_ms) == -1)
		return net_fail(n, n->c.err);
	if ((kind = read_reply(n, line, sizeof(line))) == -1)
		return -1;
	if (kind != PROTO_OK)
		return net_fail(n, line);
	if (n->role == NET_COMMAND && mux(n) == -1)
		return -1;
	ev = net_event_new(n, NET_EV_READY, line);
	ev->tls = g_strdup(n->c.tls ? tls_version(n->c.tls) : NULL);
	ev->status = local_port(n->c.fd);
	net_event_post(ev);
	return 0;
}

int
net_session_open(struct net *n)
{
	struct conn *c = &n->c;

	/* A host that is a path: the daemon's local socket, never TLS. */
	if ((n->p.host[0] == '/' ? conn_open_local(c, n->p.host,
	    n->p.timeout_ms) : conn_open(c, n->p.host, n->p.port,
	    n->p.timeout_ms)) == -1)
		return net_fail(n, c->err);
	if (n->p.tls && !c->local) {
		if (conn_start_tls(c, n->p.host, n->p.keyfile,
		    n->p.timeout_ms) == -1)
			return net_fail(n, c->err);
		if (check_host(n) == -1)
			return -1;
	}
	if (g_atomic_int_get(&n->stopped) || login(n) == -1)
		return -1;
	if (g_atomic_int_get(&n->stopped))
		return -1;
	return first_reply(n);
}
