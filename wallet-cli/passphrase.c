/* Where a passphrase comes from: a file, the environment, or the terminal without echo. It is
 * never taken from argv, where every user of the machine can read it. */
#include "wallet-cli/wallet.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* The terminal state to restore when a signal arrives while echo is off. */
static volatile sig_atomic_t tty_saved_fd = -1;
static struct termios tty_saved;

static void restore_and_reraise(int sig)
{
    if (tty_saved_fd >= 0)
        tcsetattr(tty_saved_fd, TCSAFLUSH, &tty_saved);
    signal(sig, SIG_DFL);
    raise(sig);
}

static const int caught[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};

/* Reads one line from fd into buf (without the newline). */
static enum vt_status read_line(int fd, char *buf, size_t cap, size_t *len, struct vt_error *err)
{
    size_t n = 0;
    bool too_long = false;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return vt_error_set(err, VT_ERR_IO, "cannot read the passphrase: %s", strerror(errno));
        if (r == 0 || c == '\n')
            break;
        if (n + 1 < cap)
            buf[n++] = c;
        else
            too_long = true;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    *len = n;
    if (too_long) {
        sodium_memzero(buf, cap);
        return vt_error_set(err, VT_ERR_TOO_LARGE, "passphrase is longer than %d bytes",
                            CLI_PASSPHRASE_MAX - 1);
    }
    return VT_OK;
}

static enum vt_status prompt_tty(int fd, const char *prompt, char *buf, size_t *len,
                                 struct vt_error *err)
{
    struct termios off;
    if (tcgetattr(fd, &tty_saved) != 0)
        return vt_error_set(err, VT_ERR_IO, "cannot read the terminal settings: %s",
                            strerror(errno));
    struct sigaction sa, old[sizeof(caught) / sizeof(caught[0])];
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = restore_and_reraise;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
        sigaction(caught[i], &sa, &old[i]);
    tty_saved_fd = fd;
    off = tty_saved;
    off.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
    off.c_lflag |= ECHONL | ICANON;
    enum vt_status st = VT_OK;
    /* Echo goes off before the prompt shows, so nothing typed after it can be echoed. */
    if (tcsetattr(fd, TCSAFLUSH, &off) != 0 || write(fd, prompt, strlen(prompt)) < 0)
        st = vt_error_set(err, VT_ERR_IO, "cannot prompt on the terminal: %s", strerror(errno));
    if (st == VT_OK)
        st = read_line(fd, buf, CLI_PASSPHRASE_MAX, len, err);
    tcsetattr(fd, TCSAFLUSH, &tty_saved);
    tty_saved_fd = -1;
    for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
        sigaction(caught[i], &old[i], NULL);
    return st;
}

static enum vt_status from_file(const char *path, char *buf, size_t *len, struct vt_error *err)
{
    int fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vt_error_set(err, errno == ENOENT ? VT_ERR_NOT_FOUND : VT_ERR_IO,
                            "cannot open passphrase file '%s': %s", path, strerror(errno));
    enum vt_status st = read_line(fd, buf, CLI_PASSPHRASE_MAX, len, err);
    close(fd);
    return st;
}

enum vt_status cli_passphrase(struct cli *cli, const char *prompt, bool confirm, char *buf,
                              size_t *len, struct vt_error *err)
{
    enum vt_status st;
    const char *env = getenv("VITAE_PASSPHRASE");
    *len = 0;
    if (cli->passphrase_file != NULL) {
        st = from_file(cli->passphrase_file, buf, len, err);
    } else if (env != NULL) {
        size_t n = strlen(env);
        if (n >= CLI_PASSPHRASE_MAX)
            return vt_error_set(err, VT_ERR_TOO_LARGE, "VITAE_PASSPHRASE is longer than %d bytes",
                                CLI_PASSPHRASE_MAX - 1);
        memcpy(buf, env, n + 1);
        *len = n;
        st = VT_OK;
    } else {
        int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
            return vt_error_set(err, VT_ERR_PERMISSION,
                                "no passphrase: no terminal to ask on; set VITAE_PASSPHRASE or "
                                "use --passphrase-file FILE");
        st = prompt_tty(fd, prompt, buf, len, err);
        if (st == VT_OK && confirm) {
            char *again = sodium_malloc(CLI_PASSPHRASE_MAX);
            size_t again_len = 0;
            if (again == NULL)
                abort();
            st = prompt_tty(fd, "Repeat the passphrase: ", again, &again_len, err);
            if (st == VT_OK && (again_len != *len || sodium_memcmp(again, buf, *len) != 0))
                st = vt_error_set(err, VT_ERR_INVALID, "the passphrases do not match; try again");
            sodium_free(again);
        }
        close(fd);
    }
    if (st == VT_OK && *len == 0)
        st = vt_error_set(err, VT_ERR_INVALID, "the passphrase is empty");
    if (st != VT_OK) {
        sodium_memzero(buf, CLI_PASSPHRASE_MAX);
        *len = 0;
    }
    return st;
}

bool cli_ask(const char *question, char *buf, size_t n)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t len = 0;
    bool ok =
        write(fd, question, strlen(question)) >= 0 && read_line(fd, buf, n, &len, NULL) == VT_OK;
    close(fd);
    return ok;
}
