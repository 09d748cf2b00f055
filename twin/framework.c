/* Competency frameworks in memory and as "framework" payloads: specs/twin.md §8.6. */
#include "twin/twin_int.h"

#include <stdlib.h>
#include <string.h>

enum vt_status twin_framework_new(const char *id, const char *name, struct twin_framework **out,
                                  struct vt_error *err)
{
    *out = NULL;
    enum vt_status st = twin_id_check("framework id", id ? id : "", id ? strlen(id) : 0, err);
    if (st != VT_OK)
        return st;
    if (name != NULL && strlen(name) >= TWIN_NAME_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "framework name over %d bytes", TWIN_NAME_MAX - 1);
    struct twin_framework *fw = vt_calloc(1, sizeof(*fw));
    memcpy(fw->id, id, strlen(id) + 1);
    if (name != NULL)
        memcpy(fw->name, name, strlen(name) + 1);
    twin_dict_init(&fw->index);
    *out = fw;
    return VT_OK;
}

void twin_framework_free(struct twin_framework *fw)
{
    if (fw == NULL)
        return;
    free(fw->skills);
    free(fw->edges);
    free(fw->items);
    twin_dict_release(&fw->index);
    free(fw);
}

size_t twin_framework_skill_count(const struct twin_framework *fw)
{
    return fw->n_skills;
}

size_t twin_framework_edge_count(const struct twin_framework *fw)
{
    return fw->n_edges;
}

size_t twin_framework_item_count(const struct twin_framework *fw)
{
    return fw->n_items;
}

/* Copies s into out[cap], cutting at a UTF-8 character boundary. */
static void copy_cut(char *out, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    *cap = *cap ? *cap * 2 : 64;
    size_t bytes;
    VT_ASSERT(vt_size_mul(*cap, size, &bytes));
    return vt_realloc(p, bytes);
}

static enum vt_status check_id(const char *what, const char *s, struct vt_error *err)
{
    return twin_id_check(what, s ? s : "", s ? strlen(s) : 0, err);
}

enum vt_status twin_framework_add_skill(struct twin_framework *fw, const char *id, const char *name,
                                        uint32_t levels, const char *parent, struct vt_error *err)
{
    enum vt_status st = check_id("skill id", id, err);
    if (st != VT_OK)
        return st;
    if (parent != NULL && parent[0] != '\0') {
        st = check_id("parent id", parent, err);
        if (st != VT_OK)
            return st;
        if (strcmp(parent, id) == 0)
            return vt_error_set(err, VT_ERR_INVALID, "skill '%s' is its own parent", id);
    }
    if (levels == 0 || levels > TWIN_LEVELS_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "skill '%s': levels must be 1..%u", id,
                            TWIN_LEVELS_MAX);
    if (name != NULL && vt_utf8_invalid_at(name, strlen(name)) != strlen(name))
        return vt_error_set(err, VT_ERR_INVALID, "skill '%s': name is not UTF-8", id);
    if (fw->n_skills >= TWIN_FW_MAX_SKILLS)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "framework over %u skills", TWIN_FW_MAX_SKILLS);
    bool added;
    twin_dict_add(&fw->index, id, strlen(id), &added);
    if (!added)
        return vt_error_set(err, VT_ERR_EXISTS, "skill '%s' defined twice", id);
    fw->skills = grow(fw->skills, &fw->cap_skills, fw->n_skills + 1, sizeof(*fw->skills));
    struct twin_fw_skill *s = &fw->skills[fw->n_skills++];
    memset(s, 0, sizeof(*s));
    memcpy(s->id, id, strlen(id) + 1);
    copy_cut(s->name, sizeof(s->name), name ? name : "");
    if (parent != NULL)
        memcpy(s->parent, parent, strlen(parent) + 1);
    s->levels = levels;
    return VT_OK;
}

