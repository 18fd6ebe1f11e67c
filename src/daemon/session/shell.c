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
#include "daemon/session/client.h"
#include "daemon/session/shell.h"
#include "daemon/session/shell_int.h"

#define HANGUP_GRACE	2	/* seconds between SIGHUP and SIGKILL */
#define REAPER_GRACE	(HANGUP_GRACE + 2) /* then the daemon insists */
#define STRAGGLERS	16


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
	sh->io.cb = shell_term_events;
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
	shell_term_end(c, 0);
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
			shell_term_end(c, 1);
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
