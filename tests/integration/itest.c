/*
 * The harness behind itest.h. Blocking sockets on 127.0.0.1 only; a hand-written
 * RFC 6455 client (masked frames, fragmentation, control frames) so the tests depend on
 * nothing but the system.
 */
#include "itest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

#ifndef VITAED_PATH
#error "VITAED_PATH must be defined"
#endif

static void die(const char *what)
{
    fprintf(stderr, "itest: %s: %s\n", what, strerror(errno));
    abort();
}

void itest_tempdir(char out[256])
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, 256, "%s/vitae-itest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(out))
        die("mkdtemp");
}

void itest_rmrf(const char *dir)
{
    if (getenv("ITEST_KEEP"))
        return;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "itest: cannot remove %s\n", dir);
}

static bool read_small(const char *path, char *out, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t got = fread(out, 1, n - 1, f);
    fclose(f);
    out[got] = '\0';
    while (got > 0 && (out[got - 1] == '\n' || out[got - 1] == '\r'))
        out[--got] = '\0';
    return got > 0;
}

void itest_start(struct itest_server *s, const char *dir, const char *const *extra)
{
    char portfile[300], log[300], data[300];
    s->pid = 0;
    s->port = 0;
    if (s->dir != dir)
        snprintf(s->dir, sizeof(s->dir), "%s", dir);
    snprintf(data, sizeof(data), "%s/data", dir);
    snprintf(portfile, sizeof(portfile), "%s/port", dir);
    snprintf(log, sizeof(log), "%s/vitaed.log", dir);
    unlink(portfile);
    const char *argv[64];
    int argc = 0;
    argv[argc++] = VITAED_PATH;
    argv[argc++] = "--data";
    argv[argc++] = data;
    argv[argc++] = "--listen";
    argv[argc++] = "127.0.0.1:0";
    argv[argc++] = "--port-file";
    argv[argc++] = portfile;
    argv[argc++] = "--log-level";
    argv[argc++] = "debug";
    for (int i = 0; extra && extra[i] && argc < 60; i++) {
        argv[argc++] = "--set";
        argv[argc++] = extra[i];
    }
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(VITAED_PATH, (char *const *)argv);
        _exit(127);
    }
    s->pid = pid;
    /* Wait (generously) for the port file; this is readiness, not a timing check. */
    char buf[32];
    for (int i = 0; i < 3000; i++) {
        if (read_small(portfile, buf, sizeof(buf))) {
            s->port = atoi(buf);
            break;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            fprintf(stderr, "itest: vitaed exited early; see %s\n", log);
            abort();
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (s->port <= 0) {
        fprintf(stderr, "itest: vitaed did not start; see %s\n", log);
        abort();
    }
    char path[320];
    snprintf(path, sizeof(path), "%s/admin.token", data);
    if (!read_small(path, s->token, sizeof(s->token)))
        s->token[0] = '\0';
    snprintf(path, sizeof(path), "%s/admin.key", data);
    if (vt_keyfile_read(path, &s->admin, NULL) != VT_OK)
        memset(&s->admin, 0, sizeof(s->admin));
}

int itest_stop(struct itest_server *s, int sig)
{
    if (s->pid <= 0)
        return -1;
    kill(s->pid, sig);
    int st = 0;
    while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
        ;
    s->pid = 0;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + WTERMSIG(st);
}

int itest_check(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "'%s' --check --data '%s/data' >>'%s/check.log' 2>&1", VITAED_PATH,
             dir, dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int tcp_connect_buf(int port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct timeval tv = {60, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static int tcp_connect(int port)
{
    return tcp_connect_buf(port, 0);
}

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n > 0) {
        ssize_t r = recv(fd, b, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Reads the response head (up to the blank line) into head; returns its length or -1. */
static int read_head(int fd, char *head, size_t n)
{
    size_t len = 0;
    while (len + 1 < n) {
        if (read_all(fd, head + len, 1) != 0)
            return -1;
        len++;
        if (len >= 4 && !memcmp(head + len - 4, "\r\n\r\n", 4))
            break;
    }
    head[len] = '\0';
    return (int)len;
}

static long header_value(const char *head, const char *name)
{
    const char *p = head;
    size_t nl = strlen(name);
    while ((p = strchr(p, '\n'))) {
        p++;
        if (!strncasecmp(p, name, nl) && p[nl] == ':')
            return strtol(p + nl + 1, NULL, 10);
    }
    return -1;
}

int itest_http(int port, const char *method, const char *path, const char *headers,
               const char *body, size_t body_len, struct vt_buf *body_out)
{
    int fd = tcp_connect(port);
    if (fd < 0)
        return -1;
    char req[4096];
    int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s", method, path,
                     headers ? headers : "");
    if (body)
        n += snprintf(req + n, sizeof(req) - (size_t)n, "Content-Length: %zu\r\n", body_len);
    n += snprintf(req + n, sizeof(req) - (size_t)n, "Connection: close\r\n\r\n");
    int status = -1;
    char head[8192];
    if (write_all(fd, req, (size_t)n) == 0) {
        /* A server may answer and close before taking the whole body (413), so the
         * response is read even when writing the body fails. */
        if (body != NULL)
            (void)write_all(fd, body, body_len);
        if (read_head(fd, head, sizeof(head)) > 0) {
            status = atoi(head + 9);
            long cl = header_value(head, "content-length");
            if (body_out && cl > 0) {
                uint8_t *tmp = malloc((size_t)cl);
                if (read_all(fd, tmp, (size_t)cl) == 0)
                    (void)vt_buf_append(body_out, tmp, (size_t)cl, NULL);
                free(tmp);
            }
        }
    }
    close(fd);
    return status;
}

static int ws_upgrade(int fd, const char *path, const char *subprotocol, const char *bearer,
                      int *status);

int itest_ws_connect(int port, const char *path, const char *subprotocol, const char *bearer,
                     int *status)
{
    return ws_upgrade(tcp_connect(port), path, subprotocol, bearer, status);
}

int itest_ws_connect_rcvbuf(int port, const char *bearer, int rcvbuf, int *status)
{
    return ws_upgrade(tcp_connect_buf(port, rcvbuf), "/v1", "vitae.v1", bearer, status);
}

int itest_write_raw(int fd, const void *p, size_t n)
{
    return write_all(fd, p, n);
}

static int ws_upgrade(int fd, const char *path, const char *subprotocol, const char *bearer,
                      int *status)
{
    if (status)
        *status = -1;
    if (fd < 0)
        return -1;
    char req[2048];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n",
                     path);
    if (subprotocol)
        n += snprintf(req + n, sizeof(req) - (size_t)n, "Sec-WebSocket-Protocol: %s\r\n",
                      subprotocol);
    if (bearer)
        n += snprintf(req + n, sizeof(req) - (size_t)n, "Authorization: Bearer %s\r\n", bearer);
    n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
    char head[4096];
    if (write_all(fd, req, (size_t)n) != 0 || read_head(fd, head, sizeof(head)) <= 0) {
        close(fd);
        return -1;
    }
    int st = atoi(head + 9);
    if (status)
        *status = st;
    if (st != 101) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_frame(int fd, int opcode, bool fin, const uint8_t *p, size_t len)
{
    uint8_t hdr[14];
    size_t h = 0;
    hdr[h++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
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
    uint8_t mask[4];
    vt_random_bytes(mask, 4);
    memcpy(hdr + h, mask, 4);
    h += 4;
    uint8_t *m = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++)
        m[i] = p[i] ^ mask[i & 3];
    int rc = write_all(fd, hdr, h);
    if (rc == 0)
        rc = write_all(fd, m, len);
    free(m);
    return rc;
}

int itest_ws_send(int fd, int opcode, const void *data, size_t len, size_t frag)
{
    const uint8_t *p = data;
    if (frag == 0 || len <= frag)
        return send_frame(fd, opcode, true, p, len);
    size_t off = 0;
    int op = opcode;
    while (off < len) {
        size_t n = len - off < frag ? len - off : frag;
        if (send_frame(fd, op, off + n == len, p + off, n) != 0)
            return -1;
        op = 0;
        off += n;
    }
    return 0;
}

int itest_ws_recv(int fd, struct vt_buf *out)
{
    int msg_op = -1;
    vt_buf_reset(out);
    for (;;) {
        uint8_t h[2];
        if (read_all(fd, h, 2) != 0)
            return -1;
        int op = h[0] & 0x0f;
        bool fin = h[0] & 0x80;
        uint64_t len = h[1] & 0x7f;
        if (len == 126) {
            uint8_t b[2];
            if (read_all(fd, b, 2) != 0)
                return -1;
            len = vt_be16_get(b);
        } else if (len == 127) {
            uint8_t b[8];
            if (read_all(fd, b, 8) != 0)
                return -1;
            len = vt_be64_get(b);
        }
        if (len > ((uint64_t)64 << 20))
            return -1;
        uint8_t *p = malloc(len ? len : 1);
        if (read_all(fd, p, len) != 0) {
            free(p);
            return -1;
        }
        if (op == 8) {
            free(p);
            return -1;
        }
        if (op == 9 || op == 10) {
            if (op == 9)
                send_frame(fd, 10, true, p, len);
            free(p);
            continue;
        }
        if (op != 0)
            msg_op = op;
        (void)vt_buf_append(out, p, len, NULL);
        free(p);
        if (fin)
            return msg_op;
    }
}

void itest_ws_close(int fd)
{
    if (fd < 0)
        return;
    uint8_t code[2] = {0x03, 0xe8};
    send_frame(fd, 8, true, code, 2);
    close(fd);
}

static unsigned long long next_id = 1;

json_t *itest_rpc(int fd, const char *method, json_t *params)
{
    json_t *req = json_object();
    json_object_set_new(req, "jsonrpc", json_string("2.0"));
    json_object_set_new(req, "method", json_string(method));
    if (params)
        json_object_set_new(req, "params", params);
    json_object_set_new(req, "id", json_integer((json_int_t)next_id++));
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    json_t *resp = NULL;
    struct vt_buf b;
    vt_buf_init(&b, (size_t)64 << 20);
    if (itest_ws_send(fd, 1, text, strlen(text), 0) == 0 && itest_ws_recv(fd, &b) == 1)
        (void)vt_json_parse((const char *)b.data, b.len, b.len, 128, &resp, NULL);
    free(text);
    vt_buf_release(&b);
    if (!resp) {
        fprintf(stderr, "itest: no answer to %s\n", method);
        resp = json_pack("{s:{s:i,s:s}}", "error", "code", -1, "message", "no answer");
    }
    return resp;
}

int itest_rpc_code(const json_t *resp)
{
    json_t *e = json_object_get(resp, "error");
    if (!e)
        return 0;
    return (int)json_number_value(json_object_get(e, "code"));
}

json_t *itest_result(const json_t *resp)
{
    return json_object_get(resp, "result");
}

json_t *itest_login_key(int fd, const struct vt_key *key)
{
    json_t *ch = itest_rpc(fd, "auth.challenge", NULL);
    const char *nonce = vt_json_get_str(itest_result(ch), "nonce");
    const char *server = vt_json_get_str(itest_result(ch), "server");
    if (!nonce || !server) {
        return ch;
    }
    struct vt_buf msg, sig;
    vt_buf_init(&msg, 1024);
    vt_buf_init(&sig, 256);
    (void)vt_buf_printf(&msg, NULL, "vitae/auth/v1\n%s\n%s\n", nonce, server);
    uint8_t s[VT_ED25519_SIG_LEN];
    vt_key_sign(key, msg.data, msg.len, s);
    (void)vt_base64url_encode(s, sizeof(s), &sig, NULL);
    char did[VT_DIDKEY_MAX];
    vt_didkey_from_public(key->pk, did);
    json_decref(ch);
    json_t *r = itest_rpc(fd, "auth.login",
                          json_pack("{s:s,s:s}", "did", did, "signature", (const char *)sig.data));
    vt_buf_release(&msg);
    vt_buf_release(&sig);
    return r;
}

int itest_connect_as(const struct itest_server *s, const struct vt_key *key)
{
    int fd = itest_ws_connect(s->port, "/v1", "vitae.v1", NULL, NULL);
    if (fd < 0)
        abort();
    json_t *r = itest_login_key(fd, key);
    if (itest_rpc_code(r) != 0) {
        fprintf(stderr, "itest: login failed\n");
        abort();
    }
    json_decref(r);
    return fd;
}

void itest_principal(int admin_fd, const struct vt_key *key, const char *roles, char *learner_out)
{
    char did[VT_DIDKEY_MAX];
    vt_didkey_from_public(key->pk, did);
    json_t *ra = json_array();
    char tmp[128];
    snprintf(tmp, sizeof(tmp), "%s", roles);
    for (char *t = strtok(tmp, ","); t; t = strtok(NULL, ","))
        json_array_append_new(ra, json_string(t));
    json_t *r = itest_rpc(admin_fd, "admin.principal_create",
                          json_pack("{s:s,s:o,s:s}", "did", did, "roles", ra, "name", roles));
    if (itest_rpc_code(r) != 0) {
        fprintf(stderr, "itest: principal_create failed\n");
        abort();
    }
    const char *l = vt_json_get_str(itest_result(r), "learner");
    if (learner_out)
        snprintf(learner_out, 33, "%s", l ? l : "");
    json_decref(r);
}

json_t *itest_consent(const struct vt_key *learner_key, const char *learner, const char *audience,
                      const char *scope_json, const char *expires)
{
    json_t *scope = json_loads(scope_json, 0, NULL);
    json_t *grant = json_pack("{s:s,s:s,s:s,s:o,s:s}", "type", "VitaeConsent", "learner", learner,
                              "audience", audience, "scope", scope, "expires", expires);
    struct vt_buf msg, sig;
    vt_buf_init(&msg, 65536);
    vt_buf_init(&sig, 256);
    (void)vt_buf_append_str(&msg, "vitae/consent/v1\n", NULL);
    (void)vt_jcs_write(grant, &msg, NULL);
    uint8_t s[VT_ED25519_SIG_LEN];
    vt_key_sign(learner_key, msg.data, msg.len, s);
    (void)vt_base64url_encode(s, sizeof(s), &sig, NULL);
    json_t *doc = json_pack("{s:o,s:s}", "grant", grant, "signature", (const char *)sig.data);
    vt_buf_release(&msg);
    vt_buf_release(&sig);
    return doc;
}

json_t *itest_badge(const char *subject, const char *achievement)
{
    return json_pack("{s:[s,s],s:[s,s],s:{s:s,s:{s:s,s:s,s:s,s:s,s:{s:s}}}}", "@context",
                     "https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json", "type",
                     "VerifiableCredential", "OpenBadgeCredential", "credentialSubject", "id",
                     subject, "achievement", "id", achievement, "type", "Achievement", "name",
                     "Fractions", "description", "Adds and compares fractions", "criteria",
                     "narrative", "Passes the fractions assessment");
}
