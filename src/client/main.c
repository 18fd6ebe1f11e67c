/* Ben_AFK: command line, connection, server identity, login, then the
 * interactive, the pipe or the remote shell mode. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cli.h"
#include "client/term.h"

#ifndef MD_VERSION
#define MD_VERSION "dev"
#endif

#define PASSWORD_MAX	1024

static const char synopsis[] =
    "usage: Ben_AFK [-hqV] [-c line] [-H host] [-i keyfile] [-p port] "
    "[-S socket] "
    "[-t seconds] [-u user] [--color when] [--keygen file] [--known-hosts file] "
    "[--password-file file] [--plaintext-password] [--shell] "
    "[--strict-host] [--tls]\n";

static void __attribute__((noreturn))
usage(FILE *fp, int status)
{
	fputs(synopsis, fp);
	fprintf(fp,
	    "\n"
	    "  -c, --command LINE       send LINE (a command) instead of "
	    "stdin, print\n"
	    "                           the reply, and exit\n"
	    "  -H, --host HOST          daemon host (default 127.0.0.1)\n"
	    "  -h, --help               show this help and exit\n"
	    "  -i, --identity KEYFILE   log in with this private key "
	    "(implies --tls)\n"
	    "  -p, --port PORT          daemon port (default 4242)\n"
	    "  -q, --quiet              no notices on stderr, errors only\n"
	    "  -S, --socket PATH        the daemon's local socket (default,\n"
	    "                           with no -H, -p, -u, -i, --tls:\n"
	    "                           " AFK_LOCAL_SOCKET " if there)\n"
	    "  -t, --timeout SECONDS    connect, handshake and reply timeout "
	    "(default 30)\n"
	    "  -u, --user USER          log in as USER (password, or key "
	    "with -i)\n"
	    "  -V, --version            show the version and exit\n"
	    "      --color WHEN         colour records by level: auto "
	    "(default:\n"
	    "                           on a terminal, unless NO_COLOR is "
	    "set),\n"
	    "                           always or never\n"
	    "      --keygen FILE        write a new key to FILE and "
	    "FILE.pub, and exit\n"
	    "      --known-hosts FILE   pinned server fingerprints (default\n"
	    "                           ~/.config/ben_afk/known_hosts)\n"
	    "      --password-file FILE read the password from FILE\n"
	    "      --plaintext-password allow sending a password without TLS\n"
	    "      --shell              open a remote shell (an admin's; "
	    "implies --tls,\n"
	    "                           except as root on the local socket)\n"
	    "      --strict-host        refuse a server whose fingerprint "
	    "is not pinned yet\n"
	    "      --tls                talk TLS (the server is pinned on "
	    "first use)\n"
	    "\n"
	    "Sends lines to Matt_daemon: typed ones when stdin is a terminal,\n"
	    "else every line of stdin, then waits until the daemon has them "
	    "all.\n"
	    "With --shell, a terminal on the daemon's host instead.\n"
	    "See Ben_AFK(1).\n");
	exit(status);
}

void
cli_report(const char *reply, enum proto_reply kind)
{
	const char *hint = proto_hint(kind);

	if (hint != NULL)
		fprintf(stderr, "Ben_AFK: %s (%s)\n", reply, hint);
	else
		fprintf(stderr, "Ben_AFK: %s\n", reply);
}

static int
keygen(const char *path)
{
	char fp[AFK_FPLEN], err[AFK_ERRLEN];

	if (tls_keygen(path, fp, err, sizeof(err)) == -1) {
		fprintf(stderr, "Ben_AFK: %s\n", err);
		return AFK_EXIT_ERROR;
	}
	printf("Private key: %s (keep it secret)\n"
	    "Public key:  %s.pub\n"
	    "SHA-256:     %s\n"
	    "On the daemon's host, as root:\n"
	    "  Matt_daemon --add-key NAME %s.pub\n", path, path, fp, path);
	return AFK_EXIT_OK;
}

static void
changed_banner(const char *key, const char *path, int lineno,
    const char *old, const char *fp)
{
	fprintf(stderr,
	    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
	    "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
	    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
	    "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n"
	    "Someone could be eavesdropping on you right now "
	    "(man-in-the-middle attack)!\n"
	    "It is also possible that the daemon's certificate was just "
	    "replaced.\n"
	    "The fingerprint pinned for %s is\n"
	    "  %s\n"
	    "but the server now presents\n"
	    "  %s\n"
	    "The pinned one is line %d of %s.\n"
	    "Check the new one on the server with 'Matt_daemon --fingerprint';"
	    "\nif it is right, remove that line and connect again.\n"
	    "Host identification failed: nothing was sent.\n",
	    key, old, fp, lineno, path);
}

/* A server not pinned yet: ask (or refuse) before pinning it; 0 trusted,
 * else an exit status. */
