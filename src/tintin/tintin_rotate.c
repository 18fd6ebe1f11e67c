/*
 * Rotation of the file sinks.  In the event loop's thread, at a record
 * boundary: write what is buffered, rename the file to its archive name,
 * reopen the path.  The slow part, compression and pruning, runs in a
 * child process started by the next tick (so a burst of rotations makes
 * one job, and nothing forks before the daemon has detached); a step that
 * fails is logged and retried later, and an unfinished job is redone by
 * the next one.
 */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tintin/tintin_archive.h"
#include "tintin/tintin_int.h"
#include "tintin/tintin_syslog.h"

#define RETRY_SECONDS	10

time_t
tintin_next_boundary(int every, time_t t)
{
	struct tm tm;

	if (every == TINTIN_EVERY_NEVER || localtime_r(&t, &tm) == NULL)
		return 0;
	tm.tm_sec = 0;
	tm.tm_min = 0;
	switch (every) {
	case TINTIN_EVERY_HOURLY:
		tm.tm_hour++;
		break;
	case TINTIN_EVERY_DAILY:
		tm.tm_hour = 0;
		tm.tm_mday++;
		break;
	case TINTIN_EVERY_WEEKLY:
		tm.tm_hour = 0;
		/* Days to next Monday: Sunday 1, Monday 7. */
		tm.tm_mday += (8 - tm.tm_wday) % 7 == 0 ? 7 :
		    (8 - tm.tm_wday) % 7;
		break;
	}
	tm.tm_isdst = -1;
	return mktime(&tm);
}

/*
 * "PATH.YYYYMMDD-HHMMSS", or with "-N" if taken (archived or not).  Many
 * rotations in one second (a small rotate_size under a flood) would probe
 * every earlier -N again: the search starts after the last one used.
 */
static int
archive_name(struct sink *s, time_t now, char *buf, size_t size)
{
	static const char *const ext[] = { "", ".gz", ".zst" };
	char stamp[sizeof(s->arch_stamp)], cand[4096];
	struct stat st;
	struct tm tm;
	int n, taken;
	size_t i;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	n = strcmp(stamp, s->arch_stamp) == 0 ? s->arch_n + 1 : 0;
	for (; n < 100000; n++) {
		if (n == 0)
			snprintf(buf, size, "%s.%s", s->path, stamp);
		else
			snprintf(buf, size, "%s.%s-%d", s->path, stamp, n);
		taken = 0;
		for (i = 0; i < sizeof(ext) / sizeof(ext[0]) && !taken; i++) {
			snprintf(cand, sizeof(cand), "%s%s", buf, ext[i]);
			taken = lstat(cand, &st) == 0;
		}
		if (!taken) {
			memcpy(s->arch_stamp, stamp, sizeof(stamp));
			s->arch_n = n;
			return 0;
		}
	}
	errno = EEXIST;
	return -1;
}

/*
 * In the archiver: every signal to its default action and unblocked (the
 * raw call, as glibc keeps two for itself), no alternate stack, only the
 * standard descriptors left.
 */
static void
archiver_reset(void)
{
	struct sigaction sa;
	uint64_t none = 0;
	stack_t ss;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
	(void)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL,
	    sizeof(none));
	memset(&ss, 0, sizeof(ss));
	ss.ss_flags = SS_DISABLE;
	(void)sigaltstack(&ss, NULL);
	(void)close_range(3, ~0U, 0);
}

static void
archiver_start(Tintin_reporter *r)
{
	struct tintin_archive_job jobs[TINTIN_MAX_SINKS];
	int i, n = 0;
	pid_t pid;

	if (r->archiver != 0) {
		r->archive_again = 1;
		return;
	}
	for (i = 0; i < r->nsinks; i++) {
		if (!r->sinks[i].owned || r->sinks[i].path == NULL)
			continue;
		jobs[n].path = r->sinks[i].path;
		jobs[n].compress = r->rot.compress;
		jobs[n].level = r->rot.level;
		jobs[n].keep = r->rot.keep;
		jobs[n].max_age = r->rot.max_age;
		n++;
	}
	if (n == 0 || (r->rot.compress == TINTIN_COMPRESS_NONE &&
	    r->rot.keep == 0 && r->rot.max_age == 0))
		return;
	r->archive_again = 0;
	if ((pid = fork()) == -1) {
		tintin_note(r, TINTIN_WARN, "Cannot start the log archiver: "
		    "%s; will retry.", strerror(errno));
		r->archive_again = 1;
		r->archive_retry = time(NULL) + RETRY_SECONDS;
		r->st.archive_failures++;
		return;
	}
	if (pid == 0) {
		struct sched_param sp;

		/*
		 * Before anything else: none of the caller's signal handlers
		 * (a crash handler above all: it would write the caller's
		 * buffered records again) may run here, and none of its
		 * descriptors stays open.
		 */
		archiver_reset();
		/* Die with the parent; run only on CPU time nobody wants. */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		memset(&sp, 0, sizeof(sp));
		if (sched_setscheduler(0, SCHED_IDLE, &sp) == -1)
			(void)setpriority(PRIO_PROCESS, 0, 19);
		_exit(tintin_archive_run(jobs, n) == 0 ? 0 : 1);
	}
	r->archiver = pid;
}

