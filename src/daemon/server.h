/* The listening socket and the acceptance (or refusal) of clients. */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

struct daemon;

/*
 * Create the listening socket for ADDR ("*" or a literal) and PORT.
 * Returns the descriptor, or -1 with errno set.
 */
int	server_listen(const char *addr, int port);

/*
 * Create the local unix socket at PATH (its directory too, 0755), mode
 * 0660, owned by root and group GID; a stale socket there is replaced,
 * anything else is an error (ELOOP: a symbolic link, EEXIST: not a
 * socket).  Returns the descriptor, or -1 with errno set.
 */
int	server_listen_local(const char *path, gid_t gid);

/* Watch the listening sockets of D (LOCAL_FD -1: none); 0 or -1. */
int	server_start(struct daemon *d, int fd, int local_fd);

/* Close the listening sockets and remove the local one's file. */
void	server_stop(struct daemon *d);

/* "1.2.3.4:5678" or "[::1]:5678" into BUF. */
void	server_format_addr(const struct sockaddr *sa, char *buf, size_t size);

#endif /* SERVER_H */
