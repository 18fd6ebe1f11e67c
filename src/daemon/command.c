/*
 * Slash commands (docs/PROTOCOL.md).  Only lines that are a known command
 * are taken as commands; any other line, even one starting with '/', is
 * user input, so plain `nc` users see no difference.  Every command gets
 * one reply line, +OK or -ERR, and is logged without its secrets.  What
 * shows the log (/tail, /follow, /clients) needs a session that proved
 * who it is, in every mode; /rotate an admin.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/escape.h"
#include "daemon/auth.h"
#include "daemon/child.h"
#include "daemon/client.h"
#include "daemon/cmdline.h"
#include "daemon/command.h"
#include "daemon/daemon.h"
#include "daemon/shell.h"
#include "daemon/tls.h"

#define ARGS_MAX	512

#define REFUSAL_MAX	256

enum need {
	NEED_NOTHING = 0,	/* anyone, even before /auth */
	NEED_SESSION,		/* authenticated when auth is required */
	NEED_USER,		/* an authenticated user, in every mode */
	NEED_ADMIN,		/* an admin, in every mode */
	NEED_SHELL		/* an admin when auth is on; cmd_shell()
				 * checks the rest (enabled, TLS, admin) */
};

struct command {
	const char	*name;
	int		 need;
	int		 takes_args;
	int		 quiet;		/* changes nothing: logged at DEBUG */
	void		(*run)(struct client *c, char *args);
};

static void	cmd_auth(struct client *, char *);
static void	cmd_clients(struct client *, char *);
static void	cmd_follow(struct client *, char *);
static void	cmd_shell(struct client *, char *);
static void	cmd_tail(struct client *, char *);
static void	cmd_help(struct client *, char *);
static void	cmd_ping(struct client *, char *);
static void	cmd_rotate(struct client *, char *);
static void	cmd_status(struct client *, char *);
static void	cmd_whoami(struct client *, char *);

static const struct command commands[] = {
	{ "/help",	NEED_NOTHING,	0, 1, cmd_help },
	{ "/ping",	NEED_NOTHING,	0, 1, cmd_ping },
	{ "/status",	NEED_SESSION,	0, 1, cmd_status },
	{ "/whoami",	NEED_NOTHING,	0, 1, cmd_whoami },
	{ "/auth",	NEED_NOTHING,	1, 0, cmd_auth },
	{ "/rotate",	NEED_ADMIN,	0, 0, cmd_rotate },
	{ "/clients",	NEED_USER,	0, 0, cmd_clients },
	{ "/tail",	NEED_USER,	1, 0, cmd_tail },
	{ "/follow",	NEED_USER,	1, 0, cmd_follow },
	{ "/shell",	NEED_SHELL,	1, 0, cmd_shell },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static const char *
who(const struct client *c)
{
	return c->role != ROLE_NONE ? c->user : "anonymous";
}

/*
 * May C run command NAME, which needs NEED?  NULL, or the -ERR reply
 * (in BUF).  The rules go by the session's role, whatever the mode: with
 * authentication off, a session has a role only through the local
 * socket, and the reply says how to get one.
 */
static const char *
refusal(const struct client *c, const char *name, int need, char *buf)
{
	int mode = c->d->cfg->auth_mode;

	if (need == NEED_NOTHING || (need == NEED_SHELL && mode == MODE_OFF))
		return NULL;
	if (c->role == ROLE_NONE && mode == MODE_REQUIRED)
		return "-ERR authentication required\n";
	if (need == NEED_SESSION || (need == NEED_USER &&
	    c->role != ROLE_NONE) || c->role == ROLE_ADMIN)
		return NULL;
	if (c->role != ROLE_NONE || mode != MODE_OFF)
		return "-ERR permission denied\n";
	if (need == NEED_USER)
		snprintf(buf, REFUSAL_MAX, "-ERR %s needs a logged-in user: "
		    "set [auth] mode in matt_daemon.conf, or use the local "
		    "socket as root or a member of %s\n", name,
		    c->d->cfg->local_group);
	else
		snprintf(buf, REFUSAL_MAX, "-ERR %s needs an admin: set "
		    "[auth] mode in matt_daemon.conf, or use the local socket "
		    "as root\n", name);
	return buf;
}

static void
cmd_help(struct client *c, char *args)
{
	char buf[256], no[REFUSAL_MAX];
	size_t i;

	(void)args;
	snprintf(buf, sizeof(buf), "+OK commands:");
	for (i = 0; i < NCOMMANDS; i++) {
		if (refusal(c, commands[i].name, commands[i].need, no) != NULL)
			continue;
		/* /shell also needs it enabled, TLS and an admin. */
		if (commands[i].run == cmd_shell && (!c->d->cfg->shell_enabled
		    || (c->tls == NULL && !(c->local && c->uid == 0)) ||
		    c->role != ROLE_ADMIN))
			continue;
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %s",
		    commands[i].name);
	}
	/* quit: the subject's rule with auth off, else an admin. */
	if (c->d->cfg->auth_mode == MODE_OFF || c->role == ROLE_ADMIN)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
		    " quit");
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "\n");
	client_reply(c, buf);
}

