/* xAPI statements mapped onto learning events: specs/twin.md §8.7. */
#include "twin/twin_int.h"

#include <math.h>
#include <string.h>

enum vt_status twin_iso_duration_ms(const char *s, uint32_t *ms, struct vt_error *err)
{
    /* PnDTnHnMnS; weeks, years and months are refused: their length in ms is not fixed. */
    static const struct {
        char unit;
        double ms;
        bool time;
    } units[] = {{'D', 86400e3, false}, {'H', 3600e3, true}, {'M', 60e3, true}, {'S', 1e3, true}};
    size_t n = s ? strlen(s) : 0;
    if (n < 3 || n > 64 || s[0] != 'P')
        return vt_error_set(err, VT_ERR_INVALID, "invalid duration '%.64s'", s ? s : "");
    double total = 0.0;
    size_t i = 1, next_unit = 0;
    bool in_time = false, any = false;
    while (i < n) {
        if (s[i] == 'T') {
            if (in_time || i + 1 == n)
                return vt_error_set(err, VT_ERR_INVALID, "invalid duration '%s'", s);
            in_time = true;
            next_unit = next_unit < 1 ? 1 : next_unit;
            i++;
            continue;
        }
        double v = 0.0, scale = 0.0;
        size_t digits = 0;
        while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == ',')) {
            if (s[i] == '.' || s[i] == ',') {
                if (scale != 0.0)
                    return vt_error_set(err, VT_ERR_INVALID, "invalid duration '%s'", s);
                scale = 0.1;
            } else if (scale != 0.0) {
                v += (s[i] - '0') * scale;
                scale /= 10;
            } else {
                v = v * 10 + (s[i] - '0');
            }
            digits++;
            i++;
        }
        if (digits == 0 || i == n)
            return vt_error_set(err, VT_ERR_INVALID, "invalid duration '%s'", s);
        size_t u = next_unit;
        while (u < 4 && (units[u].unit != s[i] || units[u].time != in_time))
            u++;
        if (u == 4 || (scale != 0.0 && units[u].unit != 'S'))
            return vt_error_set(err, VT_ERR_INVALID, "invalid duration '%s'", s);
        total += v * units[u].ms;
        next_unit = u + 1;
        any = true;
        i++;
    }
    if (!any)
        return vt_error_set(err, VT_ERR_INVALID, "invalid duration '%s'", s);
    *ms = total > TWIN_DURATION_MAX_MS ? TWIN_DURATION_MAX_MS : (uint32_t)llround(total);
    return VT_OK;
}

static const char *const verb_prefixes[] = {
    "http://adlnet.gov/expapi/verbs/",
    "https://adlnet.gov/expapi/verbs/",
};

static enum twin_event_kind verb_kind(const char *id, bool *passed)
{
    *passed = false;
    for (size_t p = 0; id != NULL && p < 2; p++) {
        size_t n = strlen(verb_prefixes[p]);
        if (strncmp(id, verb_prefixes[p], n) != 0)
            continue;
        const char *v = id + n;
        if (strcmp(v, "answered") == 0)
            return TWIN_EVENT_ATTEMPT;
        if (strcmp(v, "completed") == 0)
            return TWIN_EVENT_PROGRESS;
        if (strcmp(v, "passed") == 0 || strcmp(v, "failed") == 0) {
            *passed = v[0] == 'p';
            return TWIN_EVENT_ASSESSMENT;
        }
    }
    return TWIN_EVENT_NONE;
}

/* The id of the first activity in context.contextActivities.<which>, if it fits an id. */
static void context_activity(const json_t *stmt, const char *which, char out[TWIN_ID_MAX])
{
    out[0] = '\0';
    const json_t *ca = vt_json_get_obj(vt_json_get_obj(stmt, "context"), "contextActivities");
    const json_t *v = json_object_get(ca, which);
    if (json_is_array(v))
        v = json_array_get(v, 0);
    const char *id = vt_json_get_str(v, "id");
    if (id != NULL && twin_id_check("activity id", id, strlen(id), NULL) == VT_OK)
        memcpy(out, id, strlen(id) + 1);
}

