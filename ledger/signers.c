/* A small pool that runs one function over the parts of a batch in parallel. */
#include "ledger/ledger_int.h"

#include <stdlib.h>

struct ledger_signers {
    pthread_mutex_t mu;
    pthread_cond_t cv_start, cv_done;
    unsigned threads; /* helper threads, besides the caller */
    pthread_t *tids;
    uint64_t generation;
    unsigned parts, pending;
    void (*fn)(void *, unsigned);
    void *arg;
    bool stop;
};

struct helper {
    struct ledger_signers *s;
    unsigned part;
};

static void *helper_main(void *p)
{
    struct ledger_signers *s = ((struct helper *)p)->s;
    unsigned part = ((struct helper *)p)->part;
    free(p);
    uint64_t seen = 0;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stop && s->generation == seen)
            pthread_cond_wait(&s->cv_start, &s->mu);
        if (s->stop)
            break;
        seen = s->generation;
        if (part >= s->parts)
            continue;
        void (*fn)(void *, unsigned) = s->fn;
        void *arg = s->arg;
        pthread_mutex_unlock(&s->mu);
        fn(arg, part);
        pthread_mutex_lock(&s->mu);
        if (--s->pending == 0)
            pthread_cond_signal(&s->cv_done);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

struct ledger_signers *ledger_signers_new(unsigned threads)
{
    struct ledger_signers *s = vt_calloc(1, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv_start, NULL);
    pthread_cond_init(&s->cv_done, NULL);
    s->threads = threads > 1 ? threads - 1 : 0;
    s->tids = vt_calloc(s->threads ? s->threads : 1, sizeof(*s->tids));
    for (unsigned i = 0; i < s->threads; i++) {
        struct helper *h = vt_malloc(sizeof(*h));
        h->s = s;
        h->part = i + 1;
        VT_ASSERT(pthread_create(&s->tids[i], NULL, helper_main, h) == 0);
    }
    return s;
}

void ledger_signers_free(struct ledger_signers *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->cv_start);
    pthread_mutex_unlock(&s->mu);
    for (unsigned i = 0; i < s->threads; i++)
        pthread_join(s->tids[i], NULL);
    pthread_cond_destroy(&s->cv_done);
    pthread_cond_destroy(&s->cv_start);
    pthread_mutex_destroy(&s->mu);
    free(s->tids);
    free(s);
}

void ledger_signers_run(struct ledger_signers *s, unsigned parts, void (*fn)(void *, unsigned),
                        void *arg)
{
    if (parts > s->threads + 1)
        parts = s->threads + 1;
    if (parts > 1) {
        pthread_mutex_lock(&s->mu);
        s->fn = fn;
        s->arg = arg;
        s->parts = parts;
        s->pending = parts - 1;
        s->generation++;
        pthread_cond_broadcast(&s->cv_start);
        pthread_mutex_unlock(&s->mu);
    }
    fn(arg, 0);
    if (parts > 1) {
        pthread_mutex_lock(&s->mu);
        while (s->pending > 0)
            pthread_cond_wait(&s->cv_done, &s->mu);
        pthread_mutex_unlock(&s->mu);
    }
}
