/* The event loop: one epoll instance, callbacks per descriptor. */
#ifndef LOOP_H
#define LOOP_H

#include <stdint.h>
#include <time.h>

struct loop;
struct loop_io;

/* Called with the epoll events ready on IO->fd. */
typedef void (*loop_cb)(struct loop *l, struct loop_io *io, uint32_t events);
/* Called once per turn, before the loop waits again. */
typedef void (*loop_hook)(struct loop *l, void *arg);

/* Embed one in the object that owns the descriptor. */
struct loop_io {
	int		 fd;
	loop_cb		 cb;
	void		*arg;
};

struct loop {
	int		 epfd;
	int		 stop;
	loop_hook	 before_sleep;
	void		*hook_arg;
};

/* Create the epoll instance; 0 or -1. */
int	loop_init(struct loop *l);

/*
 * Seconds on the monotonic clock (coarse: timeouts, delays and windows
 * are counted in whole seconds), for every timer of the daemon.
 */
time_t	loop_now(void);

/* Watch IO->fd for EVENTS (EPOLLIN...); 0 or -1. */
int	loop_add(struct loop *l, struct loop_io *io, uint32_t events);

/* Change the events watched; 0 or -1. */
int	loop_mod(struct loop *l, struct loop_io *io, uint32_t events);

/* Stop watching IO->fd (before closing it); 0 or -1. */
int	loop_del(struct loop *l, struct loop_io *io);

/*
 * Dispatch events until loop_stop().  The before-sleep hook runs at the end
 * of every turn.  Returns 0 once stopped, -1 if epoll_wait failed.
 */
int	loop_run(struct loop *l);

/* Make loop_run() return at the end of the current turn. */
void	loop_stop(struct loop *l);

/* Close the epoll instance. */
void	loop_close(struct loop *l);

#endif /* LOOP_H */