static void
cmd_ping(struct client *c, char *args)
{
	(void)args;
	/* Every line before this one is in the files when we answer. */
	tintin_flush(c->d->log);
	client_reply(c, "+OK pong\n");
}

static void
cmd_whoami(struct client *c, char *args)
{
	char buf[160];

	(void)args;
	if (c->role == ROLE_NONE)
		snprintf(buf, sizeof(buf), "+OK anonymous%s\n",
		    c->tls ? ", tls" : c->local ? ", local" : "");
	else
		snprintf(buf, sizeof(buf), "+OK %s (%s)%s\n", c->user,
		    auth_role_name(c->role), c->tls ? ", tls" : c->local ?
		    ", local" : "");
	client_reply(c, buf);
}

static void
cmd_status(struct client *c, char *args)
{
	struct daemon *d = c->d;
	uint64_t size, abytes;
	unsigned narch;
	char buf[400];

	(void)args;
	/* Sink 0 is the main log file. */
	(void)tintin_sink_files(d->log, 0, &size, &narch, &abytes);
	snprintf(buf, sizeof(buf), "+OK version=%s pid=%ld uptime=%ld "
	    "clients=%d lines=%llu bytes=%llu tls=%s auth=%s log_size=%llu "
	    "archives=%u archive_bytes=%llu\n", MD_VERSION, (long)getpid(),
	    (long)(time(NULL) - d->started), d->nclients,
	    (unsigned long long)d->lines, (unsigned long long)d->bytes,
	    config_mode_name(d->cfg->tls_mode),
	    config_mode_name(d->cfg->auth_mode), (unsigned long long)size,
	    narch, (unsigned long long)abytes);
	client_reply(c, buf);
}

static void
cmd_clients(struct client *c, char *args)
{
	struct daemon *d = c->d;
	struct client *o;
	char line[256];
	int n = 0;

	(void)args;
	for (o = d->clients; o != NULL; o = o->next)
		n += !o->dead;
	snprintf(line, sizeof(line), "+OK %d clients\n", n);
	client_reply(c, line);
	for (o = d->clients; o != NULL && !c->dead; o = o->next) {
		if (o->dead)
			continue;
		snprintf(line, sizeof(line), "%s user=%s role=%s tls=%s "
		    "since=%ld mode=%s\n", o->addr, o->role ? o->user : "-",
		    auth_role_name(o->role), o->tls ? "yes" : "no",
		    (long)o->since, o->shell ? "shell" : o->following ?
		    "follow" : "lines");
		client_reply(c, line);
	}
}


