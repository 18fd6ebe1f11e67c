/*
 * Authentication data: the users file (NAME:YESCRYPT-HASH:ROLE), the
 * authorized keys file (NAME ROLE BASE64-SPKI), and a table of failures
 * per source address that delays and then locks out password guessing.
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/mkdirs.h"
#include "daemon/auth.h"

#define GUARD_SLOTS	256
#define DELAY_MAX	8

struct guard {
	char	 addr[64];
	unsigned failures;
	time_t	 first;		/* first failure of the window */
	time_t	 locked_until;
	time_t	 last;
};

static struct guard guards[GUARD_SLOTS];

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

static struct guard *
guard_find(const char *addr, int create)
{
	struct guard *g, *oldest = &guards[0];
	size_t i;

	for (i = 0; i < GUARD_SLOTS; i++) {
		g = &guards[i];
		if (g->addr[0] != '\0' && strcmp(g->addr, addr) == 0)
			return g;
		if (g->last < oldest->last)
			oldest = g;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->addr, sizeof(oldest->addr), "%s", addr);
	return oldest;
}

unsigned
auth_locked(const char *addr, time_t now)
{
	struct guard *g = guard_find(addr, 0);

	if (g == NULL || g->locked_until <= now)
		return 0;
	return (unsigned)(g->locked_until - now);
}

unsigned
auth_failure(const char *addr, time_t now, unsigned max, unsigned lockout,
    int *locked)
{
	struct guard *g = guard_find(addr, 1);
	unsigned delay;

	*locked = 0;
	if (g->failures > 0 && lockout > 0 &&
	    now - g->first >= (time_t)lockout)
		g->failures = 0;	/* the window is over */
	if (g->failures == 0)
		g->first = now;
	g->failures++;
	g->last = now;
	if (max > 0 && g->failures >= max) {
		g->locked_until = now + (time_t)lockout;
		g->failures = 0;
		*locked = 1;
	}
	delay = g->failures == 0 ? 1 : 1U << (g->failures - 1);
	return delay > DELAY_MAX ? DELAY_MAX : delay;
}

void
auth_success(const char *addr)
{
	struct guard *g = guard_find(addr, 0);

	if (g != NULL)
		memset(g, 0, sizeof(*g));
}
