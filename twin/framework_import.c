/* Framework imports: CSV, 1EdTech CASE 1.0 packages and the Marble taxonomy. */
#include "twin/twin_int.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------
 * CSV (RFC 4180)
 */

#define CSV_MAX_FIELDS 16
#define CSV_FIELD_MAX 4096

struct csv {
    const char *p, *end;
    size_t line;
    size_t rec_line; /* line where the last record started */
    char field[CSV_MAX_FIELDS][CSV_FIELD_MAX];
    size_t n_fields;
};

/* Reads one record into c->field; false at the end of input. */
static enum vt_status csv_record(struct csv *c, bool *got, struct vt_error *err)
{
    *got = false;
    while (c->p < c->end && (*c->p == '\r' || *c->p == '\n')) {
        if (*c->p == '\n')
            c->line++;
        c->p++;
    }
    if (c->p >= c->end)
        return VT_OK;
    c->rec_line = c->line;
    c->n_fields = 0;
    for (;;) {
        if (c->n_fields == CSV_MAX_FIELDS)
            return vt_error_set(err, VT_ERR_INVALID, "line %zu: more than %d fields", c->line,
                                CSV_MAX_FIELDS);
        char *f = c->field[c->n_fields++];
        size_t n = 0;
        bool quoted = c->p < c->end && *c->p == '"';
        if (quoted)
            c->p++;
        while (c->p < c->end) {
            char ch = *c->p;
            if (quoted && ch == '"') {
                if (c->p + 1 < c->end && c->p[1] == '"') {
                    c->p++;
                } else {
                    quoted = false;
                    c->p++;
                    continue;
                }
            } else if (!quoted && (ch == ',' || ch == '\n' || ch == '\r')) {
                break;
            } else if (ch == '\n') {
                c->line++;
            }
            if (n + 1 >= CSV_FIELD_MAX)
                return vt_error_set(err, VT_ERR_INVALID, "line %zu: field over %d bytes", c->line,
                                    CSV_FIELD_MAX - 1);
            f[n++] = *c->p++;
        }
        if (quoted)
            return vt_error_set(err, VT_ERR_INVALID, "line %zu: unterminated quote", c->line);
        f[n] = '\0';
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        break;
    }
    *got = true;
    return VT_OK;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

enum vt_status twin_framework_from_csv(const char *text, size_t n, const char *id, const char *name,
                                       struct twin_framework **out, struct vt_error *err)
{
    *out = NULL;
    struct twin_framework *fw;
    enum vt_status st = twin_framework_new(id, name, &fw, err);
    if (st != VT_OK)
        return st;
    struct csv *c = vt_calloc(1, sizeof(*c));
    c->p = text;
    c->end = text + n;
    c->line = 1;
    enum { COL_ID, COL_NAME, COL_LEVELS, COL_PARENT, COL_PREREQ, N_COLS };
    static const char *const names[N_COLS] = {"id", "name", "levels", "parent", "prerequisites"};
    int col[N_COLS] = {-1, -1, -1, -1, -1};
    bool got;
    st = csv_record(c, &got, err);
    if (st == VT_OK && !got)
        st = vt_error_set(err, VT_ERR_INVALID, "empty CSV: a header line is required");
    for (size_t i = 0; st == VT_OK && i < c->n_fields; i++) {
        size_t k = 0;
        char *h = trim(c->field[i]);
        while (k < N_COLS && strcmp(h, names[k]) != 0)
            k++;
        if (k == N_COLS)
            st = vt_error_set(err, VT_ERR_INVALID, "line 1: unknown column '%.64s'", h);
        else if (col[k] >= 0)
            st = vt_error_set(err, VT_ERR_INVALID, "line 1: column '%s' twice", h);
        else
            col[k] = (int)i;
    }
    if (st == VT_OK && col[COL_ID] < 0)
        st = vt_error_set(err, VT_ERR_INVALID, "line 1: no 'id' column");
    while (st == VT_OK) {
        st = csv_record(c, &got, err);
        if (st != VT_OK || !got)
            break;
        size_t line = c->rec_line;
        const char *v[N_COLS];
        for (size_t k = 0; k < N_COLS; k++) {
            v[k] = "";
            if (col[k] >= 0 && (size_t)col[k] < c->n_fields)
                v[k] = trim(c->field[col[k]]);
        }
        unsigned long levels = 1;
        if (v[COL_LEVELS][0] != '\0') {
            char *e;
            levels = strtoul(v[COL_LEVELS], &e, 10);
            if (*e != '\0' || levels == 0 || levels > TWIN_LEVELS_MAX)
                st = vt_error_set(err, VT_ERR_INVALID, "line %zu: levels must be 1..%u", line,
                                  TWIN_LEVELS_MAX);
        }
        if (st == VT_OK)
            st = twin_framework_add_skill(fw, v[COL_ID], v[COL_NAME], (uint32_t)levels,
                                          v[COL_PARENT], err);
        char pre[CSV_FIELD_MAX];
        memcpy(pre, v[COL_PREREQ], strlen(v[COL_PREREQ]) + 1);
        for (char *save = NULL, *tok = strtok_r(pre, ";", &save); st == VT_OK && tok != NULL;
             tok = strtok_r(NULL, ";", &save)) {
            tok = trim(tok);
            size_t tl = strlen(tok);
            bool hard = true;
            if (tl > 0 && tok[tl - 1] == '?') {
                hard = false;
                tok[--tl] = '\0';
                tok = trim(tok);
            }
            if (tok[0] != '\0')
                st = twin_framework_add_edge(fw, v[COL_ID], tok, hard, err);
        }
        if (st != VT_OK)
            vt_error_prefix(err, st, "line %zu", line);
    }
    free(c);
    if (st == VT_OK)
        st = twin_framework_check(fw, err);
    if (st != VT_OK) {
        twin_framework_free(fw);
        return vt_error_prefix(err, st, "cannot import CSV framework");
    }
    *out = fw;
    return VT_OK;
}

/* ---------------------------------------------------------------------------------------
 * 1EdTech CASE 1.0
 */

static const char *node_id(const json_t *node)
{
    return vt_json_get_str(node, "identifier");
}

enum vt_status twin_framework_from_case(const json_t *doc, struct twin_framework **out,
                                        struct vt_error *err)
{
    *out = NULL;
    const json_t *cfdoc = vt_json_get_obj(doc, "CFDocument");
    const char *doc_id = node_id(cfdoc);
    const json_t *items = vt_json_get_arr(doc, "CFItems");
    if (doc_id == NULL || items == NULL)
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot import CASE package: no CFDocument.identifier or CFItems");
    char title[TWIN_NAME_MAX] = "";
    const char *t = vt_json_get_str(cfdoc, "title");
    if (t != NULL) {
        size_t tl = strlen(t);
        if (tl >= TWIN_NAME_MAX) {
            tl = TWIN_NAME_MAX - 1;
            while (tl > 0 && ((unsigned char)t[tl] & 0xc0) == 0x80)
                tl--;
        }
        memcpy(title, t, tl);
        title[tl] = '\0';
    }
    struct twin_framework *fw;
    enum vt_status st = twin_framework_new(doc_id, title, &fw, err);
    for (size_t i = 0; st == VT_OK && i < json_array_size(items); i++) {
        const json_t *it = json_array_get(items, i);
        const char *id = node_id(it);
        const char *name = vt_json_get_str(it, "abbreviatedStatement");
        if (name == NULL)
            name = vt_json_get_str(it, "fullStatement");
        if (id == NULL)
            st = vt_error_set(err, VT_ERR_INVALID, "CFItems[%zu] has no identifier", i);
        else
            st = twin_framework_add_skill(fw, id, name ? name : "", 1, NULL, err);
    }
    const json_t *assoc = vt_json_get_arr(doc, "CFAssociations");
    for (size_t i = 0; st == VT_OK && i < json_array_size(assoc); i++) {
        const json_t *a = json_array_get(assoc, i);
        const char *type = vt_json_get_str(a, "associationType");
        const char *origin = node_id(vt_json_get_obj(a, "originNodeURI"));
        const char *dest = node_id(vt_json_get_obj(a, "destinationNodeURI"));
        if (type == NULL || origin == NULL || dest == NULL) {
            st = vt_error_set(err, VT_ERR_INVALID,
                              "CFAssociations[%zu] lacks associationType or node identifiers", i);
            break;
        }
        if (strcmp(type, "isChildOf") == 0) {
            if (strcmp(dest, doc_id) == 0)
                continue;
            uint32_t k = twin_dict_find(&fw->index, origin, strlen(origin));
            if (k == UINT32_MAX) {
                st = vt_error_set(err, VT_ERR_NOT_FOUND,
                                  "dangling isChildOf: unknown CFItem '%.64s'", origin);
            } else if (fw->skills[k].parent[0] == '\0') {
                st = twin_id_check("parent id", dest, strlen(dest), err);
                if (st == VT_OK)
                    memcpy(fw->skills[k].parent, dest, strlen(dest) + 1);
            }
        } else if (strcmp(type, "precedes") == 0) {
            st = twin_framework_add_edge(fw, dest, origin, true, err);
        }
    }
    if (st == VT_OK)
        st = twin_framework_check(fw, err);
    if (st != VT_OK) {
        twin_framework_free(fw);
        return vt_error_prefix(err, st, "cannot import CASE package");
    }
    *out = fw;
    return VT_OK;
}

/* ---------------------------------------------------------------------------------------
 * Marble Skill Taxonomy v1
 */

enum vt_status twin_framework_from_marble(const json_t *topics, const json_t *deps,
                                          const char *subject, struct twin_framework **out,
                                          struct vt_error *err)
{
    *out = NULL;
    const json_t *ts = vt_json_get_arr(topics, "topics");
    const json_t *ds = vt_json_get_arr(deps, "dependencies");
    if (ts == NULL || ds == NULL)
        return vt_error_set(err, VT_ERR_INVALID,
                            "cannot import Marble taxonomy: no 'topics' or 'dependencies'");
    struct twin_framework *fw;
    enum vt_status st =
        twin_framework_new("marble-skill-taxonomy-v1", "Marble Skill Taxonomy v1", &fw, err);
    for (size_t i = 0; st == VT_OK && i < json_array_size(ts); i++) {
        const json_t *t = json_array_get(ts, i);
        const char *sub = vt_json_get_str(t, "subject");
        if (subject != NULL && (sub == NULL || strcmp(sub, subject) != 0))
            continue;
        const char *id = vt_json_get_str(t, "id"), *name = vt_json_get_str(t, "name");
        if (id == NULL)
            st = vt_error_set(err, VT_ERR_INVALID, "topics[%zu] has no id", i);
        else
            st = twin_framework_add_skill(fw, id, name ? name : "", 1, NULL, err);
    }
    for (size_t i = 0; st == VT_OK && i < json_array_size(ds); i++) {
        const json_t *d = json_array_get(ds, i);
        const char *a = vt_json_get_str(d, "topicId"), *b = vt_json_get_str(d, "prerequisiteId");
        const char *strength = vt_json_get_str(d, "strength");
        if (a == NULL || b == NULL) {
            st = vt_error_set(err, VT_ERR_INVALID,
                              "dependencies[%zu] lacks topicId or "
                              "prerequisiteId",
                              i);
            break;
        }
        bool in_a = twin_dict_find(&fw->index, a, strlen(a)) != UINT32_MAX;
        bool in_b = twin_dict_find(&fw->index, b, strlen(b)) != UINT32_MAX;
        if (subject != NULL && (!in_a || !in_b))
            continue;
        st = twin_framework_add_edge(fw, a, b, strength == NULL || strcmp(strength, "soft") != 0,
                                     err);
    }
    if (st == VT_OK)
        st = twin_framework_check(fw, err);
    if (st != VT_OK) {
        twin_framework_free(fw);
        return vt_error_prefix(err, st, "cannot import Marble taxonomy");
    }
    *out = fw;
    return VT_OK;
}
