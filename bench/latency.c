/*
 * latency: send numbered lines to a line-logging server at a fixed rate
 * and time each one from its send to its record appearing in the log file.
 */

#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define MARK		"lat id="
#define READ_CHUNK	(256 * 1024)
#define TAIL_MAX	(64 * 1024)	/* longest line kept across reads */

static struct {
	const char	*path;
	unsigned long	 lines;
	int64_t		*sent_ns;	/* send time of line i (0: not sent) */
	int64_t		*seen_ns;	/* time its record was read */
	volatile unsigned long nseen;
	unsigned long	 nbad;		/* records not parsed or seen twice */
	int		 ifd;		/* inotify */
	int		 lfd;		/* the log file */
	volatile int	 stop;
	volatile int	 err;
} rd;

static void usage(FILE *, int) __attribute__((noreturn));

static void
usage(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: latency [-h] [-H host] [-l lines] [-r rate] [-t timeout] "
	    "-f logfile -p port\n"
	    "  -f, --file PATH      the server's log file (must exist)\n"
	    "  -H, --host ADDR      server IPv4 address (default 127.0.0.1)\n"
	    "  -h, --help           this help\n"
	    "  -l, --lines N        lines to send (default 10000)\n"
	    "  -p, --port PORT      server port (required)\n"
	    "  -r, --rate N         lines per second (default 10000)\n"
	    "  -t, --timeout SECS   wait this long for the last record "
	    "(default 30)\n"
	    "Each line is \"lat id=<n> t=<CLOCK_REALTIME ns> <padding>\\n\"; "
	    "a reader thread\n"
	    "tails the file (inotify) and notes when each record appears.\n"
	    "Prints key=value results (microseconds) on stdout; exit 0 if "
	    "every line\n"
	    "was logged once.\n");
	exit(status);
}

static int64_t
now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One complete log line: note the record of line id if it is one. */
static void
reader_line(const char *p, size_t len, int64_t t)
{
	const char *m;
	unsigned long id;
	char *end;

	m = memmem(p, len, MARK, sizeof(MARK) - 1);
	if (m == NULL)
		return;
	m += sizeof(MARK) - 1;
	errno = 0;
	id = strtoul(m, &end, 10);
	if (errno != 0 || end == m || id >= rd.lines || *end != ' ' ||
	    rd.seen_ns[id] != 0) {
		rd.nbad++;
		return;
	}
	rd.seen_ns[id] = t;
	rd.nseen++;
}

/*
 * Read what the file has beyond our offset and split it into lines.  The
 * watch is added before the first read, so a write after a read that hit
 * the end always leaves an event behind: no wake-up is lost.
 */
static void *
reader(void *arg)
{
	static char buf[TAIL_MAX + READ_CHUNK];
	char ev[4096];
	struct pollfd pfd;
	size_t have = 0, start, i;
	ssize_t n;
	int64_t t;

	(void)arg;
	pfd.fd = rd.ifd;
	pfd.events = POLLIN;
	while (!rd.stop && rd.nseen < rd.lines) {
		n = read(rd.lfd, buf + have, READ_CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rd.err = errno;
			break;
		}
		if (n == 0) {
			if (poll(&pfd, 1, 100) > 0)
				while (read(rd.ifd, ev, sizeof(ev)) > 0)
					;
			continue;
		}
		t = now_ns(CLOCK_REALTIME);
		have += (size_t)n;
		start = 0;
		for (i = have - (size_t)n; i < have; i++) {
			if (buf[i] != '\n')
				continue;
			reader_line(buf + start, i - start, t);
			start = i + 1;
		}
		have -= start;
		if (have > TAIL_MAX) {		/* an absurd line: drop it */
			rd.nbad++;
			have = 0;
		} else
			memmove(buf, buf + start, have);
	}
	return NULL;
}

static int
connect_to(const char *host, unsigned long port)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		bench_die(1, "bad IPv4 address '%s'", host);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		bench_die(1, "socket: %s", strerror(errno));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		bench_die(1, "connect %s:%lu: %s", host, port, strerror(errno));
	return fd;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of the sorted v[n], in microseconds. */
