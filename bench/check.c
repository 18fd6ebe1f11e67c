/* check: verify that a server's output file holds every flood line once. */

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "line.h"
#include "util.h"

#define MAX_REPORTED	10		/* errors printed before going quiet */
#define WAIT_BUF	(4 << 20)
#define POLL_NS		10000000L	/* 10 ms between polls once caught up */

struct opts {
	const char	*path;
	unsigned int	 conns;
	unsigned long	 lines;
	int		 raw;
	int		 quiet;
	int		 unordered;	/* order within a connection is free */
	int		 wait;		/* seconds, 0 = verify instead */
	int		 stall;		/* seconds without growth */
};

/* One connection's byte stream, as reconstructed from a relay's output. */
struct stream {
	unsigned long	seq;		/* line being matched */
	unsigned int	col;		/* bytes of it already matched */
	char		line[LINE_LEN];	/* expected text of line seq */
};

static unsigned long nerrors;

static void usage(FILE *, int) __attribute__((noreturn));

static void
usage(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: check [-hqru] [-c connections] [-l lines] [-s stall] "
	    "[-w timeout] file\n"
	    "  -c, --connections N  connections flood used (default 3)\n"
	    "  -h, --help           this help\n"
	    "  -l, --lines N        lines per connection (default 3000000)\n"
	    "  -q, --quiet          print errors only\n"
	    "  -r, --raw            file is a raw relay of the byte streams, "
	    "whose chunks\n"
	    "                       may interleave anywhere (socat); default: "
	    "one log record\n"
	    "                       per line, marker anywhere in the line\n"
	    "  -s, --stall SECS     with -w: give up when the file stops "
	    "growing (default 60)\n"
	    "  -u, --unordered      lines may arrive out of order (each once "
	    "still); the\n"
	    "                       number of late lines is reported\n"
	    "  -w, --wait SECS      do not verify: wait until the file holds "
	    "every line,\n"
	    "                       print done=<mtime> and size=<bytes>; exit "
	    "1 on timeout\n"
	    "Exit status: 0 ok, 1 lines missing, duplicated, out of order or "
	    "corrupt (or\n"
	    "timeout), 2 usage or I/O error.\n");
	exit(status);
}

