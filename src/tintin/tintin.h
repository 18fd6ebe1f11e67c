/*
 * Tintin_reporter: a small, fast line logger with several sinks.
 *
 * A reporter formats records as
 *     [25/11/2026-03:41:44] [ INFO ] - NAME: message
 * (or as JSON lines) and writes them to any number of sinks, each with its
 * own minimum level and format.  In buffered mode records are collected in
 * memory and written by tintin_flush() with one write(2) per sink, which is
 * how an event loop writes everything produced during one turn at once.
 *
 * The library never prints, never exits and never uses stdio for records:
 * functions return 0 or a pointer on success and -1 or NULL with errno set.
 */
#ifndef TINTIN_H
#define TINTIN_H

#include <stddef.h>
#include <stdint.h>

#define TINTIN_VERSION "1.0.0"

typedef struct tintin_reporter Tintin_reporter;

enum tintin_level {
	TINTIN_DEBUG = 0,
	TINTIN_INFO,
	TINTIN_LOG,
	TINTIN_WARN,
	TINTIN_ERROR,
	TINTIN_NLEVELS
};

enum tintin_format {
	TINTIN_TEXT = 0,	/* [dd/mm/yyyy-hh:mm:ss] [ LEVEL ] - NAME: msg */
	TINTIN_JSON		/* {"time":ISO 8601 with ms,"level":..} */
};

enum tintin_every {
	TINTIN_EVERY_NEVER = 0,
	TINTIN_EVERY_HOURLY,
	TINTIN_EVERY_DAILY,
	TINTIN_EVERY_WEEKLY		/* weeks start on Monday 00:00 */
};

enum tintin_compress {
	TINTIN_COMPRESS_NONE = 0,
	TINTIN_COMPRESS_GZIP,		/* zlib, gzip format, .gz */
	TINTIN_COMPRESS_ZSTD		/* libzstd, .zst */
};

/* How file sinks are archived; all zero = never rotate. */
struct tintin_rotation {
	uint64_t	size;		/* rotate past this many bytes, 0 = no */
	int		every;		/* TINTIN_EVERY_* calendar period */
	int		compress;	/* TINTIN_COMPRESS_* */
	int		level;		/* compression level, 0 = default */
	unsigned	keep;		/* archives kept per file, 0 = all */
	unsigned	max_age;	/* seconds an archive is kept, 0 = ever */
};

/*
 * Categories: besides its level, a record belongs to one category, a bit
 * the caller chooses (tintin_log_cat); a sink can take only some of them
 * (tintin_set_categories).  tintin_log and the library's own records use
 * TINTIN_CAT_DEFAULT.
 */
#define TINTIN_CAT_DEFAULT	0x1u
#define TINTIN_CAT_ALL		0xffffffffu

/* Counters of one sink, for status reports. */
struct tintin_sink_stats {
	uint64_t	records;	/* records written */
	uint64_t	bytes;		/* bytes written */
	uint64_t	lost;		/* records dropped on write errors */
	int		last_errno;	/* errno of the last failed write, or 0 */
};

/* Counters of the whole reporter, for status reports and metrics. */
struct tintin_stats {
	uint64_t	records[TINTIN_NLEVELS];	/* logged, per level */
	uint64_t	bytes[TINTIN_NLEVELS];	/* their messages' bytes */
	uint64_t	rotations;	/* files renamed to an archive */
	uint64_t	rotate_failures;	/* renames that failed */
	uint64_t	archives;	/* archiver jobs that succeeded */
	uint64_t	archive_failures;	/* jobs failed or not started */
};

/* Create a reporter whose records carry NAME; NULL on failure. */
Tintin_reporter	*tintin_create(const char *name);

/* Flush, close the sinks the reporter opened and free it. */
void		 tintin_free(Tintin_reporter *r);

/*
 * Open PATH (created 0640, appended to, never through a symbolic link) as a
 * sink for records at MIN_LEVEL or above.  Returns the sink's index or -1.
 */
int		 tintin_add_file(Tintin_reporter *r, const char *path,
		    int min_level, int format);

/* Add an already open descriptor (stderr, say) as a sink; not closed. */
int		 tintin_add_fd(Tintin_reporter *r, int fd, int min_level,
		    int format);

/*
 * Forward records at MIN_LEVEL or above as RFC 5424 syslog messages to
 * TARGET: "tcp://HOST:PORT" (octet-counted framing, RFC 6587),
 * "udp://HOST:PORT" or "unix:/PATH" (datagram like /dev/log, or stream).
 * HOST is resolved now, once; the connection is made later and remade
 * with backoff (1 s, doubled at each failure up to 30 s), never blocking:
 * records wait in a bounded queue (1 MiB), the newest are dropped when it
 * is full, and tintin_tick() logs how many and every connection change.
 * Messages are cut to at most 2048 bytes over UDP, 8192 otherwise.
 * Returns the sink's index, or -1 with a message in ERR (ERRLEN bytes).
 */
