/* file.c — regular files only, opened without blocking (see file.h). */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef unsigned long long ull;

const char *vkg_file_kind(mode_t mode)
{
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

static enum vkg_status open_error(const char *path)
{
    int e = errno;
    return vkg_error(e == ENOENT ? VKG_ERR_NOT_FOUND : VKG_ERR_IO, "%s: cannot open: %s", path, strerror(e));
}

enum vkg_status vkg_file_open(const char *path, int *fd, uint64_t *size)
{
    *fd = -1;
    /* O_NONBLOCK: opening a FIFO without a writer would wait forever */
    int f = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (f < 0) return open_error(path);
    struct stat sb;
    enum vkg_status s = VKG_OK;
    if (fstat(f, &sb) != 0) s = vkg_error(VKG_ERR_IO, "%s: fstat: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        s = vkg_error(VKG_ERR_IO, "%s: is %s, not a regular file", path, vkg_file_kind(sb.st_mode));
    else if (fcntl(f, F_SETFL, fcntl(f, F_GETFL) & ~O_NONBLOCK) != 0)
        s = vkg_error(VKG_ERR_IO, "%s: fcntl: %s", path, strerror(errno));
    if (s != VKG_OK) {
        close(f);
        return s;
    }
    *fd = f;
    *size = (uint64_t)sb.st_size;
    return VKG_OK;
}

/* Reads exactly n bytes (a file that shrinks meanwhile is an error). */
static enum vkg_status read_all(const char *path, int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return vkg_error(VKG_ERR_IO, "%s: read: %s", path, strerror(errno));
        if (r == 0) return vkg_error(VKG_ERR_IO, "%s: file shrank while reading (%zu of %zu bytes)", path, got, n);
        got += (size_t)r;
    }
    return VKG_OK;
}

enum vkg_status vkg_file_read(const char *path, uint64_t max_bytes, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int fd;
    uint64_t size;
    enum vkg_status s = vkg_file_open(path, &fd, &size);
    if (s != VKG_OK) return s;
    char *buf = NULL;
    if (size > max_bytes || size >= SIZE_MAX)
        s = vkg_error(VKG_ERR_LIMIT, "%s: %llu bytes, more than the %llu this file may have", path, (ull)size,
                      (ull)max_bytes);
    else if (!(buf = malloc((size_t)size + 1))) s = vkg_error(VKG_ERR_NOMEM, "%s: %llu bytes", path, (ull)size);
    else s = read_all(path, fd, buf, (size_t)size);
    close(fd);
    if (s != VKG_OK) {
        free(buf);
        return s;
    }
    buf[size] = '\0';
    *out = buf;
    *len = (size_t)size;
    return VKG_OK;
}

enum vkg_status vkg_file_check_dir(const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return vkg_error(errno == ENOENT ? VKG_ERR_NOT_FOUND : VKG_ERR_IO, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return vkg_error(VKG_ERR_IO, "%s: is %s, not a model directory", dir, vkg_file_kind(sb.st_mode));
    return VKG_OK;
}
