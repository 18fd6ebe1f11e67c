/* Ben_AFK-gtk: the figures of the daemon's /stats table (docs/PROTOCOL.md,
 * 4.2) and the rates between two readings (stats.c).  GLib only, so that
 * the unit tests need no display. */
#ifndef GTK_STATS_H
#define GTK_STATS_H

#include <glib.h>

#define STATS_MAX	16	/* figures kept from one reply */

enum stats_kind {
	STATS_GAUGE,	/* the value as read */
	STATS_RATE,	/* a counter: its increase per second */
};

/* One /stats reply: the figures asked for, in the order of their names. */
struct stats_reading {
	gint64	 at_ms;			/* when it came (monotonic) */
	guint64	 start_time;		/* start_time_seconds */
	guint64	 uptime;		/* uptime_seconds */
	guint64	 value[STATS_MAX];
	int	 have[STATS_MAX];	/* the daemon has this figure */
};

/* Sample NAME of the data lines LINES ("NAME VALUE"): NAME with its
 * labels for that sample, or a bare family name for the sum of all its
 * samples.  0 with *V set, or -1 (no such sample). */
int	stats_value(char *const *lines, const char *name, guint64 *v);

/* Read the N (at most STATS_MAX) figures NAMES from the data lines of a
 * /stats reply received at AT_MS into R: 0, or -1 (not a /stats table). */
int	stats_read(char *const *lines, const char *const *names, int n,
	    gint64 at_ms, struct stats_reading *r);

/* Whether CUR comes from another run of the daemon than PREV (its start
 * time changed or its uptime went back). */
int	stats_restarted(const struct stats_reading *prev,
	    const struct stats_reading *cur);

/* Figure I of CUR as KIND: a gauge's value, or a counter's increase per
 * second since PREV (after a restart or a counter gone back: its value
 * over the daemon's uptime).  0 with *OUT set, or -1 (no such figure,
 * or no earlier reading to take a rate from). */
int	stats_figure(const struct stats_reading *prev,
	    const struct stats_reading *cur, int i, enum stats_kind kind,
	    double *out);

/* V in a few characters into BUF: "0", "9.5", "950", "12.3k", "4.56M". */
void	stats_format(double v, char *buf, size_t size);

#endif /* GTK_STATS_H */
