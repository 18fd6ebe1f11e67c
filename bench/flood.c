/*
 * flood: send N connections x L numbered 64-byte lines to a TCP server,
 * in the clear or over TLS.
 */

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "line.h"
#include "util.h"

#define BATCH_LINES	4096			/* 4096 x 64 = 256 KiB per write */
#define MONITOR_NS	20000000L		/* sample /proc every 20 ms */
#define MAX_TRACKED	256

struct conn {
	pthread_t	 thread;
	int		 fd;
	SSL		*ssl;		/* NULL in the clear */
	unsigned int	 id;		/* 1..N, written into every line */
	unsigned long	 lines;
	int		 timeout;	/* seconds to wait for the server's EOF */
	int		 err;		/* errno of the failure, 0 if none */
	const char	*what;		/* the call that failed */
	int		 got_eof;
	struct timespec	 sent;		/* all written and shut down */
};

struct tracked {
	pid_t	pid;
	long	hwm_kb;
};

static struct {
	pthread_t	 thread;
	pid_t		 pid;
	volatile int	 stop;
	long		 main_hwm_kb;
	struct tracked	 kids[MAX_TRACKED];
	int		 nkids;
} mon;

/*
 * -S: each line framed as Matt_daemon's forwarder frames a record, an
 * octet-counted (RFC 6587) RFC 5424 message with a constant header (this
 * host's name, the length of a PID) and no newline; empty: the bare line.
 */
static char	 frame_head[128];
static size_t	 frame_headlen;

static void usage(FILE *, int) __attribute__((noreturn));

static void
frame_init(void)
{
	char host[64], hdr[128];
	int n;

	if (gethostname(host, sizeof(host)) == -1)
		strcpy(host, "-");
	host[sizeof(host) - 1] = '\0';
	n = snprintf(hdr, sizeof(hdr), "<29>1 2026-12-07T00:00:00+00:00 %s "
	    "Matt_daemon 12345 - - User input: ", host);
	frame_headlen = (size_t)snprintf(frame_head, sizeof(frame_head),
	    "%zu %s", (size_t)n + LINE_PAYLOAD, hdr);
}

static void
usage(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: flood [-hST] [-c connections] [-H host] [-l lines] "
	    "[-m pid] [-p port]\n"
	    "             [-t timeout]\n"
	    "  -c, --connections N  parallel connections, 1..%d (default 3)\n"
	    "  -H, --host HOST      server address (default 127.0.0.1)\n"
	    "  -h, --help           this help\n"
	    "  -l, --lines N        lines per connection (default 3000000)\n"
	    "  -m, --monitor PID    sample VmHWM of PID's children while "
	    "flooding\n"
	    "  -p, --port PORT      server port (required)\n"
	    "  -t, --timeout SECS   wait this long for the server to close "
	    "(default 120)\n"
	    "  -S, --syslog         send each line as an octet-counted RFC "
	    "5424 message\n"
	    "  -T, --tls            speak TLS (any server certificate is "
	    "accepted)\n"
	    "Each line is 64 bytes: \"c=<conn> n=<9-digit seq> <padding>\\n\".\n"
	    "Prints key=value results on stdout; exit 0 if every byte was "
	    "sent.\n", LINE_MAX_CONNS);
	exit(status);
}

static void
print_time(const char *key, const struct timespec *ts)
{
	printf("%s=%lld.%09ld\n", key, (long long)ts->tv_sec, ts->tv_nsec);
}

static int
send_all(int fd, SSL *ssl, const char *buf, size_t len)
{
	int r;

	if (ssl != NULL) {
		/* Blocking socket, no partial writes: all or an error. */
		while (len > 0) {
			errno = 0;
			r = SSL_write(ssl, buf, len > INT_MAX ? INT_MAX :
			    (int)len);
			if (r <= 0) {
				if (errno == 0)
					errno = EPROTO;
				return -1;
			}
			buf += r;
			len -= (size_t)r;
		}
		return 0;
	}
	return bench_send_all(fd, buf, len);
}

/*
 * TLS: wait (bounded) for the server's close_notify or EOF; 1 if it came.
 * SSL_read also consumes TLS 1.3 session tickets, which are no data.
 */
