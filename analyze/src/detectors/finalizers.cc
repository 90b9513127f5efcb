// Finalizer-blocked garbage: objects a __del__ resurrected (finalized, yet alive), unreachable
// cycles holding objects with finalizers, and objects in gc.garbage (uncollectable).
#include <map>

#include "heapsnap/analyze/detectors.h"
#include "heapsnap/analyze/text.h"

namespace heapsnap {
namespace {

class FinalizerDetector : public Detector {
 public:
  const char* name() const override { return "finalizer"; }

  void Run(const DetectorInput& input, std::vector<Finding>* findings) const override {
    const Analysis& a = input.analysis;
    const Snapshot& s = a.snapshot();
    struct Group {
      Finding f;
      std::vector<NodeIndex> nodes;
    };
    std::map<std::pair<std::string, std::string>, Group> groups;  // (reason, type)
    auto add = [&](const std::string& reason, NodeIndex example, const std::vector<uint32_t>& nodes,
                   const std::string& type) {
      Group& g = groups[{reason, type}];
      Finding& f = g.f;
      if (f.kind == FindingKind::kNone) {
        f.kind = FindingKind::kFinalizer;
        f.reason = reason;
        f.container = type;
        f.count = 0;
      }
      ++f.count;
      for (uint32_t v : nodes) {
        f.retained_bytes += a.retained[v];
        f.objects += a.retained_count[v];
        if (g.nodes.size() < 200000) g.nodes.push_back(NodeIndex(v));
      }
      if (f.examples.size() < 10) f.examples.push_back(example);
    };
    const auto n = static_cast<uint32_t>(s.object_count());
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t flags = s.flags[i];
      if (flags & object_flags::kInGcGarbage) {
        // One finding for all of gc.garbage; its types list says what is in it.
        add("uncollectable", NodeIndex(i), {i}, "gc.garbage");
      } else if ((flags & object_flags::kFinalized) && !a.collector.unreachable[i]) {
        add("resurrected", NodeIndex(i), {i}, s.TypeQualname(NodeIndex(i)));
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
      add(legacy ? "uncollectable" : "cycle_with_finalizer", NodeIndex(with_finalizer), g.members,
          s.TypeQualname(NodeIndex(with_finalizer)));
    }
    for (auto& [key, g] : groups) {
      Finding& f = g.f;
      const std::string& reason = key.first;
      detect::SetPath(a, f.examples.front(), &f);
      detect::CountRetainedTypes(a, g.nodes, &f);
      const std::string n_objects = FormatCount(f.count) + " " + f.container;
      if (reason == "resurrected") {
        f.title = n_objects + (f.count == 1 ? " object was" : " objects were") +
                  " resurrected by __del__ (finalized, yet alive; __del__ will not run again)";
        f.fix =
            "do not store self (or anything that reaches it) from __del__; use "
            "weakref.finalize or a context manager for cleanup";
      } else if (reason == "cycle_with_finalizer") {
        f.title = FormatCount(f.count) + " unreachable " +
                  (f.count == 1 ? "cycle holds " : "cycles hold ") + f.container +
                  " objects with __del__: freed only by the cyclic collector, after running "
                  "their finalizers";
        f.fix =
            "break the cycle (weakref for back references) so refcounting frees it, and "
            "prefer weakref.finalize or a context manager to __del__";
      } else if (f.container == "gc.garbage") {
        f.title = FormatCount(f.count) + (f.count == 1 ? " object is" : " objects are") +
                  " kept in gc.garbage (uncollectable, or saved by gc.DEBUG_SAVEALL)";
        f.fix =
            "empty gc.garbage after inspecting it (del gc.garbage[:]), turn off "
            "gc.DEBUG_SAVEALL, and break cycles through objects with a legacy tp_del";
      } else {
        f.title = FormatCount(f.count) + " unreachable " +
                  (f.count == 1 ? "cycle holds " : "cycles hold ") + f.container +
                  " objects with a legacy tp_del: the collector can never free them";
        f.fix =
            "empty gc.garbage after inspecting it (del gc.garbage[:]), turn off "
            "gc.DEBUG_SAVEALL, and break cycles through objects with tp_del";
      }
      findings->push_back(std::move(f));
    }
  }
};

}  // namespace

std::unique_ptr<Detector> MakeFinalizerDetector() { return std::make_unique<FinalizerDetector>(); }

}  // namespace heapsnap
