/*
 * The pure half of the syslog forwarding sink: parsing a target such as
 * "tcp://HOST:PORT" into a socket address, and formatting a record as an
 * RFC 5424 message.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tintin/tintin.h"
#include "tintin/tintin_syslog.h"
#include "tintin/tintin_time.h"

#define FACILITY_DAEMON	3

/* RFC 5424 severities by TINTIN_* level. */
static const int severity[TINTIN_NLEVELS] = { 7, 6, 5, 4, 3 };

void
tintin_rfc5424_token(char *dst, size_t size, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < size; i++)
		dst[i] = s[i] > ' ' && s[i] < 0x7f ? s[i] : '_';
	dst[i] = '\0';
	if (i == 0)
		strcpy(dst, "-");
}

void
tintin_fwd_set_names(struct tintin_fwd *f, const char *app)
{
	char host[256];

	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	tintin_rfc5424_token(f->host, sizeof(f->host), host);
	tintin_rfc5424_token(f->app, sizeof(f->app), app != NULL ? app : "");
}

/* Split "HOST:PORT" or "[V6]:PORT" (in place); 0 or -1 with ERR. */
static int
split_hostport(const struct tintin_fwd *f, char *s, char **host,
    unsigned long *port, char *err, size_t errlen)
{
	char *p, *end;

	*host = s;
	if (*s == '[') {
		if ((p = strchr(s, ']')) == NULL || p == s + 1 ||
		    (p[1] != ':' && p[1] != '\0')) {
			snprintf(err, errlen, "bad IPv6 address in '%s'",
			    f->target);
			return -1;
		}
		*host = s + 1;
		*p++ = '\0';
		p = *p == ':' ? p + 1 : NULL;
	} else if ((p = strchr(s, ':')) != NULL) {
		*p++ = '\0';
		if (strchr(p, ':') != NULL) {
			snprintf(err, errlen, "IPv6 address without brackets "
			    "in '%s'", f->target);
			return -1;
		}
	}
	if (**host == '\0') {
		snprintf(err, errlen, "no host in '%s'", f->target);
		return -1;
	}
	*port = 514;
	if (p == NULL)
		return 0;
	errno = 0;
	*port = strtoul(p, &end, 10);
	if (*p < '0' || *p > '9' || *end != '\0' || errno != 0 ||
	    *port == 0 || *port > 65535) {
		snprintf(err, errlen, "bad port in '%s'", f->target);
		return -1;
	}
	return 0;
}

