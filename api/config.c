/*
 * Configuration: defaults, then the file, then VITAED_* environment variables, then
 * command-line flags (each later source overrides the earlier ones; specs/api.md §2).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

void api_config_init(struct api_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->data_dir, sizeof(c->data_dir), "%s", API_DEFAULT_DATA);
    snprintf(c->listen_host, sizeof(c->listen_host), "127.0.0.1");
    c->port = 8420;
    snprintf(c->origin, sizeof(c->origin), "vitae.local/ledger");
    c->max_message = (size_t)1 << 20;
    c->max_depth = 32;
    c->max_conns_per_addr = 256;
    c->max_pending_out = (size_t)4 << 20;
    c->max_inflight = 64;
    c->rate = 2000;
    c->burst = 4000;
    c->workers = 8;
    c->drain_seconds = 30;
    c->batch_ms = 1;
    c->log_level = API_LOG_INFO;
}

static enum vt_status parse_u64(const char *key, const char *v, uint64_t lo, uint64_t hi,
                                uint64_t *out, struct vt_error *err)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*v))
        return vt_error_set(err, VT_ERR_INVALID, "invalid value for '%s': '%s'", key, v);
    unsigned long long x = strtoull(v, &end, 10);
    uint64_t mult = 1;
    if (*end == 'K' || *end == 'k')
        mult = 1024, end++;
    else if (*end == 'M' || *end == 'm')
        mult = 1024 * 1024, end++;
    if (errno || *end || x > hi / mult || x * mult < lo)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid value for '%s': '%s' (expected %llu..%llu)", key, v,
                            (unsigned long long)lo, (unsigned long long)hi);
    *out = x * mult;
    return VT_OK;
}

static enum vt_status set_str(char *dst, size_t n, const char *key, const char *v,
                              struct vt_error *err)
{
    if (strlen(v) >= n)
        return vt_error_set(err, VT_ERR_INVALID, "value for '%s' is too long", key);
    memcpy(dst, v, strlen(v) + 1);
    return VT_OK;
}

static enum vt_status set_listen(struct api_config *c, const char *v, struct vt_error *err)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v)
        return vt_error_set(err, VT_ERR_INVALID, "invalid listen address '%s' (want HOST:PORT)", v);
    uint64_t port;
    if (parse_u64("listen", colon + 1, 0, 65535, &port, err) != VT_OK)
        return err ? err->status : VT_ERR_INVALID;
    const char *h = v;
    size_t hl = (size_t)(colon - v);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']')
        h++, hl -= 2;
    if (hl >= sizeof(c->listen_host))
        return vt_error_set(err, VT_ERR_INVALID, "listen host too long");
    memcpy(c->listen_host, h, hl);
    c->listen_host[hl] = '\0';
    c->port = (int)port;
    return VT_OK;
}

static enum vt_status add_xapi_basic(struct api_config *c, const char *v, struct vt_error *err)
{
    /* The value is a secret: errors never repeat it. */
    const char *colon = strchr(v, ':');
    size_t ul = colon ? (size_t)(colon - v) : 0;
    if (!colon || ul == 0 || ul > 64 || colon[1] == '\0' || strlen(colon + 1) > 128)
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid value for 'xapi_basic' (want USER:PASS, user 1..64 and "
                            "password 1..128 bytes)");
    if (c->n_xapi_basic >= API_XAPI_BASIC_MAX)
        return vt_error_set(err, VT_ERR_INVALID, "more than %d xapi_basic entries",
                            API_XAPI_BASIC_MAX);
    snprintf(c->xapi_basic[c->n_xapi_basic++], API_XAPI_BASIC_LEN, "%s", v);
    return VT_OK;
}

struct key_doc {
    const char *key;
    const char *def;
    const char *what;
};

static const struct key_doc keys[] = {
    {"data", API_DEFAULT_DATA, "data directory (keys, ledger, principals)"},
    {"listen", API_DEFAULT_LISTEN, "HOST:PORT of the one HTTP + WebSocket listener (port 0: any)"},
    {"tls_cert", "", "PEM certificate chain; with tls_key, serve HTTPS and WSS"},
    {"tls_key", "", "PEM private key for tls_cert"},
    {"did_web_host", "", "host[:port] of the did:web identity (default: the listen address)"},
    {"origin", "vitae.local/ledger", "checkpoint origin, fixed at the first start"},
    {"port_file", "", "file that receives the bound port once listening"},
    {"max_message", "1M", "largest WebSocket message or HTTP body, in bytes"},
    {"max_depth", "32", "deepest JSON/CBOR nesting accepted"},
    {"max_conns_per_addr", "256", "WebSocket connections per remote address"},
    {"max_pending_out", "4M", "queued output per connection before its input is paused"},
    {"max_inflight", "64", "requests per connection being worked on at once"},
    {"rate", "2000", "requests per second per principal (token bucket refill)"},
    {"burst", "4000", "token bucket size"},
    {"workers", "8", "worker threads for methods and HTTP routes"},
    {"drain_seconds", "30", "how long SIGINT/SIGTERM waits for in-flight requests"},
    {"batch_ms", "1", "ledger group-commit window in milliseconds"},
    {"log_level", "info", "error, warn, info or debug"},
    {"xapi_basic", "", "USER:PASS of an xAPI client made at start (repeatable)"},
};

void api_config_print_keys(void)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        printf("  %-19s %-19s %s\n", keys[i].key, *keys[i].def ? keys[i].def : "-", keys[i].what);
}

