/* Pipe mode: every line of stdin goes to the daemon, then a /ping whose
 * "+OK pong" proves that the daemon has logged all of them. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client/cli.h"
#include "client/pretty.h"

#define BATCH_BUF	65536
#define GO_ON		(-1)	/* no exit status yet: keep going */

struct batch {
	char		 in[BATCH_BUF];
	size_t		 len, off;	/* bytes read from stdin, sent */
	int		 stdin_open;
	int		 tail_sent;	/* the final /ping is queued */
	int		 last_nl;	/* last stdin byte was \n */
	int		 sent_any;
	char		 cur[8];	/* start of the current line */
	size_t		 curlen;
	unsigned long	 pings;		/* "/ping" lines, ours included */
	unsigned long	 pongs;
	int		 quit;		/* a "quit" line went out */
	int		 color;		/* colour records (--color) */
};

/* Note the lines that get special answers: /ping (a pong each) and quit
 * (no answer, the daemon stops). */
static void
scan_line_end(struct batch *b)
{
	size_t n = b->curlen;

	if (n > 0 && n <= sizeof(b->cur) && b->cur[n - 1] == '\r')
		n--;
	if (n == 5 && memcmp(b->cur, "/ping", 5) == 0)
		b->pings++;
	if (n == 4 && memcmp(b->cur, "quit", 4) == 0)
		b->quit = 1;
	b->curlen = 0;
}

static void
scan(struct batch *b, const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\n')
			scan_line_end(b);
		else if (b->curlen < sizeof(b->cur))
			b->cur[b->curlen++] = p[i];
		else
			b->curlen = sizeof(b->cur) + 1;
	}
}

/* Stdin is done: queue the end of the last line and our /ping. */
static void
queue_tail(struct batch *b)
{
	b->len = b->off = 0;
	if (b->sent_any && !b->last_nl) {
		b->in[b->len++] = '\n';
		scan_line_end(b);
	}
	memcpy(b->in + b->len, "/ping\n", 6);
	b->len += 6;
	b->pings++;
	b->tail_sent = 1;
}

static int
read_stdin(struct batch *b)
{
	ssize_t n;

	n = read(STDIN_FILENO, b->in, sizeof(b->in));
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n == -1) {
		fprintf(stderr, "Ben_AFK: stdin: %s\n", strerror(errno));
		return -1;
	}
	if (n == 0) {
		b->stdin_open = 0;
		queue_tail(b);
		return 0;
	}
	b->len = (size_t)n;
	b->off = 0;
	b->sent_any = 1;
	b->last_nl = b->in[n - 1] == '\n';
	scan(b, b->in, b->len);
	return 0;
}

/*
 * Handle the replies buffered in C: 1 all done, 0 go on, or an exit
 * status + 2 (so that 0 and 1 stay free) on an -ERR.
 */
static int
replies(struct conn *c, struct batch *b)
{
	char line[AFK_LINE_MAX];
	enum proto_reply kind;
	const char *sgr;

	while (conn_line(c, line, sizeof(line))) {
		kind = proto_classify(line);
		if (kind == PROTO_OK && strcmp(line, "+OK pong") == 0) {
			b->pongs++;
			/* Pongs come in order: the last one is ours. */
			if (b->tail_sent && b->off == b->len &&
			    b->pongs == b->pings)
				return 1;
		}
		if (kind != PROTO_OK && kind != PROTO_NONE) {
			cli_report(line, kind);
			return proto_exit_status(kind) + 2;
		}
		if (b->color && (sgr = pretty_color(line)) != NULL)
			printf("\033[%sm%s\033[0m\n", sgr, line);
		else
			printf("%s\n", line);
	}
	fflush(stdout);
	return 0;
}

/* The daemon is gone or a write failed: read what it said last. */
static int
lost(struct conn *c, struct batch *b)
{
	char err[AFK_ERRLEN];
	int rc;

	snprintf(err, sizeof(err), "%s", c->err);
	while (!c->eof && conn_fill(c) > 0)
		;
	c->eof = 1;
	rc = replies(c, b);
	if (rc == 1)
		return AFK_EXIT_OK;
	if (rc > 1)
		return rc - 2;
	if (b->quit)
		return AFK_EXIT_OK;	/* quit stopped the daemon */
	if (strcmp(err, "connection closed by the daemon") == 0)
		fprintf(stderr, "Ben_AFK: the daemon closed the connection "
		    "before confirming every line\n");
	else
		fprintf(stderr, "Ben_AFK: %s\n", err);
	return AFK_EXIT_ERROR;
}

