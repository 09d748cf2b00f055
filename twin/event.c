/*
 * Learning event payloads: canonical CBOR maps with text keys, the same members as JSON,
 * and the xAPI mapping. Formats: specs/twin.md §8.
 *
 * Every payload goes CBOR → JSON object → struct → CBOR, and the result must equal the
 * input byte for byte: one validator serves API input and ledger payloads, and an event
 * has exactly one encoding.
 */
#include "twin/twin_int.h"

#include <math.h>
#include <string.h>

static const char *const modality_names[TWIN_MODALITY_COUNT] = {
    "other", "text", "video", "visual", "interactive",
};

const char *twin_modality_name(unsigned m)
{
    return m < TWIN_MODALITY_COUNT ? modality_names[m] : "";
}

static const char *const kind_types[] = {
    [TWIN_EVENT_NONE] = NULL,
    [TWIN_EVENT_ATTEMPT] = "attempt",
    [TWIN_EVENT_PROGRESS] = "progress",
    [TWIN_EVENT_ASSESSMENT] = "assessment",
    [TWIN_EVENT_ENROLLMENT] = "enrollment",
    [TWIN_EVENT_ROLE] = "role",
};

static const char *const status_names[] = {"enrolled", "completed", "withdrawn"};

enum twin_event_kind twin_event_kind_of(const char *ledger_type)
{
    for (unsigned k = TWIN_EVENT_ATTEMPT; k <= TWIN_EVENT_ROLE; k++) {
        if (ledger_type != NULL && strcmp(ledger_type, kind_types[k]) == 0)
            return (enum twin_event_kind)k;
    }
    return TWIN_EVENT_NONE;
}

const char *twin_event_type(enum twin_event_kind kind)
{
    return kind <= TWIN_EVENT_ROLE ? kind_types[kind] : NULL;
}

void twin_event_init(struct twin_event *ev, enum twin_event_kind kind)
{
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    ev->attempt_no = 1;
    ev->assigned = true;
}

/* ---------------------------------------------------------------------------------------
 * Validation helpers shared with the framework and role payloads (twin_int.h).
 */

enum vt_status twin_id_check(const char *what, const char *s, size_t n, struct vt_error *err)
{
    if (n == 0 || n >= TWIN_ID_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "invalid %s: must be 1..%d bytes", what,
                            TWIN_ID_MAX - 1);
    if (vt_utf8_invalid_at(s, n) != n)
        return vt_error_set(err, VT_ERR_INVALID, "invalid %s: not UTF-8", what);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return vt_error_set(err, VT_ERR_INVALID, "invalid %s: control character", what);
    }
    return VT_OK;
}

enum vt_status twin_json_id(const json_t *obj, const char *key, bool required,
                            char out[TWIN_ID_MAX], struct vt_error *err)
{
    out[0] = '\0';
    const json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return required ? vt_error_set(err, VT_ERR_INVALID, "missing member '%s'", key) : VT_OK;
    if (!json_is_string(v))
        return vt_error_set(err, VT_ERR_INVALID, "member '%s' is not a string", key);
    size_t n = json_string_length(v);
    enum vt_status st = twin_id_check(key, json_string_value(v), n, err);
    if (st != VT_OK)
        return st;
    memcpy(out, json_string_value(v), n + 1);
    return VT_OK;
}

enum vt_status twin_json_num(const json_t *obj, const char *key, bool required, double lo,
                             double hi, bool integer, double *out, struct vt_error *err)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return required ? vt_error_set(err, VT_ERR_INVALID, "missing member '%s'", key) : VT_OK;
    if (!json_is_number(v))
        return vt_error_set(err, VT_ERR_INVALID, "member '%s' is not a number", key);
    double d = json_number_value(v);
    if (!isfinite(d) || d < lo || d > hi || (integer && d != floor(d)))
        return vt_error_set(err, VT_ERR_INVALID, "member '%s' out of range: %s in [%g, %g]", key,
                            integer ? "an integer" : "a number", lo, hi);
    *out = d;
    return VT_OK;
}

enum vt_status twin_json_only(const json_t *obj, const char *const *allowed, struct vt_error *err)
{
    if (!json_is_object(obj))
        return vt_error_set(err, VT_ERR_INVALID, "payload is not a map");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        bool ok = false;
        for (size_t i = 0; allowed[i] != NULL && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok)
            return vt_error_set(err, VT_ERR_INVALID, "unknown member '%s'", key);
    }
    return VT_OK;
}

