/* Telling the service manager (systemd, Type=notify) how we are doing. */
#ifndef NOTIFY_H
#define NOTIFY_H

/*
 * Send MSG ("READY=1", "STOPPING=1"...) to $NOTIFY_SOCKET if it is set;
 * a no-op otherwise.  0, or -1 if the manager could not be told.
 */
int	notify_send(const char *msg);

#endif /* NOTIFY_H */
