/*
 * Remote shell.  /shell on an authenticated admin's TLS session starts
 * the configured command on a pseudo-terminal (forkpty) as the configured
 * user, with a clean environment; the session then carries frames both
 * ways (docs/PROTOCOL.md, section 7).  The shell runs under a reaper of
 * its own (child_subreaper): the leader of the terminal's session, which
 * every process of the session comes back to, even after setsid or a
 * double fork.  When the shell ends, when the connection drops (SIGHUP to
 * the shell, 2 s of grace) or when the daemon quits, the reaper kills
 * everything left, so nothing started in a session outlives it.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/frames.h"
#include "daemon/child.h"
#include "daemon/client.h"
#include "daemon/shell.h"

#define FRAME_MAX	4096
#define HANGUP_GRACE	2	/* seconds between SIGHUP and SIGKILL */
#define REAPER_GRACE	(HANGUP_GRACE + 2) /* then the daemon insists */
#define STRAGGLERS	16
#define PEND_MAX	(1024 * 1024)	/* more than one read of the client */
#define TAIL_MAX	(1024 * 1024)	/* output relayed after the exit */
#define EXIT_DRAIN	2		/* s: the master's EIO after the exit */
/* Multiplexed: room the terminal leaves for records in the output. */
#define RECORDS_ROOM(c)	((c)->mux ? CLIENT_RAW_MAX / 2 : 0)

struct shell {
	pid_t		 pid;		/* its reaper, our child */
	pid_t		 shpid;		/* the shell, the reaper's child */
	struct loop_io	 io;		/* the pty master */
	int		 reading;	/* master watched for input */
	int		 writing;	/* master watched for room */
	int		 unwatched;	/* master out of the epoll set */
	int		 hup;		/* every slave closed: no terminal */
	int		 exited;	/* the shell ended with CODE: 'x' due */
	int		 code;
	time_t		 exit_by;	/* loop_now() bound on its last output */
	size_t		 tail;		/* output relayed since (a job's) */
	struct frames	 in;		/* frames from the client */
	unsigned char	*pend;		/* input the terminal did not take */
	size_t		 pendoff;	/* its first byte not written */
	size_t		 pendlen;
	time_t		 started;
	struct shell	*gone_next;	/* stopped ones, to free */
};

/*
 * Shells hung up: their reapers end them (SIGHUP, then SIGKILL for the
 * whole session); past the deadline the daemon sends SIGTERM (end it
 * now), then SIGKILL.
 */
static struct {
	pid_t	pid;		/* the reaper */
	pid_t	shpid;		/* the shell, for the log */
	time_t	deadline;
	int	termed;		/* SIGTERM sent already */
	char	who[AUTH_NAME_MAX + INET6_ADDRSTRLEN + 32];
} stragglers[STRAGGLERS];

static void	on_master(struct loop *, struct loop_io *, uint32_t);

/*
 * In the child: start clean, leave the reaper of the session here (it
 * reports the shell's PID on REPORT), become USER with a clean
 * environment, and exec CMD.
 */
static void __attribute__((noreturn))
child(const char *user, const char *cmd, const char *term, int report)
{
	const struct passwd *pw;
	const char *base;
	char argv0[PATH_MAX + 2];

	if ((report = child_reset(report)) == -1 ||
	    child_subreaper(report, HANGUP_GRACE) == -1)
		_exit(127);
	if ((pw = getpwnam(user)) == NULL) {
		fprintf(stderr, "Matt_daemon: no user %s\r\n", user);
		_exit(127);
	}
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1) {
		fprintf(stderr, "Matt_daemon: cannot become %s\r\n", user);
		_exit(127);
	}
	clearenv();
	setenv("TERM", term, 1);
	setenv("HOME", pw->pw_dir, 1);
	setenv("PATH", pw->pw_uid == 0 ?
	    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" :
	    "/usr/local/bin:/usr/bin:/bin", 1);
	setenv("SHELL", cmd, 1);
	setenv("USER", pw->pw_name, 1);
	setenv("LOGNAME", pw->pw_name, 1);
	if (chdir(pw->pw_dir) == -1)
		(void)chdir("/");
	base = strrchr(cmd, '/');
	snprintf(argv0, sizeof(argv0), "-%s", base ? base + 1 : cmd);
	execl(cmd, argv0, (char *)NULL);
	fprintf(stderr, "Matt_daemon: cannot run %s: %s\r\n", cmd,
	    strerror(errno));
	_exit(127);
}

