/* The credential fixture of fuzz_cred.h. */
#include "fuzz_cred.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char jwk_es256[] = "{\"kty\":\"EC\",\"crv\":\"P-256\","
                                "\"x\":\"IUKDeGlrjdvbNHShneM75Fb3uybLTIFBc66qgva5NlQ\","
                                "\"y\":\"mQ1RN2xOGXQDKuHDO4f7QcG9FJ-RBW0ifu01_OURQzU\","
                                "\"d\":\"ERd-qmTrAkO6A-JjNzQCJ0B_bVBIvIZgqKauhvzmhgU\"}";

static const char jwk_rs256[] =
    "{\"kty\":\"RSA\",\"e\":\"AQAB\","
    "\"n\":\"1IXDZxWhFIT7_2apilpOat0LiOyOI-WFUvddYcwvbFflBfFxaJf2aVOmGcL2b69BOMRW76a_19VJ7uzXsO"
    "m9KPRT2w5_1cUp-3SnUxJq8pk--lzZGgQpFAzTFCXbwzVW1963CzlgFNscPgBu8of641pCTGZTumayDYNEwV5ko7PQU"
    "gbpRUJrTuhRo78ivIv6YIVEzV2cfNrAX3Y-8YUdNKGg7YSRCZy1gERG1R0jTpTO4QlRODbXkTUfqp9lXU-riKksZv90u"
    "S1Wjp7DL6BFWYRCCBYxCzfxHZg83S8lbJ-UIdEXBCIQmhuYO5VmBwq4RFs1mn6flMf80jYfGNZNXw\","
    "\"d\":\"Hg-FojEnBbYBxxCIbq9zZB48IXQEbwNqJmAi71BobNTJ6ltKhVbpXeCdIAu5u_Z4LUVoXqGhhTAAMzGBGN"
    "8XCJH2wod8gYpP8-d-O3vhcMtIYzV65_kqrlFaEgGA4k3LKOGx1n6ZHpoXlpWNG_UsAbikpBXdRgJ8sPieYxOs_JKSlg"
    "9H0NBRIqTm3gIzURMNCGuAv9LiVYrlHE7ZxflTs0YGCA-tS4nYlprFkbqrYOdPU4_Ti3JXJPcHWjGuSDjb8LF8Ihx8hu"
    "tZjnrp0vK0pBOEAtkoHWDD514jysc_Zf7qJTOFJ6XdGXRkBl-06zsKWA0AMXqt3SgIuF4yj32HgQ\","
    "\"p\":\"9QCVO3d2tdvI05rgVWYmxVL6TrbupdiXv414ZYwrNfC0ij5vV9hdBdMi1HzY40FIQZ65BR4w0CNPuKbLl3"
    "rpDAO6KJASclZCRe_Wkyf-pjK2tHjeaH3AcaSz38IReZNRU1mkVHRGbvfpFx9TJBvNJ2syMaHFnpmOpdQQ9uvENb8\","
    "\"q\":\"3g_xUsdwvkKg2-deywmrBHaiZw42ycgSxIdt98AtZTuX_tJGEPMxGfw9jg6w6oJtTEg_MzZOM2m_ubf3I7"
    "es0YQ7RHjZRh39_w-pvxWXI5N-vA3_h9x6uKI0TrhjQjYIDKPJRwf1kdsnzcBOGL7HqEquD_-2iVqAe2EmkTxeEGE\","
    "\"dp\":\"qCcCRZI0k5SJPVJq7bHyojPVP_klygXiAMJkA640ag0OnGNFoBELp1fF6_jUEwVXRlJdwjl6XyAdMyqnS"
    "Qw-rtRQDE71mivByKZXqyAkEoV0CGF8pFLKpjTYj5Zuz_ZgNsirlJtJTBgyjoAdXAcIwyk7hfz12WijEwV9rzsZq5k\","
    "\"dq\":\"RVznfXrsvZFkW6w20OcRM1C3Q8eN15OWQSsob2XpCCEIRkF6P1sncD15IMF4A5h_-X7rttx0qtySVbmgC"
    "dkas0tBlA7Hl35Q03YaCKT-088DnEwnEFIPR1LrUdeIsarc8s3KVlSnIUs6cKtr-ZDGHsxM-JRgeSD61w8uk9kubKE\","
    "\"qi\":\"WB1BPJG3YxQjcZmkSDL2qbdx_Ou--ylXTZ_fMfZwEGlnzmQ7-Q3NIxGS9TrfsBOLSJzPIUJuFqbwNy37M"
    "H1IKU6_8yLLYQKfL8b3WzRQDaWLWSuz1TI2EnWIyYApeCMzhutpdOzicoGOcccpp4JGkqeFpTIAvAqfBiee0ZiQr7A\"}";

static struct cred_key *parse_jwk(const char *text)
{
    json_t *doc = NULL;
    struct cred_key *key = NULL;
    struct vt_error err;
    if (vt_json_parse(text, strlen(text), 1 << 16, 4, &doc, &err) != VT_OK ||
        cred_key_parse(doc, &key, &err) != VT_OK)
        fuzz_fail("cannot load a fixed key: %s", err.msg);
    json_decref(doc);
    return key;
}