/* A conversion that fails part-way frees the container it was building, so that no
 * error path leaves a half-built tree behind. */
static enum vt_status drop_partial(json_t **out, enum vt_status st)
{
    json_decref(*out);
    *out = NULL;
    return st;
}

/* CBOR values the payloads use (uint, float, bool, text, arrays, maps with text keys) as
 * JSON, so one validator serves both forms. */
static enum vt_status cbor_to_json(const cbor_item_t *it, unsigned depth, json_t **out,
                                   struct vt_error *err)
{
    *out = NULL;
    if (depth > 6)
        return vt_error_set(err, VT_ERR_TOO_DEEP, "payload nested too deeply");
    if (cbor_isa_uint(it)) {
        uint64_t u;
        (void)vt_cbor_get_uint(it, &u, NULL);
        if (u > ((uint64_t)1 << 53))
            return vt_error_set(err, VT_ERR_INVALID, "payload integer too large");
        *out = json_real((double)u);
    } else if (cbor_isa_float_ctrl(it) && cbor_float_ctrl_is_ctrl(it)) {
        if (!cbor_is_bool(it))
            return vt_error_set(err, VT_ERR_INVALID, "payload has a null or simple value");
        *out = json_boolean(cbor_get_bool(it));
    } else if (cbor_isa_float_ctrl(it)) {
        double d = cbor_float_get_float(it);
        if (!isfinite(d))
            return vt_error_set(err, VT_ERR_INVALID, "payload number is not finite");
        *out = json_real(d);
    } else if (cbor_isa_string(it)) {
        *out = json_stringn((const char *)cbor_string_handle(it), cbor_string_length(it));
        if (*out == NULL)
            return vt_error_set(err, VT_ERR_INVALID, "payload text is not valid UTF-8");
    } else if (cbor_isa_array(it)) {
        *out = json_array();
        for (size_t i = 0; i < cbor_array_size(it); i++) {
            json_t *e;
            cbor_item_t *c = cbor_array_get(it, i);
            enum vt_status st = cbor_to_json(c, depth + 1, &e, err);
            cbor_decref(&c);
            if (st != VT_OK)
                return drop_partial(out, st);
            json_array_append_new(*out, e);
        }
    } else if (cbor_isa_map(it)) {
        *out = json_object();
        struct cbor_pair *p = cbor_map_handle(it);
        for (size_t i = 0; i < cbor_map_size(it); i++) {
            if (!cbor_isa_string(p[i].key) || cbor_string_length(p[i].key) >= TWIN_NAME_MAX)
                return drop_partial(
                    out, vt_error_set(err, VT_ERR_INVALID, "payload map key is not a short text"));
            char key[TWIN_NAME_MAX];
            memcpy(key, cbor_string_handle(p[i].key), cbor_string_length(p[i].key));
            key[cbor_string_length(p[i].key)] = '\0';
            if (strlen(key) != cbor_string_length(p[i].key))
                return drop_partial(
                    out, vt_error_set(err, VT_ERR_INVALID, "payload map key contains NUL"));
            json_t *e;
            enum vt_status st = cbor_to_json(p[i].value, depth + 1, &e, err);
            if (st != VT_OK)
                return drop_partial(out, st);
            json_object_set_new(*out, key, e);
        }
    } else {
        return vt_error_set(err, VT_ERR_INVALID, "payload has a value of an unsupported type");
    }
    return VT_OK;
}

enum vt_status twin_payload_json(const uint8_t *p, size_t n, json_t **out, struct vt_error *err)
{
    *out = NULL;
    cbor_item_t *item = NULL;
    enum vt_status st = vt_cbor_decode(p, n, 8, &item, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "bad payload");
    json_t *j = NULL;
    st = cbor_to_json(item, 0, &j, err);
    cbor_decref(&item);
    if (st != VT_OK) {
        json_decref(j);
        return st;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        return vt_error_set(err, VT_ERR_INVALID, "payload is not a map");
    }
    *out = j;
    return VT_OK;
}

/* ---------------------------------------------------------------------------------------
 * JSON members → struct
 */

static const char *const attempt_members[] = {
    "item",    "skills", "correct", "score", "duration", "hints",
    "attempt", "course", "module",  "at",    NULL,
};
static const char *const progress_members[] = {
    "module", "course", "modality", "seconds", "completion", "at", NULL,
};
static const char *const assessment_members[] = {
    "assessment", "course", "score", "passed", "skills", "at", NULL,
};
static const char *const enrollment_members[] = {"course", "status", "at", NULL};
static const char *const role_members[] = {"role", "assigned", "at", NULL};

