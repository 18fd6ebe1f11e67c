/*
 * Authentication data: the users file (NAME:YESCRYPT-HASH:ROLE), the
 * authorized keys file (NAME ROLE BASE64-SPKI), and the guard against
 * guessing: failures counted per source network and in total, which
 * delay every attempt before it is checked and then lock out, and
 * connections without a login, which penalize their network.
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "common/mkdirs.h"
#include "daemon/session/auth.h"

#define GUARD_SLOTS	1024	/* networks with live failures or attempts */
#define DELAY_MAX	8
#define GLOBAL_MAX	1000	/* [auth] global_max_failures, at most */

/* One source network's record. */
struct guard {
	struct auth_net	 net;
	int		 used;
	unsigned	 failures;	/* within the window */
	unsigned	 pending;	/* attempts held or being checked */
	time_t		 first;		/* first failure of the window */
	time_t		 locked_until;
	time_t		 penalty_until;	/* connections without a login */
	int		 penalized;	/* in force until penalty_until */
	unsigned	 refused;	/* connections refused meanwhile */
};

static struct guard guards[GUARD_SLOTS];

/* The last global_max failures, from all networks (a ring). */
static time_t	 recent[GLOBAL_MAX];
static unsigned	 nrecent, recent_head;
static time_t	 global_next;	/* next check's turn when over budget */
static unsigned	 global_pending;	/* attempts begun, not yet ended */

const char *
auth_role_name(int role)
{
	return role == ROLE_ADMIN ? "admin" : role == ROLE_USER ? "user" :
	    "anonymous";
}

int
auth_valid_name(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= AUTH_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-'))
			return 0;
	}
	return 1;
}

static int
parse_role(const char *s)
{
	if (strcmp(s, "admin") == 0)
		return ROLE_ADMIN;
	if (strcmp(s, "user") == 0)
		return ROLE_USER;
	return ROLE_NONE;
}

/*
 * Rewrite PATH: its lines not starting with "NAME" + SEP, then LINE.
 * Written to a temporary file (0600) and renamed over PATH.
 */
static int
replace_entry(const char *path, const char *name, char sep,
    const char *line, int keep_same_name, char *err, size_t errlen)
{
	char tmp[4096], buf[4096];
	size_t nl = strlen(name);
	FILE *in, *out;
	int fd;

	(void)mkdirs_for(path, 0755);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1 || (out = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "cannot create %s: %s", tmp,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if ((in = fopen(path, "re")) != NULL) {
		while (fgets(buf, sizeof(buf), in) != NULL) {
			if (!keep_same_name && strncmp(buf, name, nl) == 0 &&
			    buf[nl] == sep)
				continue;
			fputs(buf, out);
		}
		fclose(in);
	}
	fprintf(out, "%s\n", line);
	if (fflush(out) != 0 || fsync(fileno(out)) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp,
		    strerror(errno));
		fclose(out);
		(void)unlink(tmp);
		return -1;
	}
	fclose(out);
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "cannot replace %s: %s", path,
		    strerror(errno));
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