/*
 * Where the last WANT lines of BUF (LEN bytes, its last byte ending a
 * line) begin; *LINES gets how many there are.  When BUF does not start
 * the file (CUT), its first line may be a piece of one: it is left out.
 */
static const char *
last_lines(const char *buf, size_t len, long want, int cut, long *lines)
{
	const char *p, *first = NULL;
	long n = 0;

	*lines = 0;
	if (len == 0)
		return buf;
	for (p = buf + len - 1; p > buf; p--) {
		if (p[-1] != '\n')
			continue;
		first = p;
		if (++n == want) {
			*lines = n;
			return p;
		}
	}
	if (!cut) {
		*lines = n + 1;
		return buf;
	}
	*lines = n;
	return first != NULL ? first : buf + len;
}

/*
 * The end of the main log, MAX bytes at most, into *BUF (malloc'd, or
 * NULL if empty) and *LEN; *CUT when that is not the whole file.  Replies
 * the error itself: 0 or -1.
 */
static int
read_log_end(struct client *c, off_t max, char **buf, size_t *len, int *cut)
{
	char path[PATH_MAX];
	struct stat st;
	off_t start;
	ssize_t got;
	int fd;

	*buf = NULL;
	*len = 0;
	tintin_flush(c->d->log);
	config_log_path(c->d->cfg, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    fstat(fd, &st) == -1) {
		if (fd != -1)
			close(fd);
		client_reply(c, "-ERR cannot read the log\n");
		return -1;
	}
	start = st.st_size > max ? st.st_size - max : 0;
	*cut = start > 0;
	if (st.st_size > start &&
	    (*buf = malloc((size_t)(st.st_size - start))) == NULL) {
		close(fd);
		client_reply(c, "-ERR out of memory\n");
		return -1;
	}
	got = *buf != NULL ? pread(fd, *buf, (size_t)(st.st_size - start),
	    start) : 0;
	close(fd);
	*len = got > 0 ? (size_t)got : 0;
	return 0;
}

/*
 * The last N (default 10) records of the main log, as many of them as the
 * client's output buffer can take at once.
 */
static void
cmd_tail(struct client *c, char *args)
{
	char hdr[64], *buf, *end;
	const char *p;
	long want = 10, lines;
	size_t len, room = client_room(c);
	int cut;

	if (*args != '\0') {
		want = strtol(args, &end, 10);
		if (*end != '\0' || want < 1 || want > 1000) {
			client_reply(c, "-ERR usage: /tail [1-1000]\n");
			return;
		}
	}
	room = room > sizeof(hdr) ? room - sizeof(hdr) : 0;
	if (read_log_end(c, (off_t)room, &buf, &len, &cut) == -1)
		return;
	p = last_lines(buf, len, want, cut, &lines);
	snprintf(hdr, sizeof(hdr), "+OK %ld records\n", lines);
	client_reply(c, hdr);
	if (lines > 0 && !c->dead)
		client_send_raw(c, NULL, 0, p, (size_t)(buf + len - p));
	free(buf);
}

/*
 * /follow: records only, until any line; /follow live: records as
 * "* RECORD" lines while the session goes on; /follow off ends that.
 */
static void
cmd_follow(struct client *c, char *args)
{
	if (strcmp(args, "off") == 0) {
		if (c->following == FOLLOW_OFF) {
			client_reply(c, "-ERR not following\n");
			return;
		}
		client_follow(c, FOLLOW_OFF);
		client_reply(c, "+OK follow ended\n");
	} else if (strcmp(args, "live") == 0) {
		client_reply(c, "+OK following live\n");
		if (!c->dead)
			client_follow(c, FOLLOW_LIVE);
	} else if (*args != '\0')
		client_reply(c, "-ERR usage: /follow [live|off]\n");
	else if (c->following != FOLLOW_OFF)
		client_reply(c, "-ERR already following: /follow off first\n");
	else {
		client_reply(c, "+OK following\n");
		if (!c->dead)
			client_follow(c, FOLLOW_PLAIN);
	}
}

