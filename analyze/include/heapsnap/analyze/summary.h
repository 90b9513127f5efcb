// Summary: totals and per-type counts, bytes and retained bytes of a loaded snapshot.
//
//   Summary s = SummarizeSnapshot(snapshot);
//   AddAnalysis(analysis, &s);                 // garbage totals, retained sizes
//   for (const TypeTotal& t : s.types) ...     // sorted by bytes, largest first
#ifndef HEAPSNAP_ANALYZE_SUMMARY_H_
#define HEAPSNAP_ANALYZE_SUMMARY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "heapsnap/base/status.h"
#include "heapsnap/format/types.h"

namespace heapsnap {

struct TypeTotal {
  TypeId id;
  std::string name;      // "Leaky"
  std::string qualname;  // "app.models.Leaky"
  uint64_t count = 0;
  uint64_t bytes = 0;
  uint64_t retained_bytes = 0;  // filled by AddAnalysis: no double counting
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

  // Filled by AddAnalysis.
  bool analyzed = false;
  uint64_t unreachable_objects = 0;         // what gc.collect() would find unreachable
  uint64_t unreachable_bytes = 0;           // their own sizes
  uint64_t unreachable_retained_bytes = 0;  // with everything only they hold
  uint64_t unreachable_retained_objects = 0;
  uint64_t unreachable_cycles = 0;
  uint64_t external_objects = 0;  // objects with references from outside the graph
  uint64_t external_references = 0;
  uint64_t inconsistent_objects = 0;  // refcounts the recorded edges over-explain
};

struct Snapshot;
Summary SummarizeSnapshot(const Snapshot& snapshot);

class Analysis;
// Adds garbage totals and retained sizes per type from a full analysis of the same file.
void AddAnalysis(const Analysis& analysis, Summary* summary);

// How the header reads, the same in `heapsnap summary` and the report:
// "2026-12-07 04:40:04 UTC" ("" for no time), "3.12.1" from sys.hexversion, and how the snapshot
// was taken from the header's reason (format/FORMAT.md): "at exit", "on a signal", ...
std::string CaptureTimeText(int64_t unix_ns);
std::string ShortPythonVersion(uint32_t hexversion);
std::string CaptureCause(const std::string& reason);

}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_SUMMARY_H_
