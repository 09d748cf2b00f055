/*
 * Writes the seed corpora of the fuzz targets: `fuzz_seeds DIR` creates DIR/<target>/<name>
 * for every target (README.md, "Corpora"). Seeds are made by the code under test itself,
 * signed with the fixed keys of fuzz.h and fuzz_cred.h, plus a few hand-made edge cases.
 * Shared vectors are not copied: the replay tests and run.sh read them in place.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_api.h"
#include "fuzz_cred.h"
#include "fuzz_tree.h"

static const char *outdir;
static size_t written;

static void put(const char *target, const char *name, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", outdir, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        fuzz_fail("cannot create '%s'", path);
    snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
        fuzz_fail("cannot write '%s'", path);
    written++;
}

static void put_str(const char *target, const char *name, const char *s)
{
    put(target, name, s, strlen(s));
}

/* A seed whose first byte is the selector sel. */
static void put_sel(const char *target, const char *name, unsigned sel, const void *p, size_t n)
{
    uint8_t *b = vt_malloc(n + 1);
    b[0] = (uint8_t)sel;
    memcpy(b + 1, p, n);
    put(target, name, b, n + 1);
    free(b);
}

static void put_hex(const char *target, const char *name, const char *hex)
{
    struct vt_buf b;
    vt_buf_init(&b, 1 << 16);
    if (vt_hex_decode(hex, strlen(hex), &b, NULL) != VT_OK)
        fuzz_fail("bad hex for %s/%s", target, name);
    put(target, name, b.data, b.len);
    vt_buf_release(&b);
}

/* The compact JSON text of doc, as the API writes it. */
static void put_json(const char *target, const char *name, const json_t *doc)
{
    struct vt_buf b;
    vt_buf_init(&b, VT_BUF_DEFAULT_MAX);
    if (cred_json_write(doc, 0, &b, NULL) != VT_OK)
        fuzz_fail("cannot write JSON for %s/%s", target, name);
    put(target, name, b.data, b.len);
    vt_buf_release(&b);
}

static void must(enum vt_status rc, const struct vt_error *err, const char *what)
{
    if (rc != VT_OK)
        fuzz_fail("%s: %s", what, err ? err->msg : vt_status_name(rc));
}

/* ---------------------------------------------------------------------------------------
 * Core: CBOR, codecs, JSON, times
 */

static void seeds_cbor(void)
{
    static const struct {
        const char *name, *hex;
    } v[] = {
        {"uint", "1817"},
        {"negint", "3903e7"},
        {"bytes", "4401020304"},
        {"text", "6449455446"},
        {"array", "83010203"},
        {"map", "a201020304"},
        {"map-text", "a26161016162820203"},
        {"tag", "c11a514b67b0"},
        {"half", "f93c00"},
        {"nan", "f97e00"},
        {"single", "fa47c35000"},
        {"double", "fb3ff199999999999a"},
        {"simple", "f5"},
        {"indefinite", "9f0102ff"},
        {"long-head", "1900ff"},
        {"unsorted", "a203000100"},
        {"duplicate", "a201000100"},
        {"truncated", "5a00010000"},
        {"trailing", "0000"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        put_hex("cbor", v[i].name, v[i].hex);
    uint8_t deep[40];
    memset(deep, 0x81, sizeof(deep));
    deep[sizeof(deep) - 1] = 0x00;
    put("cbor", "deep", deep, sizeof(deep));
}

static void seeds_codec(void)
{
    struct vt_key key;
    fuzz_key(FUZZ_KEY_ISSUER, &key);
    char mk[VT_MULTIKEY_MAX], sk[VT_MULTIKEY_MAX];
    vt_multikey_encode_public(key.pk, mk);
    vt_multikey_encode_secret(&key, sk);
    static const uint8_t bytes[] = {0, 0, 1, 2, 0xfe, 0xff, 0x80, 0x7f, 'v', 'i', 't', 'a', 'e'};
    struct vt_buf b;
    vt_buf_init(&b, 4096);
    must(vt_base58_encode(bytes, sizeof(bytes), &b, NULL), NULL, "base58");
    put_sel("codec", "base58", FUZZ_CODEC_BASE58, b.data, b.len);
    vt_buf_reset(&b);
    must(vt_base64_encode(bytes, sizeof(bytes), &b, NULL), NULL, "base64");
    put_sel("codec", "base64", FUZZ_CODEC_BASE64, b.data, b.len);
    vt_buf_reset(&b);
    must(vt_base64url_encode(bytes, sizeof(bytes), &b, NULL), NULL, "base64url");
    put_sel("codec", "base64url", FUZZ_CODEC_BASE64URL, b.data, b.len);
    vt_buf_reset(&b);
    must(vt_hex_encode(bytes, sizeof(bytes), &b, NULL), NULL, "hex");
    put_sel("codec", "hex", FUZZ_CODEC_HEX, b.data, b.len);
    put_sel("codec", "hex-upper", FUZZ_CODEC_HEX, "00FFA0", 6);
    vt_buf_reset(&b);
    must(vt_multibase_encode(VT_MULTIBASE_BASE64URL, bytes, sizeof(bytes), &b, NULL), NULL,
         "multibase");
    put_sel("codec", "multibase-u", FUZZ_CODEC_MULTIBASE, b.data, b.len);
    put_sel("codec", "multibase-z", FUZZ_CODEC_MULTIBASE, mk, strlen(mk));
    put_sel("codec", "multibase-f", FUZZ_CODEC_MULTIBASE, "f00ff", 5);
    put_sel("codec", "multikey-public", FUZZ_CODEC_MULTIKEY_PUBLIC, mk, strlen(mk));
    put_sel("codec", "multikey-secret", FUZZ_CODEC_MULTIKEY_SECRET, sk, strlen(sk));
    put_sel("codec", "multicodec", FUZZ_CODEC_MULTICODEC, mk + 1, strlen(mk) - 1);
    put_sel("codec", "multicodec-secret", FUZZ_CODEC_MULTICODEC, sk + 1, strlen(sk) - 1);
    static const char utf8[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xed\xa0\x80\xc0\xaf";
    put_sel("codec", "utf8", FUZZ_CODEC_UTF8, utf8, sizeof(utf8) - 1);
    vt_buf_release(&b);
    vt_key_release(&key);
}

static void seeds_jcs(void)
{
    put_str("jcs", "numbers",
            "[0,-0,1e21,1e-7,123456789012345680000,0.1,-1.5e-300,5e-324,"
            "1.7976931348623157e308,9007199254740993]");
    put_str("jcs", "strings",
            "{\"\\u20ac\":\"\\ud83d\\ude00\",\"a\\nb\":\"\\u001f\\\"\\\\\",\"\\u00e9\":1,"
            "\"\\ufb33\":2,\"\\ud800\\udc00\":3}");
    put_str("jcs", "nested", "{\"b\":[true,false,null,{\"z\":{},\"a\":[]}],\"a\":{\"c\":\"x\"}}");
    put_str("jcs", "duplicate", "{\"a\":1,\"a\":2}");
    put_str("jcs", "scalar", "  \"text\"  ");
}

static void seeds_time(void)
{
    static const char *const times[] = {
        "2025-01-01T00:00:00Z",          "2025-01-01T00:00:00.123+05:30",
        "0000-01-01T00:00:00Z",          "9999-12-31T23:59:59.999999-23:59",
        "2024-02-29T12:00:00.5Z",        "2023-02-29T12:00:00Z",
        "1969-12-31T23:59:59.999+00:00", "2025-13-01T00:00:00Z",
    };
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "time-%zu", i);
        put_sel("time", name, FUZZ_TIME_RFC3339, times[i], strlen(times[i]));
    }
    static const char *const durations[] = {"PT1H2M3.5S", "P1DT2H",   "PT0S",
                                            "P8D",        "PT0.001S", "P1W"};
    for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "duration-%zu", i);
        put_sel("time", name, FUZZ_TIME_DURATION, durations[i], strlen(durations[i]));
    }
}

