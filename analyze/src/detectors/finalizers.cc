// Finalizer-blocked garbage: objects a __del__ resurrected (finalized, yet alive), unreachable
// cycles holding objects with finalizers, and objects in gc.garbage (uncollectable).
//
// Fields: reason ("resurrected", "cycle_with_finalizer", "uncollectable") and type (the
// qualified type of the object with __del__ or tp_del; "gc.garbage" for one finding about all
// of gc.garbage, whose types list says what is in it). Always reported, whatever it retains.
#include <map>

#include "detector_util.h"
#include "heapsnap/analyze/human_numbers.h"

namespace heapsnap {
namespace {

constexpr char kResurrected[] = "resurrected";
constexpr char kCycleWithFinalizer[] = "cycle_with_finalizer";
constexpr char kUncollectable[] = "uncollectable";
constexpr char kGcGarbage[] = "gc.garbage";

// The title and the fix, by reason (and type, for gc.garbage as a whole).
void Describe(Finding* f) {
  const std::string n_objects = FormatCount(f->count) + " " + f->type;
  const std::string n_cycles =
      FormatCount(f->count) + " unreachable " + (f->count == 1 ? "cycle holds " : "cycles hold ");
  if (f->reason == kResurrected) {
    f->title = n_objects + (f->count == 1 ? " object was" : " objects were") +
               " resurrected by __del__ (finalized, yet alive; __del__ will not run again)";
    f->fix =
        "do not store self (or anything that reaches it) from __del__; use "
        "weakref.finalize or a context manager for cleanup";
  } else if (f->reason == kCycleWithFinalizer) {
    f->title = n_cycles + f->type +
               " objects with __del__: freed only by the cyclic collector, after running "
               "their finalizers";
    f->fix =
        "break the cycle (weakref for back references) so refcounting frees it, and "
        "prefer weakref.finalize or a context manager to __del__";
  } else if (f->type == kGcGarbage) {
    f->title = FormatCount(f->count) + (f->count == 1 ? " object is" : " objects are") +
               " kept in gc.garbage (uncollectable, or saved by gc.DEBUG_SAVEALL)";
    f->fix =
        "empty gc.garbage after inspecting it (del gc.garbage[:]), turn off "
        "gc.DEBUG_SAVEALL, and break cycles through objects with a legacy tp_del";
  } else {
    f->title =
        n_cycles + f->type + " objects with a legacy tp_del: the collector can never free them";
    f->fix =
        "empty gc.garbage after inspecting it (del gc.garbage[:]), turn off "
        "gc.DEBUG_SAVEALL, and break cycles through objects with tp_del";
  }
}

class FinalizerDetector : public Detector {
 public:
  const char* name() const override { return "finalizer"; }

  std::vector<KindField> Fields(const Finding& f) const override {
    return {KindField::Text("reason", f.reason), KindField::Text("type", f.type)};
  }

  void Run(const DetectorInput& input, std::vector<Finding>* findings) const override {
    const Analysis& a = input.analysis;
    const Snapshot& s = a.snapshot();
    std::map<std::pair<std::string, std::string>, detect::FindingGroup> groups;  // reason, type
    auto add = [&](const char* reason, const std::string& type, NodeIndex example,
                   const std::vector<uint32_t>& nodes) {
      detect::FindingGroup& g = groups[{reason, type}];
      if (g.empty()) {
        g.finding.reason = reason;
        g.finding.type = type;
      }
      g.AddInstance(example, 0, 0);
      for (uint32_t v : nodes) {
        g.AddRetained(a.retained[v], a.retained_count[v]);
        g.AddMember(NodeIndex(v));
      }
    };
    const auto n = static_cast<uint32_t>(s.object_count());
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t flags = s.flags[i];
      if (flags & object_flags::kInGcGarbage) {
        add(kUncollectable, kGcGarbage, NodeIndex(i), {i});
      } else if ((flags & object_flags::kFinalized) && !a.collector.unreachable[i]) {
        add(kResurrected, s.TypeQualname(NodeIndex(i)), NodeIndex(i), {i});
      }
    }
    for (const GarbageGroup& g : a.garbage_groups) {
      uint32_t with_finalizer = UINT32_MAX;
      bool legacy = false;
      for (uint32_t m : g.members) {
        if (s.flags[m] & (object_flags::kHasFinalizer | object_flags::kHasLegacyDel)) {
          if (with_finalizer == UINT32_MAX) with_finalizer = m;
          legacy |= (s.flags[m] & object_flags::kHasLegacyDel) != 0;
        }
      }
      if (with_finalizer == UINT32_MAX || !g.cycle) continue;
      add(legacy ? kUncollectable : kCycleWithFinalizer, s.TypeQualname(NodeIndex(with_finalizer)),
          NodeIndex(with_finalizer), g.members);
    }
    for (auto& [key, g] : groups) {
      Finding f = g.Take(a);
      detect::SetPath(a, f.examples.front(), &f);
      Describe(&f);
      findings->push_back(std::move(f));
    }
  }
};

}  // namespace

std::unique_ptr<Detector> MakeFinalizerDetector() { return std::make_unique<FinalizerDetector>(); }

}  // namespace heapsnap