static enum vt_status json_skills(const json_t *obj, struct twin_event *ev, struct vt_error *err)
{
    const json_t *a = json_object_get(obj, "skills");
    if (a == NULL)
        return VT_OK;
    if (!json_is_array(a) || json_array_size(a) == 0 ||
        json_array_size(a) > TWIN_ATTEMPT_MAX_SKILLS)
        return vt_error_set(err, VT_ERR_INVALID, "member 'skills' must list 1..%d skill ids",
                            TWIN_ATTEMPT_MAX_SKILLS);
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *s = json_array_get(a, i);
        if (!json_is_string(s))
            return vt_error_set(err, VT_ERR_INVALID, "member 'skills' holds a non-string");
        enum vt_status st =
            twin_id_check("skill id", json_string_value(s), json_string_length(s), err);
        if (st != VT_OK)
            return st;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(ev->skills[j], json_string_value(s)) == 0)
                return vt_error_set(err, VT_ERR_INVALID, "skill '%s' listed twice",
                                    json_string_value(s));
        }
        memcpy(ev->skills[i], json_string_value(s), json_string_length(s) + 1);
    }
    ev->n_skills = (uint32_t)json_array_size(a);
    return VT_OK;
}

static enum vt_status json_bool(const json_t *obj, const char *key, bool *present, bool *out,
                                struct vt_error *err)
{
    const json_t *v = json_object_get(obj, key);
    *present = v != NULL;
    if (v == NULL)
        return VT_OK;
    if (!json_is_boolean(v))
        return vt_error_set(err, VT_ERR_INVALID, "member '%s' is not a boolean", key);
    *out = json_is_true(v);
    return VT_OK;
}

static enum vt_status json_u32(const json_t *obj, const char *key, uint32_t max, uint32_t *out,
                               struct vt_error *err)
{
    double d = *out;
    enum vt_status st = twin_json_num(obj, key, false, 0, max, true, &d, err);
    *out = (uint32_t)d;
    return st;
}

static enum vt_status json_attempt(const json_t *obj, struct twin_event *ev, struct vt_error *err)
{
    enum vt_status st = twin_json_id(obj, "item", false, ev->item, err);
    if (st == VT_OK)
        st = json_skills(obj, ev, err);
    if (st != VT_OK)
        return st;
    if (ev->item[0] == '\0' && ev->n_skills == 0)
        return vt_error_set(err, VT_ERR_INVALID, "attempt names neither 'item' nor 'skills'");
    bool has_correct, correct = false;
    st = json_bool(obj, "correct", &has_correct, &correct, err);
    if (st != VT_OK)
        return st;
    bool has_score = json_object_get(obj, "score") != NULL;
    if (has_correct == has_score)
        return vt_error_set(err, VT_ERR_INVALID, "attempt needs exactly one of 'correct', 'score'");
    if (has_correct) {
        ev->score = correct ? 1.0 : 0.0;
        ev->score_is_binary = true;
    } else {
        st = twin_json_num(obj, "score", true, 0.0, 1.0, false, &ev->score, err);
        if (st != VT_OK)
            return st;
    }
    st = json_u32(obj, "duration", TWIN_DURATION_MAX_MS, &ev->duration_ms, err);
    if (st == VT_OK)
        st = json_u32(obj, "hints", TWIN_HINTS_MAX, &ev->hints, err);
    if (st == VT_OK)
        st = json_u32(obj, "attempt", TWIN_ATTEMPT_NO_MAX, &ev->attempt_no, err);
    if (st == VT_OK && ev->attempt_no == 0)
        st = vt_error_set(err, VT_ERR_INVALID, "member 'attempt' counts from 1");
    if (st == VT_OK)
        st = twin_json_id(obj, "course", false, ev->course, err);
    if (st == VT_OK)
        st = twin_json_id(obj, "module", false, ev->module, err);
    return st;
}

