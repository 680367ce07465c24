/* fuzz_file.h — for the fuzz targets whose code under test opens a path: the
 * input written to a fresh temporary file (mkstemps with suffix_len > 0 keeps
 * the last suffix_len characters of the template, e.g. ".gguf"). */
#ifndef VKG_FUZZ_FILE_H
#define VKG_FUZZ_FILE_H

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* 0 and path names the file (the caller unlinks it), or -1 and no file is left. */
static inline int fuzz_write_temp(const uint8_t *data, size_t size, char *path, int suffix_len)
{
    int fd = suffix_len > 0 ? mkstemps(path, suffix_len) : mkstemp(path);
    if (fd < 0) return -1;
    ssize_t w = write(fd, data, size);
    close(fd);
    if (w != (ssize_t)size) {
        unlink(path);
        return -1;
    }
    return 0;
}

#endif
