/* Between the parts of the client module (client.c: connections and
 * input; client_out.c: output; client_follow.c: followers).  Not for the
 * rest of the daemon. */
#ifndef CLIENT_INT_H
#define CLIENT_INT_H

struct client;

/* Watch what the client needs now (input unless paused, output if any). */
void	client_update_events(struct client *c);

/* Send what waits in the output buffer; 0, or -1 if the client is gone. */
int	client_flush(struct client *c);

/* C's command has replied: send the records it held (client_follow.c). */
void	client_follow_replied(struct client *c);

#endif /* CLIENT_INT_H */
