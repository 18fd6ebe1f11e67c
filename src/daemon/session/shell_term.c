/*
 * A shell's terminal: its bytes both ways between the pty master and the
 * client, as frames (docs/PROTOCOL.md, section 7), with backpressure each
 * way and nothing dropped; then the status, once the last output is out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "common/frames.h"
#include "daemon/session/client.h"
#include "daemon/session/shell.h"
#include "daemon/session/shell_int.h"

static void
send_frame(struct client *c, char type, const void *data, size_t len)
{
	unsigned char hdr[3];

	hdr[0] = (unsigned char)type;
	hdr[1] = (unsigned char)(len >> 8);
	hdr[2] = (unsigned char)len;
	client_send_raw(c, hdr, 3, data, len);
}

/*
 * Watch the master for what is wanted now: output while the client has
 * room, room while input waits.  Out of the epoll set rather than for
 * nothing: a hung-up master reports EPOLLHUP whatever it is watched for.
 */
static void
watch(struct client *c)
{
	struct shell *sh = c->shell;
	uint32_t ev;
	int rc;

	if (sh->io.fd < 0 || sh->hup)
		return;
	sh->writing = sh->pendlen > 0;
	ev = (sh->reading ? EPOLLIN : 0) | (sh->writing ? EPOLLOUT : 0);
	if (ev == 0) {
		if (!sh->unwatched && loop_del(c->d->loop, &sh->io) == 0)
			sh->unwatched = 1;
		return;
	}
	rc = sh->unwatched ? loop_add(c->d->loop, &sh->io, ev) :
	    loop_mod(c->d->loop, &sh->io, ev);
	if (rc == 0)
		sh->unwatched = 0;
}

/* Input nobody will read: dropped, and the client may send again. */
static void
drop_input(struct client *c)
{
	struct shell *sh = c->shell;

	if (sh->pendlen == 0)
		return;
	free(sh->pend);
	sh->pend = NULL;
	sh->pendoff = sh->pendlen = 0;
	client_resume(c);
}

/*
 * No more terminal I/O: every slave is closed, or the status is sent (no
 * 'd' frame may follow it).  Input still waiting is dropped.
 */
static void
hang_up(struct client *c)
{
	struct shell *sh = c->shell;

	if (!sh->unwatched)
		(void)loop_del(c->d->loop, &sh->io);
	sh->unwatched = 1;
	sh->hup = 1;
	sh->reading = 0;
	sh->writing = 0;
	drop_input(c);
}

/*
 * Terminal output to the client while it has room for a frame; then the
 * master is not read until the client drains (shell_drained()).  Returns
 * 1 once the terminal has nothing more for now, else 0.
 */
