/* Ben_AFK-gtk on one connection: the command session asks for /mux
 * (docs/PROTOCOL.md, 7.1) and carries the live log and the terminal as
 * channels beside its own lines, so that a window is one client of the
 * daemon however many tabs it uses. */
#include <stdio.h>
#include <string.h>

#include "common/frames.h"
#include "gtk/net.h"
#include "gtk/net_int.h"

#define FRAME_HDR	3
#define INTERNAL	'\001'	/* a channel's command in the line queue */

/* What the frames of one read left: reply text, records, stopped. */
struct mux_in {
	struct net		*n;
	struct command_state	*s;
	GString			*replies;	/* 'r' text not yet a line */
	GString			*records;	/* 'R' text not yet a line */
	GPtrArray		*lines;		/* whole records to post */
};

/* The channel in *SLOT, with a reference, or NULL. */
static struct net *
channel(struct net *n, struct net **slot)
{
	struct net *ch;

	g_mutex_lock(&n->lock);
	if ((ch = *slot) != NULL)
		g_atomic_int_inc(&ch->ref);
	g_mutex_unlock(&n->lock);
	return ch;
}

/* Post an event of KIND with TEXT to the channel in *SLOT, if any. */
static struct net_event *
channel_event(struct net *n, struct net **slot, enum net_event_kind kind,
    const char *text)
{
	struct net_event *ev;
	struct net *ch;

	if ((ch = channel(n, slot)) == NULL)
		return NULL;
	ev = net_event_new(ch, kind, text);
	net_unref(ch);
	return ev;
}

static void
channel_post(struct net *n, struct net **slot, enum net_event_kind kind,
    const char *text)
{
	struct net_event *ev = channel_event(n, slot, kind, text);

	if (ev != NULL)
		net_event_post(ev);
}

void
net_mux_data(struct net *n, const char *line)
{
	struct net_event *ev;

	if ((ev = channel_event(n, &n->follow_ch, NET_EV_LINE, line)) ==
	    NULL)
		return;
	ev->data_line = 1;
	net_event_post(ev);
}

void
net_mux_reply(struct net *n, struct command_state *s, char *command,
    const char *line)
{
	enum proto_reply kind = proto_classify(line);
	struct net **slot = strcmp(command, "#shell") == 0 ? &n->shell_ch :
	    &n->follow_ch;
	struct net_event *ev;
	int count = 0;

	if (kind != PROTO_OK) {
		channel_post(n, slot, NET_EV_FAILED, line);
		g_free(command);
		return;
	}
	if (strcmp(command, "#tail") == 0) {
		if (sscanf(line, "+OK %d", &count) == 1 && count > 0) {
			s->data_left = count;
			g_free(s->data_of);
			s->data_of = command;
			return;
		}
	} else if ((ev = channel_event(n, slot, NET_EV_READY, line)) != NULL) {
		ev->tls = g_strdup(n->c.tls ? tls_version(n->c.tls) : NULL);
		net_event_post(ev);
	}
	g_free(command);
}

/* One frame from the daemon: replies, records, the terminal's. */
static int
on_frame(void *arg, int type, const unsigned char *p, size_t len)
{
	struct mux_in *in = arg;
	struct net *n = in->n;
	struct net_event *ev;
	char *nl;

	if (type == 'r') {
		g_string_append_len(in->replies, (const char *)p, (gssize)len);
		while ((nl = memchr(in->replies->str, '\n',
		    in->replies->len)) != NULL) {
			*nl = '\0';
			if (nl > in->replies->str && nl[-1] == '\r')
				nl[-1] = '\0';
			net_command_line(n, in->s, in->replies->str);
			g_string_erase(in->replies, 0,
			    nl + 1 - in->replies->str);
		}
	} else if (type == 'R') {
		g_string_append_len(in->records, (const char *)p, (gssize)len);
		while ((nl = memchr(in->records->str, '\n',
		    in->records->len)) != NULL) {
			g_ptr_array_add(in->lines, g_strndup(in->records->str,
			    (gsize)(nl - in->records->str)));
			g_string_erase(in->records, 0,
			    nl + 1 - in->records->str);
		}
	} else if (type == 'd') {
		if ((ev = channel_event(n, &n->shell_ch, NET_EV_DATA, NULL)) !=
		    NULL) {
			ev->data = g_bytes_new(p, len);
			net_event_post(ev);
		}
	} else if ((ev = channel_event(n, &n->shell_ch, NET_EV_EXIT,
	    NULL)) != NULL) {
		ev->status = (int)((unsigned)p[0] << 24 | (unsigned)p[1] << 16 |
		    (unsigned)p[2] << 8 | p[3]);
		net_event_post(ev);
	}
	return 0;
}

