/* Readable terminal output: records coloured by level, /status and
 * /clients laid out for people (pipes keep the daemon's lines as they are). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/pretty.h"

#define PRETTY_KEYS	32	/* key=value pairs looked at in one reply */

/* The key=value words of a reply, split in place. */
struct pairs {
	char	*key[PRETTY_KEYS];
	char	*value[PRETTY_KEYS];
	int	 used[PRETTY_KEYS];
	int	 n;
};

static void
pairs_split(struct pairs *p, char *s)
{
	char *word, *eq, *save = NULL;

	p->n = 0;
	for (word = strtok_r(s, " ", &save); word != NULL && p->n <
	    PRETTY_KEYS; word = strtok_r(NULL, " ", &save)) {
		if ((eq = strchr(word, '=')) == NULL)
			continue;
		*eq = '\0';
		p->key[p->n] = word;
		p->value[p->n] = eq + 1;
		p->used[p->n++] = 0;
	}
}

/* The value of KEY, marked as shown, or "?". */
static const char *
pairs_get(struct pairs *p, const char *key)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->key[i], key) == 0) {
			p->used[i] = 1;
			return p->value[i];
		}
	return "?";
}

const char *
pretty_color(const char *line)
{
	static const struct {
		const char	*level;
		const char	*sgr;
	} colors[] = {
		{ "ERROR", "1;31" },	/* bold red, as journalctl's errors */
		{ "WARN", "1;33" },	/* bold yellow */
		{ "INFO", "1" },	/* the daemon's own events: bold */
		{ "DEBUG", "2" },	/* dim */
	};
	const char *p;
	size_t i, n;

	/* "[dd/mm/yyyy-hh:mm:ss] [ LEVEL ] - " */
	if (line[0] != '[' || (p = strchr(line, ']')) == NULL ||
	    strncmp(p, "] [ ", 4) != 0)
		return NULL;
	p += 4;
	for (i = 0; i < sizeof(colors) / sizeof(colors[0]); i++) {
		n = strlen(colors[i].level);
		if (strncmp(p, colors[i].level, n) == 0 &&
		    strncmp(p + n, " ] - ", 5) == 0)
			return colors[i].sgr;
	}
	return NULL;		/* LOG (client input) and the rest: plain */
}

/* A byte count as "512 B", "4.5 KiB", "12.0 MiB"... */
static void
human_size(const char *value, char *out, size_t outlen)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	char *end;
	double v = strtod(value, &end);
	int u = -1;

	if (end == value || *end != '\0') {
		snprintf(out, outlen, "%s", value);
		return;
	}
	if (v < 1024) {
		snprintf(out, outlen, "%.0f B", v);
		return;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(out, outlen, "%.1f %s", v, units[u]);
}

/* Seconds as "45s", "3m 05s", "2h 03m", "4d 02h". */
static void
human_duration(const char *value, char *out, size_t outlen)
{
	char *end;
	long s = strtol(value, &end, 10);

	if (end == value || *end != '\0' || s < 0)
		snprintf(out, outlen, "%s", value);
	else if (s < 60)
		snprintf(out, outlen, "%lds", s);
	else if (s < 3600)
		snprintf(out, outlen, "%ldm %02lds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, outlen, "%ldh %02ldm", s / 3600, s % 3600 / 60);
	else
		snprintf(out, outlen, "%ldd %02ldh", s / 86400,
		    s % 86400 / 3600);
}

/* The pairs not shown yet, as they came, after "\n    other:". */
static void
append_rest(struct pairs *p, char *out, size_t outlen)
{
	size_t len = strlen(out);
	int i, first = 1;

	for (i = 0; i < p->n && len < outlen; i++) {
		if (p->used[i])
			continue;
		len += (size_t)snprintf(out + len, outlen - len, "%s%s=%s",
		    first ? "\n    other: " : " ", p->key[i], p->value[i]);
		first = 0;
	}
}

int
pretty_status(const char *reply, char *out, size_t outlen)
{
	char buf[1024], up[32], in[32], log[32], arch[32];
	struct pairs p;

	if (strncmp(reply, "+OK version=", 12) != 0 ||
	    strlen(reply) >= sizeof(buf))
		return -1;
	memcpy(buf, reply + 4, strlen(reply + 4) + 1);
	pairs_split(&p, buf);
	human_duration(pairs_get(&p, "uptime"), up, sizeof(up));
	human_size(pairs_get(&p, "bytes"), in, sizeof(in));
	human_size(pairs_get(&p, "log_size"), log, sizeof(log));
	human_size(pairs_get(&p, "archive_bytes"), arch, sizeof(arch));
	snprintf(out, outlen, "+OK Matt_daemon %s, pid %s, up %s\n"
	    "    clients: %s, received: %s lines (%s)\n"
	    "    TLS: %s, authentication: %s\n"
	    "    log: %s, %s archives (%s)", pairs_get(&p, "version"),
	    pairs_get(&p, "pid"), up, pairs_get(&p, "clients"),
	    pairs_get(&p, "lines"), in, pairs_get(&p, "tls"),
	    pairs_get(&p, "auth"), log, pairs_get(&p, "archives"), arch);
	append_rest(&p, out, outlen);
	return 0;
}

const char *
pretty_clients_title(void)
{
	return "    ADDRESS                 USER         ROLE       TLS  "
	    "SINCE        MODE";
}

long
pretty_clients_count(const char *reply)
{
	char *end;
	long n;

	if (strncmp(reply, "+OK ", 4) != 0 || reply[4] < '0' ||
	    reply[4] > '9')
		return -1;
	n = strtol(reply + 4, &end, 10);
	return strcmp(end, " clients") == 0 || strcmp(end, " client") == 0 ?
	    n : -1;
}

/* EPOCH as the local time of day, with the date when not today. */
static void
human_since(const char *value, char *out, size_t outlen)
{
	struct tm then, now;
	time_t t, n = time(NULL);
	char *end;

	t = (time_t)strtoll(value, &end, 10);
	if (end == value || *end != '\0' || localtime_r(&t, &then) == NULL ||
	    localtime_r(&n, &now) == NULL) {
		snprintf(out, outlen, "%s", value);
		return;
	}
	if (then.tm_year == now.tm_year && then.tm_yday == now.tm_yday)
		strftime(out, outlen, "%H:%M:%S", &then);
	else
		strftime(out, outlen, "%d/%m %H:%M", &then);
}

int
pretty_client(const char *line, char *out, size_t outlen)
{
	char buf[1024], since[32], *addr, *rest;
	struct pairs p;

	if (strlen(line) >= sizeof(buf) || strstr(line, " user=") == NULL)
		return -1;
	memcpy(buf, line, strlen(line) + 1);
	addr = buf;
	rest = strchr(buf, ' ');
	*rest++ = '\0';
	pairs_split(&p, rest);
	human_since(pairs_get(&p, "since"), since, sizeof(since));
	snprintf(out, outlen, "    %-23s %-12s %-10s %-4s %-12s %s", addr,
	    pairs_get(&p, "user"), pairs_get(&p, "role"),
	    pairs_get(&p, "tls"), since, pairs_get(&p, "mode"));
	append_rest(&p, out, outlen);
	return 0;
}
