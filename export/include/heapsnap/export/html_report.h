// The HTML report of `heapsnap report`: one self-contained page (no network: its CSS, script and
// pictures are inline) that shows what `summary`, `leaks` and `top` print, a drillable icicle of
// the dominator tree, each finding's retainer graph, and with a baseline what `diff` shows.
//
//   HtmlReportOptions options;
//   options.snapshot_name = "app.heapsnap";
//   std::string html = RenderHtmlReport(analysis, options);          // one snapshot
//   std::string html = RenderHtmlReport(analysis, options, &diff);   // against a baseline
//
// The page is a fixed template (export/report/: HTML, CSS and script, embedded at build time)
// and one `<script type="application/json">` block of data the script draws from; it never
// writes snapshot text as HTML (textContent only), and the data block escapes `<`, `>`, `&`
// and U+2028/2029 (html_safe_json.h), so no text a snapshot holds can become markup or script.
// Values appear only as the snapshot holds them: a `--no-values` snapshot has none, and its
// keys read `<str of N chars>` as in every other output.
//
// Size: bounded whatever the heap. The dominator tree is summarised best-first by retained
// size (at most `tree_nodes` nodes, `tree_children` per node, the rest of each node's
// children as one "N more" node), each finding's retainer graph (BuildRetainerGraph of its
// first `graph_examples` examples) holds at most `graph_nodes` nodes, and the tables are cut at
// their limits. Cost beyond the detectors and the analysis: O(n) for the tree (its expansion
// touches each child list once) and one O(n + m) referrer pass per finding's graph.
#ifndef HEAPSNAP_EXPORT_HTML_REPORT_H_
#define HEAPSNAP_EXPORT_HTML_REPORT_H_

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "heapsnap/analyze/analysis.h"
#include "heapsnap/analyze/detectors.h"
#include "heapsnap/analyze/heap_diff.h"

namespace heapsnap {

// The comparison with older snapshots, as `heapsnap diff` computes it.
struct HtmlReportDiff {
  std::vector<std::string> snapshot_names;  // oldest first; the last is the report's snapshot
  const std::vector<HeapProfile>* profiles = nullptr;
  const HeapDiff* diff = nullptr;
  uint64_t min_growth = 1;
};

struct HtmlReportOptions {
  std::string snapshot_name;  // as the user gave it: the page's title
  DetectorOptions detectors;
  size_t summary_types = 30;
  size_t top_objects = 25;
  size_t top_types = 25;
  size_t tree_nodes = 3000;
  size_t tree_children = 12;
  size_t graph_nodes = 40;    // per finding's retainer graph (retainer_graph.h)
  size_t graph_examples = 3;  // a finding's examples drawn in its graph
  size_t diff_groups = 100;
  size_t diff_containers = 30;
  size_t diff_types = 30;
  // Called with a phase name and the fraction done; may be empty.
  std::function<void(const char* phase, double fraction)> progress;
};

std::string RenderHtmlReport(const Analysis& analysis, const HtmlReportOptions& options,
                             const HtmlReportDiff* diff = nullptr);

}  // namespace heapsnap

#endif  // HEAPSNAP_EXPORT_HTML_REPORT_H_