static double
pct_us(const int64_t *v, unsigned long n, double p)
{
	unsigned long k = (unsigned long)(p / 100.0 * (double)n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return (double)v[k - 1] / 1000.0;
}

struct lat_opts {
	const char	*host;
	unsigned long	 port;
	unsigned long	 rate;		/* lines per second */
	unsigned long	 timeout;	/* seconds to wait for the records */
};

static const struct option longopts[] = {
	{ "file",	required_argument,	NULL, 'f' },
	{ "host",	required_argument,	NULL, 'H' },
	{ "help",	no_argument,		NULL, 'h' },
	{ "lines",	required_argument,	NULL, 'l' },
	{ "port",	required_argument,	NULL, 'p' },
	{ "rate",	required_argument,	NULL, 'r' },
	{ "timeout",	required_argument,	NULL, 't' },
	{ NULL,		0,			NULL, 0 }
};

/* Fill o, rd.path and rd.lines from the command line; exits 2 on misuse. */
static void
parse_opts(int argc, char **argv, struct lat_opts *o)
{
	int ch;

	o->host = "127.0.0.1";
	o->port = 0;
	o->rate = 10000;
	o->timeout = 30;
	rd.lines = 10000;
	while ((ch = getopt_long(argc, argv, "f:H:hl:p:r:t:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			rd.path = optarg;
			break;
		case 'H':
			o->host = optarg;
			break;
		case 'h':
			usage(stdout, 0);
		case 'l':
			rd.lines = bench_num(optarg, "line count", 1, 10000000);
			break;
		case 'p':
			o->port = bench_num(optarg, "port", 1, 65535);
			break;
		case 'r':
			o->rate = bench_num(optarg, "rate", 1, 1000000);
			break;
		case 't':
			o->timeout = bench_num(optarg, "timeout", 1, 86400);
			break;
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc || o->port == 0 || rd.path == NULL)
		usage(stderr, 2);
}

/* Open the log file at its end, watched first (see reader()). */
static void
open_log(void)
{
	if ((rd.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		bench_die(1, "inotify_init1: %s", strerror(errno));
	if (inotify_add_watch(rd.ifd, rd.path, IN_MODIFY) == -1)
		bench_die(1, "%s: %s", rd.path, strerror(errno));
	if ((rd.lfd = open(rd.path, O_RDONLY | O_CLOEXEC)) == -1)
		bench_die(1, "%s: %s", rd.path, strerror(errno));
	if (lseek(rd.lfd, 0, SEEK_END) == -1)
		bench_die(1, "lseek %s: %s", rd.path, strerror(errno));
}

/* Send the rd.lines lines at rate on fd; returns how many left late. */
static unsigned long
send_lines(int fd, unsigned long rate)
{
	struct timespec next;
	unsigned long i, late = 0;
	int64_t period, t0;
	char line[128];
	int len;

	/* Line i leaves at t0 + i * period; a late sender does not batch. */
	period = 1000000000 / (int64_t)rate;
	clock_gettime(CLOCK_MONOTONIC, &next);
	t0 = (int64_t)next.tv_sec * 1000000000 + next.tv_nsec;
	for (i = 0; i < rd.lines; i++) {
		int64_t at = t0 + (int64_t)i * period;

		next.tv_sec = at / 1000000000;
		next.tv_nsec = at % 1000000000;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
		    NULL) == EINTR)
			;
		if (now_ns(CLOCK_MONOTONIC) - at > period)
			late++;
		rd.sent_ns[i] = now_ns(CLOCK_REALTIME);
		len = snprintf(line, sizeof(line), MARK "%lu t=%lld "
		    "pppppppppppppppppppppppppppppppp\n", i,
		    (long long)rd.sent_ns[i]);
		if (bench_send_all(fd, line, (size_t)len) == -1)
			bench_die(1, "send: %s (after %lu lines)",
			    strerror(errno), i);
	}
	return late;
}

/* Wait until the reader has seen every record, failed, or timeout ran out. */
static void
wait_records(unsigned long timeout)
{
	int64_t deadline;

	deadline = now_ns(CLOCK_MONOTONIC) + (int64_t)timeout * 1000000000;
	while (rd.nseen < rd.lines && !rd.err &&
	    now_ns(CLOCK_MONOTONIC) < deadline)
		usleep(10000);
}

/*
 * Print the counts and the percentiles of the latencies of the records seen
 * (lat has room for rd.lines); returns the exit status.
 */
static int
print_results(int64_t *lat, unsigned long rate, unsigned long late)
{
	unsigned long i, nlat;

	for (i = 0, nlat = 0; i < rd.lines; i++)
		if (rd.seen_ns[i] != 0)
			lat[nlat++] = rd.seen_ns[i] - rd.sent_ns[i];
	qsort(lat, nlat, sizeof(*lat), cmp_i64);
	printf("lines=%lu\nrate=%lu\nseen=%lu\nbad=%lu\nlate_sends=%lu\n",
	    rd.lines, rate, nlat, rd.nbad, late);
	if (nlat > 0)
		printf("p50_us=%.1f\np90_us=%.1f\np99_us=%.1f\n"
		    "p999_us=%.1f\nmax_us=%.1f\n", pct_us(lat, nlat, 50),
		    pct_us(lat, nlat, 90), pct_us(lat, nlat, 99),
		    pct_us(lat, nlat, 99.9), (double)lat[nlat - 1] / 1000.0);
	return nlat == rd.lines && rd.nbad == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct lat_opts o;
	unsigned long late;
	pthread_t th;
	int64_t *lat;
	int fd, status;

	bench_prog = "latency";
	parse_opts(argc, argv, &o);
	rd.sent_ns = calloc(rd.lines, sizeof(*rd.sent_ns));
	rd.seen_ns = calloc(rd.lines, sizeof(*rd.seen_ns));
	lat = calloc(rd.lines, sizeof(*lat));
	if (rd.sent_ns == NULL || rd.seen_ns == NULL || lat == NULL)
		bench_die(1, "out of memory");
	/* The default 50 us timer slack would show up in every figure. */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

	open_log();
	fd = connect_to(o.host, o.port);
	if ((errno = pthread_create(&th, NULL, reader, NULL)) != 0)
		bench_die(1, "pthread_create: %s", strerror(errno));
	late = send_lines(fd, o.rate);

	wait_records(o.timeout);
	rd.stop = 1;
	pthread_join(th, NULL);
	close(fd);
	if (rd.err)
		bench_die(1, "read %s: %s", rd.path, strerror(rd.err));

	status = print_results(lat, o.rate, late);
	free(lat);
	free(rd.sent_ns);
	free(rd.seen_ns);
	return status;
}
