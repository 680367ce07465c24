/* output.h — output files that are written whole or not at all, and never
 * clobber what they should not.
 *
 * A regular file, or a path that does not exist yet, is written to a
 * temporary file in the same directory (".NAME.XXXXXX", the mode of the file
 * it replaces, else 0666 & ~umask) and renamed into place by vkg_out_commit:
 * a reader sees the old file or the new one, never half of one, and an error
 * or an interrupt leaves the old file as it was. Anything else — a character
 * device such as /dev/null, a FIFO or pipe, a socket, or a symlink (its
 * target) — is written through: opened and written in place, never replaced.
 * A directory is an error. Every error names the path and the errno text.
 *
 *   struct vkg_out o;
 *   if (vkg_out_open(path, &o) != VKG_OK) ...;       // message in vkg_error_detail()
 *   s = vkg_out_write(&o, data, n);                    // or fprintf(o.f, ...) then commit checks
 *   s = s == VKG_OK ? vkg_out_commit(&o) : (vkg_out_abort(&o), s);
 *
 * A signal handler that must exit at once calls vkg_out_cleanup_signal()
 * (async-signal-safe: unlinks the temporary files of every open vkg_out). */
#ifndef VKG_OUTPUT_H
#define VKG_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "status.h"

struct vkg_out {
    FILE *f;    /* write here (fwrite/fprintf); NULL once committed or aborted */
    char *path; /* the target, as given */
    char *tmp;  /* the temporary file, NULL when writing through */
    int slot;   /* registry slot for vkg_out_cleanup_signal, -1 if none */
};

enum vkg_status vkg_out_open(const char *path, struct vkg_out *o);
/* fwrite with an error naming the path and errno. */
enum vkg_status vkg_out_write(struct vkg_out *o, const void *data, size_t n);
/* Flushes and closes; renames the temporary file over the target. On any
 * error the temporary file is removed and the target is untouched. */
enum vkg_status vkg_out_commit(struct vkg_out *o);
/* Closes and removes the temporary file: the target stays as it was (a
 * written-through target keeps what was written). Safe to call twice. */
void vkg_out_abort(struct vkg_out *o);
/* Unlinks every pending temporary file; for signal handlers. */
void vkg_out_cleanup_signal(void);

#endif