static void report(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
report(const char *fmt, ...)
{
	va_list ap;

	if (nerrors++ >= MAX_REPORTED) {
		if (nerrors == MAX_REPORTED + 1)
			fputs("check: (further errors not shown)\n", stderr);
		return;
	}
	fputs("check: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Print up to 80 bytes of text with non-printable bytes escaped. */
static void
show(const char *what, const char *p, size_t len)
{
	size_t i;

	fprintf(stderr, "check:   %s: \"", what);
	for (i = 0; i < len && i < 80; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
			fputc(ch, stderr);
		else
			fprintf(stderr, "\\x%02x", ch);
	}
	fprintf(stderr, "\"%s\n", len > 80 ? "..." : "");
}

/*
 * Parse the marker "c=<conn> n=<9 digits> " at p (len bytes available).
 * Returns 0 and fills conn/seq, or -1 if p does not start with a marker.
 */
static int
parse_marker(const char *p, size_t len, unsigned int *conn,
    unsigned long *seq)
{
	size_t i = 2;
	unsigned int c = 0;
	unsigned long n = 0;

	if (len < 2 || p[0] != 'c' || p[1] != '=')
		return -1;
	while (i < len && i < 4 && p[i] >= '0' && p[i] <= '9')
		c = c * 10 + (unsigned int)(p[i++] - '0');
	if (i == 2 || i + 3 + 9 + 1 > len || memcmp(p + i, " n=", 3) != 0)
		return -1;
	for (i += 3; i < len && p[i] >= '0' && p[i] <= '9'; i++)
		n = n * 10 + (unsigned long)(p[i] - '0');
	if (i >= len || p[i] != ' ')
		return -1;
	*conn = c;
	*seq = n;
	return 0;
}

static const char *
map_file(const char *path, size_t *size)
{
	struct stat st;
	void *p;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		bench_die(2, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1)
		bench_die(2, "%s: %s", path, strerror(errno));
	*size = (size_t)st.st_size;
	if (*size == 0) {
		close(fd);
		return "";
	}
	p = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		bench_die(2, "mmap %s: %s", path, strerror(errno));
	madvise(p, *size, MADV_SEQUENTIAL);
	close(fd);
	return p;
}

/* Log-file mode's progress through the file. */
struct tally {
	unsigned long	 *next;		/* per connection: line expected next */
	unsigned char	**seen;		/* -u: per connection, a bit a line */
	unsigned long	  data;		/* records with a marker */
	unsigned long	  other;	/* the server's own records */
	unsigned long	  late;		/* with -u: after a later line */
	int		  shown_prefix;
};

/* Zero t and allocate its per-connection state (the bitmaps with -u). */
static void
tally_init(const struct opts *o, struct tally *t)
{
	unsigned int c;

	memset(t, 0, sizeof(*t));
	if ((t->next = calloc(o->conns + 1, sizeof(*t->next))) == NULL)
		bench_die(2, "calloc: %s", strerror(errno));
	if (o->unordered) {
		if ((t->seen = calloc(o->conns + 1, sizeof(*t->seen))) == NULL)
			bench_die(2, "calloc: %s", strerror(errno));
		for (c = 1; c <= o->conns; c++)
			if ((t->seen[c] = calloc(o->lines / 8 + 1, 1)) == NULL)
				bench_die(2, "calloc: %s", strerror(errno));
	}
}

/*
 * The marker of record p..nl (its newline), or NULL if it has none.  It is
 * looked for at the payload's place first, then at the first "c=".
 */
static const char *
find_marker(const char *p, const char *nl)
{
	size_t len = (size_t)(nl - p);
	const char *m;
	unsigned int conn;
	unsigned long seq;

	if (len >= LINE_PAYLOAD && nl[-LINE_PAYLOAD] == 'c' &&
	    nl[-LINE_PAYLOAD + 1] == '=')
		return nl - LINE_PAYLOAD;
	if ((m = memmem(p, len, "c=", 2)) != NULL &&
	    parse_marker(m, (size_t)(nl - m), &conn, &seq) == -1)
		m = NULL;
	return m;
}

/* Line seq of conn, intact, is at offset off: is it where it belongs? */
static void
tally_seq(const struct opts *o, struct tally *t, size_t off,
    unsigned int conn, unsigned long seq)
{
	unsigned long *next = &t->next[conn];

	if (o->unordered) {
		if (t->seen[conn][seq / 8] & (1u << (seq % 8)))
			report("offset %zu: connection %u line %lu "
			    "duplicated", off, conn, seq);
		t->seen[conn][seq / 8] |= (unsigned char)(1u << (seq % 8));
		if (seq < *next)
			t->late++;
		else
			*next = seq + 1;
		return;
	}
	if (seq != *next) {
		if (seq < *next)
			report("offset %zu: connection %u line %lu "
			    "duplicated or out of order (after %lu)",
			    off, conn, seq, *next - 1);
		else
			report("offset %zu: connection %u lines "
			    "%lu..%lu missing (got %lu)",
			    off, conn, *next, seq - 1, seq);
	}
	*next = seq + 1;
}

/* Record p..nl, with its marker at m: a valid line, and in its place? */
static void
tally_record(const struct opts *o, struct tally *t, const char *map,
    const char *p, const char *m, const char *nl)
{
	char expect[LINE_LEN];
	unsigned int conn;
	unsigned long seq;

	t->data++;
	if (parse_marker(m, (size_t)(nl - m), &conn, &seq) == -1 ||
	    conn < 1 || conn > o->conns || seq >= o->lines) {
		report("offset %zu: bad marker", (size_t)(p - map));
		show("line", p, (size_t)(nl - p));
		return;
	}
	line_make(expect, conn, seq);
	if ((size_t)(nl - m) != LINE_PAYLOAD ||
	    memcmp(m, expect, LINE_PAYLOAD) != 0) {
		report("offset %zu: connection %u line %lu corrupt",
		    (size_t)(p - map), conn, seq);
		show("got", m, (size_t)(nl - m));
		show("expected", expect, LINE_PAYLOAD);
		return;
	}
	if (!t->shown_prefix && !o->quiet) {
		printf("check: record shape: \"%.*s<63-byte line>\"\n",
		    (int)(m - p), p);
		t->shown_prefix = 1;
	}
	tally_seq(o, t, (size_t)(p - map), conn, seq);
}

/* At the end of the file: report what never came, free t's bitmaps. */
static void
tally_finish(const struct opts *o, struct tally *t)
{
	unsigned long seq;
	unsigned int c;

	for (c = 1; c <= o->conns; c++) {
		if (t->next[c] != o->lines)
			report("connection %u: last line seen is %ld, expected "
			    "%lu", c, (long)t->next[c] - 1, o->lines - 1);
		for (seq = 0; o->unordered && seq < o->lines; seq++)
			if (!(t->seen[c][seq / 8] & (1u << (seq % 8)))) {
				report("connection %u: line %lu missing", c,
				    seq);
				break;
			}
		if (o->unordered)
			free(t->seen[c]);
	}
	free(t->seen);
	if (t->data != (unsigned long)o->conns * o->lines)
		report("%lu data lines, expected %lu", t->data,
		    (unsigned long)o->conns * o->lines);
}

/*
 * Log-file mode: each record is one line; the 63-byte payload is its end
 * (whatever prefix the server adds).  Lines without a marker are the
 * server's own records (start, connect, ...) and are only counted.
 */
static int
verify_lines(const struct opts *o)
{
	const char *map, *p, *end, *nl, *m;
	struct tally t;
	size_t size;

	map = map_file(o->path, &size);
	tally_init(o, &t);
	for (p = map, end = map + size; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			report("offset %zu: last line has no newline",
			    (size_t)(p - map));
			show("line", p, (size_t)(end - p));
			break;
		}
		if ((m = find_marker(p, nl)) == NULL)
			t.other++;
		else
			tally_record(o, &t, map, p, m, nl);
	}
	tally_finish(o, &t);
	if (nerrors == 0 && o->unordered)
		printf("check: %s: ok: %u connections x %lu lines, each once; "
		    "%lu lines arrived after a later line of their connection "
		    "(%lu other lines)\n", o->path, o->conns, o->lines, t.late,
		    t.other);
	else if (nerrors == 0 && !o->quiet)
		printf("check: %s: ok: %u connections x %lu lines, each once "
		    "and in order (%lu other lines)\n", o->path, o->conns,
		    o->lines, t.other);
	free(t.next);
	return nerrors == 0 ? 0 : 1;
}

/*
 * How many bytes at p continue stream s (without moving it); *after gets
 * the stream's state past them.
 */
static size_t
stream_match(unsigned int conn, const struct stream *s, unsigned long lines,
    const char *p, size_t avail, struct stream *after)
{
	struct stream t = *s;
	size_t m = 0, k, j;

	while (m < avail && t.seq < lines) {
		k = LINE_LEN - t.col;
		if (k > avail - m)
			k = avail - m;
		if (memcmp(p + m, t.line + t.col, k) != 0) {
			for (j = 0; p[m + j] == t.line[t.col + j]; j++)
				;
			m += j;
			t.col += (unsigned int)j;
			break;
		}
		m += k;
		t.col += (unsigned int)k;
		if (t.col == LINE_LEN) {
			t.col = 0;
			if (++t.seq < lines)
				line_make(t.line, conn, t.seq);
		}
	}
	*after = t;
	return m;
}

/* One way to go on after a chunk: stream d takes over k bytes back. */
struct cand {
	size_t		reach;	/* file offset where d's match ends */
	size_t		k;	/* bytes the previous owner gives back */
	unsigned int	d;
};

/* A chunk being tried: owner's bytes from off, and what may follow. */
struct frame {
	size_t		 off;
	size_t		 len;		/* owner's full match from off */
	unsigned int	 owner;
	struct stream	 before;	/* owner's state before the chunk */
	struct cand	*cand;
	size_t		 ncand, tried;
};

static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->reach != y->reach)
		return x->reach > y->reach ? -1 : 1;
	return x->k < y->k ? -1 : x->k > y->k;
}

