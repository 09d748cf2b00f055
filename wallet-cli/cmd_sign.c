/* vitae sign: secure a credential or presentation with Data Integrity, JWT or COSE. */
#include "wallet-cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

enum format { FORMAT_DI, FORMAT_JWT, FORMAT_COSE };

struct sign_args {
    const char *key;
    enum format format;
    const char *alg;
    bool vc_claim;
    struct cred_di_options di;
    const char *input;
};

static int parse_args(int argc, char **argv, struct sign_args *a)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"format", required_argument, NULL, 'f'},
        {"alg", required_argument, NULL, 'a'},
        {"created", required_argument, NULL, 'c'},
        {"verification-method", required_argument, NULL, 'm'},
        {"purpose", required_argument, NULL, 'p'},
        {"challenge", required_argument, NULL, 'C'},
        {"domain", required_argument, NULL, 'D'},
        {"vc-claim", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const struct cli_command *cmd = cli_find("sign");
    int c;
    while ((c = getopt_long(argc, argv, "hk:f:", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            a->key = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "di") == 0) {
                a->format = FORMAT_DI;
            } else if (strcmp(optarg, "jwt") == 0) {
                a->format = FORMAT_JWT;
            } else if (strcmp(optarg, "cose") == 0) {
                a->format = FORMAT_COSE;
            } else {
                cli_error("sign", "unknown format '%s' (di, jwt, cose)", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'a':
            a->alg = optarg;
            break;
        case 'c':
            a->di.created = optarg;
            break;
        case 'm':
            a->di.verification_method = optarg;
            break;
        case 'p':
            a->di.proof_purpose = optarg;
            break;
        case 'C':
            a->di.challenge = optarg;
            break;
        case 'D':
            a->di.domain = optarg;
            break;
        case 'V':
            a->vc_claim = true;
            break;
        case 'h':
            cli_usage(cmd, stdout);
            return EXIT_OK;
        default:
            cli_usage(cmd, stderr);
            return EXIT_USAGE;
        }
    }
    if (a->key == NULL || optind != argc - 1) {
        cli_error("sign", a->key == NULL ? "--key is required" : "exactly one FILE or - expected");
        cli_usage(cmd, stderr);
        return EXIT_USAGE;
    }
    a->input = argv[optind];
    return -1;
}

static int emit(const struct sign_args *a, const json_t *doc, struct cred_key *key)
{
    struct vt_error err;
    enum vt_status st;
    struct vt_buf out;
    vt_buf_init(&out, (size_t)4 * CRED_DOC_MAX);
    if (a->format == FORMAT_DI) {
        json_t *signed_doc = NULL;
        st = cred_sign_di(doc, key, &a->di, &signed_doc, &err);
        if (st == VT_OK)
            st = cred_json_write(signed_doc, 2, &out, &err);
        json_decref(signed_doc);
    } else if (a->format == FORMAT_JWT) {
        char *jwt = NULL;
        st = cred_sign_jwt(doc, key, a->vc_claim ? CRED_JWT_VC_CLAIM : CRED_JWT_VC_JOSE,
                           a->di.verification_method, &jwt, &err);
        if (st == VT_OK)
            st = vt_buf_append_str(&out, jwt, &err);
        free(jwt);
    } else {
        struct vt_buf cose;
        vt_buf_init(&cose, (size_t)2 * CRED_DOC_MAX);
        st = cred_sign_cose(doc, key, a->di.verification_method, &cose, &err);
        if (st == VT_OK)
            st = vt_base64url_encode(cose.data, cose.len, &out, &err);
        vt_buf_release(&cose);
    }
    int rc = EXIT_OK;
    if (st != VT_OK) {
        cli_error("sign", "%s", err.msg);
        rc = cli_exit_code(st);
    } else if (!cli_write(out.data, out.len, true)) {
        cli_error("sign", "cannot write the result: output error");
        rc = EXIT_IOERR;
    }
    vt_buf_release(&out);
    return rc;
}

int cmd_sign(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    struct sign_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    struct vt_error err;
    struct cred_key *key = NULL;
    enum vt_status st = cred_key_read(a.key, &key, &err);
    if (st != VT_OK) {
        cli_error("sign", "%s", err.msg);
        return cli_exit_code(st);
    }
    if (!cred_key_has_secret(key)) {
        cli_error("sign", "key '%s' has no secret part", a.key);
        cred_key_free(key);
        return EXIT_DATAERR;
    }
    if (a.alg != NULL) {
        enum cred_alg alg;
        if (cred_alg_parse(a.alg, &alg, &err) != VT_OK) {
            cli_error("sign", "%s (EdDSA, ES256, RS256)", err.msg);
            cred_key_free(key);
            return EXIT_USAGE;
        }
        if (alg != cred_key_alg(key)) {
            cli_error("sign", "--alg %s does not match the key in '%s', which signs %s", a.alg,
                      a.key, cred_alg_name(cred_key_alg(key)));
            cred_key_free(key);
            return EXIT_USAGE;
        }
    }
    if (a.format == FORMAT_DI && cred_key_type(key) != CRED_KEY_ED25519) {
        cli_error("sign", "--format di (eddsa-jcs-2022) needs an Ed25519 key; use --format jwt "
                          "or cose for ES256 and RS256");
        cred_key_free(key);
        return EXIT_USAGE;
    }
    struct vt_buf in;
    st = cli_read_input(a.input, &in, &err);
    json_t *doc = NULL;
    if (st == VT_OK)
        st = vt_json_parse((const char *)in.data, in.len, CRED_DOC_MAX, VT_JSON_MAX_DEPTH, &doc,
                           &err);
    vt_buf_release(&in);
    if (st == VT_OK && !json_is_object(doc))
        st = vt_error_set(&err, VT_ERR_INVALID, "'%s' is not a JSON object", a.input);
    if (st != VT_OK) {
        cli_error("sign", "%s", err.msg);
        json_decref(doc);
        cred_key_free(key);
        return cli_exit_code(st);
    }
    rc = emit(&a, doc, key);
    json_decref(doc);
    cred_key_free(key);
    return rc;
}
