/* vitae: the learner's wallet and the verifier's tool. Dispatches to one command from the
 * commands[] table. */
#include "wallet-cli/cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define VITAE_VERSION "0.1.0"

static const struct cli_command commands[] = {
    {"sign", cmd_sign,
     "vitae sign --key KEYFILE [--format di|jwt|cose] [--alg EdDSA|ES256|RS256] [--created T]\n"
     "           [--verification-method VM] [--purpose P] [--challenge C] [--domain D]\n"
     "           [--vc-claim] FILE|-",
     "sign a credential or presentation and print it"},
    {"verify", cmd_verify,
     "vitae verify [--json] [--key KEYFILE]... [--did-document FILE]...\n"
     "             [--status-list [URL=]FILE]... [--challenge C] [--domain D] [--now T] FILE|-",
     "verify a credential or presentation in any supported format"},
    {"jcs", cmd_jcs, "vitae jcs FILE|-", "print the RFC 8785 canonical form of a JSON document"},
};

const struct cli_command *cli_find(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

void cli_usage(const struct cli_command *cmd, FILE *f)
{
    fprintf(f, "usage: %s\n", cmd->usage);
}

int cli_exit_code(enum vt_status st)
{
    switch (st) {
    case VT_OK:
        return EXIT_OK;
    case VT_ERR_NOT_FOUND:
        return EXIT_NOINPUT;
    case VT_ERR_IO:
    case VT_ERR_FULL:
        return EXIT_IOERR;
    case VT_ERR_PERMISSION:
        return EXIT_NOPERM;
    case VT_ERR_INVALID:
    case VT_ERR_NONCANONICAL:
    case VT_ERR_TRUNCATED:
    case VT_ERR_TOO_LARGE:
    case VT_ERR_TOO_DEEP:
    case VT_ERR_DUPLICATE:
    case VT_ERR_UNSUPPORTED:
        return EXIT_DATAERR;
    case VT_ERR_VERIFY:
        return EXIT_NOT_VALID;
    default:
        return EXIT_SOFTWARE;
    }
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vitae %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

enum vt_status cli_read_input(const char *path, struct vt_buf *b, struct vt_error *err)
{
    vt_buf_init(b, CRED_DOC_MAX);
    enum vt_status st = vt_buf_read_file(b, path, err);
    if (st != VT_OK)
        return vt_error_prefix(err, "cannot read '%s'", path);
    return VT_OK;
}

bool cli_write(const void *p, size_t n, bool nl)
{
    if (fwrite(p, 1, n, stdout) != n || (nl && fputc('\n', stdout) == EOF))
        return false;
    return fflush(stdout) == 0;
}

static void main_usage(FILE *f)
{
    fprintf(f, "usage: vitae [--help] [--version] <command> [options] [args]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'vitae <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    struct vt_error err;
    if (vt_core_init(&err) != VT_OK) {
        fprintf(stderr, "vitae: %s\n", err.msg);
        return EXIT_SOFTWARE;
    }
    if (argc < 2) {
        main_usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        main_usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("vitae %s\n", VITAE_VERSION);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "help") == 0 && argc == 3 && cli_find(argv[2]) != NULL) {
        cli_usage(cli_find(argv[2]), stdout);
        return EXIT_OK;
    }
    const struct cli_command *cmd = cli_find(argv[1]);
    if (cmd == NULL) {
        fprintf(stderr, "vitae: '%s' is not a vitae command\n", argv[1]);
        main_usage(stderr);
        return EXIT_USAGE;
    }
    optind = 1;
    return cmd->run(argc - 1, argv + 1);
}
