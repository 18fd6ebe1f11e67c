/*
 * The checkpoint saved by a thread of its own, so that the forwarder
 * goes on sending while the disk takes its time: an fsync() waits for the
 * filesystem's journal, which under a busy log can take a fifth of a
 * second, longer than the socket buffers keep the collector busy.  One
 * save at a time; a newer position waits for the next turn.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/forward/forward_int.h"

enum { SAVER_IDLE, SAVER_ASKED, SAVER_DONE };

struct fwd_saver {
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	char		 path[PATH_MAX];
	struct fwd_pos	 pos;		/* asked for */
	struct fwd_pos	 work;		/* being saved */
	uint64_t	 tag;
	int		 state;
	int		 err;
	int		 stop;
};

static void *
saver_main(void *arg)
{
	struct fwd_saver *s = arg;
	int rc;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->stop && s->state != SAVER_ASKED)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->state != SAVER_ASKED)
			break;
		s->work = s->pos;
		pthread_mutex_unlock(&s->mu);
		rc = fwd_src_save_pos(&s->work, s->path);
		pthread_mutex_lock(&s->mu);
		s->err = rc == 0 ? 0 : errno != 0 ? errno : EIO;
		s->state = SAVER_DONE;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

struct fwd_saver *
fwd_saver_new(const char *path)
{
	struct fwd_saver *s;
	sigset_t all, old;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	snprintf(s->path, sizeof(s->path), "%s", path);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	/* Signals are the main thread's: they end its poll(). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&s->thread, NULL, saver_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		free(s);
		errno = rc;
		return NULL;
	}
	return s;
}

/* A finished save's outcome, once: 1 (with *TAG, *ERR), -1 busy, 0 none. */
static int
take_result(struct fwd_saver *s, uint64_t *tag, int *err)
{
	if (s->state == SAVER_ASKED)
		return -1;
	if (s->state == SAVER_IDLE)
		return 0;
	*tag = s->tag;
	*err = s->err;
	s->state = SAVER_IDLE;
	return 1;
}

int
fwd_saver_poll(struct fwd_saver *s, uint64_t *tag, int *err)
{
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = take_result(s, tag, err);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
fwd_saver_wait(struct fwd_saver *s, uint64_t *tag, int *err)
{
	int rc;

	pthread_mutex_lock(&s->mu);
	while (s->state == SAVER_ASKED)
		pthread_cond_wait(&s->cv, &s->mu);
	rc = take_result(s, tag, err);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void
fwd_saver_put(struct fwd_saver *s, const struct fwd_pos *p, uint64_t tag)
{
	pthread_mutex_lock(&s->mu);
	s->pos = *p;
	s->tag = tag;
	s->state = SAVER_ASKED;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void
fwd_saver_free(struct fwd_saver *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
