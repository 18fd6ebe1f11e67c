/* Ben_AFK-gtk: the command session's periodic commands: /status for the
 * status bar, /stats for the dashboard (its table gathered into one
 * event), whichever way the session sends them (plain or /mux). */
#include <stdio.h>
#include <string.h>

#include "gtk/net.h"
#include "gtk/net_int.h"

#define STATUS_EVERY_MS	3000	/* /status refresh */
#define STATS_EVERY_MS	1000	/* /stats, for the dashboard */
#define REPLY_WAIT_MS	1000	/* a periodic reply awaited: look again */

/* The table of our /stats is read: one event for the dashboard. */
static void
stats_done(struct net *n, struct command_state *s)
{
	struct net_event *ev = net_event_new(n, NET_EV_STATS, s->stats_head);

	ev->at_ms = g_get_monotonic_time() / 1000;
	if (s->stats != NULL) {
		g_ptr_array_add(s->stats, NULL);
		ev->lines = (char **)g_ptr_array_free(s->stats, FALSE);
		s->stats = NULL;
	}
	net_event_post(ev);
	g_clear_pointer(&s->stats_head, g_free);
	s->stats_pending = 0;
}

/* The reply LINE to our /stats: its table follows, or the daemon refused
 * (this session may not see its figures: not asked again). */
void
net_poll_stats_reply(struct net *n, struct command_state *s, char *command,
    const char *line)
{
	int count = 0;

	g_free(s->stats_head);
	s->stats_head = g_strdup(line);
	if (proto_classify(line) != PROTO_OK ||
	    sscanf(line, "+OK %d", &count) != 1 || count <= 0) {
		s->stats_off = proto_classify(line) != PROTO_OK;
		g_free(command);
		stats_done(n, s);
		return;
	}
	s->stats = g_ptr_array_new_with_free_func(g_free);
	s->data_left = count;
	g_free(s->data_of);
	s->data_of = command;
}

void
net_poll_stats_line(struct net *n, struct command_state *s, const char *line)
{
	g_ptr_array_add(s->stats, g_strdup(line));
	if (s->data_left == 0)
		stats_done(n, s);
}

int
net_periodic(struct net *n, struct command_state *s,
    int (*send)(struct net *, const char *))
{
	if (!s->status_pending && net_now_ms() >= s->next_status) {
		if (send(n, "/status") == -1)
			return -1;
		g_queue_push_tail(&s->expect, NULL);
		s->status_pending = 1;
		s->next_status = net_now_ms() + STATUS_EVERY_MS;
	}
	if (!s->stats_off && !s->stats_pending &&
	    net_now_ms() >= s->next_stats) {
		if (send(n, "/stats") == -1)
			return -1;
		g_queue_push_tail(&s->expect, g_strdup("#stats"));
		s->stats_pending = 1;
		s->next_stats = net_now_ms() + STATS_EVERY_MS;
	}
	return 0;
}

/* Milliseconds until DUE, or REPLY_WAIT_MS while its reply is awaited. */
static long
until(long due, int pending)
{
	long left = due - net_now_ms();

	if (pending)
		return REPLY_WAIT_MS;
	return left < 0 ? 0 : left;
}

int
net_periodic_wait(const struct command_state *s)
{
	long wait = until(s->next_status, s->status_pending);

	if (!s->stats_off)
		wait = MIN(wait, until(s->next_stats, s->stats_pending));
	return (int)wait;
}

void
net_command_clear(struct command_state *s)
{
	g_queue_clear_full(&s->expect, g_free);
	g_free(s->data_of);
	g_free(s->stats_head);
	if (s->stats != NULL)
		g_ptr_array_free(s->stats, TRUE);
}