static int
wait_eof_tls(SSL *ssl, int fd, int timeout)
{
	struct timespec end;
	struct timeval tv;
	char buf[4096];
	long ms;
	int n, e;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout;
	for (;;) {
		if ((ms = bench_ms_left(&end)) <= 0)
			return 0;
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		errno = 0;
		n = SSL_read(ssl, buf, sizeof(buf));
		if (n > 0) {
			fprintf(stderr, "flood: unexpected %d bytes from "
			    "server: %.*s\n", n, n > 200 ? 200 : n, buf);
			continue;
		}
		e = SSL_get_error(ssl, n);
		if (e == SSL_ERROR_ZERO_RETURN)
			return 1;
		if (e == SSL_ERROR_SYSCALL && (errno == 0 ||
		    errno == ECONNRESET))
			return 1;
		if (e == SSL_ERROR_SSL) {
			/* EOF without close_notify (OpenSSL 3) */
			ERR_clear_error();
			return 1;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
		    e == SSL_ERROR_WANT_READ)
			continue;
		return 0;
	}
}

/* Wait (bounded) until the server closes its side; 1 if it did. */
static int
wait_eof(int fd, int timeout)
{
	struct timespec end;
	struct pollfd pfd;
	char buf[4096];
	long ms;
	ssize_t n;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout;
	for (;;) {
		if ((ms = bench_ms_left(&end)) <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = POLLIN;
		switch (poll(&pfd, 1, (int)(ms > INT_MAX ? INT_MAX : ms))) {
		case -1:
			if (errno == EINTR)
				continue;
			return 0;
		case 0:
			return 0;	/* timed out: the server kept it open */
		}
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			return 1;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return errno == ECONNRESET;
		if (n > 0)
			fprintf(stderr, "flood: unexpected %zd bytes from "
			    "server: %.*s\n", n, (int)(n > 200 ? 200 : n), buf);
	}
}

static void *
conn_run(void *arg)
{
	struct conn *c = arg;
	char *buf, *p;
	unsigned long seq = 0, i, batch;
	size_t frame;

	/* A line's '\n' lands where the next frame's head goes (-S). */
	frame = frame_headlen + (frame_headlen > 0 ? LINE_PAYLOAD : LINE_LEN);
	buf = malloc((size_t)BATCH_LINES * frame + 1);
	if (buf == NULL) {
		c->err = errno;
		c->what = "malloc";
		return NULL;
	}
	while (seq < c->lines) {
		batch = c->lines - seq;
		if (batch > BATCH_LINES)
			batch = BATCH_LINES;
		for (i = 0; i < batch; i++) {
			p = buf + i * frame;
			memcpy(p, frame_head, frame_headlen);
			line_make(p + frame_headlen, c->id, seq + i);
		}
		if (send_all(c->fd, c->ssl, buf, batch * frame) == -1) {
			c->err = errno;
			c->what = "send";
			free(buf);
			return NULL;
		}
		seq += batch;
	}
	free(buf);
	if (c->ssl != NULL)
		(void)SSL_shutdown(c->ssl);	/* our close_notify */
	if (shutdown(c->fd, SHUT_WR) == -1) {
		c->err = errno;
		c->what = "shutdown";
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &c->sent);
	if (c->ssl != NULL)
		c->got_eof = wait_eof_tls(c->ssl, c->fd, c->timeout);
	else
		c->got_eof = wait_eof(c->fd, c->timeout);
	return NULL;
}

static long
read_hwm_kb(pid_t pid)
{
	char path[64], line[256];
	FILE *fp;
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(fp);
	return kb;
}

static void
track_child(pid_t pid)
{
	long kb = read_hwm_kb(pid);
	int i;

	if (kb < 0)
		return;
	for (i = 0; i < mon.nkids; i++)
		if (mon.kids[i].pid == pid) {
			if (kb > mon.kids[i].hwm_kb)
				mon.kids[i].hwm_kb = kb;
			return;
		}
	if (mon.nkids < MAX_TRACKED) {
		mon.kids[mon.nkids].pid = pid;
		mon.kids[mon.nkids].hwm_kb = kb;
		mon.nkids++;
	}
}

/* One sample: VmHWM of the monitored process and of each of its children. */
static void
monitor_sample(void)
{
	char path[64], buf[4096], *p, *end;
	struct dirent *de;
	DIR *dir;
	FILE *fp;
	long kb;
	size_t n;

	if ((kb = read_hwm_kb(mon.pid)) > mon.main_hwm_kb)
		mon.main_hwm_kb = kb;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)mon.pid);
	if ((dir = opendir(path)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/children",
		    (int)mon.pid, de->d_name);
		if ((fp = fopen(path, "re")) == NULL)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
		buf[n] = '\0';
		for (p = buf; *p != '\0'; p = end) {
			long pid = strtol(p, &end, 10);

			if (end == p)
				break;
			if (pid > 0)
				track_child((pid_t)pid);
		}
	}
	closedir(dir);
}