/* Resolve "HOST:PORT" once, at set-up; 0 or -1 with ERR. */
static int
parse_inet(struct tintin_fwd *f, const char *s, char *err, size_t errlen)
{
	struct addrinfo hints, *res;
	char buf[TINTIN_FWD_TARGET_MAX], serv[8], *host;
	unsigned long port;
	int rc;

	snprintf(buf, sizeof(buf), "%s", s);
	if (split_hostport(f, buf, &host, &port, err, errlen) == -1)
		return -1;
	snprintf(serv, sizeof(serv), "%lu", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = f->socktype;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, serv, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve '%s': %s", host,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	memcpy(&f->addr, res->ai_addr, res->ai_addrlen);
	f->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int
parse_unix(struct tintin_fwd *f, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&f->addr;

	if (path[0] != '/') {
		snprintf(err, errlen, "unix socket path must be absolute in "
		    "'%s'", f->target);
		return -1;
	}
	if (strlen(path) >= sizeof(sun->sun_path)) {
		snprintf(err, errlen, "unix socket path too long in '%s'",
		    f->target);
		return -1;
	}
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, path);
	f->addrlen = sizeof(*sun);
	return 0;
}

int
tintin_fwd_parse_target(struct tintin_fwd *f, const char *target, char *err,
    size_t errlen)
{
	if (strncmp(target, "tcp://", 6) == 0) {
		f->proto = FWD_TCP;
		f->socktype = SOCK_STREAM;
		return parse_inet(f, target + 6, err, errlen);
	}
	if (strncmp(target, "udp://", 6) == 0) {
		f->proto = FWD_UDP;
		f->socktype = SOCK_DGRAM;
		return parse_inet(f, target + 6, err, errlen);
	}
	if (strncmp(target, "unix:", 5) == 0) {
		f->proto = FWD_UNIX;
		f->socktype = SOCK_DGRAM;	/* like /dev/log */
		target += strncmp(target, "unix://", 7) == 0 ? 7 : 5;
		return parse_unix(f, target, err, errlen);
	}
	snprintf(err, errlen, "bad target '%s': expected tcp://HOST:PORT, "
	    "udp://HOST:PORT or unix:/PATH", target);
	return -1;
}

/* Whole characters of S (up to LEN bytes) that fit in ROOM bytes. */
static size_t
whole_chars(const char *s, size_t len, size_t room)
{
	unsigned char c;
	size_t i = 0, k;

	while (i < len) {
		c = (unsigned char)s[i];
		k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		if (k > len - i)
			k = len - i;
		if (i + k > room)
			break;
		i += k;
	}
	return i;
}

/*
 * MSG into P (up to END) with its CR and LF escaped as \r and \n; a
 * message that does not fit is cut between two characters.  The runs
 * between line breaks go whole, with memchr() and memcpy().
 */
static char *
copy_msg(char *p, char *end, const char *msg, size_t len)
{
	const char *s = msg, *stop = msg + len, *lf, *cr, *brk;
	size_t n;

	/* The next LF and CR, each looked for again only once passed. */
	lf = memchr(s, '\n', len);
	cr = memchr(s, '\r', len);
	while (s < stop) {
		if (lf != NULL && lf < s)
			lf = memchr(s, '\n', (size_t)(stop - s));
		if (cr != NULL && cr < s)
			cr = memchr(s, '\r', (size_t)(stop - s));
		brk = lf == NULL ? cr : cr == NULL || lf < cr ? lf : cr;
		n = (size_t)((brk != NULL ? brk : stop) - s);
		if (n > (size_t)(end - p)) {
			n = whole_chars(s, n, (size_t)(end - p));
			memcpy(p, s, n);
			return p + n;
		}
		memcpy(p, s, n);
		p += n;
		s += n;
		if (s == stop || end - p < 2)
			break;
		*p++ = '\\';
		*p++ = *s++ == '\n' ? 'n' : 'r';
	}
	return p;
}

/* S (LEN bytes) at P; the end of what was put. */
static char *
put(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

size_t
tintin_rfc5424(char *buf, size_t size, int level, int64_t t, int ms,
    long gmtoff, const char *host, const char *app, const char *procid,
    const char *msg, size_t len)
{
	char iso[32], *p;
	size_t il, hl, al, pl;
	int pri, n;

	if (level < 0 || level >= TINTIN_NLEVELS)
		level = TINTIN_ERROR;
	pri = FACILITY_DAEMON * 8 + severity[level];
	tintin_format_iso(iso, t, ms < 0 ? 0 : ms, gmtoff);
	il = 29;
	if (ms < 0) {			/* "...T12:00:00+01:00" */
		memmove(iso + 19, iso + 23, 7);
		il = 25;
	}
	hl = strlen(host);
	al = strlen(app);
	pl = strlen(procid);
	/* "<PRI>1 STAMP HOST APP PROCID - - ": PRI has two digits. */
	if (6 + il + 3 + hl + al + pl + 5 >= size) {
		n = snprintf(buf, size, "<%d>1 %s %s %s %s - - ", pri, iso,
		    host, app, procid);
		if (n < 0)
			return 0;
		if ((size_t)n >= size)
			return size - 1;
		p = buf + n;
	} else {
		p = put(buf, "<", 1);
		*p++ = (char)('0' + pri / 10);
		*p++ = (char)('0' + pri % 10);
		p = put(p, ">1 ", 3);
		p = put(p, iso, il);
		*p++ = ' ';
		p = put(p, host, hl);
		*p++ = ' ';
		p = put(p, app, al);
		*p++ = ' ';
		p = put(p, procid, pl);
		p = put(p, " - - ", 5);
	}
	return (size_t)(copy_msg(p, buf + size, msg, len) - buf);
}

size_t
tintin_fwd_format(const struct tintin_fwd *f, char *buf, size_t size,
    int level, time_t t, int ms, long gmtoff, const char *msg, size_t len)
{
	return tintin_rfc5424(buf, size, level, (int64_t)t, ms, gmtoff,
	    f->host, f->app, f->procid, msg, len);
}
