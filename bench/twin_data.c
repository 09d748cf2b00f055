/* Dataset loaders and JSON-lines output for the twin benchmarks. */
#include "twin_data.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

double twd_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

char *twd_shared_path(const char *shared, const char *rel)
{
    size_t n = strlen(shared) + strlen(rel) + 2;
    char *p = vt_malloc(n);
    snprintf(p, n, "%s/%s", shared, rel);
    struct stat st;
    if (stat(p, &st) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

void twd_json_str(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    if (cap < 3) {
        if (cap)
            out[0] = '\0';
        return;
    }
    out[o++] = '"';
    for (; *s && o + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
}

void twd_emit(const char *bench, const char *name, double value, const char *unit,
              const char *extra)
{
    char num[VT_JSON_NUMBER_MAX];
    if (vt_json_number(value, num) == 0)
        snprintf(num, sizeof(num), "null");
    printf("{\"bench\":\"%s\",\"name\":\"%s\",\"value\":%s,\"unit\":\"%s\"%s}\n", bench, name, num,
           unit, extra ? extra : "");
    fflush(stdout);
}

enum vt_status twd_open(struct twd_reader *rd, const char *path, struct vt_error *err)
{
    memset(rd, 0, sizeof(*rd));
    rd->f = fopen(path, "rb");
    if (rd->f == NULL)
        return vt_error_set(err, errno == ENOENT ? VT_ERR_NOT_FOUND : VT_ERR_IO,
                            "cannot open '%s': %s", path, strerror(errno));
    rd->cap = 4096;
    rd->line = vt_malloc(rd->cap);
    return VT_OK;
}

enum vt_status twd_next(struct twd_reader *rd, struct vt_error *err)
{
    size_t len = 0;
    int c;
    while ((c = getc(rd->f)) != EOF) {
        if (len + 1 >= rd->cap) {
            if (rd->cap >= TWD_MAX_LINE)
                return vt_error_set(err, VT_ERR_TOO_LARGE, "line %llu longer than %zu bytes",
                                    (unsigned long long)rd->lineno + 1, TWD_MAX_LINE);
            rd->cap *= 2;
            rd->line = vt_realloc(rd->line, rd->cap);
        }
        if (c == '\n')
            break;
        rd->line[len++] = (char)c;
    }
    if (c == EOF && len == 0)
        return VT_ERR_NOT_FOUND;
    if (len > 0 && rd->line[len - 1] == '\r')
        len--;
    rd->line[len] = '\0';
    rd->lineno++;
    return VT_OK;
}

void twd_close(struct twd_reader *rd)
{
    if (rd->f != NULL)
        fclose(rd->f);
    free(rd->line);
    memset(rd, 0, sizeof(*rd));
}

size_t twd_split(char *line, char sep, char **fields, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (n < max) {
        char *w = p;
        fields[n++] = w;
        bool quoted = *p == '"';
        if (quoted)
            p++;
        for (;;) {
            if (*p == '\0')
                break;
            if (quoted && *p == '"') {
                if (p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                    continue;
                }
                quoted = false;
                p++;
                continue;
            }
            if (!quoted && *p == sep)
                break;
            *w++ = *p++;
        }
        bool more = *p == sep;
        *w = '\0';
        if (!more)
            break;
        p++;
    }
    return n;
}

void twd_rows_free(struct twd_rows *r)
{
    free(r->learner);
    free(r->item);
    free(r->skill);
    free(r->correct);
    if (r->skill_names != NULL) {
        for (uint32_t i = 0; i < r->n_skills; i++)
            free(r->skill_names[i]);
        free(r->skill_names);
    }
    memset(r, 0, sizeof(*r));
}

static enum vt_status push(struct twd_rows *r, uint32_t learner, uint32_t item, uint32_t skill,
                           int correct, struct vt_error *err)
{
    if (r->n >= TWD_MAX_ROWS)
        return vt_error_set(err, VT_ERR_TOO_LARGE, "too many rows: cap %zu", TWD_MAX_ROWS);
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 65536;
        r->learner = vt_realloc(r->learner, r->cap * sizeof(uint32_t));
        r->item = vt_realloc(r->item, r->cap * sizeof(uint32_t));
        r->skill = vt_realloc(r->skill, r->cap * sizeof(uint32_t));
        r->correct = vt_realloc(r->correct, r->cap);
    }
    r->learner[r->n] = learner;
    r->item[r->n] = item;
    r->skill[r->n] = skill;
    r->correct[r->n] = correct != 0;
    r->n++;
    if (learner >= r->n_learners)
        r->n_learners = learner + 1;
    if (item >= r->n_items)
        r->n_items = item + 1;
    if (skill >= r->n_skills)
        r->n_skills = skill + 1;
    return VT_OK;
}

/* A decimal id below 2^24 (the twin caps), or false. */
static bool parse_id(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || v < 0 || v >= (1L << 24))
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool parse_01(const char *s, int *out)
{
    if ((s[0] == '0' || s[0] == '1') && s[1] == '\0') {
        *out = s[0] - '0';
        return true;
    }
    return false;
}

enum vt_status twd_load_dkt(const char *path, struct twd_rows *r, struct vt_error *err)
{
    struct twd_reader rd;
    enum vt_status st = twd_open(&rd, path, err);
    if (st != VT_OK)
        return st;
    char *f1[1];
    char **skills = vt_calloc(TWD_MAX_LINE / 2, sizeof(char *));
    char **answers = vt_calloc(TWD_MAX_LINE / 2, sizeof(char *));
    char *skill_line = NULL;
    uint32_t learner = 0;
    for (;;) {
        st = twd_next(&rd, err);
        if (st == VT_ERR_NOT_FOUND) {
            st = VT_OK;
            break;
        }
        if (st != VT_OK)
            break;
        twd_split(rd.line, ',', f1, 1);
        uint32_t count;
        if (!parse_id(f1[0], &count)) {
            st = vt_error_set(err, VT_ERR_INVALID, "'%s' line %llu: bad response count", path,
                              (unsigned long long)rd.lineno);
            break;
        }
        if ((st = twd_next(&rd, err)) != VT_OK)
            break;
        free(skill_line);
        skill_line = vt_strdup(rd.line);
        size_t ns = twd_split(skill_line, ',', skills, TWD_MAX_LINE / 2);
        if ((st = twd_next(&rd, err)) != VT_OK)
            break;
        size_t na = twd_split(rd.line, ',', answers, TWD_MAX_LINE / 2);
        /* Lines end with a trailing comma, hence one empty field more than the count. */
        if (ns < count || na < count) {
            st = vt_error_set(err, VT_ERR_INVALID,
                              "'%s' line %llu: %u responses declared, %zu "
                              "skills and %zu answers found",
                              path, (unsigned long long)rd.lineno, count, ns, na);
            break;
        }
        for (uint32_t i = 0; i < count && st == VT_OK; i++) {
            uint32_t s;
            int c;
            if (!parse_id(skills[i], &s) || !parse_01(answers[i], &c)) {
                st = vt_error_set(err, VT_ERR_INVALID, "'%s' line %llu: bad response %u", path,
                                  (unsigned long long)rd.lineno, i);
                break;
            }
            st = push(r, learner, s, s, c, err);
        }
        if (st != VT_OK)
            break;
        learner++;
    }
    if (st == VT_ERR_NOT_FOUND)
        st = vt_error_set(err, VT_ERR_TRUNCATED, "'%s': truncated student record", path);
    free(skill_line);
    free(skills);
    free(answers);
    twd_close(&rd);
    return st;
}

enum vt_status twd_load_gervet(const char *path, struct twd_rows *r, struct vt_error *err)
{
    struct twd_reader rd;
    enum vt_status st = twd_open(&rd, path, err);
    if (st != VT_OK)
        return st;
    char *f[TWD_MAX_FIELDS];
    st = twd_next(&rd, err);
    if (st == VT_OK && strncmp(rd.line, "user_id\titem_id\ttimestamp\tcorrect\tskill_id", 41) != 0)
        st = vt_error_set(err, VT_ERR_INVALID, "'%s': unexpected header", path);
    while (st == VT_OK) {
        st = twd_next(&rd, err);
        if (st == VT_ERR_NOT_FOUND) {
            st = VT_OK;
            break;
        }
        if (st != VT_OK)
            break;
        size_t n = twd_split(rd.line, '\t', f, TWD_MAX_FIELDS);
        uint32_t u, it, sk;
        int c;
        if (n < 5 || !parse_id(f[0], &u) || !parse_id(f[1], &it) || !parse_01(f[3], &c) ||
            !parse_id(f[4], &sk)) {
            st = vt_error_set(err, VT_ERR_INVALID, "'%s' line %llu: bad row", path,
                              (unsigned long long)rd.lineno);
            break;
        }
        st = push(r, u, it, sk, c, err);
    }
    twd_close(&rd);
    return st;
}

/* A string → dense id table for the skill-builder CSV. */
struct strmap {
    char **keys;
    uint32_t *vals;
    size_t cap, count;
};

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static uint32_t strmap_id(struct strmap *m, const char *key, bool *added)
{
    if ((m->count + 1) * 2 > m->cap) {
        struct strmap old = *m;
        m->cap = old.cap ? old.cap * 2 : 1024;
        m->keys = vt_calloc(m->cap, sizeof(char *));
        m->vals = vt_calloc(m->cap, sizeof(uint32_t));
        for (size_t i = 0; i < old.cap; i++) {
            if (old.keys[i] == NULL)
                continue;
            size_t j = str_hash(old.keys[i]) & (m->cap - 1);
            while (m->keys[j] != NULL)
                j = (j + 1) & (m->cap - 1);
            m->keys[j] = old.keys[i];
            m->vals[j] = old.vals[i];
        }
        free(old.keys);
        free(old.vals);
    }
    size_t j = str_hash(key) & (m->cap - 1);
    while (m->keys[j] != NULL) {
        if (strcmp(m->keys[j], key) == 0) {
            *added = false;
            return m->vals[j];
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->keys[j] = vt_strdup(key);
    m->vals[j] = (uint32_t)m->count++;
    *added = true;
    return m->vals[j];
}

static void strmap_free(struct strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
}

static int column(char **f, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(f[i], name) == 0)
            return (int)i;
    }
    return -1;
}

enum vt_status twd_load_skillbuilder(const char *path, struct twd_rows *r, size_t *skipped,
                                     struct vt_error *err)
{
    *skipped = 0;
    struct twd_reader rd;
    enum vt_status st = twd_open(&rd, path, err);
    if (st != VT_OK)
        return st;
    char *f[TWD_MAX_FIELDS];
    int c_order = -1, c_user = -1, c_skill = -1, c_correct = -1;
    st = twd_next(&rd, err);
    if (st == VT_ERR_NOT_FOUND)
        st = vt_error_set(err, VT_ERR_INVALID, "'%s': empty file", path);
    if (st == VT_OK) {
        size_t n = twd_split(rd.line, ',', f, TWD_MAX_FIELDS);
        c_order = column(f, n, "order_id");
        c_user = column(f, n, "user_id");
        c_skill = column(f, n, "skill_id");
        c_correct = column(f, n, "correct");
        if (c_order < 0 || c_user < 0 || c_skill < 0 || c_correct < 0)
            st = vt_error_set(err, VT_ERR_INVALID,
                              "'%s': header lacks one of order_id, user_id, "
                              "skill_id, correct",
                              path);
    }
    struct strmap users = {0}, skills = {0};
    double *last_order = NULL;
    size_t last_cap = 0;
    size_t names_cap = 0;
    int need = c_order > c_user ? c_order : c_user;
    need = need > c_skill ? need : c_skill;
    need = need > c_correct ? need : c_correct;
    while (st == VT_OK) {
        st = twd_next(&rd, err);
        if (st == VT_ERR_NOT_FOUND) {
            st = VT_OK;
            break;
        }
        if (st != VT_OK)
            break;
        if (rd.line[0] == '\0')
            continue;
        size_t n = twd_split(rd.line, ',', f, TWD_MAX_FIELDS);
        if ((int)n <= need) {
            st = vt_error_set(err, VT_ERR_INVALID, "'%s' line %llu: %zu fields", path,
                              (unsigned long long)rd.lineno, n);
            break;
        }
        if (f[c_skill][0] == '\0' || f[c_user][0] == '\0') {
            (*skipped)++;
            continue;
        }
        char *e1, *e2;
        double order = strtod(f[c_order], &e1);
        double corr = strtod(f[c_correct], &e2);
        if (e1 == f[c_order] || *e1 != '\0' || e2 == f[c_correct] || *e2 != '\0' ||
            !isfinite(order) || !isfinite(corr) || corr < 0.0 || corr > 1.0) {
            st = vt_error_set(err, VT_ERR_INVALID, "'%s' line %llu: bad order_id or correct", path,
                              (unsigned long long)rd.lineno);
            break;
        }
        bool added;
        uint32_t u = strmap_id(&users, f[c_user], &added);
        uint32_t s = strmap_id(&skills, f[c_skill], &added);
        if (added) {
            if (s >= names_cap) {
                names_cap = names_cap ? names_cap * 2 : 64;
                r->skill_names = vt_realloc(r->skill_names, names_cap * sizeof(char *));
            }
            r->skill_names[s] = vt_strdup(f[c_skill]);
        }
        if (u >= last_cap) {
            size_t nc = last_cap ? last_cap * 2 : 1024;
            last_order = vt_realloc(last_order, nc * sizeof(double));
            for (size_t i = last_cap; i < nc; i++)
                last_order[i] = -INFINITY;
            last_cap = nc;
        }
        if (order < last_order[u]) {
            st = vt_error_set(err, VT_ERR_CONFLICT,
                              "'%s' line %llu: events out of time order for "
                              "user '%s' (order_id %.0f after %.0f)",
                              path, (unsigned long long)rd.lineno, f[c_user], order, last_order[u]);
            break;
        }
        last_order[u] = order;
        st = push(r, u, s, s, corr >= 0.5, err);
    }
    r->n_skills = (uint32_t)skills.count;
    free(last_order);
    strmap_free(&users);
    strmap_free(&skills);
    twd_close(&rd);
    return st;
}
