/* Remote shell mode (--shell, /shell): the local terminal in raw mode and
 * its bytes relayed both ways in the frames of docs/PROTOCOL.md, section 7. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "client/cli.h"
#include "common/frames.h"

#define FRAME_MAX	FRAMES_MAX	/* payload of one frame */
#define FRAME_HDR	3		/* type, length (2 bytes, big endian) */
#define OUT_MAX		65536		/* frames queued for the daemon */
#define TERM_MAX	63		/* what the daemon accepts */

struct relay {
	struct conn	*conn;
	int		 tty;		/* stdin is a terminal in raw mode */
	struct termios	 saved;		/* its settings before */
	int		 sfd;		/* signalfd */
	sigset_t	 oldmask;
	int		 stdin_open;
	int		 status;	/* from the 'x' frame, or -1 */
	int		 out_errno;	/* writing to stdout failed */
	struct frames	 in;		/* frames from the daemon */
	int		 winch;		/* a size change to send */
	unsigned char	 out[OUT_MAX];
	size_t		 outlen;
};

/* Replies the core does not explain: shell refusals. */
static const struct {
	const char	*reply;
	const char	*hint;
} shell_hints[] = {
	{ "-ERR shell is disabled",
	  "the daemon's configuration needs [shell] enabled = yes" },
	{ "-ERR shell needs TLS", "connect with --tls" },
	{ "-ERR cannot start the shell",
	  "the daemon's log says why" },
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* $TERM if the daemon would take it, else "xterm". */
static const char *
term_name(void)
{
	const char *t = getenv("TERM");
	size_t i, n;

	if (t == NULL || (n = strlen(t)) == 0 || n > TERM_MAX)
		return "xterm";
	for (i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-_.+", t[i]) == NULL)
			return "xterm";
	return t;
}

/* The size of the terminal on stdin, 24x80 without one. */
static void
term_size(int *rows, int *cols)
{
	struct winsize ws;

	*rows = 24;
	*cols = 80;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0) {
		*rows = ws.ws_row > 1000 ? 1000 : ws.ws_row;
		*cols = ws.ws_col > 1000 ? 1000 : ws.ws_col;
	}
}

static void
report_refusal(const char *reply)
{
	enum proto_reply kind = proto_classify(reply);
	size_t i, n;

	for (i = 0; i < sizeof(shell_hints) / sizeof(shell_hints[0]); i++) {
		n = strlen(shell_hints[i].reply);
		if (strncmp(reply, shell_hints[i].reply, n) == 0) {
			fprintf(stderr, "Ben_AFK: %s (%s)\n", reply,
			    shell_hints[i].hint);
			return;
		}
	}
	cli_report(reply, kind);
}

/*
 * Send /shell and wait for "+OK shell".  Lines that came before it (replies
 * to earlier commands, in the interactive mode) are printed.  Returns 0, or
 * an exit status once the error is reported, with *REFUSED set if it was
 * the daemon's answer (the session goes on in lines).
 */
static int
shell_open(struct conn *c, const struct cli *o, int *refused)
{
	char line[AFK_LINE_MAX];
	enum proto_reply kind;
	long deadline;
	int rows, cols, rc;

	term_size(&rows, &cols);
	snprintf(line, sizeof(line), "/shell %s %d %d", term_name(), rows,
	    cols);
	if (proto_send(c, line, o->a.timeout_ms) == -1) {
		fprintf(stderr, "Ben_AFK: %s\n", c->err);
		return AFK_EXIT_ERROR;
	}
	deadline = now_ms() + o->a.timeout_ms;
	for (;;) {
		rc = conn_read_line(c, line, sizeof(line),
		    (int)(deadline > now_ms() ? deadline - now_ms() : 0));
		if (rc == 0) {
			fprintf(stderr, "Ben_AFK: no answer to /shell within "
			    "%d s\n", o->a.timeout_ms / 1000);
			return AFK_EXIT_ERROR;
		}
		if (rc == -1) {
			fprintf(stderr, "Ben_AFK: %s\n", c->err);
			return AFK_EXIT_ERROR;
		}
		if (strcmp(line, "+OK shell") == 0)
			return 0;
		kind = proto_classify(line);
		if (kind != PROTO_OK && kind != PROTO_NONE) {
			*refused = 1;
			report_refusal(line);
			return proto_exit_status(kind);
		}
		printf("%s\n", line);
		fflush(stdout);
	}
}

/* Queue a frame for the daemon; the caller made sure there is room. */
static void
queue(struct relay *r, char type, const void *data, size_t len)
{
	unsigned char *p = r->out + r->outlen;

	p[0] = (unsigned char)type;
	p[1] = (unsigned char)(len >> 8);
	p[2] = (unsigned char)len;
	memcpy(p + FRAME_HDR, data, len);
	r->outlen += FRAME_HDR + len;
}

static void
queue_size(struct relay *r)
{
	unsigned char ws[4];
	int rows, cols;

	if (sizeof(r->out) - r->outlen < FRAME_HDR + sizeof(ws))
		return;		/* r->winch stays set: later */
	term_size(&rows, &cols);
	ws[0] = (unsigned char)(rows >> 8);
	ws[1] = (unsigned char)rows;
	ws[2] = (unsigned char)(cols >> 8);
	ws[3] = (unsigned char)cols;
	queue(r, 'w', ws, sizeof(ws));
	r->winch = 0;
}

/* All of LEN bytes to stdout: 0, or -1 with errno set. */
static int
write_all(int fd, const unsigned char *p, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n == -1 && errno == EAGAIN)
			(void)poll(&pfd, 1, -1);
		else if (n == -1 && errno != EINTR)
			return -1;
	}
	return 0;
}

