// Step 1 of the analysis (analysis.h): CPython's deduce_unreachable, replayed on the snapshot.
#include "heapsnap/analyze/analysis.h"

namespace heapsnap {

CollectorResult ReproduceCollector(const Snapshot& s) {
  const auto n = static_cast<uint32_t>(s.object_count());
  CollectorResult r;
  r.unreachable.assign(n, 0);
  constexpr uint32_t kExcluded =
      object_flags::kFrozen | object_flags::kImmortal | object_flags::kSynthetic;
  std::vector<uint8_t> candidate(n, 0);
  std::vector<int64_t> gc_refs(n, 0);
  for (uint32_t i = 0; i < n; ++i) {
    if ((s.flags[i] & object_flags::kGcTracked) && !(s.flags[i] & kExcluded)) {
      candidate[i] = 1;
      gc_refs[i] = static_cast<int64_t>(s.refcount[i]);
      ++r.candidates;
    }
  }
  // subtract_refs: one reference less for every tp_traverse edge between two candidates.
  for (uint32_t i = 0; i < n; ++i) {
    if (!candidate[i]) continue;
    for (uint64_t e = s.edge_begin[i]; e < s.edge_begin[i + 1]; ++e) {
      if (s.edge_kind[e] == EdgeKind::kTraverse && candidate[s.edge_target[e]]) {
        --gc_refs[s.edge_target[e]];
      }
    }
  }
  // move_unreachable: what candidates with outside references reach along tp_traverse survives.
  std::vector<uint8_t> reachable(n, 0);
  std::vector<uint32_t> stack;
  for (uint32_t i = 0; i < n; ++i) {
    if (!candidate[i]) continue;
    if (gc_refs[i] < 0) ++r.inconsistent_objects;
    if (gc_refs[i] > 0 && !reachable[i]) {
      reachable[i] = 1;
      stack.push_back(i);
      while (!stack.empty()) {
        uint32_t v = stack.back();
        stack.pop_back();
        for (uint64_t e = s.edge_begin[v]; e < s.edge_begin[v + 1]; ++e) {
          uint32_t t = s.edge_target[e];
          if (s.edge_kind[e] == EdgeKind::kTraverse && candidate[t] && !reachable[t]) {
            reachable[t] = 1;
            stack.push_back(t);
          }
        }
      }
    }
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (candidate[i] && !reachable[i]) {
      r.unreachable[i] = 1;
      ++r.unreachable_objects;
      r.unreachable_bytes += s.size[i];
    }
  }
  return r;
}

}  // namespace heapsnap