int
auth_add_user(const char *path, const char *name, int role,
    const char *password, char *err, size_t errlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], line[CRYPT_OUTPUT_SIZE + 96];
	struct crypt_data *cd;
	int rc;

	if (!auth_valid_name(name)) {
		snprintf(err, errlen, "bad user name '%s' (letters, digits, "
		    "'.', '_', '-')", name);
		return -1;
	}
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL) {
		snprintf(err, errlen, "cannot make a yescrypt salt: %s",
		    strerror(errno));
		return -1;
	}
	if ((cd = calloc(1, sizeof(*cd))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (crypt_rn(password, salt, cd, sizeof(*cd)) == NULL ||
	    cd->output[0] == '*') {
		snprintf(err, errlen, "cannot hash the password");
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
		return -1;
	}
	snprintf(line, sizeof(line), "%s:%s:%s", name, cd->output,
	    auth_role_name(role));
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	rc = replace_entry(path, name, ':', line, 0, err, errlen);
	explicit_bzero(line, sizeof(line));
	return rc;
}

int
auth_add_key(const char *path, const char *name, int role, const char *key,
    char *err, size_t errlen)
{
	char line[AUTH_KEY_MAX + AUTH_NAME_MAX + 16];

	if (!auth_valid_name(name)) {
		snprintf(err, errlen, "bad user name '%s'", name);
		return -1;
	}
	snprintf(line, sizeof(line), "%s %s %s", name, auth_role_name(role),
	    key);
	return replace_entry(path, name, ' ', line, 1, err, errlen);
}

int
auth_find_user(const char *path, const char *name, char *hash,
    size_t hashlen, int *role)
{
	char buf[1024], *h, *r, *nl;
	size_t n = strlen(name);
	FILE *fp;
	int found = -1;

	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(buf, sizeof(buf), fp) != NULL) {
		if (strncmp(buf, name, n) != 0 || buf[n] != ':')
			continue;
		h = buf + n + 1;
		if ((r = strrchr(h, ':')) == NULL)
			continue;
		*r++ = '\0';
		if ((nl = strchr(r, '\n')) != NULL)
			*nl = '\0';
		if (strlen(h) >= hashlen)
			continue;
		strcpy(hash, h);
		*role = parse_role(r);
		found = *role == ROLE_NONE ? -1 : 0;
		break;
	}
	explicit_bzero(buf, sizeof(buf));
	fclose(fp);
	return found;
}

int
auth_find_key(const char *path, const char *name, const char *key)
{
	char buf[AUTH_KEY_MAX + 256], *save = NULL, *f[3];
	FILE *fp;
	int role = ROLE_NONE, i;

	if ((fp = fopen(path, "re")) == NULL)
		return ROLE_NONE;
	while (fgets(buf, sizeof(buf), fp) != NULL && role == ROLE_NONE) {
		if (buf[0] == '#')
			continue;
		f[0] = strtok_r(buf, " \t\n", &save);
		for (i = 1; i < 3 && f[i - 1] != NULL; i++)
			f[i] = strtok_r(NULL, " \t\n", &save);
		if (f[0] == NULL || f[1] == NULL || f[2] == NULL)
			continue;
		if (strcmp(f[0], name) == 0 && strcmp(f[2], key) == 0)
			role = parse_role(f[1]);
	}
	fclose(fp);
	return role;
}

/* Compare in constant time (for equal lengths). */
static int
same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = 0;

	if (la != lb)
		return 0;
	for (i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

int
auth_password_ok(const char *hash, const char *password)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	int ok;

	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return 0;
	if (hash == NULL) {
		/* No such user: spend the same time, then say no. */
		if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt,
		    sizeof(salt)) != NULL)
			(void)crypt_rn(password, salt, cd, sizeof(*cd));
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
		return 0;
	}
	ok = crypt_rn(password, hash, cd, sizeof(*cd)) != NULL &&
	    cd->output[0] != '*' && same(cd->output, hash);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

int
auth_net_of(const char *ip, unsigned v4_prefix, unsigned v6_prefix,
    struct auth_net *net)
{
	char buf[64];
	size_t n, i;
	unsigned bits;

	memset(net, 0, sizeof(*net));
	n = strlen(ip);
	if (n >= 2 && ip[0] == '[' && ip[n - 1] == ']') {
		ip++;
		n -= 2;
	}
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, ip, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, net->addr) == 1) {
		net->family = 4;
		bits = v4_prefix > 32 ? 32 : v4_prefix;
	} else if (inet_pton(AF_INET6, buf, net->addr) == 1) {
		net->family = 6;
		bits = v6_prefix > 128 ? 128 : v6_prefix;
	} else
		return -1;
	for (i = 0; i < sizeof(net->addr); i++) {
		if (bits >= 8)
			bits -= 8;
		else {
			net->addr[i] &= (unsigned char)(0xff00u >> bits);
			bits = 0;
		}
	}
	return 0;
}

