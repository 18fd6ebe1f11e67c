/*
 * Alert rules.  A hook sink of the log sees every record before it is
 * formatted; the rules' regular expressions are tested there, in the event
 * loop, so that has to be cheap: one scan looks for the literal words the
 * rules require (prefilter.c), and only the rules whose words are there,
 * or that have none, run their JIT-compiled PCRE2 pattern.  Matches are
 * collected per rule for its window, then handed over as one digest (to
 * the mailer, mail.c, by daemon.c).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "daemon/alert/alert.h"
#include "daemon/config.h"
#include "daemon/loop.h"
#include "daemon/alert/prefilter.h"

_Static_assert(CONFIG_MAX_ALERTS <= PF_MAX_RULES,
    "a rule is a bit of a uint32_t");

#define ALERT_ITEM_MAX	2048	/* bytes of a record kept in a digest */
#define ALERT_MATCH_MAX	64	/* bytes of the first match in subjects */

#ifdef PCRE2_MATCH_INVALID_UTF
#define ALERT_RE_FLAGS	(PCRE2_UTF | PCRE2_MATCH_INVALID_UTF)
#else
#define ALERT_RE_FLAGS	PCRE2_UTF
#endif

struct alert_re {
	pcre2_code	*code;
	int		 jit;		/* JIT-compiled: pcre2_jit_match */
};

struct alert_rule {
	const struct config_alert *cfg;
	struct alert_re	 re;
	struct alert_re	 src;		/* source = ~REGEX */
	unsigned long	 count;		/* matches in the open window */
	time_t		 window_end;	/* monotonic; 0 = no window */
	char		 first[ALERT_MATCH_MAX + 1];
	struct alert_item *items;	/* cfg->max_items of them */
	unsigned	 nitems;
};

struct alerts {
	struct alert_rule rules[CONFIG_MAX_ALERTS];
	int		 n;
	struct prefilter pf;
	pcre2_match_data *md;
	int		 sink;
	int		 nfiltered;	/* rules with words to look for */
	const struct config *cfg;
	Tintin_reporter	*log;
	alert_send_cb	 send;		/* where digests go */
	void		*send_arg;
	const char	*host;
	uint64_t	 matched;	/* records that matched a rule */
};

size_t
alert_subject(char *dst, size_t size, const char *tmpl, const char *rule,
    const char *host, const char *match)
{
	const char *s, *add;
	size_t o = 0, n;
	char ch[2] = { 0, 0 };

	if (size == 0)
		return 0;
	for (s = tmpl; *s != '\0'; s++) {
		add = ch;
		ch[0] = *s;
		if (*s == '%' && s[1] != '\0') {
			s++;
			if (*s == 'r')
				add = rule;
			else if (*s == 'h')
				add = host;
			else if (*s == 'm')
				add = match;
			else if (*s == '%')
				ch[0] = '%';
			else {
				ch[0] = '%';
				s--;	/* unknown: kept as it is */
			}
		}
		n = strlen(add);
		if (o + n >= size)
			n = size - 1 - o;
		memcpy(dst + o, add, n);
		o += n;
	}
	dst[o] = '\0';
	return o;
}

static void
format_time(char *buf, time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	tintin_format_time(buf, t, tm.tm_gmtoff);
}

/* The record, control bytes as \xHH (input records are escaped already). */
static void
add_record(char **p, const char *msg, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c;
	size_t i;

	for (i = 0; i < len; i++) {
		c = (unsigned char)msg[i];
		if (c < 0x20 || c == 0x7f) {
			*(*p)++ = '\\';
			*(*p)++ = 'x';
			*(*p)++ = hex[c >> 4];
			*(*p)++ = hex[c & 15];
		} else
			*(*p)++ = (char)c;
	}
}

