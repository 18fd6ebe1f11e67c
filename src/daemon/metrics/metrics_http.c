/*
 * The metrics listener: GET /metrics over HTTP/1.x for Prometheus, and
 * nothing else.  A connection is read until the end of its headers (4 KiB
 * at most), answered once, then closed; anything else is a 4xx.  Memory
 * stays bounded: a few connections at once, each with its request and one
 * response, closed after a timeout whether the scraper reads or not.
 * Scrapers are no clients: they never take one of max_clients' slots.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/metrics/metrics_http.h"

#define BODY_MAX	(64 * 1024)	/* the rendered metrics, at most */
#define HEAD_MAX	256		/* status line and headers */
#define ACCEPT_BATCH	16
#define CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

struct scrape {
	struct loop_io	 io;
	struct metrics_http *h;
	char		 req[METRICS_HTTP_REQ_MAX];
	size_t		 reqlen;
	char		*out;		/* the response, once the request is */
	size_t		 outlen;
	size_t		 sent;
	time_t		 born;		/* monotonic */
	int		 dead;		/* closed: freed before sleeping */
	struct scrape	*next;
};

struct metrics_http {
	struct loop	*loop;
	struct loop_io	 listen_io;
	int		 paused;	/* out of descriptors: not accepting */
	const struct metrics *m;
	struct scrape	*conns;
	int		 nconns;	/* alive */
};

static void	on_scrape(struct loop *, struct loop_io *, uint32_t);

static void
scrape_close(struct scrape *s)
{
	char junk[512];
	int i;

	if (s->dead)
		return;
	(void)loop_del(s->h->loop, &s->io);
	/* What the peer sent beyond its request: read, so no reset. */
	(void)shutdown(s->io.fd, SHUT_WR);
	for (i = 0; i < 4 && recv(s->io.fd, junk, sizeof(junk),
	    MSG_DONTWAIT) > 0; i++)
		;
	close(s->io.fd);
	s->io.fd = -1;
	s->dead = 1;
	s->h->nconns--;
}

/* Send what the socket takes; closed once all of it is sent. */
static void
scrape_flush(struct scrape *s)
{
	ssize_t n;

	while (s->sent < s->outlen) {
		n = send(s->io.fd, s->out + s->sent, s->outlen - s->sent,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			s->sent += (size_t)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (loop_mod(s->h->loop, &s->io, EPOLLOUT) == -1)
				break;
			return;
		}
		break;
	}
	scrape_close(s);
}

/* Queue the response STATUS (REASON) with BODY of LEN bytes, then send. */
static void
respond(struct scrape *s, int status, const char *reason,
    const char *type, const char *body, size_t len)
{
	char head[HEAD_MAX];
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: "
	    "%s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
	    status, reason, type, len, status == 405 ? "Allow: GET\r\n" : "");
	if ((s->out = malloc((size_t)n + len)) == NULL) {
		scrape_close(s);
		return;
	}
	memcpy(s->out, head, (size_t)n);
	memcpy(s->out + n, body, len);
	s->outlen = (size_t)n + len;
	scrape_flush(s);
}

static void
respond_error(struct scrape *s, int status, const char *reason)
{
	char body[64];
	int n;

	n = snprintf(body, sizeof(body), "%s\n", reason);
	respond(s, status, reason, "text/plain; charset=utf-8", body,
	    (size_t)n);
}

/*
 * The request line of S's complete request: "GET /metrics HTTP/1.x" is
 * answered with the metrics, anything else with a 4xx.
 */
static void
answer(struct scrape *s)
{
	static char body[BODY_MAX];
	char *sp1, *sp2, *end;
	size_t tlen;
	int len;

	end = memchr(s->req, '\n', s->reqlen);
	if (end > s->req && end[-1] == '\r')
		end--;
	*end = '\0';
	if ((sp1 = strchr(s->req, ' ')) == NULL ||
	    (sp2 = strchr(sp1 + 1, ' ')) == NULL || strchr(sp2 + 1, ' ') ||
	    (strcmp(sp2 + 1, "HTTP/1.1") != 0 &&
	    strcmp(sp2 + 1, "HTTP/1.0") != 0)) {
		respond_error(s, 400, "Bad Request");
		return;
	}
	if ((size_t)(sp1 - s->req) != 3 || memcmp(s->req, "GET", 3) != 0) {
		respond_error(s, 405, "Method Not Allowed");
		return;
	}
	tlen = (size_t)(sp2 - sp1 - 1);
	if (tlen < 8 || memcmp(sp1 + 1, "/metrics", 8) != 0 ||
	    (tlen > 8 && sp1[9] != '?')) {
		respond_error(s, 404, "Not Found");
		return;
	}
	if ((len = metrics_render(s->h->m, METRICS_PROMETHEUS, body,
	    sizeof(body), NULL)) < 0) {
		respond_error(s, 500, "Internal Server Error");
		return;
	}
	respond(s, 200, "OK", CONTENT_TYPE, body, (size_t)len);
}

