/* The session layer for unit tests: see session_harness.h. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/escape.h"
#include "session_harness.h"
#include "tintin/tintin.h"

/* Every record the reporter takes, as its message. */
static void
on_record(void *arg, int level, uint32_t cat, const char *msg, size_t len,
    const void *source)
{
	struct harness *h = arg;

	(void)level;
	(void)cat;
	(void)source;
	if (h->nrecords < HARNESS_RECORDS)
		snprintf(h->records[h->nrecords++], 256, "%.*s", (int)len,
		    msg);
}

int
harness_logged(const struct harness *h, const char *msg)
{
	int i;

	for (i = 0; i < h->nrecords; i++)
		if (strcmp(h->records[i], msg) == 0)
			return 1;
	return 0;
}

static void
stop_after_turn(struct loop *l, void *arg)
{
	client_reap(arg);
	loop_stop(l);
}

void
harness_turn(struct harness *h)
{
	h->loop.stop = 0;
	alarm(10);		/* a turn with nothing to do would hang */
	assert_int_equal(loop_run(&h->loop), 0);
	alarm(0);
}

void
harness_send(struct harness *h, const char *text)
{
	assert_int_equal(write(h->peer, text, strlen(text)),
	    (ssize_t)strlen(text));
}

const char *
harness_read(struct harness *h, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len < size - 1 && (n = read(h->peer, buf + len,
	    size - 1 - len)) > 0)
		len += (size_t)n;
	assert_true(len > 0 || errno == EAGAIN);
	buf[len] = '\0';
	return buf;
}

void
harness_start(struct harness *h, const struct session_ops *ops,
    int auth_mode)
{
	int sv[2];

	memset(h, 0, sizeof(*h));
	config_defaults(&h->cfg);
	h->cfg.auth_mode = auth_mode;
	assert_int_equal(loop_init(&h->loop), 0);
	h->loop.before_sleep = stop_after_turn;
	h->loop.hook_arg = &h->s;
	h->s.cfg = &h->cfg;
	h->s.loop = &h->loop;
	h->s.ops = ops;
	h->s.m = &h->m;
	h->m.started = time(NULL);
	h->m.nclients = &h->s.nclients;
	h->m.cfg = &h->cfg;
	h->m.log = &h->s.log;
	h->m.forward_sink = -1;
	h->s.scratch_size = 64 + ESCAPE_BOUND(h->cfg.max_line);
	assert_non_null(h->s.scratch = malloc(h->s.scratch_size));
	assert_non_null(h->s.log = tintin_create("Matt_daemon"));
	assert_true(tintin_add_hook(h->s.log, TINTIN_DEBUG, on_record,
	    h) >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv), 0);
	h->peer = sv[1];
	assert_non_null(client_new(&h->s, sv[0], "10.0.0.7:4000", NULL));
}

void
harness_stop(struct harness *h)
{
	client_close_all(&h->s);
	client_reap(&h->s);
	close(h->peer);
	tintin_free(h->s.log);
	free(h->s.scratch);
	loop_close(&h->loop);
}
