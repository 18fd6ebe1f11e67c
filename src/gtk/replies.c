/* Ben_AFK-gtk: the daemon's replies put in words: sizes in KiB and MiB,
 * durations, epoch times as dates, errors as sentences. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gtk/replies.h"

char *
replies_field(const char *line, const char *name)
{
	char *key = g_strdup_printf(" %s=", name);
	const char *p = strstr(line, key);
	char *v = NULL;

	if (p == NULL && strncmp(line, key + 1, strlen(key) - 1) == 0)
		p = line - 1;	/* the first field of a data line */
	if (p != NULL) {
		p += strlen(key);
		v = g_strndup(p, strcspn(p, " "));
	}
	g_free(key);
	return v;
}

char *
replies_duration(long s)
{
	if (s >= 86400)
		return g_strdup_printf("%ldd %ldh", s / 86400,
		    s % 86400 / 3600);
	if (s >= 3600)
		return g_strdup_printf("%ldh %02ldm", s / 3600, s % 3600 / 60);
	if (s >= 60)
		return g_strdup_printf("%ldm %02lds", s / 60, s % 60);
	return g_strdup_printf("%lds", s);
}

char *
replies_size(const char *bytes)
{
	double v = bytes != NULL ? strtod(bytes, NULL) : 0;
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	int i = -1;

	if (v < 1024)
		return g_strdup_printf("%.0f bytes", v);
	while (v >= 1024 && i < 3) {
		v /= 1024;
		i++;
	}
	return g_strdup_printf(v < 10 ? "%.1f %s" : "%.0f %s", v, unit[i]);
}

/* An epoch time as a local date. */
static char *
date_of(const char *epoch)
{
	time_t t = epoch != NULL ? (time_t)strtoll(epoch, NULL, 10) : 0;
	struct tm tm;
	char buf[64];

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%d/%m/%Y %H:%M:%S", &tm) == 0)
		return g_strdup(epoch != NULL ? epoch : "?");
	return g_strdup(buf);
}

static const char *
or_q(const char *s)
{
	return s != NULL ? s : "?";
}

char *
replies_status(const char *line)
{
	static const char *const names[] = { "version", "pid", "uptime",
	    "clients", "lines", "bytes", "tls", "auth", "log_size", "archives",
	    "archive_bytes" };
	char *f[G_N_ELEMENTS(names)], *up, *bytes, *log, *arch, *text;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(names); i++)
		f[i] = replies_field(line, names[i]);
	up = replies_duration(f[2] ? atol(f[2]) : 0);
	bytes = replies_size(f[5]);
	log = replies_size(f[8]);
	arch = replies_size(f[10]);
	text = g_strdup_printf("Matt_daemon %s (pid %s), up %s; TLS %s, "
	    "authentication %s\n  %s client%s; %s lines received (%s)\n  "
	    "Log file %s; %s archive%s (%s)", or_q(f[0]), or_q(f[1]), up,
	    or_q(f[6]), or_q(f[7]), or_q(f[3]), f[3] && strcmp(f[3], "1") ==
	    0 ? "" : "s", or_q(f[4]), bytes, log, or_q(f[9]), f[9] &&
	    strcmp(f[9], "1") == 0 ? "" : "s", arch);
	for (i = 0; i < G_N_ELEMENTS(names); i++)
		g_free(f[i]);
	g_free(up);
	g_free(bytes);
	g_free(log);
	g_free(arch);
	return text;
}

char *
replies_client(const char *line)
{
	char *addr = g_strndup(line, strcspn(line, " "));
	char *user = replies_field(line, "user"), *role = replies_field(line,
	    "role"), *tls = replies_field(line, "tls"), *since =
	    replies_field(line, "since"), *mode = replies_field(line, "mode");
	char *date = date_of(since), *text;

	text = g_strdup_printf("  %s — %s (%s), %s, %s, connected since %s",
	    addr, or_q(user), or_q(role), tls && strcmp(tls, "yes") == 0 ?
	    "TLS" : "no TLS", or_q(mode), date);
	g_free(addr);
	g_free(user);
	g_free(role);
	g_free(tls);
	g_free(since);
	g_free(mode);
	g_free(date);
	return text;
}

