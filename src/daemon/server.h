/* The listening socket and the acceptance (or refusal) of clients. */
#ifndef SERVER_H
#define SERVER_H

#include <limits.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "daemon/loop.h"

struct sessions;

/* The listening sockets, and the sessions they bring clients to. */
struct server {
	struct sessions	*s;
	struct loop_io	 listen_io;	/* TCP */
	struct loop_io	 local_io;	/* the local unix socket, or fd -1 */
	char		 local_path[PATH_MAX];	/* removed at exit */
	gid_t		 local_gid;	/* its group: readers */
	int		 spare_fd;	/* closed to accept() when out of fds */
};

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

/* Watch the listening sockets of SV (LOCAL_FD -1: none); 0 or -1. */
int	server_start(struct server *sv, int fd, int local_fd);

/* Close the listening sockets and remove the local one's file. */
void	server_stop(struct server *sv);

/* "1.2.3.4:5678" or "[::1]:5678" into BUF. */
void	server_format_addr(const struct sockaddr *sa, char *buf, size_t size);

#endif /* SERVER_H */
