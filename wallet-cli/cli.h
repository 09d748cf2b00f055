/*
 * The vitae command-line wallet: shared pieces of the commands.
 *
 * Each command is `int cmd_<name>(struct cli *cli, int argc, char **argv)` and returns a
 * sysexits exit code (the table is in specs/wallet.md §5). A command reports its result by
 * setting cli->result (a JSON object) and, for the readable form, cli->print; main prints
 * exactly one JSON document under --json, also on failure. Failures go through cli_fail,
 * which prints one line on stderr and keeps the message for the JSON error object.
 *
 * Formats and contracts: specs/wallet.md.
 */
#ifndef VITAE_WALLET_CLI_H
#define VITAE_WALLET_CLI_H

#include <limits.h>
#include <stdio.h>

#include "credential/credential.h"

enum {
    EXIT_OK = 0,
    EXIT_NOT_VALID = 1,
    EXIT_USAGE = 64,
    EXIT_DATAERR = 65,
    EXIT_NOINPUT = 66,
    EXIT_UNAVAILABLE = 69,
    EXIT_SOFTWARE = 70,
    EXIT_IOERR = 74,
    EXIT_TEMPFAIL = 75,
    EXIT_NOPERM = 77,
    EXIT_CONFIG = 78,
};

/* Longest passphrase read from any source, in bytes. */
#define CLI_PASSPHRASE_MAX 1024

struct cli;

struct cli_command {
    const char *name;
    int (*run)(struct cli *cli, int argc, char **argv);
    const char *usage; /* the SYNOPSIS line(s), without "usage: " */
    const char *summary;
    bool own_output; /* prints its own result (sign, jcs, verify) */
};

struct cli {
    const struct cli_command *cmd;
    bool json;
    const char *wallet_opt;      /* --wallet DIR, or NULL */
    const char *passphrase_file; /* --passphrase-file FILE, or NULL */
    char wallet[PATH_MAX];       /* the resolved wallet directory */
    /* The result: printed with "version":1 under --json, else through print. */
    json_t *result;
    void (*print)(const json_t *result);
    /* The failure, once cli_fail ran. */
    bool failed;
    int fail_code;
    char fail_msg[VT_ERROR_MSG_MAX + 128];
};

/*
 * Options every command accepts, before or after the command name. Their getopt values are
 * above 0x100 so that commands keep the whole ASCII range for their own options.
 */
enum {
    CLI_OPT_JSON = 0x101,
    CLI_OPT_WALLET,
    CLI_OPT_PASSPHRASE_FILE,
    CLI_OPT_HELP = 'h',
};
#define CLI_COMMON_OPTIONS                                                                         \
    {"json", no_argument, NULL, CLI_OPT_JSON},                                                     \
        {"wallet", required_argument, NULL, CLI_OPT_WALLET},                                       \
        {"passphrase-file", required_argument, NULL, CLI_OPT_PASSPHRASE_FILE},                     \
    {                                                                                              \
        "help", no_argument, NULL, CLI_OPT_HELP                                                    \
    }

/*
 * Handles a common option seen by a command's getopt loop. Returns -1 when c was handled
 * (continue parsing), EXIT_OK after printing --help, EXIT_USAGE for an unknown option
 * (after printing the usage), or -2 when c is not a common option.
 */
int cli_common_option(struct cli *cli, int c);

/* The exit code for a status: the one table of status → exit code. */
int cli_exit_code(enum vt_status st);
/* The stable name of an exit code for JSON error objects ("usage", "permission", ...). */
const char *cli_exit_name(int code);

/* Prints "vitae <cmd>: <message>" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) VT_PRINTF(2, 3);
/* Prints "vitae <cmd>: warning: <message>" on stderr (never under --json's stdout). */
void cli_warn(struct cli *cli, const char *fmt, ...) VT_PRINTF(2, 3);
/* Records the failure (for the JSON error object), prints it on stderr, returns code. */
int cli_fail(struct cli *cli, int code, const char *fmt, ...) VT_PRINTF(3, 4);
/* cli_fail with the exit code of err's status and err's message. */
int cli_fail_err(struct cli *cli, const struct vt_error *err);
/* A usage mistake: prints the message and the usage on stderr; returns EXIT_USAGE. */
int cli_usage_error(struct cli *cli, const char *fmt, ...) VT_PRINTF(2, 3);

/* Prints the usage of cmd to f (stdout for --help, stderr for mistakes). */
void cli_usage(const struct cli_command *cmd, FILE *f);
const struct cli_command *cli_find(const char *name);

/* Sets the result (takes the reference) and the function that prints it readably. */
void cli_set_result(struct cli *cli, json_t *result, void (*print)(const json_t *));

/* Reads FILE or "-" (capped at max bytes) into b, which this initializes. */
enum vt_status cli_read_file(const char *path, size_t max, struct vt_buf *b, struct vt_error *err);
/* Reads FILE or "-" (capped at CRED_DOC_MAX) into b. */
enum vt_status cli_read_input(const char *path, struct vt_buf *b, struct vt_error *err);
/*
 * Writes n bytes to path atomically (temporary file in the same directory, fsync, rename)
 * with the given mode. VT_ERR_EXISTS when exclusive and path exists; VT_ERR_IO otherwise.
 */
enum vt_status cli_write_file(const char *path, const void *p, size_t n, unsigned mode,
                              bool exclusive, struct vt_error *err);

/* Writes b to stdout, then a newline when nl; false on an output error. */
bool cli_write(const void *p, size_t n, bool nl);
/* Writes doc to stdout as indented JSON and a newline; false on an output error. */
bool cli_write_json(const json_t *doc);

/* True when standard error is a terminal and --json is off: progress may be drawn. */
bool cli_progress_enabled(const struct cli *cli);
/* Draws "label [#####     ] 42%" on stderr (done ≤ total); total 0 draws nothing. */
void cli_progress(const struct cli *cli, const char *label, uint64_t done, uint64_t total);
/* Clears the progress line. */
void cli_progress_end(const struct cli *cli);

int cmd_sign(struct cli *cli, int argc, char **argv);
int cmd_verify(struct cli *cli, int argc, char **argv);
int cmd_jcs(struct cli *cli, int argc, char **argv);
int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_whoami(struct cli *cli, int argc, char **argv);
int cmd_key(struct cli *cli, int argc, char **argv);
int cmd_backup(struct cli *cli, int argc, char **argv);
int cmd_restore(struct cli *cli, int argc, char **argv);
int cmd_credentials(struct cli *cli, int argc, char **argv);
int cmd_present(struct cli *cli, int argc, char **argv);
int cmd_connect(struct cli *cli, int argc, char **argv);
int cmd_records(struct cli *cli, int argc, char **argv);
int cmd_twin(struct cli *cli, int argc, char **argv);
int cmd_consent(struct cli *cli, int argc, char **argv);
int cmd_erase(struct cli *cli, int argc, char **argv);
int cmd_readiness(struct cli *cli, int argc, char **argv);
int cmd_call(struct cli *cli, int argc, char **argv);

/* Offline verification of a portable twin bundle (shared by verify and twin verify). */
int cli_verify_bundle(struct cli *cli, const uint8_t *bundle, size_t n, const uint8_t *x25519_sk);
/* True when the bytes look like a portable twin bundle (a CBOR map with format first). */
bool cli_is_bundle(const uint8_t *p, size_t n);

#endif