struct cred_key *fuzz_cred_key(enum cred_key_type type)
{
    fuzz_init();
    switch (type) {
    case CRED_KEY_P256:
        return parse_jwk(jwk_es256);
    case CRED_KEY_RSA:
        return parse_jwk(jwk_rs256);
    case CRED_KEY_ED25519:
        break;
    }
    struct vt_key vk;
    fuzz_key(FUZZ_KEY_ISSUER, &vk);
    struct cred_key *key = cred_key_from_vt(&vk);
    vt_key_release(&vk);
    return key;
}

/* The process-wide state behind the options: built once, never freed. */
static struct {
    struct cred_trust *trust;
    json_t *revocation;
    json_t *suspension;
} fx;

json_t *fuzz_cred_status_list_doc(const char *purpose)
{
    size_t bit = strcmp(purpose, "revocation") ? FUZZ_SUSPENDED_INDEX : FUZZ_REVOKED_INDEX;
    struct cred_key *key = fuzz_cred_key(CRED_KEY_ED25519);
    struct cred_status_list *l = NULL;
    struct vt_error err;
    char url[128], did[VT_DIDKEY_MAX];
    snprintf(url, sizeof(url), "%s/%s-0", FUZZ_STATUS_BASE, purpose);
    struct vt_key vk;
    fuzz_key(FUZZ_KEY_ISSUER, &vk);
    vt_didkey_from_public(vk.pk, did);
    vt_key_release(&vk);
    json_t *doc = NULL, *signed_doc = NULL;
    if (cred_status_list_new(CRED_STATUS_MIN_ENTRIES, &l, &err) != VT_OK ||
        cred_status_list_set(l, bit, true, &err) != VT_OK ||
        cred_status_list_credential(l, url, did, purpose, &doc, &err) != VT_OK)
        fuzz_fail("cannot build the %s list: %s", purpose, err.msg);
    json_object_set_new(doc, "validFrom", json_string(FUZZ_SIGNED_AT));
    struct cred_di_options o;
    memset(&o, 0, sizeof(o));
    o.created = FUZZ_SIGNED_AT;
    if (cred_sign_di(doc, key, &o, &signed_doc, &err) != VT_OK)
        fuzz_fail("cannot sign the %s list: %s", purpose, err.msg);
    json_decref(doc);
    cred_status_list_free(l);
    cred_key_free(key);
    return signed_doc;
}

static void build_once(void)
{
    fuzz_init();
    struct cred_key *es = fuzz_cred_key(CRED_KEY_P256);
    struct cred_key *rs = fuzz_cred_key(CRED_KEY_RSA);
    fx.trust = cred_trust_new();
    cred_trust_add_key(fx.trust, FUZZ_VM_ES256, es);
    cred_trust_add_key(fx.trust, FUZZ_VM_RS256, rs);
    fx.revocation = fuzz_cred_status_list_doc("revocation");
    fx.suspension = fuzz_cred_status_list_doc("suspension");
    cred_key_free(es);
    cred_key_free(rs);
}

static enum vt_status status_lookup(void *ctx, const char *url, json_t **doc_out,
                                    struct vt_error *err)
{
    (void)ctx;
    const char *id = vt_json_get_str(fx.revocation, "id");
    if (id && !strcmp(url, id)) {
        *doc_out = json_deep_copy(fx.revocation);
        return VT_OK;
    }
    id = vt_json_get_str(fx.suspension, "id");
    if (id && !strcmp(url, id)) {
        *doc_out = json_deep_copy(fx.suspension);
        return VT_OK;
    }
    return vt_error_set(err, VT_ERR_NOT_FOUND, "no status list at '%s'", url);
}

void fuzz_cred_verify_options(struct cred_verify_options *opt)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_once);
    cred_verify_options_init(opt);
    opt->trust = fx.trust;
    opt->now_ms = FUZZ_NOW_MS;
    opt->challenge = FUZZ_CHALLENGE;
    opt->domain = FUZZ_DOMAIN;
    opt->max_age_ms = 0;
    opt->status_lookup = status_lookup;
    opt->status_lookup_ctx = NULL;
    opt->endorsement_depth = 3;
}

void fuzz_cred_verify(const uint8_t *data, size_t size)
{
    struct cred_verify_options opt;
    fuzz_cred_verify_options(&opt);
    struct cred_result *r = NULL;
    struct vt_error err;
    enum vt_status st = cred_verify(data, size, &opt, &r, &err);
    if (!r)
        fuzz_fail("cred_verify returned no result");
    if (st != VT_OK && cred_result_verified(r))
        fuzz_fail("cred_verify failed (%s) yet the result says verified", vt_status_name(st));
    json_t *j = cred_result_to_json(r);
    if (!j)
        fuzz_fail("a result has no JSON form");
    if (cred_result_verified(r) != json_is_true(json_object_get(j, "verified")))
        fuzz_fail("the JSON form of a result disagrees with cred_result_verified");
    json_decref(j);
    cred_result_free(r);
}
