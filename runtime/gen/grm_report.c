/* grm_report.c — Markdown report, SVG plot and stderr paragraph of a GRM
 * summary (see grm_report.h). */
#include "grm_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grm_text.h"

/* ---- escaping ------------------------------------------------------------------------- */

/* User text (a subset name) inside Markdown table cells or SVG text. */
static void add_escaped(struct vkg_grm_text *b, const char *s, bool markdown)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': vkg_grm_text_adds(b, "&lt;"); break;
        case '>': vkg_grm_text_adds(b, "&gt;"); break;
        case '&': vkg_grm_text_adds(b, "&amp;"); break;
        case '|': vkg_grm_text_adds(b, markdown ? "\\|" : "|"); break;
        case '\n':
        case '\r':
        case '\t': vkg_grm_text_adds(b, " "); break;
        default: vkg_grm_text_add(b, s, 1);
        }
    }
}

static double pct(double x) { return 100.0 * x; }

/* ---- SVG plot ------------------------------------------------------------------------- */

enum { W = 560, H = 320, X0 = 64, X1 = 536, Y0 = 36, Y1 = 272 };

struct plot {
    double lo, hi, step; /* y axis range and tick step (fractions) */
    double xmax;         /* log2 of the largest j */
};

static double curve_value(const struct vkg_grm_curve_sum *p, bool meta)
{
    return meta ? (p->meta_records ? p->meta / (double)p->meta_records : NAN) : p->voting / (double)p->records;
}

static struct plot plot_range(const struct vkg_grm_summary *s)
{
    double vmin = 1, vmax = 0;
    for (size_t i = 0; i < s->n_curve; i++)
        for (int m = 0; m < 1 + s->has_meta; m++) {
            double v = curve_value(&s->curve[i], m);
            if (!isnan(v)) {
                vmin = v < vmin ? v : vmin;
                vmax = v > vmax ? v : vmax;
            }
        }
    struct plot p;
    p.step = vmax - vmin > 0.3 ? 0.1 : vmax - vmin > 0.12 ? 0.05 : 0.02;
    p.lo = fmax(0, floor((vmin - 0.01) / p.step) * p.step);
    p.hi = fmin(1, ceil((vmax + 0.01) / p.step) * p.step);
    if (p.hi - p.lo < p.step) {
        p.lo = fmax(0, p.hi - p.step);
        p.hi = p.lo + p.step;
    }
    p.xmax = s->n_curve ? log2((double)s->curve[s->n_curve - 1].j) : 0;
    return p;
}

static double px(const struct plot *p, uint32_t j)
{
    return p->xmax > 0 ? X0 + (X1 - X0) * log2((double)j) / p->xmax : (X0 + X1) / 2.0;
}

static double py(const struct plot *p, double v) { return Y1 - (Y1 - Y0) * (v - p->lo) / (p->hi - p->lo); }

static void svg_axes(struct vkg_grm_text *b, const struct vkg_grm_summary *s, const struct plot *p)
{
    vkg_grm_text_addf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>\n", X0, Y0,
                      X1 - X0, Y1 - Y0);
    int ticks = (int)lround((p->hi - p->lo) / p->step);
    for (int t = 0; t <= ticks; t++) {
        double v = p->lo + t * p->step, y = py(p, v);
        vkg_grm_text_addf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", X0, y, X1, y);
        vkg_grm_text_addf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f%%</text>\n", X0 - 6, y + 4, pct(v));
    }
    for (size_t i = 0; i < s->n_curve; i++) {
        double x = px(p, s->curve[i].j);
        vkg_grm_text_addf(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", x, Y0, x, Y1);
        vkg_grm_text_addf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%u</text>\n", x, Y1 + 16, s->curve[i].j);
    }
    vkg_grm_text_addf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">k (judgments voted)</text>\n", (X0 + X1) / 2,
                      H - 10);
    vkg_grm_text_addf(b,
                      "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-weight=\"bold\">"
                      "Accuracy vs k (%llu labelled records)</text>\n",
                      W / 2, 20, (unsigned long long)s->labelled);
}

