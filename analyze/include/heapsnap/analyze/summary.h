// Summary: totals and per-type counts and bytes of a snapshot, computed in one streaming pass
// (memory proportional to the number of types, not objects).
//
//   StatusOr<Summary> s = Summarize("app.heapsnap");
//   for (const TypeTotal& t : s->types) ...   // sorted by bytes, largest first
#ifndef HEAPSNAP_ANALYZE_SUMMARY_H_
#define HEAPSNAP_ANALYZE_SUMMARY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "heapsnap/format/status.h"
#include "heapsnap/format/types.h"

namespace heapsnap {

struct TypeTotal {
  std::string name;      // "Leaky"
  std::string qualname;  // "app.models.Leaky"
  uint64_t count = 0;
  uint64_t bytes = 0;
};

struct Summary {
  HeaderInfo header;
  uint64_t objects = 0;  // Python objects (synthetic running-frame nodes excluded)
  uint64_t bytes = 0;
  uint64_t edges = 0;
  uint64_t gc_tracked = 0;
  uint64_t frozen = 0;
  uint64_t immortal = 0;
  uint64_t finalized = 0;
  uint64_t in_gc_garbage = 0;
  uint64_t running_frames = 0;
  uint64_t threads = 0;
  uint64_t roots = 0;
  std::vector<TypeTotal> types;  // sorted by bytes descending, then count, then name
};

StatusOr<Summary> Summarize(const std::string& path);

}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_SUMMARY_H_
