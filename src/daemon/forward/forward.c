/*
 * The daemon's side of forwarding: it starts the forwarder child (which
 * reads the log file, so ingest never waits for the collector), restarts
 * it when it dies, logs what it reports through a pipe and keeps its
 * last status for /status.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/mkdirs.h"
#include "daemon/child.h"
#include "daemon/forward/forward.h"
#include "daemon/forward/forward_int.h"

#define LINE_MAX_FWD	1024

struct forward {
	struct fwd_conf	 conf;
	struct loop	*loop;
	Tintin_reporter	*log;
	struct loop_io	 io;		/* the child's reports */
	pid_t		 pid;
	time_t		 restart_at;
	char		 line[LINE_MAX_FWD];
	size_t		 len;
	char		 state[8];
	uint64_t	 forwarded, acked, waiting, waiting_bytes;
	long		 oldest_age;
};

static struct fwd_pos	 start_pos;

int
forward_wanted(const char *target)
{
	return strncmp(target, "tcp://", 6) == 0 ||
	    strncmp(target, "tls://", 6) == 0 ||
	    strncmp(target, "relp://", 7) == 0;
}

void
forward_note_start(const char *log_path)
{
	struct stat st;

	if (stat(log_path, &st) == 0) {
		start_pos.dev = st.st_dev;
		start_pos.ino = st.st_ino;
		start_pos.off = (uint64_t)st.st_size;
	}
}

/* One line of the child: a record to log, or its status. */
static void
on_line(struct forward *f, char *line)
{
	char *end;
	long level;

	if (line[0] == 'L' && line[1] == ' ') {
		level = strtol(line + 2, &end, 10);
		if (*end == ' ' && level >= 0 && level < TINTIN_NLEVELS)
			(void)tintin_log_msg(f->log, (int)level, end + 1,
			    strlen(end + 1));
	} else if (line[0] == 'S' && line[1] == ' ') {
		(void)sscanf(line + 2, "%7s %" SCNu64 " %" SCNu64 " %" SCNu64
		    " %" SCNu64 " %ld", f->state, &f->forwarded, &f->acked,
		    &f->waiting, &f->waiting_bytes, &f->oldest_age);
	}
}

static void
on_report(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct forward *f = io->arg;
	char *nl;
	ssize_t n;

	(void)l;
	(void)events;
	while ((n = read(io->fd, f->line + f->len, sizeof(f->line) - 1 -
	    f->len)) > 0) {
		f->len += (size_t)n;
		f->line[f->len] = '\0';
		while ((nl = strchr(f->line, '\n')) != NULL) {
			*nl = '\0';
			on_line(f, f->line);
			f->len -= (size_t)(nl + 1 - f->line);
			memmove(f->line, nl + 1, f->len + 1);
		}
		if (f->len == sizeof(f->line) - 1)
			f->len = 0;	/* no such line: drop it */
	}
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		(void)loop_del(f->loop, io);
		close(io->fd);
		io->fd = -1;
	}
}

static void
on_exit_child(void *arg, pid_t pid, int status)
{
	struct forward *f = arg;

	(void)pid;
	f->pid = 0;
	snprintf(f->state, sizeof(f->state), "down");
	tintin_log(f->log, TINTIN_WARN, "Forwarder exited (%s %d); "
	    "restarting it in 1s.", WIFSIGNALED(status) ? "signal" : "status",
	    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	f->restart_at = time(NULL) + 1;
}

/* Fork the child with the write end of a fresh pipe; 0 or -1. */
static int
spawn(struct forward *f)
{
	int fds[2];
	pid_t pid;

	if (f->io.fd >= 0) {
		(void)loop_del(f->loop, &f->io);
		close(f->io.fd);
		f->io.fd = -1;
	}
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1)
		return -1;
	f->conf.daemon_pid = getpid();
	if ((pid = fork()) == -1) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		if (child_reset(fds[1]) == -1)
			_exit(1);
		fwd_run(&f->conf, 3);
	}
	close(fds[1]);
	f->io.fd = fds[0];
	f->io.cb = on_report;
	f->io.arg = f;
	f->len = 0;
	f->pid = pid;
	if (loop_add(f->loop, &f->io, EPOLLIN) == -1 ||
	    child_watch(pid, on_exit_child, f) == -1) {
		(void)kill(pid, SIGKILL);
		return -1;
	}
	return 0;
}