char *
alert_digest(const struct config_alert *a, const char *host,
    const struct alert_item *items, unsigned nitems, unsigned long count)
{
	char t1[24], t2[24], *body, *p;
	const char *lvl;
	size_t size;
	unsigned i;

	size = 1024 + 4 * strlen(a->match) + strlen(host);
	for (i = 0; i < nitems; i++)
		size += 160 + 4 * items[i].len;
	if ((body = malloc(size)) == NULL)
		return NULL;
	p = body;
	format_time(t1, nitems > 0 ? items[0].t : 0);
	format_time(t2, nitems > 0 ? items[nitems - 1].t : 0);
	p += sprintf(p, "Alert \"%s\" on %s: %lu record%s matched /", a->name,
	    host, count, count == 1 ? "" : "s");
	add_record(&p, a->match, strlen(a->match));
	p += sprintf(p, "/\n(listed: %s to %s).\n\n", t1, t2);
	for (i = 0; i < nitems; i++) {
		format_time(t1, items[i].t);
		lvl = tintin_level_name(items[i].level);
		p += sprintf(p, "[%s] [ %s ] %s - ", t1, lvl ? lvl : "?",
		    items[i].addr[0] ? items[i].addr : "-");
		add_record(&p, items[i].msg, items[i].len);
		if (items[i].cut > 0)
			p += sprintf(p, " [%zu more bytes]", items[i].cut);
		*p++ = '\n';
	}
	if (count > nitems)
		p += sprintf(p, "\n%lu more match%s not listed (max_items = "
		    "%u).\n", count - nitems, count - nitems == 1 ? "" : "es",
		    a->max_items);
	*p = '\0';
	return body;
}

/* --- the daemon side ---------------------------------------------------- */

void
alert_log(struct alerts *a, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A rule matching "error" must not mail about its own mail errors. */
	if (a->sink >= 0)
		tintin_set_enabled(a->log, a->sink, 0);
	tintin_log_msg(a->log, level, msg, strlen(msg));
	if (a->sink >= 0)
		tintin_set_enabled(a->log, a->sink, 1);
}

static int
re_compile(struct alert_re *re, const char *pattern)
{
	PCRE2_SIZE off;
	int err;

	re->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    ALERT_RE_FLAGS, &err, &off, NULL);
	if (re->code == NULL)
		return -1;
	re->jit = pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0;
	return 0;
}

/*
 * Match data for every rule: one pair, the whole match, is all the rules
 * use; the groups of a pattern do not fit and are not wanted.
 */
static pcre2_match_data *
md_create(void)
{
	return pcre2_match_data_create(1, NULL);
}

/*
 * Does RE match LEN bytes of S?  1 or 0; the whole match is then in MD.
 * PCRE2 returns 0, not a count, for a match whose groups do not all fit
 * in MD, so 0 is a match too (and the whole match is still filled in).
 */
static int
re_match(const struct alert_re *re, pcre2_match_data *md, const char *s,
    size_t len)
{
	int rc;

	if (re->jit)
		rc = pcre2_jit_match(re->code, (PCRE2_SPTR)s, len, 0, 0, md,
		    NULL);
	else
		rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, md, NULL);
	return rc >= 0;
}

int
alert_pattern_fires(const char *pattern, const char *msg, size_t len)
{
	struct prefilter *pf;
	struct alert_re re;
	pcre2_match_data *md;
	int fires = -1;

	if (re_compile(&re, pattern) == -1)
		return -1;
	md = md_create();
	if ((pf = malloc(sizeof(*pf))) != NULL && md != NULL) {
		pf_init(pf);
		pf_add(pf, 0, pattern);
		fires = (pf_scan(pf, msg, len) & 1) != 0 &&
		    re_match(&re, md, msg, len);
	}
	free(pf);
	pcre2_match_data_free(md);
	pcre2_code_free(re.code);
	return fires;
}