static enum vt_status json_progress(const json_t *obj, struct twin_event *ev, struct vt_error *err)
{
    enum vt_status st = twin_json_id(obj, "module", true, ev->module, err);
    if (st == VT_OK)
        st = twin_json_id(obj, "course", false, ev->course, err);
    if (st != VT_OK)
        return st;
    const char *m = vt_json_get_str(obj, "modality");
    if (json_object_get(obj, "modality") != NULL) {
        unsigned i = 0;
        while (m != NULL && i < TWIN_MODALITY_COUNT && strcmp(m, modality_names[i]) != 0)
            i++;
        if (m == NULL || i == TWIN_MODALITY_COUNT)
            return vt_error_set(err, VT_ERR_INVALID,
                                "member 'modality' must be other, text, video, visual or "
                                "interactive");
        ev->modality = (enum twin_modality)i;
    }
    st = json_u32(obj, "seconds", TWIN_DURATION_MAX_MS / 1000, &ev->seconds, err);
    if (st == VT_OK)
        st = twin_json_num(obj, "completion", false, 0.0, 1.0, false, &ev->completion, err);
    return st;
}

static enum vt_status json_assessment(const json_t *obj, struct twin_event *ev,
                                      struct vt_error *err)
{
    enum vt_status st = twin_json_id(obj, "assessment", true, ev->assessment, err);
    if (st == VT_OK)
        st = twin_json_id(obj, "course", false, ev->course, err);
    if (st == VT_OK)
        st = twin_json_num(obj, "score", true, 0.0, 1.0, false, &ev->score, err);
    if (st == VT_OK)
        st = json_bool(obj, "passed", &ev->has_passed, &ev->passed, err);
    if (st == VT_OK)
        st = json_skills(obj, ev, err);
    return st;
}

static enum vt_status json_enrollment(const json_t *obj, struct twin_event *ev,
                                      struct vt_error *err)
{
    enum vt_status st = twin_json_id(obj, "course", true, ev->course, err);
    if (st != VT_OK || json_object_get(obj, "status") == NULL)
        return st;
    const char *s = vt_json_get_str(obj, "status");
    for (unsigned i = 0; s != NULL && i < 3; i++) {
        if (strcmp(s, status_names[i]) == 0) {
            ev->status = (enum twin_enrollment_status)i;
            return VT_OK;
        }
    }
    return vt_error_set(err, VT_ERR_INVALID,
                        "member 'status' must be enrolled, completed or withdrawn");
}

static enum vt_status json_role(const json_t *obj, struct twin_event *ev, struct vt_error *err)
{
    enum vt_status st = twin_json_id(obj, "role", true, ev->role, err);
    bool present;
    if (st == VT_OK)
        st = json_bool(obj, "assigned", &present, &ev->assigned, err);
    return st;
}

enum vt_status twin_event_from_json(enum twin_event_kind kind, const json_t *obj,
                                    struct twin_event *ev, struct vt_error *err)
{
    static const char *const *const members[] = {
        [TWIN_EVENT_ATTEMPT] = attempt_members,
        [TWIN_EVENT_PROGRESS] = progress_members,
        [TWIN_EVENT_ASSESSMENT] = assessment_members,
        [TWIN_EVENT_ENROLLMENT] = enrollment_members,
        [TWIN_EVENT_ROLE] = role_members,
    };
    twin_event_init(ev, kind);
    if (kind == TWIN_EVENT_NONE || kind > TWIN_EVENT_ROLE)
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "not a learning event kind");
    enum vt_status st = twin_json_only(obj, members[kind], err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "invalid %s", kind_types[kind]);
    double at = -1;
    st = twin_json_num(obj, "at", false, 0, 253402300799999.0, true, &at, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "invalid %s", kind_types[kind]);
    ev->has_at = at >= 0;
    ev->at_ms = ev->has_at ? (int64_t)at : 0;
    switch (kind) {
    case TWIN_EVENT_ATTEMPT:
        st = json_attempt(obj, ev, err);
        break;
    case TWIN_EVENT_PROGRESS:
        st = json_progress(obj, ev, err);
        break;
    case TWIN_EVENT_ASSESSMENT:
        st = json_assessment(obj, ev, err);
        break;
    case TWIN_EVENT_ENROLLMENT:
        st = json_enrollment(obj, ev, err);
        break;
    default:
        st = json_role(obj, ev, err);
        break;
    }
    if (st != VT_OK)
        return vt_error_prefix(err, st, "invalid %s", kind_types[kind]);
    return VT_OK;
}

/* ---------------------------------------------------------------------------------------
 * struct → canonical CBOR
 */

struct kv {
    const char *key;
    cbor_item_t *val;
};

