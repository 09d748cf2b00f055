/*
 * vitaed: the vitae service. Parses options (defaults, then --config file, then VITAED_*
 * environment, then flags), then either initializes or checks the data directory, or
 * serves until SIGINT/SIGTERM and drains.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "api/api.h"

static struct api_server *volatile g_server;

static void on_signal(int sig)
{
    (void)sig;
    if (g_server)
        api_server_stop(g_server);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vitaed [--data DIR] [--listen HOST:PORT] [--config FILE]\n"
            "              [--tls-cert FILE --tls-key FILE] [--set KEY=VALUE]...\n"
            "              [--init | --check | --help | --version]\n"
            "\n"
            "Serves the vitae API (HTTP and WebSocket JSON-RPC at /v1) on one port.\n"
            "\n"
            "  -d, --data DIR          data directory (default %s)\n"
            "  -l, --listen HOST:PORT  listen address (default %s; port 0 picks one)\n"
            "  -c, --config FILE       configuration file of 'key = value' lines\n"
            "      --tls-cert FILE     PEM certificate: serve HTTPS/WSS\n"
            "      --tls-key FILE      PEM private key for --tls-cert\n"
            "      --port-file FILE    write the bound port to FILE once listening\n"
            "      --log-level LEVEL   error, warn, info (default) or debug\n"
            "      --xapi-basic USER:PASS\n"
            "                          make an xAPI client with HTTP Basic credentials at\n"
            "                          start (repeatable; prefer the xapi_basic key in a\n"
            "                          --config file, which keeps the password out of argv)\n"
            "  -s, --set KEY=VALUE     set any configuration key (see below)\n"
            "      --init              create the data directory, keys and a self-signed\n"
            "                          development certificate, then exit\n"
            "      --check             verify the data directory offline, then exit\n"
            "  -h, --help              show this help\n"
            "  -V, --version           show the version\n"
            "\n"
            "Precedence: defaults < --config file < VITAED_<KEY> environment < flags.\n"
            "Configuration keys:\n",
            API_DEFAULT_DATA, API_DEFAULT_LISTEN);
    if (f == stdout)
        api_config_print_keys();
}

enum {
    OPT_TLS_CERT = 256,
    OPT_TLS_KEY,
    OPT_PORT_FILE,
    OPT_LOG_LEVEL,
    OPT_INIT,
    OPT_CHECK,
    OPT_XAPI_BASIC,
};

static const struct option long_opts[] = {
    {"data", required_argument, NULL, 'd'},
    {"listen", required_argument, NULL, 'l'},
    {"config", required_argument, NULL, 'c'},
    {"set", required_argument, NULL, 's'},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"port-file", required_argument, NULL, OPT_PORT_FILE},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"init", no_argument, NULL, OPT_INIT},
    {"check", no_argument, NULL, OPT_CHECK},
    {"xapi-basic", required_argument, NULL, OPT_XAPI_BASIC},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static int exit_code(enum vt_status st)
{
    switch (st) {
    case VT_OK:
        return 0;
    case VT_ERR_INVALID:
    case VT_ERR_NOT_FOUND:
        return EX_CONFIG;
    case VT_ERR_PERMISSION:
        return EX_NOPERM;
    case VT_ERR_VERIFY:
    case VT_ERR_CONFLICT:
        return 1;
    default:
        return EX_IOERR;
    }
}

int main(int argc, char **argv)
{
    struct api_config cfg;
    api_config_init(&cfg);
    struct vt_error err;
    vt_error_clear(&err);
    const char *config = NULL;
    bool do_init = false, do_check = false;

    /* First pass: only --config, --help and --version, so the file can be read before the
     * flags that override it. */
    int opt;
    opterr = 1;
    while ((opt = getopt_long(argc, argv, "d:l:c:s:hV", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("vitaed %s\n", API_VERSION_STRING);
            return 0;
        case '?':
            usage(stderr);
            return EX_USAGE;
        default:
            break;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vitaed: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EX_USAGE;
    }
    if (config && api_config_load_file(&cfg, config, &err) != VT_OK) {
        fprintf(stderr, "vitaed: %s\n", err.msg);
        return EX_CONFIG;
    }
    if (api_config_load_env(&cfg, &err) != VT_OK) {
        fprintf(stderr, "vitaed: %s\n", err.msg);
        return EX_CONFIG;
    }
    optind = 1;
    while ((opt = getopt_long(argc, argv, "d:l:c:s:hV", long_opts, NULL)) != -1) {
        enum vt_status st = VT_OK;
        switch (opt) {
        case 'd':
            st = api_config_set(&cfg, "data", optarg, &err);
            break;
        case 'l':
            st = api_config_set(&cfg, "listen", optarg, &err);
            break;
        case OPT_TLS_CERT:
            st = api_config_set(&cfg, "tls_cert", optarg, &err);
            break;
        case OPT_TLS_KEY:
            st = api_config_set(&cfg, "tls_key", optarg, &err);
            break;
        case OPT_PORT_FILE:
            st = api_config_set(&cfg, "port_file", optarg, &err);
            break;
        case OPT_LOG_LEVEL:
            st = api_config_set(&cfg, "log_level", optarg, &err);
            break;
        case 's': {
            char kv[1024];
            snprintf(kv, sizeof(kv), "%s", optarg);
            char *eq = strchr(kv, '=');
            if (!eq) {
                fprintf(stderr, "vitaed: --set wants KEY=VALUE\n");
                return EX_USAGE;
            }
            *eq = '\0';
            st = api_config_set(&cfg, kv, eq + 1, &err);
            break;
        }
        case OPT_XAPI_BASIC:
            st = api_config_set(&cfg, "xapi_basic", optarg, &err);
            break;
        case OPT_INIT:
            do_init = true;
            break;
        case OPT_CHECK:
            do_check = true;
            break;
        default:
            break;
        }
        if (st != VT_OK) {
            fprintf(stderr, "vitaed: %s\n", err.msg);
            return st == VT_ERR_NOT_FOUND ? EX_USAGE : EX_CONFIG;
        }
    }
    api_log_set_level(cfg.log_level);
    if (vt_core_init(&err) != VT_OK) {
        fprintf(stderr, "vitaed: %s\n", err.msg);
        return EX_SOFTWARE;
    }

    if (do_init) {
        bool created;
        enum vt_status st = api_datadir_init(&cfg, &created, &err);
        if (st == VT_OK && !cfg.tls_cert[0]) {
            char cert[API_PATH_MAX + 16], key[API_PATH_MAX + 16];
            snprintf(cert, sizeof(cert), "%s/tls-cert.pem", cfg.data_dir);
            snprintf(key, sizeof(key), "%s/tls-key.pem", cfg.data_dir);
            st = api_tls_selfsigned(cfg.listen_host, cert, key, &err);
            if (st == VT_ERR_EXISTS) {
                vt_error_clear(&err);
                st = VT_OK;
            } else if (st == VT_OK) {
                printf("vitaed: development certificate %s (key %s)\n", cert, key);
            }
        }
        if (st != VT_OK) {
            fprintf(stderr, "vitaed: %s\n", err.msg);
            return exit_code(st);
        }
        printf("vitaed: data directory %s is ready%s\n", cfg.data_dir, created ? " (created)" : "");
        return 0;
    }
    if (do_check) {
        enum vt_status st = api_check(&cfg, &err);
        if (st != VT_OK) {
            fprintf(stderr, "vitaed: check failed: %s\n", err.msg);
            return exit_code(st) == 0 ? 1 : exit_code(st);
        }
        return 0;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct api_server *s;
    enum vt_status st = api_server_open(&cfg, &s, &err);
    if (st != VT_OK) {
        fprintf(stderr, "vitaed: %s\n", err.msg);
        return st == VT_ERR_IO ? EX_UNAVAILABLE : exit_code(st);
    }
    g_server = s;
    st = api_server_run(s, &err);
    g_server = NULL;
    api_server_close(s);
    if (st != VT_OK) {
        fprintf(stderr, "vitaed: %s\n", err.msg);
        return EX_SOFTWARE;
    }
    return 0;
}
