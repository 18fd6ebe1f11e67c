/*
 * The daemon's life: the start-up sequence of the subject (log, lock,
 * server, detach), the event loop, and the one shutdown path every exit
 * goes through.
 */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/mkdirs.h"
#include "daemon/alert/alert.h"
#include "daemon/child.h"
#include "daemon/session/client.h"
#include "daemon/session/command.h"
#include "daemon/session/command_auth.h"
#include "daemon/crash.h"
#include "daemon/daemon.h"
#include "daemon/daemonize.h"
#include "daemon/forward/forward.h"
#include "daemon/lock.h"
#include "daemon/alert/mail.h"
#include "daemon/metrics/metrics_http.h"
#include "daemon/notify.h"
#include "daemon/server.h"
#include "daemon/session/shell.h"
#include "daemon/signals.h"
#include "daemon/session/tls.h"

static struct daemon the_daemon;

void
daemon_stop(struct daemon *d, int status)
{
	if (!d->sessions.stopping)
		d->exit_status = status;
	d->sessions.stopping = 1;
	loop_stop(&d->loop);
}

/* The mailer's lines: not seen by the alert rules. */
static void
mail_report(void *arg, int level, const char *msg)
{
	struct daemon *d = arg;

	if (d->alerts != NULL)
		alert_log(d->alerts, level, "%s", msg);
	else
		(void)tintin_log_msg(d->log, level, msg, strlen(msg));
}

/* A rule's digest, to the mail queue. */
static int
alert_to_mail(void *arg, const struct config_alert *a, const char *subject,
    const char *body)
{
	return mail_send(arg, a, subject, body);
}

/*
 * The alert rules and their mailer, wired: the rules hand digests to the
 * mailer, which logs out of the rules' sight.  Only when there are rules,
 * or mail spooled by the last run.  0 or -1.
 */
static int
alerts_start(struct daemon *d)
{
	if (!mail_wanted(d->cfg))
		return 0;
	if ((d->alerts = alert_new(d->cfg, d->log)) == NULL ||
	    (d->mailer = mail_start(d->cfg, mail_report, d)) == NULL)
		return -1;
	return alert_start(d->alerts, alert_to_mail, d->mailer,
	    mail_host(d->mailer));
}

/*
 * No new delivery; the open windows are mailed (spooled) or counted as
 * lost; then what is unsent is spooled or lost.
 */
static void
alerts_stop(struct daemon *d)
{
	mail_close(d->mailer);
	alert_stop(d->alerts, mail_spooling(d->mailer));
	d->alerts = NULL;
	mail_stop(d->mailer);
	d->mailer = NULL;
}

/* The one way out: log, close clients, remove the lock, exit. */
static void __attribute__((noreturn))
daemon_exit(struct daemon *d)
{
	(void)notify_send("STOPPING=1");
	if (d->log != NULL)
		alerts_stop(d);
	if (d->log != NULL) {
		tintin_log(d->log, TINTIN_INFO, "Quitting.");
		tintin_flush(d->log);
	}
	d->sessions.stopping = 1;
	forward_stop(d->forward);
	d->forward = NULL;
	shell_kill_all(&d->sessions);
	client_close_all(&d->sessions);
	server_stop(&d->server);
	metrics_http_stop(d->metrics_http);
	d->metrics_http = NULL;
	if (d->metrics_fd >= 0)
		close(d->metrics_fd);
	d->metrics_fd = -1;
	lock_release(d->lock_fd, d->lock_path);
	d->lock_fd = -1;
	if (d->log != NULL && tintin_archiver_pid(d->log) > 0)
		(void)child_signal(tintin_archiver_pid(d->log), SIGKILL);
	tintin_free(d->log);
	d->log = d->sessions.log = NULL;
	free(d->sessions.scratch);
	d->sessions.scratch = NULL;
	exit(d->exit_status);
}

