/*
 * Clients: each connection is plain or TLS (told apart by its first
 * byte), read in large chunks, framed into lines and logged as "User
 * input: ...", or handed to the command module.  Reading stops after a
 * budget per turn so that one flooding client cannot starve the others.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/escape.h"
#include "daemon/session/client.h"
#include "daemon/session/client_int.h"
#include "daemon/session/tls.h"

#define READ_SIZE	(256 * 1024)	/* fewer calls and ACKs under a flood */
#define READS_PER_TURN	2		/* then the next client's turn */
#define TLS_RECORD	0x16	/* first byte of a TLS handshake */

static char rbuf[READ_SIZE];

static void	on_client(struct loop *, struct loop_io *, uint32_t);

/* Not reading C: a check, a delayed reply, or a full terminal. */
static int
paused(const struct client *c)
{
	return c->hold_until != 0 || auth_check_busy(&c->check) ||
	    (c->shell != NULL && c->d->ops->term_held(c));
}

int
client_paused(const struct client *c)
{
	return paused(c);
}

int
client_unproven(const struct client *c)
{
	return c->d->cfg->auth_mode == MODE_REQUIRED && c->role == ROLE_NONE;
}

void
client_update_events(struct client *c)
{
	uint32_t ev = 0;

	if (c->dead)
		return;
	if (!paused(c))
		ev |= EPOLLIN | EPOLLRDHUP;
	if (c->outlen > 0 || c->want_write)
		ev |= EPOLLOUT;
	(void)loop_mod(c->d->loop, &c->io, ev);
}

struct client *
client_new(struct sessions *d, int fd, const char *addr,
    const struct client_peer *peer)
{
	struct client *c;
	char *colon;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->d = d;
	c->io.fd = fd;
	c->io.cb = on_client;
	c->io.arg = c;
	auth_check_init(&c->check);
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	snprintf(c->ip, sizeof(c->ip), "%s", addr);
	if ((colon = strrchr(c->ip, ':')) != NULL)
		*colon = '\0';
	c->state = d->cfg->tls_mode == MODE_OFF ? CLIENT_OPEN : CLIENT_DETECT;
	if (peer != NULL) {
		/* Known by the kernel: no TLS, no password. */
		c->local = 1;
		c->uid = peer->uid;
		c->role = peer->role;
		snprintf(c->user, sizeof(c->user), "%s", peer->name);
		snprintf(c->ip, sizeof(c->ip), "local:uid=%lu",
		    (unsigned long)peer->uid);
		c->state = CLIENT_OPEN;
	}
	framer_init(&c->fr, d->cfg->max_line);
	c->last_active = c->born = loop_now();
	c->since = time(NULL);
	client_net_of(d, addr, &c->net);
	if (loop_add(d->loop, &c->io, EPOLLIN | EPOLLRDHUP) == -1) {
		free(c);
		return NULL;
	}
	c->next = d->clients;
	d->clients = c;
	d->nclients++;
	tintin_log_cat(d->log, TINTIN_INFO, CAT_CONN,
	    "Client connected: %s (%d/%d).", c->addr, d->nclients,
	    d->cfg->max_clients);
	return c;
}

static void
client_release(struct client *c)
{
	struct sessions *d = c->d;

	d->ops->closing(c);
	client_follow(c, FOLLOW_OFF);
	free(c->held_records);
	c->held_records = NULL;
	c->held_len = 0;
	(void)loop_del(d->loop, &c->io);
	if (c->tls != NULL)
		tls_free(c->tls);
	c->tls = NULL;
	close(c->io.fd);
	c->io.fd = -1;
	c->io.cb = NULL;	/* ignore events of this turn */
	c->dead = 1;
	framer_free(&c->fr);
	free(c->stash);
	c->stash = NULL;
	free(c->out);
	c->out = NULL;
	c->outlen = 0;
	d->nclients--;
}

