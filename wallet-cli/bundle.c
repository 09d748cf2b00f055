/* Offline verification of portable twin bundles: the bundle is imported into a throwaway
 * ledger, which runs every check an importing vitaed runs (ledger_bundle_import), without
 * a server and without keeping anything. */
#include "wallet-cli/wallet.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

bool cli_is_bundle(const uint8_t *p, size_t n)
{
    static const char fmt[] = LEDGER_BUNDLE_FORMAT;
    size_t flen = sizeof(fmt) - 1;
    return n > 3 + flen && (p[0] == 0xa8 || p[0] == 0xaa) && p[1] == 0x01 &&
           p[2] == (uint8_t)(0x60 + flen) && memcmp(p + 3, fmt, flen) == 0;
}

static void print_bundle(const json_t *r)
{
    const json_t *b = json_object_get(r, "bundle");
    bool ok = json_is_true(json_object_get(r, "verified"));
    printf("verified: %s\n", ok ? "yes" : "no");
    if (ok) {
        printf("learner:    %s\n", vt_json_get_str(b, "learner"));
        printf("origin:     %s\n", vt_json_get_str(b, "origin"));
        printf("signed by:  %s\n", vt_json_get_str(b, "service_key"));
        printf("events:     %lld (head seq %lld), checkpoint size %lld\n",
               (long long)json_integer_value(json_object_get(b, "events")),
               (long long)json_integer_value(json_object_get(b, "head_seq")),
               (long long)json_integer_value(json_object_get(b, "checkpoint_size")));
        printf("note: whether %s deserves trust is your decision\n",
               vt_json_get_str(b, "service_key"));
    }
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(r, "errors"), i, e)
        printf("error: %s: %s\n", vt_json_get_str(e, "title"), vt_json_get_str(e, "detail"));
}

static json_t *describe(const struct ledger_bundle_result *res, bool sealed)
{
    struct vt_buf hex, leaf;
    char did[VT_DIDKEY_MAX];
    vt_buf_init(&hex, 64);
    vt_buf_init(&leaf, 128);
    (void)vt_hex_encode(res->learner, LEDGER_LEARNER_LEN, &hex, NULL);
    (void)vt_hex_encode(res->head_leaf, LEDGER_HASH_LEN, &leaf, NULL);
    vt_didkey_from_public(res->service_key, did);
    json_t *b = json_pack(
        "{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:s,s:b}", "learner", (const char *)hex.data, "origin",
        res->origin, "service_key", did, "checkpoint_size", (json_int_t)res->checkpoint_size,
        "events", (json_int_t)res->events, "payloads", (json_int_t)res->payloads, "head_seq",
        (json_int_t)res->head_seq, "head_leaf_hash", (const char *)leaf.data, "sealed", sealed);
    vt_buf_release(&hex);
    vt_buf_release(&leaf);
    return b;
}

int cli_verify_bundle(struct cli *cli, const uint8_t *bundle, size_t n, const uint8_t *x25519_sk)
{
    bool sealed = n > 0 && bundle[0] == 0xaa;
    if (sealed && x25519_sk == NULL)
        return cli_fail(cli, EXIT_DATAERR,
                        "the bundle's payloads are sealed to a recipient; if that is this "
                        "wallet, add --unseal");
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX], ldir[PATH_MAX + 16];
    snprintf(dir, sizeof(dir), "%s/vitae-verify-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        return cli_fail(cli, EXIT_IOERR, "cannot create a temporary directory in '%s'",
                        tmp != NULL && *tmp ? tmp : "/tmp");
    snprintf(ldir, sizeof(ldir), "%s/ledger", dir);
    /* The scratch ledger needs a key and a KEK of its own; neither outlives this call. */
    struct vt_key key;
    uint8_t kek[32];
    vt_key_generate(&key);
    vt_random_bytes(kek, sizeof(kek));
    struct ledger_options o;
    ledger_options_init(&o);
    o.key = &key;
    o.kek = kek;
    o.map_size = (size_t)64 << 20;
    if (n > o.bundle_max)
        o.bundle_max = n;
    struct ledger *l = NULL;
    struct ledger_bundle_result res;
    struct vt_error err;
    memset(&res, 0, sizeof(res));
    if (cli_progress_enabled(cli)) {
        fprintf(stderr, "verifying a bundle of %zu KiB...", n >> 10);
        fflush(stderr);
    }
    enum vt_status st = ledger_open(ldir, &o, &l, &err);
    if (st == VT_OK)
        st = ledger_bundle_import(l, bundle, n, x25519_sk, &res, &err);
    ledger_close(l);
    vt_key_release(&key);
    sodium_memzero(kek, sizeof(kek));
    cli_rmtree(dir);
    cli_progress_end(cli);
    json_t *errors = json_array();
    json_t *r = json_pack("{s:b,s:[s],s:[],s:o}", "verified", st == VT_OK, "checks", "bundle",
                          "warnings", "errors", errors);
    if (st == VT_OK) {
        json_object_set_new(r, "bundle", describe(&res, sealed));
        cli_set_result(cli, r, print_bundle);
        return EXIT_OK;
    }
    json_array_append_new(
        errors, json_pack("{s:s,s:s,s:s}", "type", vt_status_name(st), "title",
                          st == VT_ERR_VERIFY ? "bundle does not verify" : "malformed bundle",
                          "detail", err.msg));
    if (st == VT_ERR_VERIFY || st == VT_ERR_CONFLICT) {
        cli_set_result(cli, r, print_bundle);
        cli_error(cli->cmd->name, "the bundle does not verify: %s", err.msg);
        return EXIT_NOT_VALID;
    }
    json_decref(r);
    return cli_fail(cli, cli_exit_code(st), "cannot verify the bundle: %s", err.msg);
}
