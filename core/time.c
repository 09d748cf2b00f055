/* Wall-clock time and XML Schema dateTimeStamp / RFC 3339 timestamps. */
#include "core/core.h"

#include <stdio.h>
#include <time.h>

int64_t vt_time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (valid for all int32 years). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

void vt_time_format(int64_t ms, char out[VT_TIME_MAX])
{
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int frac = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int hh = (int)(rem / 3600), mm = (int)(rem / 60 % 60), ss = (int)(rem % 60);
    /* Years before 0000 take a leading '-' and years past 9999 more digits, as the XML
     * Schema grammar that vt_time_parse reads allows. */
    const char *sign = y < 0 ? "-" : "";
    long long year = y < 0 ? -(long long)y : (long long)y;
    if (frac != 0)
        snprintf(out, VT_TIME_MAX, "%s%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", sign, year, m, d, hh,
                 mm, ss, frac);
    else
        snprintf(out, VT_TIME_MAX, "%s%04lld-%02d-%02dT%02d:%02d:%02dZ", sign, year, m, d, hh, mm,
                 ss);
}

/* Reads exactly `digits` decimal digits at s[*pos]. */
static bool read_digits(const char *s, size_t n, size_t *pos, int digits, int *value)
{
    int v = 0;
    for (int i = 0; i < digits; i++) {
        if (*pos >= n || s[*pos] < '0' || s[*pos] > '9')
            return false;
        v = v * 10 + (s[*pos] - '0');
        (*pos)++;
    }
    *value = v;
    return true;
}

static bool expect_char(const char *s, size_t n, size_t *pos, char c)
{
    if (*pos >= n || s[*pos] != c)
        return false;
    (*pos)++;
    return true;
}

static enum vt_status bad_char(struct vt_error *err, const char *what, size_t pos)
{
    return vt_error_set(err, VT_ERR_INVALID, "invalid timestamp: expected %s at offset %zu", what,
                        pos);
}

enum vt_status vt_time_parse(const char *s, size_t n, int64_t *ms_out, struct vt_error *err)
{
    size_t pos = 0;
    int month, day, hour, minute, second, ms = 0;

    /* XML Schema years: an optional '-', then four digits, or more without a leading zero;
     * nine digits cover every time an int64 of milliseconds can hold. */
    bool negative = n > 0 && s[0] == '-';
    if (negative)
        pos++;
    size_t year_start = pos;
    int64_t year = 0;
    while (pos < n && s[pos] >= '0' && s[pos] <= '9' && pos - year_start < 9) {
        year = year * 10 + (s[pos] - '0');
        pos++;
    }
    size_t year_digits = pos - year_start;
    if (year_digits < 4)
        return bad_char(err, "a year of at least four digits", pos);
    if (pos < n && s[pos] >= '0' && s[pos] <= '9')
        return bad_char(err, "a year of at most nine digits", pos);
    if (year_digits > 4 && s[year_start] == '0')
        return bad_char(err, "no leading zero in a year of more than four digits", year_start);
    if (negative)
        year = -year;
    if (!expect_char(s, n, &pos, '-'))
        return bad_char(err, "'-'", pos);
    if (!read_digits(s, n, &pos, 2, &month) || month < 1 || month > 12)
        return bad_char(err, "a month 01-12", pos);
    if (!expect_char(s, n, &pos, '-'))
        return bad_char(err, "'-'", pos);
    if (!read_digits(s, n, &pos, 2, &day) || day < 1 || day > days_in_month(year, month))
        return bad_char(err, "a day that exists in that month", pos);
    if (!expect_char(s, n, &pos, 'T'))
        return bad_char(err, "'T'", pos);
    if (!read_digits(s, n, &pos, 2, &hour) || hour > 24)
        return bad_char(err, "an hour 00-24", pos);
    if (!expect_char(s, n, &pos, ':'))
        return bad_char(err, "':'", pos);
    if (!read_digits(s, n, &pos, 2, &minute) || minute > 59)
        return bad_char(err, "minutes 00-59", pos);
    if (!expect_char(s, n, &pos, ':'))
        return bad_char(err, "':'", pos);
    if (!read_digits(s, n, &pos, 2, &second) || second > 59)
        return bad_char(err, "seconds 00-59", pos);

    bool nonzero_fraction = false;
    if (pos < n && s[pos] == '.') {
        pos++;
        size_t start = pos;
        int scale = 100;
        while (pos < n && s[pos] >= '0' && s[pos] <= '9') {
            if (s[pos] != '0')
                nonzero_fraction = true;
            ms += (s[pos] - '0') * scale;
            scale /= 10;
            pos++;
        }
        if (pos == start)
            return bad_char(err, "fraction digits", pos);
    }
    if (hour == 24 && (minute != 0 || second != 0 || nonzero_fraction))
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid timestamp: hour 24 is allowed only as 24:00:00");

    int offset_min = 0;
    if (pos < n && s[pos] == 'Z') {
        pos++;
    } else if (pos < n && (s[pos] == '+' || s[pos] == '-')) {
        int sign = s[pos] == '-' ? -1 : 1;
        int oh, om;
        pos++;
        if (!read_digits(s, n, &pos, 2, &oh))
            return bad_char(err, "offset hours", pos);
        if (!expect_char(s, n, &pos, ':'))
            return bad_char(err, "':'", pos);
        if (!read_digits(s, n, &pos, 2, &om) || om > 59 || oh > 14 || (oh == 14 && om != 0))
            return bad_char(err, "an offset within -14:00..+14:00", pos);
        offset_min = sign * (oh * 60 + om);
    } else {
        return bad_char(err, "'Z' or a ±hh:mm offset", pos);
    }
    if (pos != n)
        return bad_char(err, "end of timestamp", pos);

    int64_t days = days_from_civil(year, month, day);
    int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - (int64_t)offset_min * 60;
    int64_t total;
    if (__builtin_mul_overflow(secs, 1000, &total) || __builtin_add_overflow(total, ms, &total))
        return vt_error_set(err, VT_ERR_INVALID,
                            "invalid timestamp: outside the range of milliseconds since 1970");
    *ms_out = total;
    return VT_OK;
}
