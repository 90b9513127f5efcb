// Unreachable cycles: garbage only the cyclic collector can free, grouped by shape so that
// 10,000 identical Node <-> Node cycles are one finding. Cycles that hold objects with
// finalizers are the finalizer detector's.
//
// Fields: shape (the member types with their counts, "app.Node x2 + dict").
// A group of cycles that hold a class (classes made and dropped at import) is a note.
#include <map>

#include "detector_util.h"
#include "heapsnap/analyze/human_numbers.h"
#include "heapsnap/analyze/paths.h"

namespace heapsnap {
namespace {

struct CycleGroup {
  detect::FindingGroup group;
  std::string class_name;  // a class in the cycles, when they are dropped classes
};

struct Shape {
  std::string text;          // "" when a member has a finalizer: the finalizer detector's
  bool holds_class = false;  // a member is a class
};

// The group's shape: its members' types with their counts, "app.Node x2 + dict".
Shape ShapeOf(const Snapshot& s, const GarbageGroup& g) {
  std::map<std::string, uint64_t> member_types;
  for (uint32_t m : g.members) {
    if (s.flags[m] & (object_flags::kHasFinalizer | object_flags::kHasLegacyDel)) return {};
    ++member_types[s.TypeQualname(NodeIndex(m))];
  }
  Shape shape;
  for (const auto& [type, count] : member_types) {
    if (!shape.text.empty()) shape.text += " + ";
    shape.text += type + (count > 1 ? " x" + std::to_string(count) : "");
  }
  shape.holds_class = member_types.count("type") > 0;
  return shape;
}

std::string ClassIn(const Snapshot& s, const GarbageGroup& g) {
  for (uint32_t m : g.members) {
    if (s.TypeName(NodeIndex(m)) == "type") return detect::QualifiedName(s, NodeIndex(m));
  }
  return "";
}

class UnreachableCycleDetector : public Detector {
 public:
  // Garbage never explains a live container.
  bool ExplainsContainers() const override { return false; }
  const char* name() const override { return "unreachable_cycle"; }

  std::vector<KindField> Fields(const Finding& f) const override {
    return {KindField::Text("shape", f.shape)};
  }

  void Run(const DetectorInput& input, std::vector<Finding>* findings) const override {
    const Analysis& a = input.analysis;
    const Snapshot& s = a.snapshot();
    std::map<std::string, CycleGroup> by_shape;
    for (const GarbageGroup& g : a.garbage_groups) {
      if (!g.cycle) continue;
      const Shape shape = ShapeOf(s, g);
      if (shape.text.empty()) continue;
      CycleGroup& cycles = by_shape[shape.text];
      Finding& f = cycles.group.finding;
      if (cycles.group.empty()) f.shape = shape.text;
      // Classes made and dropped (namedtuple, dataclass and ORM machinery at import) leave a
      // class, its __mro__ and its descriptors in a cycle: the collector's routine work.
      if (shape.holds_class) {
        f.severity = Severity::kLow;
        if (cycles.class_name.empty()) cycles.class_name = ClassIn(s, g);
      }
      cycles.group.AddInstance(NodeIndex(g.members.front()), g.retained_bytes, g.retained_objects);
      for (uint32_t m : g.members) cycles.group.AddMember(NodeIndex(m));
    }
    for (auto& [shape, cycles] : by_shape) {
      const Finding& f = cycles.group.finding;
      if (f.retained_bytes < input.options.min_bytes && f.count < 100) continue;
      findings->push_back(Describe(s, cycles.group.Take(a), cycles.class_name));
    }
  }

 private:
  static Finding Describe(const Snapshot& s, Finding f, const std::string& class_name) {
    f.path_text = kGarbagePathText;
    f.title = FormatCount(f.count) + (f.count == 1 ? " unreachable cycle" : " unreachable cycles") +
              " of " + f.shape + " waiting for the cyclic collector";
    if (!class_name.empty()) f.title += ": classes made and dropped, such as " + class_name;
    f.fix = !s.header.gc_enabled
                ? "gc is disabled: re-enable it (gc.enable()) or call gc.collect() at quiet "
                  "points; better, break the cycle with a weakref or by clearing the back "
                  "reference when done"
                : "break the cycle (weakref.ref / weakref.WeakSet for back references, or "
                  "clear them when done) so refcounting frees the objects at once";
    return f;
  }
};

}  // namespace

std::unique_ptr<Detector> MakeUnreachableCycleDetector() {
  return std::make_unique<UnreachableCycleDetector>();
}

}  // namespace heapsnap
