/*
 * xAPI statement identity, storage form, comparison and output formats (xAPI Data §2.3.1,
 * Communication §2.1.3 "format"). Walks only the statement structure, so extensions are
 * never touched.
 */
#include "api/xapi.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------
 * Identity
 */

void xapi_uuid_lower(const char *uuid, char out[XAPI_UUID_LEN + 1])
{
    for (size_t i = 0; i < XAPI_UUID_LEN; i++)
        out[i] = (char)tolower((unsigned char)uuid[i]);
    out[XAPI_UUID_LEN] = '\0';
}

void xapi_uuid_new(char out[XAPI_UUID_LEN + 1])
{
    uint8_t b[16];
    vt_random_bytes(b, sizeof(b));
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

/* The mailto IRI with its domain in lower case: domains are case-insensitive (Data §2.3.1
 * b7), local parts are not. */
static void mbox_canonical(const char *mbox, char *out, size_t n)
{
    snprintf(out, n, "%s", mbox);
    char *at = strrchr(out, '@');
    for (char *q = at; q != NULL && *q; q++)
        *q = (char)tolower((unsigned char)*q);
}

static enum vt_status ifi_key(const json_t *a, char *out, size_t n, struct vt_error *err)
{
    const char *s;
    char tmp[XAPI_AGENT_KEY_MAX];
    int w;
    if ((s = vt_json_get_str(a, "mbox")) != NULL) {
        mbox_canonical(s, tmp, sizeof(tmp));
        w = snprintf(out, n, "mbox:%s", tmp);
    } else if ((s = vt_json_get_str(a, "mbox_sha1sum")) != NULL) {
        w = snprintf(out, n, "mbox_sha1sum:%s", s);
        for (char *q = out; *q; q++)
            *q = (char)tolower((unsigned char)*q);
    } else if ((s = vt_json_get_str(a, "openid")) != NULL) {
        w = snprintf(out, n, "openid:%s", s);
    } else if (vt_json_get_obj(a, "account") != NULL) {
        const json_t *acc = vt_json_get_obj(a, "account");
        const char *hp = vt_json_get_str(acc, "homePage"), *name = vt_json_get_str(acc, "name");
        if (hp == NULL || name == NULL)
            return vt_error_set(err, VT_ERR_INVALID, "invalid agent: incomplete account");
        w = snprintf(out, n, "account:%s %s", hp, name);
    } else {
        return vt_error_set(err, VT_ERR_INVALID, "invalid agent: no identifier");
    }
    if (w < 0 || (size_t)w >= n)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "agent identifier is too long");
    return VT_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

enum vt_status xapi_agent_key(const json_t *agent, char out[XAPI_AGENT_KEY_MAX],
                              struct vt_error *err)
{
    if (!json_is_object(agent))
        return vt_error_set(err, VT_ERR_INVALID, "invalid agent: not an object");
    enum vt_status st = ifi_key(agent, out, XAPI_AGENT_KEY_MAX, NULL);
    if (st == VT_OK)
        return VT_OK;
    const json_t *m = vt_json_get_arr(agent, "member");
    if (m == NULL || json_array_size(m) == 0)
        return vt_error_set(err, VT_ERR_INVALID, "invalid agent: no identifier");
    size_t k = json_array_size(m);
    if (k > 256)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "anonymous group has too many members");
    char **keys = vt_calloc(k, sizeof(char *));
    st = VT_OK;
    for (size_t i = 0; i < k && st == VT_OK; i++) {
        keys[i] = vt_malloc(XAPI_AGENT_KEY_MAX);
        st = ifi_key(json_array_get(m, i), keys[i], XAPI_AGENT_KEY_MAX, err);
    }
    if (st == VT_OK) {
        qsort(keys, k, sizeof(char *), cmp_str);
        struct vt_buf b;
        vt_buf_init(&b, XAPI_AGENT_KEY_MAX - 1);
        st = vt_buf_append_str(&b, "group:", err);
        for (size_t i = 0; i < k && st == VT_OK; i++) {
            if (i > 0)
                st = vt_buf_append_byte(&b, '|', err);
            if (st == VT_OK)
                st = vt_buf_append_str(&b, keys[i], err);
        }
        if (st == VT_OK)
            memcpy(out, b.data, b.len + 1);
        else
            st = vt_error_set(err, VT_ERR_TOO_LARGE, "anonymous group identity is too long");
        vt_buf_release(&b);
    }
    for (size_t i = 0; i < k; i++)
        free(keys[i]);
    free(keys);
    return st;
}