/* The alert rules' and the mailer's figures, for the metrics. */
static void
alert_figures(void *arg, struct metrics_alerts *out)
{
	struct daemon *d = arg;
	struct mail_counts mc;

	mail_counts(d->mailer, &mc);
	out->matches = d->alerts != NULL ? alert_matches(d->alerts) : 0;
	out->sent = mc.sent;
	out->failed = mc.failed;
	out->spooled = mc.spooled;
	out->waiting = mc.waiting;
	out->in_spool = mc.in_spool;
}

/* The forward target's state, at the end of /status. */
static void
status_forward(void *arg, char *buf, size_t size)
{
	struct daemon *d = arg;

	forward_status(d->forward, buf, size);
}

/* The lossless forwarder's figures, for the metrics. */
static int
forward_to_metrics(void *arg, struct metrics_forward *out)
{
	struct daemon *d = arg;
	struct forward_figures g;

	if (forward_figures(d->forward, &g) == -1)
		return -1;
	out->target = g.target;
	out->sent = g.forwarded;
	out->acked = g.acked;
	out->waiting = g.waiting;
	out->waiting_bytes = g.waiting_bytes;
	out->oldest_age = g.oldest_age > 0 ? (uint64_t)g.oldest_age : 0;
	out->up = strcmp(g.state, "up") == 0;
	return 0;
}

/* Where the metrics read what the daemon's state holds. */
static void
metrics_wire(struct daemon *d)
{
	d->m.started = time(NULL);
	d->m.nclients = &d->sessions.nclients;
	d->m.cfg = d->cfg;
	d->m.log = &d->log;
	d->m.forward_sink = -1;
	d->m.alerts_fn = alert_figures;
	d->m.alerts_arg = d;
	d->m.forward_fn = forward_to_metrics;
	d->m.forward_arg = d;
}

/* Before detaching: say it on stderr and in the log, then exit 1. */
static void __attribute__((noreturn, format(printf, 2, 3)))
startup_fail(struct daemon *d, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "Matt_daemon: %s\n", msg);
	if (d->log != NULL)
		tintin_log(d->log, TINTIN_ERROR, "%c%s.", msg[0] >= 'a' &&
		    msg[0] <= 'z' ? msg[0] - 'a' + 'A' : msg[0], msg + 1);
	d->exit_status = 1;
	daemon_exit(d);
}