static int
trust_first_use(const struct cli *o, const char *file, const char *key,
    const char *fp, int interactive)
{
	int yes;

	if (o->strict_host) {
		fprintf(stderr, "Ben_AFK: %s is not in %s and --strict-host "
		    "is set: nothing was sent.\nIts certificate's SHA-256 "
		    "fingerprint is\n  %s\n(compare it with Matt_daemon "
		    "--fingerprint on the server before pinning it)\n", key,
		    file, fp);
		return AFK_EXIT_TLS;
	}
	if (interactive) {
		fprintf(stderr, "The authenticity of %s can't be established.\n"
		    "Its certificate's SHA-256 fingerprint is\n  %s\n"
		    "(on the server: Matt_daemon --fingerprint)\n", key, fp);
		yes = term_yes_no("Are you sure you want to continue "
		    "connecting (yes/no)? ");
		if (yes != 1) {
			fprintf(stderr, "Ben_AFK: host identification "
			    "refused: nothing was sent\n");
			return AFK_EXIT_TLS;
		}
	}
	if (known_hosts_add(file, key, fp) == -1) {
		fprintf(stderr, "Ben_AFK: %s: %s\n", file, strerror(errno));
		return AFK_EXIT_TLS;
	}
	if (!o->quiet || interactive)
		fprintf(stderr, "Ben_AFK: trusting %s on first use: "
		    "fingerprint %s added to %s\n", key, fp, file);
	return 0;
}

/* Pin the server: 0 trusted, else an exit status. */
static int
check_host(struct conn *c, const struct cli *o, int interactive)
{
	char path[4096], key[512], fp[AFK_FPLEN], old[AFK_FPLEN] = "";
	const char *file = o->a.known_hosts;
	int lineno = 0;

	if (tls_fingerprint(c->tls, fp) == -1) {
		fprintf(stderr, "Ben_AFK: the server sent no certificate\n");
		return AFK_EXIT_TLS;
	}
	if (file == NULL) {
		if (known_hosts_default(path, sizeof(path), "known_hosts") ==
		    -1) {
			fprintf(stderr, "Ben_AFK: no HOME for the known hosts "
			    "file (use --known-hosts)\n");
			return AFK_EXIT_TLS;
		}
		file = path;
	}
	if (known_hosts_key(key, sizeof(key), o->a.host, o->a.port) == -1) {
		fprintf(stderr, "Ben_AFK: host name too long\n");
		return AFK_EXIT_USAGE;
	}
	switch (known_hosts_check(file, key, fp, old, &lineno)) {
	case KNOWN_HOSTS_MATCH:
		return 0;
	case KNOWN_HOSTS_CHANGED:
		changed_banner(key, file, lineno, old, fp);
		return AFK_EXIT_TLS;
	case KNOWN_HOSTS_ERROR:
		fprintf(stderr, "Ben_AFK: %s: %s\n", file, strerror(errno));
		return AFK_EXIT_TLS;
	case KNOWN_HOSTS_UNKNOWN:
		break;
	}
	return trust_first_use(o, file, key, fp, interactive);
}

/* The password from --password-file, $BEN_AFK_PASSWORD or the terminal. */
static int
get_password(const struct cli *o, char *buf, size_t size)
{
	char prompt[600];
	int rc;

	if ((rc = afk_given_password(&o->a, buf, size)) == -1) {
		fprintf(stderr, "Ben_AFK: %s: %s\n", o->a.password_file,
		    strerror(errno));
		return -1;
	}
	if (rc == 1)
		return 0;
	snprintf(prompt, sizeof(prompt), "Password for %s@%s: ", o->a.user,
	    o->a.host);
	if (term_password(prompt, buf, size) == -1) {
		fprintf(stderr, "Ben_AFK: cannot read the password: %s (use "
		    "--password-file or BEN_AFK_PASSWORD)\n",
		    errno ? strerror(errno) : "end of input");
		return -1;
	}
	return 0;
}

