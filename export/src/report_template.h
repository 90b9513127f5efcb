// The report page's template (export/report/): HTML with the markers {{TITLE}}, /*{{STYLE}}*/,
// /*{{SCRIPT}}*/ and {{DATA}}, its style sheet and its script. Generated at build time from the
// checked-in files by cmake/embed_report.cmake, so they stay readable and lintable as files.
#ifndef HEAPSNAP_EXPORT_SRC_REPORT_TEMPLATE_H_
#define HEAPSNAP_EXPORT_SRC_REPORT_TEMPLATE_H_

namespace heapsnap::report {

extern const char kReportHtml[];
extern const char kReportCss[];
extern const char kReportJs[];

}  // namespace heapsnap::report

#endif  // HEAPSNAP_EXPORT_SRC_REPORT_TEMPLATE_H_