/* ---------------------------------------------------------------------------------------
 * Ledger: envelopes, leaves, notes, proofs, tiles, bundles
 */

static void seeds_event(void)
{
    struct vt_key key;
    fuzz_key(FUZZ_KEY_LOG, &key);
    struct ledger_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.version = LEDGER_VERSION;
    memset(ev.learner, 0x22, sizeof(ev.learner));
    ev.time_ms = (uint64_t)FUZZ_NOW_MS;
    snprintf(ev.type, sizeof(ev.type), "attempt");
    memcpy(ev.author, key.pk, sizeof(ev.author));
    vt_sha256("ciphertext", 10, ev.payload_hash);
    vt_sha256("salted plaintext", 16, ev.commitment);
    snprintf(ev.origin, sizeof(ev.origin), "%s", FUZZ_NOTE_NAME);
    for (int i = 0; i < 3; i++) {
        if (i == 1) {
            ev.seq = 1;
            ev.has_prev = true;
            memset(ev.prev, 0x33, sizeof(ev.prev));
            snprintf(ev.type, sizeof(ev.type), "progress");
        } else if (i == 2) {
            ev.seq = 7;
            memcpy(ev.event_id, "lms-event-42", 12);
            ev.event_id_len = 12;
            snprintf(ev.type, sizeof(ev.type), "credential.issued");
        }
        struct vt_buf env, leaf;
        struct vt_error err;
        vt_buf_init(&env, LEDGER_LEAF_MAX);
        vt_buf_init(&leaf, LEDGER_LEAF_MAX);
        must(ledger_event_encode(&ev, &env, &err), &err, "encode an envelope");
        uint8_t sig[VT_ED25519_SIG_LEN];
        ledger_event_sign(env.data, env.len, &key, sig);
        must(ledger_leaf_encode(env.data, env.len, sig, &leaf, &err), &err, "encode a leaf");
        char name[32];
        snprintf(name, sizeof(name), "envelope-%d", i);
        put("event", name, env.data, env.len);
        put("cbor", name, env.data, env.len);
        snprintf(name, sizeof(name), "leaf-%d", i);
        put("event", name, leaf.data, leaf.len);
        put("cbor", name, leaf.data, leaf.len);
        vt_buf_release(&env);
        vt_buf_release(&leaf);
    }
    vt_key_release(&key);
}

static void seeds_proof(void)
{
    const struct ledger_hash_reader *r = fuzz_tree();
    static const struct {
        unsigned op;
        uint64_t a, b;
    } claims[] = {
        {FUZZ_PROOF_INCLUSION, 5, 1000},     {FUZZ_PROOF_INCLUSION, 0, 1},
        {FUZZ_PROOF_INCLUSION, 999, 1000},   {FUZZ_PROOF_INCLUSION, 65535, 65536},
        {FUZZ_PROOF_CONSISTENCY, 300, 1000}, {FUZZ_PROOF_CONSISTENCY, 0, 17},
        {FUZZ_PROOF_CONSISTENCY, 64, 64},    {FUZZ_PROOF_CONSISTENCY, 1, 65536},
    };
    for (size_t i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
        uint8_t buf[FUZZ_PROOF_HEADER + LEDGER_PROOF_MAX * LEDGER_HASH_LEN];
        uint8_t proof[LEDGER_PROOF_MAX][LEDGER_HASH_LEN];
        size_t n = 0;
        struct vt_error err;
        buf[0] = (uint8_t)claims[i].op;
        vt_be64_put(buf + 1, claims[i].a);
        vt_be64_put(buf + 9, claims[i].b);
        if (claims[i].op == FUZZ_PROOF_INCLUSION) {
            fuzz_tree_leaf(claims[i].a, buf + 17);
            must(ledger_prove_inclusion(r, claims[i].b, claims[i].a, proof, &n, &err), &err,
                 "inclusion proof");
        } else {
            must(ledger_tree_hash(r, claims[i].a, buf + 17, &err), &err, "old root");
            must(ledger_prove_consistency(r, claims[i].a, claims[i].b, proof, &n, &err), &err,
                 "consistency proof");
        }
        must(ledger_tree_hash(r, claims[i].b, buf + 49, &err), &err, "root");
        memcpy(buf + FUZZ_PROOF_HEADER, proof, n * LEDGER_HASH_LEN);
        char name[32];
        snprintf(name, sizeof(name), "%s-%llu-%llu",
                 claims[i].op == FUZZ_PROOF_INCLUSION ? "inclusion" : "consistency",
                 (unsigned long long)claims[i].a, (unsigned long long)claims[i].b);
        put("proof", name, buf, FUZZ_PROOF_HEADER + n * LEDGER_HASH_LEN);
    }
}

