/* The vitaed fixture of fuzz_api.h. */
#include "fuzz_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct api_server *server;

static void close_server(void)
{
    api_server_close(server);
    server = NULL;
}

static void must(enum vt_status rc, const struct vt_error *err, const char *what)
{
    if (rc != VT_OK)
        fuzz_fail("fixture: %s: %s", what, err->msg);
}

static void learner_id(uint8_t learner[LEDGER_LEARNER_LEN])
{
    struct vt_error err;
    must(api_hex_learner(FUZZ_API_LEARNER_HEX, learner, &err), &err, "learner id");
}

static void append(struct api_server *s, const uint8_t learner[LEDGER_LEARNER_LEN],
                   const char *type, const uint8_t *payload, size_t len)
{
    struct ledger_append_req req;
    struct vt_error err;
    memset(&req, 0, sizeof(req));
    memcpy(req.learner, learner, sizeof(req.learner));
    req.type = type;
    req.payload = payload;
    req.payload_len = len;
    must(ledger_append(s->ledger, &req, NULL, &err), &err, "append an event");
}

static enum vt_status append_framework(void *ctx, const uint8_t *p, size_t n, struct vt_error *err)
{
    struct api_server *s = ctx;
    uint8_t chain[LEDGER_LEARNER_LEN];
    (void)err;
    api_service_chain(s, "framework", chain);
    append(s, chain, "framework", p, n);
    return VT_OK;
}

/* A framework with two skills, a role that needs one of them, and the learner's events:
 * assigned to the role, attempts on both skills, some progress. */
static void append_events(struct api_server *s)
{
    static const char csv[] = "id,name,levels,prerequisites\n"
                              "skill-0,Counting,1,\n"
                              "skill-1,Adding,2,skill-0\n";
    struct twin_framework *fw = NULL;
    struct vt_error err;
    must(twin_framework_from_csv(csv, sizeof(csv) - 1, "fw-1", "Fuzz", &fw, &err), &err,
         "make a framework");
    must(twin_framework_payloads(fw, 4096, append_framework, s, &err), &err,
         "append the framework");
    twin_framework_free(fw);

    struct twin_role_profile *rp = twin_role_profile_new("data-analyst", "Data analyst");
    snprintf(rp->req[0].skill, sizeof(rp->req[0].skill), "skill-1");
    rp->req[0].level = 1;
    rp->req[0].weight = 1;
    rp->n = 1;
    struct vt_buf payload;
    vt_buf_init(&payload, 1 << 16);
    must(twin_role_profile_encode(rp, &payload, &err), &err, "encode a role profile");
    uint8_t chain[LEDGER_LEARNER_LEN];
    api_service_chain(s, "roles", chain);
    append(s, chain, "role.profile", payload.data, payload.len);
    twin_role_profile_free(rp);

    uint8_t learner[LEDGER_LEARNER_LEN];
    learner_id(learner);
    for (unsigned i = 0; i < 6; i++) {
        struct twin_event ev;
        twin_event_init(&ev, i == 0   ? TWIN_EVENT_ROLE
                             : i == 5 ? TWIN_EVENT_PROGRESS
                                      : TWIN_EVENT_ATTEMPT);
        if (ev.kind == TWIN_EVENT_ROLE) {
            snprintf(ev.role, sizeof(ev.role), "data-analyst");
        } else if (ev.kind == TWIN_EVENT_ATTEMPT) {
            snprintf(ev.course, sizeof(ev.course), "course-1");
            snprintf(ev.item, sizeof(ev.item), "item-%u", i);
            snprintf(ev.skills[0], sizeof(ev.skills[0]), "skill-%u", i % 2);
            ev.n_skills = 1;
            ev.score = i % 2 ? 1.0 : 0.0;
            ev.score_is_binary = true;
        } else {
            snprintf(ev.course, sizeof(ev.course), "course-1");
            snprintf(ev.module, sizeof(ev.module), "module-1");
            ev.modality = TWIN_MODALITY_VIDEO;
            ev.seconds = 300;
            ev.completion = 0.5;
        }
        vt_buf_reset(&payload);
        must(twin_event_encode(&ev, &payload, &err), &err, "encode an event");
        append(s, learner, twin_event_type(ev.kind), payload.data, payload.len);
    }
    vt_buf_release(&payload);
}

static void issue_one(struct api_server *s)
{
    json_t *cred = json_pack("{s:{s:s,s:{s:s,s:s,s:s,s:{s:s}}}}", "credentialSubject", "id",
                             "did:example:learner-1", "achievement", "id",
                             "https://fuzz.example/achievements/1", "name", "Fuzzing",
                             "description", "Finds bugs", "criteria", "narrative", "Ran it");
    /* The evidence is the learner's newest event. */
    json_t *opts =
        json_pack("{s:s,s:[I],s:[s,s,s]}", "learner", FUZZ_API_LEARNER_HEX, "evidence",
                  (json_int_t)ledger_size(s->ledger) - 1, "formats", "di", "jwt", "cose");
    json_t *res = NULL;
    struct vt_error err;
    must(api_issue_credential(s, cred, opts, &res, &err), &err, "issue a credential");
    json_decref(res);
    json_decref(cred);
    json_decref(opts);
}