void
client_close(struct client *c, const char *reason)
{
	if (c->dead)
		return;
	if (!c->d->stopping && c->state == CLIENT_OPEN && !paused(c) &&
	    (c->shell == NULL || c->mux) && c->following != FOLLOW_PLAIN)
		client_finish_text(c);
	if (c->dead)
		return;
	if (reason != NULL)
		tintin_log_cat(c->d->log, TINTIN_INFO, CAT_CONN, "Client "
		    "disconnected: %s (%s).", c->addr, reason);
	else
		tintin_log_cat(c->d->log, TINTIN_INFO, CAT_CONN, "Client "
		    "disconnected: %s.", c->addr);
	client_release(c);
}

void
sessions_stop(struct sessions *s)
{
	s->stopping = 1;
	loop_stop(s->loop);
}

void
client_reap(struct sessions *d)
{
	struct client **pp = &d->clients, *c;

	while ((c = *pp) != NULL) {
		/* Between two turns: no event points to a stopped shell. */
		d->ops->release(c);
		if (c->dead) {
			*pp = c->next;
			free(c);
		} else
			pp = &c->next;
	}
}

void
client_close_all(struct sessions *d)
{
	struct client *c;

	for (c = d->clients; c != NULL; c = c->next)
		if (!c->dead)
			client_release(c);
	client_reap(d);
}

static ssize_t
conn_recv(struct client *c, void *buf, size_t n)
{
	if (c->tls != NULL)
		return tls_read(c->tls, buf, n, &c->want_write);
	return recv(c->io.fd, buf, n, 0);
}