/* A log sink started failing (disk full...): tell syslog too. */
static void
on_log_error(void *arg, const char *msg)
{
	struct daemon *d = arg;

	if (!d->syslog_open) {
		openlog("Matt_daemon", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		d->syslog_open = 1;
	}
	syslog(LOG_ERR, "%s", msg);
}

static void
open_logs(struct daemon *d)
{
	struct config *c = d->cfg;
	char path[PATH_MAX], err[256];
	int i, idx;

	if ((d->log = tintin_create("Matt_daemon")) == NULL) {
		fprintf(stderr, "Matt_daemon: out of memory\n");
		exit(1);
	}
	if (mkdirs(c->log_dir, 0755) == -1) {
		fprintf(stderr, "Matt_daemon: cannot create log directory "
		    "%s: %s\n", c->log_dir, strerror(errno));
		exit(1);
	}
	config_log_path(c, path, sizeof(path));
	if (tintin_add_file(d->log, path, c->log_level, TINTIN_TEXT) == -1) {
		fprintf(stderr, "Matt_daemon: cannot open log file %s: %s\n",
		    path, strerror(errno));
		exit(1);
	}
	for (i = 0; i < c->nsinks; i++) {
		if ((idx = tintin_add_file(d->log, c->sinks[i].path,
		    c->sinks[i].level, c->sinks[i].format)) == -1) {
			fprintf(stderr, "Matt_daemon: cannot open log file %s "
			    "([sink %s]): %s\n", c->sinks[i].path,
			    c->sinks[i].name, strerror(errno));
			exit(1);
		}
		if (c->sinks[i].events != 0)
			tintin_set_categories(d->log, idx, c->sinks[i].events);
	}
	forward_note_start(path);
	/* tcp://, tls:// and relp:// go through the forwarder child, from
	 * the file; udp:// and unix: through the library's syslog sink. */
	if (c->forward_target[0] != '\0' &&
	    !forward_wanted(c->forward_target) && (d->m.forward_sink =
	    tintin_add_syslog(d->log, c->forward_target, c->forward_level,
	    err, sizeof(err))) == -1) {
		fprintf(stderr, "Matt_daemon: [forward] target %s: %s\n",
		    c->forward_target, err);
		exit(1);
	}
	if (d->foreground & DAEMON_STDERR)
		tintin_add_fd(d->log, STDERR_FILENO, c->log_level,
		    TINTIN_TEXT);
	tintin_set_error_cb(d->log, on_log_error, d);
	/* Before the first record: a file of an earlier period goes first. */
	tintin_set_rotation(d->log, &c->rotation);
}

static void
take_lock(struct daemon *d)
{
	snprintf(d->lock_path, sizeof(d->lock_path), "%s", d->cfg->lock_file);
	if ((d->lock_fd = lock_acquire(d->lock_path)) >= 0)
		return;
	if (errno == EWOULDBLOCK) {
		fprintf(stderr, "Can't open :%s\n", d->lock_path);
		tintin_log(d->log, TINTIN_ERROR, "Error file locked.");
	} else {
		fprintf(stderr, "Can't open :%s\n", d->lock_path);
		fprintf(stderr, "Matt_daemon: %s: %s\n", d->lock_path,
		    errno == ELOOP ? "is a symbolic link, refusing it" :
		    errno == EINVAL ? "not a regular file" : strerror(errno));
		tintin_log(d->log, TINTIN_ERROR, "Cannot open lock file %s: "
		    "%s.", d->lock_path, errno == ELOOP ?
		    "symbolic link refused" : strerror(errno));
	}
	d->exit_status = 1;
	daemon_exit(d);
}

/*
 * The local socket, if any.  A group named in the file exists (checked
 * with the configuration); the default one may be missing on a system
 * without it: then the socket is root's only, and we say so.
 */
static void
open_local(struct daemon *d)
{
	struct config *cfg = d->cfg;
	struct group *gr;

	if (cfg->local_socket[0] == '\0')
		return;
	if ((gr = getgrnam(cfg->local_group)) != NULL)
		d->server.local_gid = gr->gr_gid;
	else if (cfg->local_group_set)
		startup_fail(d, "no group %s for the local socket",
		    cfg->local_group);
	else {
		d->server.local_gid = 0;
		tintin_log(d->log, TINTIN_WARN, "No group %s: the local "
		    "socket %s is root's only.", cfg->local_group,
		    cfg->local_socket);
	}
	snprintf(d->server.local_path, sizeof(d->server.local_path), "%s",
	    cfg->local_socket);
	if ((d->server.local_io.fd = server_listen_local(d->server.local_path,
	    d->server.local_gid)) == -1)
		startup_fail(d, "cannot create the local socket %s: %s",
		    d->server.local_path, errno == ELOOP ? "it is a symbolic link, "
		    "refusing it" : errno == EEXIST ? "something that is not "
		    "a socket is in the way" : strerror(errno));
}

static void
on_archiver_exit(void *arg, pid_t pid, int status)
{
	struct daemon *d = arg;

	(void)tintin_child_exited(d->log, (int)pid, status);
}

static void
on_tick(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct daemon *d = io->arg;
	uint64_t ticks;
	pid_t archiver;

	(void)l;
	(void)events;
	if (read(io->fd, &ticks, sizeof(ticks)) > 0) {
		client_tick(&d->sessions);
		command_auth_tick(&d->sessions);
		shell_tick(&d->sessions);
		alert_tick(d->alerts);
		mail_tick(d->mailer);
		metrics_http_tick(d->metrics_http);
		forward_tick(d->forward);
		archiver = tintin_archiver_pid(d->log);
		tintin_tick(d->log);
		/* The archiver may be reaped (and started) in there too. */
		if (archiver > 0 && archiver != tintin_archiver_pid(d->log))
			child_forget(archiver);
		archiver = tintin_archiver_pid(d->log);
		if (archiver > 0 && child_signal(archiver, 0) == -1)
			(void)child_watch(archiver, on_archiver_exit, d);
	}
}

static int
start_timer(struct daemon *d)
{
	struct itimerspec its;
	int fd;

	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd == -1)
		return -1;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = 1;
	its.it_interval.tv_sec = 1;
	if (timerfd_settime(fd, 0, &its, NULL) == -1) {
		close(fd);
		return -1;
	}
	d->timer_io.fd = fd;
	d->timer_io.cb = on_tick;
	d->timer_io.arg = d;
	return loop_add(&d->loop, &d->timer_io, EPOLLIN);
}