static int
read_output(struct client *c)
{
	struct shell *sh = c->shell;
	char buf[FRAME_MAX];
	ssize_t n;
	int i;

	if (sh->hup)
		return 1;
	for (i = 0; i < 16; i++) {
		if (client_room(c) < sizeof(buf) + 3 + RECORDS_ROOM(c)) {
			/* The client lags: stop reading until it drains. */
			sh->reading = 0;
			watch(c);
			return 0;
		}
		if (sh->exited && sh->tail >= TAIL_MAX)
			return 1;	/* a job writes on: enough */
		n = read(sh->io.fd, buf, sizeof(buf));
		if (n > 0) {
			sh->tail += sh->exited ? (size_t)n : 0;
			send_frame(c, 'd', buf, (size_t)n);
			if (c->dead)
				return 0;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		/* EIO: every slave is closed, the shell is ending. */
		hang_up(c);
		return 1;
	}
	return 0;
}

/*
 * The shell ended: its status once its last output is sent.  Its last
 * output is all read when the master says EIO (every slave closed, and
 * the kernel has moved what was written to our side); an empty read
 * before that proves nothing, so wait for it, a bounded time (FORCE).
 */
void
shell_term_end(struct client *c, int force)
{
	struct shell *sh = c->shell;
	unsigned char st[4];

	if (read_output(c) == 0 || c->dead || c->shell != sh)
		return;		/* the client lags: on_master goes on */
	if (!sh->hup && !force && sh->tail < TAIL_MAX &&
	    loop_now() < sh->exit_by)
		return;		/* the master's EIO is still to come */
	st[0] = (unsigned char)((unsigned)sh->code >> 24);
	st[1] = (unsigned char)((unsigned)sh->code >> 16);
	st[2] = (unsigned char)((unsigned)sh->code >> 8);
	st[3] = (unsigned char)sh->code;
	sh->exited = 0;
	hang_up(c);
	if (c->dead || c->shell != sh)
		return;
	send_frame(c, 'x', st, 4);
	if (c->dead)
		return;
	if (c->mux) {
		/* Multiplexed: the session goes on without it. */
		shell_stop(c);
		client_resume(c);
	} else
		client_close_when_sent(c, "shell ended");
}

/* Input for the terminal waits: write it as the terminal takes it. */
static void
write_pending(struct client *c)
{
	struct shell *sh = c->shell;
	ssize_t w;

	while (sh->pendoff < sh->pendlen) {
		w = write(sh->io.fd, sh->pend + sh->pendoff,
		    sh->pendlen - sh->pendoff);
		if (w > 0)
			sh->pendoff += (size_t)w;
		else if (w < 0 && errno == EINTR)
			continue;
		else if (w < 0 && errno == EAGAIN)
			return;
		else {
			/* No terminal to take it; its output is still read. */
			drop_input(c);
			watch(c);
			return;
		}
	}
	/* All written: read the client again (what TLS holds first). */
	free(sh->pend);
	sh->pend = NULL;
	sh->pendoff = sh->pendlen = 0;
	watch(c);
	client_resume(c);
}

/* The pty master: room for the input that waits, output to relay. */
void
shell_term_events(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct client *c = io->arg;
	struct shell *sh = c->shell;

	(void)l;
	if (sh->pendlen > 0 && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		write_pending(c);
		if (c->dead || c->shell != sh)
			return;
	}
	if (!sh->reading && !sh->hup)
		return;
	if (sh->exited)
		shell_term_end(c, 0);
	else
		(void)read_output(c);
}

void
shell_drained(struct client *c)
{
	struct shell *sh = c->shell;

	if (sh == NULL || sh->reading || sh->io.fd < 0 || sh->hup)
		return;
	sh->reading = 1;
	watch(c);
}

static void
set_size(struct shell *sh, const unsigned char *p)
{
	struct winsize ws;

	memset(&ws, 0, sizeof(ws));
	ws.ws_row = (unsigned short)(p[0] << 8 | p[1]);
	ws.ws_col = (unsigned short)(p[2] << 8 | p[3]);
	if (ws.ws_row > 0 && ws.ws_col > 0)
		(void)ioctl(sh->io.fd, TIOCSWINSZ, &ws);	/* SIGWINCH */
}

/* Keep N bytes for the terminal, behind those already waiting. */
static int
keep(struct shell *sh, const unsigned char *p, size_t n)
{
	unsigned char *nb;
	size_t cap;

	if (sh->pendoff > 0) {
		memmove(sh->pend, sh->pend + sh->pendoff,
		    sh->pendlen - sh->pendoff);
		sh->pendlen -= sh->pendoff;
		sh->pendoff = 0;
	}
	if (sh->pendlen + n > PEND_MAX)
		return -1;
	cap = sh->pendlen + n;
	if ((nb = realloc(sh->pend, cap)) == NULL)
		return -1;
	memcpy(nb + sh->pendlen, p, n);
	sh->pend = nb;
	sh->pendlen = cap;
	return 0;
}

/*
 * Bytes for the terminal: written as far as it takes them, the rest kept
 * in order (nothing dropped); the client is then not read until the
 * terminal has taken it all.  0, or -1 if it cannot be kept.
 */
static int
to_terminal(struct client *c, const unsigned char *p, size_t n)
{
	struct shell *sh = c->shell;
	ssize_t w;

	if (sh->hup)
		return 0;	/* no terminal any more: the shell is ending */
	while (sh->pendlen == 0 && n > 0) {
		w = write(sh->io.fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && errno == EINTR)
			continue;
		else if (w < 0 && errno == EAGAIN)
			break;
		else
			return 0;	/* no terminal to take it: dropped */
	}
	return n > 0 ? keep(sh, p, n) : 0;
}

/* One frame from the client: bytes for the terminal, or a window size. */
static int
on_frame(void *arg, int type, const unsigned char *p, size_t n)
{
	struct client *c = arg;

	if (type == 'd')
		return to_terminal(c, p, n);
	set_size(c->shell, p);	/* at once, even with input waiting */
	return 0;
}

void
shell_input(struct client *c, const char *data, size_t len)
{
	struct shell *sh = c->shell;
	int rc;

	if (sh == NULL || c->dead)
		return;
	rc = frames_feed(&sh->in, data, len, "dw", on_frame, c);
	if (rc == -1)
		client_close(c, "bad shell frame");
	else if (rc == 1)
		client_close(c, "out of memory");
	else if (sh->pendlen > 0 && c->shell == sh) {
		/* The terminal is full: stop reading the client. */
		watch(c);
		client_pause(c);
	}
}

int
shell_mux_frame(struct client *c, int type, const unsigned char *p, size_t n)
{
	struct shell *sh = c->shell;

	if (sh == NULL)
		return 0;	/* the shell has ended: too late for it */
	if (on_frame(c, type, p, n) == -1)
		return -1;
	if (c->shell == sh && sh->pendlen > 0) {
		/* The terminal is full: stop reading the client. */
		watch(c);
		client_pause(c);
	}
	return 0;
}

int
shell_input_held(const struct client *c)
{
	return c->shell != NULL && c->shell->pendlen > 0;
}
