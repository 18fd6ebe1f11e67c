/*
 * The metrics listener ([metrics] listen): a minimal HTTP/1.x responder in
 * the event loop that answers GET /metrics and nothing else.
 */
#ifndef METRICS_HTTP_H
#define METRICS_HTTP_H

#include <time.h>

#include "daemon/loop.h"
#include "daemon/metrics/metrics.h"

#define METRICS_HTTP_MAX_CONNS	4	/* scrapers at once; more: 503 */
#define METRICS_HTTP_REQ_MAX	4096	/* a request's line and headers */
#define METRICS_HTTP_TIMEOUT	10	/* seconds a scraper may take */

struct metrics_http;

/*
 * Serve M on listening socket FD (non-blocking, taken over) in loop L.
 * NULL on error (out of memory, epoll), errno set.
 */
struct metrics_http *metrics_http_start(struct loop *l, int fd,
		    const struct metrics *m);

/* Once a second: close scrapers that took longer than the timeout. */
void	metrics_http_tick(struct metrics_http *h);

/* End of a loop turn: free the connections closed during it. */
void	metrics_http_reap(struct metrics_http *h);

/* Close the listener and every connection, free H (may be NULL). */
void	metrics_http_stop(struct metrics_http *h);

#endif /* METRICS_HTTP_H */