static void seeds_tile(void)
{
    static const struct {
        uint16_t size;
        const char *path;
    } t[] = {
        {0, "0/000"}, {0, "0/255"},     {1000, "0/003.p/232"}, {1000, "1/000.p/3"},
        {0, "1/000"}, {0, "2/000.p/1"}, {300, "0/001.p/44"},   {0, "0/x001/x234/067"},
        {0, "0/256"}, {5, "0/000.p/5"}, {0, "0/000.p/0"},      {0, "00/000"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        uint8_t buf[64];
        size_t n = strlen(t[i].path);
        vt_be16_put(buf, t[i].size);
        memcpy(buf + 2, t[i].path, n);
        char name[32];
        snprintf(name, sizeof(name), "tile-%zu", i);
        put("tile", name, buf, n + 2);
    }
}

/* A ledger like an exporting institution's: its checkpoints are signed notes of
 * FUZZ_NOTE_NAME by FUZZ_KEY_LOG. */
static struct ledger *open_log(void)
{
    struct vt_key key;
    fuzz_key(FUZZ_KEY_LOG, &key);
    struct ledger_options o;
    ledger_options_init(&o);
    o.key = &key;
    o.origin = FUZZ_NOTE_NAME;
    struct ledger *l = NULL;
    struct vt_error err;
    must(ledger_open(fuzz_tmpdir("seeds"), &o, &l, &err), &err, "open a ledger");
    vt_key_release(&key);
    return l;
}

static void append_twin_events(struct ledger *l, const uint8_t learner[LEDGER_LEARNER_LEN],
                               unsigned from, unsigned to)
{
    for (unsigned i = from; i < to; i++) {
        struct twin_event ev;
        twin_event_init(&ev, i % 3 == 2 ? TWIN_EVENT_PROGRESS : TWIN_EVENT_ATTEMPT);
        snprintf(ev.course, sizeof(ev.course), "course-%u", i % 2);
        if (ev.kind == TWIN_EVENT_ATTEMPT) {
            snprintf(ev.item, sizeof(ev.item), "item-%u", i);
            snprintf(ev.skills[0], sizeof(ev.skills[0]), "skill-a");
            ev.n_skills = 1;
            ev.score = 0.75;
        } else {
            snprintf(ev.module, sizeof(ev.module), "module-%u", i);
            ev.seconds = 60;
            ev.completion = 1;
        }
        struct vt_buf payload;
        struct vt_error err;
        vt_buf_init(&payload, 1 << 16);
        must(twin_event_encode(&ev, &payload, &err), &err, "encode an event");
        struct ledger_append_req req;
        memset(&req, 0, sizeof(req));
        memcpy(req.learner, learner, LEDGER_LEARNER_LEN);
        req.type = twin_event_type(ev.kind);
        req.payload = payload.data;
        req.payload_len = payload.len;
        char id[32];
        snprintf(id, sizeof(id), "seed-%02x-%u", learner[0], i);
        if (i % 2) {
            req.event_id = (const uint8_t *)id;
            req.event_id_len = strlen(id);
        }
        must(ledger_append(l, &req, NULL, &err), &err, "append");
        vt_buf_release(&payload);
    }
}

static void put_bundle(struct ledger *l, const uint8_t *learner, const uint8_t *recipient,
                       const char *name)
{
    struct vt_buf b;
    struct vt_error err;
    vt_buf_init(&b, LEDGER_BUNDLE_DEFAULT_MAX);
    must(ledger_bundle_export(l, learner, recipient, &b, &err), &err, "export a bundle");
    put("bundle", name, b.data, b.len);
    put("cbor", name, b.data, b.len);
    vt_buf_release(&b);
}

static void seeds_ledger(void)
{
    struct ledger *l = open_log();
    uint8_t a[LEDGER_LEARNER_LEN], b[LEDGER_LEARNER_LEN];
    memset(a, 0xa1, sizeof(a));
    memset(b, 0xb2, sizeof(b));
    append_twin_events(l, a, 0, 4);
    append_twin_events(l, b, 0, 3);
    put_bundle(l, a, NULL, "plain-4");

    struct vt_key recipient;
    uint8_t x_pk[VT_X25519_LEN];
    struct vt_error err;
    fuzz_key(FUZZ_KEY_RECIPIENT, &recipient);
    must(vt_key_x25519(&recipient, x_pk, NULL, &err), &err, "x25519");
    put_bundle(l, b, x_pk, "sealed-3");
    append_twin_events(l, a, 4, 6);
    put_bundle(l, a, NULL, "plain-6");

    /* Leaves as stored, and the newest checkpoint. */
    for (uint64_t i = 0; i < 3; i++) {
        struct vt_buf leaf;
        vt_buf_init(&leaf, LEDGER_LEAF_MAX);
        must(ledger_event_read(l, i * 4, &leaf, &err), &err, "read a leaf");
        char name[32];
        snprintf(name, sizeof(name), "stored-leaf-%llu", (unsigned long long)i);
        put("event", name, leaf.data, leaf.len);
        vt_buf_release(&leaf);
    }
    struct vt_buf note;
    vt_buf_init(&note, 4096);
    must(ledger_checkpoint_latest(l, &note, NULL, &err), &err, "checkpoint");
    put("note", "checkpoint", note.data, note.len);
    size_t text_len = 0;
    struct vt_key key;
    fuzz_key(FUZZ_KEY_LOG, &key);
    must(ledger_note_verify((const char *)note.data, note.len, FUZZ_NOTE_NAME, key.pk, &text_len,
                            &err),
         &err, "verify the checkpoint");
    put("note", "checkpoint-body", note.data, text_len);

    /* A cosigned note: the log's signature line, then a witness's. Each signing appends
     * "\n" and one line; the second line goes without its "\n". */
    struct vt_key witness;
    fuzz_key(FUZZ_KEY_HOLDER, &witness);
    struct vt_buf cosigned, line;
    vt_buf_init(&cosigned, 4096);
    vt_buf_init(&line, 4096);
    must(vt_buf_append(&cosigned, note.data, text_len, &err), &err, "copy");
    must(ledger_note_sign((const char *)note.data, text_len, FUZZ_NOTE_NAME, &key, &cosigned, &err),
         &err, "sign a note");
    must(ledger_note_sign((const char *)note.data, text_len, "witness.example/w1", &witness, &line,
                          &err),
         &err, "cosign a note");
    must(vt_buf_append(&cosigned, line.data + 1, line.len - 1, &err), &err, "copy");
    put("note", "cosigned", cosigned.data, cosigned.len);
    vt_buf_release(&line);
    struct vt_buf verifier;
    vt_buf_init(&verifier, 4096);
    must(ledger_note_verifier_format(FUZZ_NOTE_NAME, key.pk, &verifier, &err), &err, "vkey");
    put("note", "verifier", verifier.data, verifier.len);
    put_str("note", "extension",
            "fuzz.example/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nextra\n");
    vt_buf_release(&verifier);
    vt_buf_release(&cosigned);
    vt_buf_release(&note);
    vt_key_release(&witness);
    vt_key_release(&key);
    vt_key_release(&recipient);
    ledger_close(l);
}

/* ---------------------------------------------------------------------------------------
 * Credentials
 */

static char issuer_did[VT_DIDKEY_MAX], holder_did[VT_DIDKEY_MAX];

static json_t *status_entries(size_t rev, size_t sus)
{
    json_t *a = json_array();
    json_array_append_new(a,
                          cred_status_entry(FUZZ_STATUS_BASE "/revocation-0", rev, "revocation"));
    json_array_append_new(a,
                          cred_status_entry(FUZZ_STATUS_BASE "/suspension-0", sus, "suspension"));
    return a;
}

static json_t *badge(const char *id, const char *issuer, json_t *status)
{
    struct cred_alignment al = {
        .target_name = "Fuzzing",
        .target_url = "https://fuzz.example/skills/fuzzing",
        .target_code = "FZ-1",
        .target_framework = "Fuzz framework",
        .target_type = "CFItem",
    };
    static const char *const hashes[] = {
        "7d865e959b2466918c9863afca942d0fb89d7c9ac0c99bafc3749504ded97730"};
    static const uint64_t indexes[] = {3};
    struct cred_ledger_evidence ev = {
        .event_hashes = hashes,
        .event_count = 1,
        .checkpoint = "fuzz.example/log\n4\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        .log_origin = FUZZ_NOTE_NAME,
        .event_indexes = indexes,
    };
    struct cred_award a = {
        .id = id,
        .issuer_id = issuer,
        .issuer_name = "Fuzz University",
        .issuer_url = "https://fuzz.example",
        .valid_from = FUZZ_SIGNED_AT,
        .subject_id = holder_did,
        .achievement_id = "https://fuzz.example/achievements/1",
        .achievement_name = "Fuzzing",
        .achievement_description = "Finds crashes before users do",
        .achievement_type = "Competency",
        .criteria_narrative = "Ran a fuzzer for an hour",
        .alignments = &al,
        .alignment_count = 1,
        .result_type = "Percent",
        .result_value = "93",
        .evidence = &ev,
        .credential_status = status,
    };
    json_t *doc = NULL;
    struct vt_error err;
    must(cred_openbadge_new(&a, &doc, &err), &err, "make a badge");
    json_decref(status);
    return doc;
}

static json_t *sign_di(const json_t *doc, struct cred_key *key, const char *purpose)
{
    struct cred_di_options o;
    memset(&o, 0, sizeof(o));
    o.created = FUZZ_SIGNED_AT;
    o.proof_purpose = purpose;
    if (purpose && !strcmp(purpose, "authentication")) {
        o.challenge = FUZZ_CHALLENGE;
        o.domain = FUZZ_DOMAIN;
    }
    json_t *out = NULL;
    struct vt_error err;
    must(cred_sign_di(doc, key, &o, &out, &err), &err, "sign (Data Integrity)");
    return out;
}

static char *sign_jwt(const json_t *doc, struct cred_key *key, enum cred_jwt_shape shape,
                      const char *kid)
{
    char *jwt = NULL;
    struct vt_error err;
    must(cred_sign_jwt(doc, key, shape, kid, &jwt, &err), &err, "sign (JWT)");
    return jwt;
}

static void put_cose(const char *name, const json_t *doc, struct cred_key *key, const char *kid)
{
    struct vt_buf b, t;
    struct vt_error err;
    vt_buf_init(&b, CRED_DOC_MAX);
    vt_buf_init(&t, 2 * CRED_DOC_MAX);
    must(cred_sign_cose(doc, key, kid, &b, &err), &err, "sign (COSE)");
    put("cred_cose", name, b.data, b.len);
    must(vt_base64url_encode(b.data, b.len, &t, &err), &err, "base64url");
    char tname[64];
    snprintf(tname, sizeof(tname), "%s-text", name);
    put("cred_cose", tname, t.data, t.len);
    vt_buf_release(&b);
    vt_buf_release(&t);
}

/* The signed documents that several targets reuse. */
struct docs {
    json_t *badge;     /* DI, verifies */
    json_t *revoked;   /* DI, its revocation bit is set */
    json_t *vp;        /* a presentation of badge and a JWT, bound to the challenge */
    char *jwt;         /* badge as EdDSA vc+jwt */
    json_t *unsigned_; /* badge without proof */
};

static void seeds_credentials(struct docs *d)
{
    struct cred_key *ed = fuzz_cred_key(CRED_KEY_ED25519);
    struct cred_key *es = fuzz_cred_key(CRED_KEY_P256);
    struct cred_key *rs = fuzz_cred_key(CRED_KEY_RSA);
    struct vt_key hk;
    fuzz_key(FUZZ_KEY_HOLDER, &hk);
    struct cred_key *holder = cred_key_from_vt(&hk);
    vt_didkey_from_public(hk.pk, holder_did);
    vt_key_release(&hk);
    struct vt_key ik;
    fuzz_key(FUZZ_KEY_ISSUER, &ik);
    vt_didkey_from_public(ik.pk, issuer_did);
    vt_key_release(&ik);
    struct vt_error err;

    d->unsigned_ =
        badge("urn:uuid:00000000-0000-4000-8000-000000000001", issuer_did, status_entries(5, 5));
    d->badge = sign_di(d->unsigned_, ed, NULL);
    put_json("cred_json", "badge", d->badge);
    json_t *rev = badge("urn:uuid:00000000-0000-4000-8000-000000000002", issuer_did,
                        status_entries(FUZZ_REVOKED_INDEX, 1));
    d->revoked = sign_di(rev, ed, NULL);
    put_json("cred_json", "badge-revoked", d->revoked);
    json_t *sus = badge("urn:uuid:00000000-0000-4000-8000-000000000003", issuer_did,
                        status_entries(2, FUZZ_SUSPENDED_INDEX));
    json_t *ssus = sign_di(sus, ed, NULL);
    put_json("cred_json", "badge-suspended", ssus);
    json_t *set = sign_di(d->badge, holder, NULL);
    put_json("cred_json", "proof-set-foreign", set);
    json_t *set2 = sign_di(d->badge, ed, "assertionMethod");
    put_json("cred_json", "proof-set", set2);
    json_decref(set2);
    put_json("cred_json", "unsigned", d->unsigned_);

    json_t *end = NULL;
    must(cred_endorsement_new("urn:uuid:00000000-0000-4000-8000-000000000004", holder_did, "A peer",
                              "urn:uuid:00000000-0000-4000-8000-000000000001", "Well deserved",
                              &end, &err),
         &err, "endorsement");
    json_object_set_new(end, "validFrom", json_string(FUZZ_SIGNED_AT));
    json_t *send = sign_di(end, holder, NULL);
    put_json("cred_json", "endorsement", send);
    json_t *endorsed = json_deep_copy(d->unsigned_);
    json_object_set_new(endorsed, "endorsement", json_pack("[O]", send));
    json_t *sendorsed = sign_di(endorsed, ed, NULL);
    put_json("cred_json", "endorsed", sendorsed);

    const json_t *members[] = {d->badge};
    json_t *clr = NULL;
    must(cred_clr_new("urn:uuid:00000000-0000-4000-8000-000000000005", issuer_did,
                      "Fuzz University", holder_did, members, 1, &clr, &err),
         &err, "clr");
    json_object_set_new(clr, "validFrom", json_string(FUZZ_SIGNED_AT));
    json_t *sclr = sign_di(clr, ed, NULL);
    put_json("cred_json", "clr", sclr);

    json_t *list = fuzz_cred_status_list_doc("revocation");
    put_json("cred_json", "status-list", list);

    /* JWT and COSE forms in every algorithm. */
    d->jwt = sign_jwt(d->unsigned_, ed, CRED_JWT_VC_JOSE, NULL);
    put_str("cred_jwt", "eddsa-vc-jose", d->jwt);
    char *jwt = sign_jwt(d->unsigned_, ed, CRED_JWT_VC_CLAIM, NULL);
    put_str("cred_jwt", "eddsa-vc-claim", jwt);
    free(jwt);
    json_t *web = json_deep_copy(d->unsigned_);
    json_object_set_new(web, "issuer",
                        json_pack("{s:s,s:[s],s:s}", "id", FUZZ_DID_WEB, "type", "Profile", "name",
                                  "Fuzz University"));
    jwt = sign_jwt(web, es, CRED_JWT_VC_JOSE, FUZZ_VM_ES256);
    put_str("cred_jwt", "es256", jwt);
    free(jwt);
    jwt = sign_jwt(web, rs, CRED_JWT_VC_CLAIM, FUZZ_VM_RS256);
    put_str("cred_jwt", "rs256-vc-claim", jwt);
    free(jwt);
    put_cose("eddsa", d->unsigned_, ed, NULL);
    put_cose("es256", web, es, FUZZ_VM_ES256);
    put_cose("rs256", web, rs, FUZZ_VM_RS256);

    const json_t *vcs[] = {d->badge, json_string(d->jwt)};
    json_t *vp = NULL;
    must(cred_presentation_new(holder_did, vcs, 2, &vp, &err), &err, "presentation");
    json_decref((json_t *)vcs[1]);
    d->vp = sign_di(vp, holder, "authentication");
    put_json("cred_json", "presentation", d->vp);
    jwt = sign_jwt(vp, holder, CRED_JWT_VC_JOSE, NULL);
    put_str("cred_jwt", "presentation", jwt);
    free(jwt);

    json_decref(vp);
    json_decref(list);
    json_decref(sclr);
    json_decref(clr);
    json_decref(sendorsed);
    json_decref(endorsed);
    json_decref(send);
    json_decref(end);
    json_decref(set);
    json_decref(ssus);
    json_decref(sus);
    json_decref(rev);
    json_decref(web);
    cred_key_free(holder);
    cred_key_free(ed);
    cred_key_free(es);
    cred_key_free(rs);
}

static void seeds_status_list(void)
{
    struct cred_status_list *l = NULL;
    struct vt_buf b;
    struct vt_error err;
    must(cred_status_list_new(CRED_STATUS_MIN_ENTRIES, &l, &err), &err, "status list");
    vt_buf_init(&b, VT_BUF_DEFAULT_MAX);
    must(cred_status_list_encode(l, &b, &err), &err, "encode a list");
    put("status_list", "empty", b.data, b.len);
    for (size_t i = 0; i < CRED_STATUS_MIN_ENTRIES; i += 4099)
        must(cred_status_list_set(l, i, true, &err), &err, "set a bit");
    vt_buf_reset(&b);
    must(cred_status_list_encode(l, &b, &err), &err, "encode a list");
    put("status_list", "bits", b.data, b.len);
    put_str("status_list", "short", "uH4sIAAAAAAAAA2NgAAAAAAIAAQ");
    vt_buf_release(&b);
    cred_status_list_free(l);
}

static void seeds_didkey_and_keys(void)
{
    struct vt_key key;
    fuzz_key(FUZZ_KEY_ISSUER, &key);
    char did[VT_DIDKEY_MAX], vm[VT_DIDKEY_MAX];
    vt_didkey_from_public(key.pk, did);
    vt_didkey_vm_from_public(key.pk, vm);
    put_str("didkey", "did", did);
    put_str("didkey", "vm", vm);
    char wrong[2 * VT_DIDKEY_MAX];
    snprintf(wrong, sizeof(wrong), "%s#z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH", did);
    put_str("didkey", "wrong-fragment", wrong);
    put_str("didkey", "x25519", "did:key:z6LSeu9HkTHSfLLeUs2nnzUSNedgDUevfNQgQjQC23ZCit6F");
    put_str("didkey", "did-web", "did:web:fuzz.example%3A8443:users:alice");
    put_str("didkey", "did-web-plain", FUZZ_DID_WEB);

    /* Key files and documents. */
    char path[4096];
    snprintf(path, sizeof(path), "%s/key.json", fuzz_tmpdir("keys"));
    struct vt_error err;
    must(vt_keyfile_write(path, &key, &err), &err, "write a key file");
    struct vt_buf b;
    vt_buf_init(&b, 1 << 16);
    must(vt_buf_read_file(&b, path, &err), &err, "read a key file");
    put("key", "multikey-secret", b.data, b.len);
    vt_buf_release(&b);
    struct cred_key *keys[3] = {fuzz_cred_key(CRED_KEY_ED25519), fuzz_cred_key(CRED_KEY_P256),
                                fuzz_cred_key(CRED_KEY_RSA)};
    static const char *const names[] = {"jwk-okp", "jwk-ec", "jwk-rsa"};
    for (int i = 0; i < 3; i++) {
        json_t *jwk = cred_key_public_jwk(keys[i]);
        put_json("key", names[i], jwk);
        json_decref(jwk);
    }
    json_t *doc = NULL;
    must(cred_didweb_document(FUZZ_DID_WEB, keys[1], &doc, &err), &err, "did:web document");
    put_json("key", "did-web-es256", doc);
    json_decref(doc);
    must(cred_didweb_document(FUZZ_DID_WEB, keys[0], &doc, &err), &err, "did:web document");
    put_json("key", "did-web-ed25519", doc);
    json_decref(doc);
    must(vt_didkey_document(did, &doc, &err), &err, "did:key document");
    put_json("key", "did-key", doc);
    json_decref(doc);
    for (int i = 0; i < 3; i++)
        cred_key_free(keys[i]);
    vt_key_release(&key);
}

/* ---------------------------------------------------------------------------------------
 * Twin: events, xAPI, frameworks, role profiles
 */

static void put_twin(const char *name, const struct twin_event *ev)
{
    struct vt_buf b;
    struct vt_error err;
    vt_buf_init(&b, 1 << 16);
    must(twin_event_encode(ev, &b, &err), &err, "encode a twin event");
    put_sel("twin_event", name, (unsigned)ev->kind - 1, b.data, b.len);
    put("cbor", name, b.data, b.len);
    json_t *j = twin_event_to_json(ev);
    char *text = json_dumps(j, JSON_COMPACT);
    char jname[64];
    snprintf(jname, sizeof(jname), "%s-json", name);
    put_sel("twin_event", jname, FUZZ_TWIN_JSON_ATTEMPT + (unsigned)ev->kind - 1, text,
            strlen(text));
    free(text);
    json_decref(j);
    vt_buf_release(&b);
}

static void seeds_twin(void)
{
    struct twin_event ev;
    twin_event_init(&ev, TWIN_EVENT_ATTEMPT);
    snprintf(ev.course, sizeof(ev.course), "course-1");
    snprintf(ev.module, sizeof(ev.module), "module-2");
    snprintf(ev.item, sizeof(ev.item), "item-3");
    snprintf(ev.skills[0], sizeof(ev.skills[0]), "skill-a");
    snprintf(ev.skills[1], sizeof(ev.skills[1]), "skill-b");
    ev.n_skills = 2;
    ev.score = 1;
    ev.score_is_binary = true;
    ev.duration_ms = 12000;
    ev.hints = 1;
    ev.attempt_no = 2;
    ev.has_at = true;
    ev.at_ms = FUZZ_NOW_MS;
    put_twin("attempt", &ev);
    twin_event_init(&ev, TWIN_EVENT_PROGRESS);
    snprintf(ev.course, sizeof(ev.course), "course-1");
    snprintf(ev.module, sizeof(ev.module), "module-2");
    ev.modality = TWIN_MODALITY_INTERACTIVE;
    ev.seconds = 900;
    ev.completion = 0.25;
    put_twin("progress", &ev);
    twin_event_init(&ev, TWIN_EVENT_ASSESSMENT);
    snprintf(ev.course, sizeof(ev.course), "course-1");
    snprintf(ev.assessment, sizeof(ev.assessment), "final");
    snprintf(ev.skills[0], sizeof(ev.skills[0]), "skill-a");
    ev.n_skills = 1;
    ev.score = 0.8;
    ev.has_passed = true;
    ev.passed = true;
    put_twin("assessment", &ev);
    twin_event_init(&ev, TWIN_EVENT_ENROLLMENT);
    snprintf(ev.course, sizeof(ev.course), "course-1");
    ev.status = TWIN_COMPLETED;
    put_twin("enrollment", &ev);
    twin_event_init(&ev, TWIN_EVENT_ROLE);
    snprintf(ev.role, sizeof(ev.role), "data-analyst");
    ev.assigned = false;
    put_twin("role", &ev);

    static const char xapi[] =
        "{\"actor\":{\"mbox\":\"mailto:learner@fuzz.example\"},"
        "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/answered\"},"
        "\"object\":{\"id\":\"https://fuzz.example/items/3\",\"definition\":{\"extensions\":"
        "{\"https://fuzz.example/skills\":[\"skill-a\"]}}},"
        "\"context\":{\"contextActivities\":{\"parent\":[{\"id\":\"https://fuzz.example/"
        "courses/1\"}]}},"
        "\"result\":{\"success\":true,\"score\":{\"scaled\":0.9},\"duration\":\"PT1M30S\"},"
        "\"timestamp\":\"2025-01-01T10:00:00Z\"}";
    put_sel("twin_event", "xapi-answered", FUZZ_TWIN_XAPI, xapi, sizeof(xapi) - 1);
    put_sel("twin_event", "xapi-statement", FUZZ_TWIN_XAPI_STATEMENT, xapi, sizeof(xapi) - 1);
    static const char passed[] =
        "{\"actor\":{\"account\":{\"homePage\":\"https://lms.example\",\"name\":\"42\"}},"
        "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/passed\"},"
        "\"object\":{\"id\":\"https://fuzz.example/assessments/final\"},"
        "\"result\":{\"score\":{\"scaled\":-0.5}}}";
    put_sel("twin_event", "xapi-passed", FUZZ_TWIN_XAPI, passed, sizeof(passed) - 1);
    static const char completed[] =
        "{\"actor\":{\"mbox\":\"mailto:a@b.c\"},\"verb\":{\"id\":\"http://adlnet.gov/expapi/"
        "verbs/completed\"},\"object\":{\"id\":\"https://fuzz.example/modules/2\"}}";
    put_sel("twin_event", "xapi-completed", FUZZ_TWIN_XAPI, completed, sizeof(completed) - 1);
}

static enum vt_status put_payload(void *ctx, const uint8_t *p, size_t n, struct vt_error *err)
{
    unsigned *count = ctx;
    char name[32];
    snprintf(name, sizeof(name), "payload-%u", (*count)++);
    put_sel("framework", name, FUZZ_FW_DECODE, p, n);
    json_t *j = NULL;
    if (api_cbor_to_json(p, n, 64, &j, err) != VT_OK)
        return VT_ERR_INVALID;
    char *text = json_dumps(j, JSON_COMPACT);
    snprintf(name, sizeof(name), "json-%u", *count - 1);
    put_sel("framework", name, FUZZ_FW_JSON, text, strlen(text));
    free(text);
    json_decref(j);
    return VT_OK;
}

static void seeds_framework(void)
{
    static const char csv[] = "id,name,levels,parent,prerequisites\n"
                              "algebra,Algebra,3,,\n"
                              "linear,\"Linear, equations\",2,algebra,arithmetic\n"
                              "arithmetic,Arithmetic,1,,\n"
                              "quadratic,Quadratic,2,algebra,linear;arithmetic?\n";
    put_sel("framework", "csv", FUZZ_FW_CSV, csv, sizeof(csv) - 1);
    static const char cycle[] = "id,prerequisites\na,b\nb,a\n";
    put_sel("framework", "csv-cycle", FUZZ_FW_CSV, cycle, sizeof(cycle) - 1);
    static const char cfcase[] =
        "{\"CFDocument\":{\"identifier\":\"doc-1\",\"title\":\"Case framework\"},"
        "\"CFItems\":[{\"identifier\":\"i1\",\"fullStatement\":\"Count\"},"
        "{\"identifier\":\"i2\",\"abbreviatedStatement\":\"Add\"}],"
        "\"CFAssociations\":[{\"associationType\":\"isChildOf\",\"originNodeURI\":"
        "{\"identifier\":\"i2\"},\"destinationNodeURI\":{\"identifier\":\"doc-1\"}},"
        "{\"associationType\":\"precedes\",\"originNodeURI\":{\"identifier\":\"i1\"},"
        "\"destinationNodeURI\":{\"identifier\":\"i2\"}}]}";
    put_sel("framework", "case", FUZZ_FW_CASE, cfcase, sizeof(cfcase) - 1);
    static const char marble[] =
        "[{\"topics\":[{\"id\":\"t1\",\"name\":\"Fractions\",\"subject\":\"math\"},"
        "{\"id\":\"t2\",\"name\":\"Ratios\",\"subject\":\"math\"}]},"
        "{\"dependencies\":[{\"topicId\":\"t2\",\"prerequisiteId\":\"t1\","
        "\"strength\":\"soft\"}]}]";
    put_sel("framework", "marble", FUZZ_FW_MARBLE, marble, sizeof(marble) - 1);

    struct twin_framework *fw = NULL;
    struct vt_error err;
    must(twin_framework_from_csv(csv, sizeof(csv) - 1, "fw-1", "Seed framework", &fw, &err), &err,
         "framework");
    const char *skills[] = {"linear", "algebra"};
    must(twin_framework_add_item(fw, "item-9", skills, 2, &err), &err, "item");
    unsigned count = 0;
    must(twin_framework_payloads(fw, 4096, put_payload, &count, &err), &err, "payloads");
    twin_framework_free(fw);

    struct twin_role_profile *rp = twin_role_profile_new("data-analyst", "Data analyst");
    snprintf(rp->req[0].skill, sizeof(rp->req[0].skill), "algebra");
    rp->req[0].level = 2;
    rp->req[0].weight = 1;
    snprintf(rp->req[1].skill, sizeof(rp->req[1].skill), "linear");
    rp->req[1].level = 1.5;
    rp->req[1].weight = 0.5;
    rp->n = 2;
    struct vt_buf b;
    vt_buf_init(&b, 1 << 16);
    must(twin_role_profile_encode(rp, &b, &err), &err, "role profile");
    put_sel("framework", "role", FUZZ_FW_ROLE_DECODE, b.data, b.len);
    json_t *j = NULL;
    must(api_cbor_to_json(b.data, b.len, 64, &j, &err), &err, "role profile JSON");
    char *text = json_dumps(j, JSON_COMPACT);
    put_sel("framework", "role-json", FUZZ_FW_ROLE_JSON, text, strlen(text));
    free(text);
    json_decref(j);
    vt_buf_release(&b);
    twin_role_profile_free(rp);
}

/* ---------------------------------------------------------------------------------------
 * xAPI: statements, multipart requests, timestamps and the small checks
 */

static const char xapi_full[] =
    "{\"id\":\"FD41C918-B88B-4B20-A0A5-A4C32391AAA0\","
    "\"actor\":{\"objectType\":\"Agent\",\"name\":\"Ada\",\"mbox\":\"mailto:ada@fuzz.example\"},"
    "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/answered\",\"display\":{\"en-US\":"
    "\"answered\",\"de\":\"beantwortete\"}},"
    "\"object\":{\"objectType\":\"Activity\",\"id\":\"https://fuzz.example/items/3\","
    "\"definition\":{\"name\":{\"en-US\":\"Item 3\"},\"type\":"
    "\"http://adlnet.gov/expapi/activities/cmi.interaction\",\"interactionType\":\"choice\","
    "\"correctResponsesPattern\":[\"a[,]b\"],\"choices\":[{\"id\":\"a\",\"description\":"
    "{\"en-US\":\"A\"}},{\"id\":\"b\",\"description\":{\"en-US\":\"B\"}}],"
    "\"extensions\":{\"https://fuzz.example/skills\":[\"skill-a\"]}}},"
    "\"result\":{\"score\":{\"scaled\":0.9,\"raw\":9,\"min\":0,\"max\":10},\"success\":true,"
    "\"completion\":true,\"response\":\"a[,]b\",\"duration\":\"PT1M30.5S\"},"
    "\"context\":{\"registration\":\"ec531277-b57b-4c15-8d91-d292c5b2b8f7\","
    "\"instructor\":{\"account\":{\"homePage\":\"https://lms.fuzz.example\",\"name\":\"t1\"}},"
    "\"team\":{\"objectType\":\"Group\",\"name\":\"Team\",\"member\":[{\"mbox_sha1sum\":"
    "\"ebd31e95054c018b10727ccffd2ef2ec3a016ee9\"}]},"
    "\"contextActivities\":{\"parent\":{\"id\":\"https://fuzz.example/courses/1\"},"
    "\"grouping\":[{\"id\":\"https://fuzz.example/programs/1\"}]},"
    "\"language\":\"en-US\",\"statement\":{\"objectType\":\"StatementRef\",\"id\":"
    "\"9e13cefd-53d3-4eac-b5ed-2cf6693903bb\"},\"extensions\":{\"https://fuzz.example/x\":"
    "{\"k\":null}}},"
    "\"timestamp\":\"2025-01-01T10:00:00.123+02:00\"}";

static const char *const xapi_statements[] = {
    "{\"actor\":{\"mbox\":\"mailto:a@fuzz.example\"},\"verb\":{\"id\":"
    "\"http://adlnet.gov/expapi/verbs/completed\"},\"object\":{\"id\":"
    "\"https://fuzz.example/modules/2\"}}",
    "{\"actor\":{\"objectType\":\"Group\",\"account\":{\"homePage\":\"https://lms.fuzz.example\","
    "\"name\":\"class-7\"},\"member\":[{\"openid\":\"https://openid.fuzz.example/u1\"}]},"
    "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/attempted\"},\"object\":{\"objectType\":"
    "\"SubStatement\",\"actor\":{\"mbox\":\"mailto:b@fuzz.example\"},\"verb\":{\"id\":"
    "\"http://adlnet.gov/expapi/verbs/passed\"},\"object\":{\"objectType\":\"Agent\",\"mbox\":"
    "\"mailto:c@fuzz.example\"},\"timestamp\":\"2025-01-01T00:00:00Z\"}}",
    "{\"actor\":{\"mbox\":\"mailto:a@fuzz.example\"},\"verb\":{\"id\":"
    "\"http://adlnet.gov/expapi/verbs/voided\"},\"object\":{\"objectType\":\"StatementRef\","
    "\"id\":\"fd41c918-b88b-4b20-a0a5-a4c32391aaa0\"}}",
    "{\"actor\":{\"mbox\":\"MAILTO:a@fuzz.example\"},\"verb\":{\"id\":\"answered\"},"
    "\"object\":{\"id\":\"https://fuzz.example/items/1\"},\"Result\":{}}",
    "{\"actor\":{\"mbox\":\"mailto:a@fuzz.example\"},\"verb\":{\"id\":"
    "\"http://adlnet.gov/expapi/verbs/experienced\"},\"object\":{\"id\":"
    "\"https://fuzz.example/items/1\"},\"context\":{\"contextAgents\":[{\"objectType\":"
    "\"contextAgent\",\"agent\":{\"mbox\":\"mailto:d@fuzz.example\"},\"relevantTypes\":"
    "[\"https://fuzz.example/types/peer\"]}],\"contextGroups\":[{\"objectType\":\"contextGroup\","
    "\"group\":{\"objectType\":\"Group\",\"mbox\":\"mailto:g@fuzz.example\"}}]},"
    "\"version\":\"2.0.0\"}",
};

static void put_multipart(const char *name, const char *ctype, const char *boundary,
                          const char *stmt_json, const char *const *parts, size_t n_parts)
{
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    must(vt_buf_printf(&b, NULL, "%s\n--%s\r\nContent-Type: application/json\r\n\r\n%s", ctype,
                       boundary, stmt_json),
         NULL, "multipart");
    for (size_t i = 0; i < n_parts; i++) {
        uint8_t sha[VT_SHA256_LEN];
        struct vt_buf hex;
        vt_buf_init(&hex, 128);
        vt_sha256(parts[i], strlen(parts[i]), sha);
        must(vt_hex_encode(sha, sizeof(sha), &hex, NULL), NULL, "hex");
        must(vt_buf_printf(
                 &b, NULL,
                 "\r\n--%s\r\nContent-Type: text/plain\r\n"
                 "Content-Transfer-Encoding: binary\r\nX-Experience-API-Hash: %s\r\n\r\n%s",
                 boundary, (const char *)hex.data, parts[i]),
             NULL, "multipart");
        vt_buf_release(&hex);
    }
    must(vt_buf_printf(&b, NULL, "\r\n--%s--\r\n", boundary), NULL, "multipart");
    put("xapi_multipart", name, b.data, b.len);
    vt_buf_release(&b);
}

/* A statement with one text/plain attachment per part. */
static char *statement_with_attachments(const char *const *parts, size_t n)
{
    json_t *stmt = NULL;
    struct vt_error err;
    must(vt_json_parse(xapi_statements[0], strlen(xapi_statements[0]), 1 << 16, 16, &stmt, &err),
         &err, "statement");
    json_t *atts = json_array();
    for (size_t i = 0; i < n; i++) {
        uint8_t sha[VT_SHA256_LEN];
        struct vt_buf hex;
        vt_buf_init(&hex, 128);
        vt_sha256(parts[i], strlen(parts[i]), sha);
        must(vt_hex_encode(sha, sizeof(sha), &hex, NULL), NULL, "hex");
        json_array_append_new(atts, json_pack("{s:s,s:{s:s},s:s,s:I,s:s}", "usageType",
                                              "https://fuzz.example/attachments/notes", "display",
                                              "en-US", "Notes", "contentType", "text/plain",
                                              "length", (json_int_t)strlen(parts[i]), "sha2",
                                              (const char *)hex.data));
        vt_buf_release(&hex);
    }
    json_object_set_new(stmt, "attachments", atts);
    char *text = json_dumps(stmt, JSON_COMPACT);
    json_decref(stmt);
    return text;
}

static void seeds_xapi(void)
{
    put_sel("xapi_statement", "full-v1", 0, xapi_full, sizeof(xapi_full) - 1);
    put_sel("xapi_statement", "full-v2", 1, xapi_full, sizeof(xapi_full) - 1);
    for (size_t i = 0; i < sizeof(xapi_statements) / sizeof(xapi_statements[0]); i++) {
        for (unsigned v = 0; v < 2; v++) {
            char name[32];
            snprintf(name, sizeof(name), "statement-%zu-v%u", i, v + 1);
            put_sel("xapi_statement", name, v, xapi_statements[i], strlen(xapi_statements[i]));
        }
    }

    static const char *const parts[] = {"first attachment", "second\r\n--B0undar"};
    char *one = statement_with_attachments(parts, 1);
    char *two = statement_with_attachments(parts, 2);
    char *arr = vt_malloc(strlen(two) + 3);
    snprintf(arr, strlen(two) + 3, "[%s]", two);
    put_multipart("one", "multipart/mixed; boundary=B0undary", "B0undary", one, parts, 1);
    put_multipart("two-quoted", "Multipart/Mixed; BOUNDARY=\"a b;c\"", "a b;c", arr, parts, 2);
    put_multipart("missing-part", "multipart/mixed;boundary=x", "x", two, parts, 1);
    put_str("xapi_multipart", "no-close",
            "multipart/mixed; boundary=B0undary\n--B0undary\r\nContent-Type: application/json"
            "\r\n\r\n{}");
    free(one);
    free(two);
    free(arr);

    static const char *const texts[] = {
        "2015-11-18T12:17:00+00:00",
        "2015-11-18T12:17:00.123456Z",
        "2015-11-18T12:17:00-0500",
        "2015-11-18T12:17:00+05",
        "2015-11-18T12:17:00",
        "2015-11-18T12:17:00-00:00",
        "FD41C918-B88B-4B20-A0A5-A4C32391AAA0",
        "mailto:ada@fuzz.example",
        "https://fuzz.example/a?b=c#d",
        "en-US",
        "zh-Hant-TW",
        "P1DT1.5S",
        "ebd31e95054c018b10727ccffd2ef2ec3a016ee9",
        "7d865e959b2466918c9863afca942d0fb89d7c9ac0c99bafc3749504ded97730",
        "text/plain; charset=utf-8",
        "1.0.3",
        "2.0.0",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "xapi-%zu", i);
        put_sel("time", name, FUZZ_TIME_XAPI, texts[i], strlen(texts[i]));
    }
}

