#include "heapsnap/export/html_report.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <queue>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "heapsnap/analyze/human_numbers.h"
#include "heapsnap/analyze/paths.h"
#include "heapsnap/analyze/queries.h"
#include "heapsnap/analyze/summary.h"
#include "heapsnap/base/hex.h"
#include "heapsnap/base/python_text.h"
#include "heapsnap/export/retainer_graph.h"
#include "html_safe_json.h"
#include "report_template.h"

namespace heapsnap {
namespace {

using report::HtmlSafeJson;

constexpr size_t kMaxValueBytes = 60;  // a value preview in a node's label
constexpr size_t kMaxDetails = 12;     // lines of a finding's details
constexpr uint32_t kMaxTreeDepth = 48;

void Progress(const HtmlReportOptions& options, const char* phase, double fraction) {
  if (options.progress) options.progress(phase, fraction);
}

// The value a snapshot recorded for a node, cut for a label; empty when it recorded none (every
// object of a --no-values snapshot).
std::string ShortValue(const Snapshot& s, NodeIndex node) {
  const ValueRecord* v = s.Value(node);
  if (v == nullptr) return "";
  std::string text = s.TypeName(node) == "bytes" ? "b'" + EscapeBytes(v->text) + "'" : v->text;
  if (s.TypeName(node) == "str") text = "'" + text + "'";
  const bool cut = text.size() > kMaxValueBytes || v->text.size() < v->length;
  if (text.size() > kMaxValueBytes) text.resize(Utf8PrefixBytes(text, kMaxValueBytes));
  return cut ? text + "..." : text;
}

// What names a node besides its type: a function's, class's or module's name, else its value.
std::string NodeText(const Snapshot& s, NodeIndex node) {
  if (const NameRecord* name = s.Name(node)) {
    std::string text = CutLabel(s.String(name->name));
    if (name->file.valid() && name->line > 0) {
      text += " (" + CutLabel(s.String(name->file)) + ":" + std::to_string(name->line) + ")";
    }
    return text;
  }
  return ShortValue(s, node);
}

// How the node is reached from the one above it on its retainer path: `.REGISTRY`, `['ada']`,
// or for a root what the root is.
std::string StepInto(const Analysis& a, uint32_t v) {
  const uint32_t parent_edge = a.parent_edge[v];
  if (parent_edge == Analysis::kIsRoot) {
    return RootText(a, a.root_of_node[v], NodeIndex(v), /*address=*/false);
  }
  if (parent_edge == Analysis::kNoParent) return "";
  return LastStep(a, NodeIndex(v)).label;
}

void WriteSummary(const Analysis& a, const std::string& name, HtmlSafeJson& j,
                  size_t summary_types) {
  const Snapshot& s = a.snapshot();
  Summary sum = SummarizeSnapshot(s);
  AddAnalysis(a, &sum);
  const HeaderInfo& h = sum.header;
  j.Key("summary").BeginObject();
  j.Key("snapshot").String(name);
  j.Key("python").String(ShortPythonVersion(h.python_hexversion));
  j.Key("implementation").String(h.python_implementation);
  j.Key("pid").Int(h.pid);
  j.Key("captured").String(CaptureCause(h.reason));
  j.Key("time").String(CaptureTimeText(h.time_unix_ns));
  j.Key("values").Bool(h.values);
  j.Key("objects").Uint(sum.objects);
  j.Key("bytes").Uint(sum.bytes);
  j.Key("edges").Uint(sum.edges);
  j.Key("gc_tracked").Uint(sum.gc_tracked);
  j.Key("frozen").Uint(sum.frozen);
  j.Key("threads").Uint(sum.threads);
  j.Key("gc_enabled").Bool(h.gc_enabled);
  j.Key("gc_thresholds").BeginArray();
  for (int64_t t : h.gc_thresholds) j.Int(t);
  j.EndArray();
  j.Key("gc_garbage").Uint(h.gc_garbage_length);
  j.Key("finalized").Uint(sum.finalized);
  j.Key("unreachable").BeginObject();
  j.Key("objects").Uint(sum.unreachable_objects);
  j.Key("bytes").Uint(sum.unreachable_bytes);
  j.Key("retained_objects").Uint(sum.unreachable_retained_objects);
  j.Key("retained_bytes").Uint(sum.unreachable_retained_bytes);
  j.Key("cycles").Uint(sum.unreachable_cycles);
  j.EndObject();
  j.Key("external_objects").Uint(sum.external_objects);
  j.Key("inconsistent_objects").Uint(sum.inconsistent_objects);
  j.Key("type_count").Uint(sum.types.size());
  j.Key("types").BeginArray();
  for (size_t i = 0; i < sum.types.size() && i < summary_types; ++i) {
    const TypeTotal& t = sum.types[i];
    j.BeginArray().String(t.qualname).Uint(t.count).Uint(t.bytes).Uint(t.retained_bytes);
    j.EndArray();
  }
  j.EndArray();
  j.EndObject();
}

// A finding's retainer graph (retainer_graph.h) of its first examples, as the page draws it:
// nodes {type, text, address, retained, target, root, synthetic, folded} and edges [from, to,
// label, alternative]. The page lays it out itself (layered, in SVG): no Graphviz needed.
void WriteGraph(const Analysis& a, const Finding& f, const HtmlReportOptions& options,
                HtmlSafeJson& j) {
  const size_t shown = std::min<size_t>(f.examples.size(), options.graph_examples);
  const std::vector<NodeIndex> targets(f.examples.begin(),
                                       f.examples.begin() + static_cast<std::ptrdiff_t>(shown));
  RetainerGraphOptions graph_options;
  graph_options.max_nodes = static_cast<uint32_t>(options.graph_nodes);
  const StatusOr<RetainerGraph> graph = BuildRetainerGraph(a, targets, graph_options);
  if (!graph.ok()) return;  // no example to draw: the finding is shown without a picture
  j.Key("graph").BeginObject();
  j.Key("examples").Uint(shown);
  j.Key("instances").Uint(f.count);
  j.Key("truncated").Bool(graph->truncated);
  j.Key("nodes").BeginArray();
  for (const GraphNode& n : graph->nodes) {
    j.BeginObject();
    j.Key("type").String(CutLabel(n.type));
    j.Key("text").String(n.root.empty() ? n.value : n.root);
    if (!n.synthetic) j.Key("address").String(FormatAddress(n.address));
    j.Key("retained").Uint(n.retained_bytes);
    if (n.target) j.Key("target").Bool(true);
    if (!n.root.empty()) j.Key("root").Bool(true);
    if (n.synthetic) j.Key("synthetic").Bool(true);
    if (n.folded > 0) j.Key("folded").Uint(n.folded);
    j.EndObject();
  }
  j.EndArray();
  j.Key("edges").BeginArray();
  for (const GraphEdge& e : graph->edges) {
    j.BeginArray().Uint(e.from).Uint(e.to).String(e.label).Bool(e.alternative).EndArray();
  }
  j.EndArray();
  j.EndObject();
}

void WriteFindings(const Analysis& a, const HtmlReportOptions& options, HtmlSafeJson& j) {
  const Snapshot& s = a.snapshot();
  Progress(options, "leak detectors", 0);
  const std::vector<Finding> findings = DetectLeaks(a, options.detectors);
  const Thresholds thresholds = ThresholdsFor(a, options.detectors);
  j.Key("thresholds").BeginObject();
  j.Key("min_bytes").Uint(options.detectors.min_bytes);
  j.Key("min_share_percent").Double(options.detectors.min_share * 100);
  j.Key("share_bytes").Uint(thresholds.share_bytes);
  j.Key("live_bytes").Uint(thresholds.live_bytes);
  j.EndObject();
  j.Key("findings").BeginArray();
  for (size_t i = 0; i < findings.size(); ++i) {
    Progress(options, "findings", static_cast<double>(i) / static_cast<double>(findings.size()));
    const Finding& f = findings[i];
    j.BeginObject();
    j.Key("kind").String(FindingKindName(f.kind));
    j.Key("fingerprint").String(FingerprintHex(f.fingerprint));
    j.Key("severity").String(SeverityName(f.severity));
    j.Key("library").Bool(f.severity == Severity::kLow && detect::InLibrary(f.location));
    j.Key("title").String(f.title);
    j.Key("fix").String(f.fix);
    j.Key("count").Uint(f.count);
    j.Key("objects").Uint(f.objects);
    j.Key("retained_bytes").Uint(f.retained_bytes);
    std::vector<std::pair<uint64_t, std::string>> types;
    for (const auto& [type, count] : f.types) types.emplace_back(count, type);
    std::sort(types.rbegin(), types.rend());
    j.Key("types").BeginArray();
    for (size_t k = 0; k < types.size() && k < 8; ++k) {
      j.BeginArray().String(types[k].second).Uint(types[k].first).EndArray();
    }
    j.EndArray();
    j.Key("path_text").String(f.path_text);
    j.Key("examples").BeginArray();
    for (size_t k = 0; k < f.examples.size() && k < 5; ++k) {
      j.String(FormatAddress(s.address[f.examples[k].value()]));
    }
    j.EndArray();
    j.Key("fields").BeginArray();
    for (const KindField& field : KindFields(f)) {
      j.BeginArray().String(field.name);
      if (field.is_number) {
        j.String(FormatCount(field.number));
      } else {
        j.String(field.text);
      }
      j.EndArray();
    }
    j.EndArray();
    j.Key("details").BeginArray();
    for (size_t k = 0; k < f.details.size() && k < kMaxDetails; ++k) j.String(f.details[k]);
    j.EndArray();
    j.Key("more_details").Uint(f.details.size() > kMaxDetails ? f.details.size() - kMaxDetails : 0);
    if (!f.examples.empty()) WriteGraph(a, f, options, j);
    j.EndObject();
  }
  j.EndArray();
}

void WriteTop(const Analysis& a, const HtmlReportOptions& options, HtmlSafeJson& j) {
  const Snapshot& s = a.snapshot();
  Progress(options, "largest objects", 0);
  const std::vector<NodeIndex> objects =
      LargestObjects(a, AllButStructural(a), Measure::kRetained, options.top_objects);
  j.Key("top_objects").BeginArray();
  for (NodeIndex n : objects) {
    j.BeginObject();
    j.Key("id").String(FormatAddress(s.address[n.value()]));
    j.Key("type").String(s.TypeQualname(n));
    j.Key("text").String(NodeText(s, n));
    j.Key("self").Uint(s.size[n.value()]);
    j.Key("retained").Uint(a.retained[n.value()]);
    j.Key("path").String(PathText(a, a.PathTo(n)));
    j.EndObject();
  }
  j.EndArray();
  j.Key("top_types").BeginArray();
  for (const TypeRetained* t : LargestTypes(a, {}, Measure::kRetained, options.top_types)) {
    j.BeginArray().String(s.String(s.types[t->type.value()].qualname));
    j.Uint(t->count).Uint(t->self_bytes).Uint(t->retained_bytes).EndArray();
  }
  j.EndArray();
}

// The dominator tree, summarised: nodes are expanded largest first (a priority queue on
// retained bytes), each showing its `tree_children` largest children and one node for the
// rest, until `tree_nodes` are written. Rows: [parent, type, retained, self, objects, step,
// text, flags, more], parent -1 for the top; type an index into "types" (-1: none; of a group,
// the type of most of its children); flags 1 = stands for `more` children grouped, 2 = has
// children not shown.
void WriteTree(const Analysis& a, const HtmlReportOptions& options, HtmlSafeJson& j) {
  const Snapshot& s = a.snapshot();
  Progress(options, "dominator tree", 0);
  const uint32_t top = a.super_root();
  const uint64_t total = a.retained[top];
  // Children smaller than this are grouped even among the largest: they would be too small to
  // see however far one zooms in (the page shows 12 levels below the box clicked).
  const uint64_t min_node = total / 200000;
  struct Row {
    int64_t parent;
    uint32_t vertex;  // for a group: the type of most of its objects, or UINT32_MAX
    uint64_t retained;
    uint64_t objects;
    uint64_t more;
    uint32_t depth;
    bool hidden_children;
    bool group = false;
  };
  std::unordered_map<uint32_t, uint64_t> group_types;
  std::vector<Row> rows;
  auto children_of = [&](uint32_t v) {
    return std::make_pair(a.dom_child_begin[v], a.dom_child_begin[v + 1]);
  };
  auto objects_under = [&](uint32_t v) -> uint64_t {
    return v < a.retained_count.size() ? a.retained_count[v] : 0;
  };
  rows.push_back({-1, top, total, objects_under(top), 0, 0, false});
  using Entry = std::pair<uint64_t, size_t>;  // retained, row
  std::priority_queue<Entry> queue;
  queue.emplace(total, 0);
  std::vector<uint32_t> kids;
  while (!queue.empty()) {
    const size_t row = queue.top().second;
    queue.pop();
    const uint32_t v = rows[row].vertex;
    const auto [begin, end] = children_of(v);
    if (begin == end) continue;
    if (rows.size() >= options.tree_nodes || rows[row].depth >= kMaxTreeDepth) {
      rows[row].hidden_children = true;
      continue;
    }
    kids.clear();
    for (uint64_t k = begin; k < end; ++k) {
      // The garbage pseudo-root of a heap without garbage retains nothing: left out.
      if (a.retained[a.dom_children[k]] > 0) kids.push_back(a.dom_children[k]);
    }
    if (kids.empty()) continue;
    const size_t shown = std::min(kids.size(), options.tree_children);
    auto larger = [&](uint32_t x, uint32_t y) {
      return a.retained[x] != a.retained[y] ? a.retained[x] > a.retained[y] : x < y;
    };
    std::partial_sort(kids.begin(), kids.begin() + static_cast<std::ptrdiff_t>(shown), kids.end(),
                      larger);
    size_t k = 0;
    for (; k < shown && a.retained[kids[k]] >= min_node; ++k) {
      const uint32_t c = kids[k];
      rows.push_back({static_cast<int64_t>(row), c, a.retained[c], objects_under(c), 0,
                      rows[row].depth + 1, false});
      queue.emplace(a.retained[c], rows.size() - 1);
    }
    if (k < kids.size()) {
      uint64_t bytes = 0;
      uint64_t objects = 0;
      group_types.clear();
      for (size_t m = k; m < kids.size(); ++m) {
        bytes += a.retained[kids[m]];
        objects += objects_under(kids[m]);
        if (kids[m] < s.object_count()) ++group_types[s.type[kids[m]].value()];
      }
      // Named by their type when most of them have one: "999,742 more app.Record".
      uint32_t group_type = UINT32_MAX;
      for (const auto& [type, n] : group_types) {
        if (2 * n > kids.size() - k) group_type = type;
      }
      rows.push_back({static_cast<int64_t>(row), group_type, bytes, objects, kids.size() - k,
                      rows[row].depth + 1, false, true});
    }
  }
  Progress(options, "dominator tree", 0.5);
  std::unordered_map<uint32_t, size_t> type_index;
  std::vector<uint32_t> type_order;
  j.Key("tree").BeginObject();
  j.Key("rows").BeginArray();
  for (const Row& r : rows) {
    j.BeginArray().Int(r.parent);
    std::string step;
    std::string text;
    uint64_t self = 0;
    if (r.group) {
      if (r.vertex == UINT32_MAX) {
        j.Int(-1);
      } else {
        auto [it, added] = type_index.emplace(r.vertex, type_order.size());
        if (added) type_order.push_back(r.vertex);
        j.Uint(it->second);
      }
    } else if (r.vertex == top) {
      j.Int(-1);
      text = "all objects";
    } else if (r.vertex == a.garbage_root()) {
      j.Int(-1);
      text = "unreachable garbage";
    } else if (r.vertex < s.object_count()) {
      const uint32_t t = s.type[r.vertex].value();
      auto [it, added] = type_index.emplace(t, type_order.size());
      if (added) type_order.push_back(t);
      j.Uint(it->second);
      step = StepInto(a, r.vertex);
      text = NodeText(s, NodeIndex(r.vertex));
      self = s.size[r.vertex];
    } else {
      j.Int(-1);
    }
    j.Uint(r.retained).Uint(self).Uint(r.objects).String(step).String(text);
    j.Uint((r.group ? 1 : 0) | (r.hidden_children ? 2 : 0)).Uint(r.more);
    j.EndArray();
  }
  j.EndArray();
  j.Key("types").BeginArray();
  for (uint32_t t : type_order) j.String(s.String(s.types[t].qualname));
  j.EndArray();
  j.EndObject();
}

void WriteDiff(const Analysis& a, const HtmlReportOptions& options, const HtmlReportDiff& input,
               HtmlSafeJson& j) {
  const Snapshot& s = a.snapshot();
  const HeapDiff& d = *input.diff;
  Progress(options, "diff", 0);
  j.Key("diff").BeginObject();
  j.Key("snapshots").BeginArray();
  for (const std::string& name : input.snapshot_names) j.String(name);
  j.EndArray();
  j.Key("min_growth").Uint(input.min_growth);
  if (input.profiles != nullptr && !input.profiles->empty()) {
    j.Key("live_objects").BeginArray();
    for (const HeapProfile& p : *input.profiles) j.Uint(p.live_objects);
    j.EndArray();
    j.Key("live_bytes").BeginArray();
    for (const HeapProfile& p : *input.profiles) j.Uint(p.live_bytes);
    j.EndArray();
  }
  j.Key("live_objects_delta").Int(d.live_objects_delta);
  j.Key("live_bytes_delta").Int(d.live_bytes_delta);
  j.Key("unreachable_objects_delta").Int(d.unreachable_objects_delta);
  j.Key("growing_count").Uint(d.growing_count);
  j.Key("growing").BeginArray();
  size_t shown = 0;
  for (const GroupGrowth& g : d.grown) {
    if (!g.growing || !g.described) continue;
    if (shown++ >= options.diff_groups) break;
    j.BeginObject();
    j.Key("fingerprint").String(FingerprintHex(g.fingerprint));
    j.Key("path_text").String(g.path_text);
    j.Key("type").String(g.type);
    j.Key("counts").BeginArray();
    for (uint64_t c : g.counts) j.Uint(c);
    j.EndArray();
    j.Key("count_delta").Int(g.count_delta);
    j.Key("bytes_delta").Int(g.bytes_delta);
    j.Key("example").String(FormatAddress(s.address[g.example.value()]));
    j.Key("example_path").String(g.example_path);
    j.EndObject();
  }
  j.EndArray();
  j.Key("containers").BeginArray();
  for (size_t i = 0; i < d.containers.size() && i < options.diff_containers; ++i) {
    const GrownContainer& c = d.containers[i];
    j.BeginObject();
    j.Key("type").String(c.type);
    j.Key("path_text").String(c.path_text);
    j.Key("lengths").BeginArray();
    for (uint64_t n : c.lengths) j.Uint(n);
    j.EndArray();
    j.Key("retained_bytes").Uint(c.retained_bytes);
    j.Key("retained_bytes_delta").Int(c.retained_bytes_delta);
    j.EndObject();
  }
  j.EndArray();
  j.Key("types").BeginArray();
  for (size_t i = 0; i < d.types.size() && i < options.diff_types; ++i) {
    const TypeDelta& t = d.types[i];
    j.BeginArray().String(t.type).Uint(t.count).Int(t.count_delta).Int(t.bytes_delta);
    j.Int(t.retained_bytes_delta).EndArray();
  }
  j.EndArray();
  j.Key("type_count").Uint(d.types.size());
  j.EndObject();
}

// The template with each marker replaced by its text, in one pass over the template: text put
// in is never searched for markers (a snapshot named "{{DATA}}" stays a name).
std::string FillTemplate(std::string_view page,
                         const std::vector<std::pair<std::string_view, std::string_view>>& fills) {
  std::string out;
  size_t at = 0;
  while (at < page.size()) {
    size_t next = std::string_view::npos;
    const std::pair<std::string_view, std::string_view>* which = nullptr;
    for (const auto& fill : fills) {
      const size_t found = page.find(fill.first, at);
      if (found < next) {
        next = found;
        which = &fill;
      }
    }
    if (which == nullptr) {
      out.append(page.substr(at));
      break;
    }
    out.append(page.substr(at, next - at));
    out.append(which->second);
    at = next + which->first.size();
  }
  return out;
}

}  // namespace

std::string RenderHtmlReport(const Analysis& analysis, const HtmlReportOptions& options,
                             const HtmlReportDiff* diff) {
  HtmlSafeJson j;
  j.BeginObject();
  j.Key("version").String(HEAPSNAP_VERSION);
  WriteSummary(analysis, options.snapshot_name, j, options.summary_types);
  WriteFindings(analysis, options, j);
  WriteTop(analysis, options, j);
  WriteTree(analysis, options, j);
  if (diff != nullptr && diff->diff != nullptr) WriteDiff(analysis, options, *diff, j);
  j.EndObject();
  Progress(options, "writing", 0);
  const std::string data = j.Take();
  const std::string title = report::HtmlEscape("heapsnap report: " + options.snapshot_name);
  return FillTemplate(report::kReportHtml, {{"{{TITLE}}", title},
                                            {"/*{{STYLE}}*/", report::kReportCss},
                                            {"/*{{SCRIPT}}*/", report::kReportJs},
                                            {"{{DATA}}", data}});
}

}  // namespace heapsnap
