/* A blocking WebSocket and HTTP client over TCP, enough for one request at a time. */
#include "wallet-cli/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 10000
/* Long enough for a server to export or import a large bundle. */
#define READ_TIMEOUT_S 300
#define HEAD_MAX 8192
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define PROGRESS_MIN ((uint64_t)1 << 20)

/* VITAE_TIMEOUT (seconds, 1..3600) overrides the read timeout, for slow links and tests. */
static int read_timeout_s(void)
{
    const char *t = getenv("VITAE_TIMEOUT");
    int v = t != NULL ? atoi(t) : 0;
    return v >= 1 && v <= 3600 ? v : READ_TIMEOUT_S;
}

enum vt_status net_url_parse(const char *url, const char *default_path, struct net_url *u,
                             struct vt_error *err)
{
    memset(u, 0, sizeof(*u));
    const char *p;
    const char *defport;
    if (strncmp(url, "ws://", 5) == 0 || strncmp(url, "http://", 7) == 0) {
        p = strstr(url, "//") + 2;
        defport = "80";
    } else if (strncmp(url, "wss://", 6) == 0 || strncmp(url, "https://", 8) == 0) {
        p = strstr(url, "//") + 2;
        defport = "443";
        u->tls = true;
    } else {
        return vt_error_set(err, VT_ERR_INVALID, "'%s' is not a ws:// or http:// URL", url);
    }
    const char *host_end;
    const char *host = p;
    if (*p == '[') {
        host = p + 1;
        host_end = strchr(p, ']');
        if (host_end == NULL)
            return vt_error_set(err, VT_ERR_INVALID, "'%s': unterminated IPv6 address", url);
        p = host_end + 1;
    } else {
        host_end = p + strcspn(p, ":/?#");
        p = host_end;
    }
    size_t hl = (size_t)(host_end - host);
    if (hl == 0 || hl >= sizeof(u->host))
        return vt_error_set(err, VT_ERR_INVALID, "'%s': bad host", url);
    memcpy(u->host, host, hl);
    if (*p == ':') {
        size_t pl = strspn(p + 1, "0123456789");
        if (pl == 0 || pl >= sizeof(u->port) || atoi(p + 1) > 65535)
            return vt_error_set(err, VT_ERR_INVALID, "'%s': bad port", url);
        memcpy(u->port, p + 1, pl);
        p += 1 + pl;
    } else {
        snprintf(u->port, sizeof(u->port), "%s", defport);
    }
    if (*p != '\0' && *p != '/')
        return vt_error_set(err, VT_ERR_INVALID, "'%s': bad URL", url);
    int n = snprintf(u->path, sizeof(u->path), "%s", *p ? p : default_path);
    if (n < 0 || (size_t)n >= sizeof(u->path))
        return vt_error_set(err, VT_ERR_INVALID, "'%s': path too long", url);
    return VT_OK;
}

