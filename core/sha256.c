/*
 * SHA-256 through OpenSSL's EVP interface, which uses the CPU's SHA extensions
 * (about 6x libsodium's portable code on our machines). The algorithm is fetched once;
 * one-shot hashing reuses a per-thread context, because allocating an EVP_MD_CTX per
 * call costs as much as hashing a small event.
 */
#include "core/core.h"
#include "core/core_int.h"

#include <pthread.h>
#include <stdlib.h>

#include <openssl/evp.h>

struct vt_sha256 {
    EVP_MD_CTX *ctx;
};

static EVP_MD *sha256_md;
static pthread_key_t tls_ctx_key;

static void free_tls_ctx(void *p)
{
    EVP_MD_CTX_free(p);
}

enum vt_status vt_sha256_init_md(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (sha256_md == NULL)
        return VT_ERR_CRYPTO;
    if (pthread_key_create(&tls_ctx_key, free_tls_ctx) != 0)
        return VT_ERR_CRYPTO;
    return VT_OK;
}

static void check(int ok)
{
    /* EVP digest calls fail only on allocation failure or a broken library. */
    VT_ASSERT(ok == 1);
}

static EVP_MD_CTX *thread_ctx(void)
{
    VT_ASSERT(sha256_md != NULL); /* vt_core_init() was not called */
    EVP_MD_CTX *ctx = pthread_getspecific(tls_ctx_key);
    if (ctx == NULL) {
        ctx = EVP_MD_CTX_new();
        VT_ASSERT(ctx != NULL);
        VT_ASSERT(pthread_setspecific(tls_ctx_key, ctx) == 0);
    }
    return ctx;
}

void vt_sha256(const void *p, size_t n, uint8_t out[VT_SHA256_LEN])
{
    EVP_MD_CTX *ctx = thread_ctx();
    check(EVP_DigestInit_ex(ctx, sha256_md, NULL));
    check(EVP_DigestUpdate(ctx, p, n));
    check(EVP_DigestFinal_ex(ctx, out, NULL));
}

void vt_sha256_two(const void *a, size_t na, const void *b, size_t nb, uint8_t out[VT_SHA256_LEN])
{
    EVP_MD_CTX *ctx = thread_ctx();
    check(EVP_DigestInit_ex(ctx, sha256_md, NULL));
    check(EVP_DigestUpdate(ctx, a, na));
    check(EVP_DigestUpdate(ctx, b, nb));
    check(EVP_DigestFinal_ex(ctx, out, NULL));
}

struct vt_sha256 *vt_sha256_new(void)
{
    VT_ASSERT(sha256_md != NULL);
    struct vt_sha256 *h = vt_malloc(sizeof(*h));
    h->ctx = EVP_MD_CTX_new();
    VT_ASSERT(h->ctx != NULL);
    vt_sha256_reset(h);
    return h;
}

void vt_sha256_free(struct vt_sha256 *h)
{
    if (h == NULL)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

void vt_sha256_reset(struct vt_sha256 *h)
{
    check(EVP_DigestInit_ex(h->ctx, sha256_md, NULL));
}

void vt_sha256_update(struct vt_sha256 *h, const void *p, size_t n)
{
    check(EVP_DigestUpdate(h->ctx, p, n));
}

void vt_sha256_final(struct vt_sha256 *h, uint8_t out[VT_SHA256_LEN])
{
    check(EVP_DigestFinal_ex(h->ctx, out, NULL));
}
