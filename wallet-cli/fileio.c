/* Files the wallet reads and writes: capped reads, atomic private writes. */
#include "wallet-cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum vt_status cli_read_file(const char *path, size_t max, struct vt_buf *b, struct vt_error *err)
{
    vt_buf_init(b, max);
    enum vt_status st = vt_buf_read_file(b, path, err);
    if (st != VT_OK)
        return vt_error_prefix(err, st, "cannot read '%s'", path);
    return VT_OK;
}

enum vt_status cli_read_input(const char *path, struct vt_buf *b, struct vt_error *err)
{
    return cli_read_file(path, CRED_DOC_MAX, b, err);
}

static enum vt_status errno_status(int e)
{
    return e == EACCES || e == EPERM || e == EROFS ? VT_ERR_PERMISSION
           : e == ENOSPC || e == EDQUOT            ? VT_ERR_FULL
           : e == ENOENT                           ? VT_ERR_NOT_FOUND
                                                   : VT_ERR_IO;
}

enum vt_status cli_write_file(const char *path, const void *p, size_t n, unsigned mode,
                              bool exclusive, struct vt_error *err)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    const char *d = dirname(dir);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int len = snprintf(tmp, sizeof(tmp), "%s/.%s.%ld.tmp", d, base, (long)getpid());
    if (len < 0 || (size_t)len >= sizeof(tmp))
        return vt_error_set(err, VT_ERR_TOO_LARGE, "path '%s' is too long", path);
    if (exclusive && access(path, F_OK) == 0)
        return vt_error_set(err, VT_ERR_EXISTS, "'%s' exists already", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, (mode_t)mode);
    if (fd < 0)
        return vt_error_set(err, errno_status(errno), "cannot write '%s': %s", path,
                            strerror(errno));
    const uint8_t *c = p;
    size_t off = 0;
    int e = 0;
    while (off < n) {
        ssize_t w = write(fd, c + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            e = errno;
            break;
        }
        off += (size_t)w;
    }
    if (e == 0 && fchmod(fd, (mode_t)mode) != 0)
        e = errno;
    if (e == 0 && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && e == 0)
        e = errno;
    /* link() refuses an existing target, which makes exclusive creation atomic too. */
    if (e == 0 && (exclusive ? link(tmp, path) : rename(tmp, path)) != 0)
        e = errno;
    if (exclusive || e != 0)
        unlink(tmp);
    if (e != 0)
        return vt_error_set(err, e == EEXIST ? VT_ERR_EXISTS : errno_status(e),
                            "cannot write '%s': %s", path, strerror(e));
    int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return VT_OK;
}