int
tintin_rotate_sink(Tintin_reporter *r, struct sink *s, time_t now)
{
	char archive[4096];
	const char *base;
	int saved;

	if (!s->owned || s->path == NULL)
		return 0;
	if (now == 0)
		now = time(NULL);
	if (r->rot.every != TINTIN_EVERY_NEVER)
		s->boundary = tintin_next_boundary(r->rot.every, now);
	if (s->len > 0) {
		/* Complete records only: they all go to the old file. */
		size_t keep = r->rot.size;

		r->rot.size = 0;
		tintin_sink_flush(r, s);
		r->rot.size = keep;
	}
	if (s->size == 0)
		return 0;
	if (archive_name(s, now, archive, sizeof(archive)) == -1 ||
	    rename(s->path, archive) == -1) {
		saved = errno;
		if (s->retry_at <= now)
			tintin_note(r, TINTIN_WARN, "Cannot rotate %s: %s; "
			    "will retry.", s->path, strerror(saved));
		s->retry_at = now + RETRY_SECONDS;
		r->st.rotate_failures++;
		return -1;
	}
	s->retry_at = 0;
	r->st.rotations++;
	if (tintin_reopen_sink(r, s) == -1)
		tintin_note(r, TINTIN_ERROR, "Cannot reopen %s after rotation: "
		    "%s.", s->path, strerror(s->st.last_errno));
	base = strrchr(archive, '/');
	tintin_note(r, TINTIN_INFO, "Log rotated: %s.", base ? base + 1 :
	    archive);
	/* Started by the next tick: one job for a burst of rotations. */
	r->archive_again = 1;
	return 0;
}

void
tintin_rotate_check_time(Tintin_reporter *r, struct sink *s, time_t now)
{
	if (s->retry_at > now)
		return;
	(void)tintin_rotate_sink(r, s, now);
}

int
tintin_set_rotation(Tintin_reporter *r, const struct tintin_rotation *rot)
{
	struct stat st;
	struct sink *s;
	time_t now = time(NULL);
	int i;

	if (rot->every < TINTIN_EVERY_NEVER || rot->every >
	    TINTIN_EVERY_WEEKLY || rot->compress < TINTIN_COMPRESS_NONE ||
	    rot->compress > TINTIN_COMPRESS_ZSTD) {
		errno = EINVAL;
		return -1;
	}
	r->rot = *rot;
	for (i = 0; i < r->nsinks; i++) {
		s = &r->sinks[i];
		if (!s->owned)
			continue;
		s->boundary = 0;
		if (rot->every == TINTIN_EVERY_NEVER)
			continue;
		/* A file last written in an earlier period goes first. */
		if (fstat(s->fd, &st) == 0 && st.st_size > 0)
			s->boundary = tintin_next_boundary(rot->every,
			    st.st_mtime);
		else
			s->boundary = tintin_next_boundary(rot->every, now);
	}
	/* Rotate a file of an earlier period now, before any new record. */
	for (i = 0; i < r->nsinks; i++) {
		s = &r->sinks[i];
		if (s->boundary != 0 && now >= s->boundary)
			tintin_rotate_check_time(r, s, now);
	}
	/* The next tick compresses what an earlier run left uncompressed. */
	r->archive_again = 1;
	tintin_emit_notes(r);
	return 0;
}

int
tintin_rotate(Tintin_reporter *r)
{
	int i, rc = 0;
	time_t now = time(NULL);

	r->depth++;
	for (i = 0; i < r->nsinks; i++)
		if (tintin_rotate_sink(r, &r->sinks[i], now) == -1)
			rc = -1;
	r->depth--;
	tintin_emit_notes(r);
	return rc;
}

