/* http_limit.c - rate limits and the token cache (see http_limit.h). */
#include "http_limit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- rate limiting: token buckets keyed by a short string ---- */

#define RL_SLOTS 4096
#define RL_PROBE 8
struct rl_slot { char key[72]; double tokens, last; };
struct ratelimit {
	pthread_mutex_t mu;
	struct rl_slot s[RL_SLOTS];
};

struct ratelimit *http_limit_new(void)
{
	struct ratelimit *rl = xcalloc(1, sizeof *rl);
	pthread_mutex_init(&rl->mu, NULL);
	return rl;
}

void http_limit_free(struct ratelimit *rl)
{
	pthread_mutex_destroy(&rl->mu);
	free(rl);
}

/* the slot of key (rl->mu held), refilled to now; NULL when key has none
 * and create is false */
static struct rl_slot *rl_slot(struct ratelimit *rl, const char *key, double rate, double burst, bool create)
{
	unsigned h = 2166136261u;
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	double now = mono();
	struct rl_slot *slot = NULL, *oldest = NULL;
	for (int k = 0; k < RL_PROBE; k++) {
		struct rl_slot *s = &rl->s[(h + (unsigned)k) % RL_SLOTS];
		if (!strcmp(s->key, key)) {
			slot = s;
			break;
		}
		if (!oldest || s->last < oldest->last)
			oldest = s;
	}
	if (!slot) {
		if (!create)
			return NULL;
		slot = oldest;
		snprintf(slot->key, sizeof slot->key, "%s", key);
		slot->tokens = burst;
		slot->last = now;
	}
	slot->tokens += (now - slot->last) * rate;
	if (slot->tokens > burst)
		slot->tokens = burst;
	slot->last = now;
	return slot;
}

long http_limit_take(struct ratelimit *rl, const char *key, double rate, double burst)
{
	if (rate <= 0)
		return 0;
	long wait = 0;
	pthread_mutex_lock(&rl->mu);
	struct rl_slot *slot = rl_slot(rl, key, rate, burst, true);
	if (slot->tokens >= 1)
		slot->tokens -= 1;
	else
		wait = (long)((1 - slot->tokens) / rate) + 1;
	pthread_mutex_unlock(&rl->mu);
	return wait;
}

long http_limit_wait(struct ratelimit *rl, const char *key, double rate, double burst)
{
	if (rate <= 0)
		return 0;
	long wait = 0;
	pthread_mutex_lock(&rl->mu);
	struct rl_slot *slot = rl_slot(rl, key, rate, burst, false);
	if (slot && slot->tokens < 1)
		wait = (long)((1 - slot->tokens) / rate) + 1;
	pthread_mutex_unlock(&rl->mu);
	return wait;
}

/* ---- token cache: a token seen in the last TOKEN_TTL seconds is not
 * looked up again (revoking a token takes effect within that time) ---- */

#define TOKEN_SLOTS 1024
#define TOKEN_TTL 10.0
struct token_cache {
	pthread_mutex_t mu;
	struct { char hash[65]; long long id; char role[16]; double until; } s[TOKEN_SLOTS];
};
static struct token_cache tcache = {PTHREAD_MUTEX_INITIALIZER, {{"", 0, "", 0}}};

int http_limit_token(struct server *srv, const char *hash, long long *id, char role[16], struct buf *err)
{
	unsigned slot = (unsigned)strtoul((char[9]){hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7], 0},
					  NULL, 16) % TOKEN_SLOTS;
	double now = mono();
	pthread_mutex_lock(&tcache.mu);
	if (!strcmp(tcache.s[slot].hash, hash) && tcache.s[slot].until > now) {
		*id = tcache.s[slot].id;
		memcpy(role, tcache.s[slot].role, 16);
		pthread_mutex_unlock(&tcache.mu);
		return 1;
	}
	pthread_mutex_unlock(&tcache.mu);
	int found = store_token_lookup(srv->st, hash, id, role, err);
	if (found == 1) {
		pthread_mutex_lock(&tcache.mu);
		memcpy(tcache.s[slot].hash, hash, 65);
		tcache.s[slot].id = *id;
		memcpy(tcache.s[slot].role, role, 16);
		tcache.s[slot].until = now + TOKEN_TTL;
		pthread_mutex_unlock(&tcache.mu);
	}
	return found;
}
