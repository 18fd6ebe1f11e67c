/*
 * /auth and the password guard's side of it: an attempt waits its turn
 * (auth.c says how long), then a password is checked by a child
 * (auth_check.c) and a key against the authorized keys, and the answer
 * comes at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/session/auth.h"
#include "daemon/session/auth_check.h"
#include "daemon/session/client.h"
#include "daemon/session/command_auth.h"
#include "daemon/session/tls.h"

static void	cancel(struct client *);

static void
limits_of(const struct config *cfg, struct auth_limits *l)
{
	l->max_failures = cfg->auth_max_failures;
	l->lockout = cfg->auth_lockout;
	l->global_max = cfg->auth_global_max;
	l->global_window = cfg->auth_global_window;
	l->penalty = cfg->auth_penalty;
	l->penalty_min = cfg->auth_penalty_min;
	l->penalty_max = cfg->auth_penalty_max;
}

/* A failed attempt: logged, answered at once; too many close C. */
static void
auth_failed(struct client *c, const char *name, const char *method,
    int locked, int crossed)
{
	struct sessions *d = c->d;
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
	struct sessions *d = c->d;
	struct auth_limits l;
	char reply[160];
	int locked, crossed;

	limits_of(d->cfg, &l);
	c->attempting = 0;
	crossed = auth_attempt_end(&c->net, loop_now(), &l,
	    role == ROLE_NONE, &locked);
	if (role != ROLE_NONE && !client_login_fits(c, role)) {
		tintin_log_cat(d->log, TINTIN_WARN, CAT_AUTH, "Authentication "
		    "of %s from %s refused: every slot is taken, the rest are "
		    "for admins.", name, c->addr);
		d->m->refused[METRICS_REFUSED_FULL]++;
		client_reply(c, "-ERR every slot is taken: only an admin may "
		    "log in now\n");
		client_close(c, "slots full: only an admin may log in");
		return;
	}
	d->m->logins[strcmp(method, "key") == 0 ? METRICS_LOGIN_KEY :
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

/* The child's answer to a password check. */
static void
on_checked(void *arg, const char *user, int role)
{
	struct client *c = arg;

	auth_done(c, user, "password", role);
}

/* Check PASSWORD for NAME in a child; C is not read meanwhile. */
static void
check_password(struct client *c, const char *name, const char *password)
{
	if (auth_check_start(&c->check, c->d->loop, c->d->cfg->auth_users,
	    name, password, on_checked, c) == -1) {
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
	struct sessions *d = c->d;
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
		d->m->refused[METRICS_REFUSED_LOCKOUT]++;
		snprintf(reply, sizeof(reply), "-ERR locked out, try again in "
		    "%us\n", left);
		client_reply(c, reply);
		(void)client_refused(c);
		return;
	}
	c->attempting = 1;
	c->held_key = password == NULL;
	snprintf(c->held_user, sizeof(c->held_user), "%s", name);
	if (password != NULL && (c->held_secret = strdup(password)) == NULL) {
		cancel(c);
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

	memcpy(name, c->held_user, sizeof(name));
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
	if (!auth_check_busy(&c->check) && c->attempting && !c->dead) {
		/* The check could not start (answered already). */
		cancel(c);
		client_resume(c);
	}
}

static void
cancel(struct client *c)
{
	struct auth_limits l;
	int locked;

	limits_of(c->d->cfg, &l);
	/* Gone during its check: a guess made, counted as a failure. */
	(void)auth_attempt_end(&c->net, loop_now(), &l,
	    auth_check_busy(&c->check),
	    &locked);
	c->attempting = 0;
	c->hold_until = 0;
	wipe_secret(c);
}

void
command_auth_charge(struct sessions *d, const struct auth_net *from)
{
	struct auth_limits l;
	unsigned left;
	char net[INET6_ADDRSTRLEN + 8];

	limits_of(d->cfg, &l);
	if (!auth_noauth(from, loop_now(), &l, &left))
		return;
	auth_net_text(from, d->cfg->auth_ipv4_prefix,
	    d->cfg->auth_ipv6_prefix, net, sizeof(net));
	tintin_log_cat(d->log, TINTIN_WARN, CAT_AUTH, "Network %s penalized "
	    "for %us: too many connections without a login; its new "
	    "connections are refused until then.", net, left);
}

int
command_auth_penalized(struct sessions *d, const struct auth_net *from,
    unsigned *left)
{
	struct auth_limits l;

	limits_of(d->cfg, &l);
	return auth_penalized(from, loop_now(), &l, left);
}

void
command_auth_tick(struct sessions *d)
{
	struct auth_net net;
	unsigned refused;
	char text[INET6_ADDRSTRLEN + 8];

	if (d->cfg->auth_mode != MODE_REQUIRED)
		return;		/* no penalty is ever charged */
	while (auth_penalty_over(loop_now(), &net, &refused)) {
		auth_net_text(&net, d->cfg->auth_ipv4_prefix,
		    d->cfg->auth_ipv6_prefix, text, sizeof(text));
		tintin_log_cat(d->log, TINTIN_INFO, CAT_AUTH, "Network %s is "
		    "no longer penalized: %u connections refused meanwhile.",
		    text, refused);
	}
}

void
command_auth_close(struct client *c)
{
	if (c->attempting)
		cancel(c);
	auth_check_stop(&c->check);
	if (c->d->cfg->auth_mode == MODE_REQUIRED && c->role == ROLE_NONE &&
	    !c->local && !c->d->stopping)
		command_auth_charge(c->d, &c->net);
}

void
command_auth_run(struct client *c, char *args)
{
	struct sessions *d = c->d;
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
		(void)client_refused(c);
		return;
	}
	if (strcmp(method, "key") == 0) {
		if (c->tls == NULL || tls_peer_key(c->tls, key,
		    sizeof(key)) == -1) {
			client_reply(c, "-ERR key authentication needs TLS "
			    "with a client certificate\n");
			(void)client_refused(c);
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
		(void)client_refused(c);
		return;
	}
	auth_begin(c, name, secret);
}