/* ---------------------------------------------------------------------------------------
 * One structural walk, three uses
 */

enum walk_mode {
    WALK_COMPARE,   /* strip what Data §2.3.1 lets differ */
    WALK_IDS,       /* format=ids */
    WALK_CANONICAL, /* format=canonical */
    WALK_STORE,     /* storage form: contextActivities as arrays */
};

struct walk {
    enum walk_mode mode;
    const struct xapi_activity_source *src;
    const char *const *langs;
};

static void lower_member(json_t *obj, const char *key)
{
    const char *s = vt_json_get_str(obj, key);
    if (s == NULL)
        return;
    char *d = vt_strdup(s);
    for (char *q = d; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    json_object_set_new(obj, key, json_string(d));
    free(d);
}

/* The entry of a language map that best matches the preferred tags: an exact
 * (case-insensitive) match, then one sharing the primary subtag, then the first key in
 * byte order so that the answer does not depend on hash order. */
static void langmap_filter(json_t *obj, const char *key, const char *const *langs)
{
    json_t *m = json_object_get(obj, key);
    if (!json_is_object(m) || json_object_size(m) <= 1)
        return;
    const char *best = NULL;
    for (size_t i = 0; langs != NULL && langs[i] != NULL && best == NULL; i++) {
        const char *k;
        json_t *v;
        json_object_foreach(m, k, v)
        {
            (void)v;
            if (strcasecmp(k, langs[i]) == 0)
                best = k;
        }
        size_t plen = strcspn(langs[i], "-");
        json_object_foreach(m, k, v)
        {
            if (best == NULL && strncasecmp(k, langs[i], plen) == 0 &&
                (k[plen] == '\0' || k[plen] == '-'))
                best = k;
        }
    }
    if (best == NULL) {
        const char *k;
        json_t *v;
        json_object_foreach(m, k, v)
        {
            (void)v;
            if (best == NULL || strcmp(k, best) < 0)
                best = k;
        }
    }
    json_t *one = json_object();
    json_object_set(one, best, json_object_get(m, best));
    json_object_set_new(obj, key, one);
}

static int cmp_json_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts an array of agents by their canonical JSON so that member order never matters. */
static void sort_members(json_t *arr)
{
    size_t n = json_array_size(arr);
    if (n < 2)
        return;
    char **texts = vt_calloc(n, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        texts[i] = json_dumps(json_array_get(arr, i), JSON_SORT_KEYS | JSON_COMPACT);
    qsort(texts, n, sizeof(char *), cmp_json_text);
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, json_loads(texts[i], JSON_DECODE_ANY, NULL));
        free(texts[i]);
    }
    free(texts);
}

static void walk_agent(const struct walk *w, json_t *a)
{
    if (!json_is_object(a))
        return;
    json_t *m = json_object_get(a, "member");
    if (w->mode == WALK_COMPARE) {
        if (vt_json_get_str(a, "mbox") != NULL) {
            char tmp[XAPI_AGENT_KEY_MAX];
            mbox_canonical(vt_json_get_str(a, "mbox"), tmp, sizeof(tmp));
            json_object_set_new(a, "mbox", json_string(tmp));
        }
        lower_member(a, "mbox_sha1sum");
        /* objectType "Agent" is the default and may be left out. */
        const char *ot = vt_json_get_str(a, "objectType");
        if (ot != NULL && strcmp(ot, "Agent") == 0)
            json_object_del(a, "objectType");
    } else if (w->mode == WALK_IDS) {
        bool identified = vt_json_get_str(a, "mbox") || vt_json_get_str(a, "mbox_sha1sum") ||
                          vt_json_get_str(a, "openid") || vt_json_get_obj(a, "account");
        json_object_del(a, "name");
        if (identified)
            json_object_del(a, "member");
    }
    m = json_object_get(a, "member");
    for (size_t i = 0; i < json_array_size(m); i++)
        walk_agent(w, json_array_get(m, i));
    if (w->mode == WALK_COMPARE)
        sort_members(m);
}

