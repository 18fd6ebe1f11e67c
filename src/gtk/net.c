/* Ben_AFK-gtk networking: one worker thread per session runs the blocking
 * libafk core (connect, TLS, pinning, login, lines or frames) and posts
 * what happens to the GTK main loop, which never waits on the network. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/frames.h"
#include "gtk/net.h"
#include "gtk/net_int.h"

#define FRAME_HDR	3
#define FRAME_MAX	FRAMES_MAX


/* Commands that get a reply (a line whose first word is one of them). */
static const char *const replied[] = {
	"/help", "/ping", "/status", "/whoami", "/auth", "/rotate",
	"/clients", "/tail", "/follow", "/shell", "/stats",
};

long
net_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void
net_params_copy(struct net_params *dst, const struct net_params *src)
{
	*dst = *src;
	dst->host = g_strdup(src->host);
	dst->port = g_strdup(src->port);
	dst->user = g_strdup(src->user);
	dst->password = g_strdup(src->password);
	dst->keyfile = g_strdup(src->keyfile);
	dst->known_hosts = g_strdup(src->known_hosts);
}

void
net_params_clear(struct net_params *p)
{
	g_free(p->host);
	g_free(p->port);
	g_free(p->user);
	if (p->password != NULL) {
		explicit_bzero(p->password, strlen(p->password));
		g_free(p->password);
	}
	g_free(p->keyfile);
	g_free(p->known_hosts);
	memset(p, 0, sizeof(*p));
}

void
net_unref(struct net *n)
{
	if (!g_atomic_int_dec_and_test(&n->ref))
		return;
	if (n->wake[0] >= 0) {
		close(n->wake[0]);
		close(n->wake[1]);
	}
	if (n->parent != NULL)
		net_unref(n->parent);
	g_queue_clear_full(&n->out, (GDestroyNotify)g_bytes_unref);
	g_queue_clear_full(&n->frames, (GDestroyNotify)g_bytes_unref);
	g_mutex_clear(&n->lock);
	net_params_clear(&n->p);
	g_free(n);
}

/* ---- events: built in the worker, delivered in the main loop ---------- */

static void
event_free(gpointer data)
{
	struct net_event *ev = data;

	net_unref(ev->net);
	g_free(ev->text);
	g_free(ev->key);
	g_free(ev->file);
	g_free(ev->tls);
	g_free(ev->command);
	g_strfreev(ev->lines);
	if (ev->data != NULL)
		g_bytes_unref(ev->data);
	g_free(ev);
}

static gboolean
event_dispatch(gpointer data)
{
	struct net_event *ev = data;

	if (!g_atomic_int_get(&ev->net->stopped))
		ev->net->cb(ev, ev->net->arg);
	return G_SOURCE_REMOVE;
}

struct net_event *
net_event_new(struct net *n, enum net_event_kind kind, const char *text)
{
	struct net_event *ev = g_new0(struct net_event, 1);

	g_atomic_int_inc(&n->ref);
	ev->net = n;
	ev->kind = kind;
	ev->text = g_strdup(text);
	ev->reply = text != NULL ? proto_classify(text) : PROTO_NONE;
	return ev;
}

/* Idle sources of one priority run in the order they were added: the
 * events of a session arrive in order. */
void
net_event_post(struct net_event *ev)
{
	g_idle_add_full(G_PRIORITY_DEFAULT, event_dispatch, ev, event_free);
}

void
net_post(struct net *n, enum net_event_kind kind, const char *text)
{
	net_event_post(net_event_new(n, kind, text));
}

int
net_fail(struct net *n, const char *text)
{
	enum proto_reply kind = proto_classify(text);
	const char *hint = proto_hint(kind);
	struct net_event *ev;
	char *msg;

	msg = hint ? g_strdup_printf("%s (%s)", text, hint) : g_strdup(text);
	ev = net_event_new(n, NET_EV_FAILED, msg);
	ev->reply = kind;
	net_event_post(ev);
	g_free(msg);
	return -1;
}

/* ---- the loops ------------------------------------------------------------ */

void
net_lost(struct net *n)
{
	char *msg;

	if (n->c.eof)
		msg = g_strdup("the daemon closed the connection");
	else
		msg = g_strdup_printf("connection lost: %s", n->c.err);
	net_post(n, NET_EV_LOST, msg);
	g_free(msg);
}

/* Wait for the daemon, the main loop or TIMEOUT_MS: 1 the daemon may have
 * bytes, 0 not, -1 stopped. */
