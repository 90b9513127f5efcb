// Mutable-default accumulation: list, dict, set (and other container) defaults in __defaults__
// or __kwdefaults__ that hold items, and that nothing but the defaults refers to. Empty ones are
// low-severity notes; None (or any non-container) defaults are never reported.
#include <map>
#include <set>

#include "heapsnap/analyze/detectors.h"
#include "heapsnap/analyze/text.h"

namespace heapsnap {
namespace {

bool IsContainer(const std::string& type) {
  static const std::set<std::string> kContainers = {
      "list", "dict", "set", "bytearray", "deque", "OrderedDict", "defaultdict", "Counter"};
  return kContainers.count(type) > 0;
}

class MutableDefaultDetector : public Detector {
 public:
  const char* name() const override { return "mutable_default"; }

  void Run(const DetectorInput& input, std::vector<Finding>* findings) const override {
    const Analysis& a = input.analysis;
    const DetectorOptions& options = input.options;
    const Snapshot& s = a.snapshot();
    struct Group {
      Finding f;
      std::vector<NodeIndex> containers;
      uint64_t best = 0;
      NodeIndex best_function;
    };
    std::map<std::pair<uint32_t, std::string>, Group> groups;  // (code, parameter)
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
          const uint32_t value = s.edge_target[e];
          const std::string type = s.TypeName(NodeIndex(value));
          if (!IsContainer(type)) continue;
          // Shared with something else (a module-level cache passed as default): not this bug.
          if (s.refcount[value] != 1) continue;
          const std::string parameter = s.String(StringId(static_cast<uint32_t>(s.LabelValue(e))));
          Group& g = groups[{static_cast<uint32_t>(code), parameter}];
          Finding& f = g.f;
          if (f.kind == FindingKind::kNone) {
            f.kind = FindingKind::kMutableDefault;
            f.count = 0;
            f.parameter = parameter;
            f.container = type;
          }
          ++f.count;
          f.length += detect::ContainerLength(s, NodeIndex(value));
          f.retained_bytes += a.retained[value];
          f.objects += a.retained_count[value];
          g.containers.push_back(NodeIndex(value));
          if (f.examples.size() < 10) f.examples.push_back(NodeIndex(value));
          if (a.retained[value] >= g.best) {
            g.best = a.retained[value];
            g.best_function = fn;
          }
        }
      }
    }
    for (auto& [key, g] : groups) {
      Finding& f = g.f;
      f.function = detect::QualifiedName(s, g.best_function);
      f.location = detect::Location(s, g.best_function);
      detect::SetPath(a, g.containers.front(), &f);
      detect::CountRetainedTypes(a, g.containers, &f);
      // The standard library keeps a few small constant-like defaults (functools' fasttypes):
      // report its functions only when they hold real memory.
      const bool stdlib =
          detect::InLibrary(f.location) && f.location.find("-packages/") == std::string::npos;
      if (stdlib && f.retained_bytes < options.min_bytes) continue;
      const std::string where = f.function + (f.location.empty() ? "" : " (" + f.location + ")");
      if (f.length == 0) {
        f.severity = Severity::kLow;
        f.title = "empty mutable default " + f.parameter + "=" + f.container + "() in " + where;
      } else {
        f.title = "mutable default " + f.parameter + "=" + f.container + " of " + where +
                  " has accumulated " + FormatCount(f.length) +
                  (f.length == 1 ? " item" : " items");
      }
      f.fix = "default to None and create the " + f.container + " inside the function (" +
              f.parameter + "=None; if " + f.parameter + " is None: " + f.parameter + " = " +
              f.container + "()), or keep the state in an explicit object";
      findings->push_back(std::move(f));
    }
  }
};

}  // namespace

std::unique_ptr<Detector> MakeMutableDefaultDetector() {
  return std::make_unique<MutableDefaultDetector>();
}

}  // namespace heapsnap