static void walk_definition_langs(const struct walk *w, json_t *def)
{
    langmap_filter(def, "name", w->langs);
    langmap_filter(def, "description", w->langs);
    static const char *const lists[] = {"choices", "scale", "source", "target", "steps"};
    for (size_t l = 0; l < 5; l++) {
        json_t *arr = json_object_get(def, lists[l]);
        for (size_t i = 0; i < json_array_size(arr); i++)
            langmap_filter(json_array_get(arr, i), "description", w->langs);
    }
}

static void walk_activity(const struct walk *w, json_t *a)
{
    if (!json_is_object(a))
        return;
    switch (w->mode) {
    case WALK_COMPARE: {
        json_object_del(a, "definition");
        const char *ot = vt_json_get_str(a, "objectType");
        if (ot != NULL && strcmp(ot, "Activity") == 0)
            json_object_del(a, "objectType");
        break;
    }
    case WALK_IDS:
        json_object_del(a, "definition");
        break;
    case WALK_CANONICAL: {
        const char *id = vt_json_get_str(a, "id");
        json_t *canon = (w->src != NULL && w->src->definition != NULL && id != NULL)
                            ? w->src->definition(w->src->ctx, id)
                            : NULL;
        if (canon != NULL)
            json_object_set_new(a, "definition", canon);
        json_t *def = json_object_get(a, "definition");
        if (json_is_object(def))
            walk_definition_langs(w, def);
        break;
    }
    case WALK_STORE:
        break;
    }
}

static void walk_ref(const struct walk *w, json_t *r)
{
    if (w->mode == WALK_COMPARE)
        lower_member(r, "id");
}

static void walk_statement(const struct walk *w, json_t *s);

static void walk_object(const struct walk *w, json_t *o)
{
    const char *ot = vt_json_get_str(o, "objectType");
    if (ot == NULL || strcmp(ot, "Activity") == 0)
        walk_activity(w, o);
    else if (strcmp(ot, "Agent") == 0 || strcmp(ot, "Group") == 0)
        walk_agent(w, o);
    else if (strcmp(ot, "StatementRef") == 0)
        walk_ref(w, o);
    else if (strcmp(ot, "SubStatement") == 0)
        walk_statement(w, o);
}

static void walk_context(const struct walk *w, json_t *ctx)
{
    if (!json_is_object(ctx))
        return;
    if (w->mode == WALK_COMPARE)
        lower_member(ctx, "registration");
    walk_agent(w, json_object_get(ctx, "instructor"));
    walk_agent(w, json_object_get(ctx, "team"));
    json_t *ref = json_object_get(ctx, "statement");
    if (ref != NULL)
        walk_ref(w, ref);
    json_t *ca = json_object_get(ctx, "contextActivities");
    const char *key;
    json_t *val;
    json_object_foreach(ca, key, val)
    {
        /* Data §2.4.6.2.s4.b3: every value is returned as an array. */
        if (json_is_object(val)) {
            json_t *arr = json_array();
            json_array_append(arr, val);
            json_object_set_new(ca, key, arr);
            val = arr;
        }
        for (size_t i = 0; i < json_array_size(val); i++)
            walk_activity(w, json_array_get(val, i));
    }
    json_t *cag = json_object_get(ctx, "contextAgents");
    for (size_t i = 0; i < json_array_size(cag); i++)
        walk_agent(w, json_object_get(json_array_get(cag, i), "agent"));
    json_t *cgr = json_object_get(ctx, "contextGroups");
    for (size_t i = 0; i < json_array_size(cgr); i++)
        walk_agent(w, json_object_get(json_array_get(cgr, i), "group"));
}

static void walk_statement(const struct walk *w, json_t *s)
{
    if (!json_is_object(s))
        return;
    walk_agent(w, json_object_get(s, "actor"));
    json_t *vb = json_object_get(s, "verb");
    if (w->mode == WALK_COMPARE || w->mode == WALK_IDS)
        json_object_del(vb, "display");
    else if (w->mode == WALK_CANONICAL)
        langmap_filter(vb, "display", w->langs);
    walk_object(w, json_object_get(s, "object"));
    walk_context(w, json_object_get(s, "context"));
    json_t *att = json_object_get(s, "attachments");
    if (w->mode == WALK_COMPARE) {
        json_object_del(s, "attachments");
    } else if (w->mode == WALK_CANONICAL) {
        for (size_t i = 0; i < json_array_size(att); i++) {
            langmap_filter(json_array_get(att, i), "display", w->langs);
            langmap_filter(json_array_get(att, i), "description", w->langs);
        }
    }
    if (w->mode == WALK_IDS || w->mode == WALK_CANONICAL)
        walk_agent(w, json_object_get(s, "authority"));
}