static void build(void)
{
    fuzz_init();
    api_log_set_level(API_LOG_ERROR);
    struct api_server *s = vt_calloc(1, sizeof(*s));
    api_config_init(&s->cfg);
    snprintf(s->cfg.data_dir, sizeof(s->cfg.data_dir), "%s/data", fuzz_tmpdir("api"));
    snprintf(s->cfg.origin, sizeof(s->cfg.origin), "%s", FUZZ_API_ORIGIN);
    s->cfg.rate = 1e12;
    s->cfg.burst = 1e12;
    s->cfg.log_level = API_LOG_ERROR;
    s->port = s->cfg.port;
    s->started_ms = vt_time_now_ms();
    atomic_init(&s->next_id, 1);
    atomic_init(&s->issuer, NULL);
    pthread_mutex_init(&s->issuer_mu, NULL);
    server = s;
    atexit(close_server);

    /* A fixed service key, so that what the server signs is the same in every run. */
    struct vt_error err;
    struct vt_key key;
    char path[API_PATH_MAX + 64];
    if (mkdir(s->cfg.data_dir, 0700) != 0)
        fuzz_fail("fixture: cannot create '%s'", s->cfg.data_dir);
    fuzz_key(FUZZ_KEY_SERVICE, &key);
    api_datadir_path(&s->cfg, "service.key", path);
    must(vt_keyfile_write(path, &key, &err), &err, "write the service key");
    vt_key_release(&key);

    must(api_datadir_open(s, &err), &err, "open the data directory");
    must(api_twin_open(s, &err), &err, "open the twin");
    s->metrics = api_metrics_new(api_method_count);
    s->rate = api_rate_new(s->cfg.rate, s->cfg.burst);
    s->challenges = api_challenges_new();
    api_did_web(&s->cfg, s->port, s->did_web, sizeof(s->did_web));
    must(cred_didweb_document(s->did_web, s->cred_key, &s->did_doc, &err), &err,
         "make the DID document");
    json_object_set_new(s->did_doc, "alsoKnownAs", json_pack("[s]", s->did_key));
    must(cred_trust_add_did_document(s->trust, s->did_doc, &err), &err, "trust the service");
    struct api_session sess;
    fuzz_api_session(&sess);
    must(api_store_add(s->store, &sess.who, &err), &err, "register the learner");
    append_events(s);
    issue_one(s);
}

struct api_server *fuzz_api_server(void)
{
    if (!server)
        build();
    return server;
}

void fuzz_api_session(struct api_session *sess)
{
    memset(sess, 0, sizeof(*sess));
    struct vt_key key;
    fuzz_key(FUZZ_KEY_HOLDER, &key);
    sess->authed = true;
    vt_didkey_from_public(key.pk, sess->who.did);
    memcpy(sess->who.pk, key.pk, sizeof(sess->who.pk));
    sess->who.roles = API_ROLE_LEARNER | API_ROLE_VERIFIER;
    snprintf(sess->who.name, sizeof(sess->who.name), "fuzz learner");
    sess->who.has_learner = true;
    learner_id(sess->who.learner);
    sess->who.created_ms = FUZZ_NOW_MS;
    vt_key_release(&key);
}

void fuzz_api_reset(struct api_server *s)
{
    api_challenges_free(s->challenges);
    s->challenges = api_challenges_new();
}

void fuzz_api_rpc(const uint8_t *data, size_t size, bool binary)
{
    struct api_server *s = fuzz_api_server();
    struct api_job *job = api_job_new(API_JOB_RPC, s->cfg.max_message, s->cfg.max_message);
    struct vt_error err;
    if (size > s->cfg.max_message || vt_buf_append(&job->in, data, size, &err) != VT_OK) {
        api_job_free(job);
        return;
    }
    job->binary = binary;
    job->conn_id = 1;
    job->id = 1;
    fuzz_api_session(&job->sess);
    api_rpc_run(s, job);

    /* Whatever the request, the answer is one well-formed message of the frame's kind. */
    if (job->out.len > API_OUT_PRE) {
        const uint8_t *p = job->out.data + API_OUT_PRE;
        size_t n = job->out.len - API_OUT_PRE;
        if (binary) {
            if (vt_cbor_check(p, n, 256, &err) != VT_OK)
                fuzz_fail("rpc answered a binary frame with bad CBOR: %s", err.msg);
        } else {
            json_t *doc = NULL;
            if (vt_json_parse((const char *)p, n, n, 1000, &doc, &err) != VT_OK)
                fuzz_fail("rpc answered a text frame with bad JSON: %s", err.msg);
            json_decref(doc);
        }
    }
    api_job_free(job);
    fuzz_api_reset(s);
}