/*
 * Every (k, d) by which another stream d may take over k bytes before the
 * end e of f's chunk (f's owner keeps at least one byte), furthest reach
 * first.  The usual answer is the one that reaches far: a whole chunk.
 */
static void
frame_candidates(const struct opts *o, struct stream *s, const char *map,
    size_t size, struct frame *f)
{
	struct stream after;
	size_t e = f->off + f->len, b, k, kmax, len, cap = 0;
	unsigned int d;

	f->cand = NULL;
	f->ncand = f->tried = 0;
	kmax = f->len - 1 < LINE_LEN ? f->len - 1 : LINE_LEN;
	for (k = 0; k <= kmax; k++) {
		if ((b = e - k) >= size)
			continue;
		for (d = 1; d <= o->conns; d++) {
			if (d == f->owner)
				continue;
			len = stream_match(d, &s[d], o->lines, map + b,
			    size - b, &after);
			if (len == 0)
				continue;
			if (f->ncand == cap) {
				cap = cap ? cap * 2 : 8;
				f->cand = realloc(f->cand,
				    cap * sizeof(*f->cand));
				if (f->cand == NULL)
					bench_die(2, "realloc: %s", strerror(errno));
			}
			f->cand[f->ncand].reach = b + len;
			f->cand[f->ncand].k = k;
			f->cand[f->ncand].d = d;
			f->ncand++;
		}
	}
	if (f->ncand > 1)
		qsort(f->cand, f->ncand, sizeof(*f->cand), cand_cmp);
}