/* The next record of rule R's window (kept if there is room, counted). */
static void
add_match(struct alert_rule *r, int level,
    const char *msg, size_t len, const char *addr, size_t mbeg, size_t mend)
{
	struct alert_item *it;
	struct timespec ts;
	size_t n;

	if (r->count++ == 0) {
		r->window_end = loop_now() + r->cfg->window;
		n = mend - mbeg;
		if (n > ALERT_MATCH_MAX)
			n = ALERT_MATCH_MAX;
		memcpy(r->first, msg + mbeg, n);
		r->first[n] = '\0';
	}
	if (r->nitems >= r->cfg->max_items)
		return;
	it = &r->items[r->nitems];
	n = len > ALERT_ITEM_MAX ? ALERT_ITEM_MAX : len;
	if ((it->msg = malloc(n + 1)) == NULL)
		return;
	memcpy(it->msg, msg, n);
	it->msg[n] = '\0';
	it->len = n;
	it->cut = len - n;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	it->t = ts.tv_sec;
	it->level = level;
	snprintf(it->addr, sizeof(it->addr), "%s", addr ? addr : "");
	r->nitems++;
}

static int
source_ok(struct alerts *a, struct alert_rule *r, const char *addr)
{
	const char *src = r->cfg->source;

	if (src[0] == '\0')
		return 1;
	if (addr == NULL)
		return 0;
	if (src[0] == '~')
		return re_match(&r->src, a->md, addr, strlen(addr));
	return strncmp(addr, src, strlen(src)) == 0;
}

/* The hook: every record the rules may want, in the event loop. */
static void
on_record(void *arg, int level, uint32_t cat, const char *msg, size_t len,
    const void *source)
{
	struct alerts *a = arg;
	struct alert_rule *r;
	PCRE2_SIZE *ov;
	const char *addr;
	uint32_t run;

	/* The common case: no rule's words are there, nothing to run. */
	if ((run = pf_scan(&a->pf, msg, len)) == 0)
		return;
	addr = source;		/* the client's "ip:port", or NULL */
	for (; run != 0; run &= run - 1) {
		r = &a->rules[__builtin_ctz(run)];
		if (level < r->cfg->level ||
		    (r->cfg->events != 0 && (r->cfg->events & cat) == 0) ||
		    !source_ok(a, r, addr))
			continue;
		if (!re_match(&r->re, a->md, msg, len))
			continue;
		ov = pcre2_get_ovector_pointer(a->md);
		a->matched++;
		add_match(r, level, msg, len, addr, ov[0] <= len ? ov[0] :
		    0, ov[1] <= len && ov[1] >= ov[0] ? ov[1] : ov[0]);
	}
}

static void	rules_free(struct alerts *a);

struct alerts *
alert_new(const struct config *c, Tintin_reporter *log)
{
	struct alert_rule *r;
	struct alerts *a;
	int i;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->sink = -1;
	a->cfg = c;
	a->log = log;
	a->host = "localhost";
	pf_init(&a->pf);
	for (i = 0; i < c->nalerts; i++) {
		r = &a->rules[a->n++];
		r->cfg = &c->alerts[i];
		if (re_compile(&r->re, r->cfg->match) == -1 ||
		    (r->cfg->source[0] == '~' &&
		    re_compile(&r->src, r->cfg->source + 1) == -1) ||
		    (r->items = calloc(r->cfg->max_items,
		    sizeof(*r->items))) == NULL)
			break;
		a->nfiltered += pf_add(&a->pf, i, r->cfg->match);
	}
	if (i < c->nalerts || (a->md = md_create()) == NULL) {
		rules_free(a);
		return NULL;
	}
	return a;
}

