/* http_conn.c - the connection guard (see http_conn.h).
 *
 * libmicrohttpd runs one thread per connection and its timeout is an idle
 * timeout: a client sending one byte every few seconds keeps a slot for
 * ever.  The guard keeps a list of the open connections (socket, address,
 * whether the current request has shown credentials, and until when it may
 * take to arrive); a watchdog thread shuts down (shutdown(2), which wakes the
 * connection's own thread, which then closes it) every connection whose
 * request has not arrived by its deadline.  The socket stays valid while it
 * is on the list: libmicrohttpd tells the guard a connection is closed
 * before it closes the socket, and the list is changed and read under one
 * mutex.
 *
 * Slots: a quarter of --max-connections is kept for requests with
 * credentials.  When connections without them fill the other three
 * quarters, a new connection closes the oldest one still waiting for its
 * request: a trickling client cannot hold a slot against one that sends its
 * request at once. */
#include "http_conn.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "http_req.h"

struct conn_entry {
	struct conn_entry *prev, *next;
	struct conn_guard *g;
	int fd;
	char addr[48];
	bool authed;       /* the current request showed credentials */
	bool receiving;    /* its headers and body are not all in */
	bool cut;          /* shut down by the guard, closing */
	double deadline, since;
};

struct conn_guard {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	bool stop;
	struct conn_entry *head;
	const struct server_config *cfg;
	int unauth_share;       /* slots for connections without credentials */
	/* closed by the guard since the last log line */
	long n_late, n_evicted, n_refused;
	char last_addr[48];
	double last_log;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* shut a connection down (g->mu held) */
static void cut(struct conn_guard *g, struct conn_entry *e, bool late)
{
	shutdown(e->fd, SHUT_RDWR);
	e->cut = true;
	if (late)
		g->n_late++;
	else
		g->n_evicted++;
	memcpy(g->last_addr, e->addr, sizeof g->last_addr);
}

/* one line a minute at most, however many connections are closed */
static void log_cuts(struct conn_guard *g, double now)
{
	if ((!g->n_late && !g->n_evicted && !g->n_refused) || now - g->last_log < 60)
		return;
	fprintf(stderr,
		"log4scan-server: closed %ld connection(s) whose request took longer than %d s and %ld without"
		" credentials to make room; refused %ld over %d from one address (the last from %s)\n",
		g->n_late, g->cfg->request_timeout, g->n_evicted, g->n_refused, g->cfg->max_per_address, g->last_addr);
	g->n_late = g->n_evicted = g->n_refused = 0;
	g->last_log = now;
}

static void *watchdog(void *arg)
{
	struct conn_guard *g = arg;
	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&g->cv, &g->mu, &ts);
		double now = mono();
		for (struct conn_entry *e = g->head; e; e = e->next)
			if (e->receiving && !e->cut && now > e->deadline)
				cut(g, e, true);
		log_cuts(g, now);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

struct conn_guard *http_conn_start(const struct server_config *cfg)
{
	struct conn_guard *g = xcalloc(1, sizeof *g);
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->cfg = cfg;
	g->unauth_share = cfg->max_connections - cfg->max_connections / 4;
	g->last_log = -1e9;
	if (pthread_create(&g->th, NULL, watchdog, g)) {
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g);
		return NULL;
	}
	return g;
}

void http_conn_stop(struct conn_guard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->th, NULL);
	/* the daemon is stopped: every connection has been notified closed */
	while (g->head) {
		struct conn_entry *e = g->head;
		g->head = e->next;
		free(e);
	}
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

enum MHD_Result http_conn_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	(void)addrlen;
	struct conn_guard *g = cls;
	char a[48];
	http_req_sockaddr_text(addr, a, sizeof a);
	bool trusted = http_req_trusted_proxy(g->cfg, a);
	enum MHD_Result ok = MHD_YES;
	pthread_mutex_lock(&g->mu);
	int same = 0, unauth = 0;
	struct conn_entry *oldest = NULL;
	for (struct conn_entry *e = g->head; e; e = e->next) {
		if (e->cut)
			continue;
		same += !strcmp(e->addr, a);
		if (!e->authed) {
			unauth++;
			if (e->receiving && (!oldest || e->since < oldest->since))
				oldest = e;
		}
	}
	if (!trusted && g->cfg->max_per_address && same >= g->cfg->max_per_address) {
		ok = MHD_NO;
		g->n_refused++;
		memcpy(g->last_addr, a, sizeof g->last_addr);
	} else if (unauth >= g->unauth_share && oldest)
		cut(g, oldest, false);
	log_cuts(g, mono());
	pthread_mutex_unlock(&g->mu);
	return ok;
}

static struct conn_entry *entry_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

void http_conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		       enum MHD_ConnectionNotificationCode code)
{
	struct conn_guard *g = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		struct conn_entry *e = xcalloc(1, sizeof *e);
		const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *ca = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		e->g = g;
		e->fd = fd ? fd->connect_fd : -1;
		e->cut = e->fd < 0;
		http_req_sockaddr_text(ca ? ca->client_addr : NULL, e->addr, sizeof e->addr);
		e->receiving = true;
		e->since = mono();
		e->deadline = e->since + g->cfg->request_timeout;
		pthread_mutex_lock(&g->mu);
		e->next = g->head;
		if (g->head)
			g->head->prev = e;
		g->head = e;
		pthread_mutex_unlock(&g->mu);
		*socket_context = e;
		return;
	}
	struct conn_entry *e = *socket_context;
	if (!e)
		return;
	pthread_mutex_lock(&g->mu);
	if (e->prev)
		e->prev->next = e->next;
	else
		g->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	pthread_mutex_unlock(&g->mu);
	free(e);
	*socket_context = NULL;
}

void http_conn_authed(struct MHD_Connection *c)
{
	struct conn_entry *e = entry_of(c);
	if (!e)
		return;
	pthread_mutex_lock(&e->g->mu);
	e->authed = true;
	pthread_mutex_unlock(&e->g->mu);
}

void http_conn_received(struct MHD_Connection *c)
{
	struct conn_entry *e = entry_of(c);
	if (!e)
		return;
	pthread_mutex_lock(&e->g->mu);
	e->receiving = false;
	pthread_mutex_unlock(&e->g->mu);
}

void http_conn_next(struct MHD_Connection *c)
{
	struct conn_entry *e = entry_of(c);
	if (!e)
		return;
	pthread_mutex_lock(&e->g->mu);
	e->authed = false;
	e->receiving = true;
	e->since = mono();
	e->deadline = e->since + e->g->cfg->request_timeout;
	pthread_mutex_unlock(&e->g->mu);
}
