/* vitae: the learner's wallet, the verifier's tool and HR's command line. Dispatches to one
 * command from the commands[] table. */
#include "wallet-cli/wallet.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VITAE_VERSION "0.1.0"

static const struct cli_command commands[] = {
    {"init", cmd_init,
     "vitae init [--kdf interactive|moderate|sensitive] [--import KEYFILE] [--force]",
     "create the wallet and its passphrase-protected key", false},
    {"whoami", cmd_whoami, "vitae whoami", "print the wallet's did:key and server", false},
    {"key", cmd_key,
     "vitae key rotate\n"
     "vitae key list\n"
     "vitae key export [--jwk] [--secret]",
     "rotate, list and export the wallet key", false},
    {"backup", cmd_backup, "vitae backup FILE", "write an encrypted backup of the wallet", false},
    {"restore", cmd_restore, "vitae restore [--force] FILE", "restore the wallet from a backup",
     false},
    {"connect", cmd_connect, "vitae connect URL", "log in to a vitaed server and remember it",
     false},
    {"records", cmd_records, "vitae records [--learner ID] [--from SEQ] [--limit N] [--all]",
     "list my ledger events", false},
    {"twin", cmd_twin,
     "vitae twin [show] [--learner ID]\n"
     "vitae twin export [--learner ID] [--recipient DID] FILE\n"
     "vitae twin import FILE\n"
     "vitae twin verify [--unseal] FILE|-",
     "show, export, import and verify my digital twin", false},
    {"credentials", cmd_credentials,
     "vitae credentials import FILE|-\n"
     "vitae credentials list\n"
     "vitae credentials show ID\n"
     "vitae credentials export [--format json|jwt|cose] ID\n"
     "vitae credentials remove ID",
     "keep credentials in the wallet", false},
    {"present", cmd_present, "vitae present --challenge C --domain D [--credential ID]...",
     "sign a presentation of my credentials for a verifier", false},
    {"verify", cmd_verify,
     "vitae verify [--json] [--key KEYFILE]... [--did-document FILE]...\n"
     "             [--status-list [URL=]FILE]... [--offline] [--challenge C] [--domain D]\n"
     "             [--now T] [--unseal] FILE|-",
     "verify a credential, presentation or twin bundle", true},
    {"consent", cmd_consent,
     "vitae consent grant --scope SCOPE[,SCOPE]... [--expires T | --days N] AUDIENCE\n"
     "vitae consent revoke ID\n"
     "vitae consent list",
     "grant, revoke and list access to my record", false},
    {"erase", cmd_erase, "vitae erase [--yes] [--learner ID]",
     "erase a learner's record on the server", false},
    {"readiness", cmd_readiness,
     "vitae readiness [--learner ID] ROLE\n"
     "vitae readiness --team ROLE",
     "show readiness for a role (HR)", false},
    {"call", cmd_call, "vitae call METHOD [PARAMS|-]", "call any server method (JSON-RPC)", false},
    {"sign", cmd_sign,
     "vitae sign --key KEYFILE [--format di|jwt|cose] [--alg EdDSA|ES256|RS256] [--created T]\n"
     "           [--verification-method VM] [--purpose P] [--challenge C] [--domain D]\n"
     "           [--vc-claim] FILE|-",
     "sign a credential or presentation and print it", true},
    {"jcs", cmd_jcs, "vitae jcs FILE|-", "print the RFC 8785 canonical form of a JSON document",
     true},
};

const struct cli_command *cli_find(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

/* Every line of a synopsis is indented past "usage: " so that continuation lines keep their
 * alignment; the man page SYNOPSIS holds the same lines without the indent. */
void cli_usage(const struct cli_command *cmd, FILE *f)
{
    const char *p = cmd->usage;
    for (bool first = true; *p; first = false) {
        size_t n = strcspn(p, "\n");
        fprintf(f, "%s%.*s\n", first ? "usage: " : "       ", (int)n, p);
        p += n + (p[n] == '\n');
    }
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
    case VT_ERR_BUSY:
        return EXIT_TEMPFAIL;
    case VT_ERR_INVALID:
    case VT_ERR_NONCANONICAL:
    case VT_ERR_TRUNCATED:
    case VT_ERR_TOO_LARGE:
    case VT_ERR_TOO_DEEP:
    case VT_ERR_DUPLICATE:
    case VT_ERR_UNSUPPORTED:
    case VT_ERR_EXISTS:
    case VT_ERR_CONFLICT:
        return EXIT_DATAERR;
    case VT_ERR_VERIFY:
        return EXIT_NOT_VALID;
    default:
        return EXIT_SOFTWARE;
    }
}

const char *cli_exit_name(int code)
{
    switch (code) {
    case EXIT_OK:
        return "ok";
    case EXIT_NOT_VALID:
        return "not-valid";
    case EXIT_USAGE:
        return "usage";
    case EXIT_DATAERR:
        return "bad-data";
    case EXIT_NOINPUT:
        return "no-input";
    case EXIT_UNAVAILABLE:
        return "unavailable";
    case EXIT_IOERR:
        return "io";
    case EXIT_TEMPFAIL:
        return "retry";
    case EXIT_NOPERM:
        return "permission";
    case EXIT_CONFIG:
        return "config";
    default:
        return "internal";
    }
}

