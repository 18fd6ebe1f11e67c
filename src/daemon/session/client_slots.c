/*
 * Who keeps a slot when authentication is required: the client a
 * newcomer displaces, the lines a client without a login may have
 * refused, the admin slots, and the source network a client's address
 * belongs to.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon/session/client.h"
#include "daemon/session/client_int.h"

#define HEAD_START	2	/* s a new client cannot be displaced */

int
client_refused(struct client *c)
{
	char why[64];

	if (c->dead || !client_unproven(c))
		return c->dead;
	if (++c->refusals < CLIENT_REFUSALS_MAX)
		return 0;
	(void)client_reply(c, "-ERR too many lines before a login\n");
	snprintf(why, sizeof(why), "%u lines refused before a login",
	    c->refusals);
	client_close(c, why);
	return 1;
}

void
client_net_of(const struct sessions *d, const char *addr,
    struct auth_net *net)
{
	char ip[CLIENT_ADDR_MAX], *colon;

	snprintf(ip, sizeof(ip), "%s", addr);
	if ((colon = strrchr(ip, ':')) != NULL)
		*colon = '\0';
	if (auth_net_of(ip, d->cfg->auth_ipv4_prefix,
	    d->cfg->auth_ipv6_prefix, net) == -1)
		memset(net, 0, sizeof(*net));	/* local: all alike */
}

/* Not logged in, nor in the middle of a login: may give its slot up. */
static int
unproven_idle(const struct client *c)
{
	/* Kept: a check under way, or a wait that is only a turn past the
	 * global budget (not one its network earned). */
	return !c->dead && c->role == ROLE_NONE && !(c->attempting &&
	    (c->hold_until == 0 || c->held_clean));
}

/* Do two clients or more that may give their slot up come from NET? */
static int
crowded(const struct sessions *d, const struct auth_net *net)
{
	const struct client *c;
	int n = 0;

	for (c = d->clients; c != NULL; c = c->next)
		if (unproven_idle(c) && memcmp(&c->net, net,
		    sizeof(*net)) == 0 && ++n == 2)
			return 1;
	return 0;
}

struct client *
client_displaceable(struct sessions *d, const struct auth_net *net)
{
	struct client *c, *oldest = NULL, *crowd = NULL;
	time_t now = loop_now();

	for (c = d->clients; c != NULL; c = c->next) {
		if (!unproven_idle(c))
			continue;
		if (memcmp(&c->net, net, sizeof(*net)) != 0 &&
		    crowded(d, &c->net)) {
			if (crowd == NULL || c->born <= crowd->born)
				crowd = c;
		} else if (now - c->born >= HEAD_START &&
		    (oldest == NULL || c->born <= oldest->born))
			oldest = c;
	}
	return crowd != NULL ? crowd : oldest;
}

int
client_login_fits(const struct client *c, int role)
{
	const struct client *o;
	int in = 0;

	if (role == ROLE_ADMIN || c->d->cfg->auth_mode != MODE_REQUIRED)
		return 1;
	for (o = c->d->clients; o != NULL; o = o->next)
		if (o != c && !o->dead && o->role != ROLE_NONE)
			in++;
	return in < c->d->cfg->max_clients;
}
