/* Ben_AFK-gtk: the daemon's /stats table read into figures, and the rates
 * the dashboard draws, taken from two readings (docs/PROTOCOL.md, 4.2). */
#include <stdio.h>
#include <string.h>

#include "gtk/stats.h"

/*
 * One data line "NAME VALUE": NAME (labels included, padding dropped)
 * and its length, VALUE.  0, or -1 if the line is not a sample.  Label
 * values may hold spaces: the value is after the last one.
 */
static int
sample(const char *line, size_t *name_len, guint64 *v)
{
	const char *sp = strrchr(line, ' ');
	char *end;

	if (sp == NULL || sp == line || sp[1] < '0' || sp[1] > '9')
		return -1;
	*v = g_ascii_strtoull(sp + 1, &end, 10);
	if (*end != '\0')
		return -1;
	while (sp > line && sp[-1] == ' ')
		sp--;
	*name_len = (size_t)(sp - line);
	return *name_len > 0 ? 0 : -1;
}

int
stats_value(char *const *lines, const char *name, guint64 *v)
{
	size_t len = strlen(name), n;
	int family = strchr(name, '{') == NULL, found = 0;
	guint64 x, sum = 0;

	for (; lines != NULL && *lines != NULL; lines++) {
		if (sample(*lines, &n, &x) == -1 || n < len ||
		    strncmp(*lines, name, len) != 0)
			continue;
		/* "clients" is not "clients_refused_total{...}" */
		if (n == len || (family && (*lines)[len] == '{')) {
			sum += x;
			found = 1;
		}
	}
	if (!found)
		return -1;
	*v = sum;
	return 0;
}

int
stats_read(char *const *lines, const char *const *names, int n,
    gint64 at_ms, struct stats_reading *r)
{
	int i;

	memset(r, 0, sizeof(*r));
	r->at_ms = at_ms;
	if (stats_value(lines, "uptime_seconds", &r->uptime) == -1)
		return -1;
	if (stats_value(lines, "start_time_seconds", &r->start_time) == -1)
		r->start_time = 0;
	for (i = 0; i < n && i < STATS_MAX; i++)
		r->have[i] = stats_value(lines, names[i], &r->value[i]) == 0;
	return 0;
}

int
stats_restarted(const struct stats_reading *prev,
    const struct stats_reading *cur)
{
	return cur->uptime < prev->uptime || (prev->start_time != 0 &&
	    cur->start_time != 0 && cur->start_time != prev->start_time);
}

int
stats_figure(const struct stats_reading *prev,
    const struct stats_reading *cur, int i, enum stats_kind kind,
    double *out)
{
	double seconds;
	guint64 delta;

	if (i < 0 || i >= STATS_MAX || !cur->have[i])
		return -1;
	if (kind == STATS_GAUGE) {
		*out = (double)cur->value[i];
		return 0;
	}
	if (prev == NULL || !prev->have[i])
		return -1;
	seconds = (double)(cur->at_ms - prev->at_ms) / 1000.0;
	if (stats_restarted(prev, cur) || cur->value[i] < prev->value[i]) {
		/* counted again from 0 since the daemon started */
		delta = cur->value[i];
		if (cur->uptime > 0)
			seconds = (double)cur->uptime;
	} else
		delta = cur->value[i] - prev->value[i];
	if (seconds <= 0)
		return -1;
	*out = (double)delta / seconds;
	return 0;
}

void
stats_format(double v, char *buf, size_t size)
{
	if (v >= 1e6)
		snprintf(buf, size, "%.2fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, size, "%.1fk", v / 1e3);
	else if (v >= 100 || v == (double)(guint64)v)
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, "%.1f", v);
}
