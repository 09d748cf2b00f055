/*
 * A small HTTP/1.1 client for the xAPI integration tests: unlike itest_http it returns the
 * response headers (ETag, X-Experience-API-*) and sends exactly the headers it is given.
 */
#ifndef VITAE_XAPI_CLIENT_H
#define VITAE_XAPI_CLIENT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/core.h"

#define XC_V2 "X-Experience-API-Version: 2.0.0\r\n"
#define XC_JSON "Content-Type: application/json\r\n"
/* base64 of "lrs:lrs-secret" */
#define XC_AUTH "Authorization: Basic bHJzOmxycy1zZWNyZXQ=\r\n"
#define XC_BASIC_ARG "xapi_basic=lrs:lrs-secret"

struct xc_resp {
    int status;
    char head[8192];
    struct vt_buf body;
};

/* The first occurrence of needle in hay, or NULL. */
static inline const void *xc_find(const void *hay, size_t n, const void *needle, size_t m)
{
    const uint8_t *h = hay;
    for (size_t i = 0; m > 0 && i + m <= n; i++) {
        if (!memcmp(h + i, needle, m))
            return h + i;
    }
    return NULL;
}

static inline void xc_release(struct xc_resp *r)
{
    vt_buf_release(&r->body);
}

/* The value of a response header (case-insensitive name), copied into out; false when
 * absent. */
static inline bool xc_header(const struct xc_resp *r, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (!strncasecmp(line, name, nl) && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            size_t l = e ? (size_t)(e - v) : strlen(v);
            if (l >= n)
                l = n - 1;
            memcpy(out, v, l);
            out[l] = '\0';
            return true;
        }
    }
    return false;
}

/* One request on a fresh connection; headers are sent as given (no Content-Length is
 * added when body is NULL). The whole answer is read until the server closes. */
static inline int xc_request(int port, const char *method, const char *path, const char *headers,
                             const void *body, size_t len, struct xc_resp *r)
{
    memset(r->head, 0, sizeof(r->head));
    vt_buf_init(&r->body, (size_t)64 << 20);
    r->status = -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct vt_buf req;
    vt_buf_init(&req, (size_t)64 << 20);
    (void)vt_buf_printf(&req, NULL, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s", method, path,
                        headers ? headers : "");
    if (body)
        (void)vt_buf_printf(&req, NULL, "Content-Length: %zu\r\n", len);
    (void)vt_buf_append_str(&req, "Connection: close\r\n\r\n", NULL);
    if (body)
        (void)vt_buf_append(&req, body, len, NULL);
    size_t off = 0;
    while (off < req.len) {
        ssize_t w = write(fd, req.data + off, req.len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    vt_buf_release(&req);
    struct vt_buf all;
    vt_buf_init(&all, (size_t)64 << 20);
    char tmp[65536];
    ssize_t n;
    while ((n = read(fd, tmp, sizeof(tmp))) > 0)
        (void)vt_buf_append(&all, tmp, (size_t)n, NULL);
    close(fd);
    const char *sep = all.len ? xc_find(all.data, all.len, "\r\n\r\n", 4) : NULL;
    if (sep) {
        size_t hl = (size_t)(sep - (const char *)all.data);
        if (hl >= sizeof(r->head))
            hl = sizeof(r->head) - 1;
        memcpy(r->head, all.data, hl);
        r->status = atoi(r->head + 9);
        size_t bo = (size_t)(sep - (const char *)all.data) + 4;
        (void)vt_buf_append(&r->body, all.data + bo, all.len - bo, NULL);
    }
    vt_buf_release(&all);
    return r->status;
}

/* The body as JSON (new reference) or NULL. */
static inline json_t *xc_json(const struct xc_resp *r)
{
    json_t *doc = NULL;
    (void)vt_json_parse((const char *)r->body.data, r->body.len, r->body.len + 1, 64, &doc, NULL);
    return doc;
}

/* The rule named by an error body ("" when none). */
static inline void xc_rule(const struct xc_resp *r, char out[64])
{
    json_t *d = xc_json(r);
    const char *rule = vt_json_get_str(d, "rule");
    snprintf(out, 64, "%s", rule ? rule : "");
    json_decref(d);
}

#endif
