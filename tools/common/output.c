/* output.c — temporary file + rename for regular files, write-through for
 * everything else (see output.h). */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Temporary files a signal handler may have to remove (fixed storage: the
 * handler must not touch the heap). */
#define MAX_PENDING 8
static char g_pending[MAX_PENDING][PATH_MAX];
static volatile sig_atomic_t g_used[MAX_PENDING];

void vkg_out_cleanup_signal(void)
{
    for (int i = 0; i < MAX_PENDING; i++)
        if (g_used[i]) unlink(g_pending[i]);
}

static int register_tmp(const char *tmp)
{
    for (int i = 0; i < MAX_PENDING; i++)
        if (!g_used[i] && strlen(tmp) < PATH_MAX) {
            strcpy(g_pending[i], tmp);
            g_used[i] = 1;
            return i;
        }
    return -1;
}

static void unregister_tmp(struct vkg_out *o)
{
    if (o->slot >= 0) g_used[o->slot] = 0;
    o->slot = -1;
}

/* "dir/.name.XXXXXX" next to path. */
static char *tmp_template(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    char *t = malloc(strlen(path) + 10);
    if (t) sprintf(t, "%.*s.%s.XXXXXX", (int)dir, path, path + dir);
    return t;
}

static enum vkg_status open_tmp(const char *path, const struct stat *old, struct vkg_out *o)
{
    if (!(o->tmp = tmp_template(path))) return vkg_error(VKG_ERR_NOMEM, "%s", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        enum vkg_status s =
            vkg_error(VKG_ERR_IO, "%s: cannot create a temporary file next to it: %s", path, strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        return s;
    }
    mode_t mode = 0666;
    if (old) mode = old->st_mode & 07777;
    else {
        mode_t um = umask(0);
        umask(um);
        mode &= ~um;
    }
    (void)fchmod(fd, mode); /* mkstemp made it 0600 */
    o->slot = register_tmp(o->tmp);
    if (!(o->f = fdopen(fd, "wb"))) {
        enum vkg_status s = vkg_error(VKG_ERR_IO, "%s: %s", o->tmp, strerror(errno));
        close(fd);
        vkg_out_abort(o);
        return s;
    }
    return VKG_OK;
}

enum vkg_status vkg_out_open(const char *path, struct vkg_out *o)
{
    memset(o, 0, sizeof *o);
    o->slot = -1;
    if (!path || !*path) return vkg_error(VKG_ERR_INVALID_ARG, "output file: empty path");
    if (!(o->path = strdup(path))) return vkg_error(VKG_ERR_NOMEM, "%s", path);
    struct stat sb;
    int exists = lstat(path, &sb) == 0;
    if (!exists && errno != ENOENT) {
        enum vkg_status s = vkg_error(VKG_ERR_IO, "%s: %s", path, strerror(errno));
        free(o->path);
        o->path = NULL;
        return s;
    }
    if (exists && S_ISDIR(sb.st_mode)) {
        free(o->path);
        o->path = NULL;
        return vkg_error(VKG_ERR_IO, "%s: is a directory", path);
    }
    if (!exists || S_ISREG(sb.st_mode)) {
        enum vkg_status s = open_tmp(path, exists ? &sb : NULL, o);
        if (s != VKG_OK) {
            free(o->path);
            o->path = NULL;
        }
        return s;
    }
    /* a device, a FIFO, a socket or a symlink: write through, never replace */
    if (!(o->f = fopen(path, "wb"))) {
        enum vkg_status s = vkg_error(VKG_ERR_IO, "%s: cannot open for writing: %s", path, strerror(errno));
        free(o->path);
        o->path = NULL;
        return s;
    }
    return VKG_OK;
}

enum vkg_status vkg_out_write(struct vkg_out *o, const void *data, size_t n)
{
    if (!o->f) return vkg_error(VKG_ERR_STATE, "%s: output is closed", o->path ? o->path : "?");
    if (n && fwrite(data, 1, n, o->f) != n)
        return vkg_error(VKG_ERR_IO, "%s: write failed: %s", o->path, strerror(errno));
    return VKG_OK;
}

enum vkg_status vkg_out_commit(struct vkg_out *o)
{
    if (!o->f) return vkg_error(VKG_ERR_STATE, "%s: output is closed", o->path ? o->path : "?");
    enum vkg_status s = VKG_OK;
    errno = 0;
    int bad = ferror(o->f) || fflush(o->f) != 0;
    if (!bad && o->tmp && fsync(fileno(o->f)) != 0 && errno != EINVAL) bad = 1;
    int e = errno;
    if (fclose(o->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    o->f = NULL;
    if (bad) s = vkg_error(VKG_ERR_IO, "%s: write failed: %s", o->path, e ? strerror(e) : "I/O error");
    if (s == VKG_OK && o->tmp && rename(o->tmp, o->path) != 0)
        s = vkg_error(VKG_ERR_IO, "%s: cannot rename %s into place: %s", o->path, o->tmp, strerror(errno));
    if (s == VKG_OK && o->tmp) {
        unregister_tmp(o);
        free(o->tmp);
        o->tmp = NULL;
    }
    vkg_out_abort(o); /* removes the temporary file after an error; frees */
    return s;
}

void vkg_out_abort(struct vkg_out *o)
{
    if (o->f) fclose(o->f);
    o->f = NULL;
    if (o->tmp) unlink(o->tmp);
    unregister_tmp(o);
    free(o->tmp);
    o->tmp = NULL;
    free(o->path);
    o->path = NULL;
}
