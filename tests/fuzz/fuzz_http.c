/*
 * HTTP routes (api_http_run): route matching, tile paths, status list ids, and the JSON
 * bodies of the VC-API verify routes, without a bearer token. Input layout: fuzz.h
 * (FUZZ_HTTP_PATH_MAX). JSON answers must be valid JSON.
 */
#include <string.h>

#include "fuzz_api.h"

static const enum api_http_method methods[] = {API_HTTP_GET, API_HTTP_HEAD, API_HTTP_POST,
                                               API_HTTP_OTHER};
static const char *const ctypes[] = {"application/json", "application/ld+json", "text/plain", ""};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct api_server *s = fuzz_api_server();
    const uint8_t *nl = memchr(data + 1, '\n', size - 1);
    size_t path_len = nl ? (size_t)(nl - data - 1) : size - 1;
    if (path_len > FUZZ_HTTP_PATH_MAX || memchr(data + 1, '\0', path_len))
        return 0;
    size_t body_off = nl ? path_len + 2 : size;
    struct api_job *job = api_job_new(API_JOB_HTTP, s->cfg.max_message, s->cfg.max_message);
    job->method = methods[data[0] & 3];
    snprintf(job->ctype, sizeof(job->ctype), "%s", ctypes[(data[0] >> 2) & 3]);
    memcpy(job->path, data + 1, path_len);
    job->path[path_len] = '\0';
    job->conn_id = 1;
    job->id = 1;
    struct vt_error err;
    if (size - body_off > s->cfg.max_message ||
        vt_buf_append(&job->in, data + body_off, size - body_off, &err) != VT_OK) {
        api_job_free(job);
        return 0;
    }
    api_http_run(s, job);

    if (job->out_ctype && !strcmp(job->out_ctype, "application/json")) {
        json_t *doc = NULL;
        const char *p = (const char *)job->out.data + API_OUT_PRE;
        size_t n = job->out.len - API_OUT_PRE;
        if (job->out.len < API_OUT_PRE || vt_json_parse(p, n, n, 1000, &doc, &err) != VT_OK)
            fuzz_fail("http answered %d with bad JSON", job->http_status);
        json_decref(doc);
    }
    if (job->http_status < 200 || job->http_status > 599)
        fuzz_fail("http answered with status %d", job->http_status);
    api_job_free(job);
    fuzz_api_reset(s);
    return 0;
}
