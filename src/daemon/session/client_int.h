/* Between the parts of the client module (client.c: connections and
 * reading; client_text.c: lines; client_mux.c: frames; client_out.c:
 * output; client_follow.c: followers; client_slots.c: who keeps a slot).
 * Not for the rest of the daemon. */
#ifndef CLIENT_INT_H
#define CLIENT_INT_H

#include <stddef.h>

struct client;

/* Watch what the client needs now (input unless paused, output if any). */
void	client_update_events(struct client *c);

/* Send what waits in the output buffer; 0, or -1 if the client is gone. */
int	client_flush(struct client *c);

/* C's command has replied: send the records it held (client_follow.c). */
void	client_follow_replied(struct client *c);

/* Not reading C for now (a check, a delay, a full terminal). */
int	client_paused(const struct client *c);

/* Authentication is required and C has not logged in: lines refused. */
int	client_unproven(const struct client *c);

/*
 * Text from C (lines, commands), as read from a plain session: returns
 * 0, 1 if it stopped early (c->fr.consumed bytes used), -1 (no memory).
 */
int	client_feed_text(struct client *c, const char *buf, size_t len);

/* C's stream ended: its partial last line, if any, as a record. */
void	client_finish_text(struct client *c);

/*
 * Frames from multiplexed C (client_mux.c): returns the bytes used, all
 * of them unless C was paused, closed, or the daemon is stopping.
 */
size_t	client_mux_input(struct client *c, const char *data, size_t len);

#endif /* CLIENT_INT_H */