static void
cmd_shell(struct client *c, char *args)
{
	struct daemon *d = c->d;
	char term[64] = "xterm", err[160], *save = NULL, *tok;
	int rows = 24, cols = 80;

	if (!d->cfg->shell_enabled) {
		tintin_log_cat(d->log, TINTIN_WARN, CAT_AUTH, "Shell refused "
		    "to %s (%s): disabled.", c->addr, who(c));
		client_reply(c, "-ERR shell is disabled\n");
		return;
	}
	/* The local socket needs no TLS: the kernel vouches for the uid. */
	if (c->tls == NULL && !c->local) {
		tintin_log_cat(d->log, TINTIN_WARN, CAT_AUTH, "Shell refused "
		    "to %s (%s): not over TLS.", c->addr, who(c));
		client_reply(c, "-ERR shell needs TLS\n");
		return;
	}
	if (c->role != ROLE_ADMIN || (c->local && c->uid != 0)) {
		tintin_log_cat(d->log, TINTIN_WARN, CAT_AUTH, "Shell refused "
		    "to %s (%s): not an authenticated admin.", c->addr, who(c));
		client_reply(c, "-ERR permission denied\n");
		return;
	}
	if ((tok = strtok_r(args, " ", &save)) != NULL) {
		snprintf(term, sizeof(term), "%s", tok);
		if ((tok = strtok_r(NULL, " ", &save)) != NULL) {
			rows = atoi(tok);
			tok = strtok_r(NULL, " ", &save);
			cols = tok ? atoi(tok) : 0;
		}
	}
	if (shell_start(c, term, rows, cols, err, sizeof(err)) == -1) {
		tintin_log_cat(d->log, TINTIN_ERROR, CAT_AUTH, "Shell for %s "
		    "from %s failed: %s.", c->user, c->addr, err);
		client_reply(c, "-ERR cannot start the shell\n");
		return;
	}
	tintin_log_cat(d->log, TINTIN_INFO, CAT_AUTH, "Shell session of %s "
	    "from %s started: pid %ld, %s %dx%d, %s as %s.", c->user, c->addr,
	    (long)shell_pid(c), term, cols, rows, d->cfg->shell_command,
	    d->cfg->shell_user);
	client_reply(c, "+OK shell\n");
}

/* /rotate, at most once per [log] rotate_min_interval, whoever asks. */
static void
cmd_rotate(struct client *c, char *args)
{
	static time_t last;	/* monotonic, of the last /rotate done */
	static int done;
	unsigned every = c->d->cfg->rotate_min_interval;
	time_t now = client_now();
	char reply[128];
	long left;

	(void)args;
	if (every > 0 && done && now - last < (time_t)every) {
		left = (long)(last + (time_t)every - now);
		tintin_log_cat(c->d->log, TINTIN_WARN, CAT_COMMAND, "Refused "
		    "/rotate from %s (%s): the last one was %lds ago.",
		    c->addr, who(c), (long)(now - last));
		snprintf(reply, sizeof(reply), "-ERR too soon: one /rotate "
		    "every %us, try again in %lds\n", every, left);
		client_reply(c, reply);
		return;
	}
	if (tintin_rotate(c->d->log) == 0) {
		last = now;
		done = 1;
		client_reply(c, "+OK logs rotated\n");
	} else
		client_reply(c, "-ERR rotation failed, see the log\n");
}

static void
limits_of(const struct config *cfg, struct auth_limits *l)
{
	l->max_failures = cfg->auth_max_failures;
	l->lockout = cfg->auth_lockout;
	l->global_max = cfg->auth_global_max;
	l->global_window = cfg->auth_global_window;
}