int cli_common_option(struct cli *cli, int c)
{
    switch (c) {
    case CLI_OPT_JSON:
        cli->json = true;
        return -1;
    case CLI_OPT_WALLET: {
        struct vt_error err;
        cli->wallet_opt = optarg;
        if (wallet_resolve(cli, &err) != VT_OK)
            return cli_usage_error(cli, "%s", err.msg);
        return -1;
    }
    case CLI_OPT_PASSPHRASE_FILE:
        cli->passphrase_file = optarg;
        return -1;
    case CLI_OPT_HELP:
        cli_usage(cli->cmd, stdout);
        return EXIT_OK;
    case '?':
    case ':':
        cli->failed = true;
        cli->fail_code = EXIT_USAGE;
        snprintf(cli->fail_msg, sizeof(cli->fail_msg), "invalid command line");
        cli_usage(cli->cmd, stderr);
        return EXIT_USAGE;
    default:
        return -2;
    }
}

static void main_usage(FILE *f)
{
    fprintf(f, "usage: vitae [--json] [--wallet DIR] [--passphrase-file FILE] <command> "
               "[options] [args]\n"
               "       vitae --help | --version\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'vitae <command> --help' for a command's options, 'man vitae' for more.\n");
}

/* Takes the global options that stand before the command name; returns the index of the
 * command, or a negative exit code (already reported) negated. */
static int global_options(struct cli *cli, int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        const char **slot = strcmp(a, "--wallet") == 0            ? &cli->wallet_opt
                            : strcmp(a, "--passphrase-file") == 0 ? &cli->passphrase_file
                                                                  : NULL;
        if (strcmp(a, "--json") == 0) {
            cli->json = true;
        } else if (slot != NULL) {
            if (i + 1 == argc) {
                fprintf(stderr, "vitae: option '%s' needs a value\n", a);
                return -EXIT_USAGE;
            }
            *slot = argv[++i];
        } else if (strncmp(a, "--wallet=", 9) == 0) {
            cli->wallet_opt = a + 9;
        } else if (strncmp(a, "--passphrase-file=", 18) == 0) {
            cli->passphrase_file = a + 18;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            main_usage(stdout);
            return -EXIT_OK;
        } else if (strcmp(a, "--version") == 0) {
            printf("vitae %s\n", VITAE_VERSION);
            return -EXIT_OK;
        } else {
            fprintf(stderr, "vitae: unknown option '%s'\n", a);
            main_usage(stderr);
            return -EXIT_USAGE;
        }
    }
    if (i == argc) {
        main_usage(stderr);
        return -EXIT_USAGE;
    }
    return i;
}

static void print_outcome(struct cli *cli, int rc)
{
    if (cli->cmd->own_output)
        return;
    if (!cli->json) {
        if (cli->result != NULL && cli->print != NULL && (rc == EXIT_OK || !cli->failed))
            cli->print(cli->result);
        return;
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "version", json_integer(1));
    if (rc == EXIT_OK || (cli->result != NULL && !cli->failed)) {
        if (cli->result != NULL)
            json_object_update(doc, cli->result);
    } else {
        json_t *e = json_object();
        json_object_set_new(e, "code", json_string(cli_exit_name(rc)));
        json_object_set_new(e, "exit", json_integer(rc));
        json_object_set_new(e, "message",
                            json_string(cli->failed ? cli->fail_msg : "the command failed"));
        json_object_set_new(doc, "error", e);
    }
    cli_write_json(doc);
    json_decref(doc);
}

int main(int argc, char **argv)
{
    struct vt_error err;
    struct cli cli;
    memset(&cli, 0, sizeof(cli));
    if (vt_core_init(&err) != VT_OK) {
        fprintf(stderr, "vitae: %s\n", err.msg);
        return EXIT_SOFTWARE;
    }
    int first = global_options(&cli, argc, argv);
    if (first <= 0)
        return -first;
    const char *name = argv[first];
    if (strcmp(name, "help") == 0 && first + 1 < argc && cli_find(argv[first + 1]) != NULL) {
        cli_usage(cli_find(argv[first + 1]), stdout);
        return EXIT_OK;
    }
    cli.cmd = cli_find(name);
    if (cli.cmd == NULL) {
        fprintf(stderr, "vitae: '%s' is not a vitae command; see 'vitae --help'\n", name);
        if (cli.json) {
            cli.cmd = &(struct cli_command){.name = name};
            cli_fail(&cli, EXIT_USAGE, "'%s' is not a vitae command", name);
            print_outcome(&cli, EXIT_USAGE);
        }
        return EXIT_USAGE;
    }
    if (wallet_resolve(&cli, &err) != VT_OK) {
        int rc = cli_fail(&cli, EXIT_CONFIG, "%s", err.msg);
        print_outcome(&cli, rc);
        return rc;
    }
    optind = 1;
    int rc = cli.cmd->run(&cli, argc - first, argv + first);
    print_outcome(&cli, rc);
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc != EXIT_IOERR) {
        fprintf(stderr, "vitae %s: cannot write the result: output error\n", name);
        rc = EXIT_IOERR;
    }
    json_decref(cli.result);
    return rc;
}