enum vt_status twin_framework_add_edge(struct twin_framework *fw, const char *skill,
                                       const char *requires, bool hard, struct vt_error *err)
{
    enum vt_status st = check_id("skill id", skill, err);
    if (st == VT_OK)
        st = check_id("prerequisite id", requires, err);
    if (st != VT_OK)
        return st;
    if (strcmp(skill, requires) == 0)
        return vt_error_set(err, VT_ERR_INVALID, "skill '%s' requires itself", skill);
    if (fw->n_edges >= TWIN_FW_MAX_EDGES)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "framework over %u edges", TWIN_FW_MAX_EDGES);
    fw->edges = grow(fw->edges, &fw->cap_edges, fw->n_edges + 1, sizeof(*fw->edges));
    struct twin_fw_edge *e = &fw->edges[fw->n_edges++];
    memcpy(e->skill, skill, strlen(skill) + 1);
    memcpy(e->requires, requires, strlen(requires) + 1);
    e->hard = hard;
    return VT_OK;
}

enum vt_status twin_framework_add_item(struct twin_framework *fw, const char *item,
                                       const char *const *skills, size_t n, struct vt_error *err)
{
    enum vt_status st = check_id("item id", item, err);
    if (st != VT_OK)
        return st;
    if (n == 0 || n > TWIN_ATTEMPT_MAX_SKILLS)
        return vt_error_set(err, VT_ERR_INVALID, "item '%s' must have 1..%d skills", item,
                            TWIN_ATTEMPT_MAX_SKILLS);
    if (fw->n_items >= TWIN_FW_MAX_ITEMS)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "framework over %u items", TWIN_FW_MAX_ITEMS);
    struct twin_fw_item it;
    memset(&it, 0, sizeof(it));
    memcpy(it.item, item, strlen(item) + 1);
    for (size_t i = 0; i < n; i++) {
        st = check_id("skill id", skills[i], err);
        if (st != VT_OK)
            return st;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(skills[i], skills[j]) == 0)
                return vt_error_set(err, VT_ERR_INVALID, "item '%s' lists skill '%s' twice", item,
                                    skills[i]);
        }
        memcpy(it.skills[i], skills[i], strlen(skills[i]) + 1);
    }
    it.n_skills = (uint32_t)n;
    fw->items = grow(fw->items, &fw->cap_items, fw->n_items + 1, sizeof(*fw->items));
    fw->items[fw->n_items++] = it;
    return VT_OK;
}

static uint32_t skill_index(const struct twin_framework *fw, const char *id)
{
    return twin_dict_find(&fw->index, id, strlen(id));
}

enum vt_status twin_framework_check(const struct twin_framework *fw, struct vt_error *err)
{
    size_t n = fw->n_skills;
    uint32_t *from = vt_calloc(fw->n_edges + n + 1, sizeof(uint32_t));
    uint32_t *to = vt_calloc(fw->n_edges + n + 1, sizeof(uint32_t));
    enum vt_status st = VT_OK;
    for (size_t e = 0; e < fw->n_edges && st == VT_OK; e++) {
        uint32_t a = skill_index(fw, fw->edges[e].requires),
                 b = skill_index(fw, fw->edges[e].skill);
        if (a == UINT32_MAX || b == UINT32_MAX)
            st = vt_error_set(err, VT_ERR_NOT_FOUND, "dangling edge: unknown skill '%s'",
                              a == UINT32_MAX ? fw->edges[e].requires : fw->edges[e].skill);
        from[e] = a;
        to[e] = b;
    }
    size_t n_par = 0;
    uint32_t *pf = from + fw->n_edges, *pt = to + fw->n_edges;
    for (size_t i = 0; i < n && st == VT_OK; i++) {
        if (fw->skills[i].parent[0] == '\0')
            continue;
        uint32_t p = skill_index(fw, fw->skills[i].parent);
        if (p == UINT32_MAX)
            st = vt_error_set(err, VT_ERR_NOT_FOUND, "dangling parent: unknown skill '%s' of '%s'",
                              fw->skills[i].parent, fw->skills[i].id);
        pf[n_par] = p;
        pt[n_par++] = (uint32_t)i;
    }
    for (size_t i = 0; i < fw->n_items && st == VT_OK; i++) {
        for (uint32_t k = 0; k < fw->items[i].n_skills && st == VT_OK; k++) {
            if (skill_index(fw, fw->items[i].skills[k]) == UINT32_MAX)
                st =
                    vt_error_set(err, VT_ERR_NOT_FOUND, "dangling item: unknown skill '%s' of '%s'",
                                 fw->items[i].skills[k], fw->items[i].item);
        }
    }
    uint32_t bad = 0;
    if (st == VT_OK && !twin_graph_acyclic(n, from, to, fw->n_edges, &bad))
        st = vt_error_set(err, VT_ERR_CONFLICT, "prerequisite cycle through skill '%s'",
                          fw->skills[bad].id);
    if (st == VT_OK && !twin_graph_acyclic(n, pf, pt, n_par, &bad))
        st = vt_error_set(err, VT_ERR_CONFLICT, "parent cycle through skill '%s'",
                          fw->skills[bad].id);
    free(from);
    free(to);
    return st;
}