/* The text of a reply without "+OK "/"-ERR ", as a sentence. */
static char *
sentence(const char *text)
{
	char *s = g_strdup(text), *paren;
	size_t n;

	g_strstrip(s);
	if ((paren = g_strrstr(s, " (")) != NULL && g_str_has_suffix(s, ")")) {
		/* "what (hint)" from the core: "What: hint." */
		*paren = '\0';
		paren[strlen(paren + 2) + 1] = '\0';
		paren = g_strdup_printf("%s: %s", s, paren + 2);
		g_free(s);
		s = paren;
	}
	if (*s != '\0')
		*s = g_ascii_toupper(*s);
	n = strlen(s);
	if (n > 0 && s[n - 1] != '.' && s[n - 1] != '!' && s[n - 1] != '?') {
		paren = g_strconcat(s, ".", NULL);
		g_free(s);
		s = paren;
	}
	return s;
}

char *
replies_error(const char *line)
{
	if (strncmp(line, "-ERR ", 5) == 0)
		line += 5;
	else if (strncmp(line, "+OK ", 4) == 0)
		line += 4;
	return sentence(line);
}

char *
replies_ok(const char *command, const char *line)
{
	const char *text = strncmp(line, "+OK", 3) == 0 ? line + 3 : line;
	int n;

	while (*text == ' ')
		text++;
	if (strcmp(command, "/ping") == 0 && strcmp(text, "pong") == 0)
		return g_strdup("The daemon answers (pong).");
	if (strcmp(command, "/rotate") == 0)
		return g_strdup("The logs were rotated.");
	if (strcmp(command, "/help") == 0 && strncmp(text, "commands:", 9)
	    == 0)
		return g_strdup_printf("Commands this session may run:%s",
		    text + 9);
	if (strcmp(command, "/clients") == 0 && sscanf(text, "%d", &n) == 1)
		return g_strdup_printf("%d client%s connected:", n,
		    n == 1 ? "" : "s");
	if (strcmp(command, "/tail") == 0 && sscanf(text, "%d", &n) == 1)
		return g_strdup_printf("The last %d record%s of the log:", n,
		    n == 1 ? "" : "s");
	if (strcmp(command, "/stats") == 0 && sscanf(text, "%d", &n) == 1)
		return g_strdup_printf("The daemon's %d figures (the Dashboard "
		    "tab charts them):", n);
	if (strcmp(command, "/whoami") == 0)
		return g_strdup_printf("You are %s.", text);
	return sentence(text);
}

static const struct {
	enum proto_reply	 kind;
	const char		*hint;
} hints[] = {
	{ PROTO_ERR_CLIENTS, "the daemon serves its maximum number of "
	  "clients; try again later" },
	{ PROTO_ERR_TLS_REQUIRED, "the daemon only accepts TLS: tick "
	  "\u201cUse TLS\u201d" },
	{ PROTO_ERR_AUTH_REQUIRED, "log in with a user name and a password "
	  "or a key file" },
	{ PROTO_ERR_AUTH_FAILED, "wrong user name, password or key" },
	{ PROTO_ERR_LOCKED, "too many failed attempts from this address" },
	{ PROTO_ERR_NEEDS_TLS, "tick \u201cUse TLS\u201d" },
	{ PROTO_ERR_AUTH_OFF, "the daemon has no users: leave the user "
	  "empty" },
	{ PROTO_ERR_PERMISSION, "this needs an admin account" },
};

char *
replies_failure(const char *text, enum proto_reply kind)
{
	const char *core = proto_hint(kind), *hint = NULL;
	char *base, *suffix, *msg;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(hints); i++)
		if (hints[i].kind == kind)
			hint = hints[i].hint;
	if (hint == NULL || core == NULL)
		return replies_error(text);
	base = g_strdup(text);
	suffix = g_strdup_printf(" (%s)", core);
	if (g_str_has_suffix(base, suffix))
		base[strlen(base) - strlen(suffix)] = '\0';
	msg = g_strdup_printf("%s (%s)", base, hint);
	g_free(base);
	g_free(suffix);
	base = replies_error(msg);
	g_free(msg);
	return base;
}
