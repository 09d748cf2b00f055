/*
 * The method table and the one place where authorization is decided. specs/api.md §6
 * prints this table; tests compare the two (api_authz_markdown).
 */
#include <string.h>

#include "api/api_int.h"

#define R_ADMIN API_ROLE_ADMIN
#define R_SOURCE API_ROLE_SOURCE
#define R_LEARNER API_ROLE_LEARNER
#define R_VERIFIER API_ROLE_VERIFIER
#define R_REVIEWER API_ROLE_REVIEWER
#define R_HR API_ROLE_HR
#define R_READERS (R_VERIFIER | R_REVIEWER | R_HR | R_SOURCE)

const struct api_method api_methods[] = {
    {"auth.challenge", api_m_auth_challenge, 0, API_M_PUBLIC, 0, 0,
     "a nonce to sign for auth.login"},
    {"auth.login", api_m_auth_login, 0, API_M_PUBLIC, 0, 0,
     "log in by signed challenge (did:key) or bearer token"},
    {"auth.whoami", api_m_auth_whoami, 0, API_M_PUBLIC, 0, 0, "the connection's principal"},
    {"ledger.append", api_m_ledger_append, R_ADMIN | R_SOURCE, API_M_CBOR, 0, 0,
     "append one event (durable before the answer)"},
    {"ledger.append_batch", api_m_ledger_append_batch, R_ADMIN | R_SOURCE, API_M_CBOR, 0, 0,
     "append up to 65,536 events in one group commit"},
    {"ledger.read", api_m_ledger_read, R_ADMIN, API_M_LEARNER, R_READERS, API_SCOPE_LEDGER_READ,
     "a learner's events with payloads"},
    {"ledger.head", api_m_ledger_head, R_ADMIN, API_M_LEARNER, R_READERS, API_SCOPE_LEDGER_READ,
     "the head of a learner's chain"},
    {"ledger.verify", api_m_ledger_verify, R_ADMIN, API_M_LEARNER, R_READERS, API_SCOPE_LEDGER_READ,
     "verify a learner's chain under the newest checkpoint"},
    {"ledger.proof", api_m_ledger_proof, 0, API_M_PUBLIC, 0, 0, "inclusion or consistency proof"},
    {"ledger.checkpoint", api_m_ledger_checkpoint, 0, API_M_PUBLIC, 0, 0,
     "the newest signed checkpoint"},
    {"credential.issue", api_m_credential_issue, R_ADMIN, 0, 0, 0,
     "issue an Open Badges credential with a status slot and a ledger record"},
    {"credential.verify", api_m_credential_verify, 0, API_M_PUBLIC, 0, 0,
     "verify a credential (VC-API result)"},
    {"credential.revoke", api_m_credential_revoke, R_ADMIN, 0, 0, 0,
     "revoke an issued credential (final)"},
    {"credential.suspend", api_m_credential_suspend, R_ADMIN, 0, 0, 0,
     "suspend an issued credential"},
    {"credential.unsuspend", api_m_credential_unsuspend, R_ADMIN, 0, 0, 0, "lift a suspension"},
    {"credential.status", api_m_credential_status, 0, API_M_PUBLIC, 0, 0,
     "the revocation and suspension bits of an issued credential"},
    {"presentation.challenge", api_m_presentation_challenge, 0, API_M_PUBLIC, 0, 0,
     "a single-use presentation challenge"},
    {"presentation.verify", api_m_presentation_verify, 0, API_M_PUBLIC, 0, 0,
     "verify a presentation bound to a challenge"},
    {"endorsement.create", api_m_endorsement_create, R_ADMIN | R_REVIEWER, 0, 0, 0,
     "record a signed endorsement in a learner's record"},
    {"twin.get", api_m_twin_get, R_ADMIN, API_M_LEARNER, R_READERS, API_SCOPE_TWIN_READ,
     "a learner's twin: counts, skills with evidence, mastered, courses"},
    {"twin.skills", api_m_twin_skills, R_ADMIN, API_M_LEARNER, R_READERS, API_SCOPE_TWIN_READ,
     "mastery per skill with expected attempts to mastery"},
    {"twin.predictions", api_m_twin_predictions, R_ADMIN, API_M_LEARNER, R_READERS,
     API_SCOPE_TWIN_READ, "P(correct) next, per skill or item, and at-risk per course"},
    {"twin.recommendations", api_m_twin_recommendations, R_ADMIN, API_M_LEARNER, R_READERS,
     API_SCOPE_TWIN_READ, "weak prerequisites, remediation paths and interventions"},
    {"twin.flags", api_m_twin_flags, R_ADMIN, API_M_LEARNER, R_READERS, API_SCOPE_TWIN_READ,
     "behaviour flags with their triggering events"},
    {"twin.subscribe", api_m_twin_subscribe, R_ADMIN, API_M_LEARNER, R_READERS, API_SCOPE_TWIN_READ,
     "twin.changed notifications for a learner on this connection"},
    {"framework.import", api_m_framework_import, R_ADMIN, 0, 0, 0,
     "import a competency framework (CSV, CASE 1.0, JSON) as ledger events"},
    {"framework.get", api_m_framework_get, API_ROLES_ALL, 0, 0, 0,
     "skills, prerequisites and BKT parameters"},
    {"readiness.role_define", api_m_readiness_role_define, R_ADMIN | R_HR, 0, 0, 0,
     "define a role profile (required skills and levels)"},
    {"readiness.report", api_m_readiness_report, R_ADMIN, API_M_LEARNER, R_READERS,
     API_SCOPE_TWIN_READ, "one person's readiness for a role, with gaps and evidence"},
    {"readiness.team", api_m_readiness_team, R_ADMIN | R_HR, 0, 0, 0,
     "aggregate readiness of the people assigned to a role"},
    {"portable.export", api_m_portable_export, R_ADMIN, API_M_LEARNER, R_READERS, API_SCOPE_EXPORT,
     "a learner's portable twin bundle"},
    {"portable.import", api_m_portable_import, R_ADMIN, 0, 0, 0,
     "verify and import a portable twin bundle from another institution"},
    {"consent.grant", api_m_consent_grant, API_ROLES_ALL, 0, 0, 0,
     "record a consent grant signed by the learner's wallet key"},
    {"consent.revoke", api_m_consent_revoke, R_ADMIN, API_M_LEARNER, 0, 0,
     "revoke one of the learner's grants"},
    {"consent.list", api_m_consent_list, R_ADMIN, API_M_LEARNER, 0, 0, "a learner's grants"},
    {"admin.principal_create", api_m_admin_principal_create, R_ADMIN, 0, 0, 0,
     "register a principal (did:key and roles)"},
    {"admin.token_create", api_m_admin_token_create, R_ADMIN, 0, 0, 0,
     "a bearer token for a principal (shown once)"},
    {"admin.key_rotate", api_m_admin_key_rotate, R_ADMIN, 0, 0, 0,
     "rotate the ledger's key-encryption key"},
    {"admin.erase_learner", api_m_admin_erase_learner, R_ADMIN, 0, 0, 0,
     "crypto-shred a learner's payloads"},
    {"admin.stats", api_m_admin_stats, R_ADMIN, 0, 0, 0, "counts and sizes"},
};