/* ---------------------------------------------------------------------------------------
 * Payloads
 */

static cbor_item_t *str_item(const char *s)
{
    return cbor_build_string(s);
}

static void put(cbor_item_t *map, const char *key, cbor_item_t *val)
{
    vt_cbor_map_put(map, cbor_build_string(key), val);
}

/* One payload with skills [s0, s1), edges [e0, e1), items [i0, i1). */
static enum vt_status encode_part(const struct twin_framework *fw, size_t s0, size_t s1, size_t e0,
                                  size_t e1, size_t i0, size_t i1, struct vt_buf *out,
                                  struct vt_error *err)
{
    size_t n = 1 + (fw->name[0] != '\0') + (s1 > s0) + (e1 > e0) + (i1 > i0);
    cbor_item_t *map = cbor_new_definite_map(n);
    put(map, "framework", str_item(fw->id));
    if (fw->name[0] != '\0')
        put(map, "name", str_item(fw->name));
    if (s1 > s0) {
        cbor_item_t *a = cbor_new_definite_array(s1 - s0);
        for (size_t i = s0; i < s1; i++) {
            const struct twin_fw_skill *s = &fw->skills[i];
            cbor_item_t *m =
                cbor_new_definite_map(2 + (s->name[0] != '\0') + (s->parent[0] != '\0'));
            put(m, "id", str_item(s->id));
            if (s->name[0] != '\0')
                put(m, "name", str_item(s->name));
            if (s->parent[0] != '\0')
                put(m, "parent", str_item(s->parent));
            put(m, "levels", cbor_build_uint32(s->levels));
            VT_ASSERT(cbor_array_push(a, cbor_move(m)));
        }
        put(map, "skills", a);
    }
    if (e1 > e0) {
        cbor_item_t *a = cbor_new_definite_array(e1 - e0);
        for (size_t i = e0; i < e1; i++) {
            cbor_item_t *m = cbor_new_definite_map(3);
            put(m, "skill", str_item(fw->edges[i].skill));
            put(m, "requires", str_item(fw->edges[i].requires));
            put(m, "hard", cbor_build_bool(fw->edges[i].hard));
            VT_ASSERT(cbor_array_push(a, cbor_move(m)));
        }
        put(map, "edges", a);
    }
    if (i1 > i0) {
        cbor_item_t *a = cbor_new_definite_array(i1 - i0);
        for (size_t i = i0; i < i1; i++) {
            cbor_item_t *m = cbor_new_definite_map(2);
            cbor_item_t *sk = cbor_new_definite_array(fw->items[i].n_skills);
            for (uint32_t k = 0; k < fw->items[i].n_skills; k++)
                VT_ASSERT(cbor_array_push(sk, cbor_move(str_item(fw->items[i].skills[k]))));
            put(m, "item", str_item(fw->items[i].item));
            put(m, "skills", sk);
            VT_ASSERT(cbor_array_push(a, cbor_move(m)));
        }
        put(map, "items", a);
    }
    enum vt_status st = vt_cbor_encode(map, out, err);
    cbor_decref(&map);
    return st;
}

/* Upper bounds of the encoded size of one entry (heads at most 3 bytes, keys included). */
static size_t skill_bound(const struct twin_fw_skill *s)
{
    return strlen(s->id) + strlen(s->name) + strlen(s->parent) + 48;
}