/* Relay mode's search: the streams' state and the chunks tried so far. */
struct search {
	const char	*map;
	size_t		 size;
	struct stream	*s;		/* per connection, at the top frame */
	struct stream	*best_s;	/* the same at best_off */
	size_t		 best_off;	/* furthest chunk start reached */
	struct frame	*stack;		/* stack[0] is the root frame */
	size_t		 depth, cap;
	unsigned long	 budget;	/* frames left to try; -1 once spent */
};

/* A root frame with an empty chunk: its candidates start the file. */
static void
search_root(const struct opts *o, struct search *sr)
{
	struct stream after;
	struct frame *f = &sr->stack[0];
	unsigned int c;

	memset(f, 0, sizeof(*f));
	f->cand = calloc(o->conns, sizeof(*f->cand));
	if (f->cand == NULL)
		bench_die(2, "calloc: %s", strerror(errno));
	for (c = 1; c <= o->conns && sr->size > 0; c++) {
		size_t len = stream_match(c, &sr->s[c], o->lines, sr->map,
		    sr->size, &after);

		if (len > 0) {
			f->cand[f->ncand].reach = len;
			f->cand[f->ncand].d = c;
			f->ncand++;
		}
	}
	if (f->ncand > 1)
		qsort(f->cand, f->ncand, sizeof(*f->cand), cand_cmp);
}

/* Map the file, every stream at its first line, and the root frame. */
static void
search_init(const struct opts *o, struct search *sr)
{
	unsigned int c;

	memset(sr, 0, sizeof(*sr));
	sr->map = map_file(o->path, &sr->size);
	sr->cap = 1024;
	sr->s = calloc(o->conns + 1, sizeof(*sr->s));
	sr->best_s = calloc(o->conns + 1, sizeof(*sr->s));
	sr->stack = malloc(sr->cap * sizeof(*sr->stack));
	if (sr->s == NULL || sr->best_s == NULL || sr->stack == NULL)
		bench_die(2, "calloc: %s", strerror(errno));
	for (c = 1; c <= o->conns; c++)
		line_make(sr->s[c].line, c, 0);
	memcpy(sr->best_s, sr->s, (o->conns + 1) * sizeof(*sr->s));
	sr->budget = 1000000 + sr->size / 64;
	search_root(o, sr);
}

/* Dead end: undo the top frame's chunk, back up; 0 if nothing is left. */
static int
search_back_up(struct search *sr)
{
	struct frame *f = &sr->stack[sr->depth];

	free(f->cand);
	f->cand = NULL;
	if (sr->depth == 0 || sr->budget == (unsigned long)-1)
		return 0;
	sr->depth--;
	f = &sr->stack[sr->depth];
	if (f->owner != 0)
		sr->s[f->owner] = f->before;
	return 1;
}

/* Commit the top frame's chunk minus cd's give-back, push cd's chunk. */
static struct frame *
search_push(const struct opts *o, struct search *sr, const struct cand *cd)
{
	struct frame *f = &sr->stack[sr->depth];
	struct stream after;

	if (f->owner != 0) {
		sr->s[f->owner] = f->before;
		stream_match(f->owner, &sr->s[f->owner], o->lines,
		    sr->map + f->off, f->len - cd->k, &after);
		sr->s[f->owner] = after;
	}
	if (++sr->depth == sr->cap) {
		sr->cap *= 2;
		if ((sr->stack = realloc(sr->stack,
		    sr->cap * sizeof(*sr->stack))) == NULL)
			bench_die(2, "realloc: %s", strerror(errno));
		f = &sr->stack[sr->depth - 1];
	}
	sr->stack[sr->depth].off = f->off + f->len - cd->k;
	sr->stack[sr->depth].len = cd->reach - sr->stack[sr->depth].off;
	sr->stack[sr->depth].owner = cd->d;
	sr->stack[sr->depth].before = sr->s[cd->d];
	sr->stack[sr->depth].cand = NULL;
	sr->stack[sr->depth].ncand = sr->stack[sr->depth].tried = 0;
	f = &sr->stack[sr->depth];
	if (f->off > sr->best_off) {
		sr->best_off = f->off;
		memcpy(sr->best_s, sr->s, (o->conns + 1) * sizeof(*sr->s));
	}
	return f;
}