/* A file sink whose file was removed or replaced: reopen it. */
static void
check_removed(Tintin_reporter *r, struct sink *s)
{
	struct stat fst, pst;

	if (!s->owned || s->path == NULL || fstat(s->fd, &fst) == -1)
		return;
	if (fst.st_nlink > 0 && stat(s->path, &pst) == 0 &&
	    pst.st_dev == fst.st_dev && pst.st_ino == fst.st_ino)
		return;
	if (tintin_reopen_sink(r, s) == 0)
		tintin_note(r, TINTIN_WARN, "Log file %s was removed or "
		    "replaced: reopened it.", s->path);
	else if (s->retry_at <= time(NULL)) {
		tintin_note(r, TINTIN_ERROR, "Log file %s was removed and "
		    "cannot be recreated: %s.", s->path,
		    strerror(s->st.last_errno));
		s->retry_at = time(NULL) + RETRY_SECONDS;
	}
}

/* Reconnect or send, and log what changed (these records forward too). */
static void
tick_forward(Tintin_reporter *r, struct sink *s, time_t now)
{
	char note[TINTIN_NOTE_MAX];
	int level;

	tintin_fwd_tick(s->fwd, now);
	while ((level = tintin_fwd_report(s->fwd, note, sizeof(note))) != -1)
		tintin_note(r, level, "%s", note);
}

int
tintin_tick(Tintin_reporter *r)
{
	time_t now = time(NULL);
	struct sink *s;
	int i, status;

	r->depth++;
	if (r->archiver != 0 && waitpid(r->archiver, &status, WNOHANG) ==
	    r->archiver)
		tintin_child_exited(r, r->archiver, status);
	if (r->archiver == 0 && r->archive_retry != 0 &&
	    now >= r->archive_retry)
		r->archive_retry = 0;
	if (r->archiver == 0 && r->archive_retry == 0 && r->archive_again)
		archiver_start(r);
	for (i = 0; i < r->nsinks; i++) {
		s = &r->sinks[i];
		if (s->fwd != NULL) {
			tick_forward(r, s, now);
			continue;
		}
		check_removed(r, s);
		if (s->boundary != 0 && now >= s->boundary)
			tintin_rotate_check_time(r, s, now);
		else if (s->retry_at != 0 && now >= s->retry_at &&
		    r->rot.size > 0 && s->size >= r->rot.size)
			(void)tintin_rotate_sink(r, s, now);
	}
	r->depth--;
	tintin_emit_notes(r);
	return 0;
}

int
tintin_child_exited(Tintin_reporter *r, int pid, int status)
{
	if (pid <= 0 || pid != r->archiver)
		return 0;
	r->archiver = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		tintin_note(r, TINTIN_WARN, "Log archiver failed (%s %d); will "
		    "retry.", WIFEXITED(status) ? "status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) :
		    WTERMSIG(status));
		r->archive_again = 1;	/* its job is redone whole */
		r->archive_retry = time(NULL) + RETRY_SECONDS;
		r->st.archive_failures++;
	} else
		r->st.archives++;
	if (r->depth == 0)
		tintin_emit_notes(r);
	return 1;
}

int
tintin_archiver_pid(const Tintin_reporter *r)
{
	return (int)r->archiver;
}

int
tintin_sink_files(Tintin_reporter *r, int sink, uint64_t *size,
    unsigned *archives, uint64_t *archive_bytes)
{
	char dir[4096], *slash;
	const char *base;
	struct dirent *de;
	struct stat st;
	struct sink *s;
	size_t stem;
	int comp, tmp;
	DIR *dp;

	*size = 0;
	*archives = 0;
	*archive_bytes = 0;
	if (sink < 0 || sink >= r->nsinks || r->sinks[sink].path == NULL) {
		errno = EINVAL;
		return -1;
	}
	s = &r->sinks[sink];
	tintin_sink_flush(r, s);
	if (fstat(s->fd, &st) == 0)
		*size = (uint64_t)st.st_size;
	snprintf(dir, sizeof(dir), "%s", s->path);
	if ((slash = strrchr(dir, '/')) == NULL)
		return 0;
	*slash = '\0';
	base = slash + 1 - dir + s->path;
	if ((dp = opendir(dir[0] ? dir : "/")) == NULL)
		return -1;
	while ((de = readdir(dp)) != NULL) {
		if (!tintin_archive_match(base, de->d_name, &stem, &comp,
		    &tmp) || tmp)
			continue;
		if (fstatat(dirfd(dp), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
			(*archives)++;
			*archive_bytes += (uint64_t)st.st_size;
		}
	}
	closedir(dp);
	return 0;
}