static enum vt_status tcp_connect(const struct net_url *u, int *fd_out, struct vt_error *err)
{
    if (u->tls)
        return vt_error_set(err, VT_ERR_UNSUPPORTED,
                            "TLS (wss://, https://) is not supported yet; use ws:// through a "
                            "local TLS terminator");
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    int g = getaddrinfo(u->host, u->port, &hints, &res);
    if (g != 0)
        return vt_error_set(err, VT_ERR_IO, "cannot resolve '%s': %s", u->host, gai_strerror(g));
    int e = 0, fd = -1;
    for (struct addrinfo *a = res; a != NULL && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int cr = connect(fd, a->ai_addr, a->ai_addrlen);
        if (cr == 0) {
            e = 0;
        } else if (errno == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            socklen_t el = sizeof(e);
            if (poll(&pfd, 1, CONNECT_TIMEOUT_MS) != 1)
                e = ETIMEDOUT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
                e = errno;
        } else {
            e = errno;
        }
        if (e != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return vt_error_set(err, VT_ERR_IO, "cannot connect to %s port %s: %s", u->host, u->port,
                            strerror(e ? e : ECONNREFUSED));
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    struct timeval tv = {.tv_sec = read_timeout_s()};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    *fd_out = fd;
    return VT_OK;
}

static enum vt_status write_all(int fd, const void *p, size_t n, struct vt_error *err)
{
    const uint8_t *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return vt_error_set(err, errno == EAGAIN ? VT_ERR_BUSY : VT_ERR_IO,
                                "cannot send to the server: %s", strerror(errno));
        c += w;
        n -= (size_t)w;
    }
    return VT_OK;
}

static enum vt_status read_some(struct net_ws *ws, struct vt_error *err)
{
    for (;;) {
        ssize_t r = recv(ws->fd, ws->rbuf, sizeof(ws->rbuf), 0);
        if (r > 0) {
            ws->rpos = 0;
            ws->rlen = (size_t)r;
            return VT_OK;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return vt_error_set(err, VT_ERR_BUSY, "the server did not answer within %d s",
                                read_timeout_s());
        return vt_error_set(err, VT_ERR_IO, "the server closed the connection%s%s",
                            r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
    }
}

static enum vt_status read_exact(struct net_ws *ws, void *out, size_t n, uint64_t *done,
                                 uint64_t total, struct vt_error *err)
{
    uint8_t *o = out;
    while (n > 0) {
        if (ws->rpos == ws->rlen) {
            enum vt_status st = read_some(ws, err);
            if (st != VT_OK)
                return st;
        }
        size_t k = ws->rlen - ws->rpos < n ? ws->rlen - ws->rpos : n;
        memcpy(o, ws->rbuf + ws->rpos, k);
        ws->rpos += k;
        o += k;
        n -= k;
        if (done != NULL && total >= PROGRESS_MIN && ws->cli != NULL) {
            uint64_t before = *done;
            *done += k;
            if ((before >> 18) != (*done >> 18))
                cli_progress(ws->cli, "receiving", *done, total);
        }
    }
    return VT_OK;
}

/* Reads the HTTP head (through the blank line) into head; the rest stays buffered. */
static enum vt_status read_head(struct net_ws *ws, char *head, size_t cap, struct vt_error *err)
{
    size_t n = 0;
    while (n + 1 < cap) {
        enum vt_status st = read_exact(ws, head + n, 1, NULL, 0, err);
        if (st != VT_OK)
            return st;
        n++;
        if (n >= 4 && memcmp(head + n - 4, "\r\n\r\n", 4) == 0) {
            head[n] = '\0';
            return VT_OK;
        }
    }
    return vt_error_set(err, VT_ERR_IO, "the server's HTTP answer is too long");
}

/* The value of header name in head (case-insensitive), copied to out; false when absent. */
static bool header_value(const char *head, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l != NULL; l = strstr(l, "\r\n")) {
        l += 2;
        if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *v = l + nl + 1;
            v += strspn(v, " \t");
            size_t vl = strcspn(v, "\r\n");
            while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            if (vl >= cap)
                vl = cap - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return true;
        }
    }
    return false;
}

static int status_code(const char *head)
{
    if (strncmp(head, "HTTP/1.", 7) != 0 || strlen(head) < 12)
        return -1;
    return atoi(head + 9);
}

enum vt_status net_http_get(const char *url, size_t max, struct vt_buf *out, struct vt_error *err)
{
    struct net_url u;
    struct net_ws c;
    memset(&c, 0, sizeof(c));
    vt_buf_init(out, max);
    enum vt_status st = net_url_parse(url, "/", &u, err);
    if (st == VT_OK && u.tls)
        return vt_error_set(err, VT_ERR_UNSUPPORTED, "cannot fetch '%s': https is not supported",
                            url);
    if (st == VT_OK)
        st = tcp_connect(&u, &c.fd, err);
    if (st != VT_OK)
        return st;
    char req[NET_PATH_MAX + NET_HOST_MAX + 128], head[HEAD_MAX], v[64];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: %s:%s\r\nAccept: application/json, "
                     "application/vc+ld+json\r\nConnection: close\r\n\r\n",
                     u.path, u.host, u.port);
    st = write_all(c.fd, req, (size_t)n, err);
    if (st == VT_OK)
        st = read_head(&c, head, sizeof(head), err);
    int code = st == VT_OK ? status_code(head) : -1;
    if (st == VT_OK && code != 200)
        st = vt_error_set(err, code == 404 ? VT_ERR_NOT_FOUND : VT_ERR_IO,
                          "GET '%s' answered HTTP %d", url, code);
    if (st == VT_OK && header_value(head, "Transfer-Encoding", v, sizeof(v)))
        st = vt_error_set(err, VT_ERR_UNSUPPORTED, "GET '%s': chunked answers are not supported",
                          url);
    long long len = -1;
    if (st == VT_OK && header_value(head, "Content-Length", v, sizeof(v)))
        len = atoll(v);
    if (st == VT_OK && len > (long long)max)
        st = vt_error_set(err, VT_ERR_TOO_LARGE, "GET '%s': %lld bytes is over the cap", url, len);
    while (st == VT_OK && (len < 0 || out->len < (size_t)len)) {
        if (c.rpos == c.rlen) {
            enum vt_status r = read_some(&c, err);
            if (r != VT_OK) {
                if (len >= 0)
                    st = r;
                break;
            }
        }
        size_t k = c.rlen - c.rpos;
        if (len >= 0 && k > (size_t)len - out->len)
            k = (size_t)len - out->len;
        st = vt_buf_append(out, c.rbuf + c.rpos, k, err);
        c.rpos += k;
    }
    close(c.fd);
    return st;
}

