/*
 * Clients: each connected socket is read in large chunks, framed into
 * lines and logged as "User input: ...".  Reading stops after a budget per
 * turn so that one flooding client cannot starve the others.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/escape.h"
#include "daemon/client.h"
#include "daemon/command.h"
#include "daemon/daemon.h"

#define READ_SIZE	(64 * 1024)
#define READS_PER_TURN	8
#define OUT_MAX		(16 * 1024)

static char rbuf[READ_SIZE];

static void	on_client(struct loop *, struct loop_io *, uint32_t);

static time_t
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

/* Build "User input...: <escaped>" in the scratch buffer and log it. */
static int
on_record(void *arg, const char *data, size_t len, int kind, unsigned part)
{
	struct client *c = arg;
	struct daemon *d = c->d;
	char *p = d->scratch;
	int n;

	if (kind == FRAMER_LINE && len == 4 && memcmp(data, "quit", 4) == 0) {
		tintin_log(d->log, TINTIN_INFO, "Request quit.");
		daemon_stop(d, 0);
		return 1;
	}
	if (kind == FRAMER_LINE && len > 0 && data[0] == '/' &&
	    command_run(c, data, len))
		return c->dead || d->stopping;
	d->lines++;
	if (!tintin_wants(d->log, TINTIN_LOG))
		return 0;
	if (kind == FRAMER_LINE) {
		memcpy(p, "User input: ", 12);
		p += 12;
	} else {
		n = snprintf(p, 64, "User input [part %u, %s]: ", part,
		    kind == FRAMER_PART ? "continues" : "end");
		p += n;
	}
	p += escape_bytes(p, data, len);
	tintin_log_msg_cat(d->log, TINTIN_LOG, CAT_INPUT, d->scratch,
	    (size_t)(p - d->scratch));
	return 0;
}

struct client *
client_new(struct daemon *d, int fd, const char *addr)
{
	struct client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->d = d;
	c->io.fd = fd;
	c->io.cb = on_client;
	c->io.arg = c;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	framer_init(&c->fr, d->cfg->max_line);
	c->last_active = mono_now();
	if (loop_add(&d->loop, &c->io, EPOLLIN | EPOLLRDHUP) == -1) {
		free(c);
		return NULL;
	}
	c->next = d->clients;
	d->clients = c;
	d->nclients++;
	tintin_log_cat(d->log, TINTIN_INFO, CAT_CONN,
	    "Client connected: %s (%d/%d).",
	    c->addr, d->nclients, d->cfg->max_clients);
	return c;
}

static void
client_release(struct client *c)
{
	struct daemon *d = c->d;

	(void)loop_del(&d->loop, &c->io);
	close(c->io.fd);
	c->io.fd = -1;
	c->io.cb = NULL;	/* ignore events of this turn */
	c->dead = 1;
	framer_free(&c->fr);
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
	if (!c->d->stopping)
		(void)framer_finish(&c->fr, on_record, c);
	if (reason != NULL)
		tintin_log_cat(c->d->log, TINTIN_INFO, CAT_CONN, "Client "
		    "disconnected: %s (%s).", c->addr, reason);
	else
		tintin_log_cat(c->d->log, TINTIN_INFO, CAT_CONN, "Client "
		    "disconnected: %s.", c->addr);
	client_release(c);
}

void
client_reap(struct daemon *d)
{
	struct client **pp = &d->clients, *c;

	while ((c = *pp) != NULL) {
		if (c->dead) {
			*pp = c->next;
			free(c);
		} else
			pp = &c->next;
	}
}

void
client_close_all(struct daemon *d)
{
	struct client *c;

	for (c = d->clients; c != NULL; c = c->next)
		if (!c->dead)
			client_release(c);
	client_reap(d);
}

/* Send what waits in the reply buffer; 0, or -1 if the client is gone. */
static int
flush_out(struct client *c)
{
	ssize_t n;

	while (c->outlen > 0) {
		n = send(c->io.fd, c->out, c->outlen, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			client_close(c, strerror(errno));
			return -1;
		}
		memmove(c->out, c->out + n, c->outlen - (size_t)n);
		c->outlen -= (size_t)n;
	}
	(void)loop_mod(&c->d->loop, &c->io, EPOLLIN | EPOLLRDHUP |
	    (c->outlen > 0 ? EPOLLOUT : 0));
	return 0;
}

int
client_reply(struct client *c, const char *msg)
{
	size_t len = strlen(msg);

	if (c->dead)
		return -1;
	if (c->outlen + len > OUT_MAX) {
		client_close(c, "not reading its replies");
		return -1;
	}
	if (c->out == NULL && (c->out = malloc(OUT_MAX)) == NULL) {
		client_close(c, "out of memory");
		return -1;
	}
	memcpy(c->out + c->outlen, msg, len);
	c->outlen += len;
	return flush_out(c);
}

static void
on_client(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct client *c = io->arg;
	struct daemon *d = c->d;
	ssize_t n;
	int i, rc;

	(void)l;
	if ((events & EPOLLOUT) && flush_out(c) == -1)
		return;
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	for (i = 0; i < READS_PER_TURN; i++) {
		n = recv(io->fd, rbuf, sizeof(rbuf), 0);
		if (n > 0) {
			c->last_active = mono_now();
			d->bytes += (uint64_t)n;
			rc = framer_feed(&c->fr, rbuf, (size_t)n, on_record, c);
			if (rc == -1) {
				client_close(c, "out of memory");
				return;
			}
			if (rc == 1 || d->stopping || c->dead)
				return;
			if ((size_t)n < sizeof(rbuf))
				return;	/* drained: spare a recv call */
			continue;
		}
		if (n == 0) {
			client_close(c, NULL);
			return;
		}
		if (errno == EAGAIN || errno == EINTR)
			return;
		client_close(c, strerror(errno));
		return;
	}
}

void
client_check_idle(struct daemon *d)
{
	static const char msg[] = "-ERR idle timeout\n";
	struct client *c;
	time_t now = mono_now();
	char why[64];

	if (d->cfg->idle_timeout == 0)
		return;
	for (c = d->clients; c != NULL; c = c->next) {
		if (c->dead ||
		    now - c->last_active < (time_t)d->cfg->idle_timeout)
			continue;
		(void)send(c->io.fd, msg, sizeof(msg) - 1,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		snprintf(why, sizeof(why), "idle for %us",
		    d->cfg->idle_timeout);
		client_close(c, why);
	}
}
