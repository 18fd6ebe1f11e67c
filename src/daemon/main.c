/*
 * Matt_daemon: command line, configuration, then the daemon itself.
 */
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/session/auth.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/signals.h"
#include "daemon/session/tls.h"

#ifndef MD_VERSION
#define MD_VERSION "dev"
#endif

static const char synopsis[] =
    "usage: Matt_daemon [-fhtV] [-c file] [--stderr]\n"
    "       Matt_daemon [-c file] --fingerprint\n"
    "       Matt_daemon [-c file] --summary\n"
    "       Matt_daemon [-c file] --add-user name [--admin]\n"
    "       Matt_daemon [-c file] --add-key name file [--admin]\n";

static void __attribute__((noreturn))
usage(FILE *fp, int status)
{
	fputs(synopsis, fp);
	fprintf(fp,
	    "\n"
	    "  -c, --config FILE    configuration file (default %s)\n"
	    "  -f, --foreground     stay in the foreground (for systemd and "
	    "debugging)\n"
	    "  -h, --help           show this help and exit\n"
	    "  -t, --test-config    check the configuration and exit\n"
	    "  -V, --version        show the version and exit\n"
	    "      --fingerprint    print the TLS certificate's SHA-256\n"
	    "                       fingerprint (creating it if needed)\n"
	    "      --add-user NAME  add or replace a user; the password is read\n"
	    "                       from the terminal (or one line of stdin)\n"
	    "      --add-key NAME FILE\n"
	    "                       authorize the public key in PEM FILE for NAME\n"
	    "      --admin          with --add-user/--add-key: an admin\n"
	    "      --stderr         with -f: copy every record to stderr too\n"
	    "      --summary        print where the daemon listens, logs and "
	    "locks\n"
	    "\n"
	    "Logs every line received on TCP port 4242 into\n"
	    "/var/log/matt_daemon/matt_daemon.log; a line \"quit\" stops it.\n"
	    "See Matt_daemon(8) and matt_daemon.conf(5).\n",
	    CONFIG_DEFAULT_PATH);
	exit(status);
}

/* A bad command line: what is wrong in one line, the synopsis, exit 2. */
static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("Matt_daemon: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(synopsis, stderr);
	fputs("Try 'Matt_daemon --help' for more information.\n", stderr);
	exit(2);
}

/* The option getopt_long just refused (CH '?' or ':'), named. */
static void __attribute__((noreturn))
bad_option(int ch, char **argv)
{
	const char *arg = argv[optind - 1];
	int len;

	if (strncmp(arg, "--", 2) == 0) {
		len = (int)strcspn(arg, "=");
		if (ch == ':')
			usage_error("option '%.*s' needs an argument", len,
			    arg);
		usage_error("unknown option '%.*s'", len, arg);
	}
	if (ch == ':')
		usage_error("option '-%c' needs an argument", optopt);
	usage_error("unknown option '-%c'", optopt);
}

static int
print_errors(const struct config *c)
{
	int i;

	for (i = 0; i < c->nerrors; i++)
		fprintf(stderr, "%s\n", c->errors[i]);
	return c->nerrors;
}

/* Read a password: twice without echo on a terminal, else one line. */
static int
read_password(char *buf, size_t size)
{
	struct termios old, noecho;
	char again[512];
	FILE *tty;
	size_t n;
	int ok;

	if (!isatty(STDIN_FILENO)) {
		if (fgets(buf, (int)size, stdin) == NULL)
			return -1;
		buf[strcspn(buf, "\r\n")] = '\0';
		return buf[0] ? 0 : -1;
	}
	if ((tty = fopen("/dev/tty", "r+e")) == NULL)
		return -1;
	tcgetattr(fileno(tty), &old);
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fileno(tty), TCSAFLUSH, &noecho);
	fputs("Password: ", tty);
	fflush(tty);
	ok = fgets(buf, (int)size, tty) != NULL;
	fputs("\nAgain: ", tty);
	fflush(tty);
	ok = ok && fgets(again, sizeof(again), tty) != NULL;
	fputs("\n", tty);
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fclose(tty);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	again[strcspn(again, "\r\n")] = '\0';
	n = strlen(buf);
	ok = n > 0 && strcmp(buf, again) == 0;
	explicit_bzero(again, sizeof(again));
	if (!ok)
		fprintf(stderr, "Matt_daemon: %s\n", n == 0 ?
		    "empty password" : "the passwords differ");
	return ok ? 0 : -1;
}