enum vt_status api_config_set(struct api_config *c, const char *key, const char *v,
                              struct vt_error *err)
{
    uint64_t u;
    enum vt_status st = VT_OK;
    if (!strcmp(key, "data"))
        return set_str(c->data_dir, sizeof(c->data_dir), key, v, err);
    if (!strcmp(key, "listen"))
        return set_listen(c, v, err);
    if (!strcmp(key, "tls_cert"))
        return set_str(c->tls_cert, sizeof(c->tls_cert), key, v, err);
    if (!strcmp(key, "tls_key"))
        return set_str(c->tls_key, sizeof(c->tls_key), key, v, err);
    if (!strcmp(key, "did_web_host"))
        return set_str(c->did_web_host, sizeof(c->did_web_host), key, v, err);
    if (!strcmp(key, "origin"))
        return set_str(c->origin, sizeof(c->origin), key, v, err);
    if (!strcmp(key, "port_file"))
        return set_str(c->port_file, sizeof(c->port_file), key, v, err);
    if (!strcmp(key, "log_level")) {
        static const char *const names[] = {"error", "warn", "info", "debug"};
        for (int i = 0; i < 4; i++) {
            if (!strcmp(v, names[i])) {
                c->log_level = (enum api_log_level)i;
                return VT_OK;
            }
        }
        return vt_error_set(err, VT_ERR_INVALID, "invalid log_level '%s'", v);
    }
    if (!strcmp(key, "xapi_basic"))
        return add_xapi_basic(c, v, err);
    if (!strcmp(key, "rate") || !strcmp(key, "burst")) {
        char *end;
        double d = strtod(v, &end);
        if (*v == '\0' || *end || !(d > 0) || d > 1e9)
            return vt_error_set(err, VT_ERR_INVALID, "invalid value for '%s': '%s'", key, v);
        if (key[0] == 'r')
            c->rate = d;
        else
            c->burst = d;
        return VT_OK;
    }
    if (!strcmp(key, "max_message")) {
        if ((st = parse_u64(key, v, 1024, (uint64_t)64 << 20, &u, err)) == VT_OK)
            c->max_message = (size_t)u;
    } else if (!strcmp(key, "max_depth")) {
        if ((st = parse_u64(key, v, 2, VT_CBOR_MAX_DEPTH * 2, &u, err)) == VT_OK)
            c->max_depth = (unsigned)u;
    } else if (!strcmp(key, "max_conns_per_addr")) {
        if ((st = parse_u64(key, v, 1, 1000000, &u, err)) == VT_OK)
            c->max_conns_per_addr = (unsigned)u;
    } else if (!strcmp(key, "max_pending_out")) {
        if ((st = parse_u64(key, v, 64 * 1024, (uint64_t)1 << 30, &u, err)) == VT_OK)
            c->max_pending_out = (size_t)u;
    } else if (!strcmp(key, "max_inflight")) {
        if ((st = parse_u64(key, v, 1, 4096, &u, err)) == VT_OK)
            c->max_inflight = (unsigned)u;
    } else if (!strcmp(key, "workers")) {
        if ((st = parse_u64(key, v, 1, 256, &u, err)) == VT_OK)
            c->workers = (unsigned)u;
    } else if (!strcmp(key, "drain_seconds")) {
        if ((st = parse_u64(key, v, 0, 3600, &u, err)) == VT_OK)
            c->drain_seconds = (unsigned)u;
    } else if (!strcmp(key, "batch_ms")) {
        if ((st = parse_u64(key, v, 0, 1000, &u, err)) == VT_OK)
            c->batch_ms = (unsigned)u;
    } else {
        return vt_error_set(err, VT_ERR_NOT_FOUND, "unknown configuration key '%s'", key);
    }
    return st;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

enum vt_status api_config_load_file(struct api_config *c, const char *path, struct vt_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return vt_error_set(err, errno == ENOENT ? VT_ERR_NOT_FOUND : VT_ERR_IO,
                            "cannot open config '%s': %s", path, strerror(errno));
    }
    char line[2048];
    unsigned lineno = 0;
    enum vt_status st = VT_OK;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            st = vt_error_set(err, VT_ERR_INVALID, "%s:%u: line too long", path, lineno);
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            st = vt_error_set(err, VT_ERR_INVALID, "%s:%u: expected 'key = value'", path, lineno);
            break;
        }
        *eq = '\0';
        char *k = trim(s);
        char *v = trim(eq + 1);
        size_t vl = strlen(v);
        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
            v[vl - 1] = '\0';
            v++;
        }
        st = api_config_set(c, k, v, err);
        if (st != VT_OK) {
            vt_error_prefix(err, st, "%s:%u", path, lineno);
            break;
        }
    }
    fclose(f);
    return st;
}

enum vt_status api_config_load_env(struct api_config *c, struct vt_error *err)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char name[64] = "VITAED_";
        size_t o = strlen(name);
        for (const char *p = keys[i].key; *p && o + 1 < sizeof(name); p++)
            name[o++] = (char)toupper((unsigned char)*p);
        name[o] = '\0';
        const char *v = getenv(name);
        if (!v)
            continue;
        enum vt_status st = api_config_set(c, keys[i].key, v, err);
        if (st != VT_OK)
            return vt_error_prefix(err, st, "environment %s", name);
    }
    return VT_OK;
}
