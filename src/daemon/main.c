/*
 * Matt_daemon: command line, configuration, then the daemon itself.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/signals.h"

#ifndef MD_VERSION
#define MD_VERSION "dev"
#endif

static void __attribute__((noreturn))
usage(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: Matt_daemon [-fhtV] [-c file]\n"
	    "\n"
	    "  -c, --config FILE    configuration file (default %s)\n"
	    "  -f, --foreground     stay in the foreground, log to stderr too\n"
	    "  -h, --help           show this help and exit\n"
	    "  -t, --test-config    check the configuration and exit\n"
	    "  -V, --version        show the version and exit\n"
	    "\n"
	    "Logs every line received on TCP port 4242 into\n"
	    "/var/log/matt_daemon/matt_daemon.log; a line \"quit\" stops it.\n"
	    "See Matt_daemon(8) and matt_daemon.conf(5).\n",
	    CONFIG_DEFAULT_PATH);
	exit(status);
}

static int
print_errors(const struct config *c)
{
	int i;

	for (i = 0; i < c->nerrors; i++)
		fprintf(stderr, "%s\n", c->errors[i]);
	return c->nerrors;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config",	 required_argument, NULL, 'c' },
		{ "foreground",	 no_argument,	    NULL, 'f' },
		{ "help",	 no_argument,	    NULL, 'h' },
		{ "test-config", no_argument,	    NULL, 't' },
		{ "version",	 no_argument,	    NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static struct config cfg;
	const char *path = CONFIG_DEFAULT_PATH;
	int ch, foreground = 0, test = 0, required = 0;

	/* First of all, so that no signal is lost (or fatal) from now on. */
	if (signals_block() == -1) {
		perror("Matt_daemon: cannot block signals");
		return 1;
	}
	while ((ch = getopt_long(argc, argv, "c:fhtV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			required = 1;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'h':
			usage(stdout, 0);
		case 't':
			test = 1;
			break;
		case 'V':
			printf("Matt_daemon %s\n", MD_VERSION);
			return 0;
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);

	config_defaults(&cfg);
	config_load(&cfg, path, required);
	if (test) {
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
	daemon_main(&cfg, foreground);
}