/* A failed attempt: logged, answered at once; too many close C. */
static void
auth_failed(struct client *c, const char *name, const char *method,
    int locked, int crossed)
{
	struct daemon *d = c->d;
	struct auth_limits l;
	char why[64];

	c->redact_next = 1;
	c->auth_fails++;
	tintin_log_cat(d->log, TINTIN_WARN, CAT_AUTH, "Authentication of %s "
	    "from %s failed (%s).", name, c->addr, method);
	if (locked)
		tintin_log_cat(d->log, TINTIN_WARN, CAT_AUTH, "Network %s/%u "
		    "locked out for %us after %u failures.", c->ip,
		    c->net.family == 4 ? d->cfg->auth_ipv4_prefix :
		    d->cfg->auth_ipv6_prefix, d->cfg->auth_lockout,
		    d->cfg->auth_max_failures);
	if (crossed) {
		limits_of(d->cfg, &l);
		tintin_log_cat(d->log, TINTIN_WARN, CAT_AUTH, "Failed logins "
		    "from all addresses reached %u in %us: every check now "
		    "waits its turn, %us apart.", d->cfg->auth_global_max,
		    d->cfg->auth_global_window, auth_global_spacing(&l));
	}
	client_reply(c, "-ERR authentication failed\n");
	if (c->auth_fails >= d->cfg->auth_max_tries) {
		snprintf(why, sizeof(why), "%u failed logins", c->auth_fails);
		client_close(c, why);
		return;
	}
	client_resume(c);
}

/*
 * The end of an authentication attempt, whatever its method: answered at
 * once, success or failure (the wait was paid before the check).
 */
static void
auth_done(struct client *c, const char *name, const char *method, int role)
{
	struct daemon *d = c->d;
	struct auth_limits l;
	char reply[160];
	int locked, crossed;

	limits_of(d->cfg, &l);
	c->attempting = 0;
	crossed = auth_attempt_end(&c->net, client_now(), &l,
	    role == ROLE_NONE, &locked);
	if (role != ROLE_NONE) {
		snprintf(c->user, sizeof(c->user), "%s", name);
		c->role = role;
		c->redact_next = 0;
		c->last_active = client_now();
		tintin_log_cat(d->log, TINTIN_INFO, CAT_AUTH, "Authentication "
		    "of %s from %s succeeded (%s, %s).", name, c->addr, method,
		    auth_role_name(role));
		snprintf(reply, sizeof(reply), "+OK authenticated as %s (%s)\n",
		    name, auth_role_name(role));
		client_reply(c, reply);
		client_resume(c);
		return;
	}
	auth_failed(c, name, method, locked, crossed);
}

/* The child checking a password answered (one byte) or died. */
static void
on_check(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct client *c = io->arg;
	char ok = 0;

	(void)events;
	if (read(io->fd, &ok, 1) != 1)
		ok = 0;
	(void)loop_del(l, io);
	close(io->fd);
	io->fd = -1;
	io->cb = NULL;
	child_forget(c->check_pid);	/* reaped by the SIGCHLD handler */
	c->check_pid = 0;
	auth_done(c, c->check_user, "password", ok == 1 ? c->check_role :
	    ROLE_NONE);
}

/* The checker was reaped: its PID is no longer one to signal. */
static void
on_check_exit(void *arg, pid_t pid, int status)
{
	struct client *c = arg;

	(void)pid;
	(void)status;
	c->check_pid = 0;
}

/*
 * yescrypt takes tens of milliseconds on purpose: a child does it so the
 * event loop never waits.  An unknown user's password is hashed all the
 * same, so the time of the answer tells nothing.
 */