int		 tintin_add_syslog(Tintin_reporter *r, const char *target,
		    int min_level, char *err, size_t errlen);

/*
 * One RFC 5424 message, without framing, into BUF (SIZE bytes, at least
 * 128): "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID - - MSG", facility
 * daemon, severity from LEVEL, T and MS the time at UTC offset GMTOFF
 * (MS < 0: a time known to the second, written without a fraction).
 * HOST, APP and PROCID must be tokens (tintin_rfc5424_token()); newlines
 * of MSG are escaped and MSG is cut to fit, never inside a character.
 * Returns the message's length.  For forwarders of a log written by a
 * reporter.
 */
size_t		 tintin_rfc5424(char *buf, size_t size, int level, int64_t t,
		    int ms, long gmtoff, const char *host, const char *app,
		    const char *procid, const char *msg, size_t len);

/* Copy S into DST (SIZE bytes) as an RFC 5424 token, "-" when empty. */
void		 tintin_rfc5424_token(char *dst, size_t size, const char *s);

/*
 * A sink that hands whole formatted records (one or more lines, each
 * ending in '\n') to CB instead of a file, when they would be written:
 * for live views of the log.  Returns the sink's index or -1.
 */
typedef void	(*tintin_record_cb)(void *arg, const char *records,
		    size_t len);
int		 tintin_add_callback(Tintin_reporter *r, int min_level,
		    int format, tintin_record_cb cb, void *arg);

/*
 * A sink that is a function called with each record it takes, before any
 * formatting: LEVEL, category CAT, the LEN bytes of MSG (no newline) and
 * the SOURCE the caller passed with the record (tintin_log_msg_src(),
 * tintin_batch_begin_src()), or NULL.  The library never looks at SOURCE:
 * caller and hook agree on what it points to.  For filters and alerts.
 * Records the hook logs itself do not come back to it.  Returns the
 * sink's index or -1.
 */
typedef void	(*tintin_hook_cb)(void *arg, int level, uint32_t cat,
		    const char *msg, size_t len, const void *source);
int		 tintin_add_hook(Tintin_reporter *r, int min_level,
		    tintin_hook_cb cb, void *arg);

/* Switch a sink off (it takes nothing, costs nothing) or on again. */
int		 tintin_set_enabled(Tintin_reporter *r, int sink, int on);

/* Change a sink's minimum level. */
int		 tintin_set_level(Tintin_reporter *r, int sink, int min_level);

/*
 * Buffered mode: records wait in memory until tintin_flush() or until a
 * sink's buffer passes its threshold.  Off by default (one write a record).
 */
void		 tintin_set_buffered(Tintin_reporter *r, int on);