/* ---------------------------------------------------------------------------------------
 * API: JSON-RPC messages (text and CBOR) and HTTP requests
 */

static void put_rpc(const char *name, json_t *msg)
{
    put_json("rpc_json", name, msg);
    struct vt_buf b;
    struct vt_error err;
    vt_buf_init(&b, VT_BUF_DEFAULT_MAX);
    must(api_json_to_cbor(msg, &b, &err), &err, "JSON to CBOR");
    put("rpc_cbor", name, b.data, b.len);
    vt_buf_release(&b);
    json_decref(msg);
}

static json_t *call(int id, const char *method, json_t *params)
{
    json_t *m = json_pack("{s:s,s:s}", "jsonrpc", "2.0", "method", method);
    if (id >= 0)
        json_object_set_new(m, "id", json_integer(id));
    if (params)
        json_object_set_new(m, "params", params);
    return m;
}

static json_t *learner_params(void)
{
    return json_pack("{s:s}", "learner", FUZZ_API_LEARNER_HEX);
}

static void seeds_api(const struct docs *d)
{
    int id = 1;
    put_rpc("whoami", call(id++, "auth.whoami", NULL));
    put_rpc("challenge", call(id++, "auth.challenge", NULL));
    put_rpc("login-token", call(id++, "auth.login", json_pack("{s:s}", "token", "vt_nope")));
    put_rpc("login-did", call(id++, "auth.login",
                              json_pack("{s:s,s:s}", "did", holder_did, "signature",
                                        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                                        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")));
    put_rpc("checkpoint", call(id++, "ledger.checkpoint", NULL));
    put_rpc("proof-inclusion",
            call(id++, "ledger.proof", json_pack("{s:i,s:i}", "index", 1, "size", 3)));
    put_rpc("proof-consistency",
            call(id++, "ledger.proof", json_pack("{s:i,s:i}", "old_size", 2, "new_size", 4)));
    put_rpc("head", call(id++, "ledger.head", learner_params()));
    json_t *p = learner_params();
    json_object_set_new(p, "from_seq", json_integer(1));
    json_object_set_new(p, "limit", json_integer(2));
    put_rpc("read", call(id++, "ledger.read", p));
    put_rpc("verify", call(id++, "ledger.verify", learner_params()));
    put_rpc("cred-verify",
            call(id++, "credential.verify", json_pack("{s:O}", "verifiableCredential", d->badge)));
    put_rpc("cred-verify-jwt",
            call(id++, "credential.verify", json_pack("{s:s}", "credential", d->jwt)));
    put_rpc("cred-status",
            call(id++, "credential.status", json_pack("{s:i,s:i}", "list", 0, "index", 1)));
    put_rpc("cred-status-doc",
            call(id++, "credential.status", json_pack("{s:O}", "credential", d->revoked)));
    put_rpc("vp-challenge", call(id++, "presentation.challenge", NULL));
    put_rpc("vp-verify",
            call(id++, "presentation.verify",
                 json_pack("{s:O,s:{s:s,s:s}}", "verifiablePresentation", d->vp, "options",
                           "challenge", FUZZ_CHALLENGE, "domain", FUZZ_DOMAIN)));
    static const char *const reads[] = {
        "twin.get",   "twin.skills",    "twin.predictions", "twin.recommendations",
        "twin.flags", "twin.subscribe", "portable.export",  "consent.list"};
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
        put_rpc(reads[i], call(id++, reads[i], learner_params()));
    p = learner_params();
    json_object_set_new(p, "role", json_string("data-analyst"));
    put_rpc("readiness", call(id++, "readiness.report", p));
    put_rpc("framework", call(id++, "framework.get", NULL));
    put_rpc(
        "consent-grant",
        call(id++, "consent.grant",
             json_pack("{s:{s:s,s:s,s:s,s:[s,s],s:s},s:s}", "grant", "type", "VitaeConsent",
                       "learner", FUZZ_API_LEARNER_HEX, "audience", holder_did, "scope",
                       "twin.read", "ledger.read", "expires", "2030-01-01T00:00:00Z", "signature",
                       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                       "AAAAAAAAAAAAAAAAAA")));
    put_rpc("append-denied", call(id++, "ledger.append",
                                  json_pack("{s:s,s:s,s:s}", "learner", FUZZ_API_LEARNER_HEX,
                                            "type", "attempt", "payload", "oA")));
    put_rpc("notification", call(-1, "auth.whoami", NULL));
    put_rpc("batch",
            json_pack("[o,o,o]", call(1, "auth.whoami", NULL), call(-1, "ledger.checkpoint", NULL),
                      call(3, "no.such", json_pack("[i]", 1))));
    put_rpc("bad-version",
            json_pack("{s:s,s:s,s:i}", "jsonrpc", "1.0", "method", "auth.whoami", "id", 1));
    put_str("rpc_json", "empty-batch", "[]");
    put_str("rpc_json", "not-json", "{\"jsonrpc\":\"2.0\",");

    struct {
        unsigned sel;
        const char *name, *path;
        const json_t *body;
    } http[] = {
        {0, "healthz", "/healthz", NULL},
        {0, "metrics", "/metrics", NULL},
        {1, "did", "/.well-known/did.json", NULL},
        {0, "checkpoint", "/log/checkpoint", NULL},
        {0, "tile", "/log/tile/0/000.p/5", NULL},
        {0, "tile-bad", "/log/tile/0/x000/001", NULL},
        {0, "status", "/status/revocation-0", NULL},
        {2, "challenges", "/challenges", NULL},
        {2, "verify", "/credentials/verify", NULL},
        {2 | 4, "verify-ld", "/presentations/verify", NULL},
        {2, "issue", "/credentials/issue", NULL},
        {2 | 8, "verify-text", "/credentials/verify", NULL},
        {3, "other-method", "/healthz", NULL},
    };
    json_t *vc_body = json_pack("{s:O}", "verifiableCredential", d->badge);
    json_t *vp_body = json_pack("{s:O,s:{s:s,s:s}}", "verifiablePresentation", d->vp, "options",
                                "challenge", FUZZ_CHALLENGE, "domain", FUZZ_DOMAIN);
    json_t *issue_body = json_pack("{s:O}", "credential", d->unsigned_);
    http[8].body = vc_body;
    http[9].body = vp_body;
    http[10].body = issue_body;
    http[11].body = vc_body;
    for (size_t i = 0; i < sizeof(http) / sizeof(http[0]); i++) {
        struct vt_buf b;
        vt_buf_init(&b, VT_BUF_DEFAULT_MAX);
        must(vt_buf_append_byte(&b, (uint8_t)http[i].sel, NULL), NULL, "append");
        must(vt_buf_printf(&b, NULL, "%s\n", http[i].path), NULL, "append");
        if (http[i].body)
            must(cred_json_write(http[i].body, 0, &b, NULL), NULL, "append");
        put("http", http[i].name, b.data, b.len);
        vt_buf_release(&b);
    }
    json_decref(vc_body);
    json_decref(vp_body);
    json_decref(issue_body);
    put_json("jcs", "credential", d->badge);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_seeds DIR\n");
        return 64;
    }
    outdir = argv[1];
    if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "fuzz_seeds: cannot create '%s': %s\n", outdir, strerror(errno));
        return 74;
    }
    fuzz_init();
    seeds_cbor();
    seeds_codec();
    seeds_jcs();
    seeds_time();
    seeds_event();
    seeds_proof();
    seeds_tile();
    seeds_ledger();
    struct docs d;
    memset(&d, 0, sizeof(d));
    seeds_credentials(&d);
    seeds_status_list();
    seeds_didkey_and_keys();
    seeds_twin();
    seeds_framework();
    seeds_xapi();
    seeds_api(&d);
    json_decref(d.badge);
    json_decref(d.revoked);
    json_decref(d.vp);
    json_decref(d.unsigned_);
    free(d.jwt);
    printf("fuzz_seeds: wrote %zu seeds under %s\n", written, outdir);
    return 0;
}
