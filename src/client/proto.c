/* The Matt_daemon protocol (docs/PROTOCOL.md) as the clients speak it:
 * reply kinds, their exit statuses and hints, and /auth. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/afk.h"

static const struct {
	const char		*prefix;
	enum proto_reply	 kind;
	int			 status;
	const char		*hint;
} replies[] = {
	{ "-ERR too many clients", PROTO_ERR_CLIENTS, AFK_EXIT_CONNECT,
	  "the daemon serves its maximum number of clients; try again "
	  "later" },
	{ "-ERR TLS required", PROTO_ERR_TLS_REQUIRED, AFK_EXIT_CONNECT,
	  "the daemon only accepts TLS sessions: add --tls" },
	{ "-ERR authentication required", PROTO_ERR_AUTH_REQUIRED,
	  AFK_EXIT_AUTH,
	  "log in with -u USER (password) or -u USER -i KEYFILE (key)" },
	{ "-ERR authentication failed", PROTO_ERR_AUTH_FAILED, AFK_EXIT_AUTH,
	  "wrong user name, password or key" },
	{ "-ERR locked out", PROTO_ERR_LOCKED, AFK_EXIT_AUTH,
	  "too many failed attempts from this address" },
	{ "-ERR password authentication needs TLS", PROTO_ERR_NEEDS_TLS,
	  AFK_EXIT_AUTH, "connect with --tls" },
	{ "-ERR authentication is off", PROTO_ERR_AUTH_OFF, AFK_EXIT_AUTH,
	  "the daemon has no users: connect without -u/-i" },
	{ "-ERR permission denied", PROTO_ERR_PERMISSION, AFK_EXIT_ERROR,
	  "this needs an admin account" },
	{ "-ERR idle timeout", PROTO_ERR_IDLE, AFK_EXIT_ERROR, NULL },
};

#define NREPLIES	(sizeof(replies) / sizeof(replies[0]))

enum proto_reply
proto_classify(const char *line)
{
	size_t i, n;

	if (strcmp(line, "+OK") == 0 || strncmp(line, "+OK ", 4) == 0)
		return PROTO_OK;
	if (strcmp(line, "-ERR") != 0 && strncmp(line, "-ERR ", 5) != 0)
		return PROTO_NONE;
	for (i = 0; i < NREPLIES; i++) {
		n = strlen(replies[i].prefix);
		if (strncmp(line, replies[i].prefix, n) == 0 &&
		    (line[n] == '\0' || line[n] == ' ' || line[n] == ','))
			return replies[i].kind;
	}
	return PROTO_ERR;
}

int
proto_exit_status(enum proto_reply kind)
{
	size_t i;

	if (kind == PROTO_OK)
		return AFK_EXIT_OK;
	for (i = 0; i < NREPLIES; i++)
		if (replies[i].kind == kind)
			return replies[i].status;
	return AFK_EXIT_ERROR;
}

const char *
proto_hint(enum proto_reply kind)
{
	size_t i;

	for (i = 0; i < NREPLIES; i++)
		if (replies[i].kind == kind)
			return replies[i].hint;
	return NULL;
}

int
proto_send(struct conn *c, const char *line, int timeout_ms)
{
	size_t len = strlen(line);
	char buf[AFK_LINE_MAX];

	if (len + 1 > sizeof(buf)) {
		snprintf(c->err, sizeof(c->err), "line too long");
		return -1;
	}
	memcpy(buf, line, len);
	buf[len] = '\n';
	return conn_write(c, buf, len + 1, timeout_ms);
}

enum proto_reply
proto_auth(struct conn *c, const char *user, const char *pass, char *reply,
    size_t size, int timeout_ms)
{
	char buf[AFK_LINE_MAX];
	enum proto_reply kind;
	int n, rc;

	if (strpbrk(user, " \t\r\n") != NULL || *user == '\0' ||
	    (pass != NULL && strpbrk(pass, "\r\n") != NULL)) {
		snprintf(c->err, sizeof(c->err), "bad user name or password");
		return PROTO_NONE;
	}
	if (pass != NULL)
		n = snprintf(buf, sizeof(buf), "/auth password %s %s\n", user,
		    pass);
	else
		n = snprintf(buf, sizeof(buf), "/auth key %s\n", user);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		explicit_bzero(buf, sizeof(buf));
		snprintf(c->err, sizeof(c->err), "user name or password too "
		    "long");
		return PROTO_NONE;
	}
	rc = conn_write(c, buf, (size_t)n, timeout_ms);
	explicit_bzero(buf, sizeof(buf));
	if (rc == -1)
		return PROTO_NONE;
	/* Failures are answered late on purpose (up to 8 s). */
	for (;;) {
		rc = conn_read_line(c, reply, size, timeout_ms);
		if (rc == 0) {
			snprintf(c->err, sizeof(c->err), "no answer to /auth "
			    "within %d s", timeout_ms / 1000);
			return PROTO_NONE;
		}
		if (rc == -1)
			return PROTO_NONE;
		kind = proto_classify(reply);
		if (kind != PROTO_NONE)
			return kind;
	}
}
