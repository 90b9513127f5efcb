// Mutable-default accumulation: list, dict, set (and other container) defaults in __defaults__
// or __kwdefaults__ that hold items, and that nothing but the defaults refers to. Empty ones are
// low-severity notes; None (or any non-container) defaults are never reported.
//
// Fields: function (the function whose default it is; of the one whose default holds the
// most), location (its file:line), parameter, container (the default's type: list, dict, ...),
// length (entries in all the group's defaults).
#include <map>
#include <set>

#include "detector_util.h"
#include "heapsnap/analyze/human_numbers.h"

namespace heapsnap {
namespace {

bool IsContainer(const std::string& type) {
  static const std::set<std::string> kContainers = {
      "list", "dict", "set", "bytearray", "deque", "OrderedDict", "defaultdict", "Counter"};
  return kContainers.count(type) > 0;
}

struct DefaultGroup {
  detect::FindingGroup group;
  uint64_t best = 0;
  NodeIndex best_function;  // the function whose default keeps the most
};

class MutableDefaultDetector : public Detector {
 public:
  const char* name() const override { return "mutable_default"; }

  std::vector<KindField> Fields(const Finding& f) const override {
    return {KindField::Text("function", f.function), KindField::Text("location", f.location),
            KindField::Text("parameter", f.parameter), KindField::Text("container", f.container),
            KindField::Number("length", f.length)};
  }

  void Run(const DetectorInput& input, std::vector<Finding>* findings) const override {
    const Analysis& a = input.analysis;
    const Snapshot& s = a.snapshot();
    std::map<std::pair<uint32_t, std::string>, DefaultGroup> groups;  // (code, parameter)
    for (uint32_t i = 0; i < s.object_count(); ++i) {
      const NodeIndex fn(i);
      if (s.TypeName(fn) != "function") continue;
      const int64_t code = detect::EdgeTo(s, fn, LabelKind::kField, "__code__");
      if (code < 0) continue;
      for (const char* field : {"__defaults__", "__kwdefaults__"}) {
        const int64_t holder = detect::EdgeTo(s, fn, LabelKind::kField, field);
        if (holder < 0) continue;
        const auto h = static_cast<uint32_t>(holder);
        for (uint64_t e = s.edge_begin[h]; e < s.edge_begin[h + 1]; ++e) {
          if (s.edge_label_kind[e] != LabelKind::kParameterDefault) continue;
          const NodeIndex value(s.edge_target[e]);
          if (!IsContainer(s.TypeName(value))) continue;
          // Shared with something else (a module-level cache passed as default): not this bug.
          if (s.refcount[value.value()] != 1) continue;
          const std::string& parameter = s.LabelString(e);
          AddDefault(a, fn, value, parameter, &groups[{static_cast<uint32_t>(code), parameter}]);
        }
      }
    }
    for (auto& [key, g] : groups) {
      Finding f = Describe(a, &g);
      // The standard library keeps a few small constant-like defaults (functools' fasttypes):
      // report its functions only when they hold real memory.
      const bool stdlib =
          detect::InLibrary(f.location) && f.location.find("-packages/") == std::string::npos;
      if (stdlib && f.retained_bytes < input.options.min_bytes) continue;
      findings->push_back(std::move(f));
    }
  }

 private:
  static void AddDefault(const Analysis& a, NodeIndex fn, NodeIndex value,
                         const std::string& parameter, DefaultGroup* g) {
    const Snapshot& s = a.snapshot();
    Finding& f = g->group.finding;
    if (g->group.empty()) {
      f.parameter = parameter;
      f.container = s.TypeName(value);
    }
    const uint32_t v = value.value();
    g->group.AddInstance(value, a.retained[v], a.retained_count[v]);
    g->group.AddMember(value);
    f.length += detect::ContainerLength(s, value);
    if (a.retained[v] >= g->best) {
      g->best = a.retained[v];
      g->best_function = fn;
    }
  }

  static Finding Describe(const Analysis& a, DefaultGroup* g) {
    const Snapshot& s = a.snapshot();
    const NodeIndex first = g->group.members.front();
    Finding f = g->group.Take(a);
    f.function = detect::QualifiedName(s, g->best_function);
    f.location = detect::Location(s, g->best_function);
    detect::SetPath(a, first, &f);
    const std::string where = f.function + (f.location.empty() ? "" : " (" + f.location + ")");
    if (f.length == 0) {
      f.severity = Severity::kLow;
      f.title = "empty mutable default " + f.parameter + "=" + f.container + "() in " + where;
    } else {
      f.title = "mutable default " + f.parameter + "=" + f.container + " of " + where +
                " has accumulated " + FormatCount(f.length) + (f.length == 1 ? " item" : " items");
    }
    f.fix = "default to None and create the " + f.container + " inside the function (" +
            f.parameter + "=None; if " + f.parameter + " is None: " + f.parameter + " = " +
            f.container + "()), or keep the state in an explicit object";
    return f;
  }
};

}  // namespace

std::unique_ptr<Detector> MakeMutableDefaultDetector() {
  return std::make_unique<MutableDefaultDetector>();
}

}  // namespace heapsnap