/* Log in as asked: 0, or an exit status. */
static int
login(struct conn *c, const struct cli *o, int interactive)
{
	char pass[PASSWORD_MAX], reply[AFK_LINE_MAX];
	enum proto_reply kind;

	if (o->a.user == NULL)
		return 0;
	if (o->a.keyfile == NULL) {
		if (!o->a.tls && !o->a.plaintext) {
			fprintf(stderr, "Ben_AFK: refusing to send a password "
			    "over a plain connection: use --tls (or "
			    "--plaintext-password if you must)\n");
			return AFK_EXIT_AUTH;
		}
		if (get_password(o, pass, sizeof(pass)) == -1)
			return AFK_EXIT_AUTH;
		kind = proto_auth(c, o->a.user, pass, reply, sizeof(reply),
		    o->a.timeout_ms);
		explicit_bzero(pass, sizeof(pass));
	} else
		kind = proto_auth(c, o->a.user, NULL, reply, sizeof(reply),
		    o->a.timeout_ms);
	if (kind == PROTO_NONE) {
		fprintf(stderr, "Ben_AFK: %s\n", c->err);
		return AFK_EXIT_ERROR;
	}
	if (kind != PROTO_OK) {
		cli_report(reply, kind);
		return proto_exit_status(kind);
	}
	if (interactive && !o->quiet)
		fprintf(stderr, "Ben_AFK: %s\n", reply + 4);
	return 0;
}

/* Whether the daemon refused us right away ("-ERR too many clients"):
 * a short look before the terminal user is told "connected". */
static int
refused_early(struct conn *c)
{
	char line[AFK_LINE_MAX];
	enum proto_reply kind;

	if (conn_read_line(c, line, sizeof(line), 100) != 1)
		return 0;
	kind = proto_classify(line);
	if (kind == PROTO_OK || kind == PROTO_NONE) {
		printf("%s\n", line);
		return 0;
	}
	cli_report(line, kind);
	return proto_exit_status(kind);
}

/*
 * The local socket when there is one to use (see afk_local_socket), else
 * TCP.  The default socket may be closed to us (not in its group): then
 * TCP as before; a socket named with -S is that or nothing.  0 or -1.
 */
static int
open_session(struct conn *c, const struct cli *o, int interactive)
{
	const char *path = afk_local_socket(&o->a);

	if (path != NULL) {
		if (conn_open_local(c, path, o->a.timeout_ms) == 0)
			return 0;
		if (o->a.socket != NULL) {
			fprintf(stderr, "Ben_AFK: %s\n", c->err);
			return -1;
		}
		if (interactive && !o->quiet)
			fprintf(stderr, "Ben_AFK: %s; trying %s port %s\n",
			    c->err, o->a.host, o->a.port);
	}
	if (conn_open(c, o->a.host, o->a.port, o->a.timeout_ms) == -1) {
		fprintf(stderr, "Ben_AFK: %s\n", c->err);
		return -1;
	}
	return 0;
}

static int
connect_and_run(const struct cli *o)
{
	static struct conn c;
	int interactive = isatty(STDIN_FILENO) && o->command == NULL;
	enum proto_reply kind;
	int rc;

	if (open_session(&c, o, interactive) == -1)
		return AFK_EXIT_CONNECT;
	/* The local socket: the kernel vouches for both ends, no TLS. */
	if (o->a.tls && !c.local) {
		if (conn_start_tls(&c, o->a.host, o->a.keyfile,
		    o->a.timeout_ms) == -1) {
			kind = proto_classify(c.err);
			if (kind != PROTO_NONE) {
				cli_report(c.err, kind);
				rc = proto_exit_status(kind);
			} else {
				fprintf(stderr, "Ben_AFK: %s\n", c.err);
				rc = AFK_EXIT_TLS;
			}
			conn_close(&c);
			return rc;
		}
		if ((rc = check_host(&c, o, interactive)) != 0)
			goto out;
	} else if (interactive && (rc = refused_early(&c)) != 0)
		goto out;
	if ((rc = login(&c, o, interactive)) != 0)
		goto out;
	if (o->shell)
		rc = shell_run(&c, o, NULL);
	else if (interactive) {
		if (!o->quiet && c.local)
			fprintf(stderr, "Connected to %s (local socket). Type "
			    "/help for the commands, Ctrl-D to leave.\n",
			    afk_local_socket(&o->a));
		else if (!o->quiet)
			fprintf(stderr, "Connected to %s port %s%s%s%s. Type "
			    "/help for the commands, Ctrl-D to leave.\n",
			    o->a.host, o->a.port, c.tls ? " (" : " (no TLS",
			    c.tls ? tls_version(c.tls) : "", ")");
		rc = repl_run(&c, o);
	} else
		rc = batch_run(&c, o);
out:
	conn_close(&c);
	return rc;
}

