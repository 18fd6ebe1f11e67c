/* Internal: the reporter's structures, shared by the library's files. */
#ifndef TINTIN_INT_H
#define TINTIN_INT_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "tintin/tintin.h"

#define TINTIN_MAX_SINKS	16
#define TINTIN_THRESHOLD	(128 * 1024)	/* flush a sink past this */
#define TINTIN_PREALLOC		(16u << 20)	/* blocks allocated ahead */
#define TINTIN_PREFIX_MAX	128		/* " [ LEVEL ] - NAME: " */
#define TINTIN_NAME_MAX		64
#define TINTIN_NOTES		8
#define TINTIN_NOTE_MAX		320

struct tintin_fwd;

struct sink {
	int		 fd;		/* -1 for a forwarding sink */
	struct tintin_fwd *fwd;		/* syslog forwarding, or NULL */
	int		 owned;		/* opened by us, closed by us */
	char		*path;
	int		 min_level;
	int		 disabled;	/* takes nothing for now */
	tintin_record_cb cb;		/* callback sink, or NULL */
	tintin_hook_cb	 hook;		/* hook sink, or NULL */
	void		*cb_arg;
	int		 in_cb;		/* inside the callback */
	uint32_t	 cats;		/* categories wanted (bit mask) */
	int		 format;
	char		*buf;
	size_t		 len;		/* complete records only */
	size_t		 cap;
	uint64_t	 pending;	/* records in buf */
	uint64_t	 size;		/* bytes in the file (file sinks) */
	uint64_t	 prealloc;	/* blocks allocated up to here, or 0 */
	int		 can_prealloc;	/* on ext4 or XFS */
	time_t		 boundary;	/* next calendar rotation, 0 = none */
	time_t		 retry_at;	/* failed rotation: try again then */
	char		 arch_stamp[32];	/* last archive's stamp */
	int		 arch_n;		/* and its -N (0: none) */
	int		 failing;	/* last write failed */
	uint64_t	 lost_run;	/* records lost since it started failing */
	struct tintin_sink_stats st;
};

struct tintin_reporter {
	char		 name[TINTIN_NAME_MAX];
	struct sink	 sinks[TINTIN_MAX_SINKS];
	int		 nsinks;
	int		 buffered;
	int		 min_level;	/* lowest min_level of all sinks */
	/* Text prefix per level: " [ INFO ] - NAME: " */
	char		 prefix[TINTIN_NLEVELS][TINTIN_PREFIX_MAX];
	size_t		 prefix_len[TINTIN_NLEVELS];
	/* "[dd/mm/yyyy-hh:mm:ss]" for cached_sec, refreshed once a second. */
	time_t		 cached_sec;
	volatile long	 gmtoff;
	char		 stamp[24];

	struct tintin_rotation rot;
	pid_t		 archiver;	/* running archive child, or 0 */
	int		 archive_again;	/* rotated while it ran */
	time_t		 archive_retry;	/* failed job: run again then */

	/* Events of the library itself, logged once the caller's record is. */
	char		 notes[TINTIN_NOTES][TINTIN_NOTE_MAX];
	int		 note_level[TINTIN_NOTES];
	int		 nnotes;
	int		 depth;		/* inside tintin_log_msg */
	int		 in_note;	/* logging one of the notes */
	struct sink	*batch;		/* the sink of the open batch, or NULL */
	int		 batch_level;
	uint32_t	 batch_cat;
	struct sink	*batch_hooks[TINTIN_MAX_SINKS];	/* after the writer */
	int		 batch_nhooks;
	const void	*batch_source;	/* handed to the hooks */
	size_t		 batch_head;	/* its stamp and prefix: bytes */
	char		 batch_headbuf[21 + TINTIN_PREFIX_MAX];	/* them */
	tintin_error_cb	 error_cb;
	void		*error_arg;
	struct tintin_stats st;		/* counters, tintin_get_stats() */
};

/* Queue an event of the library, logged at the end of the current call. */
void	tintin_note(Tintin_reporter *r, int level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Log the queued events. */
void	tintin_emit_notes(Tintin_reporter *r);

/* write(2) all N bytes (async-signal-safe); 0, or -1 with errno. */
int	tintin_write_all(int fd, const void *buf, size_t n);

/* Open a log file for appending (no links, regular files only). */
int	tintin_open_log(const char *path);

/* Flush and close sink S, freeing what it holds. */
void	tintin_sink_close(Tintin_reporter *r, struct sink *s);

/* Write a sink's buffer; rotates it afterwards if it grew too big. */
int	tintin_sink_flush(Tintin_reporter *r, struct sink *s);

/* Reopen one sink by its path (creating its directory); 0 or -1. */
int	tintin_reopen_sink(Tintin_reporter *r, struct sink *s);

/* Rotation hooks used by the core. */
void	tintin_rotate_check_time(Tintin_reporter *r, struct sink *s,
	    time_t now);
int	tintin_rotate_sink(Tintin_reporter *r, struct sink *s, time_t now);
time_t	tintin_next_boundary(int every, time_t t);

#endif /* TINTIN_INT_H */
