// Unreachable cycles: garbage only the cyclic collector can free, grouped by shape so that
// 10,000 identical Node <-> Node cycles are one finding. Cycles that hold objects with
// finalizers are the finalizer detector's.
#include <algorithm>
#include <map>

#include "heapsnap/analyze/detectors.h"
#include "heapsnap/analyze/text.h"

namespace heapsnap {
namespace {

class UnreachableCycleDetector : public Detector {
 public:
  const char* name() const override { return "unreachable_cycle"; }

  void Run(const DetectorInput& input, std::vector<Finding>* findings) const override {
    const Analysis& a = input.analysis;
    const DetectorOptions& options = input.options;
    const Snapshot& s = a.snapshot();
    struct Group {
      Finding f;
      std::vector<NodeIndex> members;
      std::string class_name;  // a class in the cycles, when they are dropped classes
    };
    std::map<std::string, Group> by_shape;
    for (const GarbageGroup& g : a.garbage_groups) {
      if (!g.cycle) continue;
      bool finalizer = false;
      std::map<std::string, uint64_t> member_types;
      for (uint32_t m : g.members) {
        finalizer |=
            (s.flags[m] & (object_flags::kHasFinalizer | object_flags::kHasLegacyDel)) != 0;
        ++member_types[s.TypeQualname(NodeIndex(m))];
      }
      if (finalizer) continue;
      std::string shape;
      for (const auto& [type, count] : member_types) {
        if (!shape.empty()) shape += " + ";
        shape += type + (count > 1 ? " x" + std::to_string(count) : "");
      }
      // Classes made and dropped (namedtuple, dataclass and ORM machinery at import) leave a
      // class, its __mro__ and its descriptors in a cycle: the collector's routine work.
      const bool holds_class = member_types.count("type") > 0;
      Group& group = by_shape[shape];
      if (holds_class) group.f.severity = Severity::kLow;
      if (holds_class && group.class_name.empty()) {
        for (uint32_t m : g.members) {
          if (s.TypeName(NodeIndex(m)) == "type") {
            group.class_name = detect::QualifiedName(s, NodeIndex(m));
            break;
          }
        }
      }
      Finding& f = group.f;
      if (f.kind == FindingKind::kNone) {
        f.kind = FindingKind::kUnreachableCycle;
        f.count = 0;
        f.container = shape;
      }
      ++f.count;
      f.objects += g.retained_objects;
      f.retained_bytes += g.retained_bytes;
      if (f.examples.size() < 10) f.examples.push_back(NodeIndex(g.members.front()));
      if (group.members.size() < 200000) {
        for (uint32_t m : g.members) group.members.push_back(NodeIndex(m));
      }
    }
    const bool gc_disabled = !s.header.gc_enabled;
    for (auto& [shape, group] : by_shape) {
      Finding& f = group.f;
      if (f.retained_bytes < options.min_bytes && f.count < 100) continue;
      detect::CountRetainedTypes(a, group.members, &f);
      f.path_text = "<unreachable garbage>";
      f.title = FormatCount(f.count) +
                (f.count == 1 ? " unreachable cycle" : " unreachable cycles") + " of " + shape +
                " waiting for the cyclic collector";
      if (!group.class_name.empty()) {
        f.title += ": classes made and dropped, such as " + group.class_name;
      }
      f.fix = gc_disabled
                  ? "gc is disabled: re-enable it (gc.enable()) or call gc.collect() at quiet "
                    "points; better, break the cycle with a weakref or by clearing the back "
                    "reference when done"
                  : "break the cycle (weakref.ref / weakref.WeakSet for back references, or "
                    "clear them when done) so refcounting frees the objects at once";
      findings->push_back(std::move(f));
    }
  }
};

}  // namespace

std::unique_ptr<Detector> MakeUnreachableCycleDetector() {
  return std::make_unique<UnreachableCycleDetector>();
}

}  // namespace heapsnap
