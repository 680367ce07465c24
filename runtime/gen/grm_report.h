/* grm_report.h — human-readable forms of a GRM summary: the Markdown report
 * (--report FILE.md: tables, and an inline hand-written SVG plot of Voting@j
 * and MetaRM@j accuracy against k on a log2 axis) and the one-paragraph
 * stderr summary. */
#ifndef VKG_GRM_REPORT_H
#define VKG_GRM_REPORT_H

#include "grm_summary.h"
#include "status.h"

/* The Markdown report (malloc'd). */
enum vkg_status vkg_grm_report_markdown(const struct vkg_grm_summary *s, char **out);
/* Only the SVG plot (malloc'd; "" when there is no labelled record). */
enum vkg_status vkg_grm_report_svg(const struct vkg_grm_summary *s, char **out);
/* One paragraph for stderr, ending in "\n". */
enum vkg_status vkg_grm_report_text(const struct vkg_grm_summary *s, char **out);

#endif
