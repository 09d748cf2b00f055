/*
 * The vitae command-line wallet: shared pieces of the commands. Each command is
 * `int cmd_<name>(int argc, char **argv)` and returns a sysexits exit code.
 */
#ifndef VITAE_WALLET_CLI_H
#define VITAE_WALLET_CLI_H

#include "credential/credential.h"

enum {
    EXIT_OK = 0,
    EXIT_NOT_VALID = 1,
    EXIT_USAGE = 64,
    EXIT_DATAERR = 65,
    EXIT_NOINPUT = 66,
    EXIT_SOFTWARE = 70,
    EXIT_IOERR = 74,
    EXIT_NOPERM = 77,
};

struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage; /* the SYNOPSIS line(s), without "usage: " */
    const char *summary;
};

/* The one table of status → exit code. */
int cli_exit_code(enum vt_status st);

/* Prints "vitae <cmd>: <message>" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) VT_PRINTF(2, 3);

/* Prints the usage of cmd to f (stdout for --help, stderr for mistakes). */
void cli_usage(const struct cli_command *cmd, FILE *f);
const struct cli_command *cli_find(const char *name);

/* Reads FILE or "-" (capped at CRED_DOC_MAX) into b. */
enum vt_status cli_read_input(const char *path, struct vt_buf *b, struct vt_error *err);

/* Writes b to stdout, then a newline when nl; false on an output error. */
bool cli_write(const void *p, size_t n, bool nl);

int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_jcs(int argc, char **argv);

#endif