/* The end of the request's headers: an empty line. */
static int
request_complete(const struct scrape *s)
{
	return memmem(s->req, s->reqlen, "\r\n\r\n", 4) != NULL ||
	    memmem(s->req, s->reqlen, "\n\n", 2) != NULL;
}

static void
scrape_read(struct scrape *s)
{
	ssize_t n;

	for (;;) {
		if (s->reqlen == sizeof(s->req)) {
			respond_error(s, 431, "Request Header Fields Too "
			    "Large");
			return;
		}
		n = recv(s->io.fd, s->req + s->reqlen,
		    sizeof(s->req) - s->reqlen, MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			scrape_close(s);
			return;
		}
		s->reqlen += (size_t)n;
		if (memchr(s->req, '\0', s->reqlen) != NULL) {
			respond_error(s, 400, "Bad Request");
			return;
		}
		if (request_complete(s)) {
			answer(s);
			return;
		}
	}
}

static void
on_scrape(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct scrape *s = io->arg;

	(void)l;
	if (s->dead)
		return;
	if (s->out != NULL) {
		if (events & (EPOLLERR | EPOLLHUP))
			scrape_close(s);
		else
			scrape_flush(s);
		return;
	}
	scrape_read(s);
}

/* Every slot taken: a short 503 without reading, then closed. */
static void
turn_away(int fd)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n";

	(void)send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)shutdown(fd, SHUT_WR);
	close(fd);
}

static void
on_accept(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct metrics_http *h = io->arg;
	struct scrape *s;
	int fd, i;

	(void)events;
	for (i = 0; i < ACCEPT_BATCH; i++) {
		fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1 && (errno == EMFILE || errno == ENFILE) &&
		    loop_del(l, io) == 0)
			h->paused = 1;	/* until the next tick */
		if (fd == -1)
			return;
		if (h->nconns >= METRICS_HTTP_MAX_CONNS ||
		    (s = calloc(1, sizeof(*s))) == NULL) {
			turn_away(fd);
			continue;
		}
		s->io.fd = fd;
		s->io.cb = on_scrape;
		s->io.arg = s;
		s->h = h;
		s->born = loop_now();
		if (loop_add(l, &s->io, EPOLLIN) == -1) {
			close(fd);
			free(s);
			continue;
		}
		s->next = h->conns;
		h->conns = s;
		h->nconns++;
	}
}

struct metrics_http *
metrics_http_start(struct loop *l, int fd, const struct metrics *m)
{
	struct metrics_http *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->loop = l;
	h->m = m;
	h->listen_io.fd = fd;
	h->listen_io.cb = on_accept;
	h->listen_io.arg = h;
	if (loop_add(l, &h->listen_io, EPOLLIN) == -1) {
		free(h);
		return NULL;
	}
	return h;
}

void
metrics_http_tick(struct metrics_http *h)
{
	struct scrape *s;
	time_t now = loop_now();

	if (h == NULL)
		return;
	for (s = h->conns; s != NULL; s = s->next)
		if (!s->dead && now - s->born >= METRICS_HTTP_TIMEOUT)
			scrape_close(s);
	if (h->paused && loop_add(h->loop, &h->listen_io, EPOLLIN) == 0)
		h->paused = 0;
}

void
metrics_http_reap(struct metrics_http *h)
{
	struct scrape **pp, *s;

	if (h == NULL)
		return;
	for (pp = &h->conns; (s = *pp) != NULL;) {
		if (!s->dead) {
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		free(s->out);
		free(s);
	}
}

void
metrics_http_stop(struct metrics_http *h)
{
	struct scrape *s;

	if (h == NULL)
		return;
	for (s = h->conns; s != NULL; s = s->next)
		scrape_close(s);
	metrics_http_reap(h);
	if (!h->paused)
		(void)loop_del(h->loop, &h->listen_io);
	close(h->listen_io.fd);
	free(h);
}