static void
check_password(struct client *c, const char *name, char *password)
{
	char hash[AUTH_HASH_MAX];
	int p[2], role = ROLE_NONE;
	pid_t pid;
	char ok;

	if (auth_find_user(c->d->cfg->auth_users, name, hash, sizeof(hash),
	    &role) == -1) {
		hash[0] = '\0';	/* hashed all the same, then refused */
		role = ROLE_NONE;
	}
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1) {
		client_reply(c, "-ERR server error\n");
		return;
	}
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		client_reply(c, "-ERR server error\n");
		return;
	}
	if (pid == 0) {
		if (child_reset(p[1]) == -1)
			_exit(1);
		ok = auth_password_ok(hash[0] ? hash : NULL, password) ? 1 : 0;
		(void)write(3, &ok, 1);
		_exit(0);
	}
	close(p[1]);
	explicit_bzero(hash, sizeof(hash));
	(void)child_watch(pid, on_check_exit, c);
	c->check_pid = pid;
	c->check_role = role;
	snprintf(c->check_user, sizeof(c->check_user), "%s", name);
	c->check_io.fd = p[0];
	c->check_io.cb = on_check;
	c->check_io.arg = c;
	if (loop_add(&c->d->loop, &c->check_io, EPOLLIN) == -1) {
		(void)child_signal(pid, SIGKILL);
		child_forget(pid);
		close(p[0]);
		c->check_io.fd = -1;
		c->check_pid = 0;
		client_reply(c, "-ERR server error\n");
		return;
	}
	client_pause(c);
}

/*
 * An attempt by NAME, with PASSWORD or (NULL) the client's certificate.
 * Its wait comes first, from the failures of its network and of all
 * networks, while nothing is checked and C is not read; then the check,
 * answered at once.  A client that hangs up during the wait has nothing
 * checked and learns nothing; the next attempt pays the same wait.
 */
static void
auth_begin(struct client *c, const char *name, const char *password)
{
	struct daemon *d = c->d;
	struct auth_limits l;
	unsigned wait, left;
	char reply[96];
	int v;

	limits_of(d->cfg, &l);
	c->held_clean = auth_net_clean(&c->net, client_now(), &l);
	v = auth_attempt_begin(&c->net, client_now(), &l, &wait, &left);
	if (v != AUTH_GO) {
		tintin_log_cat(d->log, TINTIN_WARN, CAT_AUTH, "Authentication "
		    "of %s from %s refused: %s (%us left).", name, c->addr,
		    v == AUTH_LOCKED ? "network locked out" : "too many failed "
		    "logins from all addresses, this network among them",
		    left);
		snprintf(reply, sizeof(reply), "-ERR locked out, try again in "
		    "%us\n", left);
		client_reply(c, reply);
		return;
	}
	c->attempting = 1;
	c->held_key = password == NULL;
	snprintf(c->check_user, sizeof(c->check_user), "%s", name);
	if (password != NULL && (c->held_secret = strdup(password)) == NULL) {
		command_auth_cancel(c);
		client_reply(c, "-ERR server error\n");
		return;
	}
	if (wait == 0) {
		command_auth_due(c);
		return;
	}
	tintin_log_cat(d->log, TINTIN_DEBUG, CAT_AUTH, "Authentication of %s "
	    "from %s held %us before its check.", name, c->addr, wait);
	client_hold(c, wait);
}

static void
wipe_secret(struct client *c)
{
	if (c->held_secret != NULL) {
		explicit_bzero(c->held_secret, strlen(c->held_secret));
		free(c->held_secret);
		c->held_secret = NULL;
	}
}

void
command_auth_due(struct client *c)
{
	char name[AUTH_NAME_MAX], key[AUTH_KEY_MAX];
	int role = ROLE_NONE;

	memcpy(name, c->check_user, sizeof(name));
	if (c->held_key) {
		if (c->tls != NULL && tls_peer_key(c->tls, key,
		    sizeof(key)) == 0)
			role = auth_find_key(c->d->cfg->auth_keys, name, key);
		auth_done(c, name, "key", role);
		return;
	}
	check_password(c, name, c->held_secret != NULL ? c->held_secret :
	    "");
	wipe_secret(c);
	if (c->check_pid == 0 && c->attempting && !c->dead) {
		/* The check could not start (answered already). */
		command_auth_cancel(c);
		client_resume(c);
	}
}