/* The frames read: 0, or -1 (malformed). */
static int
read_frames(struct mux_in *in)
{
	struct net *n = in->n;
	struct net_event *ev;
	int rc;

	rc = frames_feed(&n->in, n->c.buf, n->c.len, "rRdx", on_frame, in);
	n->c.len = 0;
	if (in->lines->len > 0) {
		g_ptr_array_add(in->lines, NULL);
		ev = channel_event(n, &n->follow_ch, NET_EV_LINES, NULL);
		if (ev != NULL) {
			ev->lines = (char **)g_ptr_array_free(in->lines, FALSE);
			net_event_post(ev);
		} else
			g_ptr_array_free(in->lines, TRUE);
		in->lines = g_ptr_array_new_with_free_func(g_free);
	}
	if (rc == -1)
		snprintf(n->c.err, sizeof(n->c.err), "bad frame from the daemon");
	return rc;
}

/* Send TEXT and its newline as 'l' frames; 0 or -1. */
static int
send_text(struct net *n, const char *text)
{
	size_t len = strlen(text) + 1, chunk, off = 0;
	unsigned char f[FRAME_HDR + FRAMES_MAX];
	char *line = g_strconcat(text, "\n", NULL);
	int rc = 0;

	while (off < len && rc == 0) {
		chunk = len - off > FRAMES_MAX ? FRAMES_MAX : len - off;
		f[0] = 'l';
		f[1] = (unsigned char)(chunk >> 8);
		f[2] = (unsigned char)chunk;
		memcpy(f + FRAME_HDR, line + off, chunk);
		rc = conn_write(&n->c, f, FRAME_HDR + chunk, n->p.timeout_ms);
		off += chunk;
	}
	explicit_bzero(line, len);	/* maybe an /auth */
	g_free(line);
	return rc;
}

/* What the main loop queued: frames first (a hang-up before a new
 * /shell), then lines; 0 or -1. */
static int
send_queued(struct net *n, struct command_state *s)
{
	GBytes *b;
	const char *text;
	gsize len;
	int rc = 0;

	for (;;) {
		g_mutex_lock(&n->lock);
		b = g_queue_pop_head(&n->frames);
		g_mutex_unlock(&n->lock);
		if (b == NULL)
			break;
		text = g_bytes_get_data(b, &len);
		rc = conn_write(&n->c, text, len, n->p.timeout_ms);
		g_bytes_unref(b);
		if (rc == -1)
			return -1;
	}
	while (rc == 0 && (b = net_take_out(n)) != NULL) {
		text = g_bytes_get_data(b, NULL);
		if (text[0] == INTERNAL) {
			text++;
			g_queue_push_tail(&s->expect, g_strdup(
			    strncmp(text, "/tail", 5) == 0 ? "#tail" :
			    strncmp(text, "/shell", 6) == 0 ? "#shell" :
			    "#follow"));
		} else if (net_is_replied(text))
			g_queue_push_tail(&s->expect, g_strndup(text,
			    strcspn(text, " ")));
		rc = send_text(n, text);
		g_bytes_unref(b);
	}
	return rc;
}

