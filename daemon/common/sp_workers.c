/* sp_workers.c — one helper thread that shares a loop with its caller. */
#include "sp_workers.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct sp_workers {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int started, quit;
	/* the current job: the helper runs [0, split) */
	sp_workers_fn fn;
	void *ctx;
	size_t split;
	unsigned long job, done; /* job numbers: posted / finished by the helper */
};

static void *helper(void *arg)
{
	sp_workers *w = arg;
	unsigned long seen = 0;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->job == seen && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->job == seen)
			break; /* quit */
		seen = w->job;
		sp_workers_fn fn = w->fn;
		void *ctx = w->ctx;
		size_t split = w->split;
		pthread_mutex_unlock(&w->mu);
		for (size_t i = 0; i < split; i++)
			fn(ctx, i);
		pthread_mutex_lock(&w->mu);
		w->done = seen;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int sp_workers_new(sp_workers **out)
{
	sp_workers *w = calloc(1, sizeof *w);
	if (!w)
		return SP_ENOMEM;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->started = sysconf(_SC_NPROCESSORS_ONLN) > 1 && pthread_create(&w->th, NULL, helper, w) == 0;
	*out = w;
	return SP_OK;
}

void sp_workers_free(sp_workers **wp)
{
	sp_workers *w = wp ? *wp : NULL;
	if (!w)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->mu);
		w->quit = 1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->th, NULL);
	}
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
	*wp = NULL;
}

void sp_workers_run(sp_workers *w, sp_workers_fn fn, void *ctx, size_t n)
{
	size_t split = 0;
	if (w && w->started && n >= 2) {
		split = n / 2;
		pthread_mutex_lock(&w->mu);
		w->fn = fn;
		w->ctx = ctx;
		w->split = split;
		w->job++;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
	}
	for (size_t i = split; i < n; i++)
		fn(ctx, i);
	if (split) {
		pthread_mutex_lock(&w->mu);
		while (w->done != w->job)
			pthread_cond_wait(&w->cv, &w->mu);
		pthread_mutex_unlock(&w->mu);
	}
}
