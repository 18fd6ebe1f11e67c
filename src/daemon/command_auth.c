/*
 * /auth and the password guard's side of it: an attempt waits its turn
 * (auth.c says how long), then a password is checked by a child and a
 * key against the authorized keys, and the answer comes at once.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon/auth.h"
#include "daemon/child.h"
#include "daemon/client.h"
#include "daemon/command.h"
#include "daemon/command_auth.h"
#include "daemon/daemon.h"
#include "daemon/tls.h"

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
	crossed = auth_attempt_end(&c->net, loop_now(), &l,
	    role == ROLE_NONE, &locked);
	d->m.logins[strcmp(method, "key") == 0 ? METRICS_LOGIN_KEY :
	    METRICS_LOGIN_PASSWORD][role != ROLE_NONE]++;
	if (role != ROLE_NONE) {
		snprintf(c->user, sizeof(c->user), "%s", name);
		c->role = role;
		c->redact_next = 0;
		c->last_active = loop_now();
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
	c->held_clean = auth_net_clean(&c->net, loop_now(), &l);
	v = auth_attempt_begin(&c->net, loop_now(), &l, &wait, &left);
	if (v != AUTH_GO) {
		tintin_log_cat(d->log, TINTIN_WARN, CAT_AUTH, "Authentication "
		    "of %s from %s refused: %s (%us left).", name, c->addr,
		    v == AUTH_LOCKED ? "network locked out" : "too many failed "
		    "logins from all addresses, this network among them",
		    left);
		d->m.refused[METRICS_REFUSED_LOCKOUT]++;
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
	(void)auth_attempt_end(&c->net, loop_now(), &l, c->check_pid != 0,
	    &locked);
	c->attempting = 0;
	c->hold_until = 0;
	wipe_secret(c);
}

void
command_auth_run(struct client *c, char *args)
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