int
net_wait_io(struct net *n, int timeout_ms)
{
	struct pollfd pfd[2];
	char drain[64];

	if (g_atomic_int_get(&n->stopped))
		return -1;
	if (conn_pending(&n->c))
		return 1;
	pfd[0].fd = n->c.fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = n->wake[0];
	pfd[1].events = POLLIN;
	if (poll(pfd, 2, timeout_ms) == -1 && errno != EINTR)
		return -1;
	if (pfd[1].revents)
		while (read(n->wake[0], drain, sizeof(drain)) > 0)
			;
	if (g_atomic_int_get(&n->stopped))
		return -1;
	return (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

GBytes *
net_take_out(struct net *n)
{
	GBytes *b;

	g_mutex_lock(&n->lock);
	b = g_queue_pop_head(&n->out);
	g_mutex_unlock(&n->lock);
	return b;
}

int
net_is_replied(const char *line)
{
	size_t i, len = strcspn(line, " ");

	for (i = 0; i < G_N_ELEMENTS(replied); i++)
		if (strlen(replied[i]) == len &&
		    strncmp(line, replied[i], len) == 0)
			return 1;
	return 0;
}

static void
post_reply(struct net *n, enum net_event_kind kind, const char *line,
    const char *command, int data_line)
{
	struct net_event *ev = net_event_new(n, kind, line);

	ev->command = g_strdup(command);
	ev->data_line = data_line;
	net_event_post(ev);
}

void
net_command_line(struct net *n, struct command_state *s, const char *line)
{
	enum proto_reply kind;
	char *command;
	int count;

	if (s->data_left > 0) {
		s->data_left--;
		if (strcmp(s->data_of, "#stats") == 0)
			net_poll_stats_line(n, s, line);
		else if (s->data_of[0] == '#')
			net_mux_data(n, line);
		else
			post_reply(n, NET_EV_LINE, line, s->data_of, 1);
		return;
	}
	kind = proto_classify(line);
	if (g_queue_is_empty(&s->expect)) {
		post_reply(n, NET_EV_LINE, line, NULL, 0);
		return;
	}
	command = g_queue_pop_head(&s->expect);
	if (command == NULL) {
		s->status_pending = 0;
		post_reply(n, NET_EV_STATUS, line, "/status", 0);
		return;
	}
	if (strcmp(command, "#stats") == 0) {
		net_poll_stats_reply(n, s, command, line);
		return;
	}
	if (command[0] == '#') {
		net_mux_reply(n, s, command, line);
		return;
	}
	post_reply(n, NET_EV_LINE, line, command, 0);
	if (kind == PROTO_OK && sscanf(line, "+OK %d", &count) == 1 &&
	    (strstr(line, " records") || strstr(line, " clients") ||
	    strstr(line, " stats"))) {
		s->data_left = count > 0 ? count : 0;
		g_free(s->data_of);
		s->data_of = command;
	} else
		g_free(command);
}

/* The plain session's way to send a command (net_periodic()). */
static int
plain_send(struct net *n, const char *line)
{
	return proto_send(&n->c, line, n->p.timeout_ms);
}

static void
command_loop(struct net *n)
{
	struct command_state s = { .status_pending = 0, .data_of = NULL };
	struct conn *c = &n->c;
	char line[AFK_LINE_MAX];
	GBytes *b;
	const char *text;
	int rc;

	g_queue_init(&s.expect);
	for (;;) {
		if (net_periodic(n, &s, plain_send) == -1)
			break;
		while ((b = net_take_out(n)) != NULL) {
			text = g_bytes_get_data(b, NULL);
			if (net_is_replied(text))
				g_queue_push_tail(&s.expect, g_strndup(text,
				    strcspn(text, " ")));
			rc = proto_send(c, text, n->p.timeout_ms);
			g_bytes_unref(b);
			if (rc == -1)
				goto out;
		}
		while (conn_line(c, line, sizeof(line)))
			net_command_line(n, &s, line);
		if (c->eof)
			break;
		rc = net_wait_io(n, net_periodic_wait(&s));
		if (rc == -1) {
			net_command_clear(&s);
			return;
		}
		if (rc == 1 && conn_fill(c) == -1) {
			while (conn_line(c, line, sizeof(line)))
				net_command_line(n, &s, line);
			break;
		}
	}
out:
	net_command_clear(&s);
	if (!g_atomic_int_get(&n->stopped))
		net_lost(n);
}

/* The complete lines received, in one event (a flood of records costs
 * the main loop one dispatch per buffer, not one per record). */
static void
post_lines(struct net *n)
{
	char line[AFK_LINE_MAX];
	GPtrArray *lines = NULL;
	struct net_event *ev;

	while (conn_line(&n->c, line, sizeof(line))) {
		if (lines == NULL)
			lines = g_ptr_array_new();
		g_ptr_array_add(lines, g_strdup(line));
	}
	if (lines == NULL)
		return;
	g_ptr_array_add(lines, NULL);
	ev = net_event_new(n, NET_EV_LINES, NULL);
	ev->lines = (char **)g_ptr_array_free(lines, FALSE);
	net_event_post(ev);
}

static void
follow_loop(struct net *n)
{
	struct conn *c = &n->c;
	int rc;

	for (;;) {
		post_lines(n);
		if (c->eof)
			break;
		if ((rc = net_wait_io(n, -1)) == -1)
			return;
		if (rc == 1 && conn_fill(c) == -1) {
			post_lines(n);
			break;
		}
	}
	net_lost(n);
}

/* One frame from the daemon, posted to the main loop. */
static int
on_frame(void *arg, int type, const unsigned char *p, size_t n)
{
	struct net_event *ev;
	struct net *nt = arg;

	if (type == 'x') {
		ev = net_event_new(nt, NET_EV_EXIT, NULL);
		ev->status = (int)((unsigned)p[0] << 24 | (unsigned)p[1] << 16 |
		    (unsigned)p[2] << 8 | p[3]);
		net_event_post(ev);
		return 1;
	}
	ev = net_event_new(nt, NET_EV_DATA, NULL);
	ev->data = g_bytes_new(p, n);
	net_event_post(ev);
	return 0;
}

/* The frames in the buffer: 0 go on, 1 the shell exited, -1 bad. */
static int
shell_frames(struct net *n)
{
	struct conn *c = &n->c;
	int rc;

	rc = frames_feed(&n->in, c->buf, c->len, "dx", on_frame, n);
	c->len = 0;
	if (rc == -1)
		snprintf(c->err, sizeof(c->err), "bad frame from the daemon");
	return rc;
}

static void
shell_loop(struct net *n)
{
	struct conn *c = &n->c;
	GBytes *b;
	gsize len;
	const void *data;
	int rc;

	for (;;) {
		if ((rc = shell_frames(n)) == 1)
			return;
		if (rc == -1)
			break;
		while ((b = net_take_out(n)) != NULL) {
			data = g_bytes_get_data(b, &len);
			rc = conn_write(c, data, len, n->p.timeout_ms);
			g_bytes_unref(b);
			if (rc == -1)
				goto out;
		}
		if ((rc = net_wait_io(n, -1)) == -1)
			return;
		if (rc == 1 && conn_fill(c) == -1) {
			if (shell_frames(n) == 1)
				return;
			break;
		}
	}
out:
	net_lost(n);
}

static gpointer
worker(gpointer data)
{
	struct net *n = data;

	if (net_session_open(n) == 0) {
		switch (n->role) {
		case NET_COMMAND:
			if (g_atomic_int_get(&n->mux))
				net_mux_loop(n);
			else
				command_loop(n);
			break;
		case NET_FOLLOW:
			follow_loop(n);
			break;
		case NET_SHELL:
			shell_loop(n);
			break;
		}
	}
	conn_close(&n->c);
	net_unref(n);
	return NULL;
}

/* ---- the main loop's side ------------------------------------------------- */

struct net *
net_start(enum net_role role, const struct net_params *p, net_cb cb,
    void *arg)
{
	struct net *n = g_new0(struct net, 1);
	GThread *t;

	n->ref = 2;		/* the caller's and the worker's */
	n->role = role;
	n->cb = cb;
	n->arg = arg;
	n->c.fd = -1;
	net_params_copy(&n->p, p);
	g_mutex_init(&n->lock);
	g_queue_init(&n->out);
	g_queue_init(&n->frames);
	if (pipe2(n->wake, O_NONBLOCK | O_CLOEXEC) == -1)
		g_error("pipe2: %s", strerror(errno));
	t = g_thread_new("afk-net", worker, n);
	g_thread_unref(t);
	return n;
}

void
net_wake(struct net *n)
{
	ssize_t rc;

	rc = write(n->wake[1], "", 1);	/* a full pipe is awake already */
	(void)rc;
}

void
net_send_line(struct net *n, const char *line)
{
	g_mutex_lock(&n->lock);
	g_queue_push_tail(&n->out, g_bytes_new(line, strlen(line) + 1));
	g_mutex_unlock(&n->lock);
	net_wake(n);
}

void
net_send_frame(struct net *n, char type, const void *data, size_t len)
{
	struct net *to = n->parent != NULL ? n->parent : n;
	GQueue *q = n->parent != NULL ? &to->frames : &to->out;
	unsigned char *f;
	size_t chunk;

	do {
		chunk = len > FRAME_MAX ? FRAME_MAX : len;
		f = g_malloc(FRAME_HDR + chunk);
		f[0] = (unsigned char)type;
		f[1] = (unsigned char)(chunk >> 8);
		f[2] = (unsigned char)chunk;
		memcpy(f + FRAME_HDR, data, chunk);
		g_mutex_lock(&to->lock);
		g_queue_push_tail(q, g_bytes_new_take(f, FRAME_HDR + chunk));
		g_mutex_unlock(&to->lock);
		data = (const char *)data + chunk;
		len -= chunk;
	} while (len > 0);
	net_wake(to);
}

void
net_stop(struct net *n)
{
	if (n == NULL)
		return;
	g_atomic_int_set(&n->stopped, 1);
	if (n->parent != NULL)
		net_mux_detach(n);
	else
		net_wake(n);
	net_unref(n);
}
