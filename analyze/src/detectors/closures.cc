// Closure-retained objects: functions whose closure cells keep large objects alive. Many
// closures made by one factory (same code, same variable) are one finding.
//
// Fields: function (the closure's qualified name; of the one whose cell holds the most),
// location (its file:line), variable (the closure variable). A decorator's wrapper (every
// cell holds a function or class) and a library's own closures are notes.
#include <map>
#include <set>

#include "detector_util.h"
#include "heapsnap/analyze/human_numbers.h"

namespace heapsnap {
namespace {

bool IsCode(const std::string& type) {
  return type == "function" || type == "type" || type == "method" ||
         type == "builtin_function_or_method" || type == "classmethod" || type == "staticmethod";
}

struct ClosureGroup {
  detect::FindingGroup group;
  NodeIndex best_function;  // the closure whose cell keeps the most
  uint64_t best = 0;
  std::set<uint32_t> seen_cells;
  bool holds_code = true;  // every cell holds a function or class: a decorator's wrapper
};

class ClosureDetector : public Detector {
 public:
  const char* name() const override { return "closure"; }

  std::vector<KindField> Fields(const Finding& f) const override {
    return {KindField::Text("function", f.function), KindField::Text("location", f.location),
            KindField::Text("variable", f.variable)};
  }

  void Run(const DetectorInput& input, std::vector<Finding>* findings) const override {
    const Analysis& a = input.analysis;
    const Snapshot& s = a.snapshot();
    std::map<std::pair<uint32_t, std::string>, ClosureGroup> groups;  // (code, variable)
    for (uint32_t i = 0; i < s.object_count(); ++i) {
      const NodeIndex fn(i);
      if (s.TypeName(fn) != "function") continue;
      const int64_t closure = detect::EdgeTo(s, fn, LabelKind::kField, "__closure__");
      const int64_t code = detect::EdgeTo(s, fn, LabelKind::kField, "__code__");
      if (closure < 0 || code < 0) continue;
      const auto c = static_cast<uint32_t>(closure);
      for (uint64_t e = s.edge_begin[c]; e < s.edge_begin[c + 1]; ++e) {
        if (s.edge_label_kind[e] != LabelKind::kClosureVariable) continue;
        const std::string& variable = s.LabelString(e);
        // The implicit cell of every method that calls super() holds its class: not a leak.
        if (variable == "__class__") continue;
        AddCell(a, fn, NodeIndex(s.edge_target[e]), variable,
                &groups[{static_cast<uint32_t>(code), variable}]);
      }
    }
    for (auto& [key, g] : groups) {
      const Finding& f = g.group.finding;
      if (f.retained_bytes < input.options.min_bytes || f.retained_bytes == 0) continue;
      const std::string function = detect::QualifiedName(s, g.best_function);
      if (function.rfind("heapsnap.", 0) == 0) continue;  // the capture's own at-exit hook
      findings->push_back(Describe(input, &g));
    }
  }

 private:
  // One cell of a closure. Closures made together share cells; each cell counts once, for
  // what it alone keeps alive beyond itself (its dominator subtree).
  static void AddCell(const Analysis& a, NodeIndex fn, NodeIndex cell, const std::string& variable,
                      ClosureGroup* g) {
    const Snapshot& s = a.snapshot();
    if (!g->seen_cells.insert(cell.value()).second) return;
    if (g->group.empty()) g->group.finding.variable = variable;
    const uint64_t bytes = a.retained[cell.value()] - s.size[cell.value()];
    g->group.AddInstance(fn, bytes, a.retained_count[cell.value()] - 1);
    g->group.AddMember(cell);
    const int64_t content = detect::EdgeTo(s, cell, LabelKind::kField, "cell_contents");
    g->holds_code &= content >= 0 && IsCode(s.TypeName(NodeIndex(static_cast<uint32_t>(content))));
    if (bytes > g->best || g->group.finding.count == 1) {
      g->best = bytes;
      g->best_function = fn;
    }
  }

  static Finding Describe(const DetectorInput& input, ClosureGroup* g) {
    const Analysis& a = input.analysis;
    const Snapshot& s = a.snapshot();
    Finding f = g->group.Take(a);
    f.function = detect::QualifiedName(s, g->best_function);
    f.location = detect::Location(s, g->best_function);
    detect::SetPath(a, g->best_function, &f);
    const uint32_t shape = input.shapes.Of(g->best_function);
    if (f.count > 1 && shape != kNoShape) f.path_text = input.shapes.Text(shape);
    // A decorator's wrapper keeps the function it wraps: that is its job, not a leak. And a
    // library's own closures, made at import, are its structure.
    if (g->holds_code || detect::InLibrary(f.location)) f.severity = Severity::kLow;
    f.title = (f.count > 1 ? FormatCount(f.count) + " closures " : std::string("closure ")) +
              f.function + (f.location.empty() ? "" : " (" + f.location + ")") + " keep" +
              (f.count > 1 ? "" : "s") + " variable '" + f.variable + "' alive";
    f.fix =
        "capture only what the function needs (copy the small part into a local before "
        "defining it), or unregister the function when done (remove it from the list or "
        "registry that holds it)";
    return f;
  }
};

}  // namespace

std::unique_ptr<Detector> MakeClosureDetector() { return std::make_unique<ClosureDetector>(); }

}  // namespace heapsnap