/* The replies buffered in C as an exit status, or GO_ON. */
static int
reply_status(struct conn *c, struct batch *b)
{
	int rc = replies(c, b);

	if (rc == 1)
		return AFK_EXIT_OK;
	if (rc > 1)
		return rc - 2;
	return GO_ON;
}

/* TLS may hold decrypted bytes that poll cannot see: an exit status, or
 * GO_ON. */
static int
drain(struct conn *c, struct batch *b)
{
	int rc;

	while (conn_pending(c) || c->len > 0) {
		if (conn_pending(c) && conn_fill(c) == -1)
			return lost(c, b);
		if ((rc = reply_status(c, b)) != GO_ON)
			return rc;
		if (!conn_pending(c))
			break;
	}
	return GO_ON;
}

/* Wait for stdin or the daemon: 1 ready, 0 interrupted, -1 failed (and
 * said so). */
static int
wait_io(struct conn *c, struct batch *b, const struct cli *o,
    struct pollfd pfd[2])
{
	int n, timeout;

	pfd[0].fd = b->off == b->len && b->stdin_open ? STDIN_FILENO : -1;
	pfd[0].events = POLLIN;
	pfd[1].fd = c->fd;
	pfd[1].events = POLLIN | (b->off < b->len ? conn_events(c) : 0);
	/* Waiting for stdin may take forever (tail -f); waiting for
	 * the daemon may not. */
	timeout = pfd[0].fd == -1 && b->off == b->len ? o->a.timeout_ms : -1;
	n = poll(pfd, 2, timeout);
	if (n == -1 && errno == EINTR)
		return 0;
	if (n == -1) {
		fprintf(stderr, "Ben_AFK: poll: %s\n", strerror(errno));
		return -1;
	}
	if (n == 0) {
		fprintf(stderr, "Ben_AFK: no answer from the daemon "
		    "within %d s\n", o->a.timeout_ms / 1000);
		return -1;
	}
	return 1;
}

/* Read the daemon, write to it, then read stdin: an exit status, or
 * GO_ON. */
static int
do_io(struct conn *c, struct batch *b, const struct pollfd pfd[2])
{
	ssize_t n;
	int rc;

	if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
		if (conn_fill(c) == -1)
			return lost(c, b);
		if ((rc = reply_status(c, b)) != GO_ON)
			return rc;
	}
	if (b->off < b->len && (pfd[1].revents & (POLLOUT | POLLIN))) {
		n = conn_write_some(c, b->in + b->off, b->len - b->off);
		if (n == -1)
			return lost(c, b);
		if (n > 0)
			b->off += (size_t)n;
	}
	if (pfd[0].revents && read_stdin(b) == -1)
		return AFK_EXIT_ERROR;
	return GO_ON;
}

int
batch_run(struct conn *c, const struct cli *o)
{
	static struct batch b;
	struct pollfd pfd[2];
	int rc;

	memset(&b, 0, sizeof(b));
	b.color = o->color;
	b.stdin_open = 1;
	b.last_nl = 1;
	if (o->command != NULL) {
		/* -c LINE: as if stdin held that one line. */
		b.len = strlen(o->command);
		if (b.len > AFK_LINE_MAX || memchr(o->command, '\n', b.len)) {
			fprintf(stderr, "Ben_AFK: -c: one line of at most %d "
			    "bytes\n", AFK_LINE_MAX);
			return AFK_EXIT_USAGE;
		}
		memcpy(b.in, o->command, b.len);
		b.in[b.len++] = '\n';
		scan(&b, b.in, b.len);
		memcpy(b.in + b.len, "/ping\n", 6);
		b.len += 6;
		b.pings++;
		b.tail_sent = 1;
		b.stdin_open = 0;
		b.sent_any = 1;
	}
	for (;;) {
		if ((rc = drain(c, &b)) != GO_ON)
			return rc;
		rc = wait_io(c, &b, o, pfd);
		if (rc == -1)
			return AFK_EXIT_ERROR;
		if (rc == 0)
			continue;
		if ((rc = do_io(c, &b, pfd)) != GO_ON)
			return rc;
	}
}