/* One frame from the daemon: terminal output, or the exit status. */
static int
on_frame(void *arg, int type, const unsigned char *p, size_t n)
{
	struct relay *r = arg;

	if (type == 'x') {
		r->status = (int)((unsigned)p[0] << 24 | (unsigned)p[1] << 16 |
		    (unsigned)p[2] << 8 | p[3]);
		if (r->status < 0 || r->status > 255)
			r->status = 255;
		return 1;
	}
	if (write_all(STDOUT_FILENO, p, n) == -1) {
		r->out_errno = errno;
		return 1;
	}
	return 0;
}

/*
 * Handle the frames in the connection's buffer: 0 go on, 1 the shell
 * ended (r->status set), -1 a bad frame or stdout failed.
 */
static int
frames(struct relay *r)
{
	struct conn *c = r->conn;
	int rc;

	rc = frames_feed(&r->in, c->buf, c->len, "dx", on_frame, r);
	c->len = 0;
	if (rc == -1) {
		snprintf(c->err, sizeof(c->err), "bad frame from the daemon");
		return -1;
	}
	if (rc == 1 && r->out_errno != 0) {
		snprintf(c->err, sizeof(c->err), "stdout: %s",
		    strerror(r->out_errno));
		return -1;
	}
	return rc;
}

/* Read from the daemon (and what TLS holds decrypted): like frames(). */
static int
from_daemon(struct relay *r)
{
	struct conn *c = r->conn;
	int rc;

	do {
		if (conn_fill(c) == -1)
			return -1;
		if ((rc = frames(r)) != 0)
			return rc;
	} while (conn_pending(c));
	return 0;
}

static void
from_stdin(struct relay *r)
{
	unsigned char buf[FRAME_MAX];
	ssize_t n;

	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* End of a pipe: an end-of-file character for the remote
		 * terminal, as if typed, so that a shell reading it ends. */
		r->stdin_open = 0;
		queue(r, 'd', "\004", 1);
		return;
	}
	queue(r, 'd', buf, (size_t)n);
}

/* Send what is queued, as far as the socket takes it: 0, or -1. */
static int
to_daemon(struct relay *r)
{
	ssize_t n;

	while (r->outlen > 0) {
		n = conn_write_some(r->conn, r->out, r->outlen);
		if (n == -1)
			return -1;
		if (n == -2)
			return 0;
		memmove(r->out, r->out + n, r->outlen - (size_t)n);
		r->outlen -= (size_t)n;
	}
	return 0;
}

/*
 * Sending failed: the daemon may have closed after the shell ended, its
 * last output and the 'x' frame still unread here.  Read them (a bounded
 * wait): 0 if the status came, else -1 with the send error kept.
 */
static int
last_frames(struct relay *r)
{
	struct conn *c = r->conn;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	char err[sizeof(c->err)];
	int i, rc;

	memcpy(err, c->err, sizeof(err));
	for (i = 0; i < 20; i++) {
		if ((rc = from_daemon(r)) == 1)
			return 0;
		if (rc == -1 || poll(&pfd, 1, 100) == 0)
			break;
	}
	memcpy(c->err, err, sizeof(err));
	return -1;
}