void
command_auth_cancel(struct client *c)
{
	struct auth_limits l;
	int locked;

	limits_of(c->d->cfg, &l);
	/* Gone during its check: a guess made, counted as a failure. */
	(void)auth_attempt_end(&c->net, client_now(), &l, c->check_pid != 0,
	    &locked);
	c->attempting = 0;
	c->hold_until = 0;
	wipe_secret(c);
}

static void
cmd_auth(struct client *c, char *args)
{
	struct daemon *d = c->d;
	char *method, *name, *secret = NULL, key[AUTH_KEY_MAX];

	if (d->cfg->auth_mode == MODE_OFF) {
		client_reply(c, "-ERR authentication is off\n");
		return;
	}
	method = strtok_r(args, " ", &secret);
	name = method ? strtok_r(NULL, " ", &secret) : NULL;
	if (method == NULL || name == NULL || !auth_valid_name(name) ||
	    (strcmp(method, "password") == 0 && (secret == NULL ||
	    *secret == '\0')) || (strcmp(method, "password") != 0 &&
	    strcmp(method, "key") != 0)) {
		client_reply(c, "-ERR usage: /auth password NAME PASSWORD | "
		    "/auth key NAME\n");
		return;
	}
	if (strcmp(method, "key") == 0) {
		if (c->tls == NULL || tls_peer_key(c->tls, key,
		    sizeof(key)) == -1) {
			client_reply(c, "-ERR key authentication needs TLS "
			    "with a client certificate\n");
			return;
		}
		auth_begin(c, name, NULL);
		return;
	}
	if (c->tls == NULL && !d->cfg->auth_plaintext) {
		tintin_log_cat(d->log, TINTIN_WARN, CAT_AUTH, "Password of %s "
		    "from %s refused: not over TLS.", name, c->addr);
		c->redact_next = 1;
		client_reply(c, "-ERR password authentication needs TLS\n");
		return;
	}
	auth_begin(c, name, secret);
}

static void
log_command(struct client *c, const char *line, size_t len, int level)
{
	char esc[ESCAPE_BOUND(96) + 1];
	size_t n, keep = cmdline_loggable(line, len), cut = keep;

	if (cut > 96)
		cut = 96;
	n = escape_bytes(esc, line, cut);
	esc[n] = '\0';
	tintin_log_cat(c->d->log, level, CAT_COMMAND, "Command from %s "
	    "(%s): %s%s.", c->addr, who(c), esc, cut < keep ? "..." : "");
}

int
command_run(struct client *c, const char *line, size_t len)
{
	char args[ARGS_MAX], buf[REFUSAL_MAX];
	const struct command *cmd = NULL;
	const char *no;
	size_t i, nl;

	for (i = 0; i < NCOMMANDS; i++) {
		if (cmdline_match(commands[i].name, commands[i].takes_args,
		    line, len)) {
			cmd = &commands[i];
			break;
		}
	}
	if (cmd == NULL)
		return 0;
	/* Those that change nothing: a GUI polls /status all day. */
	log_command(c, line, len, cmd->quiet ? TINTIN_DEBUG : TINTIN_INFO);
	if ((no = refusal(c, cmd->name, cmd->need, buf)) != NULL) {
		tintin_log_cat(c->d->log, TINTIN_WARN, CAT_AUTH, "Refused %s "
		    "from %s (%s).", cmd->name, c->addr, who(c));
		client_reply(c, no);
		return 1;
	}
	nl = strlen(cmd->name);
	if (len - nl >= sizeof(args) || memchr(line, '\0', len) != NULL) {
		client_reply(c, "-ERR line too long or not text\n");
		return 1;
	}
	memcpy(args, line + nl, len - nl);
	args[len - nl] = '\0';
	cmd->run(c, args[0] == ' ' ? args + 1 : args);
	explicit_bzero(args, sizeof(args));
	return 1;
}
