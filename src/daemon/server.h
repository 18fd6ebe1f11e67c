/* The listening socket and the acceptance (or refusal) of clients. */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>
#include <sys/socket.h>

struct daemon;

/*
 * Create the listening socket for ADDR ("*" or a literal) and PORT.
 * Returns the descriptor, or -1 with errno set.
 */
int	server_listen(const char *addr, int port);

/* Watch the listening socket of D; 0 or -1. */
int	server_start(struct daemon *d, int fd);

/* Close the listening socket. */
void	server_stop(struct daemon *d);

/* "1.2.3.4:5678" or "[::1]:5678" into BUF. */
void	server_format_addr(const struct sockaddr *sa, char *buf, size_t size);

#endif /* SERVER_H */