/*
 * Does G hold nothing that must be kept at NOW, but maybe charges for
 * connections without a login that are not in force?  Such a record gives
 * its slot up when no slot is idle, so that cheap connections from many
 * networks cannot fill the table and keep the failures of the next
 * network from being counted.
 */
static int
guard_weak(const struct guard *g, time_t now, const struct auth_limits *l)
{
	if (!g->used)
		return 1;
	if (g->pending > 0 || g->locked_until > now || g->penalized)
		return 0;
	return g->failures == 0 || now - g->first >= (time_t)l->lockout;
}

/* Does G hold nothing that must be kept at NOW? */
static int
guard_idle(const struct guard *g, time_t now, const struct auth_limits *l)
{
	return guard_weak(g, now, l) && (!g->used || g->penalty_until <= now);
}

/*
 * NET's record; with CREATE, a new one in a slot whose record has
 * nothing left to say (never a network with live failures, a lockout,
 * a penalty in force or an attempt under way: rotating addresses cannot
 * push a record out), else in the least charged one that holds only
 * charges.  NULL when not found, or when every slot is live.
 */
static struct guard *
guard_find(const struct auth_net *net, time_t now,
    const struct auth_limits *l, int create)
{
	struct guard *g, *spare = NULL, *weak = NULL;
	size_t i;

	for (i = 0; i < GUARD_SLOTS; i++) {
		g = &guards[i];
		if (g->used && memcmp(&g->net, net, sizeof(*net)) == 0) {
			if (g->failures > 0 && now - g->first >=
			    (time_t)l->lockout)
				g->failures = 0;	/* the window is over */
			return g;
		}
		if (spare == NULL && guard_idle(g, now, l))
			spare = g;
		else if (spare == NULL && guard_weak(g, now, l) &&
		    (weak == NULL || g->penalty_until < weak->penalty_until))
			weak = g;
	}
	if (spare == NULL)
		spare = weak;
	if (!create || spare == NULL)
		return NULL;
	memset(spare, 0, sizeof(*spare));
	spare->used = 1;
	spare->net = *net;
	return spare;
}

/* Failures from all networks within the last global_window seconds. */
static unsigned
global_failures(time_t now, const struct auth_limits *l)
{
	unsigned i, n = 0;

	for (i = 0; i < nrecent; i++)
		if (now - recent[i] < (time_t)l->global_window)
			n++;
	return n;
}

static int
global_over(time_t now, const struct auth_limits *l)
{
	unsigned max = l->global_max > GLOBAL_MAX ? GLOBAL_MAX :
	    l->global_max;

	return max > 0 && global_failures(now, l) >= max;
}

/*
 * Would one more check be past the budget, counting the checks under way
 * as failures to come?  Without them, the attempts begun just before the
 * budget ran out would all be checked at once.
 */
static int
global_full(time_t now, const struct auth_limits *l)
{
	unsigned max = l->global_max > GLOBAL_MAX ? GLOBAL_MAX :
	    l->global_max;

	return max > 0 && global_failures(now, l) + global_pending >= max;
}

unsigned
auth_global_spacing(const struct auth_limits *l)
{
	unsigned s;

	if (l->global_max == 0)
		return 0;
	s = (l->global_window + l->global_max - 1) / l->global_max;
	return s == 0 ? 1 : s;
}

int
auth_net_clean(const struct auth_net *net, time_t now,
    const struct auth_limits *l)
{
	struct guard *g = guard_find(net, now, l, 0);

	return g == NULL || (g->failures == 0 && g->pending == 0 &&
	    g->locked_until <= now);
}

