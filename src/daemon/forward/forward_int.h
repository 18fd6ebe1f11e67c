/*
 * Between the parts of the forwarder child: the log file as a queue
 * (forward_src.c), the connection to the collector (forward_net.c), what
 * the collector has (forward_ack.c, forward_marks.c), the checkpoint's
 * thread (forward_save.c), the records as messages (forward_record.c),
 * what the child tells the daemon (forward_report.c) and the loop that
 * joins them (forward_run.c).  Not for the rest of the
 * daemon, which knows only forward.h.
 */
#ifndef FORWARD_INT_H
#define FORWARD_INT_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>
#include <zlib.h>
#include <zstd.h>

#include "daemon/config.h"

#define FWD_HEAD	4096		/* first bytes naming a file */
#define FWD_BLOCK	(1024 * 1024)	/* read and send this much at once */
#define FWD_MSG_MAX	8192		/* one message, as the syslog sink */
#define FWD_RELP_WINDOW	128		/* RELP messages not acknowledged */
#define FWD_RELP_BATCH	16		/* RELP messages between two notes */
#define FWD_ACK_RING	(2 * FWD_RELP_WINDOW)	/* message ends kept */

enum { FWD_PLAIN, FWD_GZIP, FWD_ZSTD };

/* Where forwarding stands: a file and an offset in its (plain) bytes. */
struct fwd_pos {
	dev_t		 dev;
	ino_t		 ino;
	uint64_t	 off;
	unsigned char	 head[FWD_HEAD];	/* its first bytes */
	size_t		 headlen;
	uint64_t	 hash;			/* of those: FNV-1a */
};

/* The log file and its archives, read in order as one stream. */
struct fwd_src {
	char		 dir[PATH_MAX];
	char		 base[NAME_MAX + 1];
	char		 key[NAME_MAX + 1];	/* archive's stamp, "" = live */
	int		 fd;
	int		 comp;			/* FWD_PLAIN ... */
	int		 draining;		/* live file renamed: finish */
	struct fwd_pos	 pos;			/* pos.off: of buf[0] */
	z_stream	 z;
	ZSTD_DStream	*zs;
	unsigned char	*zin;			/* compressed bytes read */
	size_t		 zin_len, zin_pos;
	int		 zeof;
	uint64_t	 zout;			/* plain bytes decompressed */
	char		*buf;			/* plain bytes from pos.off */
	size_t		 len;
	char		 note[400];		/* what went wrong, for the log */
};

/* Where message N (counted from the start) ends in the source. */
struct fwd_end {
	uint64_t	 n;
	dev_t		 dev;
	ino_t		 ino;
	uint64_t	 off;
	size_t		 headlen;
	uint64_t	 hash;
};

/* The acknowledged position: in place in STATE.ack, and the last ends. */
struct fwd_ack {
	int		 fd;
	struct fwd_end	 ends[FWD_ACK_RING];
};

/* A batch sent: the bytes (RELP: messages) sent before it, when, where. */
#define FWD_MARKS	1024
struct fwd_mark {
	uint64_t	 sent;
	int64_t		 at;		/* ms */
	struct fwd_end	 where;
};

/* The recent batches, a ring. */
struct fwd_marks {
	struct fwd_mark	 ring[FWD_MARKS];
	unsigned	 n, first;
};

/* Everything the child needs, copied before it is forked. */
struct fwd_conf {
	char		 target[512];
	int		 level;
	char		 log_path[PATH_MAX];
	char		 state_path[PATH_MAX];	/* the checkpoint */
	uint64_t	 max_backlog;
	char		 ca_file[PATH_MAX];
	char		 fingerprint[96];
	char		 cert[PATH_MAX];
	char		 key[PATH_MAX];
	struct fwd_pos	 start;			/* without a checkpoint */
	pid_t		 daemon_pid;
};

/* How records are formatted: the fields, the last time parsed. */
struct fwd_fmt {
	char		 host[256], app[49], procid[24];
	char		 stamp[20];
	int64_t		 stamp_t;
	long		 stamp_off;
	char		 msg[FWD_MSG_MAX];
};

/* The forwarder child's state (forward_run.c), shared by its parts. */
struct fwd_child {
	const struct fwd_conf *c;
	struct fwd_src	 src;
	struct fwd_net	*net;
	int		 report;
	int		 inot;
	int		 up;
	int		 down;		/* the outage was logged */
	int		 final;		/* the file ended in a piece of line */
	int64_t		 retry_at;	/* ms */
	int		 backoff;
	char		*out;
	size_t		 olen;
	uint64_t	 nrec;		/* records in out */
	uint64_t	 nlines;	/* lines of the source they took */
	uint64_t	 lines_in, bytes_in;	/* taken so far: their size */
	uint64_t	 forwarded, acked;
	uint64_t	 sess_first;	/* RELP: first message of the session */
	struct fwd_ack	 ack;		/* RELP: where acknowledgements stand */
	struct fwd_end	 ackat;		/* RELP: the end of the last acked */
	struct fwd_saver *saver;	/* tcp, tls: saves while sending */
	int		 parked;	/* RELP: closed while idle, all acked */
	int64_t		 sent_at;
	uint64_t	 skip, skipped, skipped_bytes;
	int		 skipping;	/* noted; until back under half */
	int		 dirty;
	int		 unsaved;	/* a save failed: noted, until one works */
	int64_t		 saved_at, reported_at;
	struct fwd_fmt	 fmt;
	uint64_t	 sent_bytes;	/* to the socket (RELP: messages) */
	int		 relp;		/* acknowledged messages */
	uint64_t	 window;	/* what both socket buffers may hold */
	struct fwd_marks marks;		/* where recent batches started */
};