static int
do_fingerprint(const struct config *c)
{
	char err[512], fp[TLS_FP_LEN];

	if (tls_ensure_files(c->tls_cert, c->tls_key, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "Matt_daemon: %s\n", err);
		return 1;
	}
	if (tls_fingerprint(c->tls_cert, fp, sizeof(fp)) == -1) {
		fprintf(stderr, "Matt_daemon: cannot read the certificate "
		    "%s\n", c->tls_cert);
		return 1;
	}
	printf("%s\n", fp);
	return 0;
}

static int
do_add_user(const struct config *c, const char *name, int role)
{
	char password[512], err[512];
	int rc;

	if (!auth_valid_name(name)) {
		fprintf(stderr, "Matt_daemon: bad user name '%s' (letters, "
		    "digits, '.', '_', '-')\n", name);
		return 1;
	}
	if (read_password(password, sizeof(password)) == -1) {
		fprintf(stderr, "Matt_daemon: no password given\n");
		return 1;
	}
	rc = auth_add_user(c->auth_users, name, role, password, err,
	    sizeof(err));
	explicit_bzero(password, sizeof(password));
	if (rc == -1) {
		fprintf(stderr, "Matt_daemon: %s\n", err);
		return 1;
	}
	printf("user %s (%s) saved in %s\n", name, auth_role_name(role),
	    c->auth_users);
	return 0;
}

static int
do_add_key(const struct config *c, const char *name, const char *file,
    int role)
{
	char key[AUTH_KEY_MAX], err[512];

	if (tls_file_key(file, key, sizeof(key), err, sizeof(err)) == -1 ||
	    auth_add_key(c->auth_keys, name, role, key, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "Matt_daemon: %s\n", err);
		return 1;
	}
	printf("key of %s (%s) added to %s\n", name, auth_role_name(role),
	    c->auth_keys);
	return 0;
}

/* --summary: where a daemon of this configuration listens, logs and
 * locks, one "what value" line each (for make run and scripts). */
static int
do_summary(const struct config *c)
{
	char path[PATH_MAX];
	int v6 = strchr(c->listen, ':') != NULL;

	if (config_log_path(c, path, sizeof(path)) == -1)
		return 1;
	printf("listen %s%s%s:%d\nlog %s\nlock %s\n", v6 ? "[" : "",
	    c->listen, v6 ? "]" : "", c->port, path, c->lock_file);
	return 0;
}

/* What the command line asks for. */
struct args {
	const char	*path;		/* -c, or the default */
	int		 required;	/* -c given: the file must exist */
	int		 foreground;
	int		 copy_stderr;	/* --stderr */
	int		 test;
	int		 admin;
	int		 fingerprint;
	int		 summary;	/* --summary */
	const char	*add_user;
	const char	*add_key;
	const char	*key_file;	/* --add-key's operand */
};