int
auth_attempt_begin(const struct auth_net *net, time_t now,
    const struct auth_limits *l, unsigned *wait, unsigned *left)
{
	struct guard *g = guard_find(net, now, l, 1);
	unsigned n, local = 0, spacing;
	time_t due;

	*wait = *left = 0;
	if (g != NULL && g->locked_until > now) {
		*left = (unsigned)(g->locked_until - now);
		return AUTH_LOCKED;
	}
	if (global_over(now, l) && g != NULL && g->failures > 0) {
		*left = (unsigned)(g->first + (time_t)l->lockout - now);
		return AUTH_BUSY;
	}
	if (g != NULL) {
		n = g->failures + g->pending;
		local = n == 0 ? 0 : n > 4 ? DELAY_MAX : 1U << (n - 1);
		g->pending++;
	}
	due = now + (time_t)local;
	if (global_full(now, l)) {
		/* Checks take turns, spaced so that the total stays in
		 * the budget, whatever the address. */
		spacing = auth_global_spacing(l);
		if (due < now + (time_t)spacing)
			due = now + (time_t)spacing;
		if (due < global_next)
			due = global_next;
		global_next = due + (time_t)spacing;
	}
	global_pending++;
	*wait = (unsigned)(due - now);
	return AUTH_GO;
}

int
auth_attempt_end(const struct auth_net *net, time_t now,
    const struct auth_limits *l, int failed, int *locked)
{
	struct guard *g = guard_find(net, now, l, 0);
	int was_over = global_over(now, l);

	*locked = 0;
	if (g != NULL && g->pending > 0)
		g->pending--;
	if (global_pending > 0)
		global_pending--;
	if (!failed)
		return 0;	/* failures are kept: they expire */
	if (l->global_max > 0) {
		recent[recent_head] = now;
		recent_head = (recent_head + 1) % GLOBAL_MAX;
		if (nrecent < GLOBAL_MAX)
			nrecent++;
	}
	if (g == NULL)
		g = guard_find(net, now, l, 1);
	if (g != NULL) {
		if (g->failures == 0)
			g->first = now;
		g->failures++;
		if (l->max_failures > 0 && g->failures >= l->max_failures) {
			g->locked_until = now + (time_t)l->lockout;
			g->failures = 0;
			*locked = 1;
		}
	}
	return !was_over && global_over(now, l);
}

int
auth_noauth(const struct auth_net *net, time_t now,
    const struct auth_limits *l, unsigned *left)
{
	struct guard *g;
	time_t until;

	*left = 0;
	if (l->penalty == 0 || (g = guard_find(net, now, l, 1)) == NULL)
		return 0;
	until = g->penalty_until > now ? g->penalty_until : now;
	until += (time_t)l->penalty;
	if (until > now + (time_t)l->penalty_max)
		until = now + (time_t)l->penalty_max;
	g->penalty_until = until;
	if (g->penalized || until - now < (time_t)l->penalty_min)
		return 0;
	g->penalized = 1;
	g->refused = 0;
	*left = (unsigned)(until - now);
	return 1;
}

int
auth_penalized(const struct auth_net *net, time_t now,
    const struct auth_limits *l, unsigned *left)
{
	struct guard *g = guard_find(net, now, l, 0);

	*left = 0;
	if (g == NULL || !g->penalized || g->penalty_until <= now)
		return 0;
	g->refused++;
	*left = (unsigned)(g->penalty_until - now);
	return 1;
}

int
auth_penalty_over(time_t now, struct auth_net *net, unsigned *refused)
{
	unsigned i;
	struct guard *g;

	for (i = 0; i < GUARD_SLOTS; i++) {
		g = &guards[i];
		if (g->used && g->penalized && g->penalty_until <= now) {
			g->penalized = 0;
			*net = g->net;
			*refused = g->refused;
			return 1;
		}
	}
	return 0;
}

void
auth_net_text(const struct auth_net *net, unsigned v4_prefix,
    unsigned v6_prefix, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (inet_ntop(net->family == 4 ? AF_INET : AF_INET6, net->addr, ip,
	    sizeof(ip)) == NULL)
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, len, "%s/%u", ip, net->family == 4 ? v4_prefix :
	    v6_prefix);
}