static void svg_line(struct vkg_grm_text *b, const struct vkg_grm_summary *s, const struct plot *p, bool meta,
                     const char *color, const char *name, int legend_row)
{
    vkg_grm_text_addf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
    for (size_t i = 0; i < s->n_curve; i++) {
        double v = curve_value(&s->curve[i], meta);
        if (!isnan(v)) vkg_grm_text_addf(b, "%s%.1f,%.1f", i ? " " : "", px(p, s->curve[i].j), py(p, v));
    }
    vkg_grm_text_adds(b, "\"/>\n");
    for (size_t i = 0; i < s->n_curve; i++) {
        double v = curve_value(&s->curve[i], meta);
        if (!isnan(v))
            vkg_grm_text_addf(b,
                              "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>%s@%u: %.2f%%</title>"
                              "</circle>\n",
                              px(p, s->curve[i].j), py(p, v), color, name, s->curve[i].j, pct(v));
    }
    int ly = Y0 + 16 + 18 * legend_row;
    vkg_grm_text_addf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/>\n", X0 + 10,
                      ly - 4, X0 + 34, ly - 4, color);
    vkg_grm_text_addf(b, "<text x=\"%d\" y=\"%d\">%s</text>\n", X0 + 40, ly, name);
}

enum vkg_status vkg_grm_report_svg(const struct vkg_grm_summary *s, char **out)
{
    struct vkg_grm_text b = { 0 };
    if (s->n_curve == 0) return vkg_grm_text_take(&b, out, NULL);
    struct plot p = plot_range(s);
    vkg_grm_text_addf(&b,
                      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                      "font-family=\"sans-serif\" font-size=\"12\">\n",
                      W, H, W, H);
    vkg_grm_text_adds(&b, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    svg_axes(&b, s, &p);
    svg_line(&b, s, &p, false, "#1f77b4", "Voting", 0);
    if (s->has_meta) svg_line(&b, s, &p, true, "#ff7f0e", "MetaRM", 1);
    vkg_grm_text_adds(&b, "</svg>\n");
    return vkg_grm_text_take(&b, out, NULL);
}

/* ---- Markdown ------------------------------------------------------------------------- */

static void add_reasons(struct vkg_grm_text *b, const struct vkg_grm_summary *s)
{
    const char *sep = ": ";
    for (int r = 1; r < VKG_GRM_REASON_COUNT; r++)
        if (s->invalid_by_reason[r]) {
            vkg_grm_text_addf(b, "%s%s %llu", sep, vkg_grm_reason_name((enum vkg_grm_reason)r),
                              (unsigned long long)s->invalid_by_reason[r]);
            sep = ", ";
        }
}

static void md_overview(struct vkg_grm_text *b, const struct vkg_grm_summary *s, const struct vkg_grm_accuracy *a,
                        const struct vkg_grm_accuracy *m)
{
    vkg_grm_text_adds(b, "# GRM scoring report\n\n| | |\n|---|---|\n");
    vkg_grm_text_addf(b, "| records | %llu (judged %llu, bad input lines %llu) |\n", (unsigned long long)s->records,
                      (unsigned long long)s->judged, (unsigned long long)s->errors);
    vkg_grm_text_addf(b, "| samples | %llu (k = %u", (unsigned long long)s->samples, s->k_max);
    if (s->k_min != s->k_max) vkg_grm_text_addf(b, " down to %u", s->k_min);
    vkg_grm_text_addf(b, "), invalid %llu (%.2f %%)", (unsigned long long)s->invalid,
                      s->samples ? pct((double)s->invalid / (double)s->samples) : 0.0);
    add_reasons(b, s);
    vkg_grm_text_addf(b, " |\n| no judgement | %llu records |\n| ties | %llu records |\n",
                      (unsigned long long)s->no_judgement, (unsigned long long)s->ties);
    vkg_grm_text_addf(b, "| generated tokens | %llu (%.1f per sample) |\n", (unsigned long long)s->tokens,
                      s->samples ? (double)s->tokens / (double)s->samples : 0.0);
    if (a->labelled)
        vkg_grm_text_addf(b, "| accuracy | %.2f %% of %llu labelled |\n", pct(a->overall),
                          (unsigned long long)a->labelled);
    if (m->labelled)
        vkg_grm_text_addf(b, "| MetaRM accuracy | %.2f %% (meta_k %u) |\n", pct(m->overall), s->meta_k_max);
    const struct vkg_grm_throughput *t = &s->throughput;
    if (t->set)
        vkg_grm_text_addf(b,
                          "| throughput | %.3f judgments/s, %.1f generated tokens/s, %.1f prefill tokens/s, "
                          "load %.1f s |\n",
                          t->judgments_per_s, t->gen_tokens_per_s, t->prefill_tokens_per_s, t->load_s);
}

static void md_cell(struct vkg_grm_text *b, bool present, double v)
{
    if (present) vkg_grm_text_addf(b, " %.2f %% |", pct(v));
    else vkg_grm_text_adds(b, " – |");
}

static void md_sections(struct vkg_grm_text *b, const struct vkg_grm_summary *s, const struct vkg_grm_accuracy *a,
                        const struct vkg_grm_accuracy *m)
{
    bool any = false;
    for (int i = 0; i < VKG_GRM_RB_SECTIONS; i++) any |= a->has_section[i];
    if (!any) return;
    vkg_grm_text_adds(b, "\n## RewardBench sections\n\n| section | Voting |");
    vkg_grm_text_adds(b, s->has_meta ? " MetaRM |\n|---|---|---|\n" : "\n|---|---|\n");
    for (int i = 0; i < VKG_GRM_RB_SECTIONS; i++) {
        if (!a->has_section[i]) continue;
        vkg_grm_text_addf(b, "| %s |", vkg_grm_rb_section_name(i));
        md_cell(b, true, a->sections[i]);
        if (s->has_meta) md_cell(b, m->has_section[i], m->sections[i]);
        vkg_grm_text_adds(b, "\n");
    }
    if (a->has_rewardbench) {
        vkg_grm_text_adds(b, "| **RewardBench** (mean of the four) |");
        md_cell(b, true, a->rewardbench);
        if (s->has_meta) md_cell(b, m->has_rewardbench, m->rewardbench);
        vkg_grm_text_adds(b, "\n");
    }
    vkg_grm_text_adds(b,
                      "\nSections weight subsets by the leaderboard's EXAMPLE_COUNTS (allenai/reward-bench "
                      "`calculate_scores_per_section`; PRM Math weighs as much as the six HumanEvalPack subsets).\n");
}

static int cmp_name(const void *x, const void *y)
{
    return strcmp((*(const struct vkg_grm_subset_stat *const *)x)->name,
                  (*(const struct vkg_grm_subset_stat *const *)y)->name);
}

static void md_subsets(struct vkg_grm_text *b, const struct vkg_grm_summary *s)
{
    if (s->n_subsets == 0) return;
    const struct vkg_grm_subset_stat **v = malloc(s->n_subsets * sizeof *v);
    if (!v) {
        b->oom = true;
        return;
    }
    for (size_t i = 0; i < s->n_subsets; i++) v[i] = &s->subsets[i];
    qsort(v, s->n_subsets, sizeof *v, cmp_name);
    vkg_grm_text_adds(b, "\n## Subsets\n\n| subset | labelled | Voting |");
    vkg_grm_text_adds(b, s->has_meta ? " MetaRM |\n|---|---|---|---|\n" : "\n|---|---|---|\n");
    for (size_t i = 0; i < s->n_subsets; i++) {
        vkg_grm_text_adds(b, "| ");
        add_escaped(b, v[i]->name, true);
        vkg_grm_text_addf(b, " | %llu |", (unsigned long long)v[i]->labelled);
        md_cell(b, true, (double)v[i]->correct / (double)v[i]->labelled);
        if (s->has_meta)
            md_cell(b, v[i]->meta_labelled > 0,
                    v[i]->meta_labelled ? (double)v[i]->meta_correct / (double)v[i]->meta_labelled : 0);
        vkg_grm_text_adds(b, "\n");
    }
    free(v);
}

static void md_curves(struct vkg_grm_text *b, const struct vkg_grm_summary *s)
{
    if (s->n_curve == 0) return;
    char *svg = NULL;
    if (vkg_grm_report_svg(s, &svg) != VKG_OK) {
        b->oom = true;
        return;
    }
    vkg_grm_text_adds(b, "\n## Accuracy vs k\n\n");
    vkg_grm_text_adds(b, svg);
    free(svg);
    vkg_grm_text_addf(b, "\n| j | records | Voting@j |%s\n|---|---|---|%s\n", s->has_meta ? " MetaRM@j |" : "",
                      s->has_meta ? "---|" : "");
    for (size_t i = 0; i < s->n_curve; i++) {
        const struct vkg_grm_curve_sum *p = &s->curve[i];
        vkg_grm_text_addf(b, "| %u | %llu |", p->j, (unsigned long long)p->records);
        md_cell(b, true, curve_value(p, false));
        if (s->has_meta) md_cell(b, p->meta_records > 0, curve_value(p, true));
        vkg_grm_text_adds(b, "\n");
    }
    vkg_grm_text_addf(b,
                      "\nVoting@j: mean over subsets of j of each record's samples (all subsets up to %d, "
                      "else %d seeded random ones), each voted like the full vote. MetaRM@j keeps the top "
                      "ceil(j/2) of the subset by meta score (ceil(j·meta_k/k) for a chosen meta_k).\n",
                      VKG_GRM_CURVE_SUBSETS, VKG_GRM_CURVE_SUBSETS);
}

enum vkg_status vkg_grm_report_markdown(const struct vkg_grm_summary *s, char **out)
{
    struct vkg_grm_accuracy a, m;
    vkg_grm_summary_accuracy(s, false, &a);
    vkg_grm_summary_accuracy(s, true, &m);
    struct vkg_grm_text b = { 0 };
    md_overview(&b, s, &a, &m);
    md_sections(&b, s, &a, &m);
    md_subsets(&b, s);
    md_curves(&b, s);
    return vkg_grm_text_take(&b, out, NULL);
}

/* ---- stderr paragraph ------------------------------------------------------------------ */

static void text_accuracy(struct vkg_grm_text *b, const struct vkg_grm_accuracy *a)
{
    vkg_grm_text_addf(b, "%.1f%%", pct(a->overall));
    const char *sep = " (";
    for (int i = 0; i < VKG_GRM_RB_SECTIONS; i++)
        if (a->has_section[i]) {
            vkg_grm_text_addf(b, "%s%s %.1f%%", sep, vkg_grm_rb_section_name(i), pct(a->sections[i]));
            sep = ", ";
        }
    if (a->has_rewardbench) vkg_grm_text_addf(b, "%sRewardBench %.1f%%", sep, pct(a->rewardbench));
    if (strcmp(sep, " (")) vkg_grm_text_adds(b, ")");
}

enum vkg_status vkg_grm_report_text(const struct vkg_grm_summary *s, char **out)
{
    struct vkg_grm_accuracy a, m;
    vkg_grm_summary_accuracy(s, false, &a);
    vkg_grm_summary_accuracy(s, true, &m);
    struct vkg_grm_text b = { 0 };
    vkg_grm_text_addf(&b,
                      "%llu records (%llu bad lines, %llu without judgement), %llu samples at k = %u, "
                      "%.1f%% invalid",
                      (unsigned long long)s->records, (unsigned long long)s->errors,
                      (unsigned long long)s->no_judgement, (unsigned long long)s->samples, s->k_max,
                      s->samples ? pct((double)s->invalid / (double)s->samples) : 0.0);
    add_reasons(&b, s);
    if (a.labelled) {
        vkg_grm_text_addf(&b, "; accuracy of %llu labelled ", (unsigned long long)a.labelled);
        text_accuracy(&b, &a);
    }
    if (m.labelled) {
        vkg_grm_text_addf(&b, "; MetaRM (meta_k %u) ", s->meta_k_max);
        text_accuracy(&b, &m);
    }
    if (s->n_curve > 1)
        vkg_grm_text_addf(&b, "; Voting@%u %.1f%% -> Voting@%u %.1f%%", s->curve[0].j,
                          pct(curve_value(&s->curve[0], false)), s->curve[s->n_curve - 1].j,
                          pct(curve_value(&s->curve[s->n_curve - 1], false)));
    const struct vkg_grm_throughput *t = &s->throughput;
    if (t->set)
        vkg_grm_text_addf(&b, "; %.3f judgments/s, %.1f generated tok/s, %.1f prefill tok/s, load %.1f s",
                          t->judgments_per_s, t->gen_tokens_per_s, t->prefill_tokens_per_s, t->load_s);
    vkg_grm_text_adds(&b, ".\n");
    return vkg_grm_text_take(&b, out, NULL);
}
