/* options.c — table-driven argv parsing, value ranges and generated --help. */
#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef VKG_VERSION
#define VKG_VERSION "unknown"
#endif

const char *vkg_version(void) { return VKG_VERSION; }

/* " (0 < P <= 1)", " (N >= 1)", "" for no range. */
static void range_text(const struct vkg_option *o, char *buf, size_t cap)
{
    const struct vkg_range *r = &o->range;
    const char *v = o->metavar ? o->metavar : "value";
    buf[0] = '\0';
    if (o->type != VKG_OPT_INT && o->type != VKG_OPT_FLOAT) return;
    if (r->lo_kind && r->hi_kind)
        snprintf(buf, cap, " (%.15g %s %s %s %.15g)", r->lo, r->lo_kind == VKG_BOUND_EXCL ? "<" : "<=", v,
                 r->hi_kind == VKG_BOUND_EXCL ? "<" : "<=", r->hi);
    else if (r->lo_kind) snprintf(buf, cap, " (%s %s %.15g)", v, r->lo_kind == VKG_BOUND_EXCL ? ">" : ">=", r->lo);
    else if (r->hi_kind) snprintf(buf, cap, " (%s %s %.15g)", v, r->hi_kind == VKG_BOUND_EXCL ? "<" : "<=", r->hi);
}

static int in_range(const struct vkg_range *r, double v)
{
    if (r->lo_kind == VKG_BOUND_INCL && !(v >= r->lo)) return 0;
    if (r->lo_kind == VKG_BOUND_EXCL && !(v > r->lo)) return 0;
    if (r->hi_kind == VKG_BOUND_INCL && !(v <= r->hi)) return 0;
    if (r->hi_kind == VKG_BOUND_EXCL && !(v < r->hi)) return 0;
    return 1;
}

void vkg_options_device(const char *arg, int *index, const char **name)
{
    *index = -1;
    *name = NULL;
    if (!arg) return;
    size_t n = strlen(arg);
    if (n && n < 9 && strspn(arg, "0123456789") == n) *index = atoi(arg);
    else *name = arg;
}

void vkg_options_help(const struct vkg_option *opts, size_t n_opts, const char *prog, const char *summary)
{
    printf("usage: %s [options]\n%s\n\noptions:\n", prog, summary);
    for (size_t i = 0; i < n_opts; i++) {
        const struct vkg_option *o = &opts[i];
        char names[64];
        snprintf(names, sizeof names, "%s%s%s %s", o->short_name ? o->short_name : "",
                 o->short_name && o->long_name ? ", " : "", o->long_name ? o->long_name : "",
                 o->metavar ? o->metavar : "");
        char range[96];
        range_text(o, range, sizeof range);
        printf("  %-28s %s%s\n", names, o->help, range);
    }
    printf("  %-28s %s\n", "-h, --help", "show this help");
    printf("  %-28s %s\n", "--version", "print the version");
}

static const struct vkg_option *find(const struct vkg_option *opts, size_t n, const char *arg, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        const char *names[2] = { opts[i].short_name, opts[i].long_name };
        for (int k = 0; k < 2; k++)
            if (names[k] && strlen(names[k]) == len && strncmp(names[k], arg, len) == 0) return &opts[i];
    }
    return NULL;
}

/* A decimal integer that fits int64_t, or a finite decimal float. */
static int parse_number(const struct vkg_option *o, const char *val, double *as_double)
{
    char *end = NULL;
    errno = 0;
    if (!*val || strspn(val, "+-0123456789.eE") != strlen(val)) return 0; /* no spaces, nan, inf, hex */
    if (o->type == VKG_OPT_INT) {
        long long v = strtoll(val, &end, 10);
        if (errno || *end) return 0; /* ERANGE: does not fit int64_t */
        *(int64_t *)o->dest = v;
        *as_double = (double)v;
        return 1;
    }
    double v = strtod(val, &end);
    if (errno || *end || !isfinite(v)) return 0;
    *(double *)o->dest = v;
    *as_double = v;
    return 1;
}

static int set_value(const struct vkg_option *o, const char *name, const char *val, const char *prog)
{
    double v = 0;
    char range[96];
    switch (o->type) {
    case VKG_OPT_FLAG: *(int *)o->dest = 1; return 0;
    case VKG_OPT_STRING: *(const char **)o->dest = val; return 0;
    case VKG_OPT_INT:
    case VKG_OPT_FLOAT:
        range_text(o, range, sizeof range);
        if (!parse_number(o, val, &v)) {
            fprintf(stderr, "%s: option %s: invalid value '%s': want %s%s\n", prog, name, val,
                    o->type == VKG_OPT_INT ? "a decimal integer" : "a finite decimal number", range);
            return 2;
        }
        if (!in_range(&o->range, v)) {
            fprintf(stderr, "%s: option %s: %s is out of range%s\n", prog, name, val, range);
            return 2;
        }
        return 0;
    }
    return 2;
}

int vkg_options_parse(const struct vkg_option *opts, size_t n_opts, int argc, char **argv, struct vkg_args *positional,
                      const char *prog, const char *summary)
{
    int npos = 0;
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            argv[1 + npos++] = a; /* compact positionals in place */
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            vkg_options_help(opts, n_opts, prog, summary);
            return 1;
        }
        if (strcmp(a, "--version") == 0) {
            printf("%s %s\n", prog, vkg_version());
            return 1;
        }
        const char *eq = strchr(a, '=');
        size_t len = (a[1] == '-' && eq) ? (size_t)(eq - a) : strlen(a);
        const struct vkg_option *o = find(opts, n_opts, a, len);
        if (!o) {
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", prog, a);
            return 2;
        }
        const char *val = NULL;
        if (o->type != VKG_OPT_FLAG) {
            if (a[1] == '-' && eq) val = eq + 1;
            else if (i + 1 < argc) val = argv[++i];
            else {
                fprintf(stderr, "%s: option %.*s needs a value (%s)\n", prog, (int)len, a,
                        o->metavar ? o->metavar : "VALUE");
                return 2;
            }
        } else if (eq && a[1] == '-') {
            fprintf(stderr, "%s: option %.*s takes no value\n", prog, (int)len, a);
            return 2;
        }
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(len < 63 ? len : 63), a);
        int rc = set_value(o, name, val, prog);
        if (rc) return rc;
    }
    if (positional) {
        positional->count = npos;
        positional->items = argv + 1;
    } else if (npos > 0) {
        fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", prog, argv[1]);
        return 2;
    }
    return 0;
}