static void kv_str(struct kv *kv, size_t *n, const char *key, const char *s)
{
    if (s[0] == '\0')
        return;
    kv[*n].key = key;
    kv[(*n)++].val = cbor_build_string(s);
}

static void kv_uint(struct kv *kv, size_t *n, const char *key, uint64_t v)
{
    kv[*n].key = key;
    kv[(*n)++].val = cbor_build_uint64(v);
}

static void kv_float(struct kv *kv, size_t *n, const char *key, double v)
{
    kv[*n].key = key;
    kv[(*n)++].val = cbor_build_float8(v);
}

static void kv_bool(struct kv *kv, size_t *n, const char *key, bool v)
{
    kv[*n].key = key;
    kv[(*n)++].val = cbor_build_bool(v);
}

static void kv_skills(struct kv *kv, size_t *n, const struct twin_event *ev)
{
    if (ev->n_skills == 0)
        return;
    cbor_item_t *a = cbor_new_definite_array(ev->n_skills);
    for (uint32_t i = 0; i < ev->n_skills; i++)
        VT_ASSERT(cbor_array_push(a, cbor_move(cbor_build_string(ev->skills[i]))));
    kv[*n].key = "skills";
    kv[(*n)++].val = a;
}

static enum vt_status kv_encode(struct kv *kv, size_t n, struct vt_buf *out, struct vt_error *err)
{
    cbor_item_t *map = cbor_new_definite_map(n);
    VT_ASSERT(map != NULL);
    for (size_t i = 0; i < n; i++)
        vt_cbor_map_put(map, cbor_build_string(kv[i].key), kv[i].val);
    enum vt_status st = vt_cbor_encode(map, out, err);
    cbor_decref(&map);
    return st;
}

enum vt_status twin_event_encode(const struct twin_event *ev, struct vt_buf *out,
                                 struct vt_error *err)
{
    /* Validating through the JSON form keeps one set of rules for every input path. */
    json_t *j = twin_event_to_json(ev);
    struct twin_event check;
    enum vt_status st = j != NULL ? twin_event_from_json(ev->kind, j, &check, err)
                                  : vt_error_set(err, VT_ERR_INVALID, "invalid event");
    json_decref(j);
    if (st != VT_OK)
        return st;
    struct kv kv[16];
    size_t n = 0;
    if (ev->has_at)
        kv_uint(kv, &n, "at", (uint64_t)ev->at_ms);
    switch (ev->kind) {
    case TWIN_EVENT_ATTEMPT:
        kv_str(kv, &n, "item", ev->item);
        kv_skills(kv, &n, ev);
        if (ev->score_is_binary)
            kv_bool(kv, &n, "correct", ev->score >= 0.5);
        else
            kv_float(kv, &n, "score", ev->score);
        kv_uint(kv, &n, "duration", ev->duration_ms);
        kv_uint(kv, &n, "hints", ev->hints);
        kv_uint(kv, &n, "attempt", ev->attempt_no);
        kv_str(kv, &n, "course", ev->course);
        kv_str(kv, &n, "module", ev->module);
        break;
    case TWIN_EVENT_PROGRESS:
        kv_str(kv, &n, "module", ev->module);
        kv_str(kv, &n, "course", ev->course);
        kv[n].key = "modality";
        kv[n++].val = cbor_build_string(modality_names[ev->modality]);
        kv_uint(kv, &n, "seconds", ev->seconds);
        kv_float(kv, &n, "completion", ev->completion);
        break;
    case TWIN_EVENT_ASSESSMENT:
        kv_str(kv, &n, "assessment", ev->assessment);
        kv_str(kv, &n, "course", ev->course);
        kv_float(kv, &n, "score", ev->score);
        if (ev->has_passed)
            kv_bool(kv, &n, "passed", ev->passed);
        kv_skills(kv, &n, ev);
        break;
    case TWIN_EVENT_ENROLLMENT:
        kv_str(kv, &n, "course", ev->course);
        kv[n].key = "status";
        kv[n++].val = cbor_build_string(status_names[ev->status]);
        break;
    default:
        kv_str(kv, &n, "role", ev->role);
        kv_bool(kv, &n, "assigned", ev->assigned);
        break;
    }
    return kv_encode(kv, n, out, err);
}

/* The JSON form of an event (the members twin_event_encode writes). NULL for a kind
 * without payload. */