/* f's chunk ends the file: 1 if it also ends every stream, else undo it. */
static int
search_complete(const struct opts *o, struct search *sr, struct frame *f)
{
	struct stream after;
	unsigned int c;

	stream_match(f->owner, &sr->s[f->owner], o->lines, sr->map + f->off,
	    f->len, &after);
	sr->s[f->owner] = after;
	for (c = 1; c <= o->conns; c++)
		if (sr->s[c].seq != o->lines)
			break;
	if (c > o->conns)
		return 1;
	sr->s[f->owner] = f->before;
	return 0;
}

/* Depth first, furthest reach first; 1 if the file is an interleaving. */
static int
search_run(const struct opts *o, struct search *sr)
{
	struct frame *f;
	struct cand *cd;

	for (;;) {
		f = &sr->stack[sr->depth];
		if (f->tried == f->ncand || sr->budget-- == 0) {
			if (!search_back_up(sr))
				return 0;
			continue;
		}
		cd = &f->cand[f->tried++];
		f = search_push(o, sr, cd);
		if (cd->reach == sr->size && search_complete(o, sr, f))
			return 1;
		frame_candidates(o, sr->s, sr->map, sr->size, f);
	}
}

/* Where the search got furthest, and each connection's state there. */
static void
search_report(const struct opts *o, const struct search *sr)
{
	unsigned int c;

	report("offset %zu: bytes that continue no connection "
	    "(furthest point reached%s)", sr->best_off,
	    sr->budget == (unsigned long)-1 ? ", search budget spent" : "");
	show("got", sr->map + sr->best_off, sr->size - sr->best_off);
	for (c = 1; c <= o->conns; c++)
		fprintf(stderr, "check:   connection %u at line %lu "
		    "byte %u of %lu\n", c, sr->best_s[c].seq,
		    sr->best_s[c].col, o->lines);
}

/*
 * Relay mode: the file is the N byte streams cut in chunks (one read()
 * each) and interleaved, at any byte.  This checks that it is such an
 * interleaving.  The stream that continues the file owns a chunk as far as
 * it matches; it may match a few bytes too far when the next chunk starts
 * like its own continuation (a chunk ending on a line boundary, followed by
 * another connection's "c=..."), so the chunk ends where another stream
 * takes over, at most one line back, and reaches furthest.  Tiny chunks
 * can make that guess wrong: then the search backs up and tries the next
 * guess (bounded), so a valid file is not reported as corrupt.
 */
static int
verify_raw(const struct opts *o)
{
	struct search sr;
	unsigned long chunks = 0;
	size_t i;

	search_init(o, &sr);
	if (search_run(o, &sr))
		chunks = sr.depth;
	else
		search_report(o, &sr);
	for (i = 0; i <= sr.depth; i++)
		free(sr.stack[i].cand);
	if (nerrors == 0 && !o->quiet)
		printf("check: %s: ok: %u connections x %lu lines, each once "
		    "and in order (raw relay, %lu chunks)\n", o->path, o->conns,
		    o->lines, chunks);
	free(sr.stack);
	free(sr.best_s);
	free(sr.s);
	return nerrors == 0 ? 0 : 1;
}

