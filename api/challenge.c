/*
 * Presentation challenges (VC-API POST /challenges, presentation.challenge): random
 * strings the server hands out and accepts once, within API_CHALLENGE_TTL_MS.
 */
#include <string.h>

#include "api/api_int.h"

struct chal {
    char value[40];
    int64_t expires_ms;
};

struct api_challenges {
    pthread_mutex_t mu;
    struct chal *v;
    size_t n, cap;
};

struct api_challenges *api_challenges_new(void)
{
    struct api_challenges *c = vt_calloc(1, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void api_challenges_free(struct api_challenges *c)
{
    if (!c)
        return;
    free(c->v);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static void expire_locked(struct api_challenges *c, int64_t now_ms)
{
    size_t o = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->v[i].expires_ms > now_ms)
            c->v[o++] = c->v[i];
    }
    c->n = o;
}

enum vt_status api_challenge_new(struct api_challenges *c, char out[40], int64_t now_ms,
                                 struct vt_error *err)
{
    uint8_t raw[24];
    vt_random_bytes(raw, sizeof(raw));
    struct vt_buf b;
    vt_buf_init(&b, 39);
    enum vt_status rc = vt_base64url_encode(raw, sizeof(raw), &b, err);
    if (rc != VT_OK) {
        vt_buf_release(&b);
        return rc;
    }
    pthread_mutex_lock(&c->mu);
    if (c->n >= API_CHALLENGES_MAX)
        expire_locked(c, now_ms);
    if (c->n >= API_CHALLENGES_MAX) {
        rc = vt_error_set(err, VT_ERR_BUSY, "too many outstanding challenges");
    } else {
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 64;
            c->v = vt_realloc(c->v, c->cap * sizeof(*c->v));
        }
        memcpy(c->v[c->n].value, b.data, b.len + 1);
        c->v[c->n].expires_ms = now_ms + API_CHALLENGE_TTL_MS;
        c->n++;
        memcpy(out, b.data, b.len + 1);
    }
    pthread_mutex_unlock(&c->mu);
    vt_buf_release(&b);
    return rc;
}

bool api_challenge_take(struct api_challenges *c, const char *challenge, int64_t now_ms)
{
    bool ok = false;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++) {
        if (!strcmp(c->v[i].value, challenge)) {
            ok = c->v[i].expires_ms > now_ms;
            c->v[i] = c->v[--c->n];
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return ok;
}
