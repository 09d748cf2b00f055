/*
 * Worker threads: everything that may block or burn CPU (LMDB commits and reads, parsing,
 * signing, verifying) runs here, never on the lws service thread. Finished jobs go to a
 * completion list and the service thread is woken with lws_cancel_service().
 */
#include <signal.h>
#include <string.h>

#include "api/api_int.h"

struct api_workers {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct api_job *head, *tail;
    struct api_job *done_head, *done_tail;
    size_t pending;
    bool stopping;
    unsigned n;
    pthread_t *threads;
    struct api_server *srv;
    api_job_fn fn;
    void (*wake)(struct api_server *s);
};

struct api_job *api_job_new(enum api_job_kind kind, size_t max_in, size_t max_out)
{
    struct api_job *job = vt_calloc(1, sizeof(*job));
    job->kind = kind;
    vt_buf_init(&job->in, max_in ? max_in : 1);
    vt_buf_init(&job->out, max_out + API_OUT_PRE);
    return job;
}

void api_job_free(struct api_job *job)
{
    if (!job)
        return;
    vt_buf_release(&job->in);
    vt_buf_release(&job->out);
    memset(job->bearer, 0, sizeof(job->bearer));
    free(job);
}

static void *worker_main(void *arg)
{
    struct api_workers *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->head)
            break;
        struct api_job *job = w->head;
        w->head = job->next;
        if (!w->head)
            w->tail = NULL;
        job->next = NULL;
        pthread_mutex_unlock(&w->mu);

        w->fn(w->srv, job);

        pthread_mutex_lock(&w->mu);
        if (w->done_tail)
            w->done_tail->next = job;
        else
            w->done_head = job;
        w->done_tail = job;
        w->pending--;
        pthread_mutex_unlock(&w->mu);
        w->wake(w->srv);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

struct api_workers *api_workers_start(struct api_server *s, unsigned n, api_job_fn fn,
                                      void (*wake)(struct api_server *s))
{
    struct api_workers *w = vt_calloc(1, sizeof(*w));
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->srv = s;
    w->fn = fn;
    w->wake = wake;
    w->threads = vt_calloc(n, sizeof(*w->threads));
    /* Signals belong to the service thread: workers never see SIGINT or SIGTERM. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    for (unsigned i = 0; i < n; i++) {
        if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0)
            break;
        w->n++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    VT_ASSERT(w->n > 0);
    return w;
}

void api_workers_submit(struct api_workers *w, struct api_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&w->mu);
    if (w->tail)
        w->tail->next = job;
    else
        w->head = job;
    w->tail = job;
    w->pending++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

struct api_job *api_workers_done(struct api_workers *w)
{
    pthread_mutex_lock(&w->mu);
    struct api_job *list = w->done_head;
    w->done_head = w->done_tail = NULL;
    pthread_mutex_unlock(&w->mu);
    return list;
}

size_t api_workers_pending(struct api_workers *w)
{
    pthread_mutex_lock(&w->mu);
    size_t n = w->pending;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void api_workers_stop(struct api_workers *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (unsigned i = 0; i < w->n; i++)
        pthread_join(w->threads[i], NULL);
    struct api_job *j = w->done_head;
    while (j) {
        struct api_job *next = j->next;
        api_job_free(j);
        j = next;
    }
    free(w->threads);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