/* forward_record.c */
int	fwd_fmt_stamp(struct fwd_fmt *f, const char *s);
size_t	fwd_fmt_record(struct fwd_fmt *f, const char *line, size_t len,
	    int *level);
/* MSG (LEN bytes) at OUT octet-counted, "LEN MSG"; the bytes put. */
size_t	fwd_frame(char *out, const char *msg, size_t len);

/* forward_src.c */
int	fwd_src_open(struct fwd_src *s, const char *log_path,
	    const struct fwd_pos *at);
ssize_t	fwd_src_fill(struct fwd_src *s);
void	fwd_src_consume(struct fwd_src *s, size_t n);
int	fwd_src_next(struct fwd_src *s);
uint64_t fwd_src_backlog(struct fwd_src *s);
/* Where S stands, its first bytes read again; saved as the checkpoint. */
const struct fwd_pos *fwd_src_pos(struct fwd_src *s);
int	fwd_src_save(struct fwd_src *s, const char *path);
int	fwd_src_save_pos(const struct fwd_pos *p, const char *path);
int	fwd_src_load(struct fwd_pos *p, const char *path);
/* P as "DEV INO OFF HEADLEN HASH" (no newline), and back; END: its end. */
int	fwd_pos_format(char *buf, size_t size, const struct fwd_pos *p);
int	fwd_pos_parse(struct fwd_pos *p, const char *line, int *end);
void	fwd_src_close(struct fwd_src *s);

/* forward_ack.c */
void	fwd_ack_init(struct fwd_ack *a);
int	fwd_ack_open(struct fwd_ack *a, const char *state_path);
int	fwd_ack_put(struct fwd_ack *a, const struct fwd_pos *p);
int	fwd_ack_sync(struct fwd_ack *a);
int	fwd_ack_load(struct fwd_pos *p, const char *state_path);
void	fwd_ack_set(struct fwd_end *e, uint64_t n, const struct fwd_pos *file,
	    uint64_t end);
void	fwd_ack_sent(struct fwd_ack *a, uint64_t n, const struct fwd_pos *file,
	    uint64_t end);
int	fwd_ack_end(const struct fwd_ack *a, uint64_t n, struct fwd_end *e);
void	fwd_ack_pos(const struct fwd_end *e, struct fwd_pos *p);

/* forward_marks.c */
/* A mark at AT for a batch after SENT, if STEP was sent since the last. */
void	fwd_marks_add(struct fwd_marks *m, uint64_t sent, uint64_t step,
	    int64_t now, const struct fwd_pos *at);
/*
 * BACK of the SENT may not have arrived: *AT is where the last batch
 * before them started, of those marked since SINCE (ms); 1, or 0 if no
 * mark covers them.  The marks are cleared either way.
 */
int	fwd_marks_back(struct fwd_marks *m, uint64_t sent, uint64_t back,
	    int64_t since, struct fwd_pos *at);
void	fwd_marks_clear(struct fwd_marks *m);
/* The most both ends' socket buffers hold (tcp_wmem + tcp_rmem). */
uint64_t fwd_socket_window(void);

/* forward_save.c: the checkpoint saved by a thread (fwd_src_save_pos) */
struct fwd_saver;
struct fwd_saver *fwd_saver_new(const char *state_path);
/* Save P in the thread, TAG to tell it by; only when no save is due. */
void	fwd_saver_put(struct fwd_saver *s, const struct fwd_pos *p,
	    uint64_t tag);
/*
 * The outcome of the last save, once: 1 with its *TAG and *ERR (0 or an
 * errno), 0 if there is none to take, -1 (poll only) while it runs.
 * fwd_saver_wait() waits for a save under way.
 */
int	fwd_saver_poll(struct fwd_saver *s, uint64_t *tag, int *err);
int	fwd_saver_wait(struct fwd_saver *s, uint64_t *tag, int *err);
/* Ends the thread, after the save under way. */
void	fwd_saver_free(struct fwd_saver *s);

/* forward_net.c */
struct fwd_net;
struct fwd_net *fwd_net_new(const struct fwd_conf *c, char *err,
	    size_t errlen);
int	fwd_net_connect(struct fwd_net *n, char *err, size_t errlen);
int	fwd_net_send(struct fwd_net *n, const char *buf, size_t len,
	    volatile int *quit, char *err, size_t errlen);
int	fwd_net_fd(const struct fwd_net *n);
int	fwd_net_lost(struct fwd_net *n);
int	fwd_net_drain(struct fwd_net *n);
uint64_t fwd_net_unacked(const struct fwd_net *n);
void	fwd_net_close(struct fwd_net *n);

/* forward_report.c: what the child tells the daemon through its pipe */
/* A record for the daemon to log: "Forwarding to TARGET: " and FMT. */
void	fwd_note(struct fwd_child *r, int level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * At most once in EVERY ms: the backlog against max_backlog (what to
 * skip, and its notes) and the status line for /status.
 */
void	fwd_report(struct fwd_child *r, int64_t now, int64_t every);

/* forward_run.c */
void	fwd_run(const struct fwd_conf *c, int report)
	    __attribute__((noreturn));

#endif /* FORWARD_INT_H */