/* Plain text to a client that is about to be closed (no TLS). */
static void
say_plain(struct client *c, const char *msg)
{
	(void)send(c->io.fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* First byte: a TLS ClientHello starts TLS, anything else is plain. */
static int
detect(struct client *c)
{
	struct sessions *d = c->d;
	unsigned char b;
	ssize_t n;

	n = recv(c->io.fd, &b, 1, MSG_PEEK);
	if (n == 0) {
		client_close(c, NULL);
		return -1;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return -1;
		client_close(c, strerror(errno));
		return -1;
	}
	if (b == TLS_RECORD) {
		if ((c->tls = tls_new(c->io.fd)) == NULL) {
			client_close(c, "cannot start TLS");
			return -1;
		}
		c->state = CLIENT_HANDSHAKE;
		return 0;
	}
	if (d->cfg->tls_mode == MODE_REQUIRED) {
		c->d->m->refused[METRICS_REFUSED_TLS]++;
		say_plain(c, "-ERR TLS required\n");
		tintin_log_cat(d->log, TINTIN_WARN, CAT_CONN, "Client %s "
		    "refused: TLS required, plain connection.", c->addr);
		client_close(c, "TLS required");
		return -1;
	}
	c->state = CLIENT_OPEN;
	return 0;
}

static int
handshake(struct client *c)
{
	char err[256], desc[128];
	int rc;

	rc = tls_handshake(c->tls, &c->want_write, err, sizeof(err));
	if (rc == 0) {
		client_update_events(c);
		return -1;
	}
	if (rc < 0) {
		tintin_log_cat(c->d->log, TINTIN_WARN, CAT_CONN, "TLS handshake "
		    "with %s failed: %s.", c->addr, err);
		client_close(c, "TLS handshake failed");
		return -1;
	}
	c->state = CLIENT_OPEN;
	tls_describe(c->tls, desc, sizeof(desc));
	tintin_log_cat(c->d->log, TINTIN_INFO, CAT_CONN, "TLS session with "
	    "%s: %s.", c->addr, desc);
	client_update_events(c);
	return 0;
}

/*
 * A command paused the client (a password check, a delayed reply) in the
 * middle of DATA: keep what follows it for client_resume().
 */
static void
stash_from(struct client *c, const char *data, size_t len, size_t used)
{
	size_t rest;
	char *p;

	if (used >= len)
		return;
	rest = len - used;
	if ((p = malloc(rest)) == NULL) {
		client_close(c, "out of memory");
		return;
	}
	memcpy(p, data + used, rest);
	free(c->stash);
	c->stash = p;
	c->stashlen = rest;
}

static void
stash_rest(struct client *c, const char *data, size_t len)
{
	stash_from(c, data, len, c->fr.consumed);
}

/* Frames from multiplexed C; what a pause leaves is kept for later. */
static void
mux_read(struct client *c, const char *data, size_t len)
{
	size_t used;

	used = client_mux_input(c, data, len);
	if (used < len && paused(c) && !c->dead && !c->d->stopping)
		stash_from(c, data, len, used);
}

/* Read and frame; stops after a budget, at a pause, or when drained. */
static void
read_input(struct client *c)
{
	struct sessions *d = c->d;
	ssize_t n;
	int i, rc;

	for (i = 0; i < READS_PER_TURN && !paused(c); i++) {
		n = conn_recv(c, rbuf, sizeof(rbuf));
		if (n > 0) {
			/* Refused lines are no activity: they hold no slot. */
			if (!client_unproven(c))
				c->last_active = loop_now();
			d->m->bytes += (uint64_t)n;
			if (c->shell != NULL && !c->mux) {
				c->d->ops->term_input(c, rbuf, (size_t)n);
				if (c->dead)
					return;
				continue;
			}
			if (c->mux) {
				mux_read(c, rbuf, (size_t)n);
				if (c->dead || d->stopping || paused(c))
					return;
				if ((size_t)n < sizeof(rbuf) && (c->tls ==
				    NULL || tls_pending(c->tls) == 0))
					return;
				continue;
			}
			rc = client_feed_text(c, rbuf, (size_t)n);
			if (rc == 1 && c->mux && !c->dead && !d->stopping) {
				/* Frames right behind the /mux line. */
				mux_read(c, rbuf + c->fr.consumed,
				    (size_t)n - c->fr.consumed);
				if (c->dead || d->stopping || paused(c))
					return;
				continue;
			}
			if (rc == 1 && c->shell != NULL && !c->dead) {
				/* Frames right behind the /shell line. */
				c->d->ops->term_input(c, rbuf + c->fr.consumed,
				    (size_t)n - c->fr.consumed);
				if (c->dead)
					return;
				continue;
			}
			if (rc == -1) {
				client_close(c, "out of memory");
				return;
			}
			if (rc == 1 && paused(c) && !c->dead && !d->stopping)
				stash_rest(c, rbuf, (size_t)n);
			if (rc == 1 || d->stopping || c->dead)
				return;
			/* Drained (TLS: nothing decrypted left either). */
			if ((size_t)n < sizeof(rbuf) && (c->tls == NULL ||
			    tls_pending(c->tls) == 0))
				return;
			continue;
		}
		if (n == 0) {
			client_close(c, NULL);
			return;
		}
		if (errno == EAGAIN || errno == EINTR) {
			if (c->want_write)
				client_update_events(c);
			return;
		}
		client_close(c, strerror(errno));
		return;
	}
}

/* Why the socket failed, for the log. */
static const char *
sock_error(const struct client *c)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(c->io.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err == 0)
		return "connection lost";
	return strerror(err);
}

static void
on_client(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct client *c = io->arg;

	(void)l;
	if ((events & EPOLLOUT) && c->outlen > 0 && client_flush(c) == -1)
		return;
	if (c->want_write && (events & EPOLLOUT)) {
		c->want_write = 0;
		client_update_events(c);
	}
	if (paused(c)) {
		/* Reset: reported whatever is watched, so a session that
		 * waits for its terminal would spin on it. */
		if (c->shell != NULL && (events & (EPOLLERR | EPOLLHUP)))
			client_close(c, sock_error(c));
		return;
	}
	if (c->state == CLIENT_DETECT && detect(c) == -1)
		return;
	if (c->state == CLIENT_HANDSHAKE && handshake(c) == -1)
		return;
	read_input(c);
}

void
client_hold(struct client *c, unsigned seconds)
{
	c->hold_until = loop_now() + (time_t)seconds;
	client_update_events(c);
}

void
client_pause(struct client *c)
{
	client_update_events(c);
}

void
client_resume(struct client *c)
{
	char *data;
	size_t len;
	int rc;

	client_update_events(c);
	if (c->dead || paused(c))
		return;
	if (c->stash != NULL) {
		/* Lines that arrived in the same read as the command. */
		data = c->stash;
		len = c->stashlen;
		c->stash = NULL;
		c->stashlen = 0;
		rc = c->mux ? 0 : client_feed_text(c, data, len);
		if (c->mux && rc == 0)
			mux_read(c, data, len);
		else if (rc == 1 && c->mux && !c->dead && !c->d->stopping)
			/* Frames right behind the /mux line. */
			mux_read(c, data + c->fr.consumed,
			    len - c->fr.consumed);
		else if (rc == -1)
			client_close(c, "out of memory");
		else if (rc == 1 && c->shell != NULL && !c->dead)
			/* Frames right behind the /shell line. */
			c->d->ops->term_input(c, data + c->fr.consumed,
			    len - c->fr.consumed);
		else if (rc == 1 && paused(c) && !c->dead && !c->d->stopping)
			stash_rest(c, data, len);
		free(data);
		if (c->dead || paused(c) || c->d->stopping)
			return;
	}
	/* Bytes TLS decrypted before the pause: no event would tell. */
	if (c->tls != NULL && c->state == CLIENT_OPEN &&
	    tls_pending(c->tls) > 0)
		read_input(c);
}

/* Say MSG to C (a line, then C is closed). */
static void
say(struct client *c, const char *msg)
{
	if (c->tls == NULL && !c->mux)
		say_plain(c, msg);
	else
		client_reply(c, msg);
}

/*
 * Has C's TLS handshake taken more than [tls] handshake_timeout?  With
 * TLS required, a client that has sent nothing yet is waited for as long.
 * A plain client of optional TLS is never: it may wait before its first
 * line, as under the subject.
 */
static int
tls_stalled(const struct client *c, time_t now)
{
	unsigned limit = c->d->cfg->tls_handshake_timeout;

	if (limit == 0 || !(c->state == CLIENT_HANDSHAKE || (c->state ==
	    CLIENT_DETECT && c->d->cfg->tls_mode == MODE_REQUIRED)))
		return 0;
	return now - c->born > (time_t)limit;	/* whole seconds */
}

void
client_tick(struct sessions *d)
{
	struct client *c;
	time_t now = loop_now();
	unsigned grace = d->cfg->auth_login_grace;
	char why[64];

	for (c = d->clients; c != NULL; c = c->next) {
		if (c->dead)
			continue;
		if (tls_stalled(c, now)) {
			snprintf(why, sizeof(why), "TLS handshake not done "
			    "within %us", d->cfg->tls_handshake_timeout);
			client_close(c, why);
			continue;
		}
		if (c->hold_until != 0 && now >= c->hold_until) {
			c->hold_until = 0;
			d->ops->due(c);
			continue;
		}
		if (client_unproven(c) && grace > 0 && !c->attempting &&
		    now - c->born > (time_t)grace) {	/* whole seconds */
			say(c, "-ERR login timeout\n");
			snprintf(why, sizeof(why), "not logged in within %us",
			    grace);
			client_close(c, why);
			continue;
		}
		/* whole seconds: "<=" so that a client is never dropped
		 * before it has really been idle that long */
		if (d->cfg->idle_timeout == 0 || paused(c) ||
		    c->shell != NULL || c->following ||
		    now - c->last_active <= (time_t)d->cfg->idle_timeout)
			continue;
		say(c, "-ERR idle timeout\n");
		snprintf(why, sizeof(why), "idle for %us",
		    d->cfg->idle_timeout);
		client_close(c, why);
	}
}
