/*
 * Helpers for the CLI tests that a shell cannot do alone.
 *
 *   cli_helper pty [-s LINE]... -- CMD [ARG]...
 *       Runs CMD on a new pseudo-terminal (its controlling terminal). For each -s LINE, in
 *       order, waits for a new passphrase prompt in the terminal output and types LINE and
 *       Enter. Copies everything the terminal showed to stdout and exits with CMD's exit
 *       status, so a test can check that the typed passphrase was not echoed.
 *
 *   cli_helper silent-server PORTFILE
 *       Listens on a free loopback port, writes it to PORTFILE, and accepts connections
 *       without ever answering: a server that hangs, for the "retry" exit code.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_LINES 8
#define OUT_MAX 65536
/* A generous bound so that a broken prompt fails the test instead of hanging it. */
#define WAIT_MS 120000

static char out[OUT_MAX];
static size_t out_len;

/* Reads what the terminal shows; false at EOF (the child closed it). */
static int pump(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, timeout_ms);
    if (r <= 0)
        return r;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0)
        return -1;
    if (out_len + (size_t)n < OUT_MAX) {
        memcpy(out + out_len, buf, (size_t)n);
        out_len += (size_t)n;
        out[out_len] = '\0';
    }
    return 1;
}

static int run_pty(int argc, char **argv)
{
    const char *lines[MAX_LINES];
    int nlines = 0, i = 2;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-s") == 0 && i + 1 < argc && nlines < MAX_LINES) {
            lines[nlines++] = argv[++i];
        } else {
            fprintf(stderr, "cli_helper pty: bad arguments\n");
            return 64;
        }
    }
    if (i + 1 >= argc) {
        fprintf(stderr, "cli_helper pty: no command\n");
        return 64;
    }
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    if (pid < 0) {
        perror("forkpty");
        return 71;
    }
    if (pid == 0) {
        execvp(argv[i + 1], argv + i + 1);
        _exit(127);
    }
    size_t seen = 0;
    for (int k = 0; k < nlines; k++) {
        char *prompt = NULL;
        for (int waited = 0; prompt == NULL && waited < WAIT_MS; waited += 100) {
            prompt = strstr(out + seen, "assphrase");
            if (prompt == NULL && pump(master, 100) < 0)
                break;
        }
        if (prompt == NULL) {
            fprintf(stderr, "cli_helper pty: no passphrase prompt %d; terminal showed:\n%s\n",
                    k + 1, out);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return 70;
        }
        /* vitae turns echo off before it writes the prompt, so typing now is safe. */
        while (strchr(prompt, ':') == NULL && pump(master, 100) >= 0)
            prompt = strstr(out + seen, "assphrase");
        seen = out_len;
        if (write(master, lines[k], strlen(lines[k])) < 0 || write(master, "\n", 1) < 0) {
            perror("write");
            return 71;
        }
    }
    while (pump(master, WAIT_MS) > 0)
        ;
    int status;
    waitpid(pid, &status, 0);
    close(master);
    fwrite(out, 1, out_len, stdout);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int silent_server(const char *portfile)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        perror("silent-server");
        return 71;
    }
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
    FILE *f = fopen(tmp, "w");
    if (f == NULL || fprintf(f, "%d\n", ntohs(a.sin_port)) < 0 || fclose(f) != 0 ||
        rename(tmp, portfile) != 0) {
        perror(portfile);
        return 74;
    }
    int held[64], n = 0;
    for (;;) {
        int c = accept(fd, NULL, NULL);
        if (c < 0 && errno == EINTR)
            continue;
        if (c < 0)
            return 71;
        if (n == 64)
            close(held[--n]);
        held[n++] = c;
    }
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "pty") == 0)
        return run_pty(argc, argv);
    if (argc == 3 && strcmp(argv[1], "silent-server") == 0)
        return silent_server(argv[2]);
    fprintf(stderr, "usage: cli_helper pty [-s LINE]... -- CMD [ARG]...\n"
                    "       cli_helper silent-server PORTFILE\n");
    return 64;
}