json_t *twin_event_to_json(const struct twin_event *ev)
{
    if (ev->kind == TWIN_EVENT_NONE || ev->kind > TWIN_EVENT_ROLE)
        return NULL;
    json_t *j = json_object();
#define PUT_STR(k, s)                                                                              \
    do {                                                                                           \
        if ((s)[0] != '\0')                                                                        \
            json_object_set_new(j, k, json_string(s));                                             \
    } while (0)
    if (ev->has_at)
        json_object_set_new(j, "at", json_real((double)ev->at_ms));
    json_t *skills = json_array();
    for (uint32_t i = 0; i < ev->n_skills && i < TWIN_ATTEMPT_MAX_SKILLS; i++)
        json_array_append_new(skills, json_string(ev->skills[i]));
    switch (ev->kind) {
    case TWIN_EVENT_ATTEMPT:
        PUT_STR("item", ev->item);
        if (ev->score_is_binary)
            json_object_set_new(j, "correct", json_boolean(ev->score >= 0.5));
        else
            json_object_set_new(j, "score", json_real(ev->score));
        json_object_set_new(j, "duration", json_real(ev->duration_ms));
        json_object_set_new(j, "hints", json_real(ev->hints));
        json_object_set_new(j, "attempt", json_real(ev->attempt_no));
        PUT_STR("course", ev->course);
        PUT_STR("module", ev->module);
        break;
    case TWIN_EVENT_PROGRESS:
        PUT_STR("module", ev->module);
        PUT_STR("course", ev->course);
        json_object_set_new(j, "modality", json_string(twin_modality_name(ev->modality)));
        json_object_set_new(j, "seconds", json_real(ev->seconds));
        json_object_set_new(j, "completion", json_real(ev->completion));
        break;
    case TWIN_EVENT_ASSESSMENT:
        PUT_STR("assessment", ev->assessment);
        PUT_STR("course", ev->course);
        json_object_set_new(j, "score", json_real(ev->score));
        if (ev->has_passed)
            json_object_set_new(j, "passed", json_boolean(ev->passed));
        break;
    case TWIN_EVENT_ENROLLMENT:
        PUT_STR("course", ev->course);
        json_object_set_new(
            j, "status",
            json_string(ev->status <= TWIN_WITHDRAWN ? status_names[ev->status] : "?"));
        break;
    default:
        PUT_STR("role", ev->role);
        json_object_set_new(j, "assigned", json_boolean(ev->assigned));
        break;
    }
#undef PUT_STR
    if (json_array_size(skills) > 0 &&
        (ev->kind == TWIN_EVENT_ATTEMPT || ev->kind == TWIN_EVENT_ASSESSMENT))
        json_object_set_new(j, "skills", skills);
    else
        json_decref(skills);
    return j;
}

enum vt_status twin_event_decode(const char *ledger_type, const uint8_t *payload, size_t n,
                                 struct twin_event *ev, struct vt_error *err)
{
    twin_event_init(ev, TWIN_EVENT_NONE);
    if (ledger_type != NULL && strcmp(ledger_type, "xapi.statement") == 0) {
        json_t *stmt = NULL;
        enum vt_status st = vt_json_parse((const char *)payload, n, TWIN_XAPI_MAX, 32, &stmt, err);
        if (st != VT_OK)
            return vt_error_prefix(err, st, "bad xAPI statement");
        st = twin_event_from_xapi(stmt, ev, err);
        json_decref(stmt);
        return st;
    }
    enum twin_event_kind kind = twin_event_kind_of(ledger_type);
    if (kind == TWIN_EVENT_NONE)
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "event type '%s' carries no twin event",
                            ledger_type ? ledger_type : "");
    json_t *j;
    enum vt_status st = twin_payload_json(payload, n, &j, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "invalid %s", kind_types[kind]);
    st = twin_event_from_json(kind, j, ev, err);
    json_decref(j);
    if (st != VT_OK)
        return st;
    struct vt_buf again;
    vt_buf_init(&again, n + 1);
    st = twin_event_encode(ev, &again, err);
    if (st == VT_OK && (again.len != n || memcmp(again.data, payload, n) != 0))
        st = vt_error_set(err, VT_ERR_NONCANONICAL,
                          "invalid %s: payload is not the canonical encoding of its members",
                          kind_types[kind]);
    else if (st == VT_ERR_TOO_LARGE)
        st = vt_error_set(err, VT_ERR_NONCANONICAL,
                          "invalid %s: payload is not the canonical encoding of its members",
                          kind_types[kind]);
    vt_buf_release(&again);
    return st;
}
