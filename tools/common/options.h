/* options.h — one option table per tool; it parses argv and generates --help.
 *
 *   static struct vkg_option opts[] = {
 *       { "-m", "--model", VKG_OPT_STRING, &model, "DIR", "model directory" },
 *       { NULL, "--json",  VKG_OPT_FLAG,   &json,  NULL,  "print JSON" },
 *   };
 *   int rc = vkg_options_parse(opts, VKG_COUNT(opts), argc, argv, &pos, "vkgrm-x", "what it does");
 *   // rc: 0 go on, 1 help was printed (exit 0), 2 usage error (message printed, exit 2)
 */
#ifndef VKG_OPTIONS_H
#define VKG_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#define VKG_COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum vkg_opt_type {
    VKG_OPT_FLAG,   /* int, set to 1 */
    VKG_OPT_INT,    /* int64_t */
    VKG_OPT_FLOAT,  /* double */
    VKG_OPT_STRING, /* const char * */
};

struct vkg_option {
    const char *short_name; /* "-m" or NULL */
    const char *long_name;  /* "--model" or NULL */
    enum vkg_opt_type type;
    void *dest;
    const char *metavar;    /* "DIR", NULL for flags */
    const char *help;
};

/* Positional arguments left after parsing (pointers into argv). */
struct vkg_args {
    int count;
    char **items;
};

/* Parses argv against the table. Returns 0 to go on, 1 when --help was
 * printed (the tool exits 0), 2 on a usage error (message printed to stderr). */
int vkg_options_parse(const struct vkg_option *opts, size_t n_opts, int argc, char **argv,
                      struct vkg_args *positional, const char *prog, const char *summary);

/* Prints the generated help text to stdout. */
void vkg_options_help(const struct vkg_option *opts, size_t n_opts, const char *prog,
                      const char *summary);

#endif