/* STATE_DIR/forward-TARGET.pos, TARGET's odd characters as '_'. */
static void
state_path(const struct config *c, char *buf, size_t size)
{
	char name[128];
	size_t i;

	for (i = 0; i + 1 < sizeof(name) && c->forward_target[i] != '\0';
	    i++) {
		name[i] = c->forward_target[i];
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' &&
		    name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '.' || name[i] == '-'))
			name[i] = '_';
	}
	name[i] = '\0';
	if (snprintf(buf, size, "%s/forward-%s.pos", c->forward_state_dir,
	    name) >= (int)size)
		buf[size - 1] = '\0';
}

struct forward *
forward_start(const struct config *c, struct loop *l, Tintin_reporter *log)
{
	struct forward *f;

	if (mkdirs(c->forward_state_dir, 0700) == -1 ||
	    (f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	snprintf(f->conf.target, sizeof(f->conf.target), "%s",
	    c->forward_target);
	f->conf.level = c->forward_level;
	(void)config_log_path(c, f->conf.log_path, sizeof(f->conf.log_path));
	state_path(c, f->conf.state_path, sizeof(f->conf.state_path));
	f->conf.max_backlog = c->forward_max_backlog;
	snprintf(f->conf.ca_file, sizeof(f->conf.ca_file), "%s",
	    c->forward_ca_file);
	snprintf(f->conf.fingerprint, sizeof(f->conf.fingerprint), "%s",
	    c->forward_fingerprint);
	snprintf(f->conf.cert, sizeof(f->conf.cert), "%s", c->forward_cert);
	snprintf(f->conf.key, sizeof(f->conf.key), "%s", c->forward_key);
	f->conf.start = start_pos;
	f->loop = l;
	f->log = log;
	f->io.fd = -1;
	snprintf(f->state, sizeof(f->state), "down");
	if (spawn(f) == -1) {
		free(f);
		return NULL;
	}
	return f;
}

void
forward_tick(struct forward *f)
{
	if (f == NULL || f->pid != 0 || time(NULL) < f->restart_at)
		return;
	if (spawn(f) == -1) {
		tintin_log(f->log, TINTIN_ERROR, "Cannot restart the "
		    "forwarder: %s; retrying in 10s.", strerror(errno));
		f->restart_at = time(NULL) + 10;
	}
}

int
forward_figures(const struct forward *f, struct forward_figures *out)
{
	if (f == NULL)
		return -1;
	out->target = f->conf.target;
	out->state = f->state;
	out->forwarded = f->forwarded;
	out->acked = f->acked;
	out->waiting = f->waiting;
	out->waiting_bytes = f->waiting_bytes;
	out->oldest_age = f->oldest_age;
	return 0;
}

void
forward_status(const struct forward *f, char *buf, size_t size)
{
	struct forward_figures g;

	if (forward_figures(f, &g) == -1) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, size, " forward=%s forward_state=%s forwarded=%" PRIu64
	    " acknowledged=%" PRIu64 " waiting=%" PRIu64 " waiting_bytes=%"
	    PRIu64 " oldest_waiting_age=%ld", g.target, g.state, g.forwarded,
	    g.acked, g.waiting, g.waiting_bytes, g.oldest_age);
}

void
forward_stop(struct forward *f)
{
	if (f == NULL)
		return;
	if (f->pid > 0) {
		(void)child_signal(f->pid, SIGTERM);
		child_forget(f->pid);
	}
	if (f->io.fd >= 0)
		close(f->io.fd);
	free(f);
}