const size_t api_method_count = sizeof(api_methods) / sizeof(api_methods[0]);

const struct api_method *api_method_find(const char *name, size_t *index)
{
    for (size_t i = 0; i < api_method_count; i++) {
        if (!strcmp(api_methods[i].name, name)) {
            if (index)
                *index = i;
            return &api_methods[i];
        }
    }
    return NULL;
}

enum vt_status api_authz_check(struct api_server *s, const struct api_method *m,
                               const struct api_session *sess, const json_t *params,
                               struct vt_error *err)
{
    if (m->flags & API_M_PUBLIC)
        return VT_OK;
    if (!sess->authed)
        return vt_error_set(err, VT_ERR_PERMISSION, "not authenticated");
    unsigned roles = sess->who.roles;
    if (roles & m->roles)
        return VT_OK;
    if (m->flags & API_M_LEARNER) {
        uint8_t learner[LEDGER_LEARNER_LEN];
        enum vt_status rc = api_param_learner(params, learner, err);
        if (rc != VT_OK)
            return rc;
        if ((roles & API_ROLE_LEARNER) && sess->who.has_learner &&
            !memcmp(sess->who.learner, learner, sizeof(learner)))
            return VT_OK;
        if ((roles & m->consent_roles) && api_consents_allow(s->consents, learner, sess->who.did,
                                                             m->consent_scope, vt_time_now_ms()))
            return VT_OK;
        if (roles & (m->consent_roles | API_ROLE_LEARNER))
            return vt_error_set(err, VT_ERR_PERMISSION,
                                "no consent from this learner covers '%s' for you", m->name);
    }
    return vt_error_set(err, VT_ERR_PERMISSION, "your roles do not allow '%s'", m->name);
}

enum vt_status api_authz_markdown(struct vt_buf *out, struct vt_error *err)
{
    enum vt_status rc = vt_buf_append_str(
        out,
        "| method | anonymous | admin | source | learner | verifier | reviewer | hr |\n"
        "|---|---|---|---|---|---|---|---|\n",
        err);
    for (size_t i = 0; i < api_method_count && rc == VT_OK; i++) {
        const struct api_method *m = &api_methods[i];
        rc = vt_buf_printf(out, err, "| `%s` | %s |", m->name,
                           (m->flags & API_M_PUBLIC) ? "yes" : "");
        for (unsigned r = 0; r < API_ROLE_COUNT && rc == VT_OK; r++) {
            unsigned bit = 1u << r;
            const char *cell = "";
            if ((m->flags & API_M_PUBLIC) || (m->roles & bit))
                cell = "yes";
            else if ((m->flags & API_M_LEARNER) && bit == API_ROLE_LEARNER)
                cell = "own";
            else if ((m->flags & API_M_LEARNER) && (m->consent_roles & bit))
                cell = "consent";
            rc = vt_buf_printf(out, err, " %s |", cell);
        }
        if (rc == VT_OK)
            rc = vt_buf_append_str(out, "\n", err);
    }
    return rc;
}
