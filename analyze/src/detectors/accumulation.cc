// Accumulation points (Eclipse MAT's leak suspects): from each object that retains a large share
// of the heap, follow the largest dominated child while it keeps at least 70% of its parent's
// retained size; where that stops is the container that grows.
#include <algorithm>
#include <set>

#include "heapsnap/analyze/detectors.h"
#include "heapsnap/analyze/paths.h"
#include "heapsnap/analyze/text.h"

namespace heapsnap {
namespace {

constexpr double kFollowRatio = 0.7;
constexpr uint64_t kMinItems = 16;

class AccumulationDetector : public Detector {
 public:
  const char* name() const override { return "accumulation"; }

  void Run(const Analysis& a, const DetectorOptions& options,
           std::vector<Finding>* findings) const override {
    const Snapshot& s = a.snapshot();
    const auto n = static_cast<uint32_t>(s.object_count());
    const uint64_t live = a.retained[a.super_root()] - a.retained[a.garbage_root()];
    const auto threshold = std::max<uint64_t>(
        options.min_bytes,
        static_cast<uint64_t>(options.accumulation_share * static_cast<double>(live)));
    std::set<uint32_t> points;
    for (uint32_t v = 0; v < n; ++v) {
      if (a.retained[v] < threshold) continue;
      uint32_t cur = v;
      for (;;) {
        uint32_t best = UINT32_MAX;
        for (uint64_t c = a.dom_child_begin[cur]; c < a.dom_child_begin[cur + 1]; ++c) {
          const uint32_t w = a.dom_children[c];
          if (best == UINT32_MAX || a.retained[w] > a.retained[best]) best = w;
        }
        if (best == UINT32_MAX || static_cast<double>(a.retained[best]) <
                                      kFollowRatio * static_cast<double>(a.retained[cur])) {
          break;
        }
        cur = best;
      }
      points.insert(cur);
    }
    for (uint32_t p : points) {
      const NodeIndex node(p);
      const uint64_t children = a.dom_child_begin[p + 1] - a.dom_child_begin[p];
      if (a.retained[p] < threshold || children < kMinItems) continue;
      const std::string type = s.TypeName(node);
      if (type == "module") continue;
      Finding f;
      f.kind = "accumulation";
      f.container = s.TypeQualname(node);
      f.length = children;
      f.retained_bytes = a.retained[p];
      f.objects = a.retained_count[p];
      f.examples.push_back(node);
      detect::SetPath(a, node, &f);
      // Roots (sys.modules) and namespaces (a module's or class's __dict__) are where globals
      // live, not containers that grow.
      if (f.path.size() <= 1) continue;
      if (f.path_text.size() >= 9 &&
          f.path_text.compare(f.path_text.size() - 9, 9, ".__dict__") == 0) {
        continue;
      }
      detect::CountRetainedTypes(a, {node}, &f);
      char share[16];
      std::snprintf(share, sizeof(share), "%.0f%%",
                    100.0 * static_cast<double>(f.retained_bytes) /
                        static_cast<double>(std::max<uint64_t>(live, 1)));
      f.title = f.container + " " + f.path_text + " holds " + FormatCount(children) +
                " objects that only it keeps alive: " + share + " of the live heap";
      f.fix =
          "bound it: evict old entries (an LRU such as functools.lru_cache(maxsize=...)), "
          "keep weak references (weakref.WeakValueDictionary), or delete entries when their "
          "work is done";
      findings->push_back(std::move(f));
    }
  }
};

}  // namespace

std::unique_ptr<Detector> MakeAccumulationDetector() {
  return std::make_unique<AccumulationDetector>();
}

}  // namespace heapsnap