/*
 * Block the signals the relay handles and read them from a signalfd, so
 * that nothing runs behind the loop's back: the terminal is restored on
 * every way out, a termination signal included.
 */
static int
relay_start(struct relay *r)
{
	struct termios raw;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	if (sigprocmask(SIG_BLOCK, &set, &r->oldmask) == -1)
		return -1;
	r->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (r->sfd == -1) {
		(void)sigprocmask(SIG_SETMASK, &r->oldmask, NULL);
		return -1;
	}
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &r->saved) == 0) {
		raw = r->saved;
		cfmakeraw(&raw);
		if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0)
			r->tty = 1;
	}
	return 0;
}

static void
relay_end(struct relay *r)
{
	if (r->tty)
		(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &r->saved);
	r->tty = 0;
	close(r->sfd);
	(void)sigprocmask(SIG_SETMASK, &r->oldmask, NULL);
}

/* Drain the signalfd: 0, or the termination signal received. */
static int
signals(struct relay *r)
{
	struct signalfd_siginfo si;
	int sig = 0;

	while (read(r->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGWINCH)
			r->winch = 1;
		else
			sig = (int)si.ssi_signo;
	}
	return sig;
}

/* The relay loop: -1 connection lost or failed, 0 the shell ended, or a
 * termination signal. */
static int
relay_loop(struct relay *r)
{
	struct conn *c = r->conn;
	struct pollfd pfd[3];
	int rc, sig;

	/* Frames may have come right behind "+OK shell". */
	if ((rc = frames(r)) != 0)
		return rc == 1 ? 0 : -1;
	if (conn_pending(c) && (rc = from_daemon(r)) != 0)
		return rc == 1 ? 0 : -1;
	for (;;) {
		if (r->winch)
			queue_size(r);
		pfd[0].fd = r->sfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = c->fd;
		pfd[1].events = POLLIN | (r->outlen > 0 ? conn_events(c) : 0);
		pfd[2].fd = r->stdin_open && sizeof(r->out) - r->outlen >=
		    FRAME_HDR + FRAME_MAX ? STDIN_FILENO : -1;
		pfd[2].events = POLLIN;
		if (poll(pfd, 3, -1) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(c->err, sizeof(c->err), "poll: %s",
			    strerror(errno));
			return -1;
		}
		if (pfd[0].revents && (sig = signals(r)) != 0)
			return sig;
		/* The new size before the keys typed after it. */
		if (r->winch)
			queue_size(r);
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			/* TLS drained to the end: poll sees nothing of it. */
			if ((rc = from_daemon(r)) != 0)
				return rc == 1 ? 0 : -1;
		}
		if (pfd[2].revents)
			from_stdin(r);
		if (r->outlen > 0 && to_daemon(r) == -1)
			return last_frames(r);
	}
}

int
shell_run(struct conn *c, const struct cli *o, int *opened)
{
	static struct relay r;
	sigset_t die;
	int rc, tty, refused = 0;

	if ((rc = shell_open(c, o, &refused)) != 0) {
		if (opened != NULL)
			*opened = refused ? 0 : -1;
		return rc;
	}
	if (opened != NULL)
		*opened = 1;
	memset(&r, 0, sizeof(r));
	r.conn = c;
	r.status = -1;
	r.stdin_open = 1;
	if (relay_start(&r) == -1) {
		fprintf(stderr, "Ben_AFK: signals: %s\n", strerror(errno));
		return AFK_EXIT_ERROR;
	}
	rc = relay_loop(&r);
	tty = r.tty;
	relay_end(&r);
	if (rc == 0)
		return r.status;
	if (rc > 0) {
		/* Hang up (the daemon ends the shell), then die of it. */
		conn_close(c);
		signal(rc, SIG_DFL);
		sigemptyset(&die);
		sigaddset(&die, rc);
		/* Interactive mode blocks SIGINT: unblocked to die of it. */
		(void)sigprocmask(SIG_UNBLOCK, &die, NULL);
		raise(rc);
		return 128 + rc;
	}
	if (tty)
		fputc('\n', stderr);	/* the cursor may be anywhere */
	fprintf(stderr, "Ben_AFK: connection lost: %s\n", c->err);
	return AFK_EXIT_ERROR;
}