static void
on_follow(void *arg, const char *records, size_t len)
{
	client_follow_records(arg, records, len);
}

/* End of every loop turn: free closed clients, write the turn's records. */
static void
before_sleep(struct loop *l, void *arg)
{
	struct daemon *d = arg;

	(void)l;
	client_reap(&d->sessions);
	metrics_http_reap(d->metrics_http);
	tintin_flush(d->log);
}

/* A signal ends the daemon cleanly. */
static void
stop_on_signal(void *arg)
{
	daemon_stop(arg, 0);
}

/* After detaching: set up the loop; NULL or what went wrong. */
static const char *
serve_setup(struct daemon *d, int listen_fd, int local_fd)
{
	struct crash_ctx crash;

	d->sessions.scratch_size = 64 + ESCAPE_BOUND(d->cfg->max_line);
	if ((d->sessions.scratch = malloc(d->sessions.scratch_size)) == NULL)
		return "out of memory";
	if (loop_init(&d->loop) == -1)
		return "cannot create the event loop";
	d->loop.before_sleep = before_sleep;
	d->loop.hook_arg = d;
	if (signals_start(&d->loop, d->log, stop_on_signal, d) == -1)
		return "cannot set up signal handling";
	crash.loop = &d->loop;
	crash.log = &d->log;
	crash.lock_fd = &d->lock_fd;
	crash.lock_path = d->lock_path;
	if (crash_start(&crash) == -1)
		return "cannot set up crash handlers";
	if (start_timer(d) == -1)
		return "cannot create the housekeeping timer";
	/* /follow: a sink that stays off while nobody follows. */
	d->sessions.follow_sink = tintin_add_callback(d->log, d->cfg->log_level,
	    TINTIN_TEXT, on_follow, &d->sessions);
	if (d->sessions.follow_sink == -1 ||
	    tintin_set_enabled(d->log, d->sessions.follow_sink, 0) == -1)
		return "cannot set up /follow";
	/* After detaching: the mailer's children are the daemon's. */
	if (alerts_start(d) == -1)
		return "cannot set up mail alerts";
	if (d->cfg->forward_target[0] != '\0' &&
	    forward_wanted(d->cfg->forward_target) &&
	    (d->forward = forward_start(d->cfg, &d->loop, d->log)) == NULL)
		return "cannot start the forwarder";

	if (server_start(&d->server, listen_fd, local_fd) == -1)
		return "cannot watch the listening sockets";
	if (d->metrics_fd >= 0) {
		if ((d->metrics_http = metrics_http_start(&d->loop,
		    d->metrics_fd, &d->m)) == NULL)
			return "cannot watch the metrics socket";
		d->metrics_fd = -1;	/* it is its own now */
	}
	if (lock_write_pid(d->lock_fd, getpid()) == -1)
		return "cannot write the PID into the lock file";
	return NULL;
}

/*
 * Which of TLS, authentication, the shell, alerts and forwarding are on,
 * in one record; only when one is: the subject's sequence stays exact.
 */
