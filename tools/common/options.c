/* options.c — table-driven argv parsing and generated --help. */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vkg_options_help(const struct vkg_option *opts, size_t n_opts, const char *prog,
                      const char *summary)
{
    printf("usage: %s [options]\n%s\n\noptions:\n", prog, summary);
    for (size_t i = 0; i < n_opts; i++) {
        const struct vkg_option *o = &opts[i];
        char names[64];
        snprintf(names, sizeof names, "%s%s%s %s", o->short_name ? o->short_name : "",
                 o->short_name && o->long_name ? ", " : "", o->long_name ? o->long_name : "",
                 o->metavar ? o->metavar : "");
        printf("  %-28s %s\n", names, o->help);
    }
    printf("  %-28s %s\n", "-h, --help", "show this help");
}

static const struct vkg_option *find(const struct vkg_option *opts, size_t n, const char *arg,
                                     size_t len)
{
    for (size_t i = 0; i < n; i++) {
        const char *names[2] = { opts[i].short_name, opts[i].long_name };
        for (int k = 0; k < 2; k++)
            if (names[k] && strlen(names[k]) == len && strncmp(names[k], arg, len) == 0)
                return &opts[i];
    }
    return NULL;
}

static int set_value(const struct vkg_option *o, const char *name, const char *val, const char *prog)
{
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case VKG_OPT_FLAG: *(int *)o->dest = 1; return 0;
    case VKG_OPT_STRING: *(const char **)o->dest = val; return 0;
    case VKG_OPT_INT: {
        long long v = strtoll(val, &end, 0);
        if (errno || !*val || *end) break;
        *(int64_t *)o->dest = v;
        return 0;
    }
    case VKG_OPT_FLOAT: {
        double v = strtod(val, &end);
        if (errno || !*val || *end) break;
        *(double *)o->dest = v;
        return 0;
    }
    }
    fprintf(stderr, "%s: option %s: invalid value '%s'\n", prog, name, val);
    return 2;
}

int vkg_options_parse(const struct vkg_option *opts, size_t n_opts, int argc, char **argv,
                      struct vkg_args *positional, const char *prog, const char *summary)
{
    int npos = 0;
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            argv[1 + npos++] = a; /* compact positionals in place */
            continue;
        }
        if (strcmp(a, "--") == 0) { only_pos = 1; continue; }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            vkg_options_help(opts, n_opts, prog, summary);
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
        int rc = set_value(o, a, val, prog);
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