static enum vt_status ws_send(struct net_ws *ws, int opcode, const void *p, size_t len,
                              struct vt_error *err)
{
    uint8_t hdr[14], mask[4];
    size_t h = 0;
    hdr[h++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        hdr[h++] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        hdr[h++] = 0x80 | 126;
        vt_be16_put(hdr + h, (uint16_t)len);
        h += 2;
    } else {
        hdr[h++] = 0x80 | 127;
        vt_be64_put(hdr + h, len);
        h += 8;
    }
    /* RFC 6455 §5.3: every client frame is masked with a fresh unpredictable key. */
    vt_random_bytes(mask, sizeof(mask));
    memcpy(hdr + h, mask, 4);
    h += 4;
    enum vt_status st = write_all(ws->fd, hdr, h, err);
    const uint8_t *c = p;
    uint8_t chunk[8192];
    for (size_t off = 0; st == VT_OK && off < len; off += sizeof(chunk)) {
        size_t k = len - off < sizeof(chunk) ? len - off : sizeof(chunk);
        for (size_t i = 0; i < k; i++)
            chunk[i] = c[off + i] ^ mask[(off + i) & 3];
        st = write_all(ws->fd, chunk, k, err);
    }
    return st;
}

enum vt_status net_ws_connect(struct net_ws *ws, const char *url, const struct cli *cli,
                              struct vt_error *err)
{
    struct net_url u;
    memset(ws, 0, sizeof(*ws));
    ws->fd = -1;
    ws->next_id = 1;
    ws->cli = cli;
    enum vt_status st = net_url_parse(url, "/v1", &u, err);
    if (st == VT_OK)
        st = tcp_connect(&u, &ws->fd, err);
    if (st != VT_OK)
        return st;
    uint8_t nonce[16];
    struct vt_buf key;
    vt_buf_init(&key, 64);
    vt_random_bytes(nonce, sizeof(nonce));
    (void)vt_base64_encode(nonce, sizeof(nonce), &key, NULL);
    char req[NET_PATH_MAX + NET_HOST_MAX + 512], head[HEAD_MAX], v[128];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: vitae.v1\r\n\r\n",
                     u.path, u.host, u.port, (const char *)key.data);
    st = write_all(ws->fd, req, (size_t)n, err);
    if (st == VT_OK)
        st = read_head(ws, head, sizeof(head), err);
    if (st == VT_OK && status_code(head) != 101)
        st = vt_error_set(err, VT_ERR_IO,
                          "'%s' refused the WebSocket upgrade (HTTP %d); is it a "
                          "vitaed /v1 endpoint?",
                          url, status_code(head));
    /* The accept value proves the answer comes from a WebSocket server that read our key. */
    if (st == VT_OK) {
        char concat[128];
        unsigned char sha[EVP_MAX_MD_SIZE];
        unsigned int sl = 0;
        struct vt_buf want;
        vt_buf_init(&want, 64);
        snprintf(concat, sizeof(concat), "%s%s", (const char *)key.data, WS_GUID);
        EVP_Digest(concat, strlen(concat), sha, &sl, EVP_sha1(), NULL);
        (void)vt_base64_encode(sha, sl, &want, NULL);
        if (!header_value(head, "Sec-WebSocket-Accept", v, sizeof(v)) ||
            strcmp(v, (const char *)want.data) != 0)
            st = vt_error_set(err, VT_ERR_IO, "'%s' sent a bad Sec-WebSocket-Accept", url);
        else if (!header_value(head, "Sec-WebSocket-Protocol", v, sizeof(v)) ||
                 strcmp(v, "vitae.v1") != 0)
            st = vt_error_set(err, VT_ERR_IO, "'%s' does not speak vitae.v1", url);
        vt_buf_release(&want);
    }
    vt_buf_release(&key);
    if (st != VT_OK) {
        close(ws->fd);
        ws->fd = -1;
    }
    return st;
}

