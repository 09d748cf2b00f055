/*
 * The twin projection inside vitaed: one struct twin, one thread that applies committed
 * ledger events to it, and the list of learners whose twin changed, which the service
 * thread turns into twin.changed notifications for subscribers.
 *
 * A worker that commits appends kicks the feed thread (api_twin_kick) and returns: the
 * answer to an append never waits for the projection. Reads take the twin lock and catch
 * up first, so a client reads its own writes. The twin handle is single-threaded; the lock
 * serializes the feed thread and every reader.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"

#define CHANGED_MAX 65536

struct api_twin_feed {
    pthread_t thread;
    bool started;
    pthread_mutex_t mu; /* kicked, stopping, changed */
    pthread_cond_t cv;
    bool kicked, stopping;
    uint8_t (*changed)[LEDGER_LEARNER_LEN];
    size_t n_changed;
    bool overflow; /* more changes than CHANGED_MAX since the last drain */
    atomic_uint_fast64_t applied_to;
};

static void on_change(void *ctx, const uint8_t learner[LEDGER_LEARNER_LEN])
{
    struct api_server *s = ctx;
    struct api_twin_feed *f = s->feed;
    pthread_mutex_lock(&f->mu);
    if (f->n_changed < CHANGED_MAX)
        memcpy(f->changed[f->n_changed++], learner, LEDGER_LEARNER_LEN);
    else
        f->overflow = true;
    pthread_mutex_unlock(&f->mu);
}

/* Catches up with the ledger; the caller holds twin_mu. */
static enum vt_status sync_locked(struct api_server *s, struct vt_error *err)
{
    struct twin_apply_report rep;
    memset(&rep, 0, sizeof(rep));
    enum vt_status rc = twin_catch_up(s->twin, &rep, err);
    atomic_store(&s->feed->applied_to, twin_cursor(s->twin));
    if (rep.rejected > 0)
        API_LOG(API_LOG_DEBUG, "twin.rejected", "from=%llu to=%llu rejected=%llu",
                (unsigned long long)rep.from, (unsigned long long)rep.to,
                (unsigned long long)rep.rejected);
    return rc;
}

/* Tells the service thread when changes wait. */
static void flush(struct api_server *s)
{
    struct api_twin_feed *f = s->feed;
    pthread_mutex_lock(&f->mu);
    bool pending = f->n_changed > 0 || f->overflow;
    pthread_mutex_unlock(&f->mu);
    if (pending && s->lws_ctx)
        api_server_wake(s);
}

static void *feed_main(void *arg)
{
    struct api_server *s = arg;
    struct api_twin_feed *f = s->feed;
    pthread_mutex_lock(&f->mu);
    f->kicked = true; /* the first pass catches up with what was written before a start */
    for (;;) {
        while (!f->kicked && !f->stopping)
            pthread_cond_wait(&f->cv, &f->mu);
        if (f->stopping)
            break;
        f->kicked = false;
        pthread_mutex_unlock(&f->mu);
        struct vt_error err;
        pthread_mutex_lock(&s->twin_mu);
        enum vt_status rc = sync_locked(s, &err);
        pthread_mutex_unlock(&s->twin_mu);
        if (rc != VT_OK)
            API_LOG(API_LOG_WARN, "twin.apply_failed", "status=%s msg=\"%s\"", vt_status_name(rc),
                    err.msg);
        flush(s);
        pthread_mutex_lock(&f->mu);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

enum vt_status api_twin_open(struct api_server *s, struct vt_error *err)
{
    struct api_twin_feed *f = vt_calloc(1, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->changed = vt_calloc(CHANGED_MAX, LEDGER_LEARNER_LEN);
    atomic_init(&f->applied_to, 0);
    s->feed = f;
    pthread_mutex_init(&s->twin_mu, NULL);
    char path[API_PATH_MAX + 64];
    api_datadir_path(&s->cfg, "twin", path);
    struct twin_options o;
    twin_options_init(&o);
    o.on_change = on_change;
    o.on_change_ctx = s;
    enum vt_status rc = twin_open(s->ledger, path, &o, &s->twin, err);
    if (rc != VT_OK)
        return vt_error_prefix(err, rc, "cannot open the twin '%s'", path);
    atomic_store(&f->applied_to, twin_cursor(s->twin));
    return VT_OK;
}

void api_twin_start(struct api_server *s)
{
    struct api_twin_feed *f = s->feed;
    if (!f || f->started)
        return;
    if (pthread_create(&f->thread, NULL, feed_main, s) == 0)
        f->started = true;
}

void api_twin_close(struct api_server *s)
{
    struct api_twin_feed *f = s->feed;
    if (!f)
        return;
    if (f->started) {
        pthread_mutex_lock(&f->mu);
        f->stopping = true;
        pthread_cond_signal(&f->cv);
        pthread_mutex_unlock(&f->mu);
        pthread_join(f->thread, NULL);
    }
    twin_close(s->twin);
    s->twin = NULL;
    pthread_mutex_destroy(&s->twin_mu);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f->changed);
    free(f);
    s->feed = NULL;
}

void api_twin_kick(struct api_server *s)
{
    struct api_twin_feed *f = s->feed;
    if (!f || ledger_size(s->ledger) <= atomic_load(&f->applied_to))
        return;
    pthread_mutex_lock(&f->mu);
    f->kicked = true;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

enum vt_status api_twin_lock(struct api_server *s, struct vt_error *err)
{
    pthread_mutex_lock(&s->twin_mu);
    enum vt_status rc = sync_locked(s, err);
    if (rc != VT_OK)
        pthread_mutex_unlock(&s->twin_mu);
    return rc;
}

void api_twin_unlock(struct api_server *s)
{
    pthread_mutex_unlock(&s->twin_mu);
    flush(s);
}

size_t api_twin_changes(struct api_server *s, uint8_t (**out)[LEDGER_LEARNER_LEN], bool *all)
{
    struct api_twin_feed *f = s->feed;
    *out = NULL;
    *all = false;
    if (!f)
        return 0;
    pthread_mutex_lock(&f->mu);
    size_t n = f->n_changed;
    if (n > 0) {
        *out = vt_calloc(n, LEDGER_LEARNER_LEN);
        memcpy(*out, f->changed, n * LEDGER_LEARNER_LEN);
    }
    *all = f->overflow;
    f->n_changed = 0;
    f->overflow = false;
    pthread_mutex_unlock(&f->mu);
    return n;
}

uint64_t api_twin_cursor(struct api_server *s)
{
    return s->feed ? atomic_load(&s->feed->applied_to) : 0;
}

void api_service_chain(const struct api_server *s, const char *what, uint8_t out[16])
{
    uint8_t h[VT_SHA256_LEN];
    struct vt_buf b;
    vt_buf_init(&b, 1024);
    (void)vt_buf_printf(&b, NULL, "vitae/service/v1\n%s\n%s", what, s->did_key);
    vt_sha256(b.data, b.len, h);
    vt_buf_release(&b);
    memcpy(out, h, 16);
}