static size_t edge_bound(const struct twin_fw_edge *e)
{
    return strlen(e->skill) + strlen(e->requires) + 40;
}

static size_t item_bound(const struct twin_fw_item *it)
{
    size_t b = strlen(it->item) + 24;
    for (uint32_t k = 0; k < it->n_skills; k++)
        b += strlen(it->skills[k]) + 3;
    return b;
}

static size_t clip(size_t x, size_t lo, size_t hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

enum vt_status twin_framework_payloads(const struct twin_framework *fw, size_t max_bytes,
                                       enum vt_status (*emit)(void *ctx, const uint8_t *p, size_t n,
                                                              struct vt_error *err),
                                       void *ctx, struct vt_error *err)
{
    if (max_bytes < 4096)
        return vt_error_set(err, VT_ERR_INVALID, "framework payloads need at least 4096 bytes");
    size_t header = strlen(fw->id) + strlen(fw->name) + 80;
    size_t total = fw->n_skills + fw->n_edges + fw->n_items;
    size_t pos = 0;
    struct vt_buf b;
    vt_buf_init(&b, max_bytes);
    enum vt_status st = VT_OK;
    do {
        size_t start = pos, size = header;
        while (pos < total) {
            size_t add = pos < fw->n_skills ? skill_bound(&fw->skills[pos])
                         : pos < fw->n_skills + fw->n_edges
                             ? edge_bound(&fw->edges[pos - fw->n_skills])
                             : item_bound(&fw->items[pos - fw->n_skills - fw->n_edges]);
            if (size + add > max_bytes && pos > start)
                break;
            size += add;
            pos++;
        }
        size_t ns = fw->n_skills, ne = fw->n_edges;
        vt_buf_reset(&b);
        st = encode_part(fw, clip(start, 0, ns), clip(pos, 0, ns), clip(start, ns, ns + ne) - ns,
                         clip(pos, ns, ns + ne) - ns, clip(start, ns + ne, total) - ns - ne,
                         clip(pos, ns + ne, total) - ns - ne, &b, err);
        if (st == VT_OK)
            st = emit(ctx, b.data, b.len, err);
    } while (st == VT_OK && pos < total);
    vt_buf_release(&b);
    return st;
}

/* ---------------------------------------------------------------------------------------
 * JSON form and decoding
 */

static enum vt_status json_skill(struct twin_framework *fw, const json_t *s, struct vt_error *err)
{
    static const char *const members[] = {"id", "name", "parent", "levels", NULL};
    char id[TWIN_ID_MAX], parent[TWIN_ID_MAX];
    double levels = 1;
    enum vt_status st = twin_json_only(s, members, err);
    if (st == VT_OK)
        st = twin_json_id(s, "id", true, id, err);
    if (st == VT_OK)
        st = twin_json_id(s, "parent", false, parent, err);
    if (st == VT_OK)
        st = twin_json_num(s, "levels", false, 1, TWIN_LEVELS_MAX, true, &levels, err);
    const json_t *name = json_object_get(s, "name");
    if (st == VT_OK && name != NULL &&
        (!json_is_string(name) || json_string_length(name) >= TWIN_NAME_MAX ||
         json_string_length(name) == 0))
        st = vt_error_set(err, VT_ERR_INVALID, "skill name must be 1..%d bytes", TWIN_NAME_MAX - 1);
    if (st == VT_OK)
        st = twin_framework_add_skill(fw, id, name ? json_string_value(name) : "", (uint32_t)levels,
                                      parent, err);
    return st;
}

static enum vt_status json_edge(struct twin_framework *fw, const json_t *e, struct vt_error *err)
{
    static const char *const members[] = {"skill", "requires", "hard", NULL};
    char skill[TWIN_ID_MAX], req[TWIN_ID_MAX];
    enum vt_status st = twin_json_only(e, members, err);
    if (st == VT_OK)
        st = twin_json_id(e, "skill", true, skill, err);
    if (st == VT_OK)
        st = twin_json_id(e, "requires", true, req, err);
    const json_t *hard = json_object_get(e, "hard");
    if (st == VT_OK && !json_is_boolean(hard))
        st = vt_error_set(err, VT_ERR_INVALID, "edge member 'hard' is not a boolean");
    if (st == VT_OK)
        st = twin_framework_add_edge(fw, skill, req, json_is_true(hard), err);
    return st;
}

static enum vt_status json_item(struct twin_framework *fw, const json_t *it, struct vt_error *err)
{
    static const char *const members[] = {"item", "skills", NULL};
    char item[TWIN_ID_MAX];
    enum vt_status st = twin_json_only(it, members, err);
    if (st == VT_OK)
        st = twin_json_id(it, "item", true, item, err);
    if (st != VT_OK)
        return st;
    const json_t *a = json_object_get(it, "skills");
    if (!json_is_array(a) || json_array_size(a) > TWIN_ATTEMPT_MAX_SKILLS)
        return vt_error_set(err, VT_ERR_INVALID, "item '%s': 'skills' must list 1..%d ids", item,
                            TWIN_ATTEMPT_MAX_SKILLS);
    const char *skills[TWIN_ATTEMPT_MAX_SKILLS];
    for (size_t i = 0; i < json_array_size(a); i++) {
        skills[i] = json_string_value(json_array_get(a, i));
        if (skills[i] == NULL)
            return vt_error_set(err, VT_ERR_INVALID, "item '%s': skill id is not a string", item);
    }
    return twin_framework_add_item(fw, item, skills, json_array_size(a), err);
}

enum vt_status twin_framework_from_json(const json_t *obj, struct twin_framework **out,
                                        struct vt_error *err)
{
    static const char *const members[] = {"framework", "name", "skills", "edges", "items", NULL};
    *out = NULL;
    char id[TWIN_ID_MAX];
    enum vt_status st = twin_json_only(obj, members, err);
    if (st == VT_OK)
        st = twin_json_id(obj, "framework", true, id, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "invalid framework");
    const json_t *name = json_object_get(obj, "name");
    if (name != NULL && (!json_is_string(name) || json_string_length(name) == 0))
        return vt_error_set(err, VT_ERR_INVALID, "invalid framework: bad 'name'");
    struct twin_framework *fw;
    st = twin_framework_new(id, name ? json_string_value(name) : NULL, &fw, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "invalid framework");
    static const char *const lists[] = {"skills", "edges", "items"};
    for (size_t l = 0; l < 3 && st == VT_OK; l++) {
        const json_t *a = json_object_get(obj, lists[l]);
        if (a == NULL)
            continue;
        if (!json_is_array(a) || json_array_size(a) == 0) {
            st =
                vt_error_set(err, VT_ERR_INVALID, "member '%s' is not a non-empty array", lists[l]);
            break;
        }
        for (size_t i = 0; i < json_array_size(a) && st == VT_OK; i++) {
            const json_t *e = json_array_get(a, i);
            st = l == 0   ? json_skill(fw, e, err)
                 : l == 1 ? json_edge(fw, e, err)
                          : json_item(fw, e, err);
        }
    }
    if (st != VT_OK) {
        twin_framework_free(fw);
        return vt_error_prefix(err, st, "invalid framework '%s'", id);
    }
    *out = fw;
    return VT_OK;
}

enum vt_status twin_framework_decode(const uint8_t *p, size_t n, struct twin_framework **out,
                                     struct vt_error *err)
{
    *out = NULL;
    json_t *j;
    enum vt_status st = twin_payload_json(p, n, &j, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "invalid framework");
    struct twin_framework *fw;
    st = twin_framework_from_json(j, &fw, err);
    json_decref(j);
    if (st != VT_OK)
        return st;
    struct vt_buf again;
    vt_buf_init(&again, n + 1);
    st = encode_part(fw, 0, fw->n_skills, 0, fw->n_edges, 0, fw->n_items, &again, err);
    if (st != VT_OK || again.len != n || memcmp(again.data, p, n) != 0)
        st = vt_error_set(err, VT_ERR_NONCANONICAL,
                          "invalid framework: payload is not the canonical encoding of its "
                          "members");
    vt_buf_release(&again);
    if (st != VT_OK) {
        twin_framework_free(fw);
        return st;
    }
    *out = fw;
    return VT_OK;
}