static double
elapsed(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) +
	    (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/*
 * Count the complete data lines of fd from *off to size, and move *off past
 * them: a partial last line is read again next time.
 */
static unsigned long
count_lines(const char *path, int fd, char *buf, off_t *off, off_t size)
{
	unsigned long have = 0;
	char *p, *nl, *end;
	ssize_t n;

	while (*off < size) {
		n = pread(fd, buf, WAIT_BUF, *off);
		if (n < 0)
			bench_die(2, "read %s: %s", path, strerror(errno));
		if (n == 0)
			break;
		end = buf + n;
		for (p = buf; (nl = memchr(p, '\n',
		    (size_t)(end - p))) != NULL; p = nl + 1)
			if (nl - p >= LINE_PAYLOAD &&
			    nl[-LINE_PAYLOAD] == 'c' &&
			    nl[-LINE_PAYLOAD + 1] == '=')
				have++;
		if (p == buf && n == WAIT_BUF)
			p = end;	/* absurd line: skip */
		*off += p - buf;
		if (p == buf)
			break;		/* partial line */
	}
	return have;
}

/* Print the file's mtime and size: the server's last write, not ours. */
static void
print_done(const char *path, int fd)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		bench_die(2, "%s: %s", path, strerror(errno));
	printf("done=%lld.%09ld\nsize=%lld\n", (long long)st.st_mtim.tv_sec,
	    st.st_mtim.tv_nsec, (long long)st.st_size);
}

/*
 * Wait mode: follow the file as it grows and count complete data lines
 * (raw mode: bytes) until all are there.  The completion time printed is
 * the file's mtime, i.e. the server's last write, not the time we noticed.
 */
static int
wait_complete(const struct opts *o)
{
	unsigned long want = (unsigned long)o->conns * o->lines, have = 0;
	struct timespec start, grew, nap = { 0, POLL_NS };
	off_t off = 0, last_size = -1;
	struct stat st;
	char *buf;
	int fd = -1;

	if ((buf = malloc(WAIT_BUF)) == NULL)
		bench_die(2, "malloc: %s", strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &start);
	grew = start;
	for (;;) {
		if (fd == -1 &&
		    (fd = open(o->path, O_RDONLY | O_CLOEXEC)) == -1 &&
		    errno != ENOENT)
			bench_die(2, "%s: %s", o->path, strerror(errno));
		if (fd != -1) {
			if (fstat(fd, &st) == -1)
				bench_die(2, "%s: %s", o->path,
				    strerror(errno));
			if (st.st_size != last_size) {
				last_size = st.st_size;
				clock_gettime(CLOCK_MONOTONIC, &grew);
			}
			if (o->raw) {
				have = (unsigned long)(st.st_size / LINE_LEN);
				off = st.st_size;
			} else
				have += count_lines(o->path, fd, buf, &off,
				    st.st_size);
			if (have >= want) {
				print_done(o->path, fd);
				break;
			}
		}
		if (elapsed(&start) > o->wait || elapsed(&grew) > o->stall) {
			fprintf(stderr, "check: %s: gave up after %.0f s (%s): "
			    "%lu of %lu lines\n", o->path, elapsed(&start),
			    elapsed(&grew) > o->stall ? "file stopped growing" :
			    "timeout", have, want);
			free(buf);
			return 1;
		}
		nanosleep(&nap, NULL);
	}
	free(buf);
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "connections",	required_argument,	NULL, 'c' },
		{ "help",		no_argument,		NULL, 'h' },
		{ "lines",		required_argument,	NULL, 'l' },
		{ "quiet",		no_argument,		NULL, 'q' },
		{ "raw",		no_argument,		NULL, 'r' },
		{ "stall",		required_argument,	NULL, 's' },
		{ "unordered",		no_argument,		NULL, 'u' },
		{ "wait",		required_argument,	NULL, 'w' },
		{ NULL,			0,			NULL, 0 }
	};
	struct opts o = { NULL, 3, 3000000, 0, 0, 0, 0, 60 };
	int ch;

	bench_prog = "check";
	while ((ch = getopt_long(argc, argv, "c:hl:qrs:uw:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.conns = (unsigned int)bench_num(optarg,
			    "connection count", 1, LINE_MAX_CONNS);
			break;
		case 'h':
			usage(stdout, 0);
		case 'l':
			o.lines = bench_num(optarg, "line count", 1,
			    LINE_MAX_SEQ + 1);
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'r':
			o.raw = 1;
			break;
		case 's':
			o.stall = (int)bench_num(optarg, "stall time", 1, 86400);
			break;
		case 'u':
			o.unordered = 1;
			break;
		case 'w':
			o.wait = (int)bench_num(optarg, "timeout", 1, 86400);
			break;
		default:
			usage(stderr, 2);
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "check: expected exactly one file\n");
		usage(stderr, 2);
	}
	o.path = argv[optind];
	if (o.wait > 0)
		return wait_complete(&o);
	return o.raw ? verify_raw(&o) : verify_lines(&o);
}