static void
mux_end(struct net *n, struct mux_in *in, struct command_state *s)
{
	net_command_clear(s);
	g_string_free(in->replies, TRUE);
	g_string_free(in->records, TRUE);
	g_ptr_array_free(in->lines, TRUE);
	if (g_atomic_int_get(&n->stopped))
		return;
	net_lost(n);
	channel_post(n, &n->follow_ch, NET_EV_LOST, "the connection ended");
	channel_post(n, &n->shell_ch, NET_EV_LOST, "the connection ended");
}

void
net_mux_loop(struct net *n)
{
	struct command_state s = { .status_pending = 0, .data_of = NULL };
	struct mux_in in = { n, &s, g_string_new(NULL), g_string_new(NULL),
	    g_ptr_array_new_with_free_func(g_free) };
	int rc;

	g_queue_init(&s.expect);
	for (;;) {
		if (net_periodic(n, &s, send_text) == -1)
			break;
		if (send_queued(n, &s) == -1 || read_frames(&in) == -1 ||
		    n->c.eof)
			break;
		rc = net_wait_io(n, net_periodic_wait(&s));
		if (rc == -1)
			break;
		if (rc == 1 && conn_fill(&n->c) == -1) {
			(void)read_frames(&in);
			break;
		}
	}
	mux_end(n, &in, &s);
}

struct net *
net_attach(struct net *parent, enum net_role role,
    const struct net_params *p, net_cb cb, void *arg)
{
	struct net *ch, **slot, *old;
	char *line;

	if (parent == NULL || !g_atomic_int_get(&parent->mux) ||
	    g_atomic_int_get(&parent->stopped))
		return net_start(role, p, cb, arg);
	ch = g_new0(struct net, 1);
	ch->ref = 2;		/* the caller's and the session's */
	ch->role = role;
	ch->cb = cb;
	ch->arg = arg;
	ch->c.fd = -1;
	ch->wake[0] = ch->wake[1] = -1;
	net_params_copy(&ch->p, p);
	g_mutex_init(&ch->lock);
	g_queue_init(&ch->out);
	g_queue_init(&ch->frames);
	g_atomic_int_inc(&parent->ref);
	ch->parent = parent;
	slot = role == NET_SHELL ? &parent->shell_ch : &parent->follow_ch;
	g_mutex_lock(&parent->lock);
	old = *slot;
	*slot = ch;
	if (role == NET_SHELL)
		line = g_strdup_printf("%c/shell xterm-256color %d %d",
		    INTERNAL, p->rows > 0 ? p->rows : 24,
		    p->cols > 0 ? p->cols : 80);
	else {
		if (p->tail > 0) {
			line = g_strdup_printf("%c/tail %d", INTERNAL, p->tail);
			g_queue_push_tail(&parent->out, g_bytes_new_take(line,
			    strlen(line) + 1));
		}
		line = g_strdup_printf("%c/follow live", INTERNAL);
	}
	g_queue_push_tail(&parent->out, g_bytes_new_take(line,
	    strlen(line) + 1));
	g_mutex_unlock(&parent->lock);
	if (old != NULL)
		net_unref(old);
	net_wake(parent);
	return ch;
}

void
net_mux_detach(struct net *ch)
{
	struct net *n = ch->parent;
	static const unsigned char hangup[FRAME_HDR] = { 'x', 0, 0 };
	int was = 0;

	g_mutex_lock(&n->lock);
	if (n->shell_ch == ch) {
		n->shell_ch = NULL;
		/* The shell is closed with its tab: hang it up. */
		g_queue_push_tail(&n->frames, g_bytes_new(hangup,
		    sizeof(hangup)));
		was = 1;
	} else if (n->follow_ch == ch) {
		n->follow_ch = NULL;
		was = 1;
	}
	g_mutex_unlock(&n->lock);
	if (was) {
		net_unref(ch);
		net_wake(n);
	}
}
