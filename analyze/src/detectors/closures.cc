// Closure-retained objects: functions whose closure cells keep large objects alive. Many
// closures made by one factory (same code, same variable) are one finding.
#include <map>
#include <set>

#include "heapsnap/analyze/detectors.h"
#include "heapsnap/analyze/paths.h"
#include "heapsnap/analyze/text.h"

namespace heapsnap {
namespace {

class ClosureDetector : public Detector {
 public:
  const char* name() const override { return "closure"; }

  void Run(const DetectorInput& input, std::vector<Finding>* findings) const override {
    const Analysis& a = input.analysis;
    const DetectorOptions& options = input.options;
    const Snapshot& s = a.snapshot();
    struct Group {
      Finding f;
      NodeIndex best_function;
      uint64_t best = 0;
      std::vector<NodeIndex> cells;
      std::set<uint32_t> seen_cells;
      bool holds_code = true;  // every cell holds a function or class: a decorator's wrapper
    };
    std::map<std::pair<uint32_t, std::string>, Group> groups;  // (code, variable)
    for (uint32_t i = 0; i < s.object_count(); ++i) {
      const NodeIndex fn(i);
      if (s.TypeName(fn) != "function") continue;
      const int64_t closure = detect::EdgeTo(s, fn, LabelKind::kField, "__closure__");
      const int64_t code = detect::EdgeTo(s, fn, LabelKind::kField, "__code__");
      if (closure < 0 || code < 0) continue;
      const auto c = static_cast<uint32_t>(closure);
      for (uint64_t e = s.edge_begin[c]; e < s.edge_begin[c + 1]; ++e) {
        if (s.edge_label_kind[e] != LabelKind::kClosureVariable) continue;
        const uint32_t cell = s.edge_target[e];
        // What the cell alone keeps alive, beyond itself: its dominator subtree. Closures made
        // together share cells; each cell counts once.
        const uint64_t bytes = a.retained[cell] - s.size[cell];
        const std::string variable = s.String(StringId(static_cast<uint32_t>(s.LabelValue(e))));
        // The implicit cell of every method that calls super() holds its class: not a leak.
        if (variable == "__class__") continue;
        Group& g = groups[{static_cast<uint32_t>(code), variable}];
        if (!g.seen_cells.insert(cell).second) continue;
        if (g.f.kind == FindingKind::kNone) {
          g.f.kind = FindingKind::kClosure;
          g.f.count = 0;
          g.f.variable = variable;
        }
        ++g.f.count;
        g.f.retained_bytes += bytes;
        g.f.objects += a.retained_count[cell] - 1;
        g.cells.push_back(NodeIndex(cell));
        const int64_t content =
            detect::EdgeTo(s, NodeIndex(cell), LabelKind::kField, "cell_contents");
        const std::string content_type =
            content >= 0 ? s.TypeName(NodeIndex(static_cast<uint32_t>(content))) : "";
        g.holds_code &= content_type == "function" || content_type == "type" ||
                        content_type == "method" || content_type == "builtin_function_or_method" ||
                        content_type == "classmethod" || content_type == "staticmethod";
        if (g.f.examples.size() < 10) g.f.examples.push_back(fn);
        if (bytes > g.best || g.f.count == 1) {
          g.best = bytes;
          g.best_function = fn;
        }
      }
    }
    for (auto& [key, g] : groups) {
      Finding& f = g.f;
      if (f.retained_bytes < options.min_bytes || f.retained_bytes == 0) continue;
      f.function = detect::QualifiedName(s, g.best_function);
      if (f.function.rfind("heapsnap.", 0) == 0) continue;  // the capture's own at-exit hook
      f.location = detect::Location(s, g.best_function);
      detect::SetPath(a, g.best_function, &f);
      const uint32_t shape = input.shapes.Of(g.best_function);
      if (f.count > 1 && shape != kNoShape) f.path_text = input.shapes.Text(shape);
      detect::CountRetainedTypes(a, g.cells, &f);
      // A decorator's wrapper keeps the function it wraps: that is its job, not a leak. And a
      // library's own closures, made at import, are its structure.
      if (g.holds_code || detect::InLibrary(f.location)) f.severity = Severity::kLow;
      f.title = (f.count > 1 ? FormatCount(f.count) + " closures " : std::string("closure ")) +
                f.function + (f.location.empty() ? "" : " (" + f.location + ")") + " keep" +
                (f.count > 1 ? "" : "s") + " variable '" + f.variable + "' alive";
      f.fix =
          "capture only what the function needs (copy the small part into a local before "
          "defining it), or unregister the function when done (remove it from the list or "
          "registry that holds it)";
      findings->push_back(std::move(f));
    }
  }
};

}  // namespace

std::unique_ptr<Detector> MakeClosureDetector() { return std::make_unique<ClosureDetector>(); }

}  // namespace heapsnap