/* ---------------------------------------------------------------------------------------
 * Public entry points
 */

void xapi_statement_normalize(json_t *stmt, const char *new_id, int64_t stored_ms,
                              const json_t *authority, enum xapi_version v)
{
    char id[XAPI_UUID_LEN + 1];
    const char *given = vt_json_get_str(stmt, "id");
    if (given != NULL && xapi_is_uuid(given))
        xapi_uuid_lower(given, id);
    else
        snprintf(id, sizeof(id), "%s", new_id);
    json_object_set_new(stmt, "id", json_string(id));
    char t[XAPI_TIME_MAX];
    xapi_timestamp_format(stored_ms, t);
    json_object_set_new(stmt, "stored", json_string(t));
    if (json_object_get(stmt, "timestamp") == NULL)
        json_object_set_new(stmt, "timestamp", json_string(t));
    if (authority != NULL)
        json_object_set_new(stmt, "authority", json_deep_copy(authority));
    if (json_object_get(stmt, "version") == NULL)
        json_object_set_new(stmt, "version", json_string(v == XAPI_V2_0 ? "2.0.0" : "1.0.0"));
    struct walk w = {.mode = WALK_STORE};
    walk_statement(&w, stmt);
}

static json_t *comparable(const json_t *s, bool keep_id)
{
    json_t *c = json_deep_copy(s);
    json_object_del(c, "authority");
    json_object_del(c, "stored");
    json_object_del(c, "version");
    if (!keep_id)
        json_object_del(c, "id");
    else
        lower_member(c, "id");
    json_object_del(c, "timestamp");
    struct walk w = {.mode = WALK_COMPARE};
    walk_statement(&w, c);
    return c;
}

bool xapi_statement_equivalent(const json_t *a, const json_t *b)
{
    if (!json_is_object(a) || !json_is_object(b))
        return false;
    bool both_ids = json_object_get(a, "id") != NULL && json_object_get(b, "id") != NULL;
    const char *ta = vt_json_get_str(a, "timestamp"), *tb = vt_json_get_str(b, "timestamp");
    if (ta != NULL && tb != NULL) {
        int64_t ma, mb;
        if (!xapi_timestamp_parse(ta, &ma) || !xapi_timestamp_parse(tb, &mb) || ma != mb)
            return false;
    }
    /* The same rules apply inside a SubStatement's timestamp. */
    const json_t *oa = json_object_get(a, "object"), *ob = json_object_get(b, "object");
    ta = vt_json_get_str(oa, "timestamp");
    tb = vt_json_get_str(ob, "timestamp");
    if (ta != NULL && tb != NULL) {
        int64_t ma, mb;
        if (!xapi_timestamp_parse(ta, &ma) || !xapi_timestamp_parse(tb, &mb) || ma != mb)
            return false;
    }
    json_t *ca = comparable(a, both_ids), *cb = comparable(b, both_ids);
    json_object_del(json_object_get(ca, "object"), "timestamp");
    json_object_del(json_object_get(cb, "object"), "timestamp");
    bool eq = json_equal(ca, cb);
    json_decref(ca);
    json_decref(cb);
    return eq;
}

bool xapi_format_parse(const char *s, enum xapi_format *f)
{
    if (s == NULL)
        return false;
    if (strcmp(s, "exact") == 0)
        *f = XAPI_FORMAT_EXACT;
    else if (strcmp(s, "ids") == 0)
        *f = XAPI_FORMAT_IDS;
    else if (strcmp(s, "canonical") == 0)
        *f = XAPI_FORMAT_CANONICAL;
    else
        return false;
    return true;
}

json_t *xapi_statement_format(const json_t *stmt, enum xapi_format f,
                              const struct xapi_activity_source *src, const char *const *langs)
{
    json_t *c = json_deep_copy(stmt);
    if (f == XAPI_FORMAT_EXACT)
        return c;
    struct walk w = {
        .mode = f == XAPI_FORMAT_IDS ? WALK_IDS : WALK_CANONICAL, .src = src, .langs = langs};
    walk_statement(&w, c);
    return c;
}