/* The shell's PID, sent by its reaper as soon as it has forked it. */
static pid_t
read_shell_pid(int fd)
{
	struct pollfd pfd;
	pid_t shpid;

	/* A fork away: bounded, like the forkpty before it. */
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 2000) != 1 ||
	    read(fd, &shpid, sizeof(shpid)) != (ssize_t)sizeof(shpid))
		return -1;
	return shpid;
}

static void
on_reaper_exit(void *arg, pid_t pid, int status)
{
	(void)shell_exited(arg, pid, status);
}

static int
valid_term(const char *t)
{
	size_t i, n = strlen(t);

	if (n == 0 || n > 63)
		return 0;
	for (i = 0; i < n; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' &&
		    t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9') ||
		    t[i] == '-' || t[i] == '_' || t[i] == '.' || t[i] == '+'))
			return 0;
	return 1;
}

int
shell_start(struct client *c, const char *term, int rows, int cols,
    char *err, size_t errlen)
{
	struct sessions *d = c->d;
	struct winsize ws;
	struct shell *sh;
	int master, flags, report[2];
	pid_t pid;

	if (!valid_term(term) || rows < 1 || rows > 1000 || cols < 1 ||
	    cols > 1000) {
		snprintf(err, errlen, "bad terminal or size");
		return -1;
	}
	if ((sh = calloc(1, sizeof(*sh))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(&ws, 0, sizeof(ws));
	ws.ws_row = (unsigned short)rows;
	ws.ws_col = (unsigned short)cols;
	if (pipe2(report, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		free(sh);
		return -1;
	}
	if ((pid = forkpty(&master, NULL, NULL, &ws)) == -1) {
		snprintf(err, errlen, "forkpty: %s", strerror(errno));
		close(report[0]);
		close(report[1]);
		free(sh);
		return -1;
	}
	if (pid == 0)
		child(d->cfg->shell_user, d->cfg->shell_command, term,
		    report[1]);
	close(report[1]);
	(void)child_watch(pid, on_reaper_exit, d);
	sh->shpid = read_shell_pid(report[0]);
	close(report[0]);
	flags = fcntl(master, F_GETFL);
	(void)fcntl(master, F_SETFL, flags | O_NONBLOCK);
	(void)fcntl(master, F_SETFD, FD_CLOEXEC);
	sh->pid = pid;
	sh->io.fd = master;
	sh->io.cb = on_master;
	sh->io.arg = c;
	sh->reading = 1;
	sh->started = time(NULL);
	if (sh->shpid <= 0 || loop_add(d->loop, &sh->io, EPOLLIN) == -1) {
		snprintf(err, errlen, sh->shpid <= 0 ? "no shell" :
		    "epoll: %s", strerror(errno));
		(void)child_signal(pid, SIGTERM);	/* ends its session */
		close(master);
		free(sh);
		return -1;
	}
	c->shell = sh;
	return 0;
}

pid_t
shell_pid(const struct client *c)
{
	return c->shell != NULL ? c->shell->shpid : 0;
}

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
static void
end_when_drained(struct client *c, int force)
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
static void
on_master(struct loop *l, struct loop_io *io, uint32_t events)
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
		end_when_drained(c, 0);
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

static void
straggler_add(const struct client *c, pid_t pid, pid_t shpid)
{
	size_t i;

	for (i = 0; i < STRAGGLERS; i++) {
		if (stragglers[i].pid == 0) {
			stragglers[i].pid = pid;
			stragglers[i].shpid = shpid;
			stragglers[i].deadline = time(NULL) + REAPER_GRACE;
			stragglers[i].termed = 0;
			snprintf(stragglers[i].who, sizeof(stragglers[i].who),
			    "%s from %s", c->user, c->addr);
			return;
		}
	}
	(void)child_signal(pid, SIGTERM);	/* no room to wait: now */
}

void
shell_stop(struct client *c)
{
	struct shell *sh = c->shell;

	if (sh == NULL)
		return;
	if (sh->io.fd >= 0) {
		(void)loop_del(c->d->loop, &sh->io);
		close(sh->io.fd);
	}
	if (sh->pid > 0) {
		/* Its reaper hangs the shell up, then kills what is left. */
		(void)child_signal(sh->pid, SIGHUP);
		straggler_add(c, sh->pid, sh->shpid);
		tintin_log_cat(c->d->log, TINTIN_INFO, CAT_AUTH, "Shell session "
		    "of %s from %s hung up: pid %ld.", c->user, c->addr,
		    (long)sh->shpid);
	}
	/*
	 * Not freed here: an event of this loop turn may still point to its
	 * io (the pty's hang-up, behind the SIGCHLD that ended it).  It goes
	 * with the client, in the before-sleep hook.
	 */
	sh->io.cb = NULL;
	sh->io.fd = -1;
	sh->pid = 0;
	free(sh->pend);
	sh->pend = NULL;
	sh->pendoff = sh->pendlen = 0;
	/* Several in one turn, on a multiplexed session: kept in a chain. */
	sh->gone_next = c->shell_gone;
	c->shell_gone = sh;
	c->shell = NULL;
}

void
shell_free_gone(struct client *c)
{
	struct shell *sh;

	while ((sh = c->shell_gone) != NULL) {
		c->shell_gone = sh->gone_next;
		free(sh);
	}
}

int
shell_exited(struct sessions *d, pid_t pid, int status)
{
	struct client *c;
	int code;
	size_t i;

	for (i = 0; i < STRAGGLERS; i++)
		if (stragglers[i].pid == pid) {
			/* The reaper left nothing of the session behind. */
			stragglers[i].pid = 0;
			code = WIFEXITED(status) ? WEXITSTATUS(status) :
			    WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
			tintin_log_cat(d->log, TINTIN_INFO, CAT_AUTH, "Shell "
			    "session of %s ended: pid %ld, status %d (hung "
			    "up).", stragglers[i].who,
			    (long)stragglers[i].shpid, code);
			return 1;
		}
	for (c = d->clients; c != NULL; c = c->next)
		if (!c->dead && c->shell != NULL && c->shell->pid == pid)
			break;
	if (c == NULL)
		return 0;
	code = WIFEXITED(status) ? WEXITSTATUS(status) :
	    WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
	tintin_log_cat(d->log, TINTIN_INFO, CAT_AUTH, "Shell session of %s "
	    "from %s ended: pid %ld, status %d, %lds.", c->user, c->addr,
	    (long)c->shell->shpid, code,
	    (long)(time(NULL) - c->shell->started));
	c->shell->pid = 0;	/* nothing left to hang up */
	/* What the shell wrote last, then its status. */
	c->shell->exited = 1;
	c->shell->code = code;
	c->shell->exit_by = loop_now() + EXIT_DRAIN;
	end_when_drained(c, 0);
	return 1;
}

void
shell_tick(struct sessions *d)
{
	struct client *c, *next;
	time_t now = time(NULL);
	size_t i;

	for (c = d->clients; c != NULL; c = next) {
		next = c->next;
		if (!c->dead && c->shell != NULL && c->shell->exited &&
		    loop_now() >= c->shell->exit_by)
			end_when_drained(c, 1);
	}
	for (i = 0; i < STRAGGLERS; i++)
		if (stragglers[i].pid != 0 && now >= stragglers[i].deadline) {
			(void)child_signal(stragglers[i].pid,
			    stragglers[i].termed ? SIGKILL : SIGTERM);
			stragglers[i].termed = 1;
			stragglers[i].deadline = now + 15;
		}
}

void
shell_kill_all(struct sessions *d)
{
	struct client *c;
	size_t i;

	/* Each reaper kills its whole session at once, then exits. */
	for (c = d->clients; c != NULL; c = c->next)
		if (c->shell != NULL && c->shell->pid > 0)
			(void)child_signal(c->shell->pid, SIGTERM);
	for (i = 0; i < STRAGGLERS; i++)
		if (stragglers[i].pid != 0)
			(void)child_signal(stragglers[i].pid, SIGTERM);
}
