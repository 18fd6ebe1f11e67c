/*
 * The event loop: a thin layer over epoll in the manner of redis' ae.c.
 * Level-triggered, so a callback may stop reading early (to be fair to the
 * other descriptors) and will be called again on the next turn.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon/loop.h"

#define LOOP_MAX_EVENTS	64

int
loop_init(struct loop *l)
{
	memset(l, 0, sizeof(*l));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd == -1 ? -1 : 0;
}

static int
ctl(struct loop *l, int op, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = io;
	return epoll_ctl(l->epfd, op, io->fd, &ev);
}

int
loop_add(struct loop *l, struct loop_io *io, uint32_t events)
{
	return ctl(l, EPOLL_CTL_ADD, io, events);
}

int
loop_mod(struct loop *l, struct loop_io *io, uint32_t events)
{
	return ctl(l, EPOLL_CTL_MOD, io, events);
}

int
loop_del(struct loop *l, struct loop_io *io)
{
	return ctl(l, EPOLL_CTL_DEL, io, 0);
}

/*
 * Objects are never freed inside a callback: their owners mark them dead
 * and free them in the before-sleep hook, so an event of this same batch
 * never points to freed memory.
 */
int
loop_run(struct loop *l)
{
	struct epoll_event ev[LOOP_MAX_EVENTS];
	struct loop_io *io;
	int i, n;

	while (!l->stop) {
		n = epoll_wait(l->epfd, ev, LOOP_MAX_EVENTS, -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (i = 0; i < n && !l->stop; i++) {
			io = ev[i].data.ptr;
			if (io->cb != NULL)
				io->cb(l, io, ev[i].events);
		}
		if (l->before_sleep != NULL)
			l->before_sleep(l, l->hook_arg);
	}
	return 0;
}

void
loop_stop(struct loop *l)
{
	l->stop = 1;
}

void
loop_close(struct loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

time_t
loop_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}
