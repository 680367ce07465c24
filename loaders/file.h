/* file.h — opening the files of a model directory safely: regular files only.
 *
 * A FIFO, a device, a socket or a directory given where a file is expected
 * (weights, config.json, tokenizer.json, a template file) is refused at open
 * with a message naming the path and what it is; opening never blocks (the
 * file is opened with O_NONBLOCK, checked with fstat, then set blocking).
 * Symlinks to regular files are fine.
 *
 *   int fd; uint64_t size;
 *   VKG_TRY(vkg_file_open(path, &fd, &size));     // VKG_ERR_NOT_FOUND when absent
 *   char *text; size_t len;
 *   VKG_TRY(vkg_file_read(path, 1 << 30, &text, &len)); // whole file, NUL-terminated
 *   VKG_TRY(vkg_file_check_dir(dir));              // a model directory */
#ifndef VKG_FILE_H
#define VKG_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "status.h"

/* "a FIFO", "a character device", "a directory", ... for an st_mode. */
const char *vkg_file_kind(mode_t mode);

/* Opens path read-only; a regular file or VKG_ERR_IO naming what it is.
 * VKG_ERR_NOT_FOUND (with a message) when it does not exist. */
enum vkg_status vkg_file_open(const char *path, int *fd, uint64_t *size);

/* Reads a whole regular file of at most max_bytes into a malloc'ed buffer
 * with a NUL after the last byte (*len excludes it; the file may hold NULs). */
enum vkg_status vkg_file_read(const char *path, uint64_t max_bytes, char **out, size_t *len);

/* VKG_OK when dir is a directory (or a symlink to one); otherwise an error
 * naming it and what it is (VKG_ERR_NOT_FOUND when it does not exist). */
enum vkg_status vkg_file_check_dir(const char *dir);

#endif