int
alert_start(struct alerts *a, alert_send_cb send, void *arg,
    const char *host)
{
	struct alert_rule *r;
	uint32_t cats = 0;
	int i, minlevel = TINTIN_NLEVELS, nojit = 0;

	a->send = send;
	a->send_arg = arg;
	a->host = host;
	if (a->n == 0) {
		alert_log(a, TINTIN_INFO, "Mail alerts: no rule; mail spooled "
		    "by the last run goes through %s.", a->cfg->mail_url);
		return 0;
	}
	for (i = 0; i < a->n; i++) {
		r = &a->rules[i];
		nojit += !r->re.jit + (r->src.code != NULL && !r->src.jit);
		if (r->cfg->level < minlevel)
			minlevel = r->cfg->level;
		cats |= r->cfg->events != 0 ? r->cfg->events : TINTIN_CAT_ALL;
	}
	/* Only the records some rule can match reach the hook at all. */
	if ((a->sink = tintin_add_hook(a->log, minlevel, on_record, a)) == -1)
		return -1;
	tintin_set_categories(a->log, a->sink, cats);
	alert_log(a, TINTIN_INFO, "Mail alerts: %d rule%s (%d run on every "
	    "record), mail through %s.", a->n, a->n > 1 ? "s" : "",
	    a->n - a->nfiltered, a->cfg->mail_url);
	if (nojit > 0)
		alert_log(a, TINTIN_WARN, "Mail alerts: PCRE2's JIT refused "
		    "%d pattern%s (memory both writable and executable is "
		    "denied, e.g. by MemoryDenyWriteExecute=): they run "
		    "interpreted, more slowly.", nojit, nojit > 1 ? "s" : "");
	return 0;
}

static void
rule_reset(struct alert_rule *r)
{
	unsigned i;

	for (i = 0; i < r->nitems; i++)
		free(r->items[i].msg);
	r->nitems = 0;
	r->count = 0;
	r->window_end = 0;
	r->first[0] = '\0';
}

/* Rule R's window is over: its digest goes to the mail queue. */
static void
flush_rule(struct alerts *a, struct alert_rule *r)
{
	char subject[512], *body;

	alert_subject(subject, sizeof(subject), r->cfg->subject, r->cfg->name,
	    a->host, r->first);
	body = alert_digest(r->cfg, a->host, r->items, r->nitems, r->count);
	if (body == NULL || a->send == NULL ||
	    a->send(a->send_arg, r->cfg, subject, body) == -1)
		alert_log(a, TINTIN_ERROR, "Alert \"%s\": cannot build the "
		    "mail of %lu match%s (out of memory).", r->cfg->name,
		    r->count, r->count == 1 ? "" : "es");
	else
		alert_log(a, TINTIN_INFO, "Alert \"%s\": %lu match%s, mail "
		    "queued.", r->cfg->name, r->count, r->count == 1 ? "" :
		    "es");
	free(body);
	rule_reset(r);
}

void
alert_tick(struct alerts *a)
{
	time_t now;
	int i;

	if (a == NULL)
		return;
	now = loop_now();
	for (i = 0; i < a->n; i++)
		if (a->rules[i].count > 0 && now >= a->rules[i].window_end)
			flush_rule(a, &a->rules[i]);
}

/* Free the rules of A (compiled or not) and A. */
static void
rules_free(struct alerts *a)
{
	int i;

	for (i = 0; i < a->n; i++) {
		rule_reset(&a->rules[i]);
		free(a->rules[i].items);
		pcre2_code_free(a->rules[i].re.code);
		pcre2_code_free(a->rules[i].src.code);
	}
	pcre2_match_data_free(a->md);
	free(a);
}

uint64_t
alert_matches(const struct alerts *a)
{
	return a != NULL ? a->matched : 0;
}

void
alert_stop(struct alerts *a, int spooling)
{
	unsigned long lost = 0;
	int i;

	if (a == NULL)
		return;
	/* Open windows make their mails now: spooled with the queue. */
	for (i = 0; i < a->n; i++) {
		if (a->rules[i].count == 0)
			continue;
		if (spooling)
			flush_rule(a, &a->rules[i]);
		else
			lost += a->rules[i].count;
	}
	if (lost > 0)
		alert_log(a, TINTIN_WARN, "%lu alert match%s not mailed "
		    "(window still open).", lost, lost == 1 ? "" : "es");
	if (a->sink >= 0)
		tintin_set_enabled(a->log, a->sink, 0);
	rules_free(a);
}
