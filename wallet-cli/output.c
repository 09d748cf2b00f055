/* What the user sees: results on stdout, one-line diagnostics on stderr, progress on a
 * terminal only. */
#include "wallet-cli/cli.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vitae %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_warn(struct cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vitae %s: warning: ", cli->cmd->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int fail_v(struct cli *cli, int code, const char *fmt, va_list ap)
{
    cli->failed = true;
    cli->fail_code = code;
    vsnprintf(cli->fail_msg, sizeof(cli->fail_msg), fmt, ap);
    cli_progress_end(cli);
    fprintf(stderr, "vitae %s: %s\n", cli->cmd->name, cli->fail_msg);
    return code;
}

int cli_fail(struct cli *cli, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = fail_v(cli, code, fmt, ap);
    va_end(ap);
    return rc;
}

int cli_fail_err(struct cli *cli, const struct vt_error *err)
{
    return cli_fail(cli, cli_exit_code(err->status), "%s", err->msg);
}

int cli_usage_error(struct cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_v(cli, EXIT_USAGE, fmt, ap);
    va_end(ap);
    cli_usage(cli->cmd, stderr);
    return EXIT_USAGE;
}

void cli_set_result(struct cli *cli, json_t *result, void (*print)(const json_t *))
{
    json_decref(cli->result);
    cli->result = result;
    cli->print = print;
}

bool cli_write(const void *p, size_t n, bool nl)
{
    if (fwrite(p, 1, n, stdout) != n || (nl && fputc('\n', stdout) == EOF))
        return false;
    return fflush(stdout) == 0;
}

bool cli_write_json(const json_t *doc)
{
    struct vt_buf b;
    vt_buf_init(&b, (size_t)256 << 20);
    bool ok = cred_json_write(doc, 2, &b, NULL) == VT_OK && cli_write(b.data, b.len, true);
    vt_buf_release(&b);
    return ok;
}

bool cli_progress_enabled(const struct cli *cli)
{
    return !cli->json && isatty(2);
}

void cli_progress(const struct cli *cli, const char *label, uint64_t done, uint64_t total)
{
    if (total == 0 || !cli_progress_enabled(cli))
        return;
    enum { WIDTH = 30 };
    if (done > total)
        done = total;
    unsigned filled = (unsigned)(done * WIDTH / total);
    char bar[WIDTH + 1];
    memset(bar, '#', filled);
    memset(bar + filled, ' ', WIDTH - filled);
    bar[WIDTH] = '\0';
    fprintf(stderr, "\r%s [%s] %3u%%", label, bar, (unsigned)(done * 100 / total));
    fflush(stderr);
}

void cli_progress_end(const struct cli *cli)
{
    if (cli_progress_enabled(cli))
        fputs("\r\033[K", stderr);
}
