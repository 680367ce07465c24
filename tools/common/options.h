/* options.h — one option table per tool; it parses argv and generates --help.
 *
 *   static struct vkg_option opts[] = {
 *       { "-m", "--model", VKG_OPT_STRING, &model, "DIR", "model directory" },
 *       { NULL, "--top-p", VKG_OPT_FLOAT,  &top_p, "P",   "nucleus filter", VKG_RANGE_OC(0, 1) },
 *       { NULL, "--json",  VKG_OPT_FLAG,   &json,  NULL,  "print JSON" },
 *   };
 *   int rc = vkg_options_parse(opts, VKG_COUNT(opts), argc, argv, &pos, "vkgrm-x", "what it does");
 *   // rc: 0 go on, 1 --help or --version was printed (exit 0), 2 usage error (message printed, exit 2)
 *
 * Values are checked while parsing, before a tool reads any file: an integer
 * is decimal and fits int64_t, a float is a finite decimal number (no nan,
 * inf or hex), and a value outside the option's range is refused naming the
 * option, the value and the range (which --help shows too). Unknown options
 * and missing values are usage errors naming the option. Every table gets
 * -h/--help and --version ("vkgrm-x 0.1.0", the CMake project version). */
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

/* An end of a range: none, inclusive or exclusive. */
enum vkg_bound { VKG_BOUND_NONE, VKG_BOUND_INCL, VKG_BOUND_EXCL };

struct vkg_range {
    enum vkg_bound lo_kind, hi_kind;
    double lo, hi;
};

/* [lo, inf)   [lo, hi]   (lo, hi]   (lo, inf) — for the last field of an option. */
#define VKG_RANGE_MIN(lo)                       \
    {                                           \
        VKG_BOUND_INCL, VKG_BOUND_NONE, (lo), 0 \
    }
#define VKG_RANGE_CC(lo, hi)                       \
    {                                              \
        VKG_BOUND_INCL, VKG_BOUND_INCL, (lo), (hi) \
    }
#define VKG_RANGE_OC(lo, hi)                       \
    {                                              \
        VKG_BOUND_EXCL, VKG_BOUND_INCL, (lo), (hi) \
    }
#define VKG_RANGE_ABOVE(lo)                     \
    {                                           \
        VKG_BOUND_EXCL, VKG_BOUND_NONE, (lo), 0 \
    }

struct vkg_option {
    const char *short_name; /* "-m" or NULL */
    const char *long_name;  /* "--model" or NULL */
    enum vkg_opt_type type;
    void *dest;
    const char *metavar; /* "DIR", NULL for flags */
    const char *help;
    struct vkg_range range; /* INT/FLOAT only; {0} = any value of the type */
};

/* Positional arguments left after parsing (pointers into argv). */
struct vkg_args {
    int count;
    char **items;
};

/* Parses argv against the table. Returns 0 to go on, 1 when --help or
 * --version was printed (the tool exits 0), 2 on a usage error (message
 * printed to stderr). */
int vkg_options_parse(const struct vkg_option *opts, size_t n_opts, int argc, char **argv, struct vkg_args *positional,
                      const char *prog, const char *summary);

/* Prints the generated help text to stdout. */
void vkg_options_help(const struct vkg_option *opts, size_t n_opts, const char *prog, const char *summary);

/* The version all tools print ("0.1.0"). */
const char *vkg_version(void);

/* --device N|NAME: *index = N when arg is all digits (else -1) and *name = arg
 * otherwise (NULL when arg is NULL). A tool exits 2 when the device open then
 * says VKG_ERR_NOT_FOUND for a --device it was given. */
void vkg_options_device(const char *arg, int *index, const char **name);

#endif