/* Log a formatted message; the message should not end with a newline. */
int		 tintin_log(Tintin_reporter *r, int level, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/* Log LEN bytes of MSG as one record, as they are (the caller escapes). */
int		 tintin_log_msg(Tintin_reporter *r, int level, const char *msg,
		    size_t len);

/* The same, for a record of category CAT (one bit). */
int		 tintin_log_cat(Tintin_reporter *r, int level, uint32_t cat,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int		 tintin_log_msg_cat(Tintin_reporter *r, int level,
		    uint32_t cat, const char *msg, size_t len);

/*
 * The same, with an opaque SOURCE handed to the hooks with the record
 * (who sent it, say); tintin_log_msg_cat() passes NULL.
 */
int		 tintin_log_msg_src(Tintin_reporter *r, int level,
		    uint32_t cat, const void *source, const char *msg,
		    size_t len);

/*
 * Records written in place, for a caller with many records at once that
 * builds each message itself (escaping it, say): the message is not
 * copied again, and the sinks and the clock are looked at once for the
 * whole batch.  tintin_batch_begin() returns 0 when records of LEVEL and
 * CAT go to exactly one sink that writes text (a file or a callback),
 * maybe followed by hooks, and nothing else is pending; else -1, and the
 * records go through tintin_log_msg_cat() as usual.  For each record,
 * tintin_batch_next() returns where its message of at most MAX bytes
 * goes, or NULL when this record must go the usual way (out of memory, a
 * rotation by size may be due, a note of the library is pending): end the
 * batch there.  tintin_batch_put() publishes the LEN bytes written there
 * and calls the hooks with them; a record not put is not logged.
 * tintin_batch_end() ends the batch and writes, as tintin_log_msg_cat()
 * would.  Nothing else may be logged in a batch but what hooks log; a
 * hook given a record of a batch reads it in the sink's buffer, so it
 * must be done with MSG before it logs anything.
 */
int		 tintin_batch_begin(Tintin_reporter *r, int level,
		    uint32_t cat);
/* The same, every record of the batch handed to hooks with SOURCE. */
int		 tintin_batch_begin_src(Tintin_reporter *r, int level,
		    uint32_t cat, const void *source);
char		*tintin_batch_next(Tintin_reporter *r, size_t max);
void		 tintin_batch_put(Tintin_reporter *r, size_t len);
int		 tintin_batch_end(Tintin_reporter *r);

/* Let SINK take only the categories in MASK (default: all); 0 or -1. */
int		 tintin_set_categories(Tintin_reporter *r, int sink,
		    uint32_t mask);

/* Write everything buffered.  Returns -1 if a sink failed (kept counting). */
int		 tintin_flush(Tintin_reporter *r);

/*
 * Reopen every file sink by its path (after a rotation or when the file was
 * removed).  Returns -1 if one of them could not be reopened.
 */
int		 tintin_reopen(Tintin_reporter *r);

/* Is a record at LEVEL wanted by at least one sink? */
int		 tintin_wants(const Tintin_reporter *r, int level);

/*
 * Number of sinks, and one sink's counters (for a forwarding sink: records
 * and bytes sent, records dropped because its queue was full).
 */
int		 tintin_sink_count(const Tintin_reporter *r);
int		 tintin_sink_stats(const Tintin_reporter *r, int sink,
		    struct tintin_sink_stats *st);

/*
 * A forwarding sink's queue now: records and bytes waiting, and whether
 * it is connected.  0, or -1 for a sink that does not forward.
 */
int		 tintin_sink_queue(const Tintin_reporter *r, int sink,
		    uint64_t *records, uint64_t *bytes, int *connected);

/* The reporter's counters, into *ST. */
void		 tintin_get_stats(const Tintin_reporter *r,
		    struct tintin_stats *st);

/*
 * Async-signal-safe: write what was already buffered, then one text record
 * at LEVEL, to every file and fd sink.  For crash handlers only.
 */
void		 tintin_crash_log(Tintin_reporter *r, int level,
		    const char *msg);

/*
 * Archive the file sinks: FILE is renamed FILE.YYYYMMDD-HHMMSS (plus -N if
 * that exists) at a record boundary when it passes ROT->size bytes or when
 * a new calendar period starts (checked now too, from the file's last
 * modification), then compressed and pruned by a child process that
 * tintin_tick() starts, so the caller never waits.  That child first puts
 * every signal back to its default action and unblocks them all, so none
 * of the caller's handlers runs in it, and keeps only descriptors 0-2.
 * Returns 0 or -1.
 */
int		 tintin_set_rotation(Tintin_reporter *r,
		    const struct tintin_rotation *rot);

/* Rotate every non-empty file sink now; 0 or -1 if one failed. */
int		 tintin_rotate(Tintin_reporter *r);

/*
 * Housekeeping, to call about once a second: calendar rotation, reopening
 * of files that were removed, retrying failed steps, reaping the archiver
 * (for callers that do not reap children themselves).  Returns 0.
 */
int		 tintin_tick(Tintin_reporter *r);

/*
 * For callers that reap children themselves (waitpid(-1)): tell the
 * reporter child PID ended with STATUS.  Returns 1 if it was its archiver.
 */
int		 tintin_child_exited(Tintin_reporter *r, int pid, int status);

/*
 * Size in bytes of file sink SINK now, and the number and total size of
 * its archives on disk (rotated, compressed or not).  0 or -1.
 */
int		 tintin_sink_files(Tintin_reporter *r, int sink,
		    uint64_t *size, unsigned *archives, uint64_t *archive_bytes);

/* PID of the running archiver process, or 0. */
int		 tintin_archiver_pid(const Tintin_reporter *r);

/*
 * Called with a one-line description when a sink starts failing (disk
 * full...) so the caller can report it elsewhere (stderr, syslog).  The
 * reporter also logs these events as records on the sinks that work.
 */
typedef void	(*tintin_error_cb)(void *arg, const char *msg);
void		 tintin_set_error_cb(Tintin_reporter *r, tintin_error_cb cb,
		    void *arg);

/* "INFO" for TINTIN_INFO; NULL for an invalid level. */
const char	*tintin_level_name(int level);

/* Parse "debug", "info", "log", "warn", "error" (any case); -1 if unknown. */
int		 tintin_level_parse(const char *s);

/*
 * Format T (seconds since the epoch) at UTC offset GMTOFF seconds as
 * "dd/mm/yyyy-hh:mm:ss" into BUF (at least 20 bytes, NUL-terminated).
 * Pure arithmetic, async-signal-safe.
 */
void		 tintin_format_time(char *buf, int64_t t, long gmtoff);

#endif /* TINTIN_H */