/*
 * --color WHEN: 1 colour the records, 0 not, -1 WHEN is unknown.  "auto"
 * colours on a terminal unless NO_COLOR is set (and not empty), as
 * journalctl does (see no-color.org); an explicit "always" wins.
 */
static int
want_color(const char *when)
{
	const char *no = getenv("NO_COLOR");

	if (strcmp(when, "always") == 0)
		return 1;
	if (strcmp(when, "never") == 0)
		return 0;
	if (strcmp(when, "auto") != 0)
		return -1;
	return isatty(STDOUT_FILENO) && (no == NULL || *no == '\0');
}

/* With -i, a user to log in as (ours by default) and a readable key: 0,
 * else an exit status. */
static int
check_identity(struct cli *o)
{
	if (o->a.keyfile != NULL && o->a.user == NULL &&
	    (o->a.user = afk_login_name()) == NULL) {
		fprintf(stderr, "Ben_AFK: -i needs -u USER\n");
		return AFK_EXIT_USAGE;
	}
	if (o->a.keyfile != NULL && access(o->a.keyfile, R_OK) == -1) {
		fprintf(stderr, "Ben_AFK: %s: %s\n", o->a.keyfile,
		    strerror(errno));
		return AFK_EXIT_TLS;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	enum { OPT_COLOR = AFK_OPT_OWN, OPT_KEYGEN, OPT_SHELL,
	    OPT_STRICT_HOST };
	static const struct option opts[] = {
		AFK_LONG_OPTIONS,
		{ "color",	   optional_argument, NULL, OPT_COLOR },
		{ "colour",	   optional_argument, NULL, OPT_COLOR },
		{ "command",	   required_argument, NULL, 'c' },
		{ "keygen",	   required_argument, NULL, OPT_KEYGEN },
		{ "quiet",	   no_argument,	      NULL, 'q' },
		{ "shell",	   no_argument,	      NULL, OPT_SHELL },
		{ "strict-host",   no_argument,	      NULL, OPT_STRICT_HOST },
		{ NULL, 0, NULL, 0 }
	};
	struct cli o = { .quiet = 0 };
	const char *keygen_path = NULL, *color = "auto";
	char err[128];
	int ch, rc, taken;

	afk_options_init(&o.a);
	while ((ch = getopt_long(argc, argv, AFK_SHORT_OPTIONS "c:q", opts,
	    NULL)) != -1) {
		taken = afk_option(&o.a, ch, optarg, err, sizeof(err));
		if (taken == -1)
			afk_usage_error("Ben_AFK", synopsis, "%s", err);
		if (taken)
			continue;
		switch (ch) {
		case 'h':
			usage(stdout, AFK_EXIT_OK);
		case 'c':
			o.command = optarg;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'V':
			printf("Ben_AFK %s\n", MD_VERSION);
			return AFK_EXIT_OK;
		case OPT_COLOR:
			color = optarg != NULL ? optarg : "always";
			break;
		case OPT_KEYGEN:
			keygen_path = optarg;
			break;
		case OPT_SHELL:
			o.shell = 1;
			o.a.tls = 1;	/* the daemon requires it */
			break;
		case OPT_STRICT_HOST:
			o.strict_host = 1;
			break;
		default:
			afk_bad_option("Ben_AFK", synopsis, ch, argv);
		}
	}
	if (optind != argc)
		afk_usage_error("Ben_AFK", synopsis, "unexpected argument "
		    "'%s'", argv[optind]);
	if ((o.color = want_color(color)) == -1)
		afk_usage_error("Ben_AFK", synopsis, "bad --color '%s' (auto, "
		    "always or never)", color);
	if (keygen_path != NULL)
		return keygen(keygen_path);
	if ((rc = check_identity(&o)) != 0)
		return rc;
	/* A vanished daemon is an error to report, not a signal to die of. */
	signal(SIGPIPE, SIG_IGN);
	return connect_and_run(&o);
}
