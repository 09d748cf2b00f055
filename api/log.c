/*
 * logfmt logging on stderr: one line per event, "ts=... level=... event=..." followed by
 * the caller's key=value pairs. Keys, tokens and whole credentials never reach a log line;
 * callers pass identifiers and sizes only.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"

enum api_log_level api_log_level_cur = API_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void api_log_set_level(enum api_log_level level)
{
    api_log_level_cur = level;
}

int64_t api_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void api_log_value(const char *s, char *out, size_t n)
{
    bool quote = *s == '\0';
    for (const char *p = s; *p && !quote; p++) {
        if (*p == ' ' || *p == '"' || *p == '=' || (unsigned char)*p < 0x20)
            quote = true;
    }
    size_t o = 0;
    if (n == 0)
        return;
    if (quote && o + 1 < n)
        out[o++] = '"';
    for (const char *p = s; *p && o + 3 < n; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            out[o++] = '\\';
            out[o++] = c == '\n' ? 'n' : '?';
        } else {
            out[o++] = (char)c;
        }
    }
    if (quote && o + 1 < n)
        out[o++] = '"';
    out[o] = '\0';
}

void api_log_write(enum api_log_level level, const char *event, const char *fmt, ...)
{
    char ts[VT_TIME_MAX];
    char line[2048];
    vt_time_format(vt_time_now_ms(), ts);
    int n = snprintf(line, sizeof(line), "ts=%s level=%s event=%s", ts, level_names[level], event);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    if (fmt && *fmt && len + 1 < sizeof(line)) {
        line[len++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
        va_end(ap);
        if (m > 0)
            len += (size_t)m < sizeof(line) - len ? (size_t)m : sizeof(line) - len - 1;
    }
    line[len++] = '\n';
    /* One write per line keeps lines from different threads whole. */
    fwrite(line, 1, len, stderr);
    fflush(stderr);
}