enum vt_status twin_event_from_xapi(const json_t *stmt, struct twin_event *ev, struct vt_error *err)
{
    twin_event_init(ev, TWIN_EVENT_NONE);
    if (!json_is_object(stmt))
        return vt_error_set(err, VT_ERR_INVALID, "invalid xAPI statement: not an object");
    const char *verb = vt_json_get_str(vt_json_get_obj(stmt, "verb"), "id");
    if (verb == NULL)
        return vt_error_set(err, VT_ERR_INVALID, "invalid xAPI statement: no verb.id");
    bool passed;
    enum twin_event_kind kind = verb_kind(verb, &passed);
    if (kind == TWIN_EVENT_NONE)
        return VT_OK;
    const char *object = vt_json_get_str(vt_json_get_obj(stmt, "object"), "id");
    if (object == NULL)
        return vt_error_set(err, VT_ERR_INVALID, "invalid xAPI statement: no object.id");
    enum vt_status st = twin_id_check("xAPI object id", object, strlen(object), err);
    if (st != VT_OK)
        return st;
    twin_event_init(ev, kind);
    const char *ts = vt_json_get_str(stmt, "timestamp");
    if (ts != NULL) {
        st = vt_time_parse(ts, strlen(ts), &ev->at_ms, err);
        if (st != VT_OK)
            return vt_error_prefix(err, st, "invalid xAPI timestamp");
        ev->has_at = ev->at_ms >= 0;
        if (!ev->has_at)
            ev->at_ms = 0;
    }
    const json_t *result = vt_json_get_obj(stmt, "result");
    const json_t *success = json_object_get(result, "success");
    const json_t *scaled = json_object_get(vt_json_get_obj(result, "score"), "scaled");
    if (success != NULL && !json_is_boolean(success))
        return vt_error_set(err, VT_ERR_INVALID, "invalid xAPI result.success");
    double score = NAN;
    if (scaled != NULL) {
        if (!json_is_number(scaled) || !(fabs(json_number_value(scaled)) <= 1.0))
            return vt_error_set(err, VT_ERR_INVALID, "invalid xAPI result.score.scaled");
        /* scaled runs from -1; the twin's evidence scale starts at 0 (no credit). */
        score = fmax(0.0, json_number_value(scaled));
    }
    const char *duration = vt_json_get_str(result, "duration");
    uint32_t duration_ms = 0;
    if (duration != NULL) {
        st = twin_iso_duration_ms(duration, &duration_ms, err);
        if (st != VT_OK)
            return vt_error_prefix(err, st, "invalid xAPI result.duration");
    }
    context_activity(stmt, "grouping", ev->course);
    char parent[TWIN_ID_MAX];
    context_activity(stmt, "parent", parent);
    switch (kind) {
    case TWIN_EVENT_ATTEMPT: {
        memcpy(ev->item, object, strlen(object) + 1);
        memcpy(ev->module, parent, sizeof(parent));
        const json_t *ext = vt_json_get_obj(vt_json_get_obj(stmt, "context"), "extensions");
        const json_t *skills = json_object_get(ext, TWIN_XAPI_SKILLS_EXT);
        if (skills != NULL) {
            json_t *wrap = json_pack("{sO}", "skills", skills);
            struct twin_event tmp;
            json_object_set_new(wrap, "item", json_string(object));
            json_object_set_new(wrap, "score", json_real(0));
            st = twin_event_from_json(TWIN_EVENT_ATTEMPT, wrap, &tmp, err);
            json_decref(wrap);
            if (st != VT_OK)
                return vt_error_prefix(err, st, "invalid xAPI skills extension");
            memcpy(ev->skills, tmp.skills, sizeof(tmp.skills));
            ev->n_skills = tmp.n_skills;
        }
        if (!isnan(score)) {
            ev->score = score;
        } else if (success != NULL) {
            ev->score = json_is_true(success) ? 1.0 : 0.0;
            ev->score_is_binary = true;
        } else {
            return vt_error_set(err, VT_ERR_INVALID,
                                "invalid xAPI answered statement: no result.success or "
                                "result.score.scaled");
        }
        ev->duration_ms = duration_ms;
        break;
    }
    case TWIN_EVENT_PROGRESS:
        memcpy(ev->module, object, strlen(object) + 1);
        ev->completion = 1.0;
        ev->seconds = duration_ms / 1000;
        break;
    default:
        memcpy(ev->assessment, object, strlen(object) + 1);
        ev->score = !isnan(score) ? score : (passed ? 1.0 : 0.0);
        ev->has_passed = true;
        ev->passed = passed;
        break;
    }
    return VT_OK;
}