static void
log_features(struct daemon *d)
{
	const struct config *c = d->cfg;

	if (c->tls_mode == MODE_OFF && c->auth_mode == MODE_OFF &&
	    !c->shell_enabled && c->nalerts == 0 &&
	    c->forward_target[0] == '\0')
		return;
	tintin_log(d->log, TINTIN_INFO, "Features: tls=%s auth=%s shell=%s "
	    "alerts=%d forward=%s.", config_mode_name(c->tls_mode),
	    config_mode_name(c->auth_mode), c->shell_enabled ? "on" : "off",
	    c->nalerts, c->forward_target[0] != '\0' ? c->forward_target :
	    "none");
}

void
daemon_main(struct config *cfg, int foreground)
{
	struct daemon *d = &the_daemon;
	const char *err;
	char msg[256];
	int lfd, ready = -1;

	d->cfg = cfg;
	d->foreground = foreground;
	d->lock_fd = -1;
	d->server.spare_fd = -1;
	d->server.listen_io.fd = -1;
	d->server.local_io.fd = -1;
	d->metrics_fd = -1;
	d->sessions.cfg = cfg;
	d->sessions.loop = &d->loop;
	d->sessions.ops = &command_ops;
	d->sessions.m = &d->m;
	d->sessions.status_more = status_forward;
	d->sessions.status_arg = d;
	d->server.s = &d->sessions;
	metrics_wire(d);

	open_logs(d);
	d->sessions.log = d->log;
	tintin_log(d->log, TINTIN_INFO, "Started.");
	take_lock(d);
	tintin_log(d->log, TINTIN_INFO, "Creating server.");
	if ((lfd = server_listen(cfg->listen, cfg->port)) == -1)
		startup_fail(d, "cannot listen on %s:%d: %s", cfg->listen,
		    cfg->port, strerror(errno));
	d->server.listen_io.fd = lfd;
	if (cfg->metrics_addr[0] != '\0' && (d->metrics_fd = server_listen(
	    cfg->metrics_addr, cfg->metrics_port)) == -1)
		startup_fail(d, "cannot listen on %s:%d for metrics: %s",
		    cfg->metrics_addr, cfg->metrics_port, strerror(errno));
	open_local(d);
	if (cfg->tls_mode != MODE_OFF &&
	    (tls_ensure_files(cfg->tls_cert, cfg->tls_key, msg,
	    sizeof(msg)) == -1 || tls_init(cfg->tls_cert, cfg->tls_key, msg,
	    sizeof(msg)) == -1))
		startup_fail(d, "TLS: %s", msg);
	tintin_log(d->log, TINTIN_INFO, "Server created.");
	tintin_log(d->log, TINTIN_INFO, "Entering Daemon mode.");
	if (!foreground && (ready = daemonize()) == -1)
		startup_fail(d, "cannot fork: %s", strerror(errno));
	if ((err = serve_setup(d, lfd, d->server.local_io.fd)) != NULL) {
		snprintf(msg, sizeof(msg), "Matt_daemon: %s: %s\n", err,
		    strerror(errno));
		tintin_log(d->log, TINTIN_ERROR, "%s: %s.", err,
		    strerror(errno));
		if (foreground)
			fputs(msg, stderr);
		daemonize_fail(ready, msg);
		d->exit_status = 1;
		daemon_exit(d);
	}
	tintin_log(d->log, TINTIN_INFO, "started. PID: %ld.", (long)getpid());
	log_features(d);
	daemonize_ready(ready);
	snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%ld", (long)getpid());
	(void)notify_send(msg);
	tintin_set_buffered(d->log, 1);
	if (loop_run(&d->loop) == -1) {
		tintin_log(d->log, TINTIN_ERROR, "Event loop failed: %s.",
		    strerror(errno));
		d->exit_status = 1;
	}
	daemon_exit(d);
}