/* The options that cannot go together, and what needs what. */
static void
check_args(int argc, char **argv, struct args *a)
{
	const char *modes[5];
	int n = 0;

	if (a->add_key != NULL && optind == argc)
		usage_error("--add-key %s: missing FILE (the public key)",
		    a->add_key);
	if (a->add_key != NULL)
		a->key_file = argv[optind++];
	if (optind != argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (a->test)
		modes[n++] = "-t";
	if (a->fingerprint)
		modes[n++] = "--fingerprint";
	if (a->summary)
		modes[n++] = "--summary";
	if (a->add_user != NULL)
		modes[n++] = "--add-user";
	if (a->add_key != NULL)
		modes[n++] = "--add-key";
	if (n > 1)
		usage_error("%s and %s cannot be used together", modes[0],
		    modes[1]);
	if (a->admin && a->add_user == NULL && a->add_key == NULL)
		usage_error("--admin goes with --add-user or --add-key");
	if (a->copy_stderr && !a->foreground)
		usage_error("--stderr goes with -f");
}

static void
parse_args(int argc, char **argv, struct args *a)
{
	enum { OPT_ADD_KEY = 256, OPT_ADD_USER, OPT_ADMIN, OPT_FINGERPRINT,
	    OPT_STDERR, OPT_SUMMARY };
	static const struct option opts[] = {
		{ "add-key",	 required_argument, NULL, OPT_ADD_KEY },
		{ "add-user",	 required_argument, NULL, OPT_ADD_USER },
		{ "admin",	 no_argument,	    NULL, OPT_ADMIN },
		{ "config",	 required_argument, NULL, 'c' },
		{ "fingerprint", no_argument,	    NULL, OPT_FINGERPRINT },
		{ "foreground",	 no_argument,	    NULL, 'f' },
		{ "help",	 no_argument,	    NULL, 'h' },
		{ "stderr",	 no_argument,	    NULL, OPT_STDERR },
		{ "summary",	 no_argument,	    NULL, OPT_SUMMARY },
		{ "test-config", no_argument,	    NULL, 't' },
		{ "version",	 no_argument,	    NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(a, 0, sizeof(*a));
	a->path = CONFIG_DEFAULT_PATH;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:fhtV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			a->path = optarg;
			a->required = 1;
			break;
		case 'f':
			a->foreground = 1;
			break;
		case 'h':
			usage(stdout, 0);
		case 't':
			a->test = 1;
			break;
		case 'V':
			printf("Matt_daemon %s\n", MD_VERSION);
			exit(0);
		case OPT_ADMIN:
			a->admin = 1;
			break;
		case OPT_FINGERPRINT:
			a->fingerprint = 1;
			break;
		case OPT_ADD_KEY:
			a->add_key = optarg;
			break;
		case OPT_ADD_USER:
			a->add_user = optarg;
			break;
		case OPT_STDERR:
			a->copy_stderr = 1;
			break;
		case OPT_SUMMARY:
			a->summary = 1;
			break;
		default:
			bad_option(ch, argv);
		}
	}
	check_args(argc, argv, a);
}

/*
 * Whether stderr is the journal (systemd sets JOURNAL_STREAM to its
 * "device:inode"): then records are not copied there unless asked.
 */
static int
stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (env == NULL || sscanf(env, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

int
main(int argc, char **argv)
{
	static struct config cfg;
	struct args a;
	int flags, role;

	/* First of all, so that no signal is lost (or fatal) from now on. */
	if (signals_block() == -1) {
		perror("Matt_daemon: cannot block signals");
		return 1;
	}
	/* Developer option, not in --help: what the documentation must list. */
	if (argc == 2 && strcmp(argv[1], "--dump-config-table") == 0) {
		config_dump_table(stdout);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	parse_args(argc, argv, &a);
	config_defaults(&cfg);
	config_load(&cfg, a.path, a.required);
	if (a.fingerprint || a.add_user != NULL || a.add_key != NULL) {
		if (print_errors(&cfg) > 0)
			return 1;
		umask(077);
		role = a.admin ? ROLE_ADMIN : ROLE_USER;
		if (a.fingerprint)
			return do_fingerprint(&cfg);
		if (a.add_user != NULL)
			return do_add_user(&cfg, a.add_user, role);
		return do_add_key(&cfg, a.add_key, a.key_file, role);
	}
	if (a.summary) {
		if (print_errors(&cfg) > 0)
			return 1;
		return do_summary(&cfg);
	}
	if (a.test) {
		if (print_errors(&cfg) > 0)
			return 1;
		printf("%s: configuration OK\n",
		    cfg.path ? cfg.path : "built-in defaults");
		return 0;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "Matt_daemon: must be run as root\n");
		return 1;
	}
	if (print_errors(&cfg) > 0) {
		fprintf(stderr, "Matt_daemon: bad configuration, not "
		    "starting\n");
		return 1;
	}
	/* Our files get the modes we ask for, whatever the caller's umask. */
	umask(022);
	/* Close whatever descriptors we inherited (not 0, 1, 2). */
	(void)close_range(3, ~0U, 0);
	flags = 0;
	if (a.foreground) {
		flags = DAEMON_FOREGROUND;
		if (a.copy_stderr || !stderr_is_journal())
			flags |= DAEMON_STDERR;
	}
	daemon_main(&cfg, flags);
}