void net_ws_close(struct net_ws *ws)
{
    if (ws == NULL || ws->fd < 0)
        return;
    uint8_t code[2];
    vt_be16_put(code, 1000);
    (void)ws_send(ws, 8, code, sizeof(code), NULL);
    close(ws->fd);
    ws->fd = -1;
}

/* Receives one whole data message (text or binary) into out, answering pings. */
static enum vt_status ws_recv(struct net_ws *ws, struct vt_buf *out, struct vt_error *err)
{
    vt_buf_reset(out);
    uint64_t done = 0;
    for (;;) {
        uint8_t h[2], ext[8];
        enum vt_status st = read_exact(ws, h, 2, NULL, 0, err);
        if (st != VT_OK)
            return st;
        int op = h[0] & 0x0f;
        bool fin = (h[0] & 0x80) != 0;
        uint64_t len = h[1] & 0x7f;
        if (h[1] & 0x80)
            return vt_error_set(err, VT_ERR_IO, "the server sent a masked frame");
        if (len == 126) {
            st = read_exact(ws, ext, 2, NULL, 0, err);
            len = vt_be16_get(ext);
        } else if (len == 127) {
            st = read_exact(ws, ext, 8, NULL, 0, err);
            len = vt_be64_get(ext);
        }
        if (st != VT_OK)
            return st;
        if (op >= 8) {
            uint8_t ctl[125];
            if (len > sizeof(ctl))
                return vt_error_set(err, VT_ERR_IO, "the server sent a control frame too long");
            st = read_exact(ws, ctl, (size_t)len, NULL, 0, err);
            if (st != VT_OK)
                return st;
            if (op == 8)
                return vt_error_set(err, VT_ERR_IO, "the server closed the connection");
            if (op == 9 && (st = ws_send(ws, 10, ctl, (size_t)len, err)) != VT_OK)
                return st;
            continue;
        }
        if (len > NET_MESSAGE_MAX - out->len)
            return vt_error_set(err, VT_ERR_TOO_LARGE, "the server's message is over %zu MiB",
                                NET_MESSAGE_MAX >> 20);
        st = vt_buf_grow(out, (size_t)len, err);
        if (st == VT_OK)
            st = read_exact(ws, out->data + out->len, (size_t)len, &done, len, err);
        if (st != VT_OK)
            return st;
        out->len += (size_t)len;
        out->data[out->len] = '\0';
        if (fin) {
            if (len >= PROGRESS_MIN && ws->cli != NULL)
                cli_progress_end(ws->cli);
            return VT_OK;
        }
    }
}

enum vt_status net_rpc_call(struct net_ws *ws, const char *method, json_t *params, json_t **result,
                            struct net_rpc_error *rerr, struct vt_error *err)
{
    *result = NULL;
    rerr->code = 0;
    rerr->message[0] = '\0';
    uint64_t id = ws->next_id++;
    json_t *req =
        json_pack("{s:s,s:I,s:s}", "jsonrpc", "2.0", "id", (json_int_t)id, "method", method);
    if (params != NULL)
        json_object_set_new(req, "params", params);
    struct vt_buf b;
    vt_buf_init(&b, NET_MESSAGE_MAX);
    enum vt_status st = vt_jcs_write(req, &b, err);
    json_decref(req);
    if (st == VT_OK)
        st = ws_send(ws, 1, b.data, b.len, err);
    while (st == VT_OK) {
        json_t *resp = NULL;
        st = ws_recv(ws, &b, err);
        if (st == VT_OK)
            st = vt_json_parse((const char *)b.data, b.len, NET_MESSAGE_MAX, VT_JSON_MAX_DEPTH,
                               &resp, err);
        if (st != VT_OK) {
            if (st != VT_ERR_IO && st != VT_ERR_BUSY)
                vt_error_prefix(err, st, "the server's answer to %s", method);
            break;
        }
        const json_t *rid = json_object_get(resp, "id");
        /* Notifications (twin.changed) and stale answers are not ours. */
        if (!json_is_number(rid) || (uint64_t)json_number_value(rid) != id) {
            json_decref(resp);
            continue;
        }
        const json_t *e = json_object_get(resp, "error");
        if (e != NULL) {
            rerr->code = (int)json_number_value(json_object_get(e, "code"));
            const char *m = vt_json_get_str(e, "message");
            snprintf(rerr->message, sizeof(rerr->message), "%s", m ? m : "no message");
            if (rerr->code == 0)
                rerr->code = -32603;
        } else {
            *result = json_incref(json_object_get(resp, "result"));
            if (*result == NULL)
                *result = json_null();
        }
        json_decref(resp);
        break;
    }
    vt_buf_release(&b);
    return st;
}
