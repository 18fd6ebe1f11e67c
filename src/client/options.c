/* The command-line options both clients take. */
#include <limits.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/afk.h"
#include "client/options.h"

void
afk_options_init(struct afk_options *o)
{
	memset(o, 0, sizeof(*o));
	o->host = "127.0.0.1";
	o->port = "4242";
	o->timeout_ms = 30000;
}

/* A whole decimal number from MIN to MAX, or -1. */
static long
number(const char *s, long min, long max)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	return *end == '\0' && v >= min && v <= max ? v : -1;
}

int
afk_option(struct afk_options *o, int ch, const char *arg, char *err,
    size_t errlen)
{
	long v;

	switch (ch) {
	case 'H':
		o->host = arg;
		break;
	case 'i':
		o->keyfile = arg;
		o->tls = 1;
		break;
	case 'S':
		o->socket = arg;
		break;
	case 'p':
		if (number(arg, 1, 65535) == -1) {
			snprintf(err, errlen, "bad port: %s", arg);
			return -1;
		}
		o->port = arg;
		break;
	case 't':
		if ((v = number(arg, 1, INT_MAX / 1000)) == -1) {
			snprintf(err, errlen, "bad timeout: %s", arg);
			return -1;
		}
		o->timeout_ms = (int)v * 1000;
		return 1;
	case 'u':
		o->user = arg;
		break;
	case AFK_OPT_KNOWN_HOSTS:
		o->known_hosts = arg;
		return 1;
	case AFK_OPT_PASSWORD_FILE:
		o->password_file = arg;
		return 1;
	case AFK_OPT_PLAINTEXT:
		o->plaintext = 1;
		return 1;
	case AFK_OPT_TLS:
		o->tls = 1;
		break;
	default:
		return 0;
	}
	o->named = 1;		/* a server or a way to reach it was named */
	return 1;
}

const char *
afk_local_socket(const struct afk_options *o)
{
	struct stat st;

	if (o->socket != NULL)
		return o->socket;
	if (o->named || stat(AFK_LOCAL_SOCKET, &st) == -1 ||
	    !S_ISSOCK(st.st_mode))
		return NULL;
	return AFK_LOCAL_SOCKET;
}

const char *
afk_login_name(void)
{
	struct passwd *pw;
	const char *name = getenv("USER");

	if (name != NULL && *name != '\0')
		return name;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : NULL;
}

int
afk_given_password(const struct afk_options *o, char *buf, size_t size)
{
	const char *env = getenv("BEN_AFK_PASSWORD");
	FILE *fh;

	if (o->password_file != NULL) {
		if ((fh = fopen(o->password_file, "re")) == NULL)
			return -1;
		if (fgets(buf, (int)size, fh) == NULL)
			buf[0] = '\0';
		fclose(fh);
		buf[strcspn(buf, "\r\n")] = '\0';
		return 1;
	}
	if (env == NULL)
		return 0;
	snprintf(buf, size, "%s", env);
	return 1;
}

void
afk_usage_error(const char *prog, const char *synopsis, const char *fmt,
    ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%sTry '%s --help' for more information.\n",
	    synopsis, prog);
	exit(AFK_EXIT_USAGE);
}

void
afk_bad_option(const char *prog, const char *synopsis, int ch,
    char **argv)
{
	const char *arg = argv[optind - 1];
	int len;

	if (strncmp(arg, "--", 2) == 0) {
		len = (int)strcspn(arg, "=");
		afk_usage_error(prog, synopsis, ch == ':' ? "option '%.*s' "
		    "needs an argument" : "unknown option '%.*s'", len, arg);
	}
	afk_usage_error(prog, synopsis, ch == ':' ? "option '-%c' needs an "
	    "argument" : "unknown option '-%c'", optopt);
}