static void *
monitor_run(void *arg)
{
	struct timespec ts = { 0, MONITOR_NS };

	(void)arg;
	while (!mon.stop) {
		monitor_sample();
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* A client context that offers TLS 1.2+ and accepts any certificate. */
static SSL_CTX *
tls_context(void)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		bench_die(1, "SSL_CTX_new failed");
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		bench_die(1, "SSL_CTX_set_min_proto_version failed");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

/* Handshake on connected fd; dies on failure (nothing measured yet). */
static SSL *
tls_connect(SSL_CTX *ctx, int fd)
{
	unsigned long e;
	SSL *ssl;

	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1)
		bench_die(1, "SSL_new failed");
	if (SSL_connect(ssl) != 1) {
		e = ERR_get_error();
		bench_die(1, "TLS handshake failed: %s", e != 0 ?
		    ERR_error_string(e, NULL) : strerror(errno));
	}
	return ssl;
}

static int
connect_to(const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, rc, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		bench_die(1, "%s port %s: %s", host, port, gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		bench_die(1, "connect to %s port %s: %s", host, port, strerror(saved));
	return fd;
}

struct flood_opts {
	const char	*host;
	const char	*port;
	unsigned long	 nconn;
	unsigned long	 lines;		/* per connection */
	int		 timeout;	/* seconds to wait for the server */
	int		 use_tls;
};

/* What the flood came to, for the report. */
struct outcome {
	struct timespec	 start;		/* before the first connect */
	struct timespec	 last;		/* latest "all sent" of a connection */
	struct timespec	 closed;	/* every connection done */
	int		 failed;	/* a connection failed */
	int		 eofs;		/* connections the server closed */
};

static const struct option longopts[] = {
	{ "connections",	required_argument,	NULL, 'c' },
	{ "host",		required_argument,	NULL, 'H' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "lines",		required_argument,	NULL, 'l' },
	{ "monitor",		required_argument,	NULL, 'm' },
	{ "port",		required_argument,	NULL, 'p' },
	{ "syslog",		no_argument,		NULL, 'S' },
	{ "timeout",		required_argument,	NULL, 't' },
	{ "tls",		no_argument,		NULL, 'T' },
	{ NULL,			0,			NULL, 0 }
};

/* Fill o from the command line (-m sets mon.pid); exits 2 on misuse. */
static void
parse_opts(int argc, char **argv, struct flood_opts *o)
{
	int ch;

	o->host = "127.0.0.1";
	o->port = NULL;
	o->nconn = 3;
	o->lines = 3000000;
	o->timeout = 120;
	o->use_tls = 0;
	while ((ch = getopt_long(argc, argv, "c:H:hl:m:p:STt:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->nconn = bench_num(optarg, "connection count", 1,
			    LINE_MAX_CONNS);
			break;
		case 'H':
			o->host = optarg;
			break;
		case 'h':
			usage(stdout, 0);
		case 'l':
			o->lines = bench_num(optarg, "line count", 1,
			    LINE_MAX_SEQ + 1);
			break;
		case 'm':
			mon.pid = (pid_t)bench_num(optarg, "pid", 1, INT_MAX);
			break;
		case 'p':
			bench_num(optarg, "port", 1, 65535);
			o->port = optarg;
			break;
		case 'S':
			frame_init();
			break;
		case 'T':
			o->use_tls = 1;
			break;
		case 't':
			o->timeout = (int)bench_num(optarg, "timeout", 1,
			    86400);
			break;
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "flood: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr, 2);
	}
	if (o->port == NULL) {
		fprintf(stderr, "flood: -p PORT is required\n");
		usage(stderr, 2);
	}
}

/* Sample mon.pid now and every MONITOR_NS until monitor_stop(). */
static void
monitor_start(void)
{
	monitor_sample();
	if (pthread_create(&mon.thread, NULL, monitor_run, NULL) != 0)
		bench_die(1, "pthread_create failed");
}

/* Stop the sampler and take one last sample once the flood is over. */
static void
monitor_stop(void)
{
	mon.stop = 1;
	pthread_join(mon.thread, NULL);
	monitor_sample();
}

/* Connect (and handshake) every connection before any line is sent. */
static void
open_conns(const struct flood_opts *o, SSL_CTX *ctx, struct conn *conns)
{
	int i;

	for (i = 0; i < (int)o->nconn; i++) {
		conns[i].fd = connect_to(o->host, o->port);
		if (ctx != NULL)
			conns[i].ssl = tls_connect(ctx, conns[i].fd);
		conns[i].id = (unsigned int)i + 1;
		conns[i].lines = o->lines;
		conns[i].timeout = o->timeout;
	}
}

/*
 * Flood on every connection at once, one thread each, and close those that
 * succeeded; r gets the failures, the server's EOFs and the latest "sent".
 */
static void
run_conns(struct conn *conns, int nconn, struct outcome *r)
{
	int i;

	for (i = 0; i < nconn; i++)
		if ((errno = pthread_create(&conns[i].thread, NULL, conn_run,
		    &conns[i])) != 0)
			bench_die(1, "pthread_create: %s", strerror(errno));
	for (i = 0; i < nconn; i++) {
		pthread_join(conns[i].thread, NULL);
		if (conns[i].err != 0) {
			fprintf(stderr, "flood: connection %d: %s: %s\n",
			    i + 1, conns[i].what, strerror(conns[i].err));
			r->failed = 1;
			continue;
		}
		r->eofs += conns[i].got_eof;
		if (conns[i].sent.tv_sec > r->last.tv_sec ||
		    (conns[i].sent.tv_sec == r->last.tv_sec &&
		    conns[i].sent.tv_nsec > r->last.tv_nsec))
			r->last = conns[i].sent;
		SSL_free(conns[i].ssl);
		close(conns[i].fd);
	}
}

/* The -m figures: the monitored process and the sum and max of its kids. */
static void
print_memory(void)
{
	long sum = 0, max = 0;
	int i;

	for (i = 0; i < mon.nkids; i++) {
		sum += mon.kids[i].hwm_kb;
		if (mon.kids[i].hwm_kb > max)
			max = mon.kids[i].hwm_kb;
	}
	printf("main_hwm_kb=%ld\nchildren=%d\nchildren_hwm_sum_kb=%ld\n"
	    "children_hwm_max_kb=%ld\n", mon.main_hwm_kb, mon.nkids, sum, max);
}

/* The key=value results; a time is left out when it was not reached. */
static void
print_results(const struct flood_opts *o, const struct outcome *r)
{
	print_time("start", &r->start);
	if (!r->failed)
		print_time("sent", &r->last);
	if (!r->failed && r->eofs == (int)o->nconn)
		print_time("closed", &r->closed);
	printf("connections=%lu\nlines=%lu\nserver_closed=%d\n", o->nconn,
	    o->lines, r->eofs);
	if (mon.pid != 0)
		print_memory();
	if (!r->failed && r->eofs < (int)o->nconn)
		fprintf(stderr, "flood: warning: server did not close %d of "
		    "%lu connections within %d s\n", (int)o->nconn - r->eofs,
		    o->nconn, o->timeout);
}

int
main(int argc, char **argv)
{
	struct flood_opts o;
	struct outcome r;
	struct conn *conns;
	SSL_CTX *ctx = NULL;

	bench_prog = "flood";
	parse_opts(argc, argv, &o);
	if (o.use_tls) {
		/* SSL_write uses write(2): no MSG_NOSIGNAL there. */
		signal(SIGPIPE, SIG_IGN);
		ctx = tls_context();
	}
	if ((conns = calloc(o.nconn, sizeof(*conns))) == NULL)
		bench_die(1, "calloc: %s", strerror(errno));
	if (mon.pid != 0)
		monitor_start();

	memset(&r, 0, sizeof(r));
	/* The clock starts before the first connect (and handshake). */
	clock_gettime(CLOCK_REALTIME, &r.start);
	open_conns(&o, ctx, conns);
	run_conns(conns, (int)o.nconn, &r);
	if (mon.pid != 0)
		monitor_stop();

	clock_gettime(CLOCK_REALTIME, &r.closed);
	print_results(&o, &r);
	free(conns);
	SSL_CTX_free(ctx);
	return r.failed;
}
